/**
 * The Selling Partner API client: LWA tokens, Restricted Data Tokens, the
 * per-operation token buckets and the classification of Amazon's errors.
 *
 * Plain `fetch`, not `@sp-api-sdk/*` or `amazon-sp-api`: both retry and pace
 * calls on their own, per process, while channelsync must pace every process
 * of a seller through one shared bucket per operation (`ctx.budget`) and
 * hand a wait that outlasts a job back to the queue. What the connector needs
 * from them (the token exchange, one header) is a few lines.
 *
 * Auth: https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api
 * (refresh token -> access token at the LWA endpoint, sent as `x-amz-access-token`;
 * reused until 60 s before it expires, as Amazon's Java helper does).
 * Limits: https://developer-docs.amazon.com/sp-api/docs/usage-plans-and-rate-limits-in-the-sp-api
 */
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { z } from 'zod';
import { PermanentError, RetryableError } from '../../src/domain/errors.ts';
import { sleep } from '../../src/domain/async.ts';
import { awaitReservation, type BucketLimits, type RateBudget, type SharedKV } from '../../src/queue/shared-state.ts';
import type { ApiCallOutcome } from '../types.ts';
import { OPERATION_LIMITS, type OperationName } from './rate-limits.ts';

export interface AmazonClientOptions {
  /** SP-API base URL (`https://sellingpartnerapi-na.amazon.com`). */
  endpoint: string;
  /** LWA token endpoint (`https://api.amazon.com/auth/o2/token`). */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** The selling partner: buckets are per seller account and application. */
  sellerId: string;
  budget: RateBudget;
  kv: SharedKV;
  log: Logger;
  recordCall?(outcome: ApiCallOutcome): void;
  /** Per request. Default 20000. */
  timeoutMs?: number;
  /** Attempts per request for 429/5xx/timeouts before a RetryableError. Default 5. */
  maxAttempts?: number;
  /**
   * Longest this process waits for a bucket before handing the wait to the
   * queue (RetryableError with the wait). Default 120000: getOrders refills one
   * call a minute, so a pull waits through a few pages but not an hour.
   */
  maxWaitMs?: number;
}

export interface AmazonRequest {
  query?: Record<string, string | number | boolean | string[] | undefined>;
  body?: unknown;
  /** Values for the `{name}` parts of the operation's path. */
  params?: Record<string, string>;
  /**
   * Restricted resources this call reads (buyer PII): the client sends a
   * Restricted Data Token for them instead of the access token, and when Amazon
   * no longer takes a cached one, mints a new one, once. Without the PII role
   * the call goes with the access token and Amazon leaves those fields empty.
   */
  restricted?: RestrictedResource[];
  /** What the request is about, for messages ("order 902-..."). */
  what?: string;
}

export interface RestrictedResource {
  method: string;
  path: string;
  dataElements?: string[];
}

export interface AmazonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** `{"errors":[{code, message, details?}]}`: the error body of every SP-API model. */
export const errorListSchema = z.looseObject({
  errors: z.array(z.looseObject({ code: z.string(), message: z.string().default(''), details: z.string().nullish() })).min(1),
});

/** Amazon refused the request as sent (400 InvalidInput and kin): sending it again cannot succeed. */
export class AmazonRequestError extends PermanentError {
  override readonly code = 'AMAZON_REQUEST';
  constructor(
    message: string,
    readonly status: number,
    readonly amazonCode: string | null,
    readonly amazonMessage: string,
  ) {
    super(message);
  }
}

/** 403: a missing role, a revoked authorization, a wrong region. */
export class AmazonAuthError extends PermanentError {
  override readonly code = 'AMAZON_AUTH';
}

export class AmazonNotFoundError extends PermanentError {
  override readonly code = 'NOT_FOUND';
}

const tokenSchema = z.looseObject({ access_token: z.string().min(1), expires_in: z.number().positive().default(3600) });
const lwaErrorSchema = z.looseObject({ error: z.string(), error_description: z.string().default('') });
const rdtSchema = z.looseObject({ restrictedDataToken: z.string().min(1), expiresIn: z.number().positive() });

/** Amazon's Java helper refreshes this long before expiry; so do we. */
const TOKEN_MARGIN_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;
/** How long a process trusts the rate it last read for an operation before reading the shared one again. */
const RATE_RECHECK_MS = 10_000;

