/**
 * Orders set aside because they cannot be saved (see src/db/rejected.ts).
 * GET /api/rejected-orders       (channel; keyset pages) newest first, without payloads
 * GET /api/rejected-orders/:id   one, with the payload as the channel sent it
 * A row disappears by itself when a later copy of the order saves (fix it on
 * the channel; the next poll or webhook brings it in).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../../app.ts';
import { listRejectedOrders } from '../../../db/rejected.ts';
import { ApiError, before, idParams, limit, page, parse, documented } from './validate.ts';
import { resolveChannel } from './orders.ts';

const listQuery = z.object({ channel: z.string().min(1).max(200).optional(), limit, before });

export function rejectedRoutes(server: FastifyInstance, app: App): void {
  server.get('/api/rejected-orders', documented({ query: listQuery }), async (request) => {
    const q = parse(listQuery, request.query, 'query');
    const channelId = q.channel ? await resolveChannel(app, q.channel) : undefined;
    return page(await listRejectedOrders(app.db, { channelId, limit: q.limit, before: q.before }), q.limit);
  });

  server.get('/api/rejected-orders/:id', documented({ params: idParams }), async (request) => {
    const { id } = parse(idParams, request.params, 'path');
    const row = await app.db.selectFrom('rejected_orders').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new ApiError(404, `rejected order ${id} does not exist (saved since, or never set aside)`);
    let raw: unknown = row.raw;
    try {
      raw = row.raw === null ? null : JSON.parse(row.raw);
    } catch {
      // Kept as the text it was.
    }
    return { ...row, raw };
  });
}
