/** Rows for the operations tests: an order synced from a channel, then shipped, with a push owed. */
import { sql } from 'kysely';
import type { App } from '../../src/app.ts';
import { requestPush } from '../../src/outbox/index.ts';

/** Ships every line of an order in one fulfilment and shipment, and owes the channel the fulfilment push. */
export async function shipOrder(
  app: App,
  orderId: number,
  opts: { trackingNumber?: string; shippedAt?: Date; deliveredAt?: Date | null } = {},
): Promise<{ fulfillmentId: number; shipmentId: number; pushId: number }> {
  const order = await app.db.selectFrom('orders').select(['id', 'channel_id']).where('id', '=', orderId).executeTakeFirstOrThrow();
  const lines = await app.db.selectFrom('order_lines').select(['id', 'quantity']).where('order_id', '=', orderId).execute();
  const f = await app.db.insertInto('fulfillments').values({ order_id: orderId, state: 'shipped' }).returning('id').executeTakeFirstOrThrow();
  for (const l of lines) await app.db.insertInto('fulfillment_lines').values({ fulfillment_id: f.id, order_line_id: l.id, quantity: l.quantity }).execute();
  const tracking = opts.trackingNumber ?? `TRK${orderId}${Date.now()}`;
  const s = await app.db
    .insertInto('shipments')
    .values({
      fulfillment_id: f.id,
      carrier: 'DHL',
      tracking_number: tracking,
      tracking_url: `https://track.example/${tracking}`,
      shipped_at: opts.shippedAt ?? new Date(),
      delivered_at: opts.deliveredAt ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const l of lines) await app.db.insertInto('shipment_lines').values({ shipment_id: s.id, order_line_id: l.id, quantity: l.quantity }).execute();
  await app.db
    .updateTable('orders')
    .set({ state: opts.deliveredAt ? 'delivered' : 'shipped', updated_at: sql`now()` })
    .where('id', '=', orderId)
    .execute();
  await app.db.insertInto('order_history').values({ order_id: orderId, fulfillment_id: f.id, actor: 'test', from_state: 'received', to_state: 'shipped' }).execute();
  const pushId = await requestPush(app, { channelId: order.channel_id, kind: 'fulfillment', target: String(s.id) });
  return { fulfillmentId: f.id, shipmentId: s.id, pushId };
}

/** Polls until `check` returns a truthy value or the time is up. */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
