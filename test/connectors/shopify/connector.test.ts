/**
 * The Shopify connector against the Shopify simulator (real Admin schema,
 * real cost rules, HTTPS with its own CA) and real Redis for the shared
 * cost budget and token cache.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { RedisRateBudget, RedisSharedKV } from '../../../src/queue/shared-state.ts';
import { WebhookRejectedError } from '../../../src/domain/errors.ts';
import type { UnifiedOrder } from '../../../src/domain/order.ts';
import type { ChannelSimulator, OrderPage } from '../../../connectors/types.ts';
import { shopifyFactory, type ShopifyConnector } from '../../../connectors/shopify/index.ts';
import type { ShopifySimulator } from '../../../connectors/shopify/simulator/index.ts';

const PREFIX = `cs-test-shopify-connector-${randomBytes(4).toString('hex')}`;
const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const log = pino({ level: 'silent' });
let sim: ChannelSimulator;
const connectors: ShopifyConnector[] = [];

/** A connector as a daemon process would build it; `budgetPrefix` decides who shares the bucket. */
function connector(budgetPrefix = PREFIX, overrides: { settings?: object; credentials?: object } = {}): ShopifyConnector {
  const config = sim.channelConfig();
  const settings = shopifyFactory.settingsSchema.parse({ ...config.settings, ...overrides.settings });
  const credentials = shopifyFactory.credentialsSchema.parse({ ...config.credentials, ...overrides.credentials });
  const c = shopifyFactory.create({
    channel: { id: 1, kind: 'shopify', name: 'sim', settings, credentials },
    budget: new RedisRateBudget(redis, budgetPrefix),
    kv: new RedisSharedKV(redis, budgetPrefix),
    log,
  }) as ShopifyConnector;
  connectors.push(c);
  return c;
}

async function pullAll(c: ShopifyConnector, cursor: string | null): Promise<OrderPage[]> {
  const pages: OrderPage[] = [];
  for await (const page of c.pullOrders(cursor)) pages.push(page);
  return pages;
}

const SKUS = Array.from({ length: 12 }, (_, i) => `CS-SKU-${i + 1}`);

beforeAll(async () => {
  // Webhooks go to a receiver on http://127.0.0.1, which real Shopify refuses.
  sim = await shopifyFactory.simulate({ orders: 0, rateLimit: { restoreRate: 500, bucketSize: 1000 }, allowLocalWebhooks: true, log });
  for (const [i, sku] of SKUS.entries()) {
    await sim.createProduct({ sku, title: `Product ${i + 1}`, price: `${10 + i}.50`, stock: 500 });
  }
}, 30_000);

afterAll(async () => {
  for (const c of connectors) await c.close();
  await sim?.close();
  const keys = await redis.keys(`${PREFIX}*`);
  const others = await redis.keys(`cs-test-shopify-rogue-${PREFIX}*`);
  if (keys.length + others.length) await redis.del(...keys, ...others);
  redis.disconnect();
});

