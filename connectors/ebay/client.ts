/**
 * The eBay REST client: OAuth tokens, the daily call quotas, timeouts and the
 * classification of eBay's errors. The documented calls with `fetch`, not the
 * `ebay-api` package: its current major (10.x) declares `engines.node >= 22`
 * (EBADENGINE on our Node 20), and it brings axios, a Trading/Shopping XML stack and
 * its own token refresh that cannot share a token across processes (hendt/ebay-api#179:
 * auto-refresh not firing), while channelsync needs the token and the quota shared
 * through the KV and budget every daemon sees. The few calls used here are a URL,
 * a bearer token and a JSON body each.
 *
 * Tokens (https://developer.ebay.com/api-docs/static/oauth-refresh-token-request.html):
 * the user token is minted from the refresh token (`grant_type=refresh_token`, Basic
 * auth with client id and secret), lives about two hours (`expires_in`), is shared
 * through the KV and renewed `REFRESH_EARLY_MS` before it expires, and again after a
 * 401 errorId 1001 (once). `invalid_grant` means the seller's consent is gone: the
 * channel is paused (`ConnectorContext.pauseChannel`, kept in Postgres, ended only by new
 * credentials), this client refuses every further call at once, and the error says
 * "reconnect the account". The
 * application token (`client_credentials`, scope api_scope) serves getPublicKey and
 * getRateLimits.
 *
 * Quotas: eBay counts calls per day, per application and (for some resources) per
 * user, and answers 429 errorId 2001 when a quota is spent; it sends no Retry-After.
 * Both quotas are buckets of the shared `RateBudget` that refill over a day
 * (capacity = the daily limit, refill = limit / 86 400 per second). A call that would
 * wait longer than `MAX_WAIT_MS` for the budget is not made: RetryableError with the
 * wait, so a job yields instead of sleeping for hours. On a 429 the live quota is read
 * from the Analytics API (getRateLimits) and its `reset` time is the wait.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ChannelPausedError, PermanentError, RetryableError } from '../../src/domain/errors.ts';
import { awaitReservation, type BucketLimits, type RateBudget, type SharedKV } from '../../src/queue/shared-state.ts';
import type { ApiCallOutcome } from '../types.ts';
import { publicKeySchema, type PublicKey, type PublicKeySource } from './notifications.ts';

/** eBay's REST error envelope (`Error` in the Sell specs). */
export const ebayErrorSchema = z.object({
  errors: z
    .array(
      z.object({
        errorId: z.number(),
        domain: z.string().optional(),
        category: z.string().optional(),
        message: z.string().optional(),
        longMessage: z.string().optional(),
        parameters: z.array(z.object({ name: z.string().optional(), value: z.string().optional() })).optional(),
      }),
    )
    .min(1),
});
export type EbayErrorBody = z.infer<typeof ebayErrorSchema>;

const tokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().positive(), token_type: z.string().optional() });
const tokenErrorSchema = z.object({ error: z.string(), error_description: z.string().optional() });

/** Renew a token this long before eBay says it expires. */
export const REFRESH_EARLY_MS = 5 * 60 * 1000;
/** Longest wait for the daily budget inside one call; beyond it the job is retried later. */
export const MAX_WAIT_MS = 30_000;
/** When eBay says 429 and getRateLimits cannot say when the quota resets. */
const DEFAULT_QUOTA_WAIT_MS = 15 * 60 * 1000;
const DAY_S = 86_400;

/** The scope every application token is minted with. */
export const APP_SCOPE = 'https://api.ebay.com/oauth/api_scope';

export interface EbayClientOptions {
  /** REST host: https://api.ebay.com (production), https://api.sandbox.ebay.com, or a simulator. */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** Full scope URLs the user token is minted with (space-separated on the wire). */
  scopes: readonly string[];
  channelId: number;
  /** Calls per day the application may make (shared by every channel of the app). */
  appDailyCalls: number;
  /** Calls per day for this seller. */
  userDailyCalls: number;
  kv: SharedKV;
  budget: RateBudget;
  log: Logger;
  recordCall?(outcome: ApiCallOutcome): void;
  /** Records the channel's pause where every process sees it (`ConnectorContext.pauseChannel`). */
  pauseChannel?(reason: string): Promise<void>;
  /** Per request. Default 20 000 ms. */
  timeoutMs?: number;
}

