/**
 * The Shopify Admin GraphQL client: auth, HTTP and the shared cost budget.
 * The connector says *what* to ask; this file owns *how*.
 *
 * Why not `@shopify/shopify-api`'s GraphQL client for the POST: its transport
 * is a process-wide runtime adapter (`setAbstractFetchFunc`), so trusting the
 * simulator's private CA would mean changing TLS for every Shopify call in the
 * process; it retries only HTTP 429/503 on its own schedule, while Shopify
 * reports throttling as HTTP 200 with a `THROTTLED` error that only a
 * cost-aware client can wait out correctly. So the POST is `node:https` with
 * this connector's own `https.Agent` (keep-alive, and `ca` when a private CA
 * is configured), and the library supplies the version and header constants.
 *
 * Rate limits: https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
 * Every request first reserves its estimated cost (the `requestedQueryCost`
 * learned from the previous response of the same operation and page size) in
 * the Redis bucket shared by every process talking to this shop, waits as long
 * as the bucket says, and afterwards refunds the unspent points and aligns the
 * bucket with `extensions.cost.throttleStatus`.
 */
import https from 'node:https';
import http from 'node:http';
import { createInterface } from 'node:readline';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { PermanentError, RetryableError } from '../../src/domain/errors.ts';
import { sleep } from '../../src/domain/async.ts';
import { awaitReservation, type BucketLimits, type RateBudget, type SharedKV } from '../../src/queue/shared-state.ts';
import type { ApiCallOutcome } from '../types.ts';

export type ShopifyAuth = { accessToken: string } | { clientId: string; clientSecret: string };

export interface ShopifyClientOptions {
  /** `shop.myshopify.com`, or `host:port` for the simulator. No scheme. */
  shopDomain: string;
  apiVersion: string;
  /** PEM of a private CA to trust for this shop only (the simulator). */
  caCertificate?: string | undefined;
  auth: ShopifyAuth;
  budget: RateBudget;
  kv: SharedKV;
  log: Logger;
  /** Per-request timeout. Default 30 000 ms. */
  requestTimeoutMs?: number;
  /** Attempts for transient failures (5xx, timeouts, resets) inside one call. Default 3. */
  maxAttempts?: number;
  /** THROTTLED answers waited out inside one call before giving up as retryable. Default 50. */
  maxThrottleWaits?: number;
  /** Counts each HTTP call (metrics). */
  recordCall?(outcome: ApiCallOutcome): void;
}

/** `extensions.cost` of a GraphQL Admin response. */
export interface QueryCost {
  requestedQueryCost: number;
  actualQueryCost: number | null;
  throttleStatus: { maximumAvailable: number; currentlyAvailable: number; restoreRate: number };
}

export interface GraphqlCallOptions {
  /**
   * Safe to send again after a timeout or 5xx (queries; mutations with an
   * idempotency key). Others fail as retryable at once and the job re-checks
   * the channel before trying again. Default: true for queries.
   */
  idempotent?: boolean;
  /** Cost to reserve the first time this operation is sent (later: learned). */
  estimate?: number;
}

interface GraphqlError {
  message: string;
  extensions?: { code?: string; [k: string]: unknown };
}

/** The query asks for more than Shopify allows in one request (1000 points); ask for fewer items. */
export class QueryCostExceededError extends PermanentError {
  override readonly code = 'SHOPIFY_MAX_COST_EXCEEDED';
}

/** Shopify's standard plan until the first response tells the real numbers. */
const DEFAULT_LIMITS: BucketLimits = { capacity: 1000, refillPerSecond: 100 };
const DEFAULT_ESTIMATE = 100;
/** Refresh client-credentials tokens this long before they expire. */
const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

export class ShopifyClient {
  readonly endpoint: string;
  private readonly agent: https.Agent;
  private readonly closed = new AbortController();
  private readonly budgetKey: string;
  private limits: BucketLimits | null = null;
  private readonly estimates = new Map<string, number>();
  private token: { value: string; expiresAt: number } | null = null;
  private tokenRequest: Promise<string> | null = null;
  /** Counters for tests and the bench. */
  readonly stats = { requests: 0, throttled: 0, actualCost: 0, tokenRefreshes: 0 };

  constructor(private readonly options: ShopifyClientOptions) {
    this.endpoint = `https://${options.shopDomain}/admin/api/${options.apiVersion}/graphql.json`;
    this.agent = new https.Agent({
      keepAlive: true,
      ...(options.caCertificate ? { ca: options.caCertificate } : {}),
    });
    this.budgetKey = `shopify:${options.shopDomain}`;
  }

