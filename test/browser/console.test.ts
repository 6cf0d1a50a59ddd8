/**
 * The operations console in a real browser (playwright-core driving Debian's
 * Chromium, headless), against the Shopify simulator:
 *
 * 1. Find an order by the number the channel gave it, open it, read its
 *    timeline, retry its failed push from the order page, and see the push
 *    done and the tracking number on the channel.
 * 2. Follow the dashboard's backordered count to a backordered order, on to
 *    the purchase order it waits for, receive it from the page, and see the
 *    order ship (auto mode, simulated carrier) with its tracking on the channel.
 * 3. Cancel an unshipped order from its page (reason, confirmation box) and
 *    see it cancelled on the channel, the push done and who did it.
 *
 * Screenshots go to test-artifacts/browser/console-*.png.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, launchChromium } from '../helpers/browser.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { buildServer } from '../../src/server/index.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/workers.ts';
import { addChannel } from '../../src/db/channels.ts';
import { syncListings } from '../../src/stock/listings.ts';
import { JOBS } from '../../jobs/index.ts';
import { connectorFactory } from '../../connectors/index.ts';
import type { ChannelSimulator } from '../../connectors/types.ts';
import type { ShopifySimulator } from '../../connectors/shopify/simulator/index.ts';
import { location, stock, supplier } from '../fulfilment/fixtures.ts';
import { eventually, shipOrder } from '../server/seed.ts';

const TOKEN = 'console-browser-token-0123456789abcdef';

interface Rig {
  t: TestApp;
  server: FastifyInstance;
  workers: WorkerSet;
  sim: ChannelSimulator;
  channelId: number;
  base: string;
}

async function startRig(env: Record<string, string>, name: string): Promise<Rig> {
  const t = await createTestApp({ ADMIN_TOKEN: TOKEN, ...env });
  const server = await buildServer(t.app);
  await server.listen({ port: 0, host: '127.0.0.1' });
  const address = server.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const sim = await connectorFactory('shopify').simulate({ orders: 0, log: pino({ level: 'silent' }) });
  const channelId = await addChannel(t.app.db, t.app.config.secretKey!, { kind: 'shopify', name, ...sim.channelConfig() });
  const workers = startWorkers(t.app, JOBS, 4);
  return { t, server, workers, sim, channelId, base };
}

async function stopRig(rig: Rig | undefined): Promise<void> {
  await rig?.workers.close(2_000);
  await rig?.sim.close();
  await rig?.server.close();
  await rig?.t.close();
}

async function logIn(page: Page, base: string, path: string): Promise<void> {
  const denied = await page.goto(`${base}${path}`);
  expect(denied?.status()).toBe(401);
  await page.getByLabel('Admin token').fill(TOKEN);
  await Promise.all([page.waitForURL((url) => url.pathname === path), page.getByRole('button', { name: 'Sign in' }).click()]);
}

/** Runs the steps; on failure keeps a screenshot of where it stopped. */
async function inBrowser(browser: Browser, name: string, steps: (page: Page) => Promise<void>): Promise<void> {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  page.setDefaultTimeout(15_000);
  try {
    await steps(page);
  } catch (err) {
    await page.screenshot({ path: join(ARTIFACTS, `console-${name}-failure.png`), fullPage: true }).catch(() => {});
    throw err;
  } finally {
    await page.close();
  }
}

const shot = (page: Page, file: string) => page.screenshot({ path: join(ARTIFACTS, `console-${file}.png`), fullPage: true });

