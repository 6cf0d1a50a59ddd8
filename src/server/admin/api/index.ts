/**
 * The admin API under /api: JSON in and out, inputs validated with zod,
 * documented in docs/openapi.json: rendered for a person at GET /api/docs
 * (Swagger UI, from @fastify/swagger-ui), as JSON at GET /api/openapi.json
 * (and /api/docs/json). Authentication is the caller's job (see ../index.ts):
 * every route here, the docs too, is behind it.
 *
 * The document is generated from the routes and their zod inputs, with the
 * prose kept in docs/openapi.json (see ./openapi.ts; `npm run openapi`).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { App } from '../../../app.ts';
import { ChannelsyncError, ConfigError } from '../../../domain/errors.ts';
import { ApiError } from './validate.ts';
import { baseOf, readDocumented, withProse, type Doc } from './openapi.ts';
import { orderRoutes } from './orders.ts';
import { pushRoutes } from './pushes.ts';
import { stockRoutes } from './stock.ts';
import { channelRoutes } from './channels.ts';
import { fulfilmentRoutes } from './fulfilments.ts';
import { returnRoutes } from './returns.ts';
import { jobRoutes } from './jobs.ts';
import { locationRoutes } from './locations.ts';
import { rejectedRoutes } from './rejected.ts';
import { backlogRoutes } from './backlog.ts';
import { customerRoutes } from './customers.ts';

export const OPENAPI_PATH = join(import.meta.dirname, '../../../../docs/openapi.json');
/** Where Swagger UI renders the spec (its assets and /json live under it). */
export const DOCS_PATH = '/api/docs';

export async function apiRoutes(server: FastifyInstance, app: App): Promise<void> {
  await server.register(async (api) => {
    api.setErrorHandler((err, request, reply) => {
      if (err instanceof ApiError) return reply.code(err.status).send({ error: err.message, ...(err.details ? { issues: err.details } : {}) });
      const e = err as Error & { statusCode?: number };
      // Fastify's own 4xx (a body that is not JSON, too large): pass its message on.
      if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return reply.code(e.statusCode).send({ error: e.message });
      // Input a person must fix (a carrier that needs tracking typed in): 400; a move the state machine refuses: 409.
      if (err instanceof ConfigError) return reply.code(400).send({ error: err.message });
      if (err instanceof ChannelsyncError && !err.retryable) return reply.code(409).send({ error: err.message });
      // Postgres refused a value the schemas let through (class 22, data exception: out of
      // range, bad text, bad encoding): the input's fault, so 400, without the driver's words.
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('22')) {
        request.log.warn({ err, url: request.url }, 'admin API: a value the database refuses');
        return reply.code(400).send({ error: 'invalid input: a value is out of range or not valid text' });
      }
      request.log.error({ err, url: request.url }, 'admin API error');
      return reply.code(500).send({ error: 'internal error: see the daemon log' });
    });

    // Inputs are validated by zod in each handler (one error shape); route schemas only document them.
    api.setValidatorCompiler(() => () => true);
    const documentedDoc = readDocumented(OPENAPI_PATH);
    await api.register(swagger, {
      openapi: baseOf(documentedDoc) as never,
      transformObject: (doc) => withProse((doc as { openapiObject: Doc }).openapiObject, documentedDoc) as never,
    });
    await api.register(swaggerUi, {
      routePrefix: DOCS_PATH,
      // No "Try it out" by default: these calls change real orders. A person can still switch it on per call.
      uiConfig: { docExpansion: 'list', deepLinking: true, tryItOutEnabled: false, persistAuthorization: false },
      staticCSP: true,
    });
    api.get('/api/openapi.json', async (_request, reply) => reply.header('cache-control', 'no-cache').send(api.swagger()));

    orderRoutes(api, app);
    pushRoutes(api, app);
    stockRoutes(api, app);
    channelRoutes(api, app);
    fulfilmentRoutes(api, app);
    returnRoutes(api, app);
    jobRoutes(api, app);
    locationRoutes(api, app);
    rejectedRoutes(api, app);
    backlogRoutes(api, app);
    customerRoutes(api, app);
  });
}
