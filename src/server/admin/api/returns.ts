/**
 * After-sales for admins (src/fulfilment does the work, as for the CLI):
 * POST /api/orders/:id/returns       book in returned goods, each line restocked
 *   (default), damaged or discarded; 201 for a new return, 200 when the
 *   reference names one already recorded; 400 bad input or a line not on the
 *   order, 404 unknown order, 409 more than was shipped (and not yet returned).
 * POST /api/returns/:id/approve      refund the return on the order's channel
 *   (once); 201 approved now, 200 approved before; 404 unknown return, 409
 *   nothing left to refund or a rejected return.
 * POST /api/orders/:id/cancel        cancel an unshipped order here and on its
 *   channel; 200 with whether it changed; 404 unknown order, 409 shipped,
 *   needing attention, or a channel that cannot cancel.
 * POST /api/orders/:id/cancel-request/dismiss  a person has read the
 *   customer's cancel request and the order goes on (ships); 200; 404
 *   unknown order, 409 no open request (none, dismissed already, or the
 *   order cancelled).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../../app.ts';
import { recordReturn } from '../../../fulfilment/returns.ts';
import { approveReturn } from '../../../fulfilment/refunds.ts';
import { cancelOrderHere, dismissCancelRequest } from '../../../fulfilment/cancel.ts';
import { ApiError, id, idParams, parse, documented } from './validate.ts';

const returnLine = z
  .object({
    sku: z.string().min(1).max(200).optional(),
    orderLineId: id.optional(),
    quantity: z.number().int().positive(),
    /** What became of the units; default: restock when the return restocks, else discard. */
    condition: z.enum(['restock', 'damaged', 'discard']).optional(),
  })
  .strict()
  .refine((l) => (l.sku === undefined) !== (l.orderLineId === undefined), { error: 'give either sku or orderLineId', path: ['sku'] });

const returnBody = z
  .object({
    lines: z.array(returnLine).min(1).max(500),
    /** Put the goods back on the shelf where they were shipped from; default true. */
    restock: z.boolean().default(true),
    reason: z.string().min(1).max(500).optional(),
    /** The caller's reference (an RMA number): the same one twice records one return. */
    reference: z.string().trim().min(1).max(200).optional(),
  })
  .strict();

export function returnRoutes(server: FastifyInstance, app: App): void {
  server.post('/api/orders/:id/returns', documented({ params: idParams, body: returnBody }), async (request, reply) => {
    const { id: orderId } = parse(idParams, request.params, 'path');
    const body = parse(returnBody, request.body, 'body');
    const exists = await app.db.selectFrom('orders').select('id').where('id', '=', orderId).executeTakeFirst();
    if (!exists) throw new ApiError(404, `order ${orderId} does not exist`);
    const lines = body.lines.map((l) => ({
      ...(l.sku !== undefined ? { sku: l.sku } : { orderLineId: l.orderLineId! }),
      quantity: l.quantity,
      ...(l.condition ? { condition: l.condition } : {}),
    }));
    const result = await recordReturn(app, orderId, lines, { restock: body.restock, reason: body.reason, reference: body.reference }, { actor: 'admin', reason: body.reason ?? null });
    request.log.info({ order: orderId, return: result.returnId, created: result.created }, 'admin: return');
    return reply.code(result.created ? 201 : 200).send(result);
  });

  server.post('/api/returns/:id/approve', documented({ params: idParams, body: approveBody }), async (request, reply) => {
    const { id: returnId } = parse(idParams, request.params, 'path');
    const body = parse(approveBody, request.body ?? {}, 'body');
    const exists = await app.db.selectFrom('returns').select('id').where('id', '=', returnId).executeTakeFirst();
    if (!exists) throw new ApiError(404, `return ${returnId} does not exist`);
    const result = await approveReturn(app, returnId, { refundShipping: body.refundShipping, reason: body.reason ?? null }, { actor: 'admin', reason: body.reason ?? null });
    request.log.info({ return: returnId, refund: result.refundId, created: result.created }, 'admin: return approved');
    return reply.code(result.created ? 201 : 200).send(result);
  });

  server.post('/api/orders/:id/cancel', documented({ params: idParams, body: cancelBody }), async (request, reply) => {
    const { id: orderId } = parse(idParams, request.params, 'path');
    const body = parse(cancelBody, request.body ?? {}, 'body');
    const exists = await app.db.selectFrom('orders').select('id').where('id', '=', orderId).executeTakeFirst();
    if (!exists) throw new ApiError(404, `order ${orderId} does not exist`);
    const reason = body.reason ?? 'cancelled in channelsync';
    const result = await cancelOrderHere(app, orderId, reason, { actor: 'admin', reason });
    request.log.info({ order: orderId, cancelled: result.cancelled }, 'admin: cancel');
    return reply.code(200).send(result);
  });

  server.post('/api/orders/:id/cancel-request/dismiss', documented({ params: idParams }), async (request, reply) => {
    const { id: orderId } = parse(idParams, request.params, 'path');
    const exists = await app.db.selectFrom('orders').select('id').where('id', '=', orderId).executeTakeFirst();
    if (!exists) throw new ApiError(404, `order ${orderId} does not exist`);
    await dismissCancelRequest(app, orderId, { actor: 'admin' });
    request.log.info({ order: orderId }, 'admin: cancel request dismissed');
    return reply.code(200).send({ orderId, dismissed: true });
  });
}

const approveBody = z
  .object({
    /** Refund what is left of the order's shipping too; default false. */
    refundShipping: z.boolean().default(false),
    reason: z.string().min(1).max(500).optional(),
  })
  .strict();

const cancelBody = z.object({ reason: z.string().trim().min(1).max(500).optional() }).strict();
