/**
 * Failed admin logins, per client IP, in a sliding window kept in Redis (so
 * every daemon replica sees the same count). After `max` failures within
 * `windowMs` the IP is refused with 429 until the oldest failure ages out,
 * even with the right credentials: otherwise the limit would only slow a
 * guesser down, not stop it. Sessions already issued keep working.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { withTimeout } from '../../queue/connection.ts';

export interface LoginLimits {
  /** Failures allowed per window; default 10. */
  max: number;
  /** Window length; default 15 minutes. */
  windowMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { max: 10, windowMs: 15 * 60_000 };

// KEYS[1] the IP's sorted set; ARGV: window ms, max, record (1 adds a failure now).
// Time is the Redis server's, so replicas with skewed clocks agree.
const SLIDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, max = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
end
local count = redis.call('ZCARD', KEYS[1])
if count < max then return {count, 0} end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {count, math.max(1, tonumber(oldest[2]) + window - now)}
`;

export interface LoginLimiter {
  readonly limits: LoginLimits;
  /** Milliseconds until this IP may try again; 0 when it may try now. */
  blockedFor(ip: string): Promise<number>;
  /** Records a failure; returns how long the IP is now blocked (0: not yet). */
  fail(ip: string): Promise<number>;
  reset(ip: string): Promise<void>;
}

/** Shared by every replica through Redis. */
export class RedisLoginLimiter implements LoginLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
  ) {}

  async blockedFor(ip: string): Promise<number> {
    return this.run(ip, false);
  }

  async fail(ip: string): Promise<number> {
    return this.run(ip, true);
  }

  async reset(ip: string): Promise<void> {
    await this.redis.del(this.key(ip));
  }

  private async run(ip: string, record: boolean): Promise<number> {
    const member = `${Date.now()}-${randomBytes(4).toString('hex')}`;
    const [, wait] = (await this.redis.eval(SLIDE, 1, this.key(ip), this.limits.windowMs, this.limits.max, record ? '1' : '0', member)) as [number, number];
    return Number(wait);
  }

  private key(ip: string): string {
    return `${this.prefix}:admin:login-failures:${ip}`;
  }
}

/**
 * The Redis window, falling back to this process's own window (in memory)
 * for any call Redis does not answer within `timeoutMs`.
 *
 * Decision: with Redis down the limiter neither fails open (unlimited guesses
 * for as long as the outage lasts) nor closed (no admin can log in, exactly
 * when the console is needed to see what is wrong): each replica keeps
 * counting failures itself, so a guesser gets at most `max` per window per
 * replica. Failures counted locally are not copied to Redis when it returns.
 * Use it with a connection that fails fast (`createRequestRedis`): a call
 * left waiting in an offline queue would still end in Redis later.
 */
export class FallbackLoginLimiter implements LoginLimiter {
  private readonly local: MemoryLoginLimiter;
  private down = false;

  constructor(
    private readonly shared: LoginLimiter,
    private readonly timeoutMs: number,
    private readonly onFallback: (err: Error) => void = () => {},
  ) {
    this.local = new MemoryLoginLimiter(shared.limits);
  }

  get limits(): LoginLimits {
    return this.shared.limits;
  }

  blockedFor(ip: string): Promise<number> {
    return this.either((l) => l.blockedFor(ip));
  }

  fail(ip: string): Promise<number> {
    return this.either((l) => l.fail(ip));
  }

  async reset(ip: string): Promise<void> {
    await this.local.reset(ip);
    await this.either((l) => l.reset(ip));
  }

  private async either<T>(call: (limiter: LoginLimiter) => Promise<T>): Promise<T> {
    try {
      const result = await withTimeout(call(this.shared), this.timeoutMs, 'redis');
      this.down = false;
      return result;
    } catch (err) {
      // Said once per outage, not once per request.
      if (!this.down) this.onFallback(err as Error);
      this.down = true;
      return call(this.local);
    }
  }
}

/** For embedded mode (one process, no Redis): the same window, in memory. */
export class MemoryLoginLimiter implements LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS) {}

  async blockedFor(ip: string): Promise<number> {
    return this.slide(ip, Date.now());
  }

  async fail(ip: string): Promise<number> {
    const now = Date.now();
    const list = this.failures.get(ip) ?? [];
    list.push(now);
    this.failures.set(ip, list);
    return this.slide(ip, now);
  }

  async reset(ip: string): Promise<void> {
    this.failures.delete(ip);
  }

  private slide(ip: string, now: number): number {
    const list = (this.failures.get(ip) ?? []).filter((t) => t > now - this.limits.windowMs);
    if (list.length === 0) this.failures.delete(ip);
    else this.failures.set(ip, list);
    // Forget idle addresses now and then, so the map cannot grow without bound.
    if (this.failures.size > 10_000) for (const [key, times] of this.failures) if (times.every((t) => t <= now - this.limits.windowMs)) this.failures.delete(key);
    return list.length < this.limits.max ? 0 : Math.max(1, list[0]! + this.limits.windowMs - now);
  }
}