export interface EbayRequest {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** What the call is about, for messages ("order 12-34567-89012"). */
  what?: string;
  /** Which quota the call counts against (`sell.fulfillment`); the app's is always counted. */
  api?: string;
  /** Another host of eBay's than `apiUrl` (the Key Management API lives on apiz.ebay.com). */
  baseUrl?: string;
  /**
   * Headers that sign the request as sent (./signing.ts): called with the exact URL and
   * body bytes of each attempt, so a retry after a 401 is signed afresh.
   */
  sign?(parts: { method: string; url: string; body?: string }): Record<string, string>;
  /** Called as each attempt is handed to fetch (quota debited, token at hand): a caller may wait for it before busy work. */
  onSend?(): void;
}

export interface EbayResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** eBay refused the request as sent (4xx other than auth and quota). */
export class EbayRequestError extends PermanentError {
  override readonly code = 'EBAY_REQUEST';
  constructor(
    message: string,
    readonly status: number,
    readonly errorIds: number[],
    readonly body: unknown,
  ) {
    super(message);
  }
}

/** The seller's authorisation is gone or lacks a scope: a person must reconnect the account. */
export class EbayAuthError extends PermanentError {
  override readonly code = 'EBAY_AUTH';
}

/** A short, non-reversible fingerprint of a refresh token (never the token itself): the user token's KV key. */
export function credentialFingerprint(refreshToken: string): string {
  return createHash('sha256').update(refreshToken).digest('hex').slice(0, 16);
}

/** `errorId message: longMessage` of each error, as a person reads them. */
export function describeErrors(body: EbayErrorBody): string {
  return body.errors.map((e) => `${e.errorId} ${e.message ?? ''}${e.longMessage && e.longMessage !== e.message ? `: ${e.longMessage}` : ''}`.trim()).join('; ');
}

export class EbayClient {
  /** Set once this client learnt the seller's consent is gone; other processes learn it from Postgres. */
  private pausedReason: string | null = null;
  private readonly closing = new AbortController();
  private readonly timeoutMs: number;
  private readonly fingerprint: string;

  constructor(private readonly o: EbayClientOptions) {
    this.fingerprint = credentialFingerprint(o.refreshToken);
    this.timeoutMs = o.timeoutMs ?? 20_000;
  }

  /**
   * Pauses the channel (AUTHORIZATION_REVOCATION, invalid_grant): no further call from
   * this client, and the pause recorded for every process and person through the context.
   */
  async pause(reason: string): Promise<void> {
    this.pausedReason ??= reason;
    await this.o.pauseChannel?.(reason);
  }

  private get userTokenKey(): string {
    return `ebay:${this.o.channelId}:user-token:${this.fingerprint}`;
  }

  private get appTokenKey(): string {
    return `ebay:app:${this.o.clientId}:app-token`;
  }

  /** A user call with the seller's token: refreshed early, and once more after a 401. */
  async call<T = unknown>(method: string, path: string, req: EbayRequest = {}): Promise<EbayResponse<T>> {
    if (this.pausedReason) throw new ChannelPausedError(`eBay channel ${this.o.channelId} is paused: ${this.pausedReason}`);
    // The token is read while the quota is debited (one Redis round trip for both, not three in a row).
    const cachedToken = this.userToken();
    cachedToken.catch(() => {});
    await this.spend(req.api ?? 'default', true);
    let token = await cachedToken;
    let res = await this.send(method, path, token, req);
    if (res.status === 401) {
      // 1001 "Invalid access token": expired early or revoked; mint a new one, once.
      await this.o.kv.del(this.userTokenKey);
      token = await this.userToken();
      res = await this.send(method, path, token, req);
    }
    return this.classify<T>(method, path, res, req);
  }

