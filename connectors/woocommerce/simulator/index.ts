/**
 * A WordPress + WooCommerce 7.9 store in one process, for tests, the demo and
 * `channelsync simulate woocommerce`: the REST API v3 routes channelsync uses,
 * OAuth 1.0a over HTTP and Basic auth over HTTPS only, signed webhooks, a cap
 * on concurrent requests like a small PHP host (503 beyond it; shared by every
 * simulator process of one `statePath`, see capacity.ts) and fault injection.
 * The store is in memory, and in the `statePath` file when there is one.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type {
  ChannelSimulator,
  FaultSettings,
  SimulatedFulfillment,
  SimulatedOrderInput,
  SimulatedProduct,
  SimulatorOptions,
} from '../../types.ts';
import { signWebhookBody } from '../webhooks.ts';
import { wordpressUrlRefusal } from '../safe-url.ts';
import { type RouteRequest, type TrackingExtension, buildRoutes, notFoundRoute } from './routes.ts';
import { type Json, JsonText, type SimWebhook, StoreState, type StoreSnapshot, WooError } from './state.ts';
import { loadSimulatorFile, persistSimulator, type SimulatorPersistence } from '../../simulator-file.ts';
import { type Capacity, localCapacity, sharedCapacity } from './capacity.ts';

export interface WooSimulatorOptions extends SimulatorOptions {
  /** Installed tracking extension. Default none. */
  tracking?: TrackingExtension;
  /** Permission of the simulated API key. Default read_write. */
  keyPermissions?: 'read' | 'write' | 'read_write';
  /** Serve HTTPS with this key pair (Basic auth is only accepted then). */
  https?: { key: string; cert: string };
  faults?: FaultSettings;
  /** Statuses `faults.errorRate` answers with, picked at random. Default [500, 503]. */
  errorStatuses?: Array<500 | 502 | 503>;
  /** Emulate stores whose responses omit line item SKUs (old plugins, deleted products). */
  omitLineSkus?: boolean;
}

/**
 * One line of WooCommerce's `webhooks-delivery` log (WC_Webhook::log_delivery):
 * what was sent where and what came back. A URL WordPress refuses is logged
 * with WP_Error's code and message, as WooCommerce logs it.
 */
export interface WooDeliveryLog {
  webhookId: number;
  /** `ping` for the test delivery sent when a webhook is created, else the topic. */
  topic: string;
  url: string;
  /** The HTTP status, or the WP_Error code (`http_request_failed`). */
  responseCode: number | string;
  responseMessage: string;
  /** Milliseconds from sending to the answer (or the failure); WooCommerce logs it as the delivery's duration. */
  ms?: number;
}

/**
 * After this many consecutive failures, the next failure disables the webhook
 * (`woocommerce_max_webhook_delivery_failures`, default 5; WC_Webhook::failed_delivery
 * disables when the count already exceeds it).
 */
export const MAX_WEBHOOK_DELIVERY_FAILURES = 5;

/** WP_Http::request's answer for a URL wp_http_validate_url refuses. */
const INVALID_URL = { code: 'http_request_failed', message: 'A valid URL was not provided.' } as const;

export interface SimulatorStats {
  requests: number;
  rejectedOverCapacity: number;
  faulted: number;
  maxInFlight: number;
}

