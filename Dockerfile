# channelsync daemon. The sources are precompiled to dist/ (scripts/build.mjs,
# esbuild, no type-check) so commands start without tsx's loader.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# prepare finds no sources yet and skips the build; it runs below, once they are here.
RUN npm ci --omit=dev && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY connectors ./connectors
COPY jobs ./jobs
COPY docs ./docs
COPY scripts/build.mjs ./scripts/build.mjs
RUN node scripts/build.mjs
# The demo (`docker run -p 3000:3000 <image> node bin/channelsync.js demo`) keeps
# its key, simulators' stores and embedded database in ./.channelsync; /app is
# root's, so that one folder is the node user's (and a volume, to outlive the container).
RUN mkdir -p /app/.channelsync && chown node:node /app/.channelsync
VOLUME /app/.channelsync
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# node runs the daemon itself (no npm or npx in between), so SIGTERM from
# `docker stop` reaches it and it stops cleanly with exit code 0.
CMD ["node", "bin/channelsync.js", "start"]
