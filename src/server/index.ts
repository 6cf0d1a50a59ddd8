/** The HTTP server: health, webhooks (and, as they land, the admin API, queue UI and metrics). */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { App } from '../app.ts';
import { healthRoutes } from './health.ts';
import { webhookRoutes } from './webhooks.ts';
import { metricsRoutes } from './metrics.ts';
import { adminRoutes } from './admin/index.ts';
import { trackRoutes } from './admin/routes.ts';
import { feedbackRoutes } from './feedback.ts';

export async function buildServer(app: App): Promise<FastifyInstance> {
  const server: FastifyInstance = Fastify({ loggerInstance: app.log.child({ component: 'http' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), forceCloseConnections: true, trustProxy: trustProxy(app.config.trustProxy) });
  trackRoutes(server);
  healthRoutes(server, app);
  webhookRoutes(server, app);
  metricsRoutes(server, app);
  feedbackRoutes(server, app);
  await adminRoutes(server, app);
  await server.ready();
  return server;
}

/** A hop count as the function fastify's types accept (the first N hops are proxies). */
function trustProxy(setting: boolean | number | string[]): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof setting === 'number' ? (_address, hop) => hop < setting : setting;
}
