/**
 * State shared by every process that talks to the same channel: rate-limit
 * buckets and small cached values (access tokens). Backed by Redis, or by
 * Postgres in embedded mode (`QueueBackend.sharedState` picks); the
 * interfaces are small so that another store can stand behind them.
 */
import type { Redis } from 'ioredis';
import { sql } from 'kysely';
import type { Db } from '../db/index.ts';

export interface BucketLimits {
  /** Points the bucket holds when full (Shopify: maximumAvailable). */
  capacity: number;
  /** Points restored per second (Shopify: restoreRate). */
  refillPerSecond: number;
}

/**
 * A leaky bucket shared across processes. `reserve` debits at once and says
 * how long to wait, so concurrent callers queue up behind each other instead
 * of all waking at the same instant and overdrawing the bucket together.
 */
export interface RateBudget {
  /** Debit `cost` points; resolves with the milliseconds to wait before sending (0: send now). */
  reserve(key: string, cost: number, limits: BucketLimits): Promise<number>;
  /** Align with what the channel reported: the bucket never shows more than the channel has. */
  sync(key: string, available: number, limits: BucketLimits): Promise<void>;
  /** Give back points reserved but not spent (actual cost below the estimate). */
  refund(key: string, points: number, limits: BucketLimits): Promise<void>;
}

export interface SharedKV {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
}

// Bucket state: a hash {level, ts}. Level may go negative: that is the debt
// of reservations made ahead of the refill, which callers are waiting out.
// Time comes from the Redis server so that every process shares one clock.
const REFILL = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function current(key, capacity, rate)
  local now = now_ms()
  local level = tonumber(redis.call('HGET', key, 'level'))
  local ts = tonumber(redis.call('HGET', key, 'ts'))
  if level == nil or ts == nil then return capacity, now end
  level = math.min(capacity, level + (now - ts) * rate / 1000)
  return level, now
end
local function save(key, level, now, capacity, rate)
  redis.call('HSET', key, 'level', tostring(level), 'ts', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(capacity / rate * 1000) + 60000)
