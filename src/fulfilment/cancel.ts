/**
 * Cancelling an order in channelsync (`channelsync cancel`, `POST
 * /api/orders/{id}/cancel`). In one transaction: every fulfilment that has not
 * shipped is cancelled and its reservations released (`releaseOpen`, as for a
 * cancellation from the channel), the order's SKUs are owed stock pushes to
 * every channel, the order moves to `cancelled` (so no step of it runs again:
 * pick, pack and ship refuse a cancelled order, allocation leaves it alone),
 * and the `cancel` push to its channel is owed. The push cancels it there once
 * (the connector treats "already cancelled" as done); the channel's copy of the
 * order then comes back cancelled and changes nothing more.
 *
 * Refused: an order with a shipment (arrange a return instead), one a person
 * must look at (`needs_attention`), and one whose channel cannot cancel.
 * Cancelling a cancelled order again changes nothing.
 */
import type { App } from '../app.ts';
import { ConfigError, PermanentError } from '../domain/errors.ts';
import { enqueuePush, kickStockPushes, owePush, oweStockPushes } from '../outbox/index.ts';
import { releaseOpen } from './allocate.ts';
import { SHIPPED_STATES } from './states.ts';
import { inTransaction, lockOrder, moveOrder, orderFulfilments, type By } from './transitions.ts';

export interface CancelResult {
  orderId: number;
  /** False when the order was cancelled already (nothing changed). */
  cancelled: boolean;
  /** The push that cancels it on its channel (null when the channel itself cancelled it). */
  pushId: number | null;
  released: number[];
}

export async function cancelOrderHere(app: App, orderId: number, reason: string, by: By): Promise<CancelResult> {
  const text = reason.trim() || 'cancelled in channelsync';
  const channel = await app.db
    .selectFrom('orders')
    .innerJoin('channels', 'channels.id', 'orders.channel_id')
    .select(['orders.channel_id'])
    .where('orders.id', '=', orderId)
    .executeTakeFirst();
  if (!channel) throw new ConfigError(`order ${orderId} does not exist`);
  const { connector } = await app.connectors.get(channel.channel_id);
  if (!connector.capabilities.cancel || !connector.cancelOrder) {
    throw new PermanentError(`${connector.kind} channels cannot cancel orders through channelsync: cancel it on the channel`);
  }

  const result = await inTransaction(app.db, async (trx) => {
    const order = await lockOrder(trx, orderId);
    const row = await trx.selectFrom('orders').select(['external_id']).where('id', '=', orderId).executeTakeFirstOrThrow();
    if (order.state === 'cancelled') {
      const push = await trx
        .selectFrom('channel_pushes')
        .select('id')
        .where('channel_id', '=', order.channel_id)
        .where('kind', '=', 'cancel')
        .where('target', '=', row.external_id)
        .executeTakeFirst();
      return { orderId, cancelled: false, pushId: push?.id ?? null, released: [], push: null };
    }
    if (order.state === 'needs_attention') {
      throw new PermanentError(`order ${order.order_number} (${orderId}) needs attention: resolve that first, then cancel it`);
    }
    const fulfilments = await orderFulfilments(trx, orderId);
    const shipped = fulfilments.filter((f) => SHIPPED_STATES.includes(f.state));
    if (shipped.length > 0) {
      throw new PermanentError(`order ${order.order_number} (${orderId}) has ${shipped.length} shipment(s) already: record a return instead of cancelling`);
    }
    const released = await releaseOpen(trx, order, fulfilments, { ...by, reason: `cancelled in channelsync: ${text}` });
    // As for a cancellation from the channel: every channel is told the order's SKUs again.
    const lines = await trx.selectFrom('order_lines').select('sku_id').where('order_id', '=', orderId).where('sku_id', 'is not', null).execute();
    const skuIds = [...new Set(lines.map((l) => l.sku_id!))];
    await oweStockPushes(trx, skuIds);
    await moveOrder(trx, order, 'cancelled', { ...by, reason: `cancelled in channelsync: ${text}` });
    // Cancelled on a channel that already had it cancelled: nothing to tell it.
    const push = order.channel_state === 'cancelled' ? null : await owePush(trx, { channelId: order.channel_id, kind: 'cancel', target: row.external_id, payload: { reason: text } });
    return { orderId, cancelled: true, pushId: push?.id ?? null, released: [...new Set([...released, ...skuIds])], push };
  });
  if (result.push) await enqueuePush(app, result.push);
  await kickStockPushes(app, result.released);
  const { push: _push, ...out } = result;
  return out;
}

/**
 * A person has read the customer's cancel request and goes on with the order
 * (it ships): the request stops counting as needing attention. Only an open
 * request of an order not cancelled is dismissed; anything else is refused
 * with the reason, and nothing changes. The request itself stays on the order
 * (and in its timeline) with who dismissed it.
 */
export async function dismissCancelRequest(app: App, orderId: number, by: By): Promise<void> {
  const row = await app.db
    .updateTable('orders')
    .set({ cancel_request_dismissed_at: new Date(), cancel_request_dismissed_by: by.actor })
    .where('id', '=', orderId)
    .where('cancel_requested_at', 'is not', null)
    .where('cancel_request_dismissed_at', 'is', null)
    .where('state', '<>', 'cancelled')
    .returning('id')
    .executeTakeFirst();
  if (row) return;
  const order = await app.db.selectFrom('orders').select(['order_number', 'state', 'cancel_requested_at', 'cancel_request_dismissed_at']).where('id', '=', orderId).executeTakeFirst();
  if (!order) throw new ConfigError(`order ${orderId} does not exist`);
  if (order.cancel_requested_at === null) throw new PermanentError(`order ${order.order_number} (${orderId}) has no cancel request to dismiss`);
  if (order.state === 'cancelled') throw new PermanentError(`order ${order.order_number} (${orderId}) is cancelled already: its cancel request is settled`);
  throw new PermanentError(`the cancel request of order ${order.order_number} (${orderId}) was dismissed already: nothing changed`);
}
