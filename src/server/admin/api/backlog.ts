/**
 * GET /api/stock/backlog  orders waiting for stock, SKUs sold out, and what is on order (the dashboard's stock cards)
 */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../../app.ts';
import { stockBacklog } from '../stats.ts';

export function backlogRoutes(server: FastifyInstance, app: App): void {
  server.get('/api/stock/backlog', async () => stockBacklog(app));
}
