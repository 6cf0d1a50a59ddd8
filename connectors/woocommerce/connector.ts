/**
 * What channelsync can do with a WooCommerce store. HTTP, auth and back-off
 * live in `client.ts`; payload mapping in `mapping.ts`; the order scan in
 * `pull.ts`.
 */
import { z } from 'zod';
import type {
  Capabilities,
  ChannelListing,
  Connector,
  FulfilmentKeeps,
  ConnectorContext,
  FulfillmentPush,
  ListingRef,
  OrderPage,
  ParsedWebhook,
  PushOutcome,
  StockPush,
  StockPushResult,
  StockReading,
  VerifyResult,
  WebhookRequest,
  WebhookState,
  RefundPush,
} from '../types.ts';
import { refundMarker, type UnifiedOrder } from '../../src/domain/order.ts';
import { ConfigError, PermanentError } from '../../src/domain/errors.ts';
import { WooClient, WooNotFoundError, WooRequestError } from './client.ts';
import { readOrder } from './order-reader.ts';
import { decodeEntities, gmtToDate, linesMissingSku, mapOrder, mapRefunds, needsRefundedQuantities, productKey, variationTitle, wooOrderSchema, wooRefundSchema, type ProductKey, type WooRefund } from './mapping.ts';
import { OrderScan, PER_PAGE, gmtSeconds, type RawOrder } from './pull.ts';
import { WEBHOOK_TOPICS, parseWooWebhook } from './webhooks.ts';
import { wordpressUrlRefusals } from './safe-url.ts';
import { describeIssues } from '../values.ts';
import type { WooCommerceCredentials, WooCommerceSettings } from './index.ts';

/** Tracking extensions, in order of preference. */
export const TRACKING_NAMESPACES = ['wc-ast/v3', 'wc-shipment-tracking/v3'] as const;
type TrackingNamespace = (typeof TRACKING_NAMESPACES)[number];
const TRACKING_CACHE_MS = 60 * 60 * 1000;

const cursorSchema = z.object({ v: z.literal(1), modifiedAfter: z.string() });

const productSchema = z.looseObject({
  id: z.number(),
  name: z.string().default(''),
  type: z.string().default('simple'),
  sku: z.string().nullish(),
  parent_id: z.number().nullish(),
  manage_stock: z.union([z.boolean(), z.string()]).nullish(),
  // Negative is real (backorders allowed); a fraction or a huge number is not a stock level.
  stock_quantity: z.number().int().min(-2_147_483_648).max(2_147_483_647).nullish(),
  variations: z.array(z.number()).default([]),
  // A variation's own attributes carry `option`; a parent's carry `options` (ignored here).
  attributes: z.array(z.looseObject({ name: z.string().default(''), option: z.string().nullish() })).default([]),
});
type Product = z.infer<typeof productSchema>;

const noteSchema = z.looseObject({ id: z.number(), note: z.string(), customer_note: z.boolean() });
const trackingSchema = z.looseObject({ tracking_id: z.string(), tracking_number: z.string() });
const webhookSchema = z.looseObject({ id: z.number(), topic: z.string(), delivery_url: z.string(), status: z.string() });
/**
 * A batch answer: one entry per item, an item that failed carries a WP_Error
 * (`{code, message, data: {status}}`; `data` is sometimes the bare status, as in
 * the recorded refund error of `fixtures/woocommerce/captures/rest-v3.json`).
 */
const batchResultSchema = z.looseObject({
  update: z
    .array(
      z.looseObject({
        id: z.number(),
        error: z
          .looseObject({
            code: z.string().optional(),
            message: z.string(),
            data: z.union([z.looseObject({ status: z.number().optional() }), z.number(), z.null()]).optional(),
          })
          .optional(),
      }),
    )
    .default([]),
});

/** The error of one item in a batch answer. */
export type BatchItemError = NonNullable<z.infer<typeof batchResultSchema>['update'][number]['error']>;

/**
 * Whether a batch item's error says "later": a 5xx (the item's save failed on the
 * server), 429, or a lock (409 Conflict, 423 Locked). 4xx validation errors such as
 * the recorded `woocommerce_rest_product_invalid_id` (400) are permanent.
 */
