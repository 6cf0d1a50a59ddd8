import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/index.ts';
import { differsAtSameTime, markOrderDeleted, saveOrdersSettingAside } from '../../src/db/orders.ts';
import { saveOrders, line, order } from '../helpers/orders.ts';
import type { UnifiedOrder } from '../../src/domain/order.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/services.ts';

let database: TestDatabase;
let db: Db;
let channelId: number;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url);
  ({ id: channelId } = await db
    .insertInto('channels')
    .values({ kind: 'test', name: 'orders-test', credentials_encrypted: 'x' })
    .returning('id')
    .executeTakeFirstOrThrow());
});
afterAll(async () => {
  await db.destroy();
  await database.drop();
});

const older = order({ externalId: 'race', financialStatus: 'pending', updatedAt: new Date('2026-11-01T10:00:00Z') });
const newer = order({
  externalId: 'race',
  financialStatus: 'paid',
  updatedAt: new Date('2026-11-01T10:05:00Z'),
  totals: { subtotal: '25.00', shipping: '4.90', tax: '5.00', discount: '0.00', total: '34.90' },
  lines: [line({ quantity: 2 })],
});

async function stored(externalId: string) {
  return db.selectFrom('orders').selectAll().where('channel_id', '=', channelId).where('external_id', '=', externalId).executeTakeFirstOrThrow();
}

describe('order upsert', () => {
  it.each([
    ['older first', [older, newer]],
    ['newer first', [newer, older]],
  ])('keeps the newer version whatever the arrival order (%s)', async (_label, arrivals) => {
    await db.deleteFrom('orders').where('external_id', '=', 'race').execute();
    for (const o of arrivals) await saveOrders(db, channelId, [o]);
    const row = await stored('race');
    expect(row.financial_status).toBe('paid');
    expect(row.total).toBe('34.9000');
    expect(row.channel_updated_at.toISOString()).toBe('2026-11-01T10:05:00.000Z');
    const lines = await db.selectFrom('order_lines').selectAll().where('order_id', '=', row.id).execute();
    expect(lines.map((l) => l.quantity)).toEqual([2]);
  });

  it('reports inserted, updated and stale, and a repeat changes nothing', async () => {
    const o = order({ externalId: 'outcomes' });
    expect((await saveOrders(db, channelId, [o]))[0]!.outcome).toBe('inserted');
    expect((await saveOrders(db, channelId, [o]))[0]!.outcome).toBe('stale');
    const later = { ...o, updatedAt: new Date(o.updatedAt.getTime() + 1000) };
    expect((await saveOrders(db, channelId, [later]))[0]!.outcome).toBe('updated');
  });

  it('keeps the newest copy when one page holds the same order twice', async () => {
    const a = order({ externalId: 'twice', orderNumber: '#old', updatedAt: new Date('2026-11-02T00:00:00Z') });
    const b = order({ externalId: 'twice', orderNumber: '#new', updatedAt: new Date('2026-11-02T00:01:00Z') });
    await saveOrders(db, channelId, [b, a]);
    expect((await stored('twice')).order_number).toBe('#new');
  });

  it('stores money exactly and keeps removed lines at quantity 0', async () => {
    const first = order({
      externalId: 'lines',
      lines: [line({ externalId: 'A', unitPrice: '0.10' }), line({ externalId: 'B', sku: 'CAP', unitPrice: '0.20' })],
    });
    await saveOrders(db, channelId, [first]);
    const edited = { ...first, updatedAt: new Date(first.updatedAt.getTime() + 60_000), lines: [first.lines[0]!] };
    await saveOrders(db, channelId, [edited]);
    const row = await stored('lines');
    const lines = await db.selectFrom('order_lines').selectAll().where('order_id', '=', row.id).orderBy('external_id').execute();
    expect(lines.map((l) => [l.external_id, l.quantity, l.unit_price])).toEqual([
      ['A', 1, '0.1000'],
      ['B', 0, '0.2000'],
    ]);
  });

  it('imports lines without a SKU or with an unknown SKU and flags the order', async () => {
    await db.insertInto('skus').values({ sku: 'KNOWN' }).execute();
    await saveOrders(db, channelId, [
      order({ externalId: 'flags', lines: [line({ externalId: 'x', sku: null }), line({ externalId: 'y', sku: 'NOPE' }), line({ externalId: 'z', sku: 'KNOWN' })] }),
    ]);
    const row = await stored('flags');
    expect(row.flags.sort()).toEqual(['missing_sku', 'unknown_sku']);
    const lines = await db.selectFrom('order_lines').select(['external_id', 'sku_id']).where('order_id', '=', row.id).orderBy('external_id').execute();
    expect(lines[2]!.sku_id).not.toBeNull();
    expect(lines.length).toBe(3);
  });

  it('a confirmed deletion cancels once, keeps the channel time, and no older copy reopens it', async () => {
    const at = new Date('2026-11-03T00:00:00Z');
    await saveOrders(db, channelId, [order({ externalId: 'del', updatedAt: at })]);
    expect(await db.transaction().execute((trx) => markOrderDeleted(trx, channelId, 'del'))).not.toBeNull();
    const deleted = await stored('del');
    expect(deleted.channel_state).toBe('cancelled');
    expect(deleted.channel_updated_at).toEqual(at);
    expect(deleted.flags).toContain('deleted_on_channel');
    // Twice changes nothing more.
    expect(await db.transaction().execute((trx) => markOrderDeleted(trx, channelId, 'del'))).toBeNull();
    // A copy sent before the deletion (a delayed webhook) is stale, however new its time.
    const delayed = order({ externalId: 'del', updatedAt: new Date('2026-11-04T00:00:00Z') });
    expect((await saveOrders(db, channelId, [delayed]))[0]!.outcome).toBe('stale');
    expect((await stored('del')).channel_state).toBe('cancelled');
  });
});

