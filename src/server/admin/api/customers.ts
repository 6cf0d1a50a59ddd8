/**
 * What channelsync tells customers and what they answer (issue #14).
 * GET  /api/shipments/:id/label          the shipment's 4x6 label PDF (kept with it)
 * POST /api/shipments/:id/delivered      a person confirms delivery (carriers that report none: manual, dropship)
 * GET  /api/customer-messages            the mail outbox (status, kind, order; keyset pages)
 * GET  /api/feedback                     ratings, newest first (flagged: low ratings waiting for a person)
 * POST /api/feedback/:id/resolve         a person dealt with a low rating (id: the order)
 * GET  /api/feedback/satisfaction        per channel: ratings, mean, share satisfied, flagged
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../../app.ts';
import { printLabel } from '../../../fulfilment/label.ts';
import { markDelivered } from '../../../fulfilment/ship.ts';
import { resolveFeedback, satisfactionByChannel } from '../../../feedback/store.ts';
import { ApiError, before, documented, id, idParams, limit, page, parse } from './validate.ts';

const messagesQuery = z.object({
  status: z.enum(['pending', 'sent', 'failed']).optional(),
  kind: z.enum(['shipping', 'delivery', 'feedback']).optional(),
  order: id.optional(),
  limit,
  before,
});

const feedbackQuery = z.object({
  flagged: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  channel: id.optional(),
  limit,
  before,
});

export function customerRoutes(server: FastifyInstance, app: App): void {
  server.get('/api/shipments/:id/label', documented({ params: idParams }), async (request, reply) => {
    const { id: shipmentId } = parse(idParams, request.params, 'path');
    const exists = await app.db.selectFrom('shipments').select('id').where('id', '=', shipmentId).executeTakeFirst();
    if (!exists) throw new ApiError(404, `shipment ${shipmentId} does not exist`);
    const pdf = await printLabel(app, shipmentId);
    return reply.type('application/pdf').header('content-disposition', `inline; filename="label-${shipmentId}.pdf"`).send(pdf);
  });

  // The carrier reports delivery when it can (the simulated one does); for the others a person says so here,
  // which owes the delivery notice and, once the order arrived, the feedback request like a carrier's report.
  server.post('/api/shipments/:id/delivered', documented({ params: idParams }), async (request) => {
    const { id: shipmentId } = parse(idParams, request.params, 'path');
    const exists = await app.db.selectFrom('shipments').select('id').where('id', '=', shipmentId).executeTakeFirst();
    if (!exists) throw new ApiError(404, `shipment ${shipmentId} does not exist`);
    await markDelivered(app, shipmentId, { actor: 'admin', reason: 'delivery confirmed by a person' });
    return app.db.selectFrom('shipments').select(['id', 'delivered_at']).where('id', '=', shipmentId).executeTakeFirstOrThrow();
  });

  server.get('/api/customer-messages', documented({ query: messagesQuery }), async (request) => {
    const q = parse(messagesQuery, request.query, 'query');
    let query = app.db
      .selectFrom('customer_messages')
      .select(['id', 'order_id', 'kind', 'subject', 'to_address', 'status', 'due_at', 'attempts', 'last_error', 'message_id', 'created_at', 'sent_at'])
      .orderBy('id', 'desc')
      .limit(q.limit);
    if (q.status) query = query.where('status', '=', q.status);
    if (q.kind) query = query.where('kind', '=', q.kind);
    if (q.order) query = query.where('order_id', '=', q.order);
    if (q.before) query = query.where('id', '<', q.before);
    return page(await query.execute(), q.limit);
  });

  server.get('/api/feedback', documented({ query: feedbackQuery }), async (request) => {
    const q = parse(feedbackQuery, request.query, 'query');
    let query = app.db
      .selectFrom('feedback')
      .innerJoin('orders', 'orders.id', 'feedback.order_id')
      .select(['feedback.order_id as id', 'feedback.order_id', 'orders.order_number', 'orders.channel_id', 'feedback.rating', 'feedback.comment', 'feedback.flagged', 'feedback.submissions', 'feedback.created_at', 'feedback.updated_at'])
      .orderBy('feedback.order_id', 'desc')
      .limit(q.limit);
    if (q.flagged !== undefined) query = query.where('feedback.flagged', '=', q.flagged);
    if (q.channel) query = query.where('orders.channel_id', '=', q.channel);
    if (q.before) query = query.where('feedback.order_id', '<', q.before);
    return page(await query.execute(), q.limit);
  });

  server.get('/api/feedback/satisfaction', async () => ({ channels: await satisfactionByChannel(app.db) }));

  server.post('/api/feedback/:id/resolve', documented({ params: idParams }), async (request) => {
    const { id: orderId } = parse(idParams, request.params, 'path');
    if (!(await resolveFeedback(app.db, orderId))) throw new ApiError(404, `order ${orderId} has no flagged rating`);
    request.log.info({ order: orderId }, 'admin: low rating resolved');
    return { order_id: orderId, flagged: false };
  });
}