const JSON_TYPE = 'application/json; charset=UTF-8';
const OAUTH_WINDOW_S = 15 * 60;
const encode = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class WooCommerceSimulator implements ChannelSimulator {
  readonly kind = 'woocommerce';
  readonly state: StoreState;
  readonly stats: SimulatorStats = { requests: 0, rejectedOverCapacity: 0, faulted: 0, maxInFlight: 0 };
  readonly consumerKey = `ck_${randomBytes(20).toString('hex')}`;
  readonly consumerSecret = `cs_${randomBytes(20).toString('hex')}`;
  readonly webhookSecret = `whsec_${randomBytes(12).toString('hex')}`;
  url = '';
  private server!: http.Server | https.Server;
  private readonly sockets = new Set<Socket>();
  private readonly routes;
  private inFlight = 0;
  private faults: FaultSettings;
  private tracking: TrackingExtension;
  private readonly nonces = new Map<string, number>();
  private readonly deliveries = new Set<Promise<void>>();
  private ownWebhooks: number[] = [];
  /** Every delivery and ping attempted, oldest first (WooCommerce > Status > Logs, webhooks-delivery). */
  readonly deliveryLog: WooDeliveryLog[] = [];
  private persistence: SimulatorPersistence | null = null;
  /** The host's cap on requests in flight (`rateLimit.maxConcurrent`), shared by the processes of one `statePath`. */
  private readonly capacity: Capacity | null;
  /** WordPress's `auth` salt (wp-config.php), the key of `wp_hash`. */
  private readonly authSalt = randomBytes(32).toString('hex');

  constructor(private readonly options: WooSimulatorOptions) {
    this.state = new StoreState('');
    this.state.omitLineSkus = options.omitLineSkus === true;
    this.faults = { ...(options.faults ?? {}) };
    this.tracking = options.tracking ?? 'none';
    this.routes = buildRoutes(this.state, { tracking: () => this.tracking, ping: (w) => this.ping(w) });
    this.state.onEvent = (e) => this.deliver(e.topic, e.orderId);
    const max = options.rateLimit?.maxConcurrent;
    this.capacity = max === undefined ? null : options.statePath ? sharedCapacity(`${options.statePath}.inflight`, max) : localCapacity(max);
  }

  async start(): Promise<void> {
    // Read before listening: a file that cannot be used leaves nothing open.
    const saved = this.options.statePath ? loadSimulatorFile<StoreSnapshot>(this.options.statePath, 'woocommerce') : null;
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    this.server = this.options.https ? https.createServer(this.options.https, handler) : http.createServer(handler);
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server.listen(this.options.port ?? 0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `${this.options.https ? 'https' : 'http'}://127.0.0.1:${port}`;
    this.state.baseUrl = this.url;
    if (saved) this.state.restore(saved.state, saved.clean);
    else if (this.options.orders) this.seed(this.options.orders);
    if (this.options.statePath) this.persistence = persistSimulator(this.options.statePath, 'woocommerce', () => this.state.snapshot());
    if (this.options.webhookUrl) this.setWebhookUrl(this.options.webhookUrl);
  }

  channelConfig(): { settings: Record<string, unknown>; credentials: Record<string, unknown> } {
    return {
      settings: { url: this.url },
      credentials: { consumerKey: this.consumerKey, consumerSecret: this.consumerSecret, webhookSecret: this.webhookSecret },
    };
  }

  setWebhookUrl(url: string | null): void {
    for (const id of this.ownWebhooks) this.state.webhooks.delete(id);
    this.ownWebhooks = [];
    if (!url) return;
    for (const topic of ['order.created', 'order.updated', 'order.deleted']) {
      const w = this.state.createWebhook({ name: `simulator ${topic}`, topic, delivery_url: url, secret: this.webhookSecret });
      this.ownWebhooks.push(w.id);
      this.track(this.ping(w));
    }
  }

  setTracking(ext: TrackingExtension): void {
    this.tracking = ext;
  }

  setFaults(faults: FaultSettings): void {
    this.faults = { ...faults };
  }

  async createProduct(product: SimulatedProduct): Promise<void> {
    this.state.createProduct({
      name: product.title, type: 'simple', regular_price: product.price, sku: product.sku,
      manage_stock: true, stock_quantity: product.stock,
    });
  }

  async createOrder(input: SimulatedOrderInput): Promise<{ externalId: string; orderNumber: string }> {
    const o = this.state.createOrder({
      status: input.paid === false ? 'pending' : 'processing',
      set_paid: input.paid !== false,
      billing: { email: input.email ?? '' },
      line_items: input.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
    });
    return { externalId: String(o.id), orderNumber: `#${o.id}` };
  }

  async touchOrder(externalId: string): Promise<void> {
    const o = this.order(externalId);
    this.state.touchOrder(o);
  }

  async cancelOrder(externalId: string): Promise<void> {
    this.state.setStatus(this.order(externalId), 'cancelled');
  }

  async fulfillments(externalId: string): Promise<SimulatedFulfillment[]> {
    const o = this.order(externalId);
    const lineItems = o.lines.map((l) => ({ sku: this.state.products.get(l.variationId || l.productId)?.sku || null, quantity: l.quantity }));
    const trackings = this.state.trackings.get(o.id) ?? [];
    // WooCommerce e-mails a customer note to the customer: that is how the store tells them.
    const notified = (number: string) => this.state.notesOf(o.id).some((n) => n.customerNote && n.note.includes(number));
    if (trackings.length) {
      return trackings.map((t) => ({
        trackingCompany: t.tracking_provider, trackingNumber: t.tracking_number, trackingUrl: t.tracking_link || null, lineItems, customerNotified: notified(t.tracking_number),
      }));
    }
    // Without an extension, the shipping note (customer or private) is the record.
    const shipped = /^Shipped with (.+?), tracking (\S+?)(?::\s*(\S+))?$/;
    return this.state
      .notesOf(o.id)
      .filter((n) => shipped.test(n.note))
      .map((n) => {
        const m = shipped.exec(n.note)!;
        return { trackingCompany: m[1]!, trackingNumber: m[2]!, trackingUrl: m[3] ?? null, lineItems, customerNotified: n.customerNote };
      });
  }

  async stockOf(sku: string): Promise<number | null> {
    const p = this.state.bySku(sku);
    return p?.manageStock ? (p.stockQuantity ?? 0) : null;
  }

  async setStock(sku: string, quantity: number): Promise<void> {
    const p = this.state.bySku(sku);
    if (!p) throw new Error(`no product with SKU ${sku}`);
    this.state.updateProduct(p, { manage_stock: true, stock_quantity: quantity });
  }

  /** Waits for webhook deliveries in flight (tests). */
  async flushWebhooks(): Promise<void> {
    while (this.deliveries.size) await Promise.allSettled([...this.deliveries]);
  }

  async close(): Promise<void> {
    await this.flushWebhooks();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    // After the server stopped: nothing can change the store once this clean copy is written.
    this.persistence?.close();
  }

  // --- seeding -------------------------------------------------------------

  private seed(count: number): void {
    const products = Array.from({ length: 10 }, (_, i) =>
      this.state.createProduct({
        name: `Seed Product ${i + 1}`, type: 'simple', regular_price: `${(i + 1) * 5}.50`,
        sku: `SIM-${String(i + 1).padStart(3, '0')}`, manage_stock: true, stock_quantity: 1_000_000,
      }),
    );
    const now = this.state.now();
    // Spread over the past like a real shop: a few orders a minute.
    for (let i = 0; i < count; i++) {
      const p = products[i % products.length]!;
      this.state.createOrder(
        {
          status: 'processing',
          set_paid: true,
          billing: { first_name: 'Seed', last_name: `Customer ${i}`, email: `seed${i}@example.com`, country: 'US' },
          shipping: { first_name: 'Seed', last_name: `Customer ${i}`, address_1: `${i} Main St`, city: 'Town', country: 'US' },
          line_items: [{ product_id: p.id, quantity: 1 + (i % 3) }],
          shipping_lines: [{ method_id: 'flat_rate', method_title: 'Flat rate', total: '4.90' }],
        },
        { at: now - (count - i) * 20, silent: true },
      );
    }
    // A real shop's CPU is not on the machine that measures its client: each
    // seeded order is serialised now, once (StoreState.orderText), instead of
    // competing with the client for the cores while a pull reads it.
    for (const o of this.state.orders.values()) this.state.orderText(o);
  }

  private order(externalId: string) {
    const o = this.state.orders.get(Number(externalId));
    if (!o) throw new Error(`no order ${externalId}`);
    return o;
  }

  // --- HTTP ----------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.requests++;
    this.inFlight++;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlight);
    let held = false;
    let release: (() => void) | null = null;
    try {
      if (this.capacity && !(release = this.capacity.tryAcquire())) {
        // php-fpm out of children: the web server answers before WordPress runs (capacity.ts).
        this.stats.rejectedOverCapacity++;
        req.resume();
        res.writeHead(503, { 'content-type': 'text/html; charset=UTF-8' });
        res.end('<html><head><title>503 Service Temporarily Unavailable</title></head><body><h1>Service Temporarily Unavailable</h1></body></html>');
        return;
      }
      const f = this.faults;
      if (f.latencyMs) await sleep(f.latencyMs);
      if (f.timeoutRate && Math.random() < f.timeoutRate) {
        this.stats.faulted++;
        held = true; // never answered; the socket is destroyed on close()
        req.resume();
        this.inFlight--;
        return;
      }
      if (f.errorRate && Math.random() < f.errorRate) {
        this.stats.faulted++;
        req.resume();
        const statuses = this.options.errorStatuses ?? [500, 503];
        const status = statuses[Math.floor(Math.random() * statuses.length)] ?? 500;
        if (status !== 500) {
          res.writeHead(status, { 'content-type': 'text/html; charset=UTF-8' });
          res.end(`<html><body><h1>${status} Service Unavailable</h1></body></html>`);
        } else {
          this.send(res, 500, {
            code: 'internal_server_error',
            message: '<p>There has been a critical error on this website.</p><p><a href="https://wordpress.org/documentation/article/faq-troubleshooting/">Learn more about troubleshooting WordPress.</a></p>',
            data: { status: 500 },
            additional_errors: [],
          });
        }
        return;
      }
      const raw = await readBody(req);
      const url = new URL(req.url ?? '/', this.url);
      await this.route(req, res, url, raw);
    } catch (err) {
      if (!res.headersSent) this.send(res, 500, { code: 'internal_server_error', message: String(err), data: { status: 500 } });
    } finally {
      if (!held) this.inFlight--;
      // A request that is never answered (timeoutRate) lets its place go, as before.
      release?.();
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL, raw: Buffer): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/\/{2,}/g, '/');
    const route = this.routes.find((r) => r.pattern.test(path));
    const allow = route ? Object.keys(route.methods).join(', ') : undefined;
    try {
      if (!route) throw notFoundRoute();
      const handler = route.methods[method === 'PATCH' ? 'PUT' : method];
      if (!handler) throw notFoundRoute();
      if (!route.public) this.authenticate(req, url, method);
      let body: Json = {};
      if (raw.length) {
        const type = req.headers['content-type'] ?? '';
        if (type.includes('application/x-www-form-urlencoded')) {
          body = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
        } else {
          try {
            body = JSON.parse(raw.toString('utf8')) as Json;
          } catch {
            throw new WooError(400, 'rest_invalid_json', 'Invalid JSON body passed.', {
              status: 400, json_error_code: 4, json_error_message: 'Syntax error',
            });
          }
        }
      }
      const query = new URLSearchParams([...url.searchParams].filter(([k]) => !k.startsWith('oauth_') && k !== 'consumer_key' && k !== 'consumer_secret'));
      const request: RouteRequest = { method, path, query, body };
      const params = route.pattern.exec(path)!.slice(1);
      // Whatever a write does, no order answers from a cache built before it (state.ts, orderText).
      if (method !== 'GET' && method !== 'HEAD') this.state.revision++;
      const out = await handler(request, params);
      if (method !== 'GET' && method !== 'HEAD') this.state.revision++;
      this.send(res, out.status, out.body, { ...(allow ? { allow } : {}), ...out.headers });
    } catch (err) {
      if (err instanceof WooError) {
        this.send(res, err.status, { code: err.code, message: err.message, data: err.data }, allow ? { allow } : {});
        return;
      }
      throw err;
    }
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const json = body instanceof JsonText ? body.text : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': JSON_TYPE,
      link: `<${this.url}/wp-json/>; rel="https://api.w.org/"`,
      ...headers,
    });
    res.end(json);
  }

  /**
   * WC_REST_Authentication: Basic (or consumer_key/secret in the query) only
   * over TLS; OAuth 1.0a one-legged signatures over plain HTTP.
   */
  private authenticate(req: IncomingMessage, url: URL, method: string): void {
    const tls = Boolean(this.options.https);
    let key: string | null = null;
    if (tls) {
      const auth = req.headers.authorization ?? '';
      let secret: string | null = null;
      if (auth.startsWith('Basic ')) {
        const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
        const i = decoded.indexOf(':');
        key = decoded.slice(0, i);
        secret = decoded.slice(i + 1);
      } else if (url.searchParams.has('consumer_key')) {
        key = url.searchParams.get('consumer_key');
        secret = url.searchParams.get('consumer_secret');
      }
      if (key !== null) {
        if (key !== this.consumerKey) throw authError('Consumer key is invalid.');
        if (!safeEqual(secret ?? '', this.consumerSecret)) throw authError('Consumer secret is invalid.');
      }
    } else {
      const params = new Map<string, string>([...url.searchParams]);
      const header = req.headers.authorization ?? '';
      if (header.startsWith('OAuth ')) {
        for (const part of header.slice(6).split(',')) {
          const m = /^\s*([^=]+)="?([^"]*)"?\s*$/.exec(part);
          if (m) params.set(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!));
        }
      }
      if (params.has('oauth_consumer_key')) {
        key = params.get('oauth_consumer_key')!;
        this.verifyOAuth(method, url, params);
      }
    }
    if (key === null) {
      const verb = method === 'GET' ? 'cannot list resources' : 'are not allowed to create resources';
      throw new WooError(401, method === 'GET' ? 'woocommerce_rest_cannot_view' : 'woocommerce_rest_cannot_create', `Sorry, you ${verb}.`);
    }
    const perm = this.options.keyPermissions ?? 'read_write';
    if ((method === 'GET' || method === 'HEAD') && perm === 'write') {
      throw authError('The API key provided does not have read permissions.');
    }
    if (method !== 'GET' && method !== 'HEAD' && perm === 'read') {
      throw authError('The API key provided does not have write permissions.');
    }
  }

  private verifyOAuth(method: string, url: URL, params: Map<string, string>): void {
    if (params.get('oauth_consumer_key') !== this.consumerKey) throw authError('Consumer key is invalid.');
    const signature = params.get('oauth_signature') ?? '';
    const sigMethod = params.get('oauth_signature_method') ?? '';
    if (sigMethod !== 'HMAC-SHA1' && sigMethod !== 'HMAC-SHA256') throw authError('Invalid signature - signature method is invalid.');
    const ts = Number(params.get('oauth_timestamp'));
    const now = Math.floor(Date.now() / 1000);
    if (!Number.isFinite(ts) || Math.abs(now - ts) > OAUTH_WINDOW_S) throw authError('Invalid timestamp.');
    const nonce = params.get('oauth_nonce') ?? '';
    const normalized = [...params]
      .filter(([k]) => k !== 'oauth_signature')
      .map(([k, v]) => [encode(k), encode(v)] as const)
      .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const base = `${method}&${encode(`${url.protocol}//${url.host}${url.pathname}`)}&${encode(normalized)}`;
    const expected = createHmac(sigMethod === 'HMAC-SHA1' ? 'sha1' : 'sha256', `${this.consumerSecret}&`).update(base).digest('base64');
    if (!safeEqual(expected, signature)) throw authError('Invalid signature - provided signature does not match.');
    // Nonces are checked after the signature, as WooCommerce does.
    for (const [n, at] of this.nonces) if (at < now - OAUTH_WINDOW_S) this.nonces.delete(n);
    if (this.nonces.has(`${ts}:${nonce}`)) throw authError('Invalid nonce - nonce has already been used.');
    this.nonces.set(`${ts}:${nonce}`, ts);
  }

  // --- webhooks ------------------------------------------------------------

  /**
   * WordPress's wp_http_validate_url for this store: refuses private hosts and
   * ports other than 80/443/8080 unless the simulator was started with
   * `allowLocalWebhooks` (what a plugin's `http_request_host_is_external` and
   * `http_allowed_safe_ports` filters do on a real store).
   */
  private refusal(url: string) {
    const local = this.options.allowLocalWebhooks === true;
    return wordpressUrlRefusal(url, this.url, { allowPrivateHosts: local, allowAnyPort: local });
  }

  /**
   * WC_Webhook::deliver_ping: an unsigned form-encoded POST `webhook_id=<id>`.
   * A 200 clears `pending_delivery`; anything else leaves it set (the next
   * update of the webhook pings again). Failed pings are not counted as
   * delivery failures.
   */
  private async ping(w: SimWebhook): Promise<void> {
    const log = (responseCode: number | string, responseMessage: string) =>
      void this.deliveryLog.push({ webhookId: w.id, topic: 'ping', url: w.deliveryUrl, responseCode, responseMessage });
    const refused = await this.refusal(w.deliveryUrl);
    if (refused) {
      this.options.log?.warn({ webhook: w.id, url: w.deliveryUrl, reason: refused.detail }, `Error: Delivery URL cannot be reached: ${INVALID_URL.message}`);
      return log(INVALID_URL.code, `Error: Delivery URL cannot be reached: ${INVALID_URL.message}`);
    }
    try {
      const r = await fetch(w.deliveryUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'WooCommerce/7.9.0 Hookshot (WordPress/6.1.9)' },
        body: `webhook_id=${w.id}`,
        signal: AbortSignal.timeout(5000),
      });
      await r.arrayBuffer();
      if (r.status === 200) w.pendingDelivery = false;
      log(r.status, r.status === 200 ? 'OK' : `Error: Delivery URL returned response code: ${r.status}`);
    } catch (err) {
      log('http_request_failed', `Error: Delivery URL cannot be reached: ${(err as Error).message}`);
    }
  }

  /**
   * WC_Webhook::deliver then log_delivery: a 2xx, 301 or 302 resets the
   * failure count; anything else (a refused URL included) is a failure, and
   * failed_delivery disables the webhook once the count exceeds
   * MAX_WEBHOOK_DELIVERY_FAILURES.
   */
  private async deliverOne(hook: SimWebhook, topic: string, body: string, deliveryId: string): Promise<void> {
    const [resource = '', event = ''] = topic.split('.');
    let code: number | string;
    let message: string;
    const started = performance.now();
    const refused = await this.refusal(hook.deliveryUrl);
    if (refused) {
      ({ code, message } = INVALID_URL);
    } else {
      try {
        const r = await fetch(hook.deliveryUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'WooCommerce/7.9.0 Hookshot (WordPress/6.1.9)',
            'x-wc-webhook-source': `${this.url}/`,
            'x-wc-webhook-topic': topic,
            'x-wc-webhook-resource': resource,
            'x-wc-webhook-event': event,
            'x-wc-webhook-signature': signWebhookBody(body, hook.secret),
            'x-wc-webhook-id': String(hook.id),
            'x-wc-webhook-delivery-id': deliveryId,
          },
          body,
          // Redirects are not followed: WooCommerce counts 301/302 as delivered.
          redirect: 'manual',
          signal: AbortSignal.timeout(5000),
        });
        await r.arrayBuffer();
        code = r.status;
        message = r.statusText;
      } catch (err) {
        code = 'http_request_failed';
        message = (err as Error).message;
      }
    }
    this.deliveryLog.push({ webhookId: hook.id, topic, url: hook.deliveryUrl, responseCode: code, responseMessage: message, ms: performance.now() - started });
    if (typeof code === 'number' && code >= 200 && code < 303) {
      hook.failureCount = 0;
      return;
    }
    if (hook.failureCount > MAX_WEBHOOK_DELIVERY_FAILURES) {
      hook.status = 'disabled';
      this.options.log?.warn({ webhook: hook.id, url: hook.deliveryUrl }, 'webhook disabled after repeated delivery failures');
    } else {
      hook.failureCount++;
    }
  }

  private deliver(topic: string, orderId: number): void {
    const hooks = [...this.state.webhooks.values()].filter((w) => w.status === 'active' && w.topic === topic);
    if (!hooks.length) return;
    const order = this.state.orders.get(orderId);
    const payload = topic === 'order.deleted' || !order ? { id: orderId } : this.state.orderJson(order);
    // PHP's json_encode escapes slashes; the signature covers these exact bytes.
    const body = JSON.stringify(payload).replace(/\//g, '\\/');
    for (const hook of hooks) {
      if (this.faults.dropWebhookRate && Math.random() < this.faults.dropWebhookRate) continue;
      // One id for every copy of this delivery, taken when it is made, as WooCommerce does.
      const deliveryId = this.newDeliveryId(hook);
      const copies = this.faults.duplicateWebhookRate && Math.random() < this.faults.duplicateWebhookRate ? 2 : 1;
      for (let i = 0; i < copies; i++) this.track(this.deliverOne(hook, topic, body, deliveryId));
    }
  }

  /**
   * WC_Webhook::get_new_delivery_id: `wp_hash( $this->get_id() . strtotime( 'now' ) )`,
   * an HMAC-MD5 keyed with the site's auth salt. So it is not unique per delivery:
   * every delivery of one webhook within one second carries the same id, even
   * with different bodies (captures/webhooks.json: the two order.updated
   * deliveries of order 23 share 948f6fe0...). Copies of one delivery share it too.
   */
  private newDeliveryId(hook: SimWebhook): string {
    return createHmac('md5', this.authSalt).update(`${hook.id}${this.state.now()}`).digest('hex');
  }

  private track(p: Promise<void>): void {
    this.deliveries.add(p);
    void p.finally(() => this.deliveries.delete(p));
  }
}

function authError(message: string): WooError {
  return new WooError(401, 'woocommerce_rest_authentication_error', message);
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Starts a simulated WooCommerce store on 127.0.0.1. */
export async function startWooCommerceSimulator(options: WooSimulatorOptions = {}): Promise<WooCommerceSimulator> {
  const sim = new WooCommerceSimulator(options);
  await sim.start();
  return sim;
}