describe('the operations console in the browser', () => {
  let browser: Browser | undefined;

  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  describe('an order with a failed push', () => {
    let rig: Rig | undefined;
    beforeAll(async () => {
      rig = await startRig({ JOB_ATTEMPTS: '1' }, 'console-shopify');
    }, 60_000);
    afterAll(() => stopRig(rig));

    it('is found by its channel number, tells its story, and its push is retried from the order page', async () => {
      const { t, sim, channelId, base } = rig!;
      await sim.createProduct({ sku: 'MUG-BLUE', title: 'Blue Mug', price: '12.50', stock: 10 });
      const placed = await sim.createOrder({ lines: [{ sku: 'MUG-BLUE', quantity: 1 }], email: 'ada@example.com' });
      await t.app.queues.get('sync-orders').add('sync', { channelId });
      const synced = await eventually(
        () => t.app.db.selectFrom('orders').select(['id', 'order_number']).where('channel_id', '=', channelId).where('external_id', '=', placed.externalId).executeTakeFirst(),
        'the order to be pulled from the channel',
      );
      expect(synced.order_number).toBe(placed.orderNumber);

      // The channel fails while it is told about the shipment: the push fails for good (JOB_ATTEMPTS=1).
      sim.setFaults({ errorRate: 1 });
      const shipped = await shipOrder(t.app, synced.id, { trackingNumber: `CB${Date.now()}` });
      await eventually(
        async () => (await t.app.db.selectFrom('channel_pushes').select('status').where('id', '=', shipped.pushId).executeTakeFirst())?.status === 'failed',
        'the push to fail while the channel is failing',
        40_000,
      );
      sim.setFaults({});
      const { tracking_number: tracking } = await t.app.db.selectFrom('shipments').select('tracking_number').where('id', '=', shipped.shipmentId).executeTakeFirstOrThrow();

      await inBrowser(browser!, 'retry', async (page) => {
        await logIn(page, base, '/admin/orders');
        // The search box has the focus: type the channel's number and press Enter, no mouse. Keys sent
        // before the page gave it the focus would be lost ("#1001" arrived as "001"): wait for the focus.
        await page.locator('input[name="q"]:focus').waitFor();
        await page.keyboard.type(placed.orderNumber);
        await Promise.all([page.waitForURL(/[?&]q=/), page.keyboard.press('Enter')]);
        const rows = page.locator('table#orders tbody tr');
        expect(await rows.count()).toBe(1);
        await shot(page, '1-found');
        await Promise.all([page.waitForURL(new RegExp(`/admin/orders/${synced.id}$`)), page.getByRole('link', { name: placed.orderNumber }).click()]);

        const timeline = page.locator('#timeline');
        await expect.poll(() => timeline.innerText()).toMatch(/Placed[\s\S]*shipped[\s\S]*failed/);
        const failedRow = page.locator(`tr[data-push="${shipped.pushId}"]`);
        expect(await failedRow.innerText()).toMatch(/failed[\s\S]*\b5\d\d\b/);
        await shot(page, '2-order-failed-push');

        await Promise.all([page.waitForURL(/done=retried/), failedRow.getByRole('button', { name: 'Retry' }).click()]);
        await page.getByRole('status').filter({ hasText: 'back in the queue' }).waitFor();
        await eventually(
          async () => (await t.app.db.selectFrom('channel_pushes').select('status').where('id', '=', shipped.pushId).executeTakeFirst())?.status === 'done',
          'the retried push to be delivered',
        );
        await page.reload();
        expect(await page.locator(`tr[data-push="${shipped.pushId}"]`).innerText()).toMatch(/done/);
        expect(await page.locator('#timeline').innerText()).toMatch(/Pushed fulfillment to console-shopify/);
        expect(await page.locator('#shipments').getByRole('link', { name: tracking }).count()).toBe(1);
        await shot(page, '3-order-pushed');

        // The API docs, rendered for a person from the header's "API" link.
        await Promise.all([page.waitForURL(/\/api\/docs/), page.getByRole('link', { name: 'API', exact: true }).click()]);
        await page.locator('.swagger-ui .info').getByText('channelsync admin API').waitFor();
        await page.locator('.swagger-ui').getByText('/api/orders/{id}', { exact: true }).first().waitFor();
        await shot(page, '8-api-docs');
      });
      expect((await sim.fulfillments(placed.externalId)).map((f) => f.trackingNumber)).toContain(tracking);
    }, 90_000);
  });

  describe('an order cancelled from its page', () => {
    let rig: Rig | undefined;
    beforeAll(async () => {
      rig = await startRig({}, 'cancel-shopify');
    }, 60_000);
    afterAll(() => stopRig(rig));

    it('is cancelled here and on the channel, once, with who did it in the timeline', async () => {
      const { t, channelId, base } = rig!;
      const sim = rig!.sim as ChannelSimulator & ShopifySimulator;
      await sim.createProduct({ sku: 'MUG-GREEN', title: 'Green Mug', price: '11.00', stock: 10 });
      await syncListings(t.app, channelId);
      const mug = (await t.app.db.selectFrom('skus').select('id').where('sku', '=', 'MUG-GREEN').executeTakeFirstOrThrow()).id;
      const shelf = await location(t.app, 'GREEN', 1);
      await stock(t.app, mug, shelf, 4);
      const reserved = async () => (await t.app.db.selectFrom('stock_levels').select('reserved').where('sku_id', '=', mug).where('location_id', '=', shelf).executeTakeFirstOrThrow()).reserved;
      const placed = await sim.createOrder({ lines: [{ sku: 'MUG-GREEN', quantity: 1 }], email: 'alan@example.com' });
      await t.app.queues.get('sync-orders').add('sync', { channelId });
      const synced = await eventually(
        () => t.app.db.selectFrom('orders').select('id').where('channel_id', '=', channelId).where('external_id', '=', placed.externalId).where('state', '=', 'allocated').executeTakeFirst(),
        'the order to be pulled from the channel and allocated',
        30_000,
      );
      expect(await reserved()).toBe(1);
      const onChannel = () => sim.state.orders.get(Number(placed.externalId.split('/').pop()))!;
      expect(onChannel().cancelledAt).toBeNull();

      await inBrowser(browser!, 'cancel', async (page) => {
        await logIn(page, base, `/admin/orders/${synced.id}`);
        const form = page.locator('#cancel-form');
        await form.getByLabel(/^Reason/).fill('customer changed their mind');
        // Without the box ticked the browser does not send the form (the server refuses it too: test/server/console.test.ts).
        const confirm = form.getByLabel(/Yes, cancel it here and on cancel-shopify/);
        expect(await form.locator('input[name="confirm"]:invalid').count()).toBe(1);
        await confirm.check();
        await shot(page, '9-cancel-form');
        await Promise.all([page.waitForURL(/done=cancelled/), form.getByRole('button', { name: 'Cancel order' }).click()]);
        await page.getByRole('status').filter({ hasText: 'Cancelled' }).waitFor();
        expect(await page.locator('h1').innerText()).toMatch(/cancelled/);
        expect(await page.locator('#timeline').innerText()).toMatch(/→ cancelled \(cancelled in channelsync: customer changed their mind\) by admin/);

        await eventually(async () => onChannel().cancelledAt !== null, 'the order to be cancelled on the channel');
        const push = await t.app.db.selectFrom('channel_pushes').select('id').where('channel_id', '=', channelId).where('kind', '=', 'cancel').executeTakeFirstOrThrow();
        await eventually(
          async () => (await t.app.db.selectFrom('channel_pushes').select('status').where('id', '=', push.id).executeTakeFirst())?.status === 'done',
          'the cancel push to be recorded done',
        );
        await page.reload();
        expect(await page.locator(`tr[data-push="${push.id}"]`).innerText()).toMatch(/cancel[\s\S]*done/);
        expect(await page.locator('#timeline').innerText()).toMatch(/Pushed cancel to cancel-shopify/);
        expect(await page.locator('#fulfilments').innerText()).toMatch(/cancelled/);
        expect(await page.locator('#cancel-form').count()).toBe(0);
        await shot(page, '10-cancelled');
      });
      expect(await t.app.db.selectFrom('channel_pushes').select('id').where('channel_id', '=', channelId).where('kind', '=', 'cancel').execute()).toHaveLength(1);
      expect(await reserved()).toBe(0);
    }, 90_000);
  });

  describe('a backordered order', () => {
    let rig: Rig | undefined;
    beforeAll(async () => {
      rig = await startRig({ FULFILMENT_MODE: 'auto', CARRIER: 'simulated', SIMULATED_DELIVERY_SECONDS: '3600' }, 'backorder-shopify');
    }, 60_000);
    afterAll(() => stopRig(rig));

    it('waits for its purchase order, which is received from the page, and then ships', async () => {
      const { t, sim, channelId, base } = rig!;
      const { app } = t;
      await sim.createProduct({ sku: 'MUG-RED', title: 'Red Mug', price: '14.00', stock: 5 });
      await syncListings(app, channelId);
      const mug = (await app.db.selectFrom('skus').select('id').where('sku', '=', 'MUG-RED').executeTakeFirstOrThrow()).id;
      const sup = await supplier(app, 'Red Mugs Ltd', { leadTimeDays: 5 });
      await app.db.updateTable('skus').set({ supplier_id: sup }).where('id', '=', mug).execute();
      const main = await location(app, 'MAIN', 1);
      // Counted, and sold out: the ledger knows the SKU and has none.
      await stock(app, mug, main, 1);
      await stock(app, mug, main, -1);

      const placed = await sim.createOrder({ lines: [{ sku: 'MUG-RED', quantity: 2 }], email: 'grace@example.com' });
      await app.queues.get('sync-orders').add('sync', { channelId });
      const order = await eventually(
        () => app.db.selectFrom('orders').select(['id', 'state']).where('channel_id', '=', channelId).where('external_id', '=', placed.externalId).where('state', '=', 'backordered').executeTakeFirst(),
        'the order to be pulled and backordered',
        30_000,
      );
      const po = await app.db.selectFrom('purchase_orders').select('id').where('status', '=', 'draft').executeTakeFirstOrThrow();

      await inBrowser(browser!, 'backorder', async (page) => {
        await logIn(page, base, '/admin');
        await Promise.all([page.waitForURL(/state=backordered/), page.locator('#backordered').getByRole('link', { name: '1' }).click()]);
        await shot(page, '4-backordered-list');
        await Promise.all([page.waitForURL(new RegExp(`/admin/orders/${order.id}$`)), page.getByRole('link', { name: placed.orderNumber }).click()]);
        expect(await page.locator('#fulfilments').innerText()).toMatch(/backordered/);
        await shot(page, '5-backordered-order');

        await Promise.all([page.waitForURL(/\/admin\/purchase-orders/), page.getByRole('link', { name: 'see purchase orders' }).click()]);
        const section = page.locator(`#po-${po.id}`);
        expect(await section.innerText()).toMatch(new RegExp(`Waiting for it:[\\s\\S]*${placed.orderNumber.replace('#', '#?')}[\\s\\S]*2 × MUG-RED`));
        await shot(page, '6-purchase-order');
        await Promise.all([page.waitForURL(/done=received/), section.getByRole('button', { name: `Receive PO ${po.id}` }).click()]);
        expect(await page.getByRole('status').innerText()).toMatch(/1 backordered fulfilment/);

        await eventually(
          async () => (await app.db.selectFrom('orders').select('state').where('id', '=', order.id).executeTakeFirst())?.state === 'shipped',
          'the order to be picked, packed and shipped by the workers',
          40_000,
        );
        await page.goto(`${base}/admin/orders/${order.id}`);
        expect(await page.locator('h1').innerText()).toMatch(/shipped/);
        const shipment = await app.db
          .selectFrom('shipments')
          .innerJoin('fulfillments', 'fulfillments.id', 'shipments.fulfillment_id')
          .select('tracking_number')
          .where('fulfillments.order_id', '=', order.id)
          .executeTakeFirstOrThrow();
        expect(await page.locator('#shipments').innerText()).toContain(shipment.tracking_number);
        await shot(page, '7-shipped');
        await eventually(async () => (await sim.fulfillments(placed.externalId)).some((f) => f.trackingNumber === shipment.tracking_number), 'the tracking to reach the channel', 30_000);
      });
    }, 120_000);
  });
});
