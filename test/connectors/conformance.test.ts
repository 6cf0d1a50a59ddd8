/**
 * One suite over every connector: a new channel passes the same tests as the
 * old ones. Each runs against its own simulator, through the connector
 * contract only.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorFactories } from '../../connectors/index.ts';
import { WebhookRejectedError } from '../../src/domain/errors.ts';
import { hasNotificationQueue, hasWebhooks } from '../../connectors/types.ts';
import { connectToSimulator, pullAll, type ConnectedSimulator } from '../helpers/connectors.ts';
import { testPrefix } from '../helpers/services.ts';

it('registers the Shopify, WooCommerce, Amazon and eBay connectors', () => {
  expect([...connectorFactories.keys()].sort()).toEqual(['amazon', 'ebay', 'shopify', 'woocommerce']);
});

describe.each([...connectorFactories.values()])('$kind connector', (factory) => {
  const redis = testPrefix();
  let c: ConnectedSimulator;

  beforeAll(async () => {
    c = await connectToSimulator(factory, redis.prefix);
    await c.sim.createProduct({ sku: 'CONF-MUG', title: 'Conformance Mug', price: '12.50', stock: 20 });
    await c.sim.createProduct({ sku: 'CONF-CAP', title: 'Conformance Cap', price: '7.25', stock: 5 });
  });
  afterAll(async () => {
    await c?.close();
    await redis.cleanup();
  });

  it('pulls a new order with its lines, money exact', async () => {
    const { externalId } = await c.sim.createOrder({ lines: [{ sku: 'CONF-MUG', quantity: 2 }, { sku: 'CONF-CAP', quantity: 1 }], email: 'ada@example.com' });
    const { orders } = await pullAll(c.connector);
    const order = orders.find((o) => o.externalId === externalId);
    expect(order).toBeDefined();
    expect(order!.channelState).toBe('open');
    expect(order!.customer?.email).toBe('ada@example.com');
    const lines = order!.lines.map((l) => [l.sku, l.quantity, l.unitPrice]).sort();
    expect(lines).toEqual([
      ['CONF-CAP', 1, '7.25'],
      ['CONF-MUG', 2, '12.50'],
    ]);
  });

  it('resumes from its cursor and sees edits and cancellations', async () => {
    const { externalId } = await c.sim.createOrder({ lines: [{ sku: 'CONF-MUG', quantity: 1 }] });
    const first = await pullAll(c.connector);
    const before = first.orders.find((o) => o.externalId === externalId)!;
    await new Promise((r) => setTimeout(r, 1100)); // channel timestamps have one-second resolution
    await c.sim.cancelOrder(externalId);
    const next = await pullAll(c.connector, first.cursor);
    const after = next.orders.filter((o) => o.externalId === externalId).at(-1);
    expect(after?.channelState).toBe('cancelled');
    expect(after!.updatedAt.getTime()).toBeGreaterThan(before.updatedAt.getTime());
  });

  it('marks shipped once, however often it is asked', async () => {
    const { externalId } = await c.sim.createOrder({ lines: [{ sku: 'CONF-MUG', quantity: 1 }] });
    const order = (await c.connector.fetchOrder(externalId))!;
    const push = {
      orderExternalId: externalId,
      shipmentId: 1,
      lines: order.lines.map((l) => ({ lineExternalId: l.externalId, sku: l.sku, quantity: l.quantity })),
      carrier: 'UPS',
      service: 'Ground',
      trackingNumber: '1Z999AA10123456784',
      trackingUrl: 'https://www.ups.com/track?tracknum=1Z999AA10123456784',
      notifyCustomer: true,
      completesOrder: true,
    };
    const first = await c.connector.pushFulfillment(push);
    const second = await c.connector.pushFulfillment(push);
    expect(first.alreadyDone).toBe(false);
    expect(second.alreadyDone).toBe(true);
    const fulfillments = await c.sim.fulfillments(externalId);
    expect(fulfillments).toHaveLength(1);
    expect(fulfillments[0]!.trackingNumber).toBe('1Z999AA10123456784');
    // The tracking URL only where the channel declares it keeps one (eBay has no field for it).
    const kept = c.connector.fulfilmentKeeps.trackingUrl;
    if (kept === 'as-sent') expect(fulfillments[0]!.trackingUrl).toBe(push.trackingUrl);
    else if (kept === 'from-carrier') expect(fulfillments[0]!.trackingUrl).toContain('1Z999AA10123456784');
    else expect(fulfillments[0]!.trackingUrl).toBeNull();
    expect(fulfillments[0]!.trackingCompany).toMatch(/UPS/);
  });

  it('reads and writes stock by SKU', async () => {
    const listings = [];
    for await (const page of c.connector.listListings()) listings.push(...page);
    const mug = listings.find((l) => l.sku === 'CONF-MUG');
    expect(mug).toBeDefined();
    const results = await c.connector.pushStock([{ listing: mug!, available: 17, intent: 'test:conformance:1' }]);
    expect(results).toEqual([{ sku: 'CONF-MUG', ok: true }]);
    expect(await c.sim.stockOf('CONF-MUG')).toBe(17);
    await c.sim.setStock('CONF-MUG', 3);
    expect(await c.connector.readStock([mug!])).toEqual([{ sku: 'CONF-MUG', available: 3 }]);
  });

  it('refuses a webhook with a bad signature as 401', () => {
    // A channel without the webhook role hears of changes through a queue instead (Amazon: SQS).
    if (!hasWebhooks(c.connector)) {
      expect(hasNotificationQueue(c.connector)).toBe(true);
      return;
    }
    const body = Buffer.from(JSON.stringify({ id: 1 }));
    const forged = createHmac('sha256', 'not-the-secret').update(body).digest('base64');
    const headers = {
      'x-shopify-hmac-sha256': forged,
      'x-shopify-topic': 'orders/create',
      'x-shopify-webhook-id': 'w1',
      'x-wc-webhook-signature': forged,
      'x-wc-webhook-topic': 'order.created',
      'x-wc-webhook-delivery-id': '1',
      'content-type': 'application/json',
    };
    let error: unknown;
    try {
      c.connector.parseWebhook({ rawBody: body, headers });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WebhookRejectedError);
    expect((error as WebhookRejectedError).status).toBe(401);
  });

  it('names the rules a local http:// webhook address breaks, and none for a public https one', async () => {
    // Every channel that registers webhooks says why its store would not deliver (channels webhooks prints it).
    if (!hasWebhooks(c.connector)) {
      expect(hasNotificationQueue(c.connector)).toBe(true);
      return;
    }
    expect(c.connector.registerWebhooks && c.connector.checkWebhookAddress && c.connector.listWebhooks).toBeTruthy();
    const problems = await c.connector.checkWebhookAddress!('http://192.168.1.20:3000/webhooks/1');
    expect(problems.join('; ')).toMatch(/192\.168\.1\.20 is a private address/);
    // 203.0.113.0/24 is documentation space: public as far as the rules go, and no DNS needed.
    expect(await c.connector.checkWebhookAddress!('https://203.0.113.10/webhooks/1')).toEqual([]);
  });
});
