/**
 * The connector contract: what channelsync needs from a sales channel.
 *
 * A connector is created per channel row (kind, validated settings, decrypted
 * credentials). It maps the channel's payloads into the unified model in
 * `src/domain` at its edge: channel types never leak past `connectors/`.
 * The client that owns auth, HTTP and rate-limit state lives beside it in the
 * connector's folder (`client.ts`), separate from what the connector can do.
 *
 * Errors: every method throws `RetryableError` (429, 5xx, timeouts, throttling
 * that outlasted its wait) or `PermanentError` (validation, missing permission,
 * a cancelled order) from `src/domain/errors`, so jobs know whether to retry.
 */
import type { z } from 'zod';
import type { Logger } from 'pino';
import type { ChannelFulfillmentStatus, FinancialStatus, UnifiedOrder } from '../src/domain/order.ts';
import type { RateBudget, SharedKV } from '../src/queue/shared-state.ts';

/** A channel row as a connector sees it. Credentials are decrypted, never logged. */
export interface ChannelRecord<S = Record<string, unknown>, C = Record<string, unknown>> {
  id: number;
  kind: string;
  name: string;
  settings: S;
  credentials: C;
}

export interface ConnectorContext<S = Record<string, unknown>, C = Record<string, unknown>> {
  channel: ChannelRecord<S, C>;
  /** Rate-limit buckets shared by every process talking to the same channel. */
  budget: RateBudget;
  /** Small shared values with a TTL (access tokens, detected capabilities). */
  kv: SharedKV;
  log: Logger;
  /** Counts each HTTP call to the channel for the metrics (ok, throttled by the channel, or failed). */
  recordCall?(outcome: ApiCallOutcome): void;
  /**
   * Pauses the channel until a person reconnects it (the seller revoked access, the
   * refresh token is refused): recorded in Postgres (`channels.paused_at`), every job of
   * the channel then stops with a `ChannelPausedError` naming the command that ends it
   * (`channelsync channels credentials <id>`), and the dashboard and `status` show it.
   * Nothing ends a pause but new credentials. `reason` is the channel's own words;
   * the connector should also refuse its own further calls. Absent where no channel row
   * exists yet (`channels add` checking credentials) and in connector unit tests.
   */
  pauseChannel?(reason: string): Promise<void>;
  /**
   * Keeps a credential the connector obtained itself (eBay: the signing key pair
   * createSigningKey returns once) with the channel's other credentials, sealed in
   * Postgres: `credentials[name] = value` when it still equals `replaces` (undefined:
   * absent). Resolves with the value stored afterwards, so processes racing to create
   * one all end up using the same. Absent where channelsync has no channel row (tests
   * of a bare connector, `channels add` before the row exists).
   */
  storeCredential?(name: string, value: unknown, replaces?: unknown): Promise<unknown>;
}

export type ApiCallOutcome = 'ok' | 'throttled' | 'error';

/** One page of orders and the cursor to store once that page is saved. */
export interface OrderPage {
  orders: UnifiedOrder[];
  /** Opaque to everyone but the connector. Stored in the same transaction as the page. */
  cursor: string;
  /**
   * Orders of this page the connector could not read (a field its schema
   * refuses): recorded as rejected with the page, so they never stop the
   * pull and never pass silently. The cursor covers them.
   */
  rejected?: Array<{ externalId: string; reason: string; raw: unknown }>;
}

export type WebhookEvent =
  /** A channel's test delivery (WooCommerce sends one when a webhook is created). */
  | { type: 'ping' }
  /** The order as the channel sent it, mapped; upserted with the newer-wins rule. */
  | { type: 'order'; order: UnifiedOrder }
  /**
   * The delivery claims the order is gone (deleted or trashed). Only the body
   * is signed, not the topic, so this is a claim: the job asks the channel
   * (`fetchOrder`) and acts on its answer. No time: headers are unsigned.
   */
  | { type: 'order_deleted'; externalId: string }
  /** A verified delivery channelsync does not act on (an unsubscribed topic). */
  | { type: 'ignored'; reason: string };