  /** A call with the application token (getPublicKey, getRateLimits): counted on the app's quota only. */
  async appCall<T = unknown>(method: string, path: string, req: EbayRequest = {}): Promise<EbayResponse<T>> {
    await this.spend(req.api ?? 'default', false);
    let res = await this.send(method, path, await this.appToken(), req);
    if (res.status === 401) {
      await this.o.kv.del(this.appTokenKey);
      res = await this.send(method, path, await this.appToken(), req);
    }
    return this.classify<T>(method, path, res, req);
  }

  /** getPublicKey (https://developer.ebay.com/api-docs/commerce/notification/resources/public_key/methods/getPublicKey): null for an id eBay does not know. */
  readonly publicKeys: PublicKeySource = {
    getPublicKey: async (kid) => {
      try {
        const res = await this.appCall('GET', `/commerce/notification/v1/public_key/${encodeURIComponent(kid)}`, { what: `public key ${kid}`, api: 'commerce.notification' });
        const key = publicKeySchema.safeParse(res.body);
        if (!key.success) throw new RetryableError(`eBay's public key ${kid} came without algorithm, digest or key`);
        return key.data as PublicKey;
      } catch (err) {
        if (err instanceof EbayRequestError && err.status === 404) return null;
        throw err;
      }
    },
  };

  /**
   * getRateLimits / getUserRateLimits (Analytics API): the live quota of `apiName`
   * (`fulfillment`, `inventory`), the lowest `remaining` of its methods and when it
   * resets. Null when eBay does not say.
   */
  async liveQuota(apiName: string, user: boolean): Promise<{ limit: number; remaining: number; reset: Date | null } | null> {
    const path = user ? '/developer/analytics/v1_beta/user_rate_limit/' : '/developer/analytics/v1_beta/rate_limit/';
    const req = { query: { api_context: 'sell', api_name: apiName }, what: 'rate limits', api: 'developer.analytics' };
    const res = user ? await this.call<unknown>('GET', path, req) : await this.appCall<unknown>('GET', path, req);
    const parsed = rateLimitsSchema.safeParse(res.body);
    if (!parsed.success) return null;
    const rates = (parsed.data.rateLimits ?? []).filter((r) => r.apiName?.toLowerCase() === apiName.toLowerCase()).flatMap((r) => r.resources ?? []).flatMap((r) => r.rates ?? []);
    const known = rates.filter((r) => typeof r.remaining === 'number' && typeof r.limit === 'number');
    if (!known.length) return null;
    const low = known.reduce((a, b) => (b.remaining! < a.remaining! ? b : a));
    const reset = low.reset ? new Date(low.reset) : null;
    return { limit: low.limit!, remaining: low.remaining!, reset: reset && Number.isFinite(reset.getTime()) ? reset : null };
  }

  async close(): Promise<void> {
    this.closing.abort(new RetryableError('the eBay client is closing'));
  }

  /**
   * Debits one call from the app's daily bucket, and the user's when `user`,
   * both at once (one Redis round trip a call). When either would wait past
   * MAX_WAIT_MS both are given back and no call is made.
   */
  private async spend(api: string, user: boolean): Promise<void> {
    const buckets: Array<[string, BucketLimits]> = [[`ebay:app:${this.o.clientId}:${api}`, daily(this.o.appDailyCalls)]];
    if (user) buckets.push([`ebay:user:${this.o.channelId}:${api}`, daily(this.o.userDailyCalls)]);
    const settled = await Promise.allSettled(buckets.map(([key, limits]) => this.o.budget.reserve(key, 1, limits)));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const reservations = settled.map((r) => (r.status === 'fulfilled' ? r.value : null));
    const over = reservations.findIndex((r) => r !== null && r.waitMs > MAX_WAIT_MS);
    if (failed || over >= 0) {
      await Promise.all(buckets.map(([key, limits], i) => (reservations[i] ? this.o.budget.refund(key, 1, limits) : undefined)));
      if (failed) throw failed.reason;
      const [key] = buckets[over]!;
      const waitMs = reservations[over]!.waitMs;
      throw new RetryableError(`eBay daily quota ${key.split(':').slice(1).join(' ')} is spent for now; the next call fits in ${Math.ceil(waitMs / 1000)} s`, waitMs);
    }
    await Promise.all(buckets.map(([key, limits], i) => awaitReservation(this.o.budget, key, reservations[i]!, limits, 100, this.closing.signal)));
  }

