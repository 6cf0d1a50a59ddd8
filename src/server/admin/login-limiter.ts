/**
 * Failed admin logins, per client IP, in a sliding window kept in Redis (so
 * every daemon replica sees the same count). After `max` failures within
 * `windowMs` the IP is refused with 429 until the oldest failure ages out,
 * even with the right credentials: otherwise the limit would only slow a
 * guesser down, not stop it. Sessions already issued keep working.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

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

export class LoginLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
  ) {}

  /** Milliseconds until this IP may try again; 0 when it may try now. */
  async blockedFor(ip: string): Promise<number> {
    return this.run(ip, false);
  }

  /** Records a failure; returns how long the IP is now blocked (0: not yet). */
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
