/**
 * Stock pushes to a channel that writes stock through an asynchronous job
 * (Amazon's JSON_LISTINGS_FEED, on its simulator): a large batch goes as one
 * feed, the push rows stay pending until the processing report is read, then
 * each ends as the report says for its SKU.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pino } from 'pino';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/workers.ts';
import { channelPushJob, runPush } from '../../jobs/channel-push.ts';
import { ensureLocation, movementFor, recordMovements } from '../../src/stock/ledger.ts';
import { kickStockPushes } from '../../src/outbox/index.ts';
import { addChannel } from '../../src/db/channels.ts';
import { requireSecretKey } from '../../src/config.ts';
import { startAmazonSimulator, type AmazonSimulator } from '../../connectors/amazon/simulator/index.ts';
import { FEED_THRESHOLD } from '../../connectors/amazon/stock.ts';

let t: TestApp;
let sim: AmazonSimulator;
let channelId: number;
let location: number;
let workers: WorkerSet | null = null;

beforeAll(async () => {
  t = await createTestApp();
  sim = await startAmazonSimulator({ log: pino({ level: 'silent' }), feedDelayMs: 100, limits: { createFeed: { rate: 100, burst: 100 } } });
  const { settings, credentials } = sim.channelConfig();
  channelId = await addChannel(t.app.db, requireSecretKey(t.app.config), { kind: 'amazon', name: 'amazon-feeds', settings, credentials });
  location = await ensureLocation(t.app.db, 'MAIN');
}, 60_000);
afterAll(async () => {
  await workers?.close(5_000);
  await t?.close();
  await sim?.close();
});

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SKUs in channelsync with `qty` on hand, listed on Amazon (when `onAmazon`) showing 0. */
async function listed(prefix: string, count: number, qty: number, onAmazon = true): Promise<Array<{ id: number; sku: string }>> {
  const out = [];
  for (let i = 0; i < count; i++) {
    const sku = `${prefix}-${i}`;
    if (onAmazon) await sim.createProduct({ sku, title: sku, price: '5.00', stock: 0 });
    const { id } = await t.app.db.insertInto('skus').values({ sku }).returning('id').executeTakeFirstOrThrow();
    await t.app.db.insertInto('channel_listings').values({ channel_id: channelId, sku_id: id, variant_external_id: 'PRODUCT', last_pushed_available: 0 }).execute();
    await recordMovements(t.app.db, [movementFor.receipt(id, location, qty, `po:${sku}`)]);
    out.push({ id, sku });
  }
  return out;
}

it('sends a large batch as one feed and completes each push as the processing report says', async () => {
  const good = await listed('FEED', FEED_THRESHOLD + 9, 7);
  const missing = await listed('GONE', 1, 3, false);
  const all = [...good, ...missing];
  await kickStockPushes(t.app, all.map((s) => s.id));
  const rows = await t.app.db.selectFrom('channel_pushes').select(['id', 'target']).where('channel_id', '=', channelId).execute();
  expect(rows).toHaveLength(all.length);

  // Without a worker: the first push submits the feed and stays pending (it waits for the report).
  const first = rows.find((r) => r.target === 'FEED-0')!;
  await expect(runPush(t.app, { pushId: first.id })).rejects.toThrow(/submitted in bulk/);
  expect(sim.feeds()).toHaveLength(1);
  const pending = await t.app.db.selectFrom('channel_pushes').select('status').where('channel_id', '=', channelId).execute();
  expect(pending.every((p) => p.status === 'pending')).toBe(true);

  // The jobs the change enqueued run now: the submitting push asks how the feed ended, the others wait for it.
  workers = startWorkers(t.app, [channelPushJob], 4);
  await until('every push settled', async () => {
    const now = await t.app.db.selectFrom('channel_pushes').select('status').where('channel_id', '=', channelId).execute();
    return now.every((p) => p.status !== 'pending');
  });
  const settled = await t.app.db.selectFrom('channel_pushes').select(['target', 'status', 'last_error']).where('channel_id', '=', channelId).execute();
  expect(settled.filter((p) => p.status === 'done').map((p) => p.target).sort()).toEqual(good.map((g) => g.sku).sort());
  expect(settled.find((p) => p.target === 'GONE-0')).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/No listing with SKU GONE-0/) });
  for (const g of good) expect(await sim.stockOf(g.sku)).toBe(7);
  // One feed carried them all: no per-SKU patches.
  expect(sim.feeds()).toHaveLength(1);
  expect(sim.server.calls.filter((c) => c.op === 'patchListingsItem')).toHaveLength(0);
}, 60_000);