  /**
   * Sends one GraphQL document and returns `data`. Waits for the shared cost
   * budget before sending, waits out THROTTLED answers, refreshes an expired
   * client-credentials token once on 401. Throws RetryableError or
   * PermanentError (with Shopify's message) otherwise.
   */
  async graphql<T>(query: string, variables: Record<string, unknown> = {}, call: GraphqlCallOptions = {}): Promise<T> {
    const isMutation = /^\s*mutation\b/m.test(query.replace(/^#.*$/gm, ''));
    const idempotent = call.idempotent ?? !isMutation;
    const costKey = `${operationName(query)}:${JSON.stringify(sizeVariables(variables))}`;
    const maxAttempts = this.options.maxAttempts ?? 3;
    const maxThrottleWaits = this.options.maxThrottleWaits ?? 50;
    let attempts = 0;
    let throttles = 0;
    let reauthenticated = false;

    for (;;) {
      // Closed (shutdown) between two attempts, or before the first: do not start another.
      if (this.closed.signal.aborted) throw new RetryableError(`Shopify ${this.options.shopDomain}: client closed`);
      const limits = await this.currentLimits();
      const estimate = Math.min(this.estimates.get(costKey) ?? call.estimate ?? DEFAULT_ESTIMATE, limits.capacity);
      // Queue behind earlier reservations; go as soon as refunds or the refill cover this one.
      const reservation = await this.options.budget.reserve(this.budgetKey, estimate, limits);
      await this.closable(awaitReservation(this.options.budget, this.budgetKey, reservation, limits, 100, this.closed.signal));

      const token = await this.accessToken();
      let response: HttpResponse;
      try {
        this.stats.requests++;
        response = await this.post(token, JSON.stringify({ query, variables }));
      } catch (err) {
        this.options.recordCall?.('error');
        // Unknown whether Shopify ran it: the reservation stays spent.
        attempts++;
        if (idempotent && attempts < maxAttempts) {
          await this.wait(backoff(attempts));
          continue;
        }
        throw new RetryableError(`Shopify ${this.options.shopDomain}: ${(err as Error).message}`, backoff(attempts), {
          cause: err,
        });
      }

      if (response.status !== 200) this.options.recordCall?.(response.status === 429 ? 'throttled' : 'error');
      if (response.status !== 200) {
        await this.options.budget.refund(this.budgetKey, estimate, limits);
        if (response.status === 401 && 'clientId' in this.options.auth && !reauthenticated) {
          reauthenticated = true;
          await this.invalidateToken();
          continue;
        }
        if (response.status === 429 || response.status >= 500) {
          attempts++;
          const retryAfter = retryAfterMs(response.headers['retry-after']) ?? backoff(attempts);
          if ((idempotent || response.status === 429) && attempts < maxAttempts) {
            await this.wait(retryAfter);
            continue;
          }
          throw new RetryableError(`Shopify ${this.options.shopDomain} answered HTTP ${response.status}`, retryAfter);
        }
        throw new PermanentError(
          `Shopify ${this.options.shopDomain} answered HTTP ${response.status}${httpHint(response.status)}: ${excerpt(response.body)}`,
        );
      }

      let payload: { data?: T | null; errors?: GraphqlError[]; extensions?: { cost?: QueryCost } };
      try {
        payload = JSON.parse(response.body);
      } catch {
        throw new RetryableError(`Shopify ${this.options.shopDomain} sent a non-JSON 200 answer: ${excerpt(response.body)}`);
      }

      const cost = payload.extensions?.cost;
      await this.settle(costKey, estimate, limits, cost);

      const errors = payload.errors ?? [];
      const throttled = errors.some((e) => e.extensions?.code === 'THROTTLED');
      this.options.recordCall?.(throttled ? 'throttled' : errors.length ? 'error' : 'ok');
      if (throttled) {
        this.stats.throttled++;
        throttles++;
        if (throttles > maxThrottleWaits) {
          throw new RetryableError(`Shopify ${this.options.shopDomain} kept throttling after ${throttles} waits`, 1000);
        }
        // The next reserve() waits exactly as long as the refill of the
        // requested cost needs: the bucket was just aligned with Shopify's.
        this.options.log.debug({ shop: this.options.shopDomain, cost }, 'shopify throttled; waiting for the bucket');
        continue;
      }
      if (errors.length > 0) {
        const error = classifyGraphqlErrors(this.options.shopDomain, errors);
        attempts++;
        if (error instanceof RetryableError && idempotent && attempts < maxAttempts) {
          await this.wait(backoff(attempts));
          continue;
        }
        throw error;
      }
      if (payload.data == null) throw new PermanentError(`Shopify ${this.options.shopDomain} answered without data`);
      return payload.data;
    }
  }

  /**
   * Streams a download (bulk operation JSONL) line by line, never holding the
   * file in memory. The private CA applies only to the shop's own host.
   * https://shopify.dev/docs/api/usage/bulk-operations/queries#download-result-data
   */
  async *lines(url: string): AsyncIterable<string> {
    const target = new URL(url);
    const sameHost = target.host === this.options.shopDomain;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req =
        target.protocol === 'http:'
          ? http.get(target, resolve)
          : https.get(target, sameHost ? { agent: this.agent } : {}, resolve);
      req.setTimeout(this.options.requestTimeoutMs ?? 30_000, () => req.destroy(new Error('download timed out')));
      req.on('error', reject);
    }).catch((err: Error) => {
      throw new RetryableError(`bulk result download failed: ${err.message}`, 1000, { cause: err });
    });
    if (response.statusCode !== 200) {
      response.resume();
      const err = `bulk result download answered HTTP ${response.statusCode}`;
      throw (response.statusCode ?? 500) >= 500 ? new RetryableError(err) : new PermanentError(err);
    }
    const reader = createInterface({ input: response, crlfDelay: Infinity });
    for await (const line of reader) {
      if (line.trim()) yield line;
    }
  }