export function itemErrorIsRetryable(error: BatchItemError | undefined): boolean {
  const status = typeof error?.data === 'number' ? error.data : (error?.data?.status ?? null);
  return status !== null && (status >= 500 || status === 429 || status === 409 || status === 423);
}

const chunk = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

function toListing(p: Product): ListingRef | null {
  if (!p.sku) return null;
  const variation = p.type === 'variation';
  return {
    sku: p.sku,
    productExternalId: String(variation ? p.parent_id : p.id),
    variantExternalId: variation ? String(p.id) : null,
    inventoryItemExternalId: null,
  };
}

/**
 * Parses a response body; a shape the schema refuses is a `PermanentError`
 * naming the field (the same answer again will not parse either), never a
 * bare ZodError that a job would retry as unknown.
 */
function parseBody<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body);
  if (!result.success) throw new PermanentError(`WooCommerce sent an unexpected ${what}: ${describeIssues(result.error)}`);
  return result.data;
}

const availableOf = (p: Product): number | null => (p.manage_stock === true ? (p.stock_quantity ?? 0) : null);

export class WooCommerceConnector implements Connector {
  readonly kind = 'woocommerce';
  readonly capabilities: Capabilities = { webhooks: true, backfill: false, cancel: true, refund: true };
  /** The tracking link in the shipment-tracking meta or the order note. */
  readonly fulfilmentKeeps: FulfilmentKeeps = { trackingUrl: 'as-sent' };
  readonly client: WooClient;
  private readonly settings: WooCommerceSettings;
  private readonly credentials: WooCommerceCredentials;
  private readonly skuCache = new Map<string, Promise<string | null>>();

  constructor(private readonly ctx: ConnectorContext<WooCommerceSettings, WooCommerceCredentials>) {
    this.settings = ctx.channel.settings;
    this.credentials = ctx.channel.credentials;
    this.client = new WooClient({
      url: this.settings.url,
      consumerKey: this.credentials.consumerKey,
      consumerSecret: this.credentials.consumerSecret,
      concurrency: this.settings.concurrency,
      timeoutMs: this.settings.timeoutMs,
      log: ctx.log.child({ channel: ctx.channel.id, kind: 'woocommerce' }),
      recordCall: ctx.recordCall,
    });
  }

  async *pullOrders(cursor: string | null): AsyncIterable<OrderPage> {
    const since = this.cursorSeconds(cursor);
    const from = Math.max(0, since - this.settings.overlapSeconds);
    const scan = new OrderScan(this.client, this.settings.concurrency);
    for await (const page of scan.scan(from)) {
      if (page.orders.length === 0 && page.unreadable.length === 0) continue;
      // An order the schema refuses is set aside with the page (the job records it), never failing the pull.
      const { orders, rejected } = await this.mapOrders(page.orders);
      for (const u of page.unreadable) {
        const id = (u.raw as { id?: unknown } | null)?.id;
        rejected.push({ externalId: typeof id === 'number' || typeof id === 'string' ? String(id) : '(unknown)', reason: u.reason, raw: u.raw });
      }
      const next = new Date(Math.max(since, page.progress) * 1000);
      yield { orders, rejected, cursor: JSON.stringify({ v: 1, modifiedAfter: next.toISOString() }) };
    }
  }

  async verify(): Promise<VerifyResult> {
    // A one-order list: any key with Read access may call it, and a wrong key or secret gets WooCommerce's 401.
    // https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-orders
    const res = await this.client.get<unknown[]>('orders', { what: 'a one-order list (checking the credentials)', query: { per_page: 1 } });
    if (!Array.isArray(res.body)) {
      throw new PermanentError(`WooCommerce at ${this.settings.url} answered the orders list with something other than a list: is url the store's base URL?`);
    }
    const total = res.headers['x-wp-total'];
    return { store: this.settings.url, detail: `connected to WooCommerce at ${this.settings.url}${total !== undefined ? ` (${total} orders)` : ''}` };
  }

