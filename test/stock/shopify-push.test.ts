/**
 * Stock pushes to the Shopify simulator through the real path (ledger change,
 * `kickStockPushes`, the channel-push job, the Shopify connector) and
 * reconciliation: a level set before is set again, and a store too busy to
 * set now is retried later rather than given up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { startShopifySimulator, type ShopifySimulator } from '../../connectors/shopify/simulator/index.ts';
import { addChannel } from '../../src/db/channels.ts';
import { requireSecretKey } from '../../src/config.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/workers.ts';
import { channelPushJob } from '../../jobs/channel-push.ts';
import { ensureLocation, movementFor, recordMovements } from '../../src/stock/ledger.ts';
import { kickStockPushes } from '../../src/outbox/index.ts';
import { syncListings } from '../../src/stock/listings.ts';
import { reconcile } from '../../src/stock/reconcile.ts';

let t: TestApp;
let sim: ShopifySimulator;
let workers: WorkerSet;
let channelId: number;
let location: number;

beforeAll(async () => {
  t = await createTestApp();
  location = await ensureLocation(t.app.db, 'MAIN');
  sim = await startShopifySimulator({ products: 0, log: pino({ level: 'silent' }), rateLimit: { restoreRate: 1_000_000, bucketSize: 1_000_000 } });
  for (const sku of ['FLIP-1', 'BUSY-1', 'DRIFT-1']) await sim.createProduct({ sku, title: sku, price: '10.00', stock: 5 });
  const { settings, credentials } = sim.channelConfig();
  channelId = await addChannel(t.app.db, requireSecretKey(t.app.config), { kind: 'shopify', name: 'sim-shopify', settings, credentials });
  await syncListings(t.app, channelId);
  workers = startWorkers(t.app, [channelPushJob], 2);
}, 30_000);
afterAll(async () => {
  await workers?.close(5_000);
  await t?.close();
  await sim?.close();
});

async function skuWithStock(sku: string, qty: number): Promise<number> {
  const { id } = await t.app.db.selectFrom('skus').select('id').where('sku', '=', sku).executeTakeFirstOrThrow();
  await recordMovements(t.app.db, [movementFor.receipt(id, location, qty, `po:${sku}`)]);
  // The receipt owes Shopify a push (of what it shows already): let it run, so each test starts settled.
  await kickStockPushes(t.app, [id]);
  await until(`${sku} settled`, async () => (await pushOf(sku)).status === 'done');
  return id;
}

const pushOf = (sku: string) =>
  t.app.db.selectFrom('channel_pushes').select(['status', 'attempts', 'last_error']).where('channel_id', '=', channelId).where('target', '=', sku).executeTakeFirstOrThrow();

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('stock pushes to Shopify', () => {
  it('sets a level it set before again: 5 -> 3 -> 5 -> 3 ends with Shopify showing 3', async () => {
    const id = await skuWithStock('FLIP-1', 5);
    const steps = [movementFor.reservation(id, location, 2, 'order:flip-1'), movementFor.release(id, location, 2, 'order:flip-1'), movementFor.reservation(id, location, 2, 'order:flip-2')];
    const shown: number[] = [];
    for (const step of steps) {
      await recordMovements(t.app.db, [step]);
      await kickStockPushes(t.app, [id]);
      await until('push done', async () => (await pushOf('FLIP-1')).status === 'done');
      shown.push((await sim.stockOf('FLIP-1'))!);
    }
    // The third change sends the first one's numbers again (3, changing from 5): a key built from
    // the numbers alone was answered from Shopify's memory of the first, and nothing was set.
    expect(shown).toEqual([3, 5, 3]);
  }, 30_000);

  it('retries a SKU that keeps changing on Shopify while it is set, and sets it once the store settles', async () => {
    const id = await skuWithStock('BUSY-1', 5);
    const settled = (await pushOf('BUSY-1')).attempts;
    sim.keepChangingStock('BUSY-1', true);
    await recordMovements(t.app.db, [movementFor.reservation(id, location, 2, 'order:busy-1')]);
    await kickStockPushes(t.app, [id]);
    await until('first attempt over', async () => (await pushOf('BUSY-1')).last_error !== null);
    // Given up for good would be 'failed' (and no later attempt); a retry keeps it pending.
    const first = await pushOf('BUSY-1');
    expect(first).toMatchObject({ status: 'pending', attempts: settled + 1 });
    expect(first.last_error).toContain('kept changing on Shopify');

    sim.keepChangingStock('BUSY-1', false);
    await until('retried and done', async () => (await pushOf('BUSY-1')).status === 'done');
    expect((await pushOf('BUSY-1')).attempts).toBeGreaterThanOrEqual(settled + 2);
    expect(await sim.stockOf('BUSY-1')).toBe(3);
  }, 30_000);

  it('keeps a correction Shopify said to retry later as uncorrected drift, and makes it at the next run', async () => {
    const id = await skuWithStock('DRIFT-1', 5);
    await sim.setStock('DRIFT-1', 9);
    sim.keepChangingStock('DRIFT-1', true);
    const first = await reconcile(t.app, { slot: 'busy-1' });
    expect(first.channels[0]).toMatchObject({ drift: 1, corrected: 0, failed: 1 });
    const drift = await t.app.db.selectFrom('stock_drift').select(['corrected_at', 'error']).where('slot', '=', 'busy-1').where('sku_id', '=', id).executeTakeFirstOrThrow();
    expect(drift.corrected_at).toBeNull();
    expect(drift.error).toMatch(/^retry later: stock kept changing on Shopify/);

    sim.keepChangingStock('DRIFT-1', false);
    const second = await reconcile(t.app, { slot: 'busy-2' });
    expect(second.channels[0]).toMatchObject({ drift: 1, corrected: 1, failed: 0 });
    expect(await sim.stockOf('DRIFT-1')).toBe(5);
  }, 30_000);
});