  /** The bucket limits last reported by Shopify for this shop (shared through kv). */
  async currentLimits(): Promise<BucketLimits> {
    if (this.limits) return this.limits;
    const stored = await this.options.kv.get(`shopify:limits:${this.options.shopDomain}`);
    if (stored) {
      try {
        const parsed = JSON.parse(stored) as BucketLimits;
        if (parsed.capacity > 0 && parsed.refillPerSecond > 0) this.limits = parsed;
      } catch {
        // A corrupt value is replaced after the next response.
      }
    }
    return this.limits ?? DEFAULT_LIMITS;
  }

  /** Destroys the sockets and ends every wait of this client (budget, back-off) with a RetryableError. */
  close(): void {
    this.closed.abort();
    this.agent.destroy();
  }

  /** A back-off wait that `close()` ends: a daemon stopping must not sit out the waits of a job it lets go. */
  private wait(ms: number): Promise<void> {
    return this.closable(sleep(ms, this.closed.signal));
  }

  private async closable(wait: Promise<void>): Promise<void> {
    try {
      await wait;
    } catch (err) {
      if (this.closed.signal.aborted) throw new RetryableError(`Shopify ${this.options.shopDomain}: client closed while waiting`, undefined, { cause: err });
      throw err;
    }
  }

  /**
   * After an answer: learn the limits, refund what the request did not spend
   * and align the shared bucket with Shopify's `throttleStatus`.
   * `reservedUnder` is the limits the reservation was made with: when Shopify
   * reports a larger bucket (the first answer of a shop, while the client
   * assumed the 1,000-point default), the shared bucket was capped at the
   * smaller size and is given the difference back; the alignment that
   * follows still never leaves more than Shopify reported. Without it a
   * fresh daemon left 1,000 of a standard shop's 2,000 points unspent (10 s
   * of the Shopify pull bench's 124).
   */
  private async settle(costKey: string, reserved: number, reservedUnder: BucketLimits, cost: QueryCost | undefined): Promise<void> {
    if (!cost?.throttleStatus) return;
    const status = cost.throttleStatus;
    const limits = { capacity: status.maximumAvailable, refillPerSecond: status.restoreRate };
    if (limits.capacity > 0 && limits.refillPerSecond > 0) {
      if (this.limits?.capacity !== limits.capacity || this.limits.refillPerSecond !== limits.refillPerSecond) {
        this.limits = limits;
        await this.options.kv.set(`shopify:limits:${this.options.shopDomain}`, JSON.stringify(limits), 3_600_000);
      }
    }
    const current = this.limits ?? DEFAULT_LIMITS;
    if (cost.requestedQueryCost > 0) this.estimates.set(costKey, cost.requestedQueryCost);
    // A throttled request spent nothing (actualQueryCost null): give it all back.
    const spent = cost.actualQueryCost ?? 0;
    this.stats.actualCost += spent;
    // Refund first, then align: the alignment only ever lowers the level.
    const grown = Math.max(0, current.capacity - reservedUnder.capacity);
    await this.options.budget.refund(this.budgetKey, reserved - spent + grown, current);
    await this.options.budget.sync(this.budgetKey, status.currentlyAvailable, current);
  }

  // ------------------------------------------------------------ auth

  private async accessToken(): Promise<string> {
    const auth = this.options.auth;
    if ('accessToken' in auth) return auth.accessToken;
    if (this.token && this.token.expiresAt - TOKEN_REFRESH_MARGIN_MS > Date.now()) return this.token.value;
    this.tokenRequest ??= this.loadOrRequestToken(auth).finally(() => {
      this.tokenRequest = null;
    });
    return this.tokenRequest;
  }

