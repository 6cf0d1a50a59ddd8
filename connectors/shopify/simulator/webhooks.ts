/**
 * Webhook subscriptions and signed deliveries.
 *
 * Delivery docs: https://shopify.dev/docs/apps/build/webhooks/subscribe/https
 * Each delivery is a POST of the REST-shaped body with `X-Shopify-Topic`,
 * `X-Shopify-Hmac-SHA256` (base64 HMAC-SHA256 of the raw body keyed with the
 * app's client secret), `X-Shopify-Shop-Domain`, `X-Shopify-Webhook-Id`,
 * `X-Shopify-API-Version`, `X-Shopify-Triggered-At` and `X-Shopify-Event-Id`.
 * A retry of the same event keeps its webhook id, so receivers can dedupe.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Order, OrderTopic, ShopState } from './state.ts';
import { restOrder } from './rest-payload.ts';
import { API_VERSION } from './schema.ts';

export interface WebhookSubscription {
  id: number;
  topic: string;
  uri: string;
  format: string;
  includeFields: string[];
  metafieldNamespaces: string[];
  /** Null when none was given (Shopify distinguishes it from ""). */
  filter: string | null;
  /** The subscription's optional name (unique per app, ignoring case). */
  name?: string | null;
  /** Metafields sent with each delivery. */
  metafields?: Array<{ namespace: string; key: string }>;
  /**
   * The API version its deliveries are serialized in: the app's webhook
   * version when the subscription was created ("inherited from the app that
   * created the webhook subscription", WebhookSubscription.apiVersion).
   */
  apiVersion: string;
  createdAt: number;
  updatedAt: number;
}

/**
 * A REST body as an API version older than 2019-04 serializes it: no `*_set`
 * fields (multi-currency added them; before, every amount was the plain field
 * in shop currency, https://shopify.dev/docs/api/admin-rest/latest/resources/order#resource-object).
 * A real 2025-01 body (fixtures/shopify/webhook-orders-create.json) carries the
 * plain field beside each set, so dropping the sets leaves what those versions sent.
 */
export function bodyForVersion(body: Record<string, unknown>, version: string): unknown {
  if (version >= MULTI_CURRENCY_VERSION) return body;
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (!value || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).filter(([k]) => !k.endsWith('_set')).map(([k, v]) => [k, strip(v)]));
  };
  return strip(body);
}

/** The first API version whose REST bodies carry `*_set` money. */
export const MULTI_CURRENCY_VERSION = '2019-04';

/** One delivery attempt, as recorded for tests. */
export interface WebhookDelivery {
  url: string;
  topic: string;
  webhookId: string;
  status: number | null;
  body: string;
  headers: Record<string, string>;
}

export interface DeliveryFaults {
  dropWebhookRate: number;
  duplicateWebhookRate: number;
}

/** `orders/create` ↔ `ORDERS_CREATE` */
export const topicToEnum = (topic: string) => topic.replace('/', '_').toUpperCase();
export const enumToTopic = (e: string) => e.toLowerCase().replace('_', '/');

export class WebhookSubscriptions {
  readonly subscriptions = new Map<number, WebhookSubscription>();
  /** Every attempted delivery, newest last. */
  readonly deliveries: WebhookDelivery[] = [];
  /** The URL of `setWebhookUrl`, which holds the simulator's own subscriptions (`ownUrl`). */
  directUrl: string | null = null;
  private own: number[] = [];
  faults: DeliveryFaults = { dropWebhookRate: 0, duplicateWebhookRate: 0 };
  /** Subscriptions may point at http:// and internal hosts (`allowLocalWebhooks`); default Shopify's rules. */
  allowLocal = false;
  /** The app's webhook API version, which new subscriptions take (Shopify: the app's configuration). */
  apiVersion = API_VERSION;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly state: ShopState,
    private readonly secret: () => string,
    private readonly shopDomain: () => string,
    private readonly log?: Logger,
  ) {
    state.on('order', (topic, order) => this.onOrder(topic, order));
  }

  /**
   * `setWebhookUrl`: subscribes `url` to the order topics channelsync acts on, as
   * `webhookSubscriptionCreate` would (listed, deletable), and drops the previous
   * URL's. A topic already subscribed at that URL is left as it is (Shopify
   * refuses the same topic and address twice). Deliveries follow subscriptions
   * only, so a topic nobody subscribed to is never sent.
   */
  ownUrl(url: string | null): void {
    for (const id of this.own) this.subscriptions.delete(id);
    this.own = [];
    this.directUrl = url;
    if (!url) return;
    for (const topic of ['ORDERS_CREATE', 'ORDERS_UPDATED', 'ORDERS_CANCELLED']) {
      if ([...this.subscriptions.values()].some((s) => s.topic === topic && s.uri === url && !s.filter)) continue;
      this.own.push(this.create(topic, { uri: url }).id);
    }
  }

  private onOrder(topic: OrderTopic, order: Order): void {
    // One delivery per address and API version: each subscription gets the body of its own version.
    const targets = new Map<string, { url: string; version: string }>();
    for (const s of this.subscriptions.values()) if (s.topic === topicToEnum(topic)) targets.set(`${s.apiVersion} ${s.uri}`, { url: s.uri, version: s.apiVersion ?? API_VERSION });
    if (targets.size === 0) return;
    // Serialize now: the body is the order as it was when the event happened.
    const rest = restOrder(this.state, order);
    const triggeredAt = new Date().toISOString();
    for (const { url, version } of targets.values()) {
      if (Math.random() < this.faults.dropWebhookRate) continue;
      const body = JSON.stringify(bodyForVersion(rest, version));
      const webhookId = randomUUID();
      const times = Math.random() < this.faults.duplicateWebhookRate ? 2 : 1;
      for (let i = 0; i < times; i++) this.track(this.send(url, topic, body, webhookId, triggeredAt, version));
    }
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Sign and POST one delivery. Failures are recorded, never thrown. */
  async send(url: string, topic: string, body: string, webhookId: string = randomUUID(), triggeredAt = new Date().toISOString(), apiVersion = API_VERSION): Promise<void> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-hmac-sha256': createHmac('sha256', this.secret()).update(body, 'utf8').digest('base64'),
      'x-shopify-shop-domain': this.shopDomain(),
      'x-shopify-webhook-id': webhookId,
      'x-shopify-event-id': webhookId,
      'x-shopify-api-version': apiVersion,
      'x-shopify-triggered-at': triggeredAt,
    };
    const record: WebhookDelivery = { url, topic, webhookId, status: null, body, headers };
    this.deliveries.push(record);
    try {
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(5000) });
      record.status = res.status;
      await res.arrayBuffer();
    } catch (err) {
      this.log?.warn({ err, url, topic }, 'webhook delivery failed');
    }
  }

  /** Resolves when every delivery started so far has finished. */
  async settle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  create(topic: string, input: { uri?: string | null; callbackUrl?: string | null; format?: string | null; includeFields?: string[] | null; metafieldNamespaces?: string[] | null; filter?: string | null }): WebhookSubscription {
    const t = this.state.now();
    const s: WebhookSubscription = {
      id: this.state.nextId(), topic, uri: input.uri ?? input.callbackUrl ?? '', format: input.format ?? 'JSON',
      includeFields: input.includeFields ?? [], metafieldNamespaces: input.metafieldNamespaces ?? [], filter: input.filter ?? null,
      apiVersion: this.apiVersion, createdAt: t, updatedAt: t,
    };
    this.subscriptions.set(s.id, s);
    return s;
  }
}