export interface ParsedWebhook {
  /**
   * Deduplication key for the inbox: the channel's delivery id when it is
   * stable across retries (Shopify's X-Shopify-Webhook-Id), otherwise built
   * from the content (WooCommerce: order id + date_modified_gmt).
   */
  deliveryKey: string;
  topic: string;
  event: WebhookEvent;
}

export interface WebhookRequest {
  rawBody: Buffer;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
}

/** Where a SKU lives on a channel. Which ids are set depends on the channel. */
export interface ListingRef {
  sku: string;
  productExternalId: string | null;
  variantExternalId: string | null;
  inventoryItemExternalId: string | null;
}

/** A listing found on the channel (`channelsync listings sync`). */
export interface ChannelListing extends ListingRef {
  title: string;
  /** Stock the channel shows now, when it tracks stock for this listing. */
  available: number | null;
}

export interface StockReading {
  sku: string;
  /** Null when the channel does not track stock for this listing. */
  available: number | null;
}

export interface StockPush {
  listing: ListingRef;
  available: number;
  /**
   * The change this quantity serves, unique for all time: `push:<pushRowId>:<attempt>`
   * for a push job's own row, `push:<rowId>:via:<pushRowId>:<attempt>` for a row riding
   * along in that job's call, `reconcile:<slot>:<driftId>` for a correction. A channel
   * with idempotency keys derives them from it, so a retried HTTP call of the same
   * attempt replays safely while a new change (5 -> 3 again, later) never reuses a key.
   * Channels without idempotency keys ignore it.
   */
  intent: string;
}

export interface StockPushResult {
  sku: string;
  ok: boolean;
  /** Why it failed, when it did (for this SKU only; others in the batch still apply). */
  error?: string;
  /**
   * The channel said "later" for this SKU (busy, locked, throttled, 5xx): the same push
   * can succeed if sent again. Unset or false: permanent for this SKU as sent.
   */
  retryable?: boolean;
  /** With `retryable`: how long the channel asked to wait, when it said. */
  retryAfterMs?: number;
}

export interface FulfillmentPush {
  orderExternalId: string;
  /** channelsync's shipment id: the idempotency anchor for this push. */
  shipmentId: number;
  lines: Array<{ lineExternalId: string; sku: string | null; quantity: number }>;
  carrier: string;
  service: string | null;
  trackingNumber: string;
  trackingUrl: string | null;
  /** Let the channel tell the customer by its own mechanism (email, order note). */
  notifyCustomer: boolean;
  /** True when, with this shipment, every line of the order has shipped. */
  completesOrder: boolean;
}

export interface PushOutcome {
  /** The channel's id for what was created (a Shopify fulfillment GID, a tracking id). */
  externalRef: string | null;
  /** True when the channel already had it and nothing new was created. */
  alreadyDone: boolean;
}

/**
 * A refund channelsync owes the channel (a return it ran, approved). The
 * connector writes `refundMarker(refundId)` (src/domain/order.ts) into the
 * refund's note and looks for it on the channel before creating one, so a
 * push that dies after the channel accepted refunds once when it runs again.
 */
export interface RefundPush {
  orderExternalId: string;
  /** channelsync's refund id: the idempotency anchor. */
  refundId: number;
  /** All of it: lines plus shipping. Never more than the channel still holds (the channel refuses that). */
  amount: string;
  /** The part of `amount` that is shipping. */
  shipping: string;
  currency: string;
  /** Units and money per line; channelsync restocks in its own ledger, so the channel is not asked to. */
  lines: Array<{ lineExternalId: string; quantity: number; amount: string }>;
  reason: string;
  /**
   * The channel's ids of this order's refunds channelsync has recorded (read from the
   * channel, or accepted for earlier pushes). A channel whose refunds carry no note to
   * hold the marker (eBay) tells its own refund of this push, made by a run that died
   * before recording it, from these.
   */
  knownChannelRefunds?: string[];
}

export interface Capabilities {
  webhooks: boolean;
  backfill: boolean;
  cancel: boolean;
  refund: boolean;
}

/** A batch of a bulk export: orders, and (as `rejected`) those the connector could not read. */
export type BackfillBatch = UnifiedOrder[] & { rejected?: OrderPage['rejected'] };

