import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { ensureLocation, type MovementReason } from '../../src/stock/ledger.ts';
import { reconcile } from '../../src/stock/reconcile.ts';
import { driftReport } from '../../src/stock/explain.ts';
import { syncListings } from '../../src/stock/listings.ts';
import { saveOrders, order, line } from '../helpers/orders.ts';
import { MemoryChannel, addMemoryChannel } from './memory-channel.ts';
import { syncOrders } from '../../jobs/sync-orders.ts';

let t: TestApp;
const shop = new MemoryChannel('recon-shop');
const woo = new MemoryChannel('recon-woo');
let shopId: number;
let wooId: number;
const N = 3_000;

beforeAll(async () => {
  t = await createTestApp();
  shopId = await addMemoryChannel(t.app, shop);
  wooId = await addMemoryChannel(t.app, woo);
});
afterAll(async () => {
  await t?.close();
});

describe('listings sync', () => {
  it("imports a channel's listings, creates SKUs, and links order lines that named an unknown SKU", async () => {
    const [orderResult] = await saveOrders(t.app.db, shopId, [order({ externalId: 'U-1', lines: [line({ sku: 'SKU-00001' })] })]);
    const flagged = await t.app.db.selectFrom('orders').select('flags').where('id', '=', orderResult!.orderId!).executeTakeFirstOrThrow();
    expect(flagged.flags).toContain('unknown_sku');

    for (let i = 0; i < N; i++) {
      const sku = `SKU-${String(i).padStart(5, '0')}`;
      shop.stock.set(sku, 0);
      woo.stock.set(sku, 0);
    }
    const report = await syncListings(t.app, shopId);
    expect(report).toMatchObject({ listings: N, skusCreated: N, linked: N, orderLinesLinked: 1 });
    expect((await syncListings(t.app, wooId))).toMatchObject({ listings: N, skusCreated: 0, linked: N });
    expect((await syncListings(t.app, wooId))).toMatchObject({ listings: N, skusCreated: 0, linked: 0 });
    const after = await t.app.db.selectFrom('orders').select('flags').where('id', '=', orderResult!.orderId!).executeTakeFirstOrThrow();
    expect(after.flags).not.toContain('unknown_sku');
  });
});

describe('reconciliation', () => {
  it('corrects exactly the planted drift on both channels and records it', async () => {
    const db = t.app.db;
    const main = await ensureLocation(db, 'MAIN');
    // Ledger: SKU i has (i % 7) units, reserved 1 where i % 5 == 0 and stock allows.
    const skus = await db.selectFrom('skus').select(['id', 'sku']).where('sku', 'like', 'SKU-%').orderBy('sku').execute();
    const movements = skus.flatMap((s, i) => {
      // Every SKU has stock in channelsync (an opening balance of 0 where it has none): only initialised SKUs are reconciled.
      const m = [{ sku_id: s.id, location_id: main, on_hand_delta: i % 7, reserved_delta: 0, reason: (i % 7 ? 'receipt' : 'opening_balance') as MovementReason, reference: 'po:seed' }];
      if (i % 5 === 0 && i % 7 > 0) m.push({ sku_id: s.id, location_id: main, on_hand_delta: 0, reserved_delta: 1, reason: 'reservation', reference: `order:${i}` });
      return m;
    });
    for (let i = 0; i < movements.length; i += 5000) await db.insertInto('stock_movements').values(movements.slice(i, i + 5000)).execute();
    const expectedOf = (i: number) => (i % 7) - (i % 5 === 0 && i % 7 > 0 ? 1 : 0);
    // The channels show the truth (the pushes these movements owed have been made)...
    await db.updateTable('channel_pushes').set({ status: 'done' }).where('kind', '=', 'stock').execute();
    skus.forEach((s, i) => {
      shop.stock.set(s.sku, expectedOf(i));
      woo.stock.set(s.sku, expectedOf(i));
    });
    // ...except where drift is planted: a few oversold, a few undersold, one untracked.
    const planted = new Map<string, Set<string>>([['recon-shop', new Set()], ['recon-woo', new Set()]]);
    for (let i = 3; i < N; i += 97) {
      shop.stock.set(skus[i]!.sku, expectedOf(i) + 3);
      planted.get('recon-shop')!.add(skus[i]!.sku);
    }
    for (let i = 11; i < N; i += 131) {
      woo.stock.set(skus[i]!.sku, i % 2 ? 0 : 99);
      if (expectedOf(i) !== woo.stock.get(skus[i]!.sku)) planted.get('recon-woo')!.add(skus[i]!.sku);
    }
    woo.stock.set(skus[1]!.sku, null);
    planted.get('recon-woo')!.add(skus[1]!.sku);

    const progress: number[] = [];
    const report = await reconcile(t.app, { slot: 'test-1', chunkSize: 500, onProgress: (p) => progress.push(p.read), catchUp: (id) => syncOrders(t.app, id) });
    expect(report.skipped).toBe(false);
    const byChannel = new Map(report.channels.map((c) => [c.channelId, c]));
    expect(byChannel.get(shopId)).toMatchObject({ listings: N, drift: planted.get('recon-shop')!.size, corrected: planted.get('recon-shop')!.size, failed: 0 });
    expect(byChannel.get(wooId)).toMatchObject({ listings: N, drift: planted.get('recon-woo')!.size, corrected: planted.get('recon-woo')!.size, failed: 0 });
    expect(Math.max(...progress)).toBe(N);

    // Every channel now shows the ledger's number.
    skus.forEach((s, i) => {
      expect(shop.stock.get(s.sku), s.sku).toBe(expectedOf(i));
      expect(woo.stock.get(s.sku), s.sku).toBe(expectedOf(i));
    });
    const drift = await driftReport(db, { limit: 10_000 });
    for (const [channel, set] of planted) {
      const found = drift.filter((d) => d.channel === channel);
      expect(new Set(found.map((d) => d.sku))).toEqual(set);
      expect(found.every((d) => d.correctedAt !== null && d.slot === 'test-1')).toBe(true);
    }
    const untracked = drift.find((d) => d.sku === skus[1]!.sku && d.channel === 'recon-woo');
    expect(untracked).toMatchObject({ found: null, expected: expectedOf(1) });

    // A finished slot does not run again; the next slot finds nothing left.
    expect((await reconcile(t.app, { slot: 'test-1' })).skipped).toBe(true);
    const second = await reconcile(t.app, { slot: 'test-2', catchUp: (id) => syncOrders(t.app, id) });
    expect(second.channels.map((c) => c.drift)).toEqual([0, 0]);
  });
});