  private tokenKey(auth: { clientId: string }): string {
    return `shopify:token:${this.options.shopDomain}:${auth.clientId}`;
  }

  private async loadOrRequestToken(auth: { clientId: string; clientSecret: string }): Promise<string> {
    const stored = await this.options.kv.get(this.tokenKey(auth));
    if (stored) {
      try {
        const t = JSON.parse(stored) as { value: string; expiresAt: number };
        if (t.expiresAt - TOKEN_REFRESH_MARGIN_MS > Date.now()) {
          this.token = t;
          return t.value;
        }
      } catch {
        // Fall through to a fresh token.
      }
    }
    // Client credentials grant:
    // https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/client-credentials-grant
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: auth.clientId,
      client_secret: auth.clientSecret,
    }).toString();
    let response: HttpResponse;
    try {
      response = await this.request(`https://${this.options.shopDomain}/admin/oauth/access_token`, body, {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      });
    } catch (err) {
      throw new RetryableError(`Shopify ${this.options.shopDomain} token request failed: ${(err as Error).message}`, 1000, {
        cause: err,
      });
    }
    if (response.status >= 500 || response.status === 429) {
      throw new RetryableError(`Shopify ${this.options.shopDomain} token request answered HTTP ${response.status}`);
    }
    if (response.status !== 200) {
      throw new PermanentError(
        `Shopify ${this.options.shopDomain} refused the client credentials (HTTP ${response.status}); check clientId and clientSecret: ${excerpt(response.body)}`,
      );
    }
    const parsed = JSON.parse(response.body) as { access_token?: string; expires_in?: number };
    if (!parsed.access_token) throw new PermanentError(`Shopify ${this.options.shopDomain} token answer has no access_token`);
    const ttlMs = (parsed.expires_in ?? 86_399) * 1000;
    this.token = { value: parsed.access_token, expiresAt: Date.now() + ttlMs };
    this.stats.tokenRefreshes++;
    await this.options.kv.set(this.tokenKey(auth), JSON.stringify(this.token), Math.max(1000, ttlMs - TOKEN_REFRESH_MARGIN_MS));
    return parsed.access_token;
  }

  private async invalidateToken(): Promise<void> {
    const auth = this.options.auth;
    this.token = null;
    if ('clientId' in auth) await this.options.kv.del(this.tokenKey(auth));
  }

  // ------------------------------------------------------------ HTTP

  private post(token: string, body: string): Promise<HttpResponse> {
    return this.request(this.endpoint, body, {
      'content-type': 'application/json',
      accept: 'application/json',
      'x-shopify-access-token': token,
    });
  }

  private request(url: string, body: string, headers: Record<string, string>): Promise<HttpResponse> {
    const timeoutMs = this.options.requestTimeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        { method: 'POST', agent: this.agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}

interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function classifyGraphqlErrors(shop: string, errors: GraphqlError[]): Error {
  const message = `Shopify ${shop}: ${errors.map((e) => e.message).join('; ')}`;
  const codes = errors.map((e) => e.extensions?.code);
  if (codes.includes('MAX_COST_EXCEEDED')) return new QueryCostExceededError(message);
  if (codes.includes('INTERNAL_SERVER_ERROR') || codes.includes('SERVICE_UNAVAILABLE')) return new RetryableError(message, 1000);
  return new PermanentError(message);
}

function operationName(query: string): string {
  return /\b(?:query|mutation)\s+(\w+)/.exec(query)?.[1] ?? 'anonymous';
}

/** The variables that change a document's requested cost (page sizes). */
function sizeVariables(variables: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(variables)) if (typeof v === 'number') out[k] = v;
  const input = variables.input as { quantities?: unknown[] } | undefined;
  if (input?.quantities) out.quantities = input.quantities.length;
  return out;
}

function retryAfterMs(value: string | string[] | undefined): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  const seconds = Number(v);
  return Number.isFinite(seconds) ? Math.max(0, seconds * 1000) : null;
}

function httpHint(status: number): string {
  if (status === 401) return ' (the access token is invalid or revoked)';
  if (status === 403) return ' (the app lacks an access scope this call needs)';
  if (status === 404) return ' (unknown shop or API version)';
  if (status === 402) return ' (the shop is frozen: unpaid plan)';
  if (status === 423) return ' (the shop is locked)';
  return '';
}

function backoff(attempt: number): number {
  return Math.min(10_000, 250 * 2 ** (attempt - 1));
}

function excerpt(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