describe('two changes within one channel second', () => {
  const base = order({ externalId: 'same-second', updatedAt: new Date('2026-11-05T00:00:00Z'), raw: { status: 'processing' } });
  const later = { ...base, financialStatus: 'paid' as const, fulfillmentStatus: 'fulfilled' as const, raw: { status: 'completed' } };

  it('keeps the stored row for a pushed copy, and takes a freshly read copy', async () => {
    await saveOrders(db, channelId, [base]);
    expect((await saveOrders(db, channelId, [later]))[0]!.outcome).toBe('stale');
    expect(await differsAtSameTime(db, channelId, later)).toBe(true);
    expect((await saveOrders(db, channelId, [later], { sameTimestamp: 'replace' }))[0]!.outcome).toBe('updated');
    expect((await stored('same-second')).fulfillment_status).toBe('fulfilled');
    // The identical copy again changes nothing, even when read fresh.
    expect((await saveOrders(db, channelId, [later], { sameTimestamp: 'replace' }))[0]!.outcome).toBe('stale');
    expect(await differsAtSameTime(db, channelId, later)).toBe(false);
  });
});

describe('channel ids on lines', () => {
  it('keeps the ids a poll stored when a later copy (a webhook body) lacks them', async () => {
    const polled = order({ externalId: 'ids', lines: [line({ externalId: 'L', inventoryItemExternalId: 'gid://shopify/InventoryItem/7', variantExternalId: 'gid://shopify/ProductVariant/8' })] });
    await saveOrders(db, channelId, [polled]);
    const pushed = { ...polled, updatedAt: new Date(polled.updatedAt.getTime() + 1000), lines: [line({ externalId: 'L', quantity: 3 })] };
    await saveOrders(db, channelId, [pushed]);
    const row = await stored('ids');
    const [l] = await db.selectFrom('order_lines').selectAll().where('order_id', '=', row.id).execute();
    expect([l!.quantity, l!.inventory_item_external_id, l!.variant_external_id]).toEqual([3, 'gid://shopify/InventoryItem/7', 'gid://shopify/ProductVariant/8']);
  });
});

