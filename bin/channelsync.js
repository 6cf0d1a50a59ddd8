#!/usr/bin/env node
// The `channelsync` command. It runs dist/ (the sources precompiled by
// `npm ci` through `prepare`, see scripts/build.mjs) while dist/ matches the
// sources, and the TypeScript sources through tsx otherwise (after an edit or
// a checkout, until `npm run build`): always the code that is checked out.
//
// Supervisors (systemd, Docker, Kubernetes) run this file itself, `node
// bin/channelsync.js start` or `node_modules/.bin/channelsync start`: the
// daemon is then this very process and receives their SIGTERM (npx does not
// pass it on). No child process is spawned.
import { readFileSync, statSync } from 'node:fs';

if (process.argv[2] === 'start') {
  // A signal while modules load: nothing has started yet, so stopping is
  // exiting 0. The start command replaces this handler with its own first thing.
  const early = () => process.exit(0);
  process.on('SIGTERM', early);
  process.on('SIGINT', early);
  // What `ps` shows; set with the handlers, so it also says they are in place.
  process.title = 'channelsync daemon';
}

const root = new URL('../', import.meta.url);

/** dist/ was built from exactly these sources (size and mtime of every one). */
function distIsFresh() {
  if (process.env.CHANNELSYNC_FROM_SOURCE) return false;
  try {
    const { files } = JSON.parse(readFileSync(new URL('dist/manifest.json', root), 'utf8'));
    return files.every(([file, size, mtimeMs]) => {
      const st = statSync(new URL(file, root));
      return st.size === size && st.mtimeMs === mtimeMs;
    });
  } catch {
    return false;
  }
}

if (distIsFresh()) {
  await import('../dist/src/cli.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