describe('pullOrders', () => {
  it('reads every order over several pages in updatedAt order, then resumes from the cursor with the overlap', async () => {
    const created: string[] = [];
    for (let i = 0; i < 30; i++) {
      created.push((await sim.createOrder({ lines: [{ sku: SKUS[i % 3]!, quantity: 1 + (i % 2) }], email: `buyer${i}@example.com` })).externalId);
    }
    const c = connector();
    const pages = await pullAll(c, null);
    const orders = pages.flatMap((p) => p.orders);
    expect(pages.length).toBeGreaterThan(1);
    for (const id of created) expect(orders.map((o) => o.externalId)).toContain(id);
    const times = orders.map((o) => o.updatedAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));

    const first = orders.find((o) => o.externalId === created[0])!;
    expect(first.lines).toHaveLength(1);
    expect(first.lines[0]).toMatchObject({ sku: SKUS[0], quantity: 1, unitPrice: '10.50' });
    expect(first.customer?.email).toBe('buyer0@example.com');
    expect(first.totals.subtotal).toBe('10.50');
    expect(first.lines[0]!.inventoryItemExternalId).toMatch(/^gid:\/\/shopify\/InventoryItem\//);

    // A later change is picked up from the stored cursor; orders changed within
    // the overlap window before it are read again (upserts make that harmless).
    const cursor = pages.at(-1)!.cursor;
    await new Promise((r) => setTimeout(r, 1100));
    await sim.cancelOrder(created[5]!);
    const again = (await pullAll(c, cursor)).flatMap((p) => p.orders);
    const cancelled = again.find((o) => o.externalId === created[5]);
    expect(cancelled?.channelState).toBe('cancelled');
    expect(cancelled?.cancelledAt).toBeInstanceOf(Date);
    expect(again.length).toBeGreaterThan(1);
  }, 30_000);

  it('reads an order with more line items than one page in full', async () => {
    const { externalId } = await sim.createOrder({ lines: SKUS.map((sku, i) => ({ sku, quantity: i + 1 })) });
    const c = connector();
    const fetched = await c.fetchOrder(externalId);
    expect(fetched?.lines.map((l) => [l.sku, l.quantity])).toEqual(SKUS.map((sku, i) => [sku, i + 1]));
    const pulled = (await pullAll(c, null)).flatMap((p) => p.orders).find((o) => o.externalId === externalId);
    expect(pulled?.lines).toHaveLength(12);
    expect(await c.fetchOrder('gid://shopify/Order/999999999')).toBeNull();
  }, 30_000);

  it('two processes sharing the Redis budget are never throttled; one outside it is, and still finishes', async () => {
    // Only these orders: a pull from initialSince reads ~40 x 20 points.
    const settings = { initialSince: new Date(Date.now() - 1000).toISOString() };
    for (let i = 0; i < 40; i++) await sim.createOrder({ lines: [{ sku: SKUS[i % 5]!, quantity: 1 }] });
    // A fresh shared bucket starts full: let the shop's bucket refill too
    // (1000 points at 500/s) so both views agree before the race.
    await new Promise((r) => setTimeout(r, 2100));
    const shared = `${PREFIX}-shared`;
    const a = connector(shared, { settings });
    const b = connector(shared, { settings });
    const [pa, pb] = await Promise.all([pullAll(a, null), pullAll(b, null)]);
    expect(pa.flatMap((p) => p.orders).length).toBe(40);
    expect(pb.flatMap((p) => p.orders).length).toBe(40);
    expect(a.client.stats.throttled + b.client.stats.throttled).toBe(0);

    // A process with its own idea of the bucket overdraws it: Shopify says
    // THROTTLED, the client waits for the refill and no error surfaces.
    const rogue = connector(`cs-test-shopify-rogue-${PREFIX}`, { settings });
    const c = connector(`${PREFIX}-other`, { settings });
    const [pr, pc] = await Promise.all([pullAll(rogue, null), pullAll(c, null)]);
    expect(pr.flatMap((p) => p.orders).length).toBe(pc.flatMap((p) => p.orders).length);
    expect(rogue.client.stats.throttled + c.client.stats.throttled).toBeGreaterThan(0);
  }, 30_000);
});

describe('cost budget', () => {
  it("a fresh daemon spends a 2,000-point bucket from its first answer on, not the 1,000 it assumed before it", async () => {
    // Shopify's standard plan as the real store answered in the captures; 1 point/s so the bucket
    // cannot refill during the test: whatever it holds is what the first answer reported.
    const shop = (await shopifyFactory.simulate({ orders: 0, rateLimit: { restoreRate: 1, bucketSize: 2000 }, log })) as ShopifySimulator;
    const prefix = `${PREFIX}-fresh`;
    const budget = new RedisRateBudget(redis, prefix);
    const config = shop.channelConfig();
    const c = shopifyFactory.create({
      channel: { id: 2, kind: 'shopify', name: 'fresh', settings: shopifyFactory.settingsSchema.parse(config.settings), credentials: shopifyFactory.credentialsSchema.parse(config.credentials) },
      budget,
      kv: new RedisSharedKV(redis, prefix),
      log,
    }) as ShopifyConnector;
    connectors.push(c);
    try {
      await c.verify();
      const limits = await c.client.currentLimits();
      expect(limits).toEqual({ capacity: 2000, refillPerSecond: 1 });
      // Another process of the daemon asks for 1,500 points of the same shop: Shopify holds
      // 1,999, so the shared bucket lets it go now (it held 999 and made it wait 8 minutes).
      const url = new URL(c.client.endpoint);
      const reservation = await budget.reserve(`shopify:${url.host}`, 1500, limits);
      expect(reservation.waitMs).toBe(0);
    } finally {
      await shop.close();
    }
  }, 30_000);
});