export interface BackfillProgress {
  done: number;
  /** Known total, when the channel tells one. */
  total: number | null;
}

/** What one cheap read found when checking a channel's settings and credentials (`channels add`). */
export interface VerifyResult {
  /** The store as the channel names it (Shopify: the shop's name; WooCommerce: its URL). */
  store: string;
  /** One line on what was read, for the person adding the channel. */
  detail: string;
}

/*
 * The contract is split by role (ARCHITECTURE.md: "split the contract by role
 * rather than add flags"). Each role is a small interface; `Connector` is
 * their composition, with the roles a channel may lack optional. Code that
 * needs a role checks for it with the `has*` guards at the end of this file
 * (or the method's presence), never with a flag. The method names and doc
 * comments are the ones the single interface had, moved, not renamed.
 */

/** What every connector has: identity, a credentials check, and cleanup. */
export interface ConnectorBase {
  readonly kind: string;
  /** Kept for the admin API and older callers; prefer checking a role's presence. */
  readonly capabilities: Capabilities;

  /**
   * One cheap read proving the settings and credentials work. Throws
   * `PermanentError` with the channel's own words when it refuses them (a
   * wrong key, a missing scope, an unknown shop), `RetryableError` when it
   * cannot be reached or is overloaded.
   */
  verify(): Promise<VerifyResult>;

  /** Release clients, timers and sockets. */
  close(): Promise<void>;
}

/** Role: where orders come from (every channel). */
export interface OrderSource {
  /**
   * Pages of orders changed since `cursor` (null: from the channel's
   * `initialSince` setting, or all). Pages are yielded in ascending
   * `updatedAt` order; the last page's cursor is where the next pull starts.
   */
  pullOrders(cursor: string | null): AsyncIterable<OrderPage>;

  /** Fetch one order now (after a webhook that carries no body, or for a refresh). Null when gone. */
  fetchOrder(externalId: string): Promise<UnifiedOrder | null>;

  /** Historic orders in bulk (Shopify bulk operations); progress is reported as it streams. */
  backfill?(since: Date, onProgress: (p: BackfillProgress) => void): AsyncIterable<BackfillBatch>;
}

/** Role: signed HTTP deliveries to channelsync's `/webhooks/<channel>` route (Shopify, WooCommerce). */
export interface WebhookSource {
  /**
   * Verify the signature (constant time) and map the body. Throws
   * `WebhookRejectedError` with status 401 for a bad signature and 400 for a
   * malformed body. Pure: no I/O, so the HTTP route can answer fast.
   */
  parseWebhook(request: WebhookRequest): ParsedWebhook;

  /** Register the channel's webhooks to call `callbackUrl`. Safe to repeat. Returns the webhooks' ids on the channel. */
  registerWebhooks?(callbackUrl: string): Promise<string[]>;

  /**
   * The channel's webhooks that call `callbackUrl`, with their state on the
   * channel (`active`; WooCommerce also `paused` or `disabled`, which it sets
   * after repeated failed deliveries).
   */
  listWebhooks?(callbackUrl: string): Promise<WebhookState[]>;

  /**
   * The channel's own rules that `callbackUrl` breaks, in plain words (a
   * private host, a port, http:// where only https:// is taken); empty when
   * it keeps them. Used to say why webhooks do not arrive. Only DNS, no call
   * to the channel.
   */
  checkWebhookAddress?(callbackUrl: string): Promise<string[]>;

  /**
   * Ask the channel to send its test delivery (WooCommerce's ping,
   * `webhook_id=<id>`) again to these registered webhooks. Present only on
   * channels that have one; Shopify has no test delivery.
   */
  pingWebhooks?(ids: string[]): Promise<void>;
}

/** One message read from a notification queue: an unsigned hint that an order changed. */
export interface QueuedNotification {
  /** The channel's notification id: the inbox de-duplicates on it. */
  notificationId: string;
  /** The order the message names. A hint only: act on `fetchOrder`'s answer, never on the message. */
  orderExternalId: string | null;
  /** The channel's name for the message type (`ORDER_CHANGE`). */
  topic: string;
  /** Pass back to `ackNotifications` once the message is recorded. */
  receipt: string;
  raw: unknown;
}

