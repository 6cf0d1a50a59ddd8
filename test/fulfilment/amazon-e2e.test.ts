/**
 * Amazon end to end, auto mode, against the simulator: an MFN order is pulled,
 * allocated, shipped and confirmed on Amazon once; an FBA order is recorded
 * and never allocated, shipped or confirmed; a Pending order waits without
 * holding stock until Amazon says its payment is authorised.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pino } from 'pino';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/workers.ts';
import { syncOrders } from '../../jobs/sync-orders.ts';
import { fulfilmentJob } from '../../jobs/fulfilment.ts';
import { channelPushJob } from '../../jobs/channel-push.ts';
import { startAmazonSimulator, type AmazonSimulator } from '../../connectors/amazon/simulator/index.ts';
import { simulatedChannel, until } from './fixtures.ts';

let t: TestApp;
let sim: AmazonSimulator;
let channelId: number;
let workers: WorkerSet | null = null;

beforeAll(async () => {
  t = await createTestApp({ FULFILMENT_MODE: 'auto', CARRIER: 'simulated', SIMULATED_DELIVERY_SECONDS: '3600' });
  sim = await startAmazonSimulator({ log: pino({ level: 'silent' }) });
  channelId = await simulatedChannel(t.app, sim, 'amazon', 'AE');
}, 60_000);
afterAll(async () => {
  await workers?.close(5_000);
  await sim?.close();
  await t?.close();
});


const orderOf = (externalId: string) =>
  t.app.db.selectFrom('orders').select(['id', 'state', 'financial_status']).where('channel_id', '=', channelId).where('external_id', '=', externalId).executeTakeFirstOrThrow();
const fulfilmentsOf = (orderId: number) => t.app.db.selectFrom('fulfillments').select(['id', 'state']).where('order_id', '=', orderId).execute();
const reserved = async () =>
  (await t.app.db.selectFrom('stock_levels').innerJoin('skus', 'skus.id', 'stock_levels.sku_id').select((eb) => eb.fn.sum<number>('reserved').as('r')).where('skus.sku', '=', 'AE-MUG').executeTakeFirst())?.r ?? 0;

it('ships MFN orders once, never touches FBA orders, and waits for Pending ones', async () => {
  const mfn = await sim.createOrder({ lines: [{ sku: 'AE-MUG', quantity: 2 }] });
  const fba = await sim.createOrder({ lines: [{ sku: 'AE-MUG', quantity: 3 }], fulfillmentChannel: 'AFN' });
  const pending = await sim.createOrder({ lines: [{ sku: 'AE-MUG', quantity: 1 }], paid: false });
  workers = startWorkers(t.app, [fulfilmentJob, channelPushJob], 4);
  const report = await syncOrders(t.app, channelId);
  expect(report.inserted).toBe(3);

  await until('the MFN shipment confirmed on Amazon', async () => (await sim.fulfillments(mfn.externalId)).length === 1);
  const confirmed = await sim.fulfillments(mfn.externalId);
  expect(confirmed[0]).toMatchObject({ trackingNumber: expect.any(String), lineItems: [{ sku: 'AE-MUG', quantity: 2 }] });
  await until('the push done', async () => (await t.app.db.selectFrom('channel_pushes').select('status').where('kind', '=', 'fulfillment').execute()).every((p) => p.status === 'done'));

  const fbaOrder = await orderOf(fba.externalId);
  expect(await fulfilmentsOf(fbaOrder.id)).toEqual([]);
  expect(await sim.fulfillments(fba.externalId)).toEqual([]);
  expect(sim.server.calls.filter((c) => c.op === 'confirmShipment')).toHaveLength(1);

  const pendingOrder = await orderOf(pending.externalId);
  expect(pendingOrder.financial_status).toBe('pending');
  expect(await fulfilmentsOf(pendingOrder.id)).toEqual([]);
  expect(Number(await reserved())).toBe(0);

  // Payment authorised on Amazon: the next pull sees Unshipped, and it ships too.
  await sim.authorizePayment(pending.externalId);
  await syncOrders(t.app, channelId);
  await until('the formerly Pending order confirmed', async () => (await sim.fulfillments(pending.externalId)).length === 1);
  expect(await fulfilmentsOf(fbaOrder.id)).toEqual([]);
}, 120_000);
