/**
 * Returns for admins (src/fulfilment/returns.ts does the work, as for the CLI):
 * POST /api/orders/:id/returns   book in returned goods; restocked by default
 * 201 for a new return, 200 when the reference names one already recorded;
 * 400 bad input or a line not on the order, 404 unknown order, 409 more than
 * was shipped (and not yet returned).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../../app.ts';
import { recordReturn } from '../../../fulfilment/returns.ts';
import { ApiError, id, idParams, parse, documented } from './validate.ts';

const returnLine = z
  .object({
    sku: z.string().min(1).max(200).optional(),
    orderLineId: id.optional(),
    quantity: z.number().int().positive(),
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
    const lines = body.lines.map((l) => (l.sku !== undefined ? { sku: l.sku, quantity: l.quantity } : { orderLineId: l.orderLineId!, quantity: l.quantity }));
    const result = await recordReturn(app, orderId, lines, { restock: body.restock, reason: body.reason, reference: body.reference }, { actor: 'admin', reason: body.reason ?? null });
    request.log.info({ order: orderId, return: result.returnId, created: result.created }, 'admin: return');
    return reply.code(result.created ? 201 : 200).send(result);
  });
}