/**
 * Role: notifications read from a queue the channel writes to (Amazon: an SQS
 * queue). Messages carry no signature, so they are hints: the job fetches the
 * order and acts on the channel's answer; nothing a message says may cancel,
 * delete or date anything. Polling stays the safety net.
 */
export interface NotificationQueueSource {
  /** Long-polls the queue once; resolves with up to a batch of messages (empty when none came). */
  pollNotifications(waitSeconds: number): Promise<QueuedNotification[]>;
  /** Deletes the messages from the queue once they are recorded. */
  ackNotifications(receipts: string[]): Promise<void>;
}

/**
 * What a channel keeps of a shipment's tracking URL once pushed:
 * - `as-sent`: the URL channelsync sent (Shopify, WooCommerce);
 * - `from-carrier`: the channel builds its own link from carrier and number (Amazon);
 * - `none`: the channel has no field for one and shows none (eBay's createShippingFulfillment
 *   takes carrier and tracking number only).
 */
export type TrackingUrlKept = 'as-sent' | 'from-carrier' | 'none';

/** What the channel keeps of a `FulfillmentPush` (tests and the console read it; pushes send everything regardless). */
export interface FulfilmentKeeps {
  trackingUrl: TrackingUrlKept;
}

/** Role: shipments pushed back to the channel. */
export interface FulfilmentSink {
  /** What the channel keeps of a push, declared, so callers never assume a field the channel drops. */
  readonly fulfilmentKeeps: FulfilmentKeeps;
  /** Mark shipped with carrier and tracking. Checks the channel first: calling twice creates one. */
  pushFulfillment(push: FulfillmentPush): Promise<PushOutcome>;
}

/** Role: the channel's listings (products/variants with a SKU). */
export interface ListingSource {
  /** Every product/variant with a SKU on the channel, in pages. */
  listListings(): AsyncIterable<ChannelListing[]>;
}

/** Role: stock read from and written to the channel, answered in the same call. */
export interface StockSink {
  /** Current stock of these listings, batched within the channel's limits. */
  readStock(listings: ListingRef[]): Promise<StockReading[]>;

  /** Set the available quantity of these listings, batched within the channel's limits. */
  pushStock(levels: StockPush[]): Promise<StockPushResult[]>;
}

/** What an asynchronous stock submission is: the channel's handle, opaque to all but the connector. */
export interface StockSubmission {
  handle: string;
  /** SKUs the submission carries. */
  skus: string[];
}

/** How a submitted stock change ended, or that it has not yet. */
export type StockSubmissionState =
  | { done: false; /** When to ask again. */ checkAfterMs: number }
  | { done: true; results: StockPushResult[] };

/**
 * Role, optional: stock written in bulk through an asynchronous job on the
 * channel (Amazon's JSON_LISTINGS_FEED): `submitStock` returns a handle at
 * once, `stockSubmission` says later how it ended, per SKU. The push rows stay
 * pending until it has. `asyncStockThreshold`: batches at least this large go
 * this way; smaller ones through `pushStock`.
 */
export interface AsyncStockSink {
  readonly asyncStockThreshold: number;
  /** How long a submission usually takes to be looked at again, ms (the first check, and pushes waiting on it). */
  readonly asyncStockPollMs: number;
  submitStock(levels: StockPush[]): Promise<StockSubmission>;
  stockSubmission(handle: string): Promise<StockSubmissionState>;
}

/** Role, optional: cancel an order on the channel. */
export interface OrderCanceller {
  /** Cancel on the channel, when `capabilities.cancel`. */
  cancelOrder(externalId: string, reason: string): Promise<PushOutcome>;
}

/** Role, optional: refund on the channel. */
export interface Refunder {
  /** Refund on the channel, when `capabilities.refund`. Checks the channel first: calling twice refunds once. */
  refundOrder(push: RefundPush): Promise<PushOutcome>;
}

/** What the route stores in the inbox for a verified delivery. */
export interface AcceptedDelivery {
  /** eBay's notificationId: the same across redeliveries (publishAttemptCount grows). */
  deliveryKey: string;
  topic: string;
}