  async fetchOrder(externalId: string): Promise<UnifiedOrder | null> {
    try {
      // https://woocommerce.github.io/woocommerce-rest-api-docs/#retrieve-an-order
      const res = await this.client.get<RawOrder>(`orders/${encodeURIComponent(externalId)}`, {
        what: `order ${externalId}`,
      });
      const { orders: [order], rejected: [bad] } = await this.mapOrders([res.body]);
      if (bad) throw new PermanentError(bad.reason);
      return order ?? null;
    } catch (err) {
      if (err instanceof WooNotFoundError) return null;
      throw err;
    }
  }

  parseWebhook(request: WebhookRequest): ParsedWebhook {
    return parseWooWebhook(request, this.credentials.webhookSecret);
  }

  async registerWebhooks(callbackUrl: string): Promise<string[]> {
    // https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-webhooks
    const existing = await this.listAll('webhooks', webhookSchema, 'webhooks');
    const ids: string[] = [];
    for (const topic of WEBHOOK_TOPICS) {
      const hook = existing.find((w) => w.topic === topic && w.delivery_url === callbackUrl);
      if (hook) {
        if (hook.status !== 'active') {
          // A store disables a webhook after repeated delivery failures; turn it back on.
          // https://woocommerce.github.io/woocommerce-rest-api-docs/#update-a-webhook
          await this.client.put(`webhooks/${hook.id}`, { status: 'active', secret: this.credentials.webhookSecret }, {
            what: `webhook ${hook.id}`,
          });
        }
        ids.push(String(hook.id));
        continue;
      }
      // https://woocommerce.github.io/woocommerce-rest-api-docs/#create-a-webhook
      const res = await this.client.post<unknown>(
        'webhooks',
        { name: `channelsync ${topic}`, topic, delivery_url: callbackUrl, secret: this.credentials.webhookSecret, status: 'active' },
        { what: `webhook ${topic}` },
      );
      ids.push(String(webhookSchema.parse(res.body).id));
    }
    return ids;
  }

  async listWebhooks(callbackUrl: string): Promise<WebhookState[]> {
    // https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-webhooks
    const all = await this.listAll('webhooks', webhookSchema, 'webhooks');
    return all.filter((w) => w.delivery_url === callbackUrl).map((w) => ({ id: String(w.id), topic: w.topic, status: w.status })).sort((a, b) => Number(a.id) - Number(b.id));
  }

  async checkWebhookAddress(callbackUrl: string): Promise<string[]> {
    // A stock WordPress; a store with a plugin filter may allow more, which the ping then shows.
    return (await wordpressUrlRefusals(callbackUrl, this.settings.url)).map((r) => r.detail);
  }

  async pingWebhooks(ids: string[]): Promise<void> {
    for (const id of ids) {
      // Saving an active webhook whose ping never got a 200 (pending_delivery) pings it again
      // (WC_Webhook_Data_Store::update); one already delivered is left as it is.
      // https://woocommerce.github.io/woocommerce-rest-api-docs/#update-a-webhook
      await this.client.put(`webhooks/${encodeURIComponent(id)}`, { status: 'active' }, { what: `webhook ${id}` });
    }
  }

  async pushFulfillment(push: FulfillmentPush): Promise<PushOutcome> {
    const id = push.orderExternalId;
    // https://woocommerce.github.io/woocommerce-rest-api-docs/#retrieve-an-order
    const order = await this.client.get<{ status?: string }>(`orders/${encodeURIComponent(id)}`, { what: `order ${id}` });
    const status = order.body.status ?? '';
    if (['cancelled', 'refunded', 'trash', 'failed'].includes(status)) {
      throw new PermanentError(`WooCommerce order ${id} is ${status}; not marking it shipped`);
    }

    let created = false;
    let externalRef: string | null = null;
    const namespace = await this.trackingNamespace();
    if (namespace) {
      const tracking = await this.addTracking(namespace, push);
      externalRef = tracking.ref;
      created ||= tracking.created;
    }

    // The note is added in every case: without an extension it is the only place the tracking number
    // shows on the store. A customer note is e-mailed to the customer by WooCommerce; when channelsync
    // sends its own shipping mail (`notifyCustomer: false`, customerMessages=channelsync) it is private.
    // https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-order-notes
    const notes = await this.client.get<unknown>(`orders/${encodeURIComponent(id)}/notes`, {
      what: `notes of order ${id}`,
      query: { type: 'any' },
    });
    const noteList = z.array(noteSchema).parse(notes.body);
    const existing = noteList.find((n) => n.note.includes(push.trackingNumber));
    if (existing) {
      externalRef ??= `note:${existing.id}`;
    } else {
      // https://woocommerce.github.io/woocommerce-rest-api-docs/#create-an-order-note
      const res = await this.client.post<unknown>(
        `orders/${encodeURIComponent(id)}/notes`,
        { note: shipmentNote(push), customer_note: push.notifyCustomer },
        { what: `note on order ${id}` },
      );
      externalRef ??= `note:${noteSchema.parse(res.body).id}`;
      created = true;
    }

    if (push.completesOrder && status !== 'completed') {
      // https://woocommerce.github.io/woocommerce-rest-api-docs/#update-an-order
      await this.client.put(`orders/${encodeURIComponent(id)}`, { status: 'completed' }, { what: `order ${id}` });
      created = true;
    }
    return { externalRef, alreadyDone: !created };
  }

