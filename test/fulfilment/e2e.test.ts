/**
 * End to end against the Shopify and WooCommerce simulators: orders pulled
 * from both stores, fulfilled in auto mode by the workers, shipments pushed
 * back with tracking, stock pushed to every store; a crash between "shipped"
 * and "pushed"; a cancel on one store giving the stock back to the other.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { deleteKeys } from '../helpers/services.ts';
import { connectorFactory } from '../../connectors/index.ts';
import type { ChannelSimulator } from '../../connectors/types.ts';
import { addChannel } from '../../src/db/channels.ts';
import { syncListings } from '../../src/stock/listings.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/workers.ts';
import type { JobDefinition } from '../../src/queue/job.ts';
import { syncOrders } from '../../jobs/sync-orders.ts';
import { fulfilmentJob } from '../../jobs/fulfilment.ts';
import { channelPushJob, runPush } from '../../jobs/channel-push.ts';
import { JOBS } from '../../jobs/index.ts';
import { sweep } from '../../jobs/sweeper.ts';
import { allocateOrder } from '../../src/fulfilment/allocate.ts';
import { ledgerMismatches, location, stock } from './fixtures.ts';

/**
 * Orders per store. The 200 in all (E2E_ORDERS_PER_STORE=100) takes
 * about 20 s alone but over a minute beside the whole suite on two cores, so
 * the suite runs 100 in all.
 */
const PER_STORE = Number(process.env.E2E_ORDERS_PER_STORE ?? 50);
const SKUS = ['E2E-MUG', 'E2E-TEE', 'E2E-CAP', 'E2E-BAG'];

interface Store {
  kind: string;
  sim: ChannelSimulator;
  channelId: number;
}

let t: TestApp;
const stores: Store[] = [];
let workers: WorkerSet | null = null;

beforeAll(async () => {
  t = await createTestApp({ FULFILMENT_MODE: 'auto', CARRIER: 'simulated', SIMULATED_DELIVERY_SECONDS: '3600', WORKER_CONCURRENCY: '8' });
  const { app } = t;
  for (const kind of ['shopify', 'woocommerce']) {
    const sim = await connectorFactory(kind).simulate({ orders: 0, rateLimit: { restoreRate: 1000, bucketSize: 2000 }, log: pino({ level: 'silent' }) });
    for (const [i, sku] of SKUS.entries()) await sim.createProduct({ sku, title: sku, price: `${10 + i}.00`, stock: 1000 });
    const { settings, credentials } = sim.channelConfig();
    const channelId = await addChannel(app.db, app.config.secretKey!, { kind, name: `e2e-${kind}`, settings, credentials });
    await syncListings(app, channelId);
    stores.push({ kind, sim, channelId });
  }
  // Two warehouses: MUG and TEE in the main one, CAP and BAG only in the second, so mixed orders split.
  const main = await location(app, 'E2E-MAIN', 1);
  const second = await location(app, 'E2E-SECOND', 2);
  const id = async (sku: string) => (await app.db.selectFrom('skus').select('id').where('sku', '=', sku).executeTakeFirstOrThrow()).id;
  await stock(app, await id('E2E-MUG'), main, 1000);
  await stock(app, await id('E2E-TEE'), main, 1000);
  await stock(app, await id('E2E-CAP'), second, 1000);
  await stock(app, await id('E2E-BAG'), second, 1000);
}, 60_000);

// A failed test must not leave its workers running into the next one.
afterEach(async () => stop());
afterAll(async () => {
  await workers?.close(5_000);
  await Promise.all(stores.map((s) => s.sim.close()));
  await t?.close();
});