/** Fills the `{name}` parts of a model path. */
export function fillPath(template: string, params: Record<string, string> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new TypeError(`path ${template} needs ${name}`);
    return encodeURIComponent(value);
  });
}

/** Query string as Amazon reads it: arrays comma-separated (`collectionFormat: csv` in the models). */
export function queryString(query: AmazonRequest['query'] = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    params.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export class AmazonClient {
  private readonly abort = new AbortController();
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly maxWaitMs: number;
  readonly endpoint: string;
  private token: { value: string; expiresAt: number } | null = null;
  /** Rates Amazon reported, as this process last read them from `kv`. */
  private readonly rates = new Map<OperationName, { rate: number | null; at: number }>();

  constructor(private readonly options: AmazonClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 20_000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.maxWaitMs = options.maxWaitMs ?? 120_000;
    // Every request and every bucket wait listens for close(): many jobs wait on one client at once.
    setMaxListeners(0, this.abort.signal);
  }

  /**
   * The bucket of one operation for this seller: the rate Amazon last reported
   * (shared through `kv`, re-read at most every RATE_RECHECK_MS), or the model's default.
   */
  async limits(op: OperationName): Promise<BucketLimits> {
    const table = OPERATION_LIMITS[op];
    let known = this.rates.get(op);
    if (!known || known.at + RATE_RECHECK_MS < Date.now()) {
      const reported = Number(await this.options.kv.get(this.rateKey(op)));
      known = { rate: Number.isFinite(reported) && reported > 0 ? reported : null, at: Date.now() };
      this.rates.set(op, known);
    }
    return { capacity: table.burst, refillPerSecond: known.rate ?? table.rate };
  }

  /**
   * One SP-API call, paced by the operation's shared bucket. 429 QuotaExceeded
   * (no Retry-After) empties our bucket and waits one refill; 500/503 back off
   * (only for requests that are safe to repeat: GET, and the listing PATCH,
   * which sets an absolute quantity). 4xx are permanent, with Amazon's words.
   */
  async call<T = unknown>(op: OperationName, request: AmazonRequest = {}): Promise<AmazonResponse<T>> {
    const spec = OPERATION_LIMITS[op];
    const url = `${this.endpoint}${fillPath(spec.path, request.params)}${queryString(request.query)}`;
    const what = request.what ?? op;
    const repeatable = spec.method === 'GET' || op === 'patchListingsItem';
    const bucketKey = `amazon:${this.options.sellerId}:${op}`;
    let lastError = '';
    let retryAfterMs: number | undefined;
    let refreshedToken = false;
    let refreshedRdt = false;
    let rdt = request.restricted ? await this.restrictedDataToken(request.restricted) : null;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const limits = await this.limits(op);
      const reservation = await this.options.budget.reserve(bucketKey, 1, limits);
      if (reservation.waitMs > this.maxWaitMs) {
        await this.options.budget.refund(bucketKey, 1, limits);
        throw new RetryableError(`Amazon ${what}: ${op} is at its rate limit (${limits.refillPerSecond}/s); trying again later`, reservation.waitMs);
      }
      await this.closable(awaitReservation(this.options.budget, bucketKey, reservation, limits, 100, this.abort.signal), what);
      const token = rdt ?? (await this.accessToken());
      let res: Response;
      let text: string;
      try {
        res = await fetch(url, {
          method: spec.method,
          headers: {
            'x-amz-access-token': token,
            'user-agent': 'channelsync (Language=TypeScript; Platform=Node)',
            accept: 'application/json',
            ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          body: request.body !== undefined ? JSON.stringify(request.body) : undefined,
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.timeoutMs)]),
        });
        text = await res.text();
      } catch (err) {
        this.options.recordCall?.('error');
        if (this.abort.signal.aborted) throw new RetryableError(`Amazon client closed during ${what}`);
        lastError = `${(err as Error).name}: ${(err as Error).message}`;
        if (!repeatable) break;
        await this.closable(sleep(this.backoff(attempt), this.abort.signal), what);
        continue;
      }
      const body = parseJson(text);
      const status = res.status;
      await this.noteRate(op, res.headers);
      this.options.recordCall?.(status < 400 ? 'ok' : status === 429 ? 'throttled' : 'error');
      if (status < 400) return { status, headers: res.headers, body: body as T };

      const error = errorListSchema.safeParse(body);
      const first = error.success ? error.data.errors[0]! : null;
      const message = first ? `${first.code}: ${first.message}${first.details ? ` (${first.details})` : ''}` : `HTTP ${status}`;
      if (status === 429) {
        // Amazon's bucket is empty: ours shows that too, and the next call waits one refill.
        await this.options.budget.sync(bucketKey, 0, limits);
        retryAfterMs = Math.ceil(1000 / limits.refillPerSecond);
        lastError = `429 ${message}`;
        this.options.log.debug({ op, attempt, retryAfterMs }, 'amazon quota exceeded, waiting for the bucket');
        continue; // refused before any work: safe to repeat for every operation
      }
      if (status === 403 && rdt && request.restricted && !refreshedRdt) {
        // A cached RDT Amazon no longer takes (expired early, minted for another session): a new one, once.
        refreshedRdt = true;
        await this.options.kv.del(this.rdtKey(request.restricted));
        rdt = await this.restrictedDataToken(request.restricted);
        continue;
      }
      if (status === 403 && !rdt && !refreshedToken && /revoked|malformed|invalid|expired/i.test(message)) {
        // An access token Amazon no longer takes (expired early, rotated): mint a new one, once.
        refreshedToken = true;
        await this.dropToken();
        continue;
      }
      if (status === 401 || status === 403) {
        throw new AmazonAuthError(
          `Amazon refused ${what} (${status} ${message}): check that the app is authorized for seller ${this.options.sellerId} in this region and has the role for ${op}; a revoked authorization needs a new refresh token`,
        );
      }
      if (status === 404) throw new AmazonNotFoundError(`Amazon: ${what} not found (${message})`);
      if (status >= 500) {
        lastError = `${status} ${message}`;
        if (!repeatable) break;
        await this.closable(sleep(this.backoff(attempt), this.abort.signal), what);
        continue;
      }
      throw new AmazonRequestError(`Amazon refused ${what}: ${message}`, status, first?.code ?? null, first?.message ?? '');
    }
    throw new RetryableError(`Amazon ${what} failed after retries: ${lastError}`, retryAfterMs);
  }

  /**
   * A Restricted Data Token for these resources (buyer name and address),
   * cached until a minute before it expires. Null when Amazon refuses one (the
   * app has no PII role): callers then read what a plain token shows.
   * https://developer-docs.amazon.com/sp-api/docs/tokens-api-use-case-guide
   */
  async restrictedDataToken(resources: RestrictedResource[]): Promise<string | null> {
    const key = this.rdtKey(resources);
    const denied = `amazon:rdt-denied:${this.options.sellerId}`;
    const cached = await this.options.kv.get(key);
    if (cached) return cached;
    if (await this.options.kv.get(denied)) return null;
    try {
      const res = await this.call('createRestrictedDataToken', { body: { restrictedResources: resources }, what: 'a Restricted Data Token' });
      const rdt = rdtSchema.parse(res.body);
      await this.options.kv.set(key, rdt.restrictedDataToken, Math.max(1000, rdt.expiresIn * 1000 - TOKEN_MARGIN_MS));
      return rdt.restrictedDataToken;
    } catch (err) {
      if (!(err instanceof AmazonAuthError) && !(err instanceof AmazonRequestError)) throw err;
      // Without the PII role orders still import, with the address Amazon shows everyone (city, region, postal code).
      this.options.log.warn({ err: (err as Error).message }, 'amazon refused a Restricted Data Token: buyer names and street lines will be empty');
      await this.options.kv.set(denied, '1', 15 * 60_000);
      return null;
    }
  }

  /** PUT a document to a pre-signed upload URL (createFeedDocument's `url`). */
  async upload(url: string, contentType: string, content: string): Promise<void> {
    let res: Response;
    try {
      res = await fetch(url, { method: 'PUT', headers: { 'content-type': contentType }, body: content, signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.timeoutMs)]) });
      await res.arrayBuffer();
    } catch (err) {
      throw new RetryableError(`Amazon feed upload failed: ${(err as Error).message}`, undefined, { cause: err });
    }
    if (res.status >= 500) throw new RetryableError(`Amazon feed upload failed: HTTP ${res.status}`);
    if (res.status >= 400) throw new PermanentError(`Amazon refused the feed upload: HTTP ${res.status}`);
  }

  /** GET a document from a pre-signed download URL (getFeedDocument's `url`). */
  async download(url: string): Promise<string> {
    try {
      const res = await fetch(url, { signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.timeoutMs)]) });
      const text = await res.text();
      if (res.status >= 400) throw new RetryableError(`Amazon document download failed: HTTP ${res.status}`);
      return text;
    } catch (err) {
      if (err instanceof RetryableError) throw err;
      throw new RetryableError(`Amazon document download failed: ${(err as Error).message}`, undefined, { cause: err });
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
  }

  /** The LWA access token, shared by every process through `kv`. */
  async accessToken(): Promise<string> {
    if (this.token && this.token.expiresAt > Date.now()) return this.token.value;
    const key = this.tokenKey();
    const stored = await this.options.kv.get(key);
    if (stored) {
      const parsed = JSON.parse(stored) as { value: string; expiresAt: number };
      if (parsed.expiresAt > Date.now()) return (this.token = parsed).value;
    }
    let res: Response;
    let text: string;
    try {
      // https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api#step-1-request-a-login-with-amazon-access-token
      res = await fetch(this.options.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: this.options.refreshToken,
          client_id: this.options.clientId,
          client_secret: this.options.clientSecret,
        }),
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.timeoutMs)]),
      });
      text = await res.text();
    } catch (err) {
      throw new RetryableError(`Login with Amazon could not be reached: ${(err as Error).message}`, undefined, { cause: err });
    }
    const body = parseJson(text);
    if (res.ok) {
      const token = tokenSchema.parse(body);
      this.token = { value: token.access_token, expiresAt: Date.now() + token.expires_in * 1000 - TOKEN_MARGIN_MS };
      await this.options.kv.set(key, JSON.stringify(this.token), Math.max(1000, token.expires_in * 1000 - TOKEN_MARGIN_MS));
      return this.token.value;
    }
    const lwa = lwaErrorSchema.safeParse(body);
    const code = lwa.success ? lwa.data.error : `HTTP ${res.status}`;
    const description = lwa.success ? lwa.data.error_description : text.slice(0, 200);
    if (res.status >= 500 || code === 'server_error' || code === 'temporarily_unavailable') {
      throw new RetryableError(`Login with Amazon is unavailable (${code}: ${description})`);
    }
    const advice =
      code === 'invalid_grant'
        ? 'the refresh token was revoked or never granted: authorize the app again in Seller Central and store the new refresh token'
        : code === 'invalid_client' || code === 'unauthorized_client'
          ? 'the LWA client id or secret is wrong (Developer Central > your app > LWA credentials)'
          : 'check the LWA credentials of this channel';
    throw new AmazonAuthError(`Login with Amazon refused the token exchange (${code}: ${description}): ${advice}`);
  }

  private async dropToken(): Promise<void> {
    this.token = null;
    await this.options.kv.del(this.tokenKey());
  }

  private rdtKey(resources: RestrictedResource[]): string {
    return `amazon:rdt:${this.options.sellerId}:${hash(JSON.stringify(resources))}`;
  }

  private tokenKey(): string {
    return `amazon:lwa:${this.options.clientId}:${hash(this.options.refreshToken)}`;
  }

  private rateKey(op: OperationName): string {
    return `amazon:rate:${this.options.sellerId}:${op}`;
  }

  /** Remembers the rate Amazon says it applies (`x-amzn-RateLimit-Limit`, requests per second). */
  private async noteRate(op: OperationName, headers: Headers): Promise<void> {
    const value = Number(headers.get('x-amzn-ratelimit-limit'));
    if (!Number.isFinite(value) || value <= 0) return;
    if (this.rates.get(op)?.rate === value) return;
    this.rates.set(op, { rate: value, at: Date.now() });
    await this.options.kv.set(this.rateKey(op), String(value), 3_600_000);
  }

  private backoff(attempt: number): number {
    return Math.min(MAX_BACKOFF_MS, 500 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
  }

  private async closable(wait: Promise<void>, what: string): Promise<void> {
    try {
      await wait;
    } catch (err) {
      if (this.abort.signal.aborted) throw new RetryableError(`Amazon client closed while waiting during ${what}`, undefined, { cause: err });
      throw err;
    }
  }
}

function parseJson(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function hash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}