describe('large orders', () => {
  it('saves a 6,000-line order whole (more bind parameters than one Postgres statement takes)', async () => {
    const lines = Array.from({ length: 6_000 }, (_, i) => line({ externalId: `BIG-${i}`, sku: `BIG-${i % 50}`, quantity: 1 + (i % 3) }));
    const [result] = await saveOrders(db, channelId, [order({ externalId: 'big', lines })]);
    expect(result!.outcome).toBe('inserted');
    const { n } = await db.selectFrom('order_lines').select((eb) => eb.fn.countAll<number>().as('n')).where('order_id', '=', result!.orderId!).executeTakeFirstOrThrow();
    expect(Number(n)).toBe(6_000);
  });
});

describe('a value Postgres cannot take', () => {
  it('sets an order with an invalid time aside instead of saving it without that time, and saves the rest of the page', async () => {
    const bad = order({ externalId: 'bad-time', cancelledAt: new Date('not a date') });
    const good = order({ externalId: 'good-time' });
    const saved = await db.transaction().execute((trx) => saveOrdersSettingAside(trx, channelId, [bad, good], { source: 'poll' }));
    expect(saved.rejected.map((r) => r.externalId)).toEqual(['bad-time']);
    expect(saved.results.map((r) => [r.externalId, r.outcome])).toEqual([['good-time', 'inserted']]);
    expect(await db.selectFrom('orders').select('id').where('channel_id', '=', channelId).where('external_id', '=', 'bad-time').executeTakeFirst()).toBeUndefined();
  });
});

describe("a customer's cancel request on the order", () => {
  const at = (minute: number) => new Date(`2026-11-02T10:${String(minute).padStart(2, '0')}:00Z`);
  const version = (minute: number, cancelRequest: UnifiedOrder['cancelRequest']) => order({ externalId: 'asks', updatedAt: at(minute), cancelRequest });

  it('keeps its first sighting and a dismissal while the channel shows it, ignores stale copies, and clears when the channel does', async () => {
    await saveOrders(db, channelId, [version(0, null)]);
    expect((await stored('asks')).cancel_requested_at).toBeNull();
    await saveOrders(db, channelId, [version(1, { requestedAt: at(1), reason: 'Ordered twice' })]);
    expect(await stored('asks')).toMatchObject({ cancel_requested_at: at(1), cancel_request_reason: 'Ordered twice' });

    // A later version still showing it: the request is not new.
    await saveOrders(db, channelId, [version(2, { requestedAt: at(2), reason: 'Ordered twice' })]);
    expect((await stored('asks')).cancel_requested_at).toEqual(at(1));
    await db.updateTable('orders').set({ cancel_request_dismissed_at: at(3), cancel_request_dismissed_by: 'admin' }).where('external_id', '=', 'asks').execute();
    // A connector that does not read requests, and a stale copy without it, change nothing.
    await saveOrders(db, channelId, [version(4, undefined)]);
    await saveOrders(db, channelId, [version(3, null)]);
    expect(await stored('asks')).toMatchObject({ cancel_requested_at: at(1), cancel_request_dismissed_at: at(3), cancel_request_dismissed_by: 'admin' });

    // The channel no longer shows it: cleared with its dismissal, so a new request is shown again.
    await saveOrders(db, channelId, [version(5, null)]);
    expect(await stored('asks')).toMatchObject({ cancel_requested_at: null, cancel_request_reason: null, cancel_request_dismissed_at: null });
    await saveOrders(db, channelId, [version(6, { requestedAt: at(6), reason: null })]);
    expect(await stored('asks')).toMatchObject({ cancel_requested_at: at(6), cancel_request_reason: null, cancel_request_dismissed_at: null });
  });
});
