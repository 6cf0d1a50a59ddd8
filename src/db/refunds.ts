/**
 * Refunds read from the channels, recorded in the transaction of the order
 * they came with (`upsertOrders`): header, lines, refunds, restock movements
 * and the order's history commit together, and the stock pushes the
 * movements owe are written by the ledger's trigger (migration 0009).
 *
 * Once only: a refund is known by the channel's id (unique per order), so a
 * refund read again (a poll after a webhook, a backfill) changes nothing. A
 * refund channelsync made itself carries `channelsync-refund:<id>` in its note:
 * it is matched to that row (which gets the channel's id) instead of being
 * recorded a second time, even when the push that made it died before it
 * could say so.
 *
 * Restock: the channel put the units back in its own stock. channelsync books
 * on-hand +n (`return_restock`, reference `refund:<id>`) only for units that
 * had shipped from one of its locations and were not already booked back (by
 * a return, or an earlier refund), at the location the line last shipped
 * from. Units that never shipped are still on the shelf, reserved: the
 * connector takes refunded units off the line (Shopify `currentQuantity`,
 * WooCommerce's refunded quantities), so the allocation that follows releases
 * them.
 */
import { sql } from 'kysely';
import type { Trx } from './index.ts';
import { markedRefundId, type UnifiedRefund } from '../domain/order.ts';
import { addMoney, money } from '../domain/money.ts';
import { recordMovements, type Movement } from '../stock/ledger.ts';

interface LineRow {
  id: number;
  external_id: string;
  sku: string | null;
  sku_id: number | null;
  shipped: number;
  /** Units dealt with already: returned (any condition: a discarded unit is not restocked later) or restocked by an earlier refund. */
  booked_back: number;
  location_id: number | null;
}

/**
 * Records the refunds of one order that are not recorded yet. Returns the
 * SKUs whose stock it changed (to kick their pushes after the commit).
 */
export async function recordChannelRefunds(trx: Trx, orderId: number, currency: string, refunds: readonly UnifiedRefund[]): Promise<number[]> {
  if (refunds.length === 0) return [];
  const known = await trx.selectFrom('refunds').select(['id', 'external_id', 'source']).where('order_id', '=', orderId).execute();
  const knownExternal = new Set(known.map((r) => r.external_id).filter((e): e is string => e !== null));
  const ours = new Map(known.filter((r) => r.source === 'channelsync').map((r) => [r.id, r]));
  const fresh = refunds.filter((r) => !knownExternal.has(r.externalId));
  if (fresh.length === 0) return [];

  const order = await trx.selectFrom('orders').select(['state']).where('id', '=', orderId).executeTakeFirstOrThrow();
  const lines = await lineRows(trx, orderId);
  const byExternal = new Map(lines.map((l) => [l.external_id, l]));
  const restocked = new Set<number>();

  for (const refund of [...fresh].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())) {
    const mine = markedRefundId(refund.note);
    const match = mine !== null ? ours.get(mine) : undefined;
    if (match && match.external_id === null) {
      // Our own refund, seen on the channel: it is the same refund, not a second one.
      await trx.updateTable('refunds').set({ external_id: refund.externalId, refunded_at: refund.createdAt }).where('id', '=', match.id).execute();
      match.external_id = refund.externalId;
      continue;
    }
    const row = await trx
      .insertInto('refunds')
      .values({
        order_id: orderId,
        external_id: refund.externalId,
        amount: money(refund.amount),
        shipping: money(refund.shipping),
        currency,
        reason: refund.note,
        source: 'channel',
        refunded_at: refund.createdAt,
        actor: 'channel',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    // A line listed twice in one refund (WooCommerce allows it) is one row.
    const merged = new Map<number, { quantity: number; amount: string; restock: boolean; line: LineRow }>();
    for (const l of refund.lines) {
      const line = byExternal.get(l.lineExternalId);
      if (!line || l.quantity < 0) continue;
      const seen = merged.get(line.id);
      merged.set(line.id, {
        line,
        quantity: (seen?.quantity ?? 0) + l.quantity,
        amount: addMoney(seen?.amount ?? '0', money(l.amount)),
        restock: (seen?.restock ?? false) || l.restock,
      });
    }
    const movements: Movement[] = [];
    const values = [...merged.values()].map((m) => {
      let booked = 0;
      if (m.restock && m.line.sku_id !== null && m.line.location_id !== null) {
        booked = Math.max(0, Math.min(m.quantity, m.line.shipped - m.line.booked_back));
        m.line.booked_back += booked;
        if (booked > 0) {
          movements.push({ skuId: m.line.sku_id, locationId: m.line.location_id, onHand: booked, reason: 'return_restock', reference: `refund:${row.id}`, note: `order ${orderId}`, actor: 'channel' });
          restocked.add(m.line.sku_id);
        }
      }
      return { refund_id: row.id, order_line_id: m.line.id, quantity: m.quantity, amount: m.amount, restock: m.restock, restocked: booked };
    });
    if (values.length > 0) await trx.insertInto('refund_lines').values(values).execute();
    await recordMovements(trx, movements);
    const summary = [...merged.values()].map((m) => `${m.quantity} x ${m.line.sku ?? `line ${m.line.id}`}`).join(', ');
    const shelf = values.reduce((n, v) => n + v.restocked, 0);
    await trx
      .insertInto('order_history')
      .values({
        order_id: orderId,
        fulfillment_id: null,
        actor: 'channel',
        from_state: order.state,
        to_state: order.state,
        reason: `refund ${refund.externalId} on the channel: ${money(refund.amount)} ${currency}${summary ? ` for ${summary}` : ''}${shelf ? `; ${shelf} unit(s) back on the shelf` : ''}`,
      })
      .execute();
  }
  await syncRefundedCounters(trx, orderId);
  return [...restocked];
}

/** `order_lines.quantity_refunded`: the units of every refund of the line, channel's or ours. */
export async function syncRefundedCounters(trx: Trx, orderId: number): Promise<void> {
  await sql`
    UPDATE order_lines l SET quantity_refunded = COALESCE((
      SELECT sum(rl.quantity) FROM refund_lines rl WHERE rl.order_line_id = l.id), 0)
    WHERE l.order_id = ${orderId}`.execute(trx);
}

async function lineRows(trx: Trx, orderId: number): Promise<LineRow[]> {
  const { rows } = await sql<LineRow>`
    SELECT l.id, l.external_id, l.sku, l.sku_id,
      COALESCE((SELECT sum(sl.quantity) FROM shipment_lines sl JOIN shipments s ON s.id = sl.shipment_id
        JOIN fulfillments f ON f.id = s.fulfillment_id WHERE sl.order_line_id = l.id AND f.location_id IS NOT NULL), 0)::int AS shipped,
      (COALESCE((SELECT sum(rl.quantity) FROM return_lines rl JOIN returns r ON r.id = rl.return_id
        WHERE rl.order_line_id = l.id AND r.status <> 'rejected'), 0)
       + COALESCE((SELECT sum(fl.restocked) FROM refund_lines fl WHERE fl.order_line_id = l.id), 0))::int AS booked_back,
      (SELECT f.location_id FROM shipment_lines sl JOIN shipments s ON s.id = sl.shipment_id
        JOIN fulfillments f ON f.id = s.fulfillment_id
        WHERE sl.order_line_id = l.id AND f.location_id IS NOT NULL ORDER BY s.shipped_at DESC, s.id DESC LIMIT 1) AS location_id
    FROM order_lines l WHERE l.order_id = ${orderId} ORDER BY l.id`.execute(trx);
  return rows;
}
