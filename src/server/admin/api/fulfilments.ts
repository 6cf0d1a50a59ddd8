/**
 * Fulfilment actions. Until the fulfilment module (issue 5) exposes its
 * functions, this only lists fulfilments; confirm pick/pack and ship are
 * wired here when they land.
 * GET /api/fulfilments (state, order; keyset pages)
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../../app.ts';
import { before, csvOf, limit, page, parse } from './validate.ts';

const STATES = ['allocated', 'backordered', 'picking', 'packed', 'shipped', 'delivered', 'on_hold', 'cancelled'] as const;

const listQuery = z.object({
  state: csvOf(STATES).optional(),
  order: z.coerce.number().int().positive().optional(),
  limit,
  before,
});

export function fulfilmentRoutes(server: FastifyInstance, app: App): void {
  server.get('/api/fulfilments', async (request) => {
    const q = parse(listQuery, request.query, 'query');
    let query = app.db
      .selectFrom('fulfillments')
      .innerJoin('orders', 'orders.id', 'fulfillments.order_id')
      .selectAll('fulfillments')
      .select(['orders.order_number', 'orders.channel_id'])
      .orderBy('fulfillments.id', 'desc')
      .limit(q.limit);
    if (q.state) query = query.where('fulfillments.state', 'in', q.state);
    if (q.order) query = query.where('fulfillments.order_id', '=', q.order);
    if (q.before) query = query.where('fulfillments.id', '<', q.before);
    return page(await query.execute(), q.limit);
  });
}
