/**
 * The operations path in a real browser (playwright-core driving Debian's
 * Chromium at /usr/bin/chromium, headless): log in, find in the queue UI a
 * push that failed while the channel was failing, click Retry, see the job
 * complete and the tracking arrive on the channel; then see the dashboard
 * chart with data. Screenshots go to test-artifacts/browser/.
 *
 * The channel is a registered connector's simulator (Shopify, or BROWSER_TEST_CHANNEL) with
 * faults switched on; with no simulator registered, the in-process fake channel.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, launchChromium } from '../helpers/browser.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { order } from '../helpers/orders.ts';
import { buildServer } from '../../src/server/index.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/workers.ts';
import { addChannel } from '../../src/db/channels.ts';
import { pushJobId } from '../../src/outbox/index.ts';
import { JOBS } from '../../jobs/index.ts';
import { connectorFactories } from '../../connectors/index.ts';
import type { ChannelSimulator } from '../../connectors/types.ts';
import { FAKE_KIND, addFakeChannel } from '../server/fake-channel.ts';
import { eventually, shipOrder } from '../server/seed.ts';

const TOKEN = 'browser-test-token-0123456789abcdef';

interface ChannelUnderTest {
  kind: string;
  channelId: number;
  externalId: string;
  setFailing(failing: boolean): void;
  /** Tracking numbers the channel has for the order. */
  tracking(): Promise<string[]>;
  close(): Promise<void>;
}

async function simulatedChannel(t: TestApp): Promise<ChannelUnderTest> {
  const factories = [...connectorFactories.values()].filter((f) => f.kind !== FAKE_KIND);
  const factory = factories.find((f) => f.kind === (process.env.BROWSER_TEST_CHANNEL ?? 'shopify')) ?? factories[0];
  if (factory) {
    const sim: ChannelSimulator = await factory.simulate({});
    const channelId = await addChannel(t.app.db, t.app.config.secretKey!, { kind: factory.kind, name: `browser-${factory.kind}`, ...sim.channelConfig() });
    await sim.createProduct({ sku: 'MUG-BLUE', title: 'Blue Mug', price: '12.50', stock: 10 });
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'MUG-BLUE', quantity: 1 }], email: 'ada@example.com' });
    return {
      kind: factory.kind,
      channelId,
      externalId,
      setFailing: (failing) => sim.setFaults(failing ? { errorRate: 1 } : {}),
      tracking: async () => (await sim.fulfillments(externalId)).map((f) => f.trackingNumber ?? '').filter(Boolean),
      close: () => sim.close(),
    };
  }
  const fake = await addFakeChannel(t.app, 'browser-fake');
  fake.state.orders = [order({ externalId: 'F1001', placedAt: new Date(), updatedAt: new Date() })];
  return {
    kind: FAKE_KIND,
    channelId: fake.channelId,
    externalId: 'F1001',
    setFailing: (failing) => void (fake.state.failing = failing),
    tracking: async () => fake.state.fulfillments.map((f) => f.trackingNumber),
    close: async () => {},
  };
}

