/**
 * The Amazon connector against its simulator: throttling ridden out, FBA
 * orders never shipped by us, feeds and their processing reports, PII without
 * an RDT, and ORDER_CHANGE notifications from the queue.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { amazonFactory } from '../../../connectors/amazon/index.ts';
import { AmazonClient } from '../../../connectors/amazon/client.ts';
import { startAmazonSimulator, type AmazonSimulator, type AmazonSimulatorOptions } from '../../../connectors/amazon/simulator/index.ts';
import type { Connector, StockPush } from '../../../connectors/types.ts';
import { PermanentError, RetryableError } from '../../../src/domain/errors.ts';
import { RedisRateBudget, RedisSharedKV } from '../../../src/queue/shared-state.ts';
import { REDIS_URL, testPrefix } from '../../helpers/services.ts';
import { pullAll } from '../../helpers/connectors.ts';

const redisPrefix = testPrefix();
const redis = new Redis(REDIS_URL);
const open: Array<{ sim: AmazonSimulator; connector: Connector }> = [];
let n = 0;

async function setup(options: AmazonSimulatorOptions = {}) {
  const sim = await startAmazonSimulator({ log: pino({ level: 'silent' }), ...options });
  const { settings, credentials } = sim.channelConfig();
  // Each setup its own keys: buckets and tokens of one simulator never leak into the next.
  const prefix = `${redisPrefix.prefix}:${++n}`;
  const connector = amazonFactory.create({
    channel: { id: n, kind: 'amazon', name: 'amazon-test', settings: amazonFactory.settingsSchema.parse(settings), credentials: amazonFactory.credentialsSchema.parse(credentials) },
    budget: new RedisRateBudget(redis, prefix),
    kv: new RedisSharedKV(redis, prefix),
    log: pino({ level: 'silent' }),
  });
  open.push({ sim, connector });
  await sim.createProduct({ sku: 'AMZ-MUG', title: 'Mug', price: '12.50', stock: 20 });
  return { sim, connector, prefix };
}

afterEach(async () => {
  for (const { sim, connector } of open.splice(0)) {
    await connector.close();
    await sim.close();
  }
});
afterAll(async () => {
  redis.disconnect();
  await redisPrefix.cleanup();
});

it('rides out 429 QuotaExceeded on getOrderItems: every order arrives, no 429 reaches the caller', async () => {
  // The seller's real plan is tighter than the model's default (dynamic usage plans): Amazon throttles.
  const { sim, connector } = await setup({ limits: { getOrderItems: { rate: 2, burst: 2 } } });
  const ids = [];
  for (let i = 0; i < 8; i++) ids.push((await sim.createOrder({ lines: [{ sku: 'AMZ-MUG', quantity: 1 }] })).externalId);
  const { orders } = await pullAll(connector);
  expect(orders.map((o) => o.externalId).sort()).toEqual(ids.sort());
  const itemCalls = sim.server.calls.filter((c) => c.op === 'getOrderItems');
  expect(itemCalls.some((c) => c.status === 429)).toBe(true);
  expect(itemCalls.filter((c) => c.status === 200)).toHaveLength(8);
});

it('paces by the x-amzn-RateLimit-Limit Amazon reports, not the table', async () => {
  const { sim, prefix } = await setup({ limits: { getOrderItems: { rate: 0.25, burst: 30 } } });
  const { settings, credentials } = sim.channelConfig();
  const client = new AmazonClient({
    endpoint: settings.endpoint,
    tokenUrl: settings.tokenUrl,
    ...credentials,
    sellerId: settings.sellerId,
    budget: new RedisRateBudget(redis, `${prefix}:client`),
    kv: new RedisSharedKV(redis, `${prefix}:client`),
    log: pino({ level: 'silent' }),
  });
  const { externalId } = await sim.createOrder({ lines: [{ sku: 'AMZ-MUG', quantity: 1 }] });
  expect((await client.limits('getOrderItems')).refillPerSecond).toBe(0.5);
  await client.call('getOrderItems', { params: { orderId: externalId } });
  expect((await client.limits('getOrderItems')).refillPerSecond).toBe(0.25);
  await client.close();
});

it('gives up with a RetryableError carrying the wait when the quota never comes back', async () => {
  const { sim, connector } = await setup({ limits: { getOrderItems: { rate: 0.0001, burst: 1 } } });
  await sim.createOrder({ lines: [{ sku: 'AMZ-MUG', quantity: 1 }] });
  await sim.createOrder({ lines: [{ sku: 'AMZ-MUG', quantity: 1 }] });
  const error = await pullAll(connector).catch((err: unknown) => err);
  expect(error).toBeInstanceOf(RetryableError);
  expect((error as RetryableError).retryAfterMs).toBeGreaterThan(0);
});

it('mints a new access token and RDT when Amazon stops taking the cached ones', async () => {
  const { sim, connector } = await setup();
  await sim.createOrder({ lines: [{ sku: 'AMZ-MUG', quantity: 1 }], email: 'ada@example.com' });
  await pullAll(connector);
  sim.server.expireTokens();
  const { externalId } = await sim.createOrder({ lines: [{ sku: 'AMZ-MUG', quantity: 1 }], email: 'bea@example.com' });
  const order = (await pullAll(connector)).orders.find((o) => o.externalId === externalId)!;
  expect(order.customer?.email).toBe('bea@example.com');
  expect(sim.server.calls.filter((c) => c.op === 'createRestrictedDataToken')).toHaveLength(2);
});

describe('FBA orders', () => {
  it('are imported as fulfilled by Amazon and never confirmed by us', async () => {
    const { sim, connector } = await setup();
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'AMZ-MUG', quantity: 2 }], fulfillmentChannel: 'AFN' });
    const order = (await pullAll(connector)).orders.find((o) => o.externalId === externalId)!;
    expect(order.fulfillmentStatus).toBe('fulfilled');
    expect(order.lines.every((l) => l.quantityFulfilledOnChannel === l.quantity)).toBe(true);
    const push = {
      orderExternalId: externalId, shipmentId: 7, lines: order.lines.map((l) => ({ lineExternalId: l.externalId, sku: l.sku, quantity: l.quantity })),
      carrier: 'UPS', service: null, trackingNumber: '1Z', trackingUrl: null, notifyCustomer: true, completesOrder: true,
    };
    await expect(connector.pushFulfillment(push)).rejects.toThrow(PermanentError);
    await expect(connector.pushFulfillment(push)).rejects.toThrow(/fulfilled by Amazon/);
    expect(sim.server.calls.some((c) => c.op === 'confirmShipment')).toBe(false);
    // Amazon ships FBA stock from its own warehouses: the seller's listing quantity is untouched.
    expect(await sim.stockOf('AMZ-MUG')).toBe(20);
  });
});

it('maps a Pending order as pending payment: Amazon has not taken its units yet', async () => {
  const { sim, connector } = await setup();
  const { externalId } = await sim.createOrder({ lines: [{ sku: 'AMZ-MUG', quantity: 3 }], paid: false });
  expect(await sim.stockOf('AMZ-MUG')).toBe(20);
  const order = (await pullAll(connector)).orders.find((o) => o.externalId === externalId)!;
  expect(order.financialStatus).toBe('pending');
  expect(amazonFactory.holdsStock!.financial).not.toContain('pending');
  await sim.authorizePayment(externalId);
  const next = (await connector.fetchOrder(externalId))!;
  expect(next.financialStatus).toBe('paid');
  expect(await sim.stockOf('AMZ-MUG')).toBe(17);
});

it('imports orders without buyer PII when Amazon refuses a Restricted Data Token', async () => {
  const { sim, connector } = await setup({ denyRdt: true });
  const { externalId } = await sim.createOrder({ lines: [{ sku: 'AMZ-MUG', quantity: 1 }], email: 'ada@example.com' });
  const order = (await pullAll(connector)).orders.find((o) => o.externalId === externalId)!;
  expect(order.customer).toBeNull();
  expect(order.shippingAddress).toMatchObject({ name: null, address1: null, city: 'Seattle', zip: '98109', countryCode: 'US' });
  expect(order.lines).toHaveLength(1);
});

it('asks for one Restricted Data Token for a whole pull, not one per order', async () => {
  const { sim, connector } = await setup();
  for (let i = 0; i < 5; i++) await sim.createOrder({ lines: [{ sku: 'AMZ-MUG', quantity: 1 }] });
  await pullAll(connector);
  await pullAll(connector);
  expect(sim.server.calls.filter((c) => c.op === 'createRestrictedDataToken')).toHaveLength(1);
});

describe('stock through a JSON_LISTINGS_FEED', () => {
  const level = (sku: string, available: number): StockPush => ({
    listing: { sku, productExternalId: null, variantExternalId: 'PRODUCT', inventoryItemExternalId: null },
    available,
    intent: `test:${sku}:${available}`,
  });

  it('submits at once, reports later, per SKU, and the listing shows the quantity', async () => {
    const { sim, connector } = await setup({ feedDelayMs: 100 });
    await sim.createProduct({ sku: 'AMZ-CAP', title: 'Cap', price: '7.25', stock: 5 });
    const submission = await connector.submitStock!([level('AMZ-MUG', 11), level('AMZ-CAP', 3), level('AMZ-GONE', 1)]);
    expect(submission.skus).toEqual(['AMZ-MUG', 'AMZ-CAP', 'AMZ-GONE']);
    expect(await connector.stockSubmission!(submission.handle)).toEqual({ done: false, checkAfterMs: expect.any(Number) });
    expect(await sim.stockOf('AMZ-MUG')).toBe(20);
    let state = await connector.stockSubmission!(submission.handle);
    for (let i = 0; i < 50 && !state.done; i++) {
      await new Promise((r) => setTimeout(r, 50));
      state = await connector.stockSubmission!(submission.handle);
    }
    expect(state).toEqual({
      done: true,
      results: [
        { sku: 'AMZ-MUG', ok: true },
        { sku: 'AMZ-CAP', ok: true },
        { sku: 'AMZ-GONE', ok: false, error: expect.stringMatching(/No listing with SKU AMZ-GONE/) },
      ],
    });
    expect(await sim.stockOf('AMZ-MUG')).toBe(11);
    expect(await sim.stockOf('AMZ-CAP')).toBe(3);
    const feed = sim.feeds()[0]!;
    expect(feed.feedType).toBe('JSON_LISTINGS_FEED');
  });

  it('keeps one feed in flight per seller', async () => {
    const { connector } = await setup({ feedDelayMs: 5_000 });
    await connector.submitStock!([level('AMZ-MUG', 1)]);
    await expect(connector.submitStock!([level('AMZ-MUG', 2)])).rejects.toThrow(RetryableError);
  });

  it('patches a small batch at once, each SKU answered for itself', async () => {
    const { sim, connector } = await setup();
    const results = await connector.pushStock([level('AMZ-MUG', 6), level('AMZ-GONE', 2)]);
    expect(results).toEqual([{ sku: 'AMZ-MUG', ok: true }, { sku: 'AMZ-GONE', ok: false, error: expect.stringMatching(/INVALID/) }]);
    expect(await sim.stockOf('AMZ-MUG')).toBe(6);
    expect(connector.asyncStockThreshold).toBe(50);
  });
});

describe('ORDER_CHANGE notifications', () => {
  it('reads them from the SQS queue, names the order, and deletes them once acknowledged', async () => {
    const { sim, connector } = await setup();
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'AMZ-MUG', quantity: 1 }] });
    const notes = await connector.pollNotifications!(1);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ orderExternalId: externalId, topic: 'ORDER_CHANGE', notificationId: expect.any(String) });
    await connector.ackNotifications!(notes.map((x) => x.receipt));
    expect(await connector.pollNotifications!(0)).toEqual([]);
    expect(sim.server.state.queue).toHaveLength(0);
  });

  it('deleting with a stale receipt handle succeeds but keeps the message, as SQS does', async () => {
    const { sim, connector } = await setup();
    await sim.createOrder({ lines: [{ sku: 'AMZ-MUG', quantity: 1 }] });
    const [first] = await connector.pollNotifications!(0);
    sim.server.state.queue[0]!.invisibleUntil = 0; // its visibility timeout ran out: received again
    const [again] = await connector.pollNotifications!(0);
    expect(again!.notificationId).toBe(first!.notificationId);
    await connector.ackNotifications!([first!.receipt]);
    expect(sim.server.state.queue).toHaveLength(1);
    await connector.ackNotifications!([again!.receipt]);
    expect(sim.server.state.queue).toHaveLength(0);
  });

  it('is absent when the channel names no queue: polling alone then', async () => {
    const sim = await startAmazonSimulator({ log: pino({ level: 'silent' }) });
    const { settings, credentials } = sim.channelConfig();
    const { sqsQueueUrl: _q, sqsRegion: _r, sqsEndpoint: _e, ...withoutQueue } = settings;
    const connector = amazonFactory.create({
      channel: { id: 99, kind: 'amazon', name: 'no-queue', settings: amazonFactory.settingsSchema.parse(withoutQueue), credentials: amazonFactory.credentialsSchema.parse(credentials) },
      budget: new RedisRateBudget(redis, `${redisPrefix.prefix}:nq`),
      kv: new RedisSharedKV(redis, `${redisPrefix.prefix}:nq`),
      log: pino({ level: 'silent' }),
    });
    open.push({ sim, connector });
    expect(connector.pollNotifications).toBeUndefined();
  });
});