describe('pushFulfillment', () => {
  it('pushing the same shipment twice leaves one fulfillment with company, number and URL', async () => {
    const { externalId } = await sim.createOrder({ lines: [{ sku: SKUS[0]!, quantity: 2 }, { sku: SKUS[1]!, quantity: 1 }] });
    const c = connector();
    const order = (await c.fetchOrder(externalId)) as UnifiedOrder;
    const push = {
      orderExternalId: externalId,
      shipmentId: 1,
      lines: order.lines.map((l) => ({ lineExternalId: l.externalId, sku: l.sku, quantity: l.quantity })),
      carrier: 'UPS',
      service: null,
      trackingNumber: '1Z999AA10123456784',
      trackingUrl: 'https://www.ups.com/track?tracknum=1Z999AA10123456784',
      notifyCustomer: false,
      completesOrder: true,
    };
    const shop = sim as ShopifySimulator;
    const logged = shop.requestLog.length;
    const first = await c.pushFulfillment(push);
    const second = await c.pushFulfillment(push);
    // The state read is sized to the shipment's 2 lines: the bucket must hold its requested
    // cost before Shopify runs it (a read sized for 50 lines requested 583 points).
    const reads = shop.requestLog.slice(logged).filter((r) => r.operationName === 'ChannelsyncOrderFulfillmentState');
    expect(reads).toHaveLength(2);
    for (const r of reads) expect(r.requestedCost).toBeLessThan(100);
    expect(first.alreadyDone).toBe(false);
    expect(first.externalRef).toMatch(/^gid:\/\/shopify\/Fulfillment\//);
    expect(second).toEqual({ externalRef: first.externalRef, alreadyDone: true });
    const fulfillments = await sim.fulfillments(externalId);
    expect(fulfillments).toHaveLength(1);
    expect(fulfillments[0]).toMatchObject({
      trackingCompany: 'UPS',
      trackingNumber: '1Z999AA10123456784',
      trackingUrl: 'https://www.ups.com/track?tracknum=1Z999AA10123456784',
    });
    expect((await c.fetchOrder(externalId))?.fulfillmentStatus).toBe('fulfilled');
  }, 30_000);

  it('ships part of a large order, then the rest, each line once, though the small state read sees only some lines', async () => {
    const { externalId } = await sim.createOrder({ lines: SKUS.map((sku) => ({ sku, quantity: 2 })) });
    const c = connector();
    const order = (await c.fetchOrder(externalId)) as UnifiedOrder;
    const shipment = (shipmentId: number, lines: UnifiedOrder['lines'], trackingNumber: string) => ({
      orderExternalId: externalId,
      shipmentId,
      lines: lines.map((l) => ({ lineExternalId: l.externalId, sku: l.sku, quantity: l.quantity })),
      carrier: 'UPS',
      service: null,
      trackingNumber,
      trackingUrl: null,
      notifyCustomer: false,
      completesOrder: shipmentId === 2,
    });
    // The last line only: a read sized to one line sees the fulfillment order's first line.
    const last = shipment(1, order.lines.slice(-1), 'PART-1');
    expect((await c.pushFulfillment(last)).alreadyDone).toBe(false);
    expect(await c.pushFulfillment(last)).toMatchObject({ alreadyDone: true });
    const rest = shipment(2, order.lines.slice(0, -1), 'PART-2');
    expect((await c.pushFulfillment(rest)).alreadyDone).toBe(false);
    expect(await c.pushFulfillment(rest)).toMatchObject({ alreadyDone: true });
    const fulfillments = await sim.fulfillments(externalId);
    expect(fulfillments.map((f) => f.trackingNumber).sort()).toEqual(['PART-1', 'PART-2']);
    expect((await c.fetchOrder(externalId))?.fulfillmentStatus).toBe('fulfilled');
  }, 30_000);

  it('a cancelled order is a permanent failure with a clear message', async () => {
    const { externalId } = await sim.createOrder({ lines: [{ sku: SKUS[2]!, quantity: 1 }] });
    await sim.cancelOrder(externalId);
    const c = connector();
    const order = (await c.fetchOrder(externalId)) as UnifiedOrder;
    await expect(
      c.pushFulfillment({
        orderExternalId: externalId,
        shipmentId: 2,
        lines: order.lines.map((l) => ({ lineExternalId: l.externalId, sku: l.sku, quantity: 1 })),
        carrier: 'UPS',
        service: null,
        trackingNumber: 'CANCELLED-1',
        trackingUrl: null,
        notifyCustomer: false,
        completesOrder: true,
      }),
    ).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/cancel/i) });
  }, 30_000);
});

