/**
 * GET /api/orders (filters: channel, status, from, to, q; keyset pages, newest first)
 * GET /api/orders/:id (with lines, fulfilments, shipments, returns, channel pushes and history)
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../../app.ts';
import type { OrderState } from '../../../db/schema.ts';
import { ApiError, before, csvOf, idParams, instant, limit, page, parse, documented } from './validate.ts';

export const ORDER_STATES = [
  'received', 'allocated', 'backordered', 'partially_shipped', 'shipped', 'delivered', 'on_hold', 'cancelled', 'needs_attention',
] as const satisfies readonly OrderState[];

const listQuery = z.object({
  /** Channel id or name. */
  channel: z.string().min(1).optional(),
  status: csvOf(ORDER_STATES).optional(),
  from: instant.optional(),
  to: instant.optional(),
  /** Order number or customer email, exact or prefix. */
  q: z.string().min(1).max(200).optional(),
  limit,
  before,
});

export function orderRoutes(server: FastifyInstance, app: App): void {
  server.get('/api/orders', documented({ query: listQuery }), async (request) => {
    const q = parse(listQuery, request.query, 'query');
    let query = app.db
      .selectFrom('orders')
      .innerJoin('channels', 'channels.id', 'orders.channel_id')
      .select([
        'orders.id', 'orders.channel_id', 'channels.name as channel_name', 'orders.external_id', 'orders.order_number', 'orders.state',
        'orders.channel_state', 'orders.financial_status', 'orders.fulfillment_status', 'orders.currency', 'orders.total',
        'orders.customer_email', 'orders.customer_name', 'orders.placed_at', 'orders.updated_at', 'orders.flags',
      ])
      .orderBy('orders.id', 'desc')
      .limit(q.limit);
    if (q.channel) {
      const channelId = await resolveChannel(app, q.channel);
      query = query.where('orders.channel_id', '=', channelId);
    }
    if (q.status) query = query.where('orders.state', 'in', q.status);
    if (q.from) query = query.where('orders.placed_at', '>=', q.from);
    if (q.to) query = query.where('orders.placed_at', '<', q.to);
    if (q.q) {
      const prefix = `${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query = query.where((eb) => eb.or([eb('orders.order_number', 'like', prefix), eb('orders.customer_email', 'like', prefix)]));
    }
    if (q.before) query = query.where('orders.id', '<', q.before);
    return page(await query.execute(), q.limit);
  });

  server.get('/api/orders/:id', documented({ params: idParams }), async (request) => {
    const { id } = parse(idParams, request.params, 'path');
    const detail = await orderDetail(app, id);
    if (!detail) throw new ApiError(404, `order ${id} does not exist`);
    return detail;
  });

  server.get('/api/orders/:id/raw', documented({ params: idParams }), async (request) => {
    const { id } = parse(idParams, request.params, 'path');
    const row = await app.db.selectFrom('orders').select('raw').where('id', '=', id).executeTakeFirst();
    if (!row) throw new ApiError(404, `order ${id} does not exist`);
    return row.raw;
  });
}

/** One order with its lines, fulfilments, shipments, returns, the pushes it owes its channel and its history; null when there is none. */
export async function orderDetail(app: App, id: number) {
  const order = await app.db
    .selectFrom('orders')
    .innerJoin('channels', 'channels.id', 'orders.channel_id')
    .selectAll('orders')
    .select(['channels.name as channel_name', 'channels.kind as channel_kind'])
    .where('orders.id', '=', id)
    .executeTakeFirst();
  if (!order) return null;
  const [lines, fulfillments, fulfillmentLines, shipments, shipmentLines, history, returns, returnLines, customerMessages, feedback] = await Promise.all([
    app.db.selectFrom('order_lines').selectAll().where('order_id', '=', id).orderBy('id').execute(),
    app.db.selectFrom('fulfillments').selectAll().where('order_id', '=', id).orderBy('id').execute(),
    app.db
      .selectFrom('fulfillment_lines')
      .innerJoin('fulfillments', 'fulfillments.id', 'fulfillment_lines.fulfillment_id')
      .selectAll('fulfillment_lines')
      .where('fulfillments.order_id', '=', id)
      .execute(),
    app.db
      .selectFrom('shipments')
      .innerJoin('fulfillments', 'fulfillments.id', 'shipments.fulfillment_id')
      .selectAll('shipments')
      .where('fulfillments.order_id', '=', id)
      .orderBy('shipments.id')
      .execute(),
    app.db
      .selectFrom('shipment_lines')
      .innerJoin('shipments', 'shipments.id', 'shipment_lines.shipment_id')
      .innerJoin('fulfillments', 'fulfillments.id', 'shipments.fulfillment_id')
      .selectAll('shipment_lines')
      .where('fulfillments.order_id', '=', id)
      .execute(),
    app.db.selectFrom('order_history').selectAll().where('order_id', '=', id).orderBy('id').execute(),
    app.db.selectFrom('returns').selectAll().where('order_id', '=', id).orderBy('id').execute(),
    app.db
      .selectFrom('return_lines')
      .innerJoin('returns', 'returns.id', 'return_lines.return_id')
      .selectAll('return_lines')
      .where('returns.order_id', '=', id)
      .orderBy('return_lines.id')
      .execute(),
    // What the customer was told and what they answered (issue #14).
    app.db.selectFrom('customer_messages').select(['id', 'kind', 'subject', 'to_address', 'status', 'due_at', 'attempts', 'last_error', 'sent_at']).where('order_id', '=', id).orderBy('id').execute(),
    app.db.selectFrom('feedback').selectAll().where('order_id', '=', id).executeTakeFirst(),
  ]);
  // Pushes owed for this order: its shipments (fulfillment), and its cancellation or refunds (by external id).
  const shipmentTargets = shipments.map((s) => String(s.id));
  const pushes = await app.db
    .selectFrom('channel_pushes')
    .selectAll()
    .where('channel_id', '=', order.channel_id)
    .where((eb) =>
      eb.or([
        ...(shipmentTargets.length ? [eb.and([eb('kind', '=', 'fulfillment'), eb('target', 'in', shipmentTargets)])] : []),
        eb.and([eb('kind', 'in', ['cancel', 'refund']), eb('target', '=', order.external_id)]),
        eb.and([eb('kind', 'in', ['cancel', 'refund']), eb('target', 'like', `${order.external_id}.%`)]),
      ]),
    )
    .orderBy('id')
    .execute();
  const { raw, ...rest } = order;
  return {
    ...rest,
    raw_available: raw !== null,
    lines,
    fulfillments: fulfillments.map((f) => ({ ...f, lines: fulfillmentLines.filter((l) => l.fulfillment_id === f.id) })),
    shipments: shipments.map((s) => ({ ...s, lines: shipmentLines.filter((l) => l.shipment_id === s.id) })),
    returns: returns.map((r) => ({ ...r, lines: returnLines.filter((l) => l.return_id === r.id) })),
    pushes,
    history,
    customer_messages: customerMessages,
    feedback: feedback ?? null,
  };
}

/** A channel id or name -> id; 400 when no such channel. */
export async function resolveChannel(app: App, ref: string): Promise<number> {
  const row = /^\d+$/.test(ref)
    ? await app.db.selectFrom('channels').select('id').where('id', '=', Number(ref)).executeTakeFirst()
    : await app.db.selectFrom('channels').select('id').where('name', '=', ref).executeTakeFirst();
  if (!row) throw new ApiError(400, `invalid query: channel "${ref}" does not exist (give a channel id or name)`);
  return row.id;
}

