/**
 * The WooCommerce HTTP client: auth, timeouts, bounded concurrency per store
 * and adaptive back-off. Many stores run on small PHP hosts where a burst of
 * requests takes the shop down, so the client starts at `concurrency`, halves
 * it on 429, 503 and timeouts, waits (Retry-After when given), and grows back
 * one slot at a time after a run of successes.
 *
 * Transport: `@woocommerce/woocommerce-rest-api` (HTTP Basic over HTTPS,
 * OAuth 1.0a HMAC-SHA256 signatures over plain HTTP, where WooCommerce refuses
 * Basic). The library is wrapped, not replaced: it throws on non-2xx and has
 * no scheduling, so it gets `validateStatus: () => true` (statuses are
 * classified here) and every call goes through the limiter below. One library
 * instance per REST namespace (wc/v3, the tracking extensions').
 * https://woocommerce.github.io/woocommerce-rest-api-docs/#authentication
 */
import WooCommerceRestApiModule from '@woocommerce/woocommerce-rest-api';
import type { Logger } from 'pino';
import { PermanentError, RetryableError } from '../../src/domain/errors.ts';
import { sleep } from '../../src/domain/async.ts';
import { wooErrorSchema } from './mapping.ts';
import type { ApiCallOutcome } from '../types.ts';

// The package is CommonJS with `exports.default`; Node's ESM loader hands us the module object.
type WooApi = InstanceType<typeof WooCommerceRestApiModule>;
const WooCommerceRestApi: typeof WooCommerceRestApiModule =
  (WooCommerceRestApiModule as unknown as { default?: typeof WooCommerceRestApiModule }).default ??
  WooCommerceRestApiModule;

export interface WooClientOptions {
  /** Store base URL (`https://shop.example`); WordPress may live in a sub-folder. */
  url: string;
  consumerKey: string;
  consumerSecret: string;
  /** Most requests in flight at once. Default 4. */
  concurrency?: number;
  /** Per request. Default 15000. */
  timeoutMs?: number;
  /** Attempts per request for retryable failures before giving up with RetryableError. Default 6. */
  maxAttempts?: number;
  /** First back-off delay; doubles per consecutive failure, capped at 30 s. Default 500. */
  baseDelayMs?: number;
  log: Logger;
  /** Counts each HTTP call (metrics). */
  recordCall?(outcome: ApiCallOutcome): void;
}

export type Query = Record<string, string | number | boolean | Array<string | number> | undefined>;

export interface RequestOptions {
  /** REST namespace under /wp-json. Default `wc/v3`. */
  namespace?: string;
  query?: Query;
  body?: unknown;
  /**
   * Safe to send again after a timeout or a 5xx (GET, PUT, absolute stock
   * writes). Non-idempotent requests are only retried when the server refused
   * them before doing anything (429, 503, connection refused). Default: GET/PUT.
   */
  idempotent?: boolean;
  /** What the request is about, for error messages ("order 16"). */
  what?: string;
}

export interface WooResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  body: T;
}

/** The key lacks the permission (read or write) for this request, or is invalid. */
export class WooAuthError extends PermanentError {
  override readonly code = 'WOO_AUTH';
}

/** The entity does not exist (404): permanent for that entity only. */
export class WooNotFoundError extends PermanentError {
  override readonly code = 'NOT_FOUND';
}

/** WooCommerce refused the request as sent (400, 413, ...). */
export class WooRequestError extends PermanentError {
  override readonly code = 'WOO_REQUEST';
  constructor(
    message: string,
    readonly status: number,
    readonly wooCode: string | null,
  ) {
    super(message);
  }
}

const MAX_DELAY_MS = 30_000;

/** Counting semaphore whose size shrinks and grows with the store's health. */
class AdaptiveLimiter {
  limit: number;
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private pausedUntil = 0;
  private successes = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly max: number,
    private readonly baseDelayMs: number,
  ) {
    this.limit = max;
  }

  async acquire(): Promise<void> {
    if (this.canRun()) {
      this.inFlight++;
      return;
    }
    const turn = new Promise<void>((resolve) => this.waiting.push(resolve));
    // Paused with nothing in flight, no release will come to wake us: arm the timer.
    this.drain();
    await turn;
  }

  release(): void {
    this.inFlight--;
    this.drain();
  }

  /** A healthy answer: after `limit * 5` of them in a row, allow one more in flight. */
  success(): void {
    this.failures = 0;
    if (this.limit < this.max && ++this.successes >= this.limit * 5) {
      this.successes = 0;
      this.limit++;
      this.drain();
    }
  }

  /** Overload (429, 503, timeout): halve the concurrency and pause everyone. Returns the pause. */
  overloaded(retryAfterMs?: number): number {
    this.successes = 0;
    this.failures++;
    this.limit = Math.max(1, Math.floor(this.limit / 2));
    const backoff = Math.min(MAX_DELAY_MS, this.baseDelayMs * 2 ** (this.failures - 1));
    const delay = retryAfterMs ?? backoff * (0.5 + Math.random() / 2);
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + delay);
    return delay;
  }

  /** A server error that says nothing about load: back off the caller only. */
  failed(): number {
    this.failures++;
    return Math.min(MAX_DELAY_MS, this.baseDelayMs * 2 ** (this.failures - 1)) * (0.5 + Math.random() / 2);
  }

  /** Waits out a pause; rejects when `signal` aborts (the client closes). */
  waitForPause(signal: AbortSignal): Promise<void> {
    const wait = this.pausedUntil - Date.now();
    return wait > 0 ? sleep(wait, signal) : Promise.resolve();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.waiting.splice(0).forEach((resolve) => resolve());
  }

  private canRun(): boolean {
    return this.inFlight < this.limit && Date.now() >= this.pausedUntil;
  }

  private drain(): void {
    while (this.waiting.length && this.canRun()) {
      this.inFlight++;
      this.waiting.shift()!();
    }
    if (this.waiting.length && !this.timer && Date.now() < this.pausedUntil) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.drain();
      }, this.pausedUntil - Date.now());
    }
  }
}