function run(definitions: JobDefinition[]): void {
  workers = startWorkers(t.app, definitions, 8);
}
async function stop(): Promise<void> {
  await workers?.close(5_000);
  workers = null;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const pendingPushes = async (kind?: 'fulfillment' | 'stock') => {
  let q = t.app.db.selectFrom('channel_pushes').select(sql<number>`count(*)::int`.as('n')).where('status', '!=', 'done');
  if (kind) q = q.where('kind', '=', kind);
  return (await q.executeTakeFirstOrThrow()).n;
};

/** What the ledger says each store should show for a SKU (the stock module's one definition). */
async function expectedOnStore(channelId: number, sku: string): Promise<number> {
  const row = await t.app.db.selectFrom('channel_stock_expected').select('expected').where('channel_id', '=', channelId).where('sku', '=', sku).executeTakeFirstOrThrow();
  return row.expected;
}

async function orderOf(store: Store, externalId: string) {
  return t.app.db.selectFrom('orders').select(['id', 'state']).where('channel_id', '=', store.channelId).where('external_id', '=', externalId).executeTakeFirstOrThrow();
}

async function shipmentsOf(orderId: number) {
  return t.app.db
    .selectFrom('shipments')
    .innerJoin('fulfillments', 'fulfillments.id', 'shipments.fulfillment_id')
    .select(['shipments.id', 'carrier', 'tracking_number', 'tracking_url'])
    .where('fulfillments.order_id', '=', orderId)
    .orderBy('shipments.id')
    .execute();
}

describe('end to end over Shopify and WooCommerce simulators, auto mode', () => {
  it(`${PER_STORE * 2} orders reach shipped, each store shows one fulfilment per shipment, and store stock equals the ledger`, async () => {
    const { app } = t;
    const placed: Array<{ store: Store; externalId: string }> = [];
    for (const store of stores) {
      for (let i = 0; i < PER_STORE; i++) {
        const lines = i % 3 === 0 ? [{ sku: 'E2E-MUG', quantity: 1 }, { sku: 'E2E-CAP', quantity: 2 }] : [{ sku: SKUS[i % SKUS.length]!, quantity: 1 + (i % 2) }];
        const { externalId } = await store.sim.createOrder({ lines });
        placed.push({ store, externalId });
      }
    }
    run([fulfilmentJob, channelPushJob]);
    for (const store of stores) {
      const report = await syncOrders(app, store.channelId);
      expect(report.inserted).toBe(PER_STORE);
    }

    await until('every order shipped and every push delivered', async () => {
      const open = await app.db.selectFrom('orders').select(sql<number>`count(*)::int`.as('n')).where('state', '!=', 'shipped').executeTakeFirstOrThrow();
      return open.n === 0 && (await pendingPushes()) === 0;
    });

    let splitOrders = 0;
    for (const { store, externalId } of placed) {
      const order = await orderOf(store, externalId);
      const shipments = await shipmentsOf(order.id);
      if (shipments.length > 1) splitOrders += 1;
      const onStore = await store.sim.fulfillments(externalId);
      expect(onStore).toHaveLength(shipments.length);
      expect(onStore.map((f) => f.trackingNumber).sort()).toEqual(shipments.map((s) => s.tracking_number).sort());
      for (const f of onStore) expect(f.trackingUrl).toContain(f.trackingNumber!);
    }
    expect(splitOrders).toBe(2 * Math.ceil(PER_STORE / 3));

    // A push whose write is still on its way may land after the rows read done; give it a moment.
    const mismatches = async () => {
      const wrong: string[] = [];
      for (const store of stores) {
        for (const sku of SKUS) {
          const [shown, expected] = [await store.sim.stockOf(sku), await expectedOnStore(store.channelId, sku)];
          if (shown !== expected) wrong.push(`${store.sim.kind} ${sku}: shows ${shown}, ledger says ${expected}`);
        }
      }
      return wrong;
    };
    await until('store stock to equal the ledger', async () => (await mismatches()).length === 0 && (await pendingPushes()) === 0, 10_000).catch(
      async () => expect(await mismatches()).toEqual([]),
    );
    expect(await mismatches()).toEqual([]);
    expect(await ledgerMismatches(app)).toEqual([]);
  }, 150_000);

  it('a worker killed between "shipped" and "pushed" pushes once after restart', async () => {
    const { app } = t;
    const orders: Array<{ store: Store; externalId: string }> = [];
    for (const store of stores) orders.push({ store, externalId: (await store.sim.createOrder({ lines: [{ sku: 'E2E-TEE', quantity: 1 }] })).externalId });
    // Only fulfilment runs: the orders ship, and the pushes wait as rows and jobs.
    run([fulfilmentJob]);
    for (const store of stores) await syncOrders(app, store.channelId);
    await until('both orders shipped', async () => {
      for (const o of orders) if ((await orderOf(o.store, o.externalId)).state !== 'shipped') return false;
      return true;
    });
    await stop();
    const pushes = await app.db.selectFrom('channel_pushes').selectAll().where('kind', '=', 'fulfillment').where('status', '=', 'pending').execute();
    expect(pushes).toHaveLength(2);

    // The worst moment to die: the channel accepted the push, the process died before recording it.
    for (const p of pushes) await runPush(app, { pushId: p.id });
    await app.db.updateTable('channel_pushes').set({ status: 'pending', completed_at: null }).where('id', 'in', pushes.map((p) => p.id)).execute();
    // And Redis lost the jobs with the process.
    await deleteKeys(`${app.config.queuePrefix}*`);

    run([fulfilmentJob, channelPushJob]);
    const report = await sweep(app, JOBS, new Date(Date.now() + 3_600_000));
    expect(report.requeued['channel-push']).toBeGreaterThanOrEqual(2);
    await until('the pushes done again', async () => (await pendingPushes('fulfillment')) === 0);
    for (const { store, externalId } of orders) {
      const shipments = await shipmentsOf((await orderOf(store, externalId)).id);
      const onStore = await store.sim.fulfillments(externalId);
      expect(onStore).toHaveLength(1);
      expect(onStore[0]!.trackingNumber).toBe(shipments[0]!.tracking_number);
    }
    await stop();
  }, 60_000);

  it('cancelling on one store before shipping releases the stock, and the other store sees it again', async () => {
    const { app } = t;
    const [shopify, woo] = [stores.find((s) => s.kind === 'shopify')!, stores.find((s) => s.kind === 'woocommerce')!];
    // Pushes run; fulfilment steps do not, so the order stays allocated until we cancel it.
    run([channelPushJob]);
    const { externalId } = await shopify.sim.createOrder({ lines: [{ sku: 'E2E-BAG', quantity: 3 }] });
    await syncOrders(app, shopify.channelId);
    const order = await orderOf(shopify, externalId);
    expect((await allocateOrder(app, order.id, { actor: 'test' })).outcome).toBe('allocated');
    await until('stores show the reservation', async () => (await pendingPushes('stock')) === 0);
    const reserved = await woo.sim.stockOf('E2E-BAG');
    expect(reserved).toBe(await expectedOnStore(woo.channelId, 'E2E-BAG'));

    await shopify.sim.cancelOrder(externalId);
    await syncOrders(app, shopify.channelId);
    expect((await allocateOrder(app, order.id, { actor: 'test' })).outcome).toBe('cancelled');
    await until('stores see the stock again', async () => (await pendingPushes('stock')) === 0 && (await woo.sim.stockOf('E2E-BAG')) === reserved! + 3);
    expect(await woo.sim.stockOf('E2E-BAG')).toBe(await expectedOnStore(woo.channelId, 'E2E-BAG'));
    expect(await shipmentsOf(order.id)).toEqual([]);
    expect(await ledgerMismatches(app)).toEqual([]);
    await stop();
  }, 60_000);
});
