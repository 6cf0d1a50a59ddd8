/**
 * An eBay seller account behind eBay's REST APIs, in one process, for tests and
 * the demo: the OAuth token endpoint (2-hour tokens, refresh-token grant,
 * invalid_grant once revoked), getOrders/getOrder, createShippingFulfillment and
 * getShippingFulfillments, inventory items, offers and bulkUpdatePriceQuantity,
 * getPublicKey with the simulator's own ECDSA P-256 key, getRateLimits, a daily
 * call quota answered with 429 errorId 2001, and signed notifications after the
 * endpoint's challenge. Rules and errors come from the specs and tables in
 * ../shared/fixtures/ebay (see state.ts and orders.ts).
 */
import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ChannelSimulator, FaultSettings, SimulatedFulfillment, SimulatedOrderInput, SimulatedProduct, SimulatorOptions } from '../../types.ts';
import { searchOrders, type ListOrder } from './orders.ts';
import { NotificationConfig, SIM_TOPICS } from './destinations.ts';
import { EbaySimError, SellerState, type SellerSnapshot, type SimOrder } from './state.ts';
import { SimRefunds, SimSigningKeys } from './refunds.ts';
import { loadSimulatorFile, persistSimulator, type SimulatorPersistence } from '../../simulator-file.ts';
import { endpointProblems } from '../subscriptions.ts';

export const SCOPE_BASE = 'https://api.ebay.com/oauth/api_scope';
/** What the simulated seller granted: the scopes channelsync asks for. */
export const GRANTED_SCOPES = ['sell.fulfillment', 'sell.inventory', 'sell.finances', 'commerce.notification.subscription'].map((s) => `${SCOPE_BASE}/${s}`);
const TOKEN_LIFETIME_S = 7200;

export interface EbaySimulatorOptions extends SimulatorOptions {
  /** Calls per UTC day for the application (user calls). Default 50 000. */
  dailyCalls?: number;
  /** Scopes the seller granted. Default GRANTED_SCOPES. */
  grantedScopes?: string[];
  /** Digest eBay names in getPublicKey (SHA1 in eBay's SDK test data). Default SHA1. */
  digest?: 'SHA1' | 'SHA256';
  /** The seller's marketplace (EBAY_GB, EBAY_DE: an EU/UK seller, whose refunds must be signed). Default EBAY_US. */
  marketplaceId?: string;
  /** How long an issued refund stays PENDING before getOrder shows it REFUNDED, ms. Default 2000. */
  refundSettleMs?: number;
}

/** The currency a simulated seller of each marketplace is paid in. */
const CURRENCY: Record<string, string> = { EBAY_US: 'USD', EBAY_GB: 'GBP', EBAY_CA: 'CAD', EBAY_AU: 'AUD', EBAY_PL: 'PLN', EBAY_CH: 'CHF' };

/** The statePath file: the seller's data and the app's credentials (destinations, tokens and quotas are not kept). */
interface PersistedSeller extends SellerSnapshot {
  credentials: { clientId: string; clientSecret: string; refreshToken: string; verificationToken: string };
}

interface Token {
  kind: 'user' | 'app';
  scopes: string[];
  expiresAt: number;
}

interface Route {
  method: string;
  pattern: RegExp;
  auth: 'user' | 'app' | 'none';
  /** Scope a user token must hold (any of). */
  scopes?: string[];
  handle(req: SimRequest): Promise<SimReply> | SimReply;
}

export interface SimRequest {
  /** The path as it arrived, still percent-encoded (a signature's `@path`). */
  path: string;
  params: string[];
  query: URLSearchParams;
  rawQuery: string;
  headers: IncomingMessage['headers'];
  body: unknown;
  rawBody: string;
}

export interface SimReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const scopesOf = (...names: string[]) => names.map((n) => `${SCOPE_BASE}/${n}`);

export class EbaySimulator implements ChannelSimulator {
  readonly kind = 'ebay';
  readonly state: SellerState;
  clientId = `channels-${randomBytes(4).toString('hex')}-PRD-${randomBytes(6).toString('hex')}`;
  clientSecret = `PRD-${randomBytes(12).toString('hex')}`;
  refreshToken = `v^1.1#i^1#r^1#${randomBytes(24).toString('base64url')}`;
  verificationToken = `vt_${randomBytes(20).toString('hex')}`;
  readonly keyId = randomUUID();
  url = '';
  /** The last requests and answers (at most 1000), for tests that check them against eBay's specs. */
  readonly exchanges: Array<{ method: string; path: string; requestBody: unknown; status: number; responseBody: unknown }> = [];
  /** Calls answered, by operation, and how many were refused for the quota. */
  readonly stats = { calls: 0, throttled: 0, tokenGrants: 0 };
  private readonly keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  private readonly tokens = new Map<string, Token>();
  private readonly dayCalls = new Map<string, number>();
  private server!: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly routes: Route[];
  private faults: FaultSettings = {};
  /** Destinations and subscriptions (the Notification API). */
  readonly notifications = new NotificationConfig();
  private readonly deliveries = new Set<Promise<void>>();
  private revoked = false;
  private persistence: SimulatorPersistence | null = null;
  /** The app's signing keys (Key Management API). */
  readonly signingKeys: SimSigningKeys;
  /** issueRefund and the refunds' settling. */
  readonly refunds: SimRefunds;

