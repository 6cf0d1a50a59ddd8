import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { deleteKeys } from '../helpers/services.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/workers.ts';
import { fulfilmentJob } from '../../jobs/fulfilment.ts';
import { ordersChanged } from '../../src/fulfilment/steps.ts';
import { JOBS } from '../../jobs/index.ts';
import { sweep } from '../../jobs/sweeper.ts';
import { ledgerMismatches, channel, location, placeOrder, sku, stock, changeOnChannel } from './fixtures.ts';

let t: TestApp;
let workers: WorkerSet;
beforeAll(async () => {
  t = await createTestApp({ FULFILMENT_MODE: 'auto', CARRIER: 'simulated', SIMULATED_DELIVERY_SECONDS: '1' });
  // Only the fulfilment queue runs here: channel pushes stay pending rows (the e2e test delivers them).
  workers = startWorkers(t.app, [fulfilmentJob], 4);
});
afterAll(async () => {
  await workers?.close(5_000);
  await t?.close();
});

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 25_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function states(app: TestApp['app'], ids: number[]): Promise<string[]> {
  const rows = await app.db.selectFrom('orders').select('state').where('id', 'in', ids).execute();
  return rows.map((r) => r.state);
}

describe('FULFILMENT_MODE=auto', () => {
  it('runs new orders through allocate, pick, pack, ship and delivery by jobs, owing one push per shipment', async () => {
    const { app } = t;
    const ch = await channel(app, 'auto');
    const east = await location(app, 'AUTO-E', 1);
    const west = await location(app, 'AUTO-W', 2);
    const a = await sku(app, 'AUTO-A');
    const b = await sku(app, 'AUTO-B');
    await stock(app, a, east, 100);
    await stock(app, b, west, 100);
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) ids.push(await placeOrder(app, ch, i % 4 === 0 ? [['AUTO-A', 1], ['AUTO-B', 2]] : [['AUTO-A', 1]]));
    await ordersChanged(app, ids.map((orderId) => ({ orderId, outcome: 'inserted' as const })));

    await until('every order delivered', async () => (await states(app, ids)).every((s) => s === 'delivered'));
    const shipments = await app.db
      .selectFrom('shipments')
      .innerJoin('fulfillments', 'fulfillments.id', 'shipments.fulfillment_id')
      .select(['shipments.id', 'carrier', 'tracking_number', 'delivered_at'])
      .where('fulfillments.order_id', 'in', ids)
      .execute();
    expect(shipments).toHaveLength(25); // 5 split orders ship twice
    for (const s of shipments) {
      expect(s.delivered_at).not.toBeNull();
      if (s.carrier === 'UPS') expect(s.tracking_number).toMatch(/^1Z[0-9A-Z]{16}$/);
      if (s.carrier === 'USPS') expect(s.tracking_number).toMatch(/^9400\d{18}$/);
      if (s.carrier === 'DHL') expect(s.tracking_number).toMatch(/^\d{10}$/);
    }
    const pushes = await app.db.selectFrom('channel_pushes').select('target').where('channel_id', '=', ch).where('kind', '=', 'fulfillment').execute();
    expect(pushes.map((p) => Number(p.target)).sort((x, y) => x - y)).toEqual(shipments.map((s) => s.id).sort((x, y) => x - y));
    expect(await ledgerMismatches(app)).toEqual([]);
  });

  it('after Redis loses every job, the sweeper finds the unfinished steps in Postgres and they finish', async () => {
    const { app } = t;
    const ch = await channel(app, 'lost');
    const loc = await location(app, 'LOST', 1);
    const c = await sku(app, 'LOST-C');
    await stock(app, c, loc, 100);
    // Orders saved while Redis was unreachable: no allocate job was ever enqueued.
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) ids.push(await placeOrder(app, ch, [['LOST-C', 1]]));
    // And one cancelled on the channel after allocation, whose job is lost too.
    const cancelled = await placeOrder(app, ch, [['LOST-C', 3]]);
    await ordersChanged(app, [{ orderId: cancelled, outcome: 'inserted' }]);
    await until('the cancel candidate to ship or allocate', async () => (await states(app, [cancelled]))[0] !== 'received');
    await workers.close(5_000);
    await deleteKeys(`${app.config.queuePrefix}*`);
    await changeOnChannel(app, cancelled, { cancel: true });

    const report = await sweep(app, JOBS, new Date(Date.now() + 60_000));
    expect(report.requeued.fulfilment).toBeGreaterThanOrEqual(7);
    workers = startWorkers(app, [fulfilmentJob], 4);
    await until('the swept orders delivered', async () => (await states(app, ids)).every((s) => s === 'delivered'));
    const [after] = await states(app, [cancelled]);
    // Either the cancel came before the shipment (cancelled) or after it (a person must look).
    expect(['cancelled', 'needs_attention']).toContain(after);
    expect(await ledgerMismatches(app)).toEqual([]);
  });
});