describe('operations in the browser', () => {
  let t: TestApp;
  let server: FastifyInstance;
  let workers: WorkerSet;
  let browser: Browser | undefined;
  let channel: ChannelUnderTest | undefined;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp({ ADMIN_TOKEN: TOKEN, JOB_ATTEMPTS: '1' });
    server = await buildServer(t.app);
    await server.listen({ port: 0, host: '127.0.0.1' });
    const address = server.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    workers = startWorkers(t.app, JOBS, 4);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await workers?.close(2_000);
    await channel?.close();
    await server?.close();
    await t?.close();
  });

  it('logs in, retries a failed push from the queue UI, and shows the dashboard chart', async () => {
    channel = await simulatedChannel(t);
    const sync = t.app.queues.get('sync-orders');
    await sync.add('sync', { channelId: channel.channelId });
    const synced = await eventually(
      () => t.app.db.selectFrom('orders').select(['id']).where('channel_id', '=', channel!.channelId).where('external_id', '=', channel!.externalId).executeTakeFirst(),
      'the order to be pulled from the channel',
    );

    // The channel fails while we tell it about the shipment: the push fails for good (JOB_ATTEMPTS=1).
    channel.setFailing(true);
    const shipped = await shipOrder(t.app, synced.id, { trackingNumber: `BT${Date.now()}` });
    const trackingNumber = (await t.app.db.selectFrom('shipments').select('tracking_number').where('id', '=', shipped.shipmentId).executeTakeFirstOrThrow()).tracking_number;
    await eventually(
      async () => (await t.app.db.selectFrom('channel_pushes').select('status').where('id', '=', shipped.pushId).executeTakeFirst())?.status === 'failed',
      'the push to fail while the channel is failing',
      40_000,
    );
    channel.setFailing(false);
    const jobId = pushJobId({ kind: 'fulfillment', channel_id: channel.channelId, target: String(shipped.shipmentId) });
    expect(await (await t.app.queues.get('channel-push').getJob(jobId))?.getState()).toBe('failed');

    const page: Page = await browser!.newPage();
    page.setDefaultTimeout(15_000);
    try {
      await inBrowser(page, jobId, shipped, trackingNumber);
    } catch (err) {
      await page.screenshot({ path: join(ARTIFACTS, 'failure.png'), fullPage: true }).catch(() => {});
      throw err;
    } finally {
      await page.close();
    }
  }, 60_000);

  async function inBrowser(page: Page, jobId: string, shipped: { pushId: number }, trackingNumber: string): Promise<void> {

    // Not logged in: the login form, never the queue UI.
    const denied = await page.goto(`${base}/admin/queues/queue/channel-push?status=failed`);
    expect(denied?.status()).toBe(401);
    await page.screenshot({ path: join(ARTIFACTS, '1-login.png') });
    await page.fill('input[name="token"]', TOKEN);
    await Promise.all([page.waitForURL(/\/admin\/queues\/queue\/channel-push/), page.click('button[type="submit"]')]);

    // The failed push with its error and stack trace.
    await page.getByText(jobId).first().waitFor();
    const { last_error: lastError } = await t.app.db.selectFrom('channel_pushes').select('last_error').where('id', '=', shipped.pushId).executeTakeFirstOrThrow();
    expect(lastError).toMatch(/\b5\d\d\b/);
    await page.getByText(lastError!.slice(0, 30)).first().waitFor();
    await page.screenshot({ path: join(ARTIFACTS, '2-failed-push.png'), fullPage: true });

    // The job card's own Retry (an icon button), not the queue's "Retry all".
    const card = page
      .locator('div')
      .filter({ has: page.getByText(jobId, { exact: true }) })
      .filter({ has: page.locator('button:has(svg.lucide-refresh-cw)') })
      .last();
    await card.locator('button:has(svg.lucide-refresh-cw)').filter({ hasNotText: /retry all/i }).first().click();
    const confirm = page.getByRole('button', { name: 'Confirm', exact: true });
    if (await confirm.isVisible({ timeout: 2_000 }).catch(() => false)) await confirm.click();

    await eventually(async () => (await (await t.app.queues.get('channel-push').getJob(jobId))?.getState()) === 'completed', 'the retried job to complete');
    const push = await t.app.db.selectFrom('channel_pushes').select(['status', 'last_error']).where('id', '=', shipped.pushId).executeTakeFirstOrThrow();
    expect(push).toEqual({ status: 'done', last_error: null });
    expect(await channel!.tracking()).toContain(trackingNumber);

    await page.goto(`${base}/admin/queues/queue/channel-push?status=completed`);
    await page.getByText(jobId).first().waitFor();
    await page.screenshot({ path: join(ARTIFACTS, '3-completed.png'), fullPage: true });

    // The dashboard: a chart of orders per hour with this order in it.
    await page.goto(`${base}/admin`);
    const chart = page.locator('svg#orders-per-hour');
    await chart.waitFor();
    expect(Number(await chart.getAttribute('data-total'))).toBeGreaterThan(0);
    expect(await chart.locator('polyline').count()).toBeGreaterThan(0);
    expect(await chart.locator('circle').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, '4-dashboard.png'), fullPage: true });
  }
});