/**
 * Role, optional: webhooks that need I/O to verify (eBay: the signing key is
 * fetched by id), with the endpoint challenge the channel sends first. The HTTP
 * route and the webhooks job use it instead of `parseWebhook`, which is pure.
 */
export interface NotificationEndpoint {
  /**
   * The answer to eBay's endpoint validation, `GET <endpoint>?challenge_code=...`:
   * `{challengeResponse}` for JSON with status 200. `endpoint` is this channel's
   * webhook URL as channelsync registers it (PUBLIC_URL/webhooks/<channel id>),
   * unless the channel's settings name another.
   */
  answerChallenge(challengeCode: string, endpoint: string): { challengeResponse: string };
  /**
   * At the HTTP route: verify the signature (fetching the key by id, cached) and
   * say what to store. Throws `WebhookRejectedError` (4xx) for anything unverified,
   * `RetryableError` when the key cannot be fetched now (the route answers 5xx, eBay
   * redelivers).
   */
  acceptWebhook(request: WebhookRequest): Promise<AcceptedDelivery>;
  /**
   * In the webhooks job, for a stored delivery: verify again (the key is cached)
   * and act on it. An order topic is a hint: the order is fetched from the API and
   * returned as an `order` event (`ignored` when eBay no longer shows it). An
   * AUTHORIZATION_REVOCATION pauses the channel and is returned as `ignored` with
   * what a person must do.
   */
  resolveWebhook(request: WebhookRequest): Promise<ParsedWebhook>;
}

/**
 * Role, optional: lines a person should read about a channel on the dashboard (a
 * pause and what to do, the day's remaining quota). Read from shared state only,
 * never a call to the channel while the page renders.
 */
export interface ChannelNotices {
  notices(): Promise<string[]>;
}

/**
 * A connector: the roles every channel has, plus the optional ones. A branch
 * that adds a role adds an optional member group here (`Partial<Role>`), or a
 * single optional method in the body below.
 */
export interface Connector
  extends ConnectorBase,
    OrderSource,
    FulfilmentSink,
    ListingSource,
    StockSink,
    Partial<WebhookSource>,
    Partial<NotificationQueueSource>,
    Partial<AsyncStockSink>,
    Partial<OrderCanceller>,
    Partial<Refunder>,
    Partial<NotificationEndpoint>,
    Partial<ChannelNotices> {}

/** The connector receives signed webhooks. */
export function hasWebhooks(c: Connector): c is Connector & WebhookSource {
  return typeof c.parseWebhook === 'function';
}

/** The connector reads notifications from a queue (SQS). */
export function hasNotificationQueue(c: Connector): c is Connector & NotificationQueueSource {
  return typeof c.pollNotifications === 'function' && typeof c.ackNotifications === 'function';
}

/** The connector can write stock through an asynchronous bulk job (a feed). */
export function hasAsyncStock(c: Connector): c is Connector & AsyncStockSink {
  return typeof c.submitStock === 'function' && typeof c.stockSubmission === 'function' && typeof c.asyncStockThreshold === 'number';
}

/** The connector verifies its webhooks with I/O and answers an endpoint challenge (eBay). */
export function hasNotificationEndpoint(c: Connector): c is Connector & NotificationEndpoint {
  return typeof c.answerChallenge === 'function' && typeof c.acceptWebhook === 'function' && typeof c.resolveWebhook === 'function';
}

/** The connector has lines for the dashboard. */
export function hasNotices(c: Connector): c is Connector & ChannelNotices {
  return typeof c.notices === 'function';
}

/** What the registry holds per channel kind. */
export interface ConnectorFactory<S = any, C = any> {
  /** Stable identifier stored in `channels.kind`. */
  readonly kind: string;
  readonly displayName: string;
  /** Validates `channels.settings` (shop URL, location, options). */
  readonly settingsSchema: z.ZodType<S>;
  /** Validates the decrypted credentials (tokens, keys, webhook secret). */
  readonly credentialsSchema: z.ZodType<C>;
  create(ctx: ConnectorContext<S, C>): Connector;
  /**
   * Open orders in these states have already been taken out of the channel's
   * own stock (a financial status or a channel fulfilment status matches), so
   * channelsync reserves their units too, paid or not; they ship once payable
   * (`ALLOCATE_WHEN`). Unset: only payable orders are reserved.
   */
  readonly holdsStock?: {
    readonly financial: readonly FinancialStatus[];
    readonly fulfillment: readonly ChannelFulfillmentStatus[];
  };
  /** Starts this channel's API simulator (tests, the demo, `channelsync simulate`). */
  simulate(options: SimulatorOptions): Promise<ChannelSimulator>;
}

