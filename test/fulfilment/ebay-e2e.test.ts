/**
 * eBay end to end, auto mode, against the simulator: an order is pulled,
 * allocated, shipped and its package created on eBay once; then the push runs
 * again through the real push job, as after a crash between eBay's answer and
 * the row's "done" (the process died, the row stayed pending), and eBay still
 * has one shipping fulfilment, found by reading the order's fulfilments first.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { pino } from 'pino';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/workers.ts';
import { syncOrders } from '../../jobs/sync-orders.ts';
import { fulfilmentJob } from '../../jobs/fulfilment.ts';
import { channelPushJob, runPush } from '../../jobs/channel-push.ts';
import { startEbaySimulator, type EbaySimulator } from '../../connectors/ebay/simulator/index.ts';
import { simulatedChannel, until } from './fixtures.ts';

let t: TestApp;
let sim: EbaySimulator;
let channelId: number;
let workers: WorkerSet | null = null;

beforeAll(async () => {
  t = await createTestApp({ FULFILMENT_MODE: 'auto', CARRIER: 'simulated', SIMULATED_DELIVERY_SECONDS: '3600' });
  sim = await startEbaySimulator({ log: pino({ level: 'silent' }) });
  channelId = await simulatedChannel(t.app, sim, 'ebay', 'EE');
}, 60_000);
afterAll(async () => {
  await workers?.close(5_000);
  await sim?.close();
  await t?.close();
});


const pushes = () => t.app.db.selectFrom('channel_pushes').select(['id', 'status', 'external_ref']).where('channel_id', '=', channelId).where('kind', '=', 'fulfillment').execute();

it('ships an eBay order once, and a push run twice still leaves one shipping fulfilment on eBay', async () => {
  const order = await sim.createOrder({ lines: [{ sku: 'EE-MUG', quantity: 2 }] });
  workers = startWorkers(t.app, [fulfilmentJob, channelPushJob], 4);
  const report = await syncOrders(t.app, channelId);
  expect(report.inserted).toBe(1);

  await until('the push done', async () => (await pushes()).some((p) => p.status === 'done'));
  const [push] = await pushes();
  const shipment = await t.app.db.selectFrom('shipments').select(['carrier', 'tracking_number']).executeTakeFirstOrThrow();
  const onEbay = await sim.fulfillments(order.externalId);
  expect(onEbay).toHaveLength(1);
  expect(onEbay[0]).toMatchObject({ trackingNumber: shipment.tracking_number.replace(/[^A-Za-z0-9]/g, ''), trackingUrl: null, lineItems: [{ sku: 'EE-MUG', quantity: 2 }] });

  // The process died after eBay created the package but before the row said done: the row is pending
  // again and the job runs again (the sweeper's re-enqueue, or BullMQ's retry of a stalled job).
  await t.app.db.updateTable('channel_pushes').set({ status: 'pending', updated_at: sql`now()` }).where('id', '=', push!.id).execute();
  const again = await runPush(t.app, { pushId: push!.id });
  expect(again.outcome).toBe('done');
  expect(await sim.fulfillments(order.externalId)).toHaveLength(1);
  expect((await pushes())[0]).toMatchObject({ status: 'done', external_ref: push!.external_ref });
  // It read the order's fulfilments and created nothing: one createShippingFulfillment in all.
  expect(sim.exchanges.filter((e) => e.method === 'POST' && /\/shipping_fulfillment$/.test(e.path))).toHaveLength(1);
  // And eBay shows the order fulfilled.
  const pulled = await syncOrders(t.app, channelId);
  expect(pulled.rejected).toBe(0);
  const row = await t.app.db.selectFrom('orders').select('fulfillment_status').where('channel_id', '=', channelId).executeTakeFirstOrThrow();
  expect(row.fulfillment_status).toBe('fulfilled');
}, 120_000);
