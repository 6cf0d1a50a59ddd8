/**
 * The Shopify Admin API simulator: an HTTPS server speaking GraphQL against
 * the real 2026-07 schema, with an in-memory shop, Shopify's cost-based rate
 * limit, signed webhooks, bulk operations and fault injection.
 *
 * Start it with `startShopifySimulator({ port: 0, orders: 100 })`; point a
 * channel at it with `channelConfig()`.
 */
import { randomBytes } from 'node:crypto';
import type { ChannelSimulator, FaultSettings, SimulatedFulfillment, SimulatedOrderInput, SimulatedProduct, SimulatorOptions } from '../../types.ts';
import { LeakyBucket, PLAN_LIMITS, type ShopifyPlan } from './bucket.ts';
import { BulkOperations } from './bulk.ts';
import { gid, parseGid } from './ids.ts';
import { rootValue } from './resolvers/index.ts';
import type { Ctx } from './resolvers/context.ts';
import { buildOrder } from './resolvers/orders.ts';
import { adminSchema, API_VERSION } from './schema.ts';
import { seedOrders, seedProducts } from './seed.ts';
import { SimulatorServer, type LoggedRequest } from './server.ts';
import { ShopState, type ShopSnapshot } from './state.ts';
import { loadSimulatorFile, persistSimulator } from '../../simulator-file.ts';
import { selfSignedCertificate } from './tls.ts';
import { simulatorRequest, type HttpResult } from './admin-client.ts';
import { WebhookSubscriptions, type WebhookDelivery } from './webhooks.ts';

/** Options beyond the shared `SimulatorOptions`, for tests. */
export interface ShopifySimulatorOptions extends SimulatorOptions {
  /** Lifetime of client-credentials tokens in seconds (default 86399, like Shopify). */
  tokenTtlSeconds?: number;
  /** Products seeded at start (SKUs `SIM-0001`…, 1000 in stock); default 20. */
  products?: number;
  /** The shop's clock (timestamps, the idempotency-key window); default `Date.now`. */
  clock?: () => number;
  /**
   * The app's webhook API version (default the simulator's, 2026-07): every
   * subscription created afterwards delivers bodies and `X-Shopify-API-Version`
   * of that version, e.g. '2019-01' for REST bodies without `*_set` money.
   */
  webhookApiVersion?: string;
  /** The shop's plan, which sets the cost bucket (`PLAN_LIMITS`); default standard. `rateLimit` overrides it. */
  plan?: ShopifyPlan;
}

/** A running Shopify simulator, with helpers for tests and the demo. */
export interface ShopifySimulator extends ChannelSimulator {
  /** The shop domain with port, as the connector's `shopDomain` setting. */
  readonly shopDomain: string;
  /** The self-signed CA/server certificate (PEM) to trust. */
  readonly caCertificate: string;
  /** The permanent access token, client id/secret for the client-credentials grant. */
  readonly accessToken: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Every request received (method, path, status, cost, fault). */
  readonly requestLog: LoggedRequest[];
  /** Every webhook delivery attempted. */
  readonly webhookDeliveries: WebhookDelivery[];
  /** The cost bucket (inspect `status()`, drain with `set(0)`). */
  readonly bucket: LeakyBucket;
  /** The in-memory shop, for assertions a test cannot make through the API. */
  readonly state: ShopState;
  /** Bulk operations (tests may slow `runDelayMs` to hold operations in progress). */
  readonly bulk: BulkOperations;
  /** The primary location's gid. */
  readonly locationId: string;
  /** Change an order's note (and so `updatedAt`), sending `orders/updated`. */
  editOrder(externalId: string, change: { note?: string; tags?: string[]; email?: string }): Promise<void>;
  /** Resolves when every webhook delivery started so far has finished. */
  flushWebhooks(): Promise<void>;
  /**
   * POST a GraphQL document to the simulator over HTTPS, as a client would
   * (it is priced and rate-limited like any request).
   */
  graphql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<HttpResult<T>>;
  /** Send a raw delivery (tests of receivers). */
  sendWebhook(topic: string, body: string, url?: string): Promise<void>;
  /**
   * While on, the SKU's stock moves by one unit just before every
   * `inventorySetQuantities` that touches it, so each set answers
   * CHANGE_FROM_QUANTITY_STALE (a store busier than the connector's retries).
   */
  keepChangingStock(sku: string, on: boolean): void;
}