/** One webhook registered on a channel (`Connector.listWebhooks`). */
export interface WebhookState {
  id: string;
  /** The channel's topic name (`order.created`, `ORDERS_CREATE`). */
  topic: string;
  status: string;
}

export interface SimulatorOptions {
  port?: number;
  /** Orders to seed at start. */
  orders?: number;
  /** Where signed webhooks go (`http://127.0.0.1:3000/webhooks/<channel id>`); none when unset. */
  webhookUrl?: string;
  /**
   * Accept and deliver to local webhook addresses (loopback and private hosts,
   * any port, and on Shopify http://), for tests and the demo, whose
   * channelsync listens on http://127.0.0.1. Default false: the real channel's
   * rules (WordPress's wp_http_validate_url; Shopify's https-only, no internal
   * address), so a simulator refuses what the store would.
   */
  allowLocalWebhooks?: boolean;
  /**
   * Rate limit overrides (Shopify: points per second and bucket size; WooCommerce:
   * `maxConcurrent`, the host's cap on requests in flight, shared by the simulator
   * processes of one `statePath`).
   */
  rateLimit?: { restoreRate?: number; bucketSize?: number; maxConcurrent?: number };
  log?: Logger;
  /**
   * Keep the store in this JSON file (the demo: `.channelsync/demo-sim-<kind>.json`):
   * loaded at start when it exists (no seeding then), saved atomically every
   * second and on close, so a restart keeps products, stock, orders and id
   * sequences and never hands out an id twice. In memory only when unset.
   */
  statePath?: string;
}

export interface SimulatedProduct {
  sku: string;
  title: string;
  price: string;
  stock: number;
}

export interface SimulatedOrderInput {
  lines: Array<{ sku: string; quantity: number }>;
  email?: string;
  /** Payment state at creation; default paid. */
  paid?: boolean;
}

export interface SimulatedFulfillment {
  trackingCompany: string | null;
  trackingNumber: string | null;
  trackingUrl: string | null;
  lineItems: Array<{ sku: string | null; quantity: number }>;
  /** The channel was asked to tell the customer (Shopify `notifyCustomer`; a WooCommerce customer note, which it e-mails). */
  customerNotified: boolean;
}

export interface FaultSettings {
  /** Share of requests answered with a 5xx (0..1). */
  errorRate?: number;
  /** Share of requests that never answer (the client must time out). */
  timeoutRate?: number;
  /** Added latency per request, ms. */
  latencyMs?: number;
  /** Share of webhooks not sent / sent twice. */
  dropWebhookRate?: number;
  duplicateWebhookRate?: number;
}

/**
 * A running simulator, driven the same way for every channel so that one
 * conformance suite and one demo serve them all. Every method goes through
 * the simulator's own API or state, never through channelsync.
 */
export interface ChannelSimulator {
  readonly kind: string;
  /** Base URL the connector talks to. */
  readonly url: string;
  /** Settings and credentials for a channel row that talks to this simulator. */
  channelConfig(): { settings: Record<string, unknown>; credentials: Record<string, unknown> };
  /** Where to send webhooks (set after the channel exists and its id is known). */
  setWebhookUrl(url: string | null): void;
  createProduct(product: SimulatedProduct): Promise<void>;
  createOrder(input: SimulatedOrderInput): Promise<{ externalId: string; orderNumber: string }>;
  /** Change something so the order's updated_at moves (a note, a tag). */
  touchOrder(externalId: string): Promise<void>;
  cancelOrder(externalId: string): Promise<void>;
  fulfillments(externalId: string): Promise<SimulatedFulfillment[]>;
  stockOf(sku: string): Promise<number | null>;
  setStock(sku: string, quantity: number): Promise<void>;
  setFaults(faults: FaultSettings): void;
  close(): Promise<void>;
}
