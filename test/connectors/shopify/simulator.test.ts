/**
 * Behaviour of the Shopify simulator as a client sees it over HTTPS:
 * auth, cost and throttling, pagination, orders, fulfilment, stock,
 * signed webhooks, bulk JSONL and injected faults.
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startShopifySimulator, type ShopifySimulator } from '../../../connectors/shopify/simulator/index.ts';
import { simulatorRequest } from '../../../connectors/shopify/simulator/admin-client.ts';

const ORDER_PAGE = `query Page($after: String, $q: String) {
  orders(first: 50, after: $after, sortKey: UPDATED_AT, query: $q) {
    pageInfo { hasNextPage endCursor }
    nodes { id name updatedAt }
  }
}`;

describe('Shopify simulator', () => {
  let sim: ShopifySimulator;
  beforeAll(async () => {
    sim = await startShopifySimulator({ port: 0, orders: 120, rateLimit: { restoreRate: 100000, bucketSize: 100000 } });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('hands out channel settings and credentials under the agreed keys', () => {
    const { settings, credentials } = sim.channelConfig();
    expect(settings).toEqual({ shopDomain: expect.stringMatching(/^127\.0\.0\.1:\d+$/), apiVersion: '2026-07', caCertificate: expect.stringContaining('BEGIN CERTIFICATE'), locationId: expect.stringMatching(/^gid:\/\/shopify\/Location\/\d+$/) });
    expect(credentials).toMatchObject({ accessToken: expect.any(String), apiSecretKey: expect.any(String) });
  });

  it('rejects a wrong access token with Shopify’s 401 body', async () => {
    const res = await sim.graphql('{ shop { name } }', {}, 'wrong');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
  });

  it('issues expiring tokens with the client-credentials grant', async () => {
    const short = await startShopifySimulator({ port: 0, tokenTtlSeconds: 1 });
    try {
      const bad = await simulatorRequest(`${short.url}/admin/oauth/access_token`, short.caCertificate, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: short.clientId, client_secret: 'nope' }).toString(),
      });
      expect(bad.status).toBe(401);
      const res = await simulatorRequest<{ access_token: string; expires_in: number; scope: string }>(`${short.url}/admin/oauth/access_token`, short.caCertificate, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: short.clientId, client_secret: short.clientSecret }).toString(),
      });
      expect(res.status).toBe(200);
      expect(res.body.expires_in).toBe(1);
      expect(res.body.scope).toContain('write_orders');
      expect((await short.graphql('{ shop { name } }', {}, res.body.access_token)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await short.graphql('{ shop { name } }', {}, res.body.access_token)).status).toBe(401);
    } finally {
      await short.close();
    }
  });

  it('rejects invalid documents with graphql-ruby wording and no charge', async () => {
    const res = await sim.graphql('query Q { orders(first: 1) { nodes { nope } } }');
    expect(res.body).toEqual({ errors: [{ message: "Field 'nope' doesn't exist on type 'Order'", locations: [{ line: 1, column: 38 }], path: ['query Q', 'orders', 'nodes', 'nope'], extensions: { code: 'undefinedField', typeName: 'Order', fieldName: 'nope' } }] });
  });

  it('answers fulfillmentCreateV2, which channelsync never sends, with a plain "not supported" and no charge', async () => {
    const res = await sim.graphql(`mutation Ship($f: FulfillmentV2Input!) {
  shipped: fulfillmentCreateV2(fulfillment: $f) { fulfillment { id } userErrors { field message } }
}`, { f: { lineItemsByFulfillmentOrder: [] } });
    expect(res.status).toBe(200);
    expect(res.body.data).toBeUndefined();
    expect(res.body.extensions).toBeUndefined();
    expect(res.body.errors).toEqual([{
      message: expect.stringMatching(/^fulfillmentCreateV2 is not supported by the channelsync Shopify simulator: .*fulfillmentCreate/),
      locations: [{ line: 2, column: 3 }],
      path: ['shipped'],
      extensions: { code: 'NOT_SUPPORTED_BY_SIMULATOR', fieldName: 'fulfillmentCreateV2' },
    }]);
    // A root Shopify does not have still answers as graphql-ruby does.
    const unknown = await sim.graphql('mutation { fulfillmentCreateV9 { __typename } }');
    expect(unknown.body.errors[0]).toMatchObject({ message: "Field 'fulfillmentCreateV9' doesn't exist on type 'Mutation'", extensions: { code: 'undefinedField' } });
  });

  it('reports extensions.cost by the published rules', async () => {
    const res = await sim.graphql('{ orders(first: 10) { nodes { id customer { id } } } }');
    // connection 2 + 10 × (order 1 + customer 1)
    expect(res.body.extensions.cost.requestedQueryCost).toBe(22);
    expect(res.body.extensions.cost.actualQueryCost).toBe(22);
    const mutation = await sim.graphql('mutation { webhookSubscriptionDelete(id: "gid://shopify/WebhookSubscription/1") { userErrors { message } } }');
    expect(mutation.body.extensions.cost.requestedQueryCost).toBeGreaterThanOrEqual(10);
  });

  it('refuses a query over 1000 points with MAX_COST_EXCEEDED', async () => {
    const res = await sim.graphql('{ orders(first: 250) { nodes { lineItems(first: 250) { nodes { id } } } } }');
    expect(res.body.errors[0].extensions).toMatchObject({ code: 'MAX_COST_EXCEEDED', maxCost: 1000 });
    expect(res.body.data).toBeUndefined();
  });

  it('pages through orders in updatedAt order, filtered by updated_at, without gaps', async () => {
    const all = [...sim.state.orders.values()].sort((a, b) => a.updatedAt - b.updatedAt || a.id - b.id);
    const since = new Date(all[40]!.updatedAt).toISOString();
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res: any = await sim.graphql(ORDER_PAGE, { after, q: `updated_at:>='${since}'` });
      seen.push(...res.body.data.orders.nodes.map((n: { id: string }) => n.id));
      after = res.body.data.orders.pageInfo.endCursor;
      if (!res.body.data.orders.pageInfo.hasNextPage) break;
    }
    const expected = all.filter((o) => o.updatedAt >= Math.floor(all[40]!.updatedAt / 1000) * 1000).map((o) => `gid://shopify/Order/${o.id}`);
    expect(seen).toEqual(expected);
  });

  it('creates products and orders through the API, with line items paged', async () => {
    const product = await sim.graphql(`mutation { productCreate(product: { title: "Mug" }) { product { id variants(first: 1) { nodes { id } } } userErrors { message } } }`);
    const productId = product.body.data.productCreate.product.id;
    const variants = await sim.graphql(
      `mutation($p: ID!) { productVariantsBulkCreate(productId: $p, strategy: REMOVE_STANDALONE_VARIANT, variants: [{ price: "7.50", optionValues: [{ name: "Blue", optionName: "Title" }], inventoryItem: { sku: "MUG-BLUE", tracked: true } }]) { productVariants { id sku inventoryItem { id } } userErrors { message } } }`,
      { p: productId },
    );
    const variantId = variants.body.data.productVariantsBulkCreate.productVariants[0].id;
    const lineItems = Array.from({ length: 7 }, (_, i) => ({ variantId, quantity: i + 1 }));
    const created = await sim.graphql(
      `mutation($o: OrderCreateOrderInput!) { orderCreate(order: $o) { order { id name subtotalPriceSet { shopMoney { amount currencyCode } } } userErrors { field message } } }`,
      { o: { email: 'a@example.com', lineItems } },
    );
    expect(created.body.data.orderCreate.userErrors).toEqual([]);
    expect(created.body.data.orderCreate.order.subtotalPriceSet.shopMoney).toEqual({ amount: '210.0', currencyCode: 'USD' });
    const id = created.body.data.orderCreate.order.id;
    const page = `query($id: ID!, $after: String) { order(id: $id) { lineItems(first: 5, after: $after) { pageInfo { hasNextPage endCursor } nodes { sku quantity } } } }`;
    const first = await sim.graphql(page, { id });
    expect(first.body.data.order.lineItems.nodes).toHaveLength(5);
    expect(first.body.data.order.lineItems.pageInfo.hasNextPage).toBe(true);
    const second = await sim.graphql(page, { id, after: first.body.data.order.lineItems.pageInfo.endCursor });
    expect(second.body.data.order.lineItems.nodes.map((n: { quantity: number }) => n.quantity)).toEqual([6, 7]);
    expect(second.body.data.order.lineItems.pageInfo.hasNextPage).toBe(false);
  });

  it('fulfils with tracking and refuses to over-fulfil', async () => {
    await sim.createProduct({ sku: 'FUL-1', title: 'Lamp', price: '20.00', stock: 5 });
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'FUL-1', quantity: 2 }] });
    const fo = await sim.graphql(`query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id status lineItems(first: 5) { nodes { id remainingQuantity } } } } } }`, { id: externalId });
    const foNode = fo.body.data.order.fulfillmentOrders.nodes[0];
    const create = (quantity: number) => sim.graphql(
      `mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { fulfillment { id status trackingInfo { company number url } } userErrors { field message } } }`,
      { f: { notifyCustomer: false, trackingInfo: { company: 'UPS', number: '1Z999', url: 'https://ups.example/1Z999' }, lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: foNode.id, fulfillmentOrderLineItems: [{ id: foNode.lineItems.nodes[0].id, quantity }] }] } },
    );
    expect((await create(3)).body.data.fulfillmentCreate.userErrors).toEqual([{ field: ['fulfillment'], message: 'Invalid fulfillment order line item quantity requested.' }]);
    const ok = await create(2);
    expect(ok.body.data.fulfillmentCreate.fulfillment).toMatchObject({ status: 'SUCCESS', trackingInfo: [{ company: 'UPS', number: '1Z999', url: 'https://ups.example/1Z999' }] });
    expect(await sim.fulfillments(externalId)).toEqual([{ trackingCompany: 'UPS', trackingNumber: '1Z999', trackingUrl: 'https://ups.example/1Z999', lineItems: [{ sku: 'FUL-1', quantity: 2 }], customerNotified: false }]);
    const again = await create(1);
    expect(again.body.data.fulfillmentCreate.userErrors[0].message).toMatch(/unfulfillable status/);
    const after = await sim.graphql(`query($id: ID!) { order(id: $id) { displayFulfillmentStatus fulfillments { trackingInfo { number } } } }`, { id: externalId });
    expect(after.body.data.order).toEqual({ displayFulfillmentStatus: 'FULFILLED', fulfillments: [{ trackingInfo: [{ number: '1Z999' }] }] });
  });

  it('sets stock with changeFromQuantity, idempotently, and reports stale reads', async () => {
    await sim.createProduct({ sku: 'INV-1', title: 'Chair', price: '50.00', stock: 4 });
    const found = await sim.graphql(`{ inventoryItems(first: 1, query: "sku:INV-1") { nodes { id inventoryLevel(locationId: "${sim.locationId}") { quantities(names: ["available", "on_hand"]) { name quantity } } } } }`);
    const item = found.body.data.inventoryItems.nodes[0];
    expect(item.inventoryLevel.quantities).toEqual([{ name: 'available', quantity: 4 }, { name: 'on_hand', quantity: 4 }]);
    const set = (key: string, quantity: number, changeFromQuantity: number) => sim.graphql(
      `mutation($input: InventorySetQuantitiesInput!, $key: String!) { inventorySetQuantities(input: $input) @idempotent(key: $key) { inventoryAdjustmentGroup { changes { name delta } } userErrors { field message code } } }`,
      { key, input: { name: 'available', reason: 'correction', referenceDocumentUri: 'channelsync://test', quantities: [{ inventoryItemId: item.id, locationId: sim.locationId, quantity, changeFromQuantity }] } },
    );
    const first = await set('k1', 9, 4);
    expect(first.body.data.inventorySetQuantities.inventoryAdjustmentGroup.changes).toEqual([{ name: 'available', delta: 5 }, { name: 'on_hand', delta: 5 }]);
    // The same key and input replays the first answer and changes nothing.
    expect((await set('k1', 9, 4)).body.data).toEqual(first.body.data);
    expect(await sim.stockOf('INV-1')).toBe(9);
    const stale = await set('k2', 1, 4);
    expect(stale.body.data.inventorySetQuantities).toEqual({ inventoryAdjustmentGroup: null, userErrors: [{ field: ['input', 'quantities', '0', 'changeFromQuantity'], message: 'The changeFromQuantity value does not match persisted value.', code: 'CHANGE_FROM_QUANTITY_STALE' }] });
    const missing = await sim.graphql(
      `mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { code } } }`,
      { input: { name: 'available', reason: 'correction', quantities: [{ inventoryItemId: item.id, locationId: sim.locationId, quantity: 1, changeFromQuantity: 9 }] } },
    );
    expect(missing.body.errors[0]).toMatchObject({ message: 'The @idempotent directive is required for this mutation but was not provided.', extensions: { code: 'BAD_REQUEST' }, path: ['inventorySetQuantities'] });
  });

  it('remembers an idempotency key for 24 hours, as Shopify documents: replay, mismatch, failed key, then a new request', async () => {
    let now = Date.parse('2026-11-01T10:00:00Z');
    const own = await startShopifySimulator({ port: 0, products: 0, clock: () => now });
    try {
      await own.createProduct({ sku: 'KEY-1', title: 'Lamp', price: '20.00', stock: 5 });
      const itemId = (await own.graphql(`{ inventoryItems(first: 1, query: "sku:KEY-1") { nodes { id } } }`)).body.data.inventoryItems.nodes[0].id;
      const set = async (key: string, quantity: number, changeFromQuantity: number) => (await own.graphql(
        `mutation($input: InventorySetQuantitiesInput!, $key: String!) { inventorySetQuantities(input: $input) @idempotent(key: $key) { inventoryAdjustmentGroup { changes { name delta } } userErrors { field message code } } }`,
        { key, input: { name: 'available', reason: 'correction', quantities: [{ inventoryItemId: itemId, locationId: own.locationId, quantity, changeFromQuantity }] } },
      )).body.data.inventorySetQuantities;
      expect((await set('a', 3, 5)).userErrors).toEqual([]);
      expect((await set('b', 5, 3)).userErrors).toEqual([]);
      // The same key and variables an hour later: the first answer again, and nothing is set.
      now += 60 * 60_000;
      expect((await set('a', 3, 5)).userErrors).toEqual([]);
      expect(await own.stockOf('KEY-1')).toBe(5);
      expect((await set('a', 4, 5)).userErrors).toEqual([{ field: ['input'], message: 'The same idempotency key cannot be used with different operation parameters.', code: 'IDEMPOTENCY_KEY_PARAMETER_MISMATCH' }]);
      expect((await set('c', 1, 9)).userErrors[0].code).toBe('CHANGE_FROM_QUANTITY_STALE');
      expect((await set('c', 1, 9)).userErrors[0].code).toBe('IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED');
      expect(await own.stockOf('KEY-1')).toBe(5);
      // A day after its first use the key is forgotten: the same variables are a new request.
      // (The shop's clock ticks a millisecond per change, so the first use was a few ms after the start.)
      now += 23 * 60 * 60_000 + 1_000;
      expect((await set('a', 3, 5)).inventoryAdjustmentGroup.changes).toEqual([{ name: 'available', delta: -2 }, { name: 'on_hand', delta: -2 }]);
      expect(await own.stockOf('KEY-1')).toBe(3);
    } finally {
      await own.close();
    }
  });

  it('finds inventory items by a disjunction of SKUs in id order, case-insensitively, and honours other terms', async () => {
    for (const sku of ['OR-3', 'OR-1', 'OR-2']) await sim.createProduct({ sku, title: sku, price: '1.00', stock: 1 });
    const skusOf = async (query: string) =>
      ((await sim.graphql(`query($q: String!) { inventoryItems(first: 10, query: $q) { nodes { sku } } }`, { q: query })).body.data.inventoryItems.nodes as Array<{ sku: string }>).map((n) => n.sku);
    expect(await skusOf('sku:OR-2 OR sku:"OR-3" OR sku:or-1 OR sku:OR-404')).toEqual(['OR-3', 'OR-1', 'OR-2']);
    expect(await skusOf('sku:OR-2 OR sku:OR-2')).toEqual(['OR-2']);
    expect(await skusOf('sku:OR-1 OR -sku:OR-*')).not.toContain('OR-2');
    expect(await skusOf('sku:OR-*')).toEqual(['OR-3', 'OR-1', 'OR-2']);
  });
});

describe('Shopify simulator webhooks', () => {
  let sim: ShopifySimulator;
  let receiver: Server;
  const received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
  let url = '';
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const addr = receiver.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/webhooks/1`;
    // The receiver is on http://127.0.0.1, which real Shopify refuses for a subscription.
    sim = await startShopifySimulator({ port: 0, allowLocalWebhooks: true });
  });
  afterAll(async () => {
    await sim.close();
    await new Promise((r) => receiver.close(r));
  });

  it('sends orders/create, orders/updated and orders/cancelled signed with the app secret', async () => {
    sim.setWebhookUrl(url);
    await sim.createProduct({ sku: 'WH-1', title: 'Hat', price: '12.00', stock: 10 });
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'WH-1', quantity: 1 }], email: 'hat@example.com' });
    await sim.touchOrder(externalId);
    await sim.cancelOrder(externalId);
    await sim.flushWebhooks();
    const topics = received.map((r) => r.headers['x-shopify-topic']);
    expect(topics).toEqual(['orders/create', 'orders/updated', 'orders/cancelled', 'orders/updated']);
    const secret = sim.channelConfig().credentials.apiSecretKey as string;
    for (const r of received) {
      expect(r.headers['x-shopify-hmac-sha256']).toBe(createHmac('sha256', secret).update(r.body).digest('base64'));
      expect(r.headers['x-shopify-shop-domain']).toBe(sim.shopDomain);
      expect(r.headers['x-shopify-api-version']).toBe('2026-07');
      expect(r.headers['x-shopify-webhook-id']).toEqual(expect.any(String));
      expect(r.headers['x-shopify-triggered-at']).toEqual(expect.any(String));
    }
    const created = JSON.parse(received[0]!.body);
    expect(created).toMatchObject({ admin_graphql_api_id: externalId, email: 'hat@example.com', financial_status: 'paid', line_items: [{ sku: 'WH-1', quantity: 1, price: '12.00' }] });
    expect(JSON.parse(received[2]!.body).cancelled_at).toEqual(expect.any(String));
  });

  it('sends only topics that have a subscription: setWebhookUrl subscribes the order topics, a deleted one stops its topic', async () => {
    sim.setWebhookUrl(url);
    received.length = 0;
    try {
      const list = await sim.graphql(`{ webhookSubscriptions(first: 20) { nodes { id topic uri } } }`);
      const mine = (list.body.data.webhookSubscriptions.nodes as Array<{ id: string; topic: string; uri: string }>).filter((n) => n.uri === url);
      expect(mine.map((n) => n.topic).sort()).toEqual(['ORDERS_CANCELLED', 'ORDERS_CREATE', 'ORDERS_UPDATED']);
      const updated = mine.find((n) => n.topic === 'ORDERS_UPDATED')!;
      const del = await sim.graphql(`mutation($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { message } } }`, { id: updated.id });
      expect(del.body.data.webhookSubscriptionDelete.userErrors).toEqual([]);

      const { externalId } = await sim.createOrder({ lines: [{ sku: 'WH-1', quantity: 1 }] });
      await sim.touchOrder(externalId);
      await sim.flushWebhooks();
      expect(received.map((r) => r.headers['x-shopify-topic'])).toEqual(['orders/create']);
    } finally {
      sim.setWebhookUrl(null);
    }
    const left = await sim.graphql(`{ webhookSubscriptions(first: 20) { nodes { uri } } }`);
    expect((left.body.data.webhookSubscriptions.nodes as Array<{ uri: string }>).filter((n) => n.uri === url)).toEqual([]);
  });

  it('registers subscriptions through webhookSubscriptionCreate and can drop or duplicate deliveries', async () => {
    sim.setWebhookUrl(null);
    received.length = 0;
    const res = await sim.graphql(`mutation($u: String!) { webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: { uri: $u, format: JSON }) { webhookSubscription { id topic uri } userErrors { message } } }`, { u: url });
    expect(res.body.data.webhookSubscriptionCreate.webhookSubscription).toMatchObject({ topic: 'ORDERS_CREATE', uri: url });
    sim.setFaults({ duplicateWebhookRate: 1 });
    await sim.createOrder({ lines: [{ sku: 'WH-1', quantity: 1 }] });
    await sim.flushWebhooks();
    expect(received).toHaveLength(2);
    expect(received[0]!.headers['x-shopify-webhook-id']).toBe(received[1]!.headers['x-shopify-webhook-id']);
    sim.setFaults({ dropWebhookRate: 1 });
    await sim.createOrder({ lines: [{ sku: 'WH-1', quantity: 1 }] });
    await sim.flushWebhooks();
    expect(received).toHaveLength(2);
    sim.setFaults({});
  });
});

describe('Shopify simulator limits, bulk and faults', () => {
  let sim: ShopifySimulator;
  beforeAll(async () => {
    sim = await startShopifySimulator({ port: 0, orders: 30, rateLimit: { restoreRate: 50, bucketSize: 100 } });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('throttles with HTTP 200 and THROTTLED once the bucket is empty, then refills at the restore rate', async () => {
    // Empty, so the 12-point query is throttled unless 240 ms pass before it is costed (10 points left 40 ms: too
    // little on a busy machine); 300 ms later 15 points have come back.
    sim.bucket.set(0);
    const res = await sim.graphql('{ orders(first: 10) { nodes { id } } }');
    expect(res.status).toBe(200);
    expect(res.body.errors).toEqual([{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }]);
    expect(res.body.extensions.cost).toMatchObject({ requestedQueryCost: 12, throttleStatus: { maximumAvailable: 100, restoreRate: 50 } });
    await new Promise((r) => setTimeout(r, 300));
    const ok = await sim.graphql('{ orders(first: 10) { nodes { id } } }');
    expect(ok.body.errors).toBeUndefined();
    expect(ok.body.data.orders.nodes).toHaveLength(10);
  });

  it("moves to another plan's limits and reports them in throttleStatus", async () => {
    try {
      sim.bucket.setLimits(10_000, 1_000);
      sim.bucket.set(10_000);
      const res = await sim.graphql('{ orders(first: 10) { nodes { id } } }');
      expect(res.body.extensions.cost.throttleStatus).toMatchObject({ maximumAvailable: 10_000, restoreRate: 1_000 });
      expect(res.body.extensions.cost.throttleStatus.currentlyAvailable).toBeGreaterThan(9_900);
      sim.bucket.setLimits(100, 50);
      expect(sim.bucket.status()).toMatchObject({ maximumAvailable: 100, restoreRate: 50, currentlyAvailable: 100 });
    } finally {
      sim.bucket.setLimits(100, 50);
    }
  });

  it('runs a bulk query and serves JSONL with children as __parentId lines', async () => {
    sim.bucket.set(100);
    const run = await sim.graphql(`mutation($q: String!) { bulkOperationRunQuery(query: $q, groupObjects: false) { bulkOperation { id status } userErrors { message } } }`, {
      q: '{ orders { edges { node { id name lineItems { edges { node { id sku quantity } } } } } } }',
    });
    expect(run.body.data.bulkOperationRunQuery.bulkOperation.status).toBe('CREATED');
    let op: any;
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 40));
      op = (await sim.graphql('{ currentBulkOperation { id status objectCount rootObjectCount url } }')).body.data.currentBulkOperation;
      if (op.status === 'COMPLETED') break;
    }
    expect(op).toMatchObject({ status: 'COMPLETED', rootObjectCount: '30' });
    const file = await simulatorRequest(op.url, sim.caCertificate);
    const lines = file.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(Number(op.objectCount));
    const orders = lines.filter((l) => !l.__parentId);
    const children = lines.filter((l) => l.__parentId);
    expect(orders).toHaveLength(30);
    expect(children.length).toBeGreaterThan(0);
    expect(new Set(children.map((c) => c.__parentId)).size).toBeLessThanOrEqual(30);
    expect(orders.map((o) => o.id)).toEqual(expect.arrayContaining([children[0].__parentId]));
  });

  it('builds a bulk file a page of orders at a time, answering polls meanwhile with running counts', async () => {
    // Built in one go, a 100,000-order export kept the simulator from answering anything for over 30 s.
    sim.bulk.rootsPerStep = 2;
    try {
      sim.bucket.set(100);
      const q = '{ orders { edges { node { id lineItems { edges { node { id } } } } } } }';
      const run = await sim.graphql(`mutation($q: String!) { bulkOperationRunQuery(query: $q, groupObjects: true) { bulkOperation { id } } }`, { q });
      const id = run.body.data.bulkOperationRunQuery.bulkOperation.id;
      const seen: Array<{ status: string; rootObjectCount: string; url: string | null }> = [];
      while (seen.at(-1)?.status !== 'COMPLETED') {
        seen.push((await sim.graphql('query($id: ID!) { bulkOperation(id: $id) { status rootObjectCount url } }', { id })).body.data.bulkOperation);
      }
      // Some answer came while the file was part written, and none offered a file before it was whole.
      expect(seen.some((s) => s.status === 'RUNNING' && Number(s.rootObjectCount) > 0 && Number(s.rootObjectCount) < 30)).toBe(true);
      expect(seen.filter((s) => s.url !== null)).toHaveLength(1);
      const lines = (await simulatorRequest(seen.at(-1)!.url!, sim.caCertificate)).text.trim().split('\n').map((l) => JSON.parse(l));
      const orders = lines.filter((l) => !l.__parentId);
      expect(orders).toHaveLength(30);
      expect(new Set(orders.map((o) => o.id)).size).toBe(30);
      // groupObjects: each order's lines follow it, across the pages of the build too.
      let parent: string | null = null;
      for (const l of lines) {
        if (!l.__parentId) parent = l.id;
        else expect(l.__parentId).toBe(parent);
      }
    } finally {
      sim.bulk.rootsPerStep = 500;
    }
  });

  it('lists fulfillment orders shop-wide: closed only when asked, sorted, reversed, filtered and paged', async () => {
    const shop = await startShopifySimulator({ port: 0, products: 0, rateLimit: { restoreRate: 100000, bucketSize: 100000 } });
    try {
      await shop.createProduct({ sku: 'FO-1', title: 'Mug', price: '5.00', stock: 10 });
      const foOf = async (externalId: string) =>
        (await shop.graphql(`query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 1) { nodes { id lineItems(first: 1) { nodes { id } } } } } }`, { id: externalId })).body.data.order.fulfillmentOrders.nodes[0];
      const ship = (fo: any, quantity: number) => shop.graphql(
        `mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { userErrors { message } } }`,
        { f: { lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: fo.id, fulfillmentOrderLineItems: [{ id: fo.lineItems.nodes[0].id, quantity }] }] } },
      );
      const [open, partial, closed] = await Promise.all([1, 2, 3].map(async () => foOf((await shop.createOrder({ lines: [{ sku: 'FO-1', quantity: 2 }] })).externalId)));
      await ship(closed, 2);
      await ship(partial, 1);
      // Declare only the variables used: an unused one fails validation.
      const declared = (args: string) => [args.includes('$after') && '$after: String', args.includes('$q') && '$q: String'].filter(Boolean).join(', ');
      const list = async (args: string, vars: Record<string, unknown> = {}) =>
        (await shop.graphql(`query${declared(args) ? `(${declared(args)})` : ''} { fulfillmentOrders(${args}) { nodes { id status } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } manualHoldsFulfillmentOrders(first: 5) { nodes { id } } }`, vars)).body.data;
      const ids = (d: any) => d.fulfillmentOrders.nodes.map((n: { id: string }) => n.id);

      expect(ids(await list('first: 5'))).toEqual([open.id, partial.id]);
      expect((await list('first: 5')).fulfillmentOrders.nodes.map((n: { status: string }) => n.status)).toEqual(['OPEN', 'IN_PROGRESS']);
      expect(ids(await list('first: 5, includeClosed: true'))).toEqual([open.id, partial.id, closed.id]);
      expect(ids(await list('first: 5, includeClosed: true, reverse: true'))).toEqual([closed.id, partial.id, open.id]);
      // Shipping touched `closed` first, then `partial`.
      expect(ids(await list('first: 5, includeClosed: true, sortKey: UPDATED_AT'))).toEqual([open.id, closed.id, partial.id]);
      expect(ids(await list('first: 5, includeClosed: true, query: $q', { q: 'status:closed' }))).toEqual([closed.id]);
      expect(ids(await list('first: 5, query: $q', { q: 'status:closed' }))).toEqual([]);
      expect(ids(await list('first: 5, query: $q', { q: 'status:in_progress OR status:open' }))).toEqual([open.id, partial.id]);
      expect(ids(await list('first: 5, includeClosed: true, query: $q', { q: `id:>${open.id.split('/').pop()}` }))).toEqual([partial.id, closed.id]);

      const first = await list('first: 2, includeClosed: true');
      expect(first.fulfillmentOrders.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
      // Shopify's cursor: the id, and the sort value as a string for ID.
      expect(JSON.parse(Buffer.from(first.fulfillmentOrders.pageInfo.endCursor, 'base64').toString())).toEqual({ last_id: Number(partial.id.split('/').pop()), last_value: partial.id.split('/').pop() });
      const second = await list('first: 2, after: $after, includeClosed: true', { after: first.fulfillmentOrders.pageInfo.endCursor });
      expect(ids(second)).toEqual([closed.id]);
      expect(second.fulfillmentOrders.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
      // No holds are placed on the simulator, so no manual holds are listed.
      expect(first.manualHoldsFulfillmentOrders.nodes).toEqual([]);
    } finally {
      await shop.close();
    }
  });

  it('injects 5xx errors, hangs and latency', async () => {
    sim.setFaults({ errorRate: 1 });
    const err = await sim.graphql('{ shop { name } }');
    expect([502, 503]).toContain(err.status);
    sim.setFaults({ timeoutRate: 1 });
    await expect(simulatorRequest(`${sim.url}/admin/api/2026-07/graphql.json`, sim.caCertificate, { method: 'POST', timeoutMs: 300, headers: { 'x-shopify-access-token': sim.accessToken, 'content-type': 'application/json' }, body: '{"query":"{ shop { name } }"}' })).rejects.toThrow(/timed out/);
    sim.setFaults({ latencyMs: 150 });
    const t = Date.now();
    expect((await sim.graphql('{ shop { name } }')).status).toBe(200);
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    sim.setFaults({});
  });
});