/** Start the simulator. Listens on 127.0.0.1 only; `port: 0` picks a free port. */
export async function startShopifySimulator(options: ShopifySimulatorOptions = {}): Promise<ShopifySimulator> {
  const schema = adminSchema();
  const state = new ShopState(options.clock);
  const accessToken = `shpat_${randomBytes(16).toString('hex')}`;
  const clientId = randomBytes(16).toString('hex');
  const clientSecret = `shpss_${randomBytes(16).toString('hex')}`;
  let shopDomain = '127.0.0.1';
  const webhooks = new WebhookSubscriptions(state, () => clientSecret, () => shopDomain, options.log);
  webhooks.ownUrl(options.webhookUrl ?? null);
  webhooks.allowLocal = options.allowLocalWebhooks === true;
  if (options.webhookApiVersion) webhooks.apiVersion = options.webhookApiVersion;
  const root = rootValue();
  let baseUrl = '';
  const ctx: Ctx = { state, webhooks, bulk: undefined as unknown as BulkOperations, baseUrl };
  const bulk = new BulkOperations(state, schema, () => root, () => ctx);
  ctx.bulk = bulk;
  const limits = PLAN_LIMITS[options.plan ?? 'standard'];
  const bucket = new LeakyBucket(options.rateLimit?.bucketSize ?? limits.bucketSize, options.rateLimit?.restoreRate ?? limits.restoreRate);

  const saved = options.statePath ? loadSimulatorFile<ShopSnapshot>(options.statePath, 'shopify') : null;
  if (saved) state.restore(saved.state, saved.clean);
  else {
    seedProducts(state, options.products ?? 20);
    seedOrders(state, options.orders ?? 0);
  }
  const persistence = options.statePath ? persistSimulator(options.statePath, 'shopify', () => state.snapshot()) : null;

  const cert = await selfSignedCertificate();
  const server = new SimulatorServer(
    cert, ctx, bucket, root,
    { accessToken, clientId, clientSecret, scope: 'read_orders,write_orders,read_products,write_products,read_inventory,write_inventory,read_fulfillments,write_fulfillments,read_merchant_managed_fulfillment_orders,write_merchant_managed_fulfillment_orders,read_locations', tokenTtlSeconds: options.tokenTtlSeconds ?? 86399 },
    options.rateLimit?.maxConcurrent ?? null,
    options.log,
  );
  const port = await server.listen(options.port ?? 0);
  shopDomain = `127.0.0.1:${port}`;
  baseUrl = `https://${shopDomain}`;
  ctx.baseUrl = baseUrl;
  const locationId = gid('Location', state.primaryLocationId);

  const orderOf = (externalId: string) => {
    const id = parseGid(externalId, 'Order') ?? (/^\d+$/.test(externalId) ? Number(externalId) : null);
    const o = id === null ? undefined : state.orders.get(id);
    if (!o) throw new Error(`no order ${externalId} on the Shopify simulator`);
    return o;
  };
  const itemOf = (sku: string) => {
    const id = state.inventoryBySku.get(sku);
    return id === undefined ? undefined : state.inventoryItems.get(id);
  };

  return {
    kind: 'shopify',
    url: baseUrl,
    shopDomain,
    caCertificate: cert.cert,
    accessToken,
    clientId,
    clientSecret,
    requestLog: server.requestLog,
    webhookDeliveries: webhooks.deliveries,
    bucket,
    state,
    bulk,
    locationId,
    channelConfig() {
      return {
        settings: { shopDomain, apiVersion: API_VERSION, caCertificate: cert.cert, locationId },
        credentials: { accessToken, apiSecretKey: clientSecret, clientId, clientSecret },
      };
    },
    setWebhookUrl(url) {
      webhooks.ownUrl(url);
    },
    async createProduct(p: SimulatedProduct) {
      const existing = itemOf(p.sku);
      if (existing) {
        existing.levels.get(state.primaryLocationId)!.available = p.stock;
        return;
      }
      state.addProduct({ title: p.title, variants: [{ sku: p.sku, priceCents: Math.round(Number(p.price) * 100), stock: p.stock }] });
    },
    async createOrder(input: SimulatedOrderInput) {
      const lineItems = input.lines.map((l) => {
        const v = state.variantBySku(l.sku);
        if (!v) throw new Error(`no product with SKU ${l.sku} on the Shopify simulator: createProduct first`);
        return { variantId: gid('ProductVariant', v.id), quantity: l.quantity };
      });
      const built = buildOrder(state, {
        email: input.email ?? 'customer@example.com',
        lineItems,
        financialStatus: input.paid === false ? 'PENDING' : 'PAID',
        shippingAddress: { firstName: 'Sam', lastName: 'Buyer', address1: '1 Test Street', city: 'Springfield', countryCode: 'US', zip: '97477' },
      });
      if (Array.isArray(built)) throw new Error(built.map((e) => e.message).join('; '));
      // A storefront order commits stock.
      for (const l of built.lines) if (l.variantId !== null) state.adjustAvailable(state.variants.get(l.variantId)?.inventoryItemId, -l.quantity);
      state.insertOrder(built);
      return { externalId: gid('Order', built.id), orderNumber: built.name };
    },
    async touchOrder(externalId) {
      const o = orderOf(externalId);
      o.note = `touched at ${new Date().toISOString()}`;
      state.touch(o);
    },
    async editOrder(externalId, change) {
      const o = orderOf(externalId);
      if (change.note !== undefined) o.note = change.note;
      if (change.tags !== undefined) o.tags = change.tags;
      if (change.email !== undefined) o.email = change.email;
      state.touch(o);
    },
    async cancelOrder(externalId) {
      const o = orderOf(externalId);
      if (!o.cancelledAt) state.cancel(o, 'OTHER', true);
    },
    async fulfillments(externalId): Promise<SimulatedFulfillment[]> {
      const o = orderOf(externalId);
      return o.fulfillmentIds.map((id) => state.fulfillments.get(id)!).filter((f) => f.status === 'SUCCESS').map((f) => ({
        trackingCompany: f.tracking[0]?.company ?? null,
        trackingNumber: f.tracking[0]?.number ?? null,
        trackingUrl: f.tracking[0]?.url ?? null,
        lineItems: f.lines.map((l) => ({ sku: o.lines.find((x) => x.id === l.lineItemId)?.sku ?? null, quantity: l.quantity })),
        customerNotified: f.notifyCustomer,
      }));
    },
    async stockOf(sku) {
      const item = itemOf(sku);
      const level = item?.levels.get(state.primaryLocationId);
      return item && level && item.tracked ? level.available : null;
    },
    async setStock(sku, quantity) {
      const item = itemOf(sku);
      const level = item?.levels.get(state.primaryLocationId);
      if (!item || !level) throw new Error(`no inventory item with SKU ${sku} on the Shopify simulator`);
      level.available = quantity;
      level.updatedAt = state.now();
    },
    setFaults(faults: FaultSettings) {
      server.faults = { errorRate: faults.errorRate ?? 0, timeoutRate: faults.timeoutRate ?? 0, latencyMs: faults.latencyMs ?? 0 };
      webhooks.faults = { dropWebhookRate: faults.dropWebhookRate ?? 0, duplicateWebhookRate: faults.duplicateWebhookRate ?? 0 };
    },
    graphql(query, variables = {}, token = accessToken) {
      return simulatorRequest(`${baseUrl}/admin/api/${API_VERSION}/graphql.json`, cert.cert, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-shopify-access-token': token },
        body: JSON.stringify({ query, variables }),
      });
    },
    keepChangingStock(sku, on) {
      const item = itemOf(sku);
      if (!item) throw new Error(`no inventory item with SKU ${sku} on the Shopify simulator`);
      if (on) state.contended.set(item.id, state.contended.get(item.id) ?? 0);
      else state.contended.delete(item.id);
    },
    flushWebhooks: () => webhooks.settle(),
    sendWebhook: (topic, body, url) => webhooks.send(url ?? webhooks.directUrl ?? '', topic, body),
    async close() {
      await server.close();
      await webhooks.settle();
      // After the server stopped: nothing can change the shop once this clean copy is written.
      persistence?.close();
    },
  };
}