  async cancelOrder(externalId: string, reason: string): Promise<PushOutcome> {
    const path = `orders/${encodeURIComponent(externalId)}`;
    // https://woocommerce.github.io/woocommerce-rest-api-docs/#retrieve-an-order
    const order = await this.client.get<{ status?: string }>(path, { what: `order ${externalId}` });
    if (order.body.status === 'cancelled') return { externalRef: externalId, alreadyDone: true };
    if (order.body.status === 'completed' || order.body.status === 'refunded') {
      throw new PermanentError(`WooCommerce order ${externalId} is ${order.body.status}; refund it instead of cancelling`);
    }
    // https://woocommerce.github.io/woocommerce-rest-api-docs/#update-an-order
    await this.client.put(path, { status: 'cancelled' }, { what: `order ${externalId}` });
    // https://woocommerce.github.io/woocommerce-rest-api-docs/#create-an-order-note
    await this.client.post(`${path}/notes`, { note: `Cancelled by channelsync: ${reason}`, customer_note: false }, {
      what: `note on order ${externalId}`,
    });
    return { externalRef: externalId, alreadyDone: false };
  }

  async refundOrder(push: RefundPush): Promise<PushOutcome> {
    const id = push.orderExternalId;
    const marker = refundMarker(push.refundId);
    // Check first: a run that died after WooCommerce accepted finds its refund by the marker.
    const existing = (await this.listRefunds(id))
      .map((r) => z.looseObject({ id: z.number(), reason: z.string().nullish() }).safeParse(r))
      .find((r) => r.success && (r.data.reason ?? '').includes(marker));
    if (existing?.success) return { externalRef: String(existing.data.id), alreadyDone: true };
    // https://woocommerce.github.io/woocommerce-rest-api-docs/#create-a-refund
    // `api_refund: true` gives the money back through the order's gateway (WooCommerce's default);
    // a gateway without automatic refunds makes WooCommerce refuse, which is a person's call.
    // channelsync books returned units itself, so WooCommerce is not asked to restock (the next
    // stock push sets the store to the ledger's number either way).
    const res = await this.client.post<unknown>(
      `orders/${encodeURIComponent(id)}/refunds`,
      {
        amount: push.amount,
        reason: `${push.reason} (${marker})`,
        api_refund: true,
        line_items: push.lines.map((l) => ({ id: Number(l.lineExternalId), quantity: l.quantity, refund_total: l.amount, restock_item: false })),
      },
      { what: `refund of order ${id}` },
    );
    return { externalRef: String(z.looseObject({ id: z.number() }).parse(res.body).id), alreadyDone: false };
  }

  async *listListings(): AsyncIterable<ChannelListing[]> {
    for (let page = 1; ; page++) {
      // https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-products
      const res = await this.client.get<unknown>('products', { what: 'products list', query: { per_page: PER_PAGE, page } });
      const products = z.array(productSchema).parse(res.body);
      const listings: ChannelListing[] = [];
      for (const p of products) {
        if (p.type === 'variable') {
          for (const v of await this.listAll(`products/${p.id}/variations`, productSchema, `variations of ${p.id}`)) {
            const ref = toListing({ ...v, type: 'variation', parent_id: p.id });
            // The variations endpoint sends no name: build it as WooCommerce does, from the parent and the attributes.
            const title = variationTitle(decodeEntities(p.name), v.attributes.map((a) => ({ name: a.name, option: a.option ?? '' })));
            if (ref) listings.push({ ...ref, title, available: availableOf(v) });
          }
        } else {
          const ref = toListing(p);
          if (ref) listings.push({ ...ref, title: decodeEntities(p.name), available: availableOf(p) });
        }
      }
      if (listings.length) yield listings;
      if (products.length < PER_PAGE || page >= Number(res.headers['x-wp-totalpages'] ?? page)) return;
    }
  }

