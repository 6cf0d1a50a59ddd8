import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { saveOrders, order, line } from '../helpers/orders.ts';
import { ensureLocation, movementFor, recordMovements } from '../../src/stock/ledger.ts';
import { draftPurchaseOrders, forecast } from '../../src/stock/forecast.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const now = new Date('2026-06-30T00:00:00Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);

describe('reorder forecast', () => {
  it('matches a hand-computed history and drafts the purchase order once', async () => {
    const db = t.app.db;
    const supplier = await db.insertInto('suppliers').values({ name: 'Mugs Ltd', lead_time_days: 10 }).returning('id').executeTakeFirstOrThrow();
    const a = await db.insertInto('skus').values({ sku: 'MUG-A', supplier_id: supplier.id, safety_stock: 5 }).returning('id').executeTakeFirstOrThrow();
    const b = await db.insertInto('skus').values({ sku: 'MUG-B' }).returning('id').executeTakeFirstOrThrow();
    const main = await ensureLocation(db, 'MAIN');
    await recordMovements(db, [
      movementFor.receipt(a.id, main, 10, 'po:1'),
      movementFor.reservation(a.id, main, 2, 'order:x'),
      movementFor.receipt(b.id, main, 100, 'po:2'),
    ]);
    const channel = await db.insertInto('channels').values({ kind: 'memory', name: 'history', credentials_encrypted: 'unused' }).returning('id').executeTakeFirstOrThrow();
    const sale = (id: string, sku: string, quantity: number, placedAt: Date, cancelled = false) =>
      order({
        externalId: id,
        placedAt,
        updatedAt: placedAt,
        channelState: cancelled ? 'cancelled' : 'open',
        lines: [line({ externalId: `${id}-1`, sku, quantity })],
      });
    await saveOrders(db, channel.id, [
      sale('1', 'MUG-A', 3, daysAgo(2)),
      sale('2', 'MUG-A', 6, daysAgo(10)),
      sale('3', 'MUG-A', 9, daysAgo(45)),
      sale('4', 'MUG-A', 50, daysAgo(100)), // older than 90 days
      sale('5', 'MUG-A', 100, daysAgo(1), true), // cancelled
      sale('6', 'MUG-A', 7, new Date(now.getTime() + 3_600_000)), // after "now"
      sale('7', 'MUG-B', 14, daysAgo(3)),
    ]);

    const [fa, fb] = await forecast(db, { now });
    // MUG-A: sold 3 (7 d), 9 (30 d), 18 (90 d); available 10 - 2 = 8.
    expect(fa).toMatchObject({ sku: 'MUG-A', sold: { d7: 3, d30: 9, d90: 18 }, available: 8, onOrder: 0, leadTimeDays: 10, safetyStock: 5 });
    expect(fa!.velocity.d7).toBeCloseTo(3 / 7, 10);
    expect(fa!.velocity.d30).toBeCloseTo(0.3, 10);
    expect(fa!.velocity.d90).toBeCloseTo(0.2, 10);
    expect(fa!.daysOfCover).toBeCloseTo(8 / 0.3, 10); // 26.67 days
    expect(fa!.reorderPoint).toBe(8); // 0.3 x 10 + 5
    expect(fa!.reorder).toBe(true); // 8 <= 8
    expect(fa!.suggestedQuantity).toBe(9); // 8 + 0.3 x 30 - 8
    // MUG-B: 14 in the last week, no supplier (7 days), plenty on hand.
    expect(fb).toMatchObject({ sku: 'MUG-B', sold: { d7: 14, d30: 14, d90: 14 }, available: 100, leadTimeDays: 7, reorderPoint: 4, reorder: false, suggestedQuantity: 0 });
    expect(fb!.daysOfCover).toBeCloseTo(100 / (14 / 30), 10);
    // On a 7-day basis MUG-B sells 2 a day: reorder point 14, still covered.
    const [, fb7] = await forecast(db, { now, basis: 7 });
    expect(fb7).toMatchObject({ reorderPoint: 14, reorder: false });

    const drafted = await draftPurchaseOrders(db, [fa!, fb!]);
    expect(drafted).toEqual([{ purchaseOrderId: expect.any(Number), supplierId: supplier.id, lines: [{ skuId: a.id, sku: 'MUG-A', quantity: 9 }] }]);
    const po = await db.selectFrom('purchase_orders').selectAll().where('id', '=', drafted[0]!.purchaseOrderId).executeTakeFirstOrThrow();
    expect(po.status).toBe('draft');
    // The draft counts as on order: asking again orders nothing more.
    const [again] = await forecast(db, { now });
    expect(again).toMatchObject({ onOrder: 9, reorder: false, suggestedQuantity: 0 });
    expect(await draftPurchaseOrders(db, [again!])).toEqual([]);
  });

  it('does not count returned units as sales, unless the return was rejected', async () => {
    const db = t.app.db;
    const c = await db.insertInto('skus').values({ sku: 'MUG-C' }).returning('id').executeTakeFirstOrThrow();
    const channel = await db.insertInto('channels').values({ kind: 'memory', name: 'returns', credentials_encrypted: 'unused' }).returning('id').executeTakeFirstOrThrow();
    const placed = (id: string, quantity: number, at: Date) =>
      order({ externalId: id, placedAt: at, updatedAt: at, lines: [line({ externalId: `${id}-1`, sku: 'MUG-C', quantity })] });
    const results = await saveOrders(db, channel.id, [placed('C1', 4, daysAgo(3)), placed('C2', 6, daysAgo(20))]);
    const lineOf = async (orderId: number) => (await db.selectFrom('order_lines').select('id').where('order_id', '=', orderId).executeTakeFirstOrThrow()).id;
    const giveBack = async (orderId: number, quantity: number, status: 'restocked' | 'rejected') => {
      const r = await db.insertInto('returns').values({ order_id: orderId, status }).returning('id').executeTakeFirstOrThrow();
      await db.insertInto('return_lines').values({ return_id: r.id, order_line_id: await lineOf(orderId), quantity }).execute();
    };
    await giveBack(results[0]!.orderId!, 1, 'restocked');
    await giveBack(results[1]!.orderId!, 2, 'restocked');
    await giveBack(results[1]!.orderId!, 3, 'rejected');

    const fc = (await forecast(db, { now })).find((f) => f.sku === 'MUG-C');
    // 4 - 1 in the last week; 6 - 2 more in the last 30 days; the rejected return still counts as sold.
    expect(fc).toMatchObject({ sold: { d7: 3, d30: 7, d90: 7 } });
    expect(fc!.velocity.d30).toBeCloseTo(7 / 30, 10);
  });

  it('does not count refunded units as sales, on either channel, and a unit returned and refunded once', async () => {
    const db = t.app.db;
    await db.insertInto('skus').values({ sku: 'MUG-D' }).returning('id').executeTakeFirstOrThrow();
    const channel = await db.insertInto('channels').values({ kind: 'memory', name: 'refunds', credentials_encrypted: 'unused' }).returning('id').executeTakeFirstOrThrow();
    // The channel takes refunded units off the line (Shopify currentQuantity, WooCommerce refunded quantities).
    const refundedOnChannel = order({
      externalId: 'D1',
      placedAt: daysAgo(2),
      updatedAt: daysAgo(2),
      lines: [line({ externalId: 'D1-1', sku: 'MUG-D', quantity: 3 })],
      refunds: [{ externalId: 'r-1', createdAt: daysAgo(1), amount: '10.00', shipping: '0.00', note: null, lines: [{ lineExternalId: 'D1-1', quantity: 2, amount: '10.00', restock: false }] }],
    });
    const returned = order({ externalId: 'D2', placedAt: daysAgo(2), updatedAt: daysAgo(2), lines: [line({ externalId: 'D2-1', sku: 'MUG-D', quantity: 4 })] });
    const [d1, d2] = await saveOrders(db, channel.id, [refundedOnChannel, returned]);
    // D2: 2 units returned, and refunded by channelsync (not on the channel yet: the line still says 4).
    const l2 = (await db.selectFrom('order_lines').select('id').where('order_id', '=', d2!.orderId!).executeTakeFirstOrThrow()).id;
    const r = await db.insertInto('returns').values({ order_id: d2!.orderId!, status: 'approved' }).returning('id').executeTakeFirstOrThrow();
    await db.insertInto('return_lines').values({ return_id: r.id, order_line_id: l2, quantity: 2 }).execute();
    const refund = await db.insertInto('refunds').values({ order_id: d2!.orderId!, amount: '10.00', currency: 'USD', source: 'channelsync', return_id: r.id }).returning('id').executeTakeFirstOrThrow();
    await db.insertInto('refund_lines').values({ refund_id: refund.id, order_line_id: l2, quantity: 2, amount: '10.00' }).execute();
    // D1: the 2 units refunded on the channel came back too (a return booked in channelsync): counted once.
    const l1 = (await db.selectFrom('order_lines').select('id').where('order_id', '=', d1!.orderId!).executeTakeFirstOrThrow()).id;
    const r1 = await db.insertInto('returns').values({ order_id: d1!.orderId!, status: 'restocked' }).returning('id').executeTakeFirstOrThrow();
    await db.insertInto('return_lines').values({ return_id: r1.id, order_line_id: l1, quantity: 2 }).execute();

    const fd = (await forecast(db, { now })).find((f) => f.sku === 'MUG-D');
    // D1: 5 ordered (3 left on the line + 2 refunded on the channel), 2 refunded and returned: 3 sold.
    // D2: 4 ordered, 2 returned and refunded by channelsync: 2 sold.
    expect(fd).toMatchObject({ sold: { d7: 5, d30: 5, d90: 5 } });
  });
});
