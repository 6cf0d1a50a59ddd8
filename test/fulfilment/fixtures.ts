/** Seeding for fulfilment tests: a channel, locations, SKUs, stock, orders. */
import { sql } from 'kysely';
import { expect } from 'vitest';
import type { App } from '../../src/app.ts';
import { saveOrders, line, order } from '../helpers/orders.ts';
import type { UnifiedOrder } from '../../src/domain/order.ts';
import type { ChannelSimulator } from '../../connectors/types.ts';
import { addChannel } from '../../src/db/channels.ts';
import { syncListings } from '../../src/stock/listings.ts';

export async function channel(app: App, name = 'shop', kind = 'test'): Promise<number> {
  const row = await app.db.insertInto('channels').values({ kind, name, credentials_encrypted: 'x' }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function location(app: App, code: string, priority = 100): Promise<number> {
  const row = await app.db.insertInto('locations').values({ code, name: code, priority }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function supplier(app: App, name: string, opts: { leadTimeDays?: number; dropship?: boolean } = {}): Promise<number> {
  const row = await app.db
    .insertInto('suppliers')
    .values({ name, lead_time_days: opts.leadTimeDays ?? 7, dropship: opts.dropship ?? false })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function sku(app: App, code: string, opts: { supplierId?: number; dropship?: boolean } = {}): Promise<number> {
  const row = await app.db
    .insertInto('skus')
    .values({ sku: code, title: `Title of ${code}`, supplier_id: opts.supplierId ?? null, dropship: opts.dropship ?? false })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Puts stock on the shelf through the ledger (an adjustment). */
export async function stock(app: App, skuId: number, locationId: number, quantity: number): Promise<void> {
  await app.db
    .insertInto('stock_movements')
    .values({ sku_id: skuId, location_id: locationId, on_hand_delta: quantity, reason: 'adjustment', reference: 'test:seed' })
    .execute();
}

let counter = 0;

/** Saves a paid order with these lines (sku, quantity); placed `minutesAgo` ago so age order is explicit. */
export async function placeOrder(
  app: App,
  channelId: number,
  lines: Array<[string, number]>,
  overrides: Partial<UnifiedOrder> & { minutesAgo?: number } = {},
): Promise<number> {
  counter += 1;
  const { minutesAgo, ...rest } = overrides;
  const placedAt = new Date(Date.now() - (minutesAgo ?? 0) * 60_000);
  const o = order({
    externalId: `ext-${counter}-${Math.random().toString(36).slice(2, 8)}`,
    orderNumber: `#${1000 + counter}`,
    placedAt,
    updatedAt: placedAt,
    lines: lines.map(([s, q], i) => line({ externalId: `L${i + 1}`, sku: s, title: `Title of ${s}`, quantity: q })),
    ...rest,
  });
  const [result] = await saveOrders(app.db, channelId, [o]);
  placed.set(result!.orderId!, { channelId, order: o });
  return result!.orderId!;
}

const placed = new Map<number, { channelId: number; order: UnifiedOrder }>();

/** The channel changes an order (cancel, edit lines): saved as a newer version, as sync or a webhook would. */
export async function changeOnChannel(
  app: App,
  orderId: number,
  change: { cancel?: boolean; lines?: Array<[string, number]> },
): Promise<void> {
  const entry = placed.get(orderId)!;
  const updatedAt = new Date(entry.order.updatedAt.getTime() + 60_000);
  const next: UnifiedOrder = {
    ...entry.order,
    updatedAt,
    channelState: change.cancel ? 'cancelled' : entry.order.channelState,
    cancelledAt: change.cancel ? updatedAt : entry.order.cancelledAt,
    lines: change.lines
      ? change.lines.map(([s, q], i) => line({ externalId: `L${i + 1}`, sku: s, title: `Title of ${s}`, quantity: q }))
      : entry.order.lines,
  };
  const [result] = await saveOrders(app.db, entry.channelId, [next]);
  expect(result!.outcome).toBe('updated');
  entry.order = next;
}

export async function orderState(app: App, orderId: number): Promise<string> {
  return (await app.db.selectFrom('orders').select('state').where('id', '=', orderId).executeTakeFirstOrThrow()).state;
}

export async function level(app: App, skuId: number, locationId: number): Promise<{ on_hand: number; reserved: number }> {
  const row = await app.db.selectFrom('stock_levels').select(['on_hand', 'reserved']).where('sku_id', '=', skuId).where('location_id', '=', locationId).executeTakeFirst();
  return row ?? { on_hand: 0, reserved: 0 };
}

/** Every level equals the sum of its movements, and nothing is reserved below zero or beyond what is on hand. */
export async function ledgerMismatches(app: App): Promise<unknown[]> {
  const rows = await sql`
    SELECT sl.sku_id, sl.location_id, sl.on_hand, sl.reserved, m.on_hand AS m_on_hand, m.reserved AS m_reserved
    FROM stock_levels sl
    FULL JOIN (SELECT sku_id, location_id, sum(on_hand_delta)::int AS on_hand, sum(reserved_delta)::int AS reserved
               FROM stock_movements GROUP BY sku_id, location_id) m USING (sku_id, location_id)
    WHERE sl.on_hand IS DISTINCT FROM m.on_hand OR sl.reserved IS DISTINCT FROM m.reserved
       OR sl.reserved < 0 OR sl.reserved > sl.on_hand`.execute(app.db);
  return rows.rows;
}

/**
 * A channel of `kind` on its simulator, for end-to-end tests in auto mode: the
 * channel added, its listings synced, and 50 of `<prefix>-MUG` (listed at 100)
 * on the shelf of location `<prefix>-MAIN`.
 */
export async function simulatedChannel(app: App, sim: ChannelSimulator, kind: string, prefix: string): Promise<number> {
  await sim.createProduct({ sku: `${prefix}-MUG`, title: 'Mug', price: '12.50', stock: 100 });
  const { settings, credentials } = sim.channelConfig();
  const channelId = await addChannel(app.db, app.config.secretKey!, { kind, name: `e2e-${kind}`, settings, credentials });
  await syncListings(app, channelId);
  const main = await location(app, `${prefix}-MAIN`, 1);
  const mug = await app.db.selectFrom('skus').select('id').where('sku', '=', `${prefix}-MUG`).executeTakeFirstOrThrow();
  await stock(app, mug.id, main, 50);
  return channelId;
}

/** Waits until `check` holds, polling every 200 ms; throws naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