  private async userToken(): Promise<string> {
    const cached = await this.o.kv.get(this.userTokenKey);
    if (cached) return cached;
    const token = await this.mint(
      new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.o.refreshToken, scope: this.o.scopes.join(' ') }),
      'the user token',
    );
    await this.o.kv.set(this.userTokenKey, token.access_token, Math.max(1000, token.expires_in * 1000 - REFRESH_EARLY_MS));
    return token.access_token;
  }

  private async appToken(): Promise<string> {
    const cached = await this.o.kv.get(this.appTokenKey);
    if (cached) return cached;
    const token = await this.mint(new URLSearchParams({ grant_type: 'client_credentials', scope: APP_SCOPE }), 'the application token');
    await this.o.kv.set(this.appTokenKey, token.access_token, Math.max(1000, token.expires_in * 1000 - REFRESH_EARLY_MS));
    return token.access_token;
  }

  /** POST /identity/v1/oauth2/token (https://developer.ebay.com/api-docs/static/oauth-refresh-token-request.html). */
  private async mint(form: URLSearchParams, what: string): Promise<z.infer<typeof tokenSchema>> {
    const basic = Buffer.from(`${this.o.clientId}:${this.o.clientSecret}`).toString('base64');
    const res = await this.fetch('POST', '/identity/v1/oauth2/token', {
      authorization: `Basic ${basic}`,
      'content-type': 'application/x-www-form-urlencoded',
    }, form.toString());
    const ok = tokenSchema.safeParse(res.body);
    if (res.status === 200 && ok.success) return ok.data;
    const err = tokenErrorSchema.safeParse(res.body);
    const said = err.success ? `${err.data.error}${err.data.error_description ? `: ${err.data.error_description}` : ''}` : `HTTP ${res.status}`;
    if (res.status === 429 || res.status >= 500) throw new RetryableError(`eBay could not mint ${what} now (${said})`);
    if (err.success && err.data.error === 'invalid_grant' && form.get('grant_type') === 'refresh_token') {
      const reason = `eBay refused the refresh token (${said}): reconnect the account`;
      await this.pause(reason);
      throw new EbayAuthError(reason);
    }
    if (err.success && err.data.error === 'invalid_client') throw new EbayAuthError(`eBay refused the client id or secret (${said}): check the app's keys`);
    if (err.success && err.data.error === 'invalid_scope') throw new EbayAuthError(`eBay refused the scopes ${[...(form.get('scope') ?? '').split(' ')].join(', ')} (${said}): reconnect the account granting them`);
    throw new EbayAuthError(`eBay refused ${what} (${said})`);
  }

  private async send(method: string, path: string, token: string, req: EbayRequest): Promise<EbayResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json', ...req.headers };
    let body: string | undefined;
    if (req.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(req.body);
    }
    const query = req.query ? encodeQuery(req.query) : '';
    const base = req.baseUrl ?? this.o.apiUrl;
    if (req.sign) Object.assign(headers, req.sign({ method, url: `${base}${path}${query}`, ...(body !== undefined ? { body } : {}) }));
    const sent = this.fetch(method, `${path}${query}`, headers, body, base);
    req.onSend?.();
    return sent;
  }

  private async fetch(method: string, pathAndQuery: string, headers: Record<string, string>, body?: string, base = this.o.apiUrl): Promise<EbayResponse> {
    const signal = AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.timeoutMs)]);
    let res: Response;
    try {
      res = await fetch(`${base}${pathAndQuery}`, { method, headers, body, signal });
    } catch (err) {
      this.o.recordCall?.('error');
      throw new RetryableError(`eBay did not answer ${method} ${pathAndQuery.split('?')[0]} (${(err as Error).message})`, undefined, { cause: err });
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON (a proxy's HTML page): kept as text for the message.
    }
    this.o.recordCall?.(res.status === 429 ? 'throttled' : res.status >= 400 ? 'error' : 'ok');
    return { status: res.status, headers: res.headers, body: parsed };
  }

  private async classify<T>(method: string, path: string, res: EbayResponse, req: EbayRequest): Promise<EbayResponse<T>> {
    if (res.status < 400) return res as EbayResponse<T>;
    const what = req.what ?? `${method} ${path}`;
    const errors = ebayErrorSchema.safeParse(res.body);
    const said = errors.success ? describeErrors(errors.data) : `HTTP ${res.status}`;
    const ids = errors.success ? errors.data.errors.map((e) => e.errorId) : [];
    if (res.status === 429 || ids.includes(2001)) {
      const wait = await this.quotaWait(req.api ?? 'default');
      throw new RetryableError(`eBay's daily quota is spent (${said}) for ${what}; it resets in ${Math.ceil(wait / 1000)} s`, wait);
    }
    if (res.status >= 500) throw new RetryableError(`eBay failed ${what} (${said})`);
    if (res.status === 401) throw new EbayAuthError(`eBay refused the access token for ${what} (${said}): reconnect the account`);
    if (res.status === 403 && ids.includes(1100)) {
      throw new EbayAuthError(`eBay denied ${what} (${said}): the account was connected without the scope ${scopeOf(req.api)}; reconnect it granting that scope`);
    }
    throw new EbayRequestError(`eBay refused ${what} (${said})`, res.status, ids, res.body);
  }

  /** How long until the quota of `api` resets, as the Analytics API says; the buckets are emptied meanwhile. */
  private async quotaWait(api: string): Promise<number> {
    const apiName = api.split('.').pop() ?? api;
    let reset: Date | null = null;
    try {
      reset = (await this.liveQuota(apiName, false))?.reset ?? null;
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'eBay getRateLimits failed after a 429');
    }
    const wait = reset ? Math.max(1000, reset.getTime() - Date.now()) : DEFAULT_QUOTA_WAIT_MS;
    await this.o.budget.sync(`ebay:app:${this.o.clientId}:${api}`, 0, daily(this.o.appDailyCalls));
    return wait;
  }
}

const rateLimitsSchema = z.object({
  rateLimits: z
    .array(
      z.object({
        apiContext: z.string().optional(),
        apiName: z.string().optional(),
        resources: z
          .array(z.object({ name: z.string().optional(), rates: z.array(z.object({ limit: z.number().optional(), remaining: z.number().optional(), reset: z.string().optional(), timeWindow: z.number().optional() })).optional() }))
          .optional(),
      }),
    )
    .optional(),
});

/** A bucket that holds a day's calls and refills over the day. */
export function daily(limit: number): BucketLimits {
  return { capacity: limit, refillPerSecond: limit / DAY_S };
}

/** The OAuth scope URL of a quota name (`sell.fulfillment` -> https://api.ebay.com/oauth/api_scope/sell.fulfillment). */
export function scopeOf(api: string | undefined): string {
  return api && api !== 'default' ? `${APP_SCOPE}/${api}` : 'the call needs';
}

/**
 * Query strings as eBay wants them: every reserved character percent-encoded, so a
 * filter's `[ ] { | }` and `:` go as %5B %5D %7B %7C %7D %3A (hendt/ebay-api#145).
 */
export function encodeQuery(query: Record<string, string | number | undefined>): string {
  const parts = Object.entries(query)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}
