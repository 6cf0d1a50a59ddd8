/**
 * Fulfilment for admins: list, and confirm each step by hand (the same
 * functions the CLI and the fulfilment job call; see src/fulfilment).
 * GET  /api/fulfilments                 (state, order; keyset pages)
 * GET  /api/fulfilments/:id/packing-slip  printable HTML
 * POST /api/orders/:id/allocate         allocate stock now (or backorder / dropship)
 * POST /api/fulfilments/:id/pick        allocated -> picking
 * POST /api/fulfilments/:id/pack        picking -> packed, with parcels
 * POST /api/fulfilments/:id/ship        packed -> shipped (carrier label, or tracking typed in)
 * Refused moves answer 409 with the state machine's reason.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../../app.ts';
import { allocateOrder } from '../../../fulfilment/allocate.ts';
import { DEFAULT_PARCEL, packFulfilment, startPicking } from '../../../fulfilment/pickpack.ts';
import { shipFulfilment } from '../../../fulfilment/ship.ts';
import { packingSlipHtml } from '../../../fulfilment/documents.ts';
import type { By } from '../../../fulfilment/transitions.ts';
import { ApiError, before, csvOf, idParams, limit, page, parse, documented } from './validate.ts';

const STATES = ['allocated', 'backordered', 'picking', 'packed', 'shipped', 'delivered', 'on_hold', 'cancelled'] as const;

const listQuery = z.object({
  state: csvOf(STATES).optional(),
  order: z.coerce.number().int().positive().optional(),
  limit,
  before,
});

const reason = z.string().min(1).max(500).optional();
const stepBody = z.object({ reason }).strict();
const positive = z.number().positive().nullable().default(null);
const packBody = z
  .object({
    parcels: z.array(z.object({ weightGrams: positive, lengthCm: positive, widthCm: positive, heightCm: positive }).strict()).min(1).max(50).optional(),
    reason,
  })
  .strict();
const shipBody = z
  .object({
    /** Carrier adapter; default the CARRIER setting. */
    adapter: z.string().min(1).optional(),
    /** Tracking typed by a person (manual carrier, dropship). */
    carrier: z.string().min(1).max(100).optional(),
    service: z.string().min(1).max(100).nullable().optional(),
    trackingNumber: z.string().min(1).max(100).optional(),
    trackingUrl: z.url().nullable().optional(),
    reason,
  })
  .strict()
  .refine((b) => (b.carrier === undefined) === (b.trackingNumber === undefined), { error: 'carrier and trackingNumber go together', path: ['trackingNumber'] });

const by = (why: string | undefined): By => ({ actor: 'admin', reason: why ?? null });

export function fulfilmentRoutes(server: FastifyInstance, app: App): void {
  server.get('/api/fulfilments', documented({ query: listQuery }), async (request) => {
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

  server.get('/api/fulfilments/:id/packing-slip', documented({ params: idParams }), async (request, reply) => {
    const { id } = parse(idParams, request.params, 'path');
    await mustExist(app, id);
    return reply.type('text/html; charset=utf-8').send(await packingSlipHtml(app.db, id));
  });

  server.post('/api/orders/:id/allocate', documented({ params: idParams, body: stepBody }), async (request) => {
    const { id } = parse(idParams, request.params, 'path');
    const body = parse(stepBody, request.body, 'body');
    const exists = await app.db.selectFrom('orders').select('id').where('id', '=', id).executeTakeFirst();
    if (!exists) throw new ApiError(404, `order ${id} does not exist`);
    const result = await allocateOrder(app, id, by(body.reason));
    request.log.info({ order: id, outcome: result.outcome }, 'admin: allocate');
    return result;
  });

  server.post('/api/fulfilments/:id/pick', documented({ params: idParams, body: stepBody }), async (request) => {
    const { id } = parse(idParams, request.params, 'path');
    const body = parse(stepBody, request.body, 'body');
    await mustExist(app, id);
    await startPicking(app, id, by(body.reason));
    return fulfilment(app, id);
  });

  server.post('/api/fulfilments/:id/pack', documented({ params: idParams, body: packBody }), async (request) => {
    const { id } = parse(idParams, request.params, 'path');
    const body = parse(packBody, request.body, 'body');
    await mustExist(app, id);
    await packFulfilment(app, id, body.parcels ?? [DEFAULT_PARCEL], by(body.reason));
    return fulfilment(app, id);
  });

  server.post('/api/fulfilments/:id/ship', documented({ params: idParams, body: shipBody }), async (request) => {
    const { id } = parse(idParams, request.params, 'path');
    const body = parse(shipBody, request.body, 'body');
    await mustExist(app, id);
    const manual =
      body.carrier && body.trackingNumber
        ? { carrier: body.carrier, service: body.service ?? null, trackingNumber: body.trackingNumber, trackingUrl: body.trackingUrl ?? null }
        : undefined;
    const result = await shipFulfilment(app, id, { adapter: body.adapter, manual }, by(body.reason));
    request.log.info({ fulfilment: id, shipment: result.shipmentId }, 'admin: ship');
    return { ...(await fulfilment(app, id)), shipmentId: result.shipmentId, created: result.created };
  });
}

async function mustExist(app: App, id: number): Promise<void> {
  const row = await app.db.selectFrom('fulfillments').select('id').where('id', '=', id).executeTakeFirst();
  if (!row) throw new ApiError(404, `fulfilment ${id} does not exist`);
}

async function fulfilment(app: App, id: number) {
  return app.db.selectFrom('fulfillments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}