end
`;

const RESERVE = `${REFILL}
local capacity, rate, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local level, now = current(KEYS[1], capacity, rate)
level = level - cost
save(KEYS[1], level, now, capacity, rate)
if level >= 0 then return 0 end
return math.ceil(-level / rate * 1000)
`;

const SYNC = `${REFILL}
local capacity, rate, reported = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local level, now = current(KEYS[1], capacity, rate)
save(KEYS[1], math.min(level, reported), now, capacity, rate)
return 0
`;

const REFUND = `${REFILL}
local capacity, rate, points = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local level, now = current(KEYS[1], capacity, rate)
save(KEYS[1], math.min(capacity, level + points), now, capacity, rate)
return 0
`;

export class RedisRateBudget implements RateBudget {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async reserve(key: string, cost: number, limits: BucketLimits): Promise<number> {
    checkLimits(limits);
    const wait = await this.redis.eval(RESERVE, 1, this.key(key), limits.capacity, limits.refillPerSecond, cost);
    return Number(wait);
  }

  async sync(key: string, available: number, limits: BucketLimits): Promise<void> {
    checkLimits(limits);
    await this.redis.eval(SYNC, 1, this.key(key), limits.capacity, limits.refillPerSecond, available);
  }

  async refund(key: string, points: number, limits: BucketLimits): Promise<void> {
    checkLimits(limits);
    if (points <= 0) return;
    await this.redis.eval(REFUND, 1, this.key(key), limits.capacity, limits.refillPerSecond, points);
  }

  private key(key: string): string {
    return `${this.prefix}:budget:${key}`;
  }
}

export class RedisSharedKV implements SharedKV {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  get(key: string): Promise<string | null> {
    return this.redis.get(this.key(key));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.key(key), value, 'PX', Math.max(1, Math.round(ttlMs)));
  }

  async del(key: string): Promise<void> {
    await this.redis.del(this.key(key));
  }

  private key(key: string): string {
    return `${this.prefix}:kv:${key}`;
  }
}

/**
 * The same leaky bucket in Postgres (table `rate_buckets`): each call is one
 * `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`, atomic under concurrency,
 * with the database clock shared by every process.
 */
export class PostgresRateBudget implements RateBudget {
  constructor(
    private readonly db: Db,
    private readonly prefix: string,
  ) {}

  async reserve(key: string, cost: number, limits: BucketLimits): Promise<number> {
    checkLimits(limits);
    const level = await this.update(key, limits, (current) => sql`${current} - ${cost}::float8`);
    return level >= 0 ? 0 : Math.ceil((-level / limits.refillPerSecond) * 1000);
  }

  async sync(key: string, available: number, limits: BucketLimits): Promise<void> {
    checkLimits(limits);
    await this.update(key, limits, (current) => sql`LEAST(${current}, ${available}::float8)`);
  }

  async refund(key: string, points: number, limits: BucketLimits): Promise<void> {
    checkLimits(limits);
    if (points <= 0) return;
    await this.update(key, limits, (current) => sql`LEAST(${limits.capacity}::float8, ${current} + ${points}::float8)`);
  }

  /** Refills the bucket to now, applies `change` to the refilled level, saves it; returns the new level. */
  private async update(key: string, limits: BucketLimits, change: (current: ReturnType<typeof sql>) => ReturnType<typeof sql>): Promise<number> {
    const { capacity, refillPerSecond: rate } = limits;
    const ttlMs = Math.ceil((capacity / rate) * 1000) + 60_000;
    const refilled = sql`LEAST(${capacity}::float8, b.level + EXTRACT(EPOCH FROM (now() - b.updated_at)) * ${rate}::float8)`;
    const { rows } = await sql<{ level: number }>`
      INSERT INTO rate_buckets AS b (key, level, updated_at, expires_at)
      VALUES (${this.key(key)}, ${change(sql`${capacity}::float8`)}, now(), now() + ${ttlMs} * interval '1 millisecond')
      ON CONFLICT (key) DO UPDATE SET
        level = ${change(sql`(CASE WHEN b.expires_at < now() THEN ${capacity}::float8 ELSE ${refilled} END)`)},
        updated_at = now(),
        expires_at = now() + ${ttlMs} * interval '1 millisecond'
      RETURNING level`.execute(this.db);
    if (Math.random() < 0.01) await sql`DELETE FROM rate_buckets WHERE expires_at < now()`.execute(this.db);
    return Number(rows[0]!.level);
  }

  private key(key: string): string {
    return `${this.prefix}:budget:${key}`;
  }
}

/** Small values with an expiry in Postgres (table `shared_values`). */
export class PostgresSharedKV implements SharedKV {
  constructor(
    private readonly db: Db,
    private readonly prefix: string,
  ) {}

  async get(key: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('shared_values')
      .select('value')
      .where('key', '=', this.key(key))
      .where('expires_at', '>', sql<Date>`now()`)
      .executeTakeFirst();
    return row?.value ?? null;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    const ms = Math.max(1, Math.round(ttlMs));
    await sql`
      INSERT INTO shared_values (key, value, expires_at) VALUES (${this.key(key)}, ${value}, now() + ${ms} * interval '1 millisecond')
      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`.execute(this.db);
    if (Math.random() < 0.01) await sql`DELETE FROM shared_values WHERE expires_at < now()`.execute(this.db);
  }

  async del(key: string): Promise<void> {
    await this.db.deleteFrom('shared_values').where('key', '=', this.key(key)).execute();
  }

  private key(key: string): string {
    return `${this.prefix}:kv:${key}`;
  }
}

function checkLimits(limits: BucketLimits): void {
  if (!(limits.capacity > 0) || !(limits.refillPerSecond > 0)) {
    throw new RangeError(
      `bucket limits must be positive (capacity ${limits.capacity}, refillPerSecond ${limits.refillPerSecond})`,
    );
  }
}