describe('stock', () => {
  it('lists listings, reads and pushes stock at the location', async () => {
    const c = connector();
    const listings = [];
    for await (const page of c.listListings()) listings.push(...page);
    const mine = listings.filter((l) => SKUS.includes(l.sku));
    expect(mine).toHaveLength(SKUS.length);
    expect(mine[0]!.inventoryItemExternalId).toMatch(/^gid:\/\/shopify\/InventoryItem\//);

    const target = mine.find((l) => l.sku === SKUS[7])!;
    await sim.setStock(SKUS[7]!, 40);
    expect(await c.readStock([target])).toEqual([{ sku: SKUS[7], available: 40 }]);

    const results = await c.pushStock([
      { listing: target, available: 17, intent: 'test:push:1' },
      { listing: { ...target, sku: 'NO-SUCH-SKU', inventoryItemExternalId: null }, available: 3, intent: 'test:push:1' },
    ]);
    expect(results[0]).toEqual({ sku: SKUS[7], ok: true });
    expect(results[1]).toMatchObject({ sku: 'NO-SUCH-SKU', ok: false });
    expect(await sim.stockOf(SKUS[7]!)).toBe(17);
    expect(await c.readStock([target])).toEqual([{ sku: SKUS[7], available: 17 }]);
    // Same level again: nothing to change, still ok.
    expect(await c.pushStock([{ listing: target, available: 17, intent: 'test:push:2' }])).toEqual([{ sku: SKUS[7], ok: true }]);
  }, 30_000);
});

describe('webhooks', () => {
  it('verifies the simulator-signed delivery and rejects a tampered one with 401; registering twice creates nothing new', async () => {
    const deliveries: Array<{ body: Buffer; headers: Record<string, string | undefined> }> = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        deliveries.push({ body: Buffer.concat(chunks), headers: req.headers as Record<string, string | undefined> });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/1`;
    try {
      const c = connector();
      const ids = await c.registerWebhooks(url);
      expect(ids).toHaveLength(3);
      expect(await c.registerWebhooks(url)).toEqual(ids);

      sim.setWebhookUrl(url);
      const { externalId } = await sim.createOrder({ lines: [{ sku: SKUS[3]!, quantity: 1 }] });
      const deadline = Date.now() + 5000;
      while (!deliveries.some((d) => d.headers['x-shopify-topic'] === 'orders/create') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const delivery = deliveries.find((d) => d.headers['x-shopify-topic'] === 'orders/create')!;
      expect(delivery).toBeDefined();
      const parsed = c.parseWebhook({ rawBody: delivery.body, headers: delivery.headers });
      expect(parsed.deliveryKey).toBe(delivery.headers['x-shopify-webhook-id']);
      expect(parsed.event.type === 'order' && parsed.event.order.externalId).toBe(externalId);

      const tampered = Buffer.from(delivery.body.toString('utf8').replace(/"quantity":1/, '"quantity":9'));
      expect(() => c.parseWebhook({ rawBody: tampered, headers: delivery.headers })).toThrow(WebhookRejectedError);
      try {
        c.parseWebhook({ rawBody: tampered, headers: delivery.headers });
      } catch (err) {
        expect((err as WebhookRejectedError).status).toBe(401);
      }
    } finally {
      sim.setWebhookUrl(null);
      server.close();
    }
  }, 30_000);
});

describe('backfill', () => {
  it('streams every order of a bulk export with progress, lines attached', async () => {
    const c = connector();
    const progress: Array<{ done: number; total: number | null }> = [];
    const orders: UnifiedOrder[] = [];
    for await (const batch of c.backfill(new Date(0), (p) => progress.push(p))) orders.push(...batch);
    const pulled = (await pullAll(c, null)).flatMap((p) => p.orders);
    expect(new Set(orders.map((o) => o.externalId))).toEqual(new Set(pulled.map((o) => o.externalId)));
    const big = orders.find((o) => o.lines.length === 12);
    expect(big?.lines.map((l) => l.quantity)).toEqual(SKUS.map((_, i) => i + 1));
    expect(progress.at(-1)).toEqual({ done: orders.length, total: orders.length });
  }, 30_000);
});