function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

interface AxiosLikeResponse {
  status: number;
  headers: Record<string, unknown>;
  data: unknown;
}

interface AxiosLikeError {
  code?: string;
  message?: string;
}

const OVERLOAD_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ERR_NETWORK']);

export class WooClient {
  private readonly apis = new Map<string, WooApi>();
  private readonly limiter: AdaptiveLimiter;
  private readonly abort = new AbortController();
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  readonly baseUrl: string;

  constructor(private readonly options: WooClientOptions) {
    const concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be an integer greater than 0, got ${concurrency}`);
    }
    this.baseUrl = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.maxAttempts = options.maxAttempts ?? 6;
    this.limiter = new AdaptiveLimiter(concurrency, options.baseDelayMs ?? 500);
  }

  /** Concurrency the client allows right now (shrinks under back-off). */
  get currentConcurrency(): number {
    return this.limiter.limit;
  }

  get<T = unknown>(path: string, options: RequestOptions = {}): Promise<WooResponse<T>> {
    return this.request<T>('get', path, options);
  }

  post<T = unknown>(path: string, body: unknown, options: RequestOptions = {}): Promise<WooResponse<T>> {
    return this.request<T>('post', path, { ...options, body });
  }

  put<T = unknown>(path: string, body: unknown, options: RequestOptions = {}): Promise<WooResponse<T>> {
    return this.request<T>('put', path, { ...options, body });
  }

  /**
   * The REST namespace index (`GET /wp-json/`): public, so no signature; the
   * library only reaches routes under a namespace, hence plain fetch here.
   * https://developer.wordpress.org/rest-api/using-the-rest-api/discovery/
   */
  async namespaces(): Promise<string[]> {
    const res = await this.schedule('get', '/wp-json/', true, async () => {
      const response = await fetch(`${this.baseUrl}/wp-json/`, {
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.timeoutMs)]),
        headers: { accept: 'application/json' },
      });
      const textBody = await response.text();
      let data: unknown = textBody;
      try {
        data = JSON.parse(textBody);
      } catch {
        /* keep text */
      }
      return { status: response.status, headers: Object.fromEntries(response.headers), data };
    });
    const body = res.body as { namespaces?: unknown };
    return Array.isArray(body?.namespaces) ? body.namespaces.filter((n): n is string => typeof n === 'string') : [];
  }

  async request<T = unknown>(method: 'get' | 'post' | 'put' | 'delete', path: string, options: RequestOptions = {}): Promise<WooResponse<T>> {
    const api = this.api(options.namespace ?? 'wc/v3');
    const endpoint = path.replace(/^\/+/, '');
    const query = Object.fromEntries(Object.entries(options.query ?? {}).filter(([, v]) => v !== undefined));
    const idempotent = options.idempotent ?? (method === 'get' || method === 'put');
    const what = options.what ?? `${method.toUpperCase()} ${endpoint}`;
    return this.schedule<T>(method, what, idempotent, async () => {
      const res = (await (method === 'get' || method === 'delete'
        ? api[method](endpoint, query)
        : api[method](endpoint, options.body ?? {}, query))) as AxiosLikeResponse;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = String(v);
      return { status: res.status, headers, data: res.data };
    });
  }

  async close(): Promise<void> {
    this.abort.abort();
    this.limiter.close();
  }

  private api(namespace: string): WooApi {
    let api = this.apis.get(namespace);
    if (!api) {
      api = new WooCommerceRestApi({
        url: this.baseUrl,
        consumerKey: this.options.consumerKey,
        consumerSecret: this.options.consumerSecret,
        // The library types only list wc/* versions; any namespace works the same way.
        version: namespace as 'wc/v3',
        timeout: this.timeoutMs,
        axiosConfig: { validateStatus: () => true, signal: this.abort.signal, maxRedirects: 0 },
      });
      this.apis.set(namespace, api);
    }
    return api;
  }

  private async schedule<T>(
    method: string,
    what: string,
    idempotent: boolean,
    send: () => Promise<AxiosLikeResponse>,
  ): Promise<WooResponse<T>> {
    let lastError = '';
    let retryAfterMs: number | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (this.abort.signal.aborted) throw new RetryableError(`WooCommerce client closed during ${what}`);
      await this.backOff(this.limiter.waitForPause(this.abort.signal), what);
      await this.limiter.acquire();
      let res: AxiosLikeResponse;
      try {
        res = await send();
      } catch (err) {
        this.limiter.release();
        this.options.recordCall?.('error');
        const e = err as AxiosLikeError;
        if (this.abort.signal.aborted) throw new RetryableError(`WooCommerce client closed during ${what}`);
        const code = e.code ?? (err instanceof Error && err.name === 'TimeoutError' ? 'ETIMEDOUT' : undefined);
        lastError = `${code ?? 'network error'}: ${e.message ?? String(err)}`;
        const refusedBeforeSending = code === 'ECONNREFUSED';
        if (!OVERLOAD_CODES.has(code ?? '') && code !== undefined && code !== 'ERR_BAD_RESPONSE') {
          throw new RetryableError(`WooCommerce ${what} failed: ${lastError}`, undefined, { cause: err });
        }
        const delay = this.limiter.overloaded();
        this.options.log.warn({ what, attempt, code, delay }, 'woocommerce request failed, backing off');
        if (!idempotent && !refusedBeforeSending) break;
        continue;
      }
      this.limiter.release();

      const { status } = res;
      this.options.recordCall?.(status >= 200 && status < 300 ? 'ok' : status === 429 || status === 503 ? 'throttled' : 'error');
      if (status >= 200 && status < 300) {
        this.limiter.success();
        return { status, headers: res.headers as Record<string, string>, body: res.data as T };
      }
      const headers = res.headers as Record<string, string>;
      const error = wooErrorSchema.safeParse(res.data);
      const message = error.success ? error.data.message : `HTTP ${status}`;
      const wooCode = error.success ? error.data.code : null;

      if (status === 429 || status === 503) {
        retryAfterMs = parseRetryAfter(headers['retry-after']);
        const delay = this.limiter.overloaded(retryAfterMs);
        lastError = `HTTP ${status} ${message}`;
        this.options.log.debug({ what, attempt, status, delay }, 'woocommerce overloaded, backing off');
        continue; // refused before any work: safe for every method
      }
      if (status === 401 || status === 403) throw this.authError(method, what, status, message, wooCode);
      if (status === 404) throw new WooNotFoundError(`WooCommerce: ${what} not found (${wooCode ?? 404}: ${message})`);
      // A WP_Error raised by WooCommerce's own validation can come back as 500
      // (refunds: `woocommerce_rest_cannot_create_order_refund`, data: 500):
      // sending it again cannot succeed.
      if (status >= 500 && !(wooCode && /^woocommerce_rest_(cannot|invalid)/.test(wooCode))) {
        lastError = `HTTP ${status} ${message}`;
        const delay = this.limiter.failed();
        if (!idempotent) break;
        await this.backOff(sleep(delay, this.abort.signal), what);
        continue;
      }
      throw new WooRequestError(`WooCommerce refused ${what}: ${message} (${wooCode ?? status})`, status, wooCode);
    }
    throw new RetryableError(`WooCommerce ${what} failed after retries: ${lastError}`, retryAfterMs);
  }

  /** A back-off wait; the client closing (shutdown) ends it with a RetryableError, so the job is tried again later. */
  private async backOff(wait: Promise<void>, what: string): Promise<void> {
    try {
      await wait;
    } catch (err) {
      if (this.abort.signal.aborted) throw new RetryableError(`WooCommerce client closed while backing off during ${what}`, undefined, { cause: err });
      throw err;
    }
  }

  private authError(method: string, what: string, status: number, message: string, wooCode: string | null): WooAuthError {
    const write = method !== 'get';
    let advice: string;
    if (/consumer key is invalid|consumer secret is invalid|signature/i.test(message)) {
      advice = 'the consumer key or secret is wrong or was revoked: create a new key in WooCommerce > Settings > Advanced > REST API and update the channel credentials';
    } else if (/write permissions/i.test(message) || (write && /cannot|not allowed/i.test(message))) {
      advice = 'the API key needs Read/Write permission (WooCommerce > Settings > Advanced > REST API, edit the key, Permissions: Read/Write)';
    } else if (/read permissions/i.test(message) || /cannot (list|view)/i.test(message)) {
      advice = write
        ? 'the API key needs Read/Write permission (WooCommerce > Settings > Advanced > REST API)'
        : 'the API key needs Read permission (WooCommerce > Settings > Advanced > REST API), and its user must be able to manage WooCommerce';
    } else {
      advice = `the API key is not allowed to ${write ? 'write' : 'read'} here; give it ${write ? 'Read/Write' : 'Read'} permission in WooCommerce > Settings > Advanced > REST API`;
    }
    return new WooAuthError(`WooCommerce refused ${what} (${status} ${wooCode ?? ''}: ${message}): ${advice}`);
  }
}