  constructor(private readonly options: EbaySimulatorOptions = {}) {
    const marketplace = options.marketplaceId ?? 'EBAY_US';
    this.state = new SellerState(`seller_${randomBytes(3).toString('hex')}`, marketplace, CURRENCY[marketplace] ?? 'EUR');
    this.signingKeys = new SimSigningKeys(() => ({ clientId: this.clientId, clientSecret: this.clientSecret }), () => this.state.now());
    this.refunds = new SimRefunds(this.state, this.signingKeys, options.refundSettleMs ?? 2000);
    this.routes = this.buildRoutes();
    // eBay delivers over HTTPS to public hosts only; tests and the demo listen on http://127.0.0.1.
    if (!options.allowLocalWebhooks) this.notifications.endpointCheck = endpointProblems;
    this.state.onOrderChange = (o, created) => {
      if (created) this.notify('ORDER_CONFIRMATION', { orderId: o.orderId });
    };
  }

  async start(): Promise<void> {
    // Read before listening: a file that cannot be used leaves nothing open.
    const saved = this.options.statePath ? loadSimulatorFile<PersistedSeller>(this.options.statePath, 'ebay') : null;
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server.listen(this.options.port ?? 0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    if (saved) {
      // The app's keys and the seller's consent survive a restart, as on eBay; access tokens do not.
      this.state.restore(saved.state, saved.clean);
      ({ clientId: this.clientId, clientSecret: this.clientSecret, refreshToken: this.refreshToken, verificationToken: this.verificationToken } = saved.state.credentials);
    }
    if (this.options.statePath) {
      this.persistence = persistSimulator<PersistedSeller>(this.options.statePath, 'ebay', () => ({
        ...this.state.snapshot(),
        credentials: { clientId: this.clientId, clientSecret: this.clientSecret, refreshToken: this.refreshToken, verificationToken: this.verificationToken },
      }));
    }
    if (this.options.webhookUrl) this.setWebhookUrl(this.options.webhookUrl);
  }

  channelConfig(): { settings: Record<string, unknown>; credentials: Record<string, unknown> } {
    return {
      // channelsync's own daily budgets set to the quota this simulator enforces, as a seller would set them to eBay's.
      settings: { apiUrl: this.url, marketplaceId: this.state.marketplaceId, appDailyCalls: this.options.dailyCalls ?? 50_000, userDailyCalls: this.options.dailyCalls ?? 50_000 },
      credentials: { clientId: this.clientId, clientSecret: this.clientSecret, refreshToken: this.refreshToken, verificationToken: this.verificationToken },
    };
  }

  /**
   * What a seller's app does through the Notification API: createDestination for
   * `url` (eBay calls its challenge first and refuses it when the answer is wrong),
   * then a subscription to every topic. `null` removes the simulator's own.
   */
  setWebhookUrl(url: string | null): void {
    for (const [id, d] of this.notifications.destinations) {
      if (d.name !== 'simulator') continue;
      this.notifications.destinations.delete(id);
      for (const [sid, sub] of this.notifications.subscriptions) if (sub.destinationId === id) this.notifications.subscriptions.delete(sid);
    }
    if (!url) return;
    this.track(
      (async () => {
        const d = await this.notifications
          .createDestination({ name: 'simulator', status: 'ENABLED', deliveryConfig: { endpoint: url, verificationToken: this.verificationToken } })
          .catch(() => null);
        if (!d) return;
        for (const [topicId, schemaVersion] of Object.entries(SIM_TOPICS)) {
          this.notifications.createSubscription({ topicId, destinationId: d.destinationId, status: 'ENABLED', payload: { format: 'JSON', deliveryProtocol: 'HTTPS', schemaVersion } }, this.state.now());
        }
      })(),
    );
  }

  /** Resolves once the endpoint challenge and the deliveries in flight are done. */
  async settle(): Promise<void> {
    while (this.deliveries.size) await Promise.all([...this.deliveries]);
  }

  /** Whether a destination with this endpoint exists (its challenge was answered). */
  endpointRegistered(url: string): boolean {
    return [...this.notifications.destinations.values()].some((d) => d.deliveryConfig.endpoint === url);
  }

  async createProduct(p: SimulatedProduct): Promise<void> {
    this.state.createItem(p.sku, p.title, p.price, p.stock);
  }

  async createOrder(input: SimulatedOrderInput): Promise<{ externalId: string; orderNumber: string }> {
    const o = this.state.createOrder(input.lines, undefined, input.paid !== false, input.email);
    return { externalId: o.orderId, orderNumber: o.orderId };
  }

  async touchOrder(externalId: string): Promise<void> {
    const o = this.order(externalId);
    o.buyerCheckoutNotes = `note ${this.state.next()}`;
    this.state.touch(o);
  }

  async cancelOrder(externalId: string): Promise<void> {
    this.state.cancel(this.order(externalId));
  }

  async fulfillments(externalId: string): Promise<SimulatedFulfillment[]> {
    const o = this.order(externalId);
    return (this.state.fulfillments.get(externalId) ?? []).map((f) => ({
      trackingCompany: f.shippingCarrierCode ?? null,
      trackingNumber: f.shipmentTrackingNumber ?? null,
      trackingUrl: null,
      lineItems: f.lineItems.map((l) => ({ sku: o.lineItems.find((x) => x.lineItemId === l.lineItemId)?.sku ?? null, quantity: l.quantity })),
      // eBay tells the buyer about the shipment and its tracking itself.
      customerNotified: true,
    }));
  }

  async stockOf(sku: string): Promise<number | null> {
    const offer = this.state.offersOf(sku)[0];
    return offer ? offer.availableQuantity : null;
  }

  async setStock(sku: string, quantity: number): Promise<void> {
    for (const o of this.state.offersOf(sku)) o.availableQuantity = quantity;
    const item = this.state.items.get(sku);
    if (item) item.availability.shipToLocationAvailability.quantity = quantity;
  }

  setFaults(faults: FaultSettings): void {
    this.faults = { ...faults };
  }

  /** getOrders' sort (the spec names none): tests set `modified-asc`, the worst case for offset paging. */
  listOrder: ListOrder = 'creation-desc';

  /** The seller revokes the app: the refresh token stops working and AUTHORIZATION_REVOCATION is sent. */
  revoke(reason: 'REVOKED_BY_APP' | 'REVOKED_BY_USER' | 'REVOKED_BY_EBAY' | 'PASSWORD_CHANGE' = 'REVOKED_BY_USER'): void {
    this.revoked = true;
    for (const [t, v] of this.tokens) if (v.kind === 'user') this.tokens.delete(t);
    this.notify('AUTHORIZATION_REVOCATION', { username: 'seller', userId: this.state.sellerId, eiasToken: 'sim', revokeReason: reason, revocationDate: this.state.now().toISOString() });
  }

  /**
   * The seller grants the app access again (eBay's consent flow): a new refresh token,
   * returned as the authorization-code grant would; the revoked one stays refused.
   */
  grantAgain(): string {
    this.revoked = false;
    this.refreshToken = `v^1.1#i^1#r^1#${randomBytes(24).toString('base64url')}`;
    return this.refreshToken;
  }

  /** Expire every access token now (as two hours passing would). */
  expireTokens(): void {
    for (const v of this.tokens.values()) v.expiresAt = 0;
  }

  async close(): Promise<void> {
    await this.settle();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.persistence?.close();
  }

  /** A signed delivery: ECDSA over exactly the bytes sent, header as eBay's AsyncAPI contracts say. */
  signedDelivery(topic: string, data: Record<string, unknown>): { body: string; signature: string } {
    const now = this.state.now().toISOString();
    const body = JSON.stringify({
      metadata: { topic, schemaVersion: '1.0', deprecated: false },
      notification: { notificationId: randomUUID(), eventDate: now, publishDate: now, publishAttemptCount: 1, data },
    });
    const digest = this.options.digest ?? 'SHA1';
    const signature = sign(digest === 'SHA1' ? 'sha1' : 'sha256', Buffer.from(body), { key: this.keys.privateKey, dsaEncoding: 'der' }).toString('base64');
    const header = Buffer.from(JSON.stringify({ alg: 'ecdsa', kid: this.keyId, signature, digest })).toString('base64');
    return { body, signature: header };
  }

  private notify(topic: string, data: Record<string, unknown>): void {
    for (const url of this.notifications.endpointsFor(topic)) {
      if (Math.random() < (this.faults.dropWebhookRate ?? 0)) continue;
      const { body, signature } = this.signedDelivery(topic, data);
      const send = () =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-ebay-signature': signature }, body })
          .then(() => undefined)
          .catch(() => undefined);
      this.track(send());
      if (Math.random() < (this.faults.duplicateWebhookRate ?? 0)) this.track(send());
    }
  }

  private track(p: Promise<void>): void {
    this.deliveries.add(p);
    void p.finally(() => this.deliveries.delete(p));
  }

  private order(id: string): SimOrder {
    const o = this.state.orders.get(id);
    if (!o) throw new Error(`no simulated eBay order ${id}`);
    return o;
  }

  private publicKeyPem(): string {
    // eBay sends the PEM on one line (signed-messages.nodejs-sdk-test.json).
    const pem = this.keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    return pem.replace(/\n/g, '');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const reply = (r: SimReply) => {
      const text = r.body === undefined ? '' : JSON.stringify(r.body);
      let requestBody: unknown = rawBody || undefined;
      try {
        requestBody = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        // a form (the token endpoint) or a malformed body: kept as text
      }
      this.exchanges.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0]!, requestBody, status: r.status, responseBody: r.body });
      if (this.exchanges.length > 1000) this.exchanges.shift();
      // Date by the simulated eBay's clock (which tests may move), as every eBay response carries one.
      res.writeHead(r.status, { date: this.state.now().toUTCString(), ...(text ? { 'content-type': 'application/json' } : {}), ...r.headers });
      res.end(text);
    };
    try {
      if (this.faults.latencyMs) await new Promise((r) => setTimeout(r, this.faults.latencyMs));
      if (Math.random() < (this.faults.timeoutRate ?? 0)) return; // never answers
      if (Math.random() < (this.faults.errorRate ?? 0)) {
        return reply({ status: 500, body: new EbaySimError(500, 25001, 'A system error has occurred.', 'API_INVENTORY', 'APPLICATION').body() });
      }
      const [path, rawQuery = ''] = (req.url ?? '/').split('?', 2) as [string, string?];
      const route = this.routes.find((r) => r.method === req.method && r.pattern.test(path));
      if (!route) return reply({ status: 404, body: new EbaySimError(404, 2002, 'Resource not found', 'ACCESS').body() });
      const params = (route.pattern.exec(path) ?? []).slice(1).map(decodeURIComponent);
      if (route.auth !== 'none') {
        const refusal = this.authorize(req.headers.authorization, route);
        if (refusal) return reply(refusal);
      }
      let body: unknown = undefined;
      if (rawBody) {
        try {
          body = (req.headers['content-type'] ?? '').includes('json') ? JSON.parse(rawBody) : rawBody;
        } catch {
          return reply({ status: 400, body: new EbaySimError(400, 3002, 'Malformed request', 'ROUTING', 'REQUEST', 'The request has errors. For help, see the documentation for this API.').body() });
        }
      }
      this.stats.calls++;
      reply(await route.handle({ path, params, query: new URLSearchParams(rawQuery), rawQuery, headers: req.headers, body, rawBody }));
    } catch (err) {
      if (err instanceof EbaySimError) return reply({ status: err.status, body: err.body() });
      reply({ status: 500, body: new EbaySimError(500, 25001, `A system error has occurred. ${(err as Error).message}`, 'API_INVENTORY', 'APPLICATION').body() });
    }
  }

  /** Token checks and the daily quota (errors.json: 1002, 1001, 1100, 2001). */
  private authorize(header: string | undefined, route: Route): SimReply | null {
    const m = /^Bearer (.+)$/.exec(header ?? '');
    if (!m) return { status: 400, body: new EbaySimError(400, 1002, 'Missing access token', 'OAuth', 'REQUEST', 'Access token is missing in the Authorization HTTP request header.').body() };
    const token = this.tokens.get(m[1]!);
    if (!token || token.expiresAt <= this.state.now().getTime()) {
      return { status: 401, body: new EbaySimError(401, 1001, 'Invalid access token', 'OAuth', 'REQUEST', 'Invalid access token. Check the value of the Authorization HTTP request header.').body() };
    }
    const denied = { status: 403, body: new EbaySimError(403, 1100, 'Access denied', 'ACCESS', 'REQUEST', 'Insufficient permissions to fulfill the request.').body() };
    if (route.auth === 'user' && (token.kind !== 'user' || !route.scopes!.some((s) => token.scopes.includes(s)))) return denied;
    // Application-token calls (scope api_scope): a user token does not carry that scope.
    if (route.auth === 'app' && token.kind !== 'app') return denied;
    const day = `${token.kind}|${this.state.now().toISOString().slice(0, 10)}`;
    const used = this.dayCalls.get(day) ?? 0;
    if (used >= (this.options.dailyCalls ?? 50_000)) {
      this.stats.throttled++;
      return { status: 429, body: new EbaySimError(429, 2001, 'Too many requests.', 'ACCESS', 'REQUEST', 'The request limit has been reached for the resource.').body() };
    }
    this.dayCalls.set(day, used + 1);
    return null;
  }

  private buildRoutes(): Route[] {
    const fulfillment = scopesOf('sell.fulfillment', 'sell.fulfillment.readonly');
    const fulfillmentWrite = scopesOf('sell.fulfillment');
    const inventory = scopesOf('sell.inventory', 'sell.inventory.readonly');
    const inventoryWrite = scopesOf('sell.inventory');
    const s = this.state;
    return [
      { method: 'POST', pattern: /^\/identity\/v1\/oauth2\/token$/, auth: 'none', handle: (r) => this.token(r) },
      {
        method: 'GET',
        pattern: /^\/sell\/fulfillment\/v1\/order$/,
        auth: 'user',
        scopes: fulfillment,
        handle: (r) => {
          for (const o of s.orders.values()) this.refunds.settle(o);
          return { status: 200, body: searchOrders(s.orders.values(), { rawQuery: r.rawQuery, params: r.query, now: s.now(), listOrder: this.listOrder }, `${this.url}/sell/fulfillment/v1/order`) };
        },
      },
      {
        method: 'GET',
        pattern: /^\/sell\/fulfillment\/v1\/order\/([^/]+)$/,
        auth: 'user',
        scopes: fulfillment,
        handle: (r) => {
          const o = s.orders.get(r.params[0]!);
          if (!o) throw new EbaySimError(404, 32100, `Invalid Order Id: ${r.params[0]}`);
          this.refunds.settle(o);
          return { status: 200, body: o };
        },
      },
      {
        // issueRefund: scope sell.finances; signed for EU/UK sellers (./refunds.ts).
        method: 'POST',
        pattern: /^\/sell\/fulfillment\/v1\/order\/([^/]+)\/issue_refund$/,
        auth: 'user',
        scopes: scopesOf('sell.finances'),
        handle: (r) => ({
          status: 200,
          body: this.refunds.issue({ orderId: r.params[0]!, method: 'POST', url: `http://${r.headers.host ?? '127.0.0.1'}${r.path}`, headers: r.headers, body: r.body, rawBody: r.rawBody }),
        }),
      },
      // Key Management API (on apiz.ebay.com at eBay; here on the one host), application token.
      { method: 'POST', pattern: /^\/developer\/key_management\/v1\/signing_key$/, auth: 'app', handle: (r) => ({ status: 200, body: this.signingKeys.create(r.body) }) },
      {
        method: 'GET',
        pattern: /^\/developer\/key_management\/v1\/signing_key$/,
        auth: 'app',
        handle: () => ({ status: 200, body: { signingKeys: [...this.signingKeys.keys.values()] } }),
      },
      { method: 'GET', pattern: /^\/developer\/key_management\/v1\/signing_key\/([^/]+)$/, auth: 'app', handle: (r) => ({ status: 200, body: this.signingKeys.get(r.params[0]!) }) },
      {
        method: 'GET',
        pattern: /^\/sell\/fulfillment\/v1\/order\/([^/]+)\/shipping_fulfillment$/,
        auth: 'user',
        scopes: fulfillment,
        handle: (r) => {
          // The spec lists no 404 here: an unknown order is 400 32100.
          if (!s.orders.has(r.params[0]!)) throw new EbaySimError(400, 32100, `Invalid Order Id: ${r.params[0]}`);
          const list = s.fulfillments.get(r.params[0]!) ?? [];
          return { status: 200, body: { fulfillments: list, total: list.length } };
        },
      },
      { method: 'POST', pattern: /^\/sell\/fulfillment\/v1\/order\/([^/]+)\/shipping_fulfillment$/, auth: 'user', scopes: fulfillmentWrite, handle: (r) => this.ship(r) },
      {
        method: 'GET',
        pattern: /^\/sell\/inventory\/v1\/inventory_item$/,
        auth: 'user',
        scopes: inventory,
        handle: (r) => {
          // offset is a PAGE number here (0 = first page), limit 1..200, default 25.
          const limit = Number(r.query.get('limit') ?? 25);
          const page = Number(r.query.get('offset') ?? 0);
          if (!Number.isInteger(limit) || limit < 1 || limit > 200 || !Number.isInteger(page) || page < 0) {
            throw new EbaySimError(400, 25706, 'You have provided invalid pagination values.', 'API_INVENTORY');
          }
          const all = [...s.items.values()].sort((a, b) => a.sku.localeCompare(b.sku));
          const items = all.slice(page * limit, page * limit + limit);
          const link = (p: number) => `${this.url}/sell/inventory/v1/inventory_item?limit=${limit}&offset=${p}`;
          return {
            status: 200,
            body: {
              href: link(page),
              total: all.length,
              size: items.length,
              limit,
              inventoryItems: items,
              ...((page + 1) * limit < all.length ? { next: link(page + 1) } : {}),
              ...(page > 0 ? { prev: link(page - 1) } : {}),
            },
          };
        },
      },
      {
        method: 'GET',
        pattern: /^\/sell\/inventory\/v1\/offer$/,
        auth: 'user',
        scopes: inventory,
        handle: (r) => {
          const sku = r.query.get('sku');
          if (!sku) throw new EbaySimError(400, 25709, 'Invalid value for sku.', 'API_INVENTORY');
          const offers = s.offersOf(sku);
          if (!offers.length) throw new EbaySimError(404, 25710, "We didn't find the resource/entity you are requesting. Please verify the request", 'API_INVENTORY');
          return { status: 200, body: { href: `${this.url}/sell/inventory/v1/offer?sku=${encodeURIComponent(sku)}`, total: offers.length, size: offers.length, limit: 100, offers } };
        },
      },
      { method: 'POST', pattern: /^\/sell\/inventory\/v1\/bulk_update_price_quantity$/, auth: 'user', scopes: inventoryWrite, handle: (r) => this.bulkUpdate(r) },
      {
        method: 'POST',
        pattern: /^\/commerce\/notification\/v1\/destination$/,
        auth: 'app',
        handle: async (r) => {
          const d = await this.notifications.createDestination(r.body);
          return { status: 201, headers: { location: `${this.url}/commerce/notification/v1/destination/${d.destinationId}` } };
        },
      },
      {
        method: 'GET',
        pattern: /^\/commerce\/notification\/v1\/destination$/,
        auth: 'app',
        handle: () => {
          const destinations = [...this.notifications.destinations.values()];
          return { status: 200, body: { href: `${this.url}/commerce/notification/v1/destination`, total: destinations.length, limit: 20, destinations } };
        },
      },
      {
        method: 'POST',
        pattern: /^\/commerce\/notification\/v1\/subscription$/,
        auth: 'user',
        scopes: scopesOf('commerce.notification.subscription'),
        handle: (r) => {
          const sub = this.notifications.createSubscription(r.body, s.now());
          return { status: 201, headers: { location: `${this.url}/commerce/notification/v1/subscription/${sub.subscriptionId}` } };
        },
      },
      {
        method: 'GET',
        pattern: /^\/commerce\/notification\/v1\/subscription$/,
        auth: 'user',
        scopes: scopesOf('commerce.notification.subscription'),
        handle: () => {
          const subscriptions = [...this.notifications.subscriptions.values()];
          return { status: 200, body: { href: `${this.url}/commerce/notification/v1/subscription`, total: subscriptions.length, limit: 20, subscriptions } };
        },
      },
      {
        method: 'GET',
        pattern: /^\/commerce\/notification\/v1\/public_key\/([^/]+)$/,
        auth: 'app',
        handle: (r) => {
          if (r.params[0] !== this.keyId) throw new EbaySimError(404, 195000, `Public key ${r.params[0]} not found`, 'API_NOTIFICATION');
          return { status: 200, body: { algorithm: 'ECDSA', digest: this.options.digest ?? 'SHA1', key: this.publicKeyPem() } };
        },
      },
      {
        method: 'GET',
        pattern: /^\/developer\/analytics\/v1_beta\/rate_limit\/$/,
        auth: 'app',
        handle: (r) => this.rateLimits('app', r.query),
      },
      {
        method: 'GET',
        pattern: /^\/developer\/analytics\/v1_beta\/user_rate_limit\/$/,
        auth: 'user',
        scopes: scopesOf('sell.inventory', 'sell.inventory.readonly', 'sell.marketplace.insights.readonly', 'commerce.catalog.readonly', 'sell.marketing', 'sell.marketing.readonly'),
        handle: (r) => this.rateLimits('user', r.query),
      },
    ];
  }

  /** getRateLimits / getUserRateLimits: the day's quota of the simulator's one counter per token kind, filtered by api_name. */
  private rateLimits(kind: Token['kind'], query: URLSearchParams): SimReply {
    const s = this.state;
    const d = s.now();
    const reset = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)).toISOString();
    const limit = this.options.dailyCalls ?? 50_000;
    const used = this.dayCalls.get(`${kind}|${d.toISOString().slice(0, 10)}`) ?? 0;
    const rate = { limit, remaining: Math.max(0, limit - used), reset, timeWindow: 86_400 };
    const names = ['fulfillment', 'inventory'].filter((n) => !query.get('api_name') || query.get('api_name') === n);
    return { status: 200, body: { rateLimits: names.map((apiName) => ({ apiContext: 'sell', apiName, apiVersion: 'v1', resources: [{ name: `sell.${apiName}`, rates: [rate] }] })) } };
  }

  /** POST /identity/v1/oauth2/token: errors as errors.json's oauth-* entries. */
  private token(r: SimRequest): SimReply {
    const basic = Buffer.from(`${this.clientId}:${this.clientSecret}`).toString('base64');
    if (r.headers.authorization !== `Basic ${basic}`) return { status: 401, body: { error: 'invalid_client', error_description: 'client authentication failed' } };
    const form = new URLSearchParams(r.rawBody);
    const grant = form.get('grant_type');
    const issue = (kind: Token['kind'], scopes: string[]): SimReply => {
      const accessToken = `v^1.1#i^1#f^0#${kind === 'user' ? 'p^3' : 'p^1'}#${randomBytes(24).toString('base64url')}`;
      this.tokens.set(accessToken, { kind, scopes, expiresAt: this.state.now().getTime() + TOKEN_LIFETIME_S * 1000 });
      this.stats.tokenGrants++;
      return { status: 200, body: { access_token: accessToken, expires_in: TOKEN_LIFETIME_S, token_type: kind === 'user' ? 'User Access Token' : 'Application Access Token' } };
    };
    if (grant === 'client_credentials') return issue('app', [SCOPE_BASE]);
    if (grant === 'refresh_token') {
      if (this.revoked || form.get('refresh_token') !== this.refreshToken) {
        return { status: 400, body: { error: 'invalid_grant', error_description: 'the provided authorization refresh token is invalid or was issued to another client' } };
      }
      const granted = this.options.grantedScopes ?? GRANTED_SCOPES;
      const asked = (form.get('scope') ?? '').split(' ').filter(Boolean);
      // RFC 6749 6: the scope of a refresh may not exceed what the owner granted.
      if (asked.some((s) => !granted.includes(s))) {
        return { status: 400, body: { error: 'invalid_scope', error_description: 'The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the resource owner' } };
      }
      return issue('user', asked.length ? asked : granted);
    }
    return { status: 400, body: { error: 'unsupported_grant_type', error_description: `grant type ${grant ?? '(none)'} is not supported` } };
  }

  /** createShippingFulfillment: one package; rules of ShippingFulfillmentDetails (README rule 5). */
  private ship(r: SimRequest): SimReply {
    const s = this.state;
    const order = s.orders.get(r.params[0]!);
    if (!order) throw new EbaySimError(400, 32100, `Invalid Order Id: ${r.params[0]}`);
    const b = (r.body ?? {}) as { lineItems?: Array<{ lineItemId?: string; quantity?: number }>; shippedDate?: string; shippingCarrierCode?: string; trackingNumber?: string };
    const lines = b.lineItems ?? [];
    if (!Array.isArray(lines) || !lines.length) throw new EbaySimError(400, 32600, 'Invalid input data');
    const seen = new Set<string>();
    for (const l of lines) {
      if (!l.lineItemId || !order.lineItems.some((x) => x.lineItemId === l.lineItemId)) throw new EbaySimError(400, 32200, `Invalid line item id: ${l.lineItemId ?? ''}`);
      if (seen.has(l.lineItemId)) throw new EbaySimError(400, 32210, 'Duplicate line item in the request');
      seen.add(l.lineItemId);
    }
    // Tracking number and carrier are mutually dependent; the number is alphanumeric only.
    if (!!b.trackingNumber !== !!b.shippingCarrierCode || (b.trackingNumber && !/^[A-Za-z0-9]+$/.test(b.trackingNumber))) {
      throw new EbaySimError(400, 32300, 'Invalid shipment tracking number or carrier');
    }
    if (b.shippedDate !== undefined && (!Number.isFinite(Date.parse(b.shippedDate)) || Date.parse(b.shippedDate) > s.now().getTime())) {
      throw new EbaySimError(400, 32500, 'Invalid shipped date');
    }
    const list = s.fulfillments.get(order.orderId) ?? [];
    // The fulfillment id is the tracking number when there is one (else an arbitrary value).
    const fulfillmentId = b.trackingNumber ?? String(s.next());
    if (list.some((f) => f.fulfillmentId === fulfillmentId)) {
      throw new EbaySimError(409, 34500, 'Please use PUT operation for updating shipping fulfillment');
    }
    list.push({
      fulfillmentId,
      lineItems: lines.map((l) => ({ lineItemId: l.lineItemId!, quantity: l.quantity ?? order.lineItems.find((x) => x.lineItemId === l.lineItemId)!.quantity })),
      ...(b.trackingNumber ? { shipmentTrackingNumber: b.trackingNumber, shippingCarrierCode: b.shippingCarrierCode } : {}),
      shippedDate: b.shippedDate ?? s.now().toISOString(),
    });
    s.fulfillments.set(order.orderId, list);
    const shipped = new Set(list.flatMap((f) => f.lineItems.map((l) => l.lineItemId)));
    for (const li of order.lineItems) if (shipped.has(li.lineItemId)) li.lineItemFulfillmentStatus = 'FULFILLED';
    order.orderFulfillmentStatus = order.lineItems.every((li) => li.lineItemFulfillmentStatus === 'FULFILLED') ? 'FULFILLED' : 'IN_PROGRESS';
    order.fulfillmentHrefs = list.map((f) => `${this.url}/sell/fulfillment/v1/order/${order.orderId}/shipping_fulfillment/${f.fulfillmentId}`);
    s.touch(order);
    return { status: 201, headers: { location: `${this.url}/sell/fulfillment/v1/order/${order.orderId}/shipping_fulfillment/${encodeURIComponent(fulfillmentId)}` } };
  }

  /**
   * bulkUpdatePriceQuantity: up to 25 requests per call (the two texts of the spec
   * disagree on "offers of one SKU" vs "inventory items"; both allow one SKU with up
   * to 25 offers, which is what the connector sends), published offers only, 250
   * revisions per listing per calendar day; 207 when some items fail.
   */
  private bulkUpdate(r: SimRequest): SimReply {
    const s = this.state;
    if (!(r.headers['content-type'] ?? '').includes('application/json')) throw new EbaySimError(400, 25709, 'Invalid value for Content-Type header.', 'API_INVENTORY');
    const requests = (r.body as { requests?: unknown })?.requests;
    if (!Array.isArray(requests) || !requests.length) throw new EbaySimError(400, 25709, 'Invalid value for requests.', 'API_INVENTORY');
    const offerCount = requests.reduce((n: number, q: { offers?: unknown[] }) => n + (Array.isArray(q.offers) ? q.offers.length : 0), 0);
    if (requests.length > 25 || offerCount > 25) throw new EbaySimError(400, 25709, 'Invalid value for requests. Up to 25 offers may be updated with one call.', 'API_INVENTORY');
    const responses: unknown[] = [];
    for (const q of requests as Array<{ sku?: string; shipToLocationAvailability?: { quantity?: number }; offers?: Array<{ offerId?: string; availableQuantity?: number }> }>) {
      const item = q.sku ? s.items.get(q.sku) : undefined;
      const fail = (offerId: string | undefined, errorId: number, message: string) =>
        responses.push({ statusCode: 400, sku: q.sku, ...(offerId ? { offerId } : {}), errors: [{ errorId, domain: 'API_INVENTORY', category: 'REQUEST', message }] });
      if (!item) {
        fail(undefined, 25709, 'Invalid value for sku.');
        continue;
      }
      const qty = q.shipToLocationAvailability?.quantity;
      if (qty !== undefined) {
        if (!Number.isInteger(qty) || qty < 0) fail(undefined, 25709, 'Invalid value for quantity.');
        else {
          item.availability.shipToLocationAvailability.quantity = qty;
          responses.push({ statusCode: 200, sku: q.sku });
        }
      }
      for (const o of q.offers ?? []) {
        const offer = o.offerId ? s.offers.get(o.offerId) : undefined;
        if (!offer || offer.sku !== q.sku) fail(o.offerId, 25709, 'Invalid value for offerId.');
        else if (offer.status !== 'PUBLISHED') fail(o.offerId, 25002, 'Any User error. The offer is not published; use updateOffer.');
        else if (o.availableQuantity !== undefined && (!Number.isInteger(o.availableQuantity) || o.availableQuantity < 0)) fail(o.offerId, 25709, 'Invalid value for availableQuantity.');
        else if (!s.revise(offer.listing.listingId)) fail(o.offerId, 25002, 'Any User error. This listing has been revised 250 times today; it can be revised again tomorrow.');
        else {
          if (o.availableQuantity !== undefined) offer.availableQuantity = o.availableQuantity;
          responses.push({ statusCode: 200, sku: q.sku, offerId: o.offerId });
        }
      }
    }
    const failed = responses.some((x) => (x as { statusCode: number }).statusCode !== 200);
    return { status: failed ? 207 : 200, body: { responses } };
  }
}

export async function startEbaySimulator(options: EbaySimulatorOptions = {}): Promise<EbaySimulator> {
  const sim = new EbaySimulator(options);
  await sim.start();
  if (options.orders && sim.state.orders.size === 0) {
    await sim.createProduct({ sku: 'EBAY-MUG', title: 'Mug', price: '12.50', stock: 1000 });
    for (let i = 0; i < options.orders; i++) await sim.createOrder({ lines: [{ sku: 'EBAY-MUG', quantity: 1 + (i % 3) }] });
  }
  return sim;
}
