/**
 * The WooCommerce connector against the simulator: a full pull while orders
 * change, shipping twice, a small host that sheds load, stock by SKU, webhooks.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelListing, ConnectorContext, WebhookRequest } from '../../../connectors/types.ts';
import {
  woocommerceFactory,
  type WooCommerceCredentials,
  type WooCommerceSettings,
} from '../../../connectors/woocommerce/index.ts';
import type { WooCommerceConnector } from '../../../connectors/woocommerce/connector.ts';
import { WooRequestError } from '../../../connectors/woocommerce/client.ts';
import { startWooCommerceSimulator, type WooCommerceSimulator, type WooSimulatorOptions } from '../../../connectors/woocommerce/simulator/index.ts';
import { RedisRateBudget, RedisSharedKV } from '../../../src/queue/shared-state.ts';
import type { UnifiedOrder } from '../../../src/domain/order.ts';

const PREFIX = `test-woo-connector-${process.pid}-${Date.now()}`;
let redis: Redis;
let channelSeq = 0;
const sims: WooCommerceSimulator[] = [];
const connectors: WooCommerceConnector[] = [];

beforeAll(() => {
  redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: false, maxRetriesPerRequest: 2 });
});
afterAll(async () => {
  await Promise.all(connectors.map((c) => c.close()));
  await Promise.all(sims.map((s) => s.close()));
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

async function setup(simOptions: WooSimulatorOptions = {}, settings: Partial<WooCommerceSettings> = {}) {
  const sim = await startWooCommerceSimulator(simOptions);
  sims.push(sim);
  const config = sim.channelConfig();
  const ctx: ConnectorContext<WooCommerceSettings, WooCommerceCredentials> = {
    channel: {
      id: ++channelSeq,
      kind: 'woocommerce',
      name: 'sim',
      settings: woocommerceFactory.settingsSchema.parse({ ...config.settings, ...settings }),
      credentials: woocommerceFactory.credentialsSchema.parse(config.credentials),
    },
    budget: new RedisRateBudget(redis, PREFIX),
    kv: new RedisSharedKV(redis, PREFIX),
    log: pino({ level: 'silent' }),
  };
  const connector = woocommerceFactory.create(ctx) as WooCommerceConnector;
  connectors.push(connector);
  return { sim, connector };
}

describe('woocommerce connector vs simulator', () => {
  it('pulls 5,000 orders while a third of them change, ending with every order at its latest version', async () => {
    const { sim, connector } = await setup({ orders: 5000 });
    const ids = [...sim.state.orders.keys()];
    const seen = new Map<string, UnifiedOrder>();
    let pages = 0;
    let lastCursor: string | null = null;
    let touched = 0;
    for await (const page of connector.pullOrders(null)) {
      pages++;
      for (const o of page.orders) {
        const prev = seen.get(o.externalId);
        if (!prev || prev.updatedAt <= o.updatedAt) seen.set(o.externalId, o);
      }
      lastCursor = page.cursor;
      // A third of the shop changes during the scan: orders already read and orders not yet read.
      if (touched < 1667) {
        for (let i = 0; i < 120 && touched < 1667; i++, touched++) {
          await sim.touchOrder(String(ids[Math.floor(Math.random() * ids.length)]));
        }
      }
    }
    expect(touched).toBe(1667);
    expect(pages).toBeGreaterThan(40);
    expect(seen.size).toBe(5000);
    const stale = [...sim.state.orders.values()].filter(
      (o) => seen.get(String(o.id))?.updatedAt.getTime() !== o.modified * 1000,
    );
    expect(stale.map((o) => o.id)).toEqual([]);
    // The next pull starts near the end: only the overlap window is read again.
    expect(JSON.parse(lastCursor!)).toMatchObject({ v: 1 });
    const again: string[] = [];
    for await (const page of connector.pullOrders(lastCursor)) again.push(...page.orders.map((o) => o.externalId));
    expect(again.length).toBeLessThan(1700);
  }, 30_000);

  it('finishes a pull on a host capped at 2 concurrent requests with 20% 503s, losing nothing', async () => {
    const { sim, connector } = await setup(
      { orders: 1000, rateLimit: { maxConcurrent: 2 }, faults: { errorRate: 1 }, errorStatuses: [503] },
      { concurrency: 4 },
    );
    // The first answer is always a 503, then one in five: a pull of ~10 pages can otherwise miss every fault (0.8^10).
    const settle = setInterval(() => {
      if (sim.stats.faulted === 0) return;
      sim.setFaults({ errorRate: 0.2 });
      clearInterval(settle);
    }, 5);
    const seen = new Set<string>();
    try {
      for await (const page of connector.pullOrders(null)) for (const o of page.orders) seen.add(o.externalId);
    } finally {
      clearInterval(settle);
    }
    expect(seen.size).toBe(1000);
    expect(sim.stats.faulted + sim.stats.rejectedOverCapacity).toBeGreaterThan(0);
    expect(connector.client.currentConcurrency).toBeLessThanOrEqual(4);
  }, 30_000);

  it('reads on past a full page that holds an entry it cannot read, in every slice', async () => {
    // A full page with one unreadable entry has 99 readable orders: the scan took that for the end of the list.
    for (const concurrency of [1, 4]) {
      const { sim, connector } = await setup({ orders: 1000 }, { concurrency });
      const bad = new Set([...sim.state.orders.keys()].filter((_, i) => i % 250 === 5));
      const client = connector.client as unknown as { get: (...a: unknown[]) => Promise<{ body: unknown }> };
      const original = client.get.bind(client);
      client.get = async (...args) => {
        const res = await original(...args);
        if (args[0] === 'orders' && Array.isArray(res.body)) res.body = res.body.map((o: { id: number }) => (bad.has(o.id) ? { ...o, id: 'x' } : o));
        return res;
      };
      const seen = new Set<string>();
      const rejected: string[] = [];
      for await (const page of connector.pullOrders(null)) {
        for (const o of page.orders) seen.add(o.externalId);
        rejected.push(...(page.rejected ?? []).map((r) => r.reason));
      }
      expect(seen.size, `concurrency ${concurrency}`).toBe(1000 - bad.size);
      expect(rejected.length).toBeGreaterThan(0);
      expect(rejected.every((r) => /id: expected a whole number/.test(r))).toBe(true);
    }
  });

  it('pulls a new store from the beginning in a form WordPress accepts (no cursor, no initialSince)', async () => {
    // WordPress 6.1 refuses modified_after=1970-01-01T00:00:00 ("Invalid date."), which failed the first pull for good.
    for (const settings of [{}, { initialSince: '1970-01-01T00:00:00Z' }]) {
      const { connector } = await setup({ orders: 3 }, settings);
      const seen = new Set<string>();
      for await (const page of connector.pullOrders(null)) for (const o of page.orders) seen.add(o.externalId);
      expect(seen.size).toBe(3);
    }
  });

  it('fails for good, in WordPress\'s words, on a date the real store refuses (the recorded 400), and is not retried', async () => {
    const recorded = JSON.parse(readFileSync(new URL('../../../../shared/fixtures/woocommerce/captures/rest-v3.json', import.meta.url), 'utf8')).cases
      .ordersListBadDate.response as { status: number; body: { code: string; message: string } };
    const { sim, connector } = await setup({ orders: 1 });
    for (const value of ['yesterday', '1970-01-01T00:00:00', '2026-11-26T01:28:53+25:00']) {
      const before = sim.stats.requests;
      const err = await connector.client.get('orders', { what: 'orders list', query: { modified_after: value } }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, value).toBeInstanceOf(WooRequestError);
      expect([(err as WooRequestError).status, (err as WooRequestError).wooCode]).toEqual([recorded.status, recorded.body.code]);
      expect((err as Error).message).toBe(`WooCommerce refused orders list: ${recorded.body.message} (${recorded.body.code})`);
      expect(sim.stats.requests - before, value).toBe(1);
    }
  });

  it('resolves line items without a SKU through their product or variation', async () => {
    const { sim, connector } = await setup({ omitLineSkus: true });
    await sim.createProduct({ sku: 'MUG-1', title: 'Mug', price: '12.50', stock: 10 });
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'MUG-1', quantity: 2 }] });
    const order = await connector.fetchOrder(externalId);
    expect(order?.lines[0]).toMatchObject({ sku: 'MUG-1', quantity: 2, unitPrice: '12.50' });
    expect((order?.raw as { line_items: Array<{ sku: string }> }).line_items[0]!.sku).toBe('');
    expect(await connector.fetchOrder('999999')).toBeNull();
  });

  for (const tracking of ['none', 'shipment-tracking', 'ast'] as const) {
    it(`marks shipped twice and leaves one tracking item and one note (extension: ${tracking})`, async () => {
      const { sim, connector } = await setup({ tracking });
      await sim.createProduct({ sku: 'TEE-1', title: 'Tee', price: '20.00', stock: 5 });
      const { externalId } = await sim.createOrder({ lines: [{ sku: 'TEE-1', quantity: 1 }] });
      const push = {
        orderExternalId: externalId, shipmentId: 1, lines: [], carrier: 'DHL', service: null,
        trackingNumber: '00340434161094042557', trackingUrl: 'https://www.dhl.com/track?id=00340434161094042557',
        notifyCustomer: true, completesOrder: true,
      };
      const first = await connector.pushFulfillment(push);
      const second = await connector.pushFulfillment(push);
      expect(first.alreadyDone).toBe(false);
      expect(second).toEqual({ externalRef: first.externalRef, alreadyDone: true });
      const notes = sim.state.notesOf(Number(externalId)).filter((n) => n.note.includes(push.trackingNumber));
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatchObject({ customerNote: true });
      expect(notes[0]!.note).toContain('DHL');
      expect(notes[0]!.note).toContain(push.trackingUrl);
      expect(sim.state.trackings.get(Number(externalId)) ?? []).toHaveLength(tracking === 'none' ? 0 : 1);
      expect(sim.state.orders.get(Number(externalId))!.status).toBe('completed');
      const fulfillments = await sim.fulfillments(externalId);
      expect(fulfillments).toHaveLength(1);
      expect(fulfillments[0]).toMatchObject({ trackingNumber: push.trackingNumber });
    });
  }

  it('tells the merchant which key permission is missing', async () => {
    const { sim, connector } = await setup({ keyPermissions: 'read' });
    await sim.createProduct({ sku: 'X-1', title: 'X', price: '1.00', stock: 1 });
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'X-1', quantity: 1 }] });
    await expect(
      connector.pushFulfillment({
        orderExternalId: externalId, shipmentId: 1, lines: [], carrier: 'UPS', service: null, trackingNumber: '1Z',
        trackingUrl: null, notifyCustomer: true, completesOrder: false,
      }),
    ).rejects.toMatchObject({ code: 'WOO_AUTH', retryable: false, message: expect.stringContaining('Read/Write') });
  });

  it('shows product, variation and order line titles as text, not as the HTML WordPress stores', async () => {
    const { sim, connector } = await setup();
    await sim.createProduct({ sku: 'TEA-1', title: 'Tea – Earl Grey & Co', price: '4.00', stock: 10 });
    // What the store answers: WordPress encodes names on save.
    expect(sim.state.bySku('TEA-1')!.name).toBe('Tea – Earl Grey &amp; Co');
    const parent = sim.state.createProduct({ name: 'T-shirt "Ben & Co"', type: 'variable', attributes: [
      { name: 'Color', options: ['Blue'], variation: true }, { name: 'Size', options: ['L'], variation: true },
    ] });
    sim.state.createProduct({ sku: 'TS-BL', regular_price: '20.00', manage_stock: true, stock_quantity: 3, attributes: [
      { name: 'Color', option: 'Blue' }, { name: 'Size', option: 'L' },
    ] }, parent);

    const listings: ChannelListing[] = [];
    for await (const page of connector.listListings()) listings.push(...page);
    expect(Object.fromEntries(listings.map((l) => [l.sku, l.title]))).toEqual({
      'TEA-1': 'Tea – Earl Grey & Co',
      'TS-BL': 'T-shirt "Ben & Co" - Blue, L',
    });
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'TEA-1', quantity: 1 }, { sku: 'TS-BL', quantity: 1 }] });
    const order = await connector.fetchOrder(externalId);
    expect(order?.lines.map((l) => l.title)).toEqual(['Tea – Earl Grey & Co', 'T-shirt "Ben & Co" - Blue, L']);
  });

  it('takes refunded units off an open order\'s lines, read from its refunds', async () => {
    const { sim, connector } = await setup();
    await sim.createProduct({ sku: 'MUG-1', title: 'Mug', price: '12.50', stock: 10 });
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'MUG-1', quantity: 3 }] });
    const o = sim.state.orders.get(Number(externalId))!;
    sim.state.createRefund(o, { amount: '12.50', line_items: [{ id: o.lines[0]!.id, quantity: 1, refund_total: '12.50', restock_item: true }] });
    const order = await connector.fetchOrder(externalId);
    expect(order).toMatchObject({ financialStatus: 'partially_refunded' });
    expect(order!.lines.map((l) => [l.quantity, l.unitPrice])).toEqual([[2, '12.50']]);
  });

  it('reads and pushes stock by SKU in batches of at most 100, products and variations', async () => {
    const { sim, connector } = await setup();
    for (let i = 0; i < 150; i++) await sim.createProduct({ sku: `BULK-${i}`, title: `Bulk ${i}`, price: '1.00', stock: 1 });
    const parent = sim.state.createProduct({ name: 'Tee', type: 'variable', attributes: [{ name: 'Size', options: ['S', 'M'], variation: true }] });
    for (const size of ['S', 'M']) {
      sim.state.createProduct({ sku: `TEE-${size}`, regular_price: '20.00', manage_stock: true, stock_quantity: 1, attributes: [{ name: 'Size', option: size }] }, parent);
    }
    const skus = [...Array.from({ length: 150 }, (_, i) => `BULK-${i}`), 'TEE-S', 'TEE-M', 'NOPE-1'];
    const before = sim.stats.requests;
    const results = await connector.pushStock(
      skus.map((sku, i) => ({ listing: { sku, productExternalId: null, variantExternalId: null, inventoryItemExternalId: null }, available: i + 5, intent: 'test:bulk:1' })),
    );
    // 2 SKU lookups + 2 product batches + 1 variation batch
    expect(sim.stats.requests - before).toBe(5);
    expect(results.filter((r) => r.ok)).toHaveLength(152);
    expect(results.find((r) => r.sku === 'NOPE-1')).toMatchObject({ ok: false });
    expect(await sim.stockOf('BULK-120')).toBe(125);
    expect(await sim.stockOf('TEE-M')).toBe(156);

    const listings: ChannelListing[] = [];
    for await (const page of connector.listListings()) listings.push(...page);
    expect(listings).toHaveLength(152);
    expect(listings.find((l) => l.sku === 'TEE-S')).toMatchObject({ productExternalId: String(parent.id), available: 155 });
    const readings = await connector.readStock(listings.slice(0, 120));
    expect(readings.every((r, i) => r.available === listings[i]!.available)).toBe(true);

    // A SKU renamed in the shop is found under its new name only.
    sim.state.updateProduct(sim.state.bySku('BULK-7')!, { sku: 'BULK-7-NEW' });
    const ref = (sku: string) => ({ sku, productExternalId: null, variantExternalId: null, inventoryItemExternalId: null });
    expect(await connector.readStock([ref('BULK-7'), ref('BULK-7-NEW')])).toEqual([
      { sku: 'BULK-7', available: null },
      { sku: 'BULK-7-NEW', available: 12 },
    ]);
  });

  it('registers webhooks once, verifies the deliveries and rejects a bad signature', async () => {
    const received: WebhookRequest[] = [];
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ rawBody: Buffer.concat(chunks), headers: req.headers as Record<string, string | undefined> });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/1`;
    try {
      // The receiver is on 127.0.0.1 at a high port: a stock WordPress would refuse it.
      const { sim, connector } = await setup({ allowLocalWebhooks: true });
      const ids = await connector.registerWebhooks(hookUrl);
      expect(await connector.registerWebhooks(hookUrl)).toEqual(ids);
      expect(sim.state.webhooks.size).toBe(3);
      await sim.createProduct({ sku: 'W-1', title: 'W', price: '3.00', stock: 3 });
      const { externalId } = await sim.createOrder({ lines: [{ sku: 'W-1', quantity: 1 }] });
      await sim.cancelOrder(externalId);
      await sim.flushWebhooks();
      const events = received.filter((r) => r.headers['x-wc-webhook-topic']).map((r) => connector.parseWebhook(r));
      expect(events.map((e) => e.topic)).toEqual(['order.created', 'order.updated']);
      const cancelled = events[1]!.event;
      expect(cancelled.type === 'order' && cancelled.order.channelState).toBe('cancelled');

      const tampered = { ...received.find((r) => r.headers['x-wc-webhook-topic'])! };
      tampered.rawBody = Buffer.from(tampered.rawBody.toString().replace('"status":"processing"', '"status":"completed"'));
      expect(() => connector.parseWebhook(tampered)).toThrow(expect.objectContaining({ status: 401 }) as unknown as Error);
    } finally {
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });
});
