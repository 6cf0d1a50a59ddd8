import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createApp, type App } from '../../src/app.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/workers.ts';
import { reconcileStockJob } from '../../jobs/reconcile-stock.ts';
import { startReconcileSchedule, slotOf, type ReconcileSchedule } from '../../src/stock/schedule.ts';
import { reconcile } from '../../src/stock/reconcile.ts';
import { loadConfig } from '../../src/config.ts';
import { MemoryChannel, addMemoryChannel } from './memory-channel.ts';
import { ensureLocation, movementFor, recordMovements } from '../../src/stock/ledger.ts';

let t: TestApp;
let second: App;
const shop = new MemoryChannel('cron-shop');

beforeAll(async () => {
  t = await createTestApp();
  second = await createApp(t.app.config, { log: pino({ level: 'silent' }), migrate: false });
  const channelId = await addMemoryChannel(t.app, shop);
  // The second daemon talks to the same channel.
  const record = { id: channelId, kind: 'memory', name: 'cron-shop', settings: {}, credentials: {} };
  second.connectors.get = async () => ({ channel: record, connector: shop });
  const { id } = await t.app.db.insertInto('skus').values({ sku: 'CRON-1' }).returning('id').executeTakeFirstOrThrow();
  await t.app.db.insertInto('channel_listings').values({ channel_id: channelId, sku_id: id }).execute();
  // Stock channelsync knows (0): a SKU without any movement would not be reconciled at all.
  await recordMovements(t.app.db, [movementFor.openingBalance(id, await ensureLocation(t.app.db, 'MAIN'), 0, 'test')]);
  shop.stock.set('CRON-1', 0);
  // The store shows it: the push that movement owed has been made.
  await t.app.db.updateTable('channel_pushes').set({ status: 'done' }).execute();
});
afterAll(async () => {
  await second?.close();
  await t?.close();
});

describe('reconciliation schedule', () => {
  it('runs once per slot however many daemons fire it', async () => {
    const daemons: Array<{ workers: WorkerSet; schedule: ReconcileSchedule }> = [t.app, second].map((app) => ({
      workers: startWorkers(app, [reconcileStockJob], 2),
      // Every second, so a few slots pass within the test.
      schedule: startReconcileSchedule(app, '* * * * * *'),
    }));
    await new Promise((r) => setTimeout(r, 4_200));
    for (const d of daemons) await d.schedule.stop();
    await new Promise((r) => setTimeout(r, 800));
    for (const d of daemons) await d.workers.close(5_000);

    const runs = await t.app.db.selectFrom('reconcile_runs').selectAll().orderBy('slot').execute();
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(runs.every((r) => r.finished_at !== null && r.listings === 1)).toBe(true);
    // Each slot read the channel once: not once per daemon.
    expect(shop.readCalls).toBe(runs.length);
    const completed = await t.app.queues.get('reconcile-stock').getJobs(['completed']);
    expect(completed.map((j) => j.id).sort()).toEqual(runs.map((r) => `reconcile.${encodeURIComponent(r.slot).replace(/\./g, '%2E')}`).sort());
    expect(completed.every((j) => (j.returnvalue as { skipped: boolean }).skipped === false)).toBe(true);
  });

  it('skips a channel that an earlier slot is still reconciling, in another daemon or the same one', async () => {
    shop.latencyMs = 600;
    shop.stock.set('CRON-1', 5);
    const reads = shop.readCalls;
    try {
      const long = reconcile(t.app, { slot: 'long-1' });
      await new Promise((r) => setTimeout(r, 200));
      const elsewhere = await reconcile(second, { slot: 'next-1' });
      const here = await reconcile(t.app, { slot: 'next-2' });
      const first = await long;
      for (const next of [elsewhere, here]) {
        expect(next.skipped).toBe(false);
        expect(next.channels).toEqual([expect.objectContaining({ listings: 0, drift: 0, skipped: 'an earlier reconciliation of this channel is still running' })]);
      }
      // The long run read once and corrected the drift; the skipped slots read nothing.
      expect(first.channels).toEqual([expect.objectContaining({ listings: 1, drift: 1, corrected: 1 })]);
      expect(first.channels[0]!.skipped).toBeUndefined();
      expect(shop.readCalls - reads).toBe(1);
      expect(shop.stock.get('CRON-1')).toBe(0);
      // The lock is released: the next slot reads again.
      expect((await reconcile(second, { slot: 'next-3' })).channels[0]).toMatchObject({ listings: 1, drift: 0 });
    } finally {
      shop.latencyMs = 0;
    }
  });

  it('names a slot by its scheduled second', () => {
    expect(slotOf(new Date('2026-11-01T10:15:00.000Z'))).toBe('2026-11-01T10:15:00Z');
  });

  it('refuses a bad RECONCILE_CRON with one clear line', () => {
    expect(() => loadConfig({ RECONCILE_CRON: 'every 15 minutes' })).toThrow(/^RECONCILE_CRON must be a cron expression/);
    expect(loadConfig({}).reconcileCron).toBe('*/15 * * * *');
  });
});