  async readStock(listings: ListingRef[]): Promise<StockReading[]> {
    const found = await this.productsBySku(listings.map((l) => l.sku));
    return listings.map((l) => {
      const p = found.get(l.sku);
      return { sku: l.sku, available: p ? availableOf(p) : null };
    });
  }

  async pushStock(levels: StockPush[]): Promise<StockPushResult[]> {
    const results = new Map<string, StockPushResult>();
    const missing = levels.filter((l) => !l.listing.productExternalId).map((l) => l.listing.sku);
    const bySku = missing.length ? await this.productsBySku(missing) : new Map<string, Product>();

    // parent id ('' for simple products) -> updates
    const groups = new Map<string, Array<{ id: number; sku: string; quantity: number }>>();
    for (const level of levels) {
      let ref: ListingRef | null = level.listing;
      if (!ref.productExternalId) {
        const p = bySku.get(ref.sku);
        ref = p ? toListing(p) : null;
      }
      if (!ref?.productExternalId) {
        results.set(level.listing.sku, { sku: level.listing.sku, ok: false, error: `SKU ${level.listing.sku} not found on WooCommerce` });
        continue;
      }
      const parent = ref.variantExternalId ? ref.productExternalId : '';
      const id = Number(ref.variantExternalId ?? ref.productExternalId);
      const group = groups.get(parent) ?? [];
      group.push({ id, sku: level.listing.sku, quantity: Math.max(0, Math.trunc(level.available)) });
      groups.set(parent, group);
    }

    await Promise.all(
      [...groups].flatMap(([parent, items]) =>
        chunk(items, 100).map(async (batch) => {
          // https://woocommerce.github.io/woocommerce-rest-api-docs/#batch-update-products
          // https://woocommerce.github.io/woocommerce-rest-api-docs/#batch-update-product-variations
          const path = parent ? `products/${parent}/variations/batch` : 'products/batch';
          try {
            const res = await this.client.post<unknown>(
              path,
              { update: batch.map((b) => ({ id: b.id, manage_stock: true, stock_quantity: b.quantity })) },
              { what: parent ? `stock of variations of ${parent}` : 'stock of products', idempotent: true },
            );
            const updates = batchResultSchema.parse(res.body).update;
            const byId = new Map(updates.map((u) => [u.id, u]));
            for (const b of batch) {
              const u = byId.get(b.id);
              results.set(
                b.sku,
                !u ? { sku: b.sku, ok: false, error: 'missing from the batch response' } :
                u.error
                  ? { sku: b.sku, ok: false, error: u.error.message, ...(itemErrorIsRetryable(u.error) ? { retryable: true } : {}) }
                  : { sku: b.sku, ok: true },
              );
            }
          } catch (err) {
            // A whole variation batch fails when its parent is gone: permanent for these SKUs only.
            if (!(err instanceof WooNotFoundError || err instanceof WooRequestError)) throw err;
            for (const b of batch) results.set(b.sku, { sku: b.sku, ok: false, error: err.message });
          }
        }),
      ),
    );
    return levels.map((l) => results.get(l.listing.sku) ?? { sku: l.listing.sku, ok: false, error: 'not pushed' });
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  // --- helpers ---------------------------------------------------------------

  private cursorSeconds(cursor: string | null): number {
    if (cursor) {
      let parsed: z.infer<typeof cursorSchema>;
      try {
        parsed = cursorSchema.parse(JSON.parse(cursor));
      } catch {
        throw new ConfigError(`WooCommerce cursor ${JSON.stringify(cursor)} is not one this connector wrote; clear it to pull from initialSince`);
      }
      return Math.floor(Date.parse(parsed.modifiedAfter) / 1000);
    }
    return this.settings.initialSince ? Math.floor(Date.parse(this.settings.initialSince) / 1000) : 0;
  }

  /** Validates and maps; orders the schema refuses come back in `rejected` with the field and the problem. */
  private async mapOrders(raws: unknown[]): Promise<{ orders: UnifiedOrder[]; rejected: Array<{ externalId: string; reason: string; raw: unknown }> }> {
    const rejected: Array<{ externalId: string; reason: string; raw: unknown }> = [];
    const parsed: Array<{ raw: unknown; order: z.infer<typeof wooOrderSchema> }> = [];
    for (const raw of raws) {
      const result = readOrder(raw);
      if (result.success) parsed.push({ raw, order: result.data });
      else {
        const id = (raw as { id?: unknown } | null)?.id;
        rejected.push({ externalId: typeof id === 'number' || typeof id === 'string' ? String(id) : '(unknown)', reason: `WooCommerce sent an order channelsync cannot read: ${describeIssues(result.error)}`, raw });
      }
    }
    const keys = new Map<string, ProductKey>();
    for (const { order } of parsed) for (const k of linesMissingSku(order)) keys.set(productKey(k), k);
    const skus = new Map<string, string | null>();
    await Promise.all([...keys].map(async ([key, k]) => skus.set(key, await this.skuOf(k))));
    const refunded = new Map<number, ReturnType<typeof mapRefunds>>();
    // A refund the schema refuses sets its order aside (with the page), never failing the page.
    const unreadable = new Map<number, string>();
    await Promise.all(
      parsed.filter(({ order }) => needsRefundedQuantities(order)).map(async ({ order }) => {
        const list: WooRefund[] = [];
        for (const raw of await this.listRefunds(order.id)) {
          const r = wooRefundSchema.safeParse(raw);
          if (!r.success) {
            unreadable.set(order.id, `WooCommerce sent a refund of order ${order.id} channelsync cannot read: ${describeIssues(r.error)}`);
            return;
          }
          list.push(r.data);
        }
        refunded.set(order.id, mapRefunds(order, list));
      }),
    );
    for (const { raw, order } of parsed) {
      const reason = unreadable.get(order.id);
      if (reason) rejected.push({ externalId: String(order.id), reason, raw });
    }
    return {
      orders: parsed
        .filter(({ order }) => !unreadable.has(order.id))
        .map(({ raw, order }) => {
          const r = refunded.get(order.id);
          return mapOrder(order, raw, (k) => skus.get(productKey(k)), r?.quantities, r?.refunds);
        }),
      rejected,
    };
  }

  /**
   * The order's refunds. The order lists them by amount only; each refund's
   * `line_items` carry a negative quantity and the refunded line's id in
   * `_refunded_item_id` (as recorded from WooCommerce 7.9).
   */
  private async listRefunds(orderId: number | string): Promise<unknown[]> {
    // https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-refunds
    return this.listAll(`orders/${orderId}/refunds`, z.unknown(), `refunds of order ${orderId}`);
  }

  /** SKU of a product or variation by id, cached for the connector's life (404: null). */
  private skuOf(k: ProductKey): Promise<string | null> {
    const key = productKey(k);
    let pending = this.skuCache.get(key);
    if (!pending) {
      pending = (async () => {
        const path =
          k.variationId > 0
            ? // https://woocommerce.github.io/woocommerce-rest-api-docs/#retrieve-a-product-variation
              `products/${k.productId}/variations/${k.variationId}`
            : // https://woocommerce.github.io/woocommerce-rest-api-docs/#retrieve-a-product
              `products/${k.productId}`;
        try {
          const res = await this.client.get<unknown>(path, { what: `product ${key}` });
          return productSchema.parse(res.body).sku || null;
        } catch (err) {
          if (err instanceof WooNotFoundError) return null;
          this.skuCache.delete(key);
          throw err;
        }
      })();
      this.skuCache.set(key, pending);
    }
    return pending;
  }

  /** Products and variations by SKU (`sku` takes a comma-separated list). */
  private async productsBySku(skus: string[]): Promise<Map<string, Product>> {
    const found = new Map<string, Product>();
    const unique = [...new Set(skus)];
    const single = unique.filter((s) => s.includes(','));
    const batches = [...chunk(unique.filter((s) => !s.includes(',')), PER_PAGE), ...single.map((s) => [s])];
    await Promise.all(
      batches.map(async (batch) => {
        // https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-products
        const res = await this.client.get<unknown>('products', {
          what: `products with SKU ${batch.length === 1 ? batch[0] : `(${batch.length} SKUs)`}`,
          query: { sku: batch.join(','), per_page: PER_PAGE },
        });
        for (const p of parseBody(z.array(productSchema), res.body, 'products list')) if (p.sku) found.set(p.sku, p);
      }),
    );
    return found;
  }

  private async listAll<T>(path: string, schema: z.ZodType<T>, what: string): Promise<T[]> {
    const all: T[] = [];
    for (let page = 1; ; page++) {
      const res = await this.client.get<unknown>(path, { what, query: { per_page: PER_PAGE, page } });
      const items = parseBody(z.array(schema), res.body, what);
      all.push(...items);
      if (items.length < PER_PAGE || page >= Number(res.headers['x-wp-totalpages'] ?? page)) return all;
    }
  }

  /** Which tracking extension the store has, from the namespace index; cached in the shared KV. */
  private async trackingNamespace(): Promise<TrackingNamespace | null> {
    if (this.settings.tracking === 'none') return null;
    const key = `woocommerce:${this.ctx.channel.id}:tracking-namespace`;
    const cached = await this.ctx.kv.get(key);
    if (cached !== null) return (TRACKING_NAMESPACES as readonly string[]).includes(cached) ? (cached as TrackingNamespace) : null;
    const namespaces = await this.client.namespaces();
    const found = TRACKING_NAMESPACES.find((ns) => namespaces.includes(ns)) ?? null;
    await this.ctx.kv.set(key, found ?? 'none', TRACKING_CACHE_MS);
    return found;
  }

  private async addTracking(namespace: TrackingNamespace, push: FulfillmentPush): Promise<{ ref: string | null; created: boolean }> {
    const path = `orders/${encodeURIComponent(push.orderExternalId)}/shipment-trackings`;
    // https://woocommerce.com/document/shipment-tracking/shipment-tracking-rest-api-create-tracking-item/
    // https://docs.zorem.com/docs/ast-free/add-tracking-to-orders/shipment-tracking-api/
    const list = await this.client.get<unknown>(path, { namespace, what: `trackings of order ${push.orderExternalId}` });
    const items = z.array(trackingSchema).parse(list.body);
    const existing = items.find((t) => t.tracking_number === push.trackingNumber);
    if (existing) return { ref: existing.tracking_id, created: false };
    const dateShipped = new Date().toISOString().slice(0, 10);
    const body =
      namespace === 'wc-ast/v3'
        ? { tracking_provider: push.carrier, tracking_number: push.trackingNumber, date_shipped: dateShipped, status_shipped: 0, replace_tracking: 0 }
        : {
            custom_tracking_provider: push.carrier,
            custom_tracking_link: push.trackingUrl ?? '',
            tracking_number: push.trackingNumber,
            date_shipped: dateShipped,
          };
    try {
      const res = await this.client.post<unknown>(path, body, { namespace, what: `tracking on order ${push.orderExternalId}` });
      return { ref: trackingSchema.parse(res.body).tracking_id, created: true };
    } catch (err) {
      // An unknown carrier name is refused by the extension; the order note still tells the customer.
      if (err instanceof WooRequestError) {
        this.ctx.log.warn({ err: err.message, order: push.orderExternalId }, 'woocommerce tracking extension refused the item');
        return { ref: null, created: false };
      }
      throw err;
    }
  }
}

/** The customer-visible note: carrier, number and link. */
export function shipmentNote(push: Pick<FulfillmentPush, 'carrier' | 'service' | 'trackingNumber' | 'trackingUrl'>): string {
  const carrier = push.service ? `${push.carrier} (${push.service})` : push.carrier;
  return `Shipped with ${carrier}, tracking ${push.trackingNumber}${push.trackingUrl ? `: ${push.trackingUrl}` : ''}`;
}

export { gmtToDate, gmtSeconds };
