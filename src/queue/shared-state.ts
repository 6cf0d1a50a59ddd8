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
 * A leaky bucket shared across processes. `reserve` debits at once and hands
 * out a ticket, so concurrent callers queue up behind each other instead of
 * all waking at the same instant and overdrawing the bucket together. A
 * ticket is covered once the points restored or refunded reach it; callers
 * re-check with `waitFor`, so a refund lets the next ones go at once.
 */
export interface RateBudget {
  /** Debit `cost` points; resolves with the caller's ticket and the milliseconds until it is covered (0: send now). */
  reserve(key: string, cost: number, limits: BucketLimits): Promise<Reservation>;
  /** Milliseconds until the reservation is covered, as of now; 0: send it (it stops counting as waiting). */
  waitFor(key: string, reservation: Reservation, limits: BucketLimits): Promise<number>;
  /**
   * Align with what the channel reported: the bucket never shows more than the
   * channel has, less what callers reserved and are still waiting to send
   * (the channel has not seen those yet).
   */
  sync(key: string, available: number, limits: BucketLimits): Promise<void>;
  /** Give back points reserved but not spent (actual cost below the estimate). */
  refund(key: string, points: number, limits: BucketLimits): Promise<void>;
}

export interface Reservation {
  waitMs: number;
  /** Points ever reserved on this bucket, this reservation included. */
  ticket: number;
  cost: number;
}

/**
 * Waits until a reservation is covered, re-checking at least every
 * `recheckMs` so that refunds made meanwhile are used.
 */
export async function awaitReservation(budget: RateBudget, key: string, reservation: Reservation, limits: BucketLimits, recheckMs = 100): Promise<void> {
  let wait = reservation.waitMs;
  while (wait > 0) {
    await new Promise((r) => setTimeout(r, Math.min(wait, recheckMs)));
    wait = await budget.waitFor(key, reservation, limits);
  }
}

/**
 * Milliseconds the refill needs to restore `short` points. A ticket is short
 * of `ticket - issued - level` points: it is covered when the level, with the
 * points reserved after it given back, is at least 0 (for a fresh
 * reservation, ticket = issued: short of -level).
 */
function msToCover(short: number, rate: number): number {
  return short <= 0 ? 0 : Math.ceil((short / rate) * 1000);
}

export interface SharedKV {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
}

// Bucket state: a hash {level, ts, issued, pending}. Level may go negative:
// that is the debt of reservations made ahead of the refill, which callers are
// waiting out; issued counts every point reserved (tickets); pending, the
// points of reservations still waiting (not sent, so unknown to the channel).
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
  redis.call('HSET', key, 'level', string.format('%.17g', level), 'ts', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(capacity / rate * 1000) + 60000)
end
`;

const RESERVE = `${REFILL}
local capacity, rate, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local level, now = current(KEYS[1], capacity, rate)
local issued = (tonumber(redis.call('HGET', KEYS[1], 'issued')) or 0) + cost
local pending = tonumber(redis.call('HGET', KEYS[1], 'pending')) or 0
level = level - cost
if level < 0 then pending = pending + cost end
save(KEYS[1], level, now, capacity, rate)
redis.call('HSET', KEYS[1], 'issued', string.format('%.17g', issued), 'pending', string.format('%.17g', pending))
return { string.format('%.17g', level), string.format('%.17g', issued) }
`;

// Covered: the level, with the points reserved after this ticket given back, is >= 0.
const WAIT_FOR = `${REFILL}
local capacity, rate, ticket, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('EXISTS', KEYS[1]) == 0 then return '0' end
local level = current(KEYS[1], capacity, rate)
local issued = tonumber(redis.call('HGET', KEYS[1], 'issued')) or 0
if ticket > issued then return '0' end
local short = ticket - issued - level
if short > 0 then return string.format('%.17g', short) end
local pending = tonumber(redis.call('HGET', KEYS[1], 'pending')) or 0
redis.call('HSET', KEYS[1], 'pending', string.format('%.17g', math.max(0, pending - cost)))
return '0'
`;

const SYNC = `${REFILL}
local capacity, rate, reported = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local level, now = current(KEYS[1], capacity, rate)
local pending = tonumber(redis.call('HGET', KEYS[1], 'pending')) or 0
save(KEYS[1], math.min(level, reported - pending), now, capacity, rate)
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

  async reserve(key: string, cost: number, limits: BucketLimits): Promise<Reservation> {
    checkLimits(limits);
    const [level, issued] = (await this.redis.eval(RESERVE, 1, this.key(key), limits.capacity, limits.refillPerSecond, cost)) as [string, string];
    return { waitMs: msToCover(-Number(level), limits.refillPerSecond), ticket: Number(issued), cost };
  }

  async waitFor(key: string, reservation: Reservation, limits: BucketLimits): Promise<number> {
    checkLimits(limits);
    const short = Number(await this.redis.eval(WAIT_FOR, 1, this.key(key), limits.capacity, limits.refillPerSecond, reservation.ticket, reservation.cost));
    return msToCover(short, limits.refillPerSecond);
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

  async reserve(key: string, cost: number, limits: BucketLimits): Promise<Reservation> {
    checkLimits(limits);
    const { level, issued } = await this.update(key, limits, (current) => sql`${current} - ${cost}::float8`, cost);
    return { waitMs: msToCover(-level, limits.refillPerSecond), ticket: issued, cost };
  }

  async waitFor(key: string, reservation: Reservation, limits: BucketLimits): Promise<number> {
    checkLimits(limits);
    const refilled = refilledLevel(limits);
    // Covered: stop counting it as waiting, in the same statement.
    const { rows } = await sql<{ short: number }>`
      WITH s AS (
        SELECT b.key, ${reservation.ticket}::float8 - b.issued - ${refilled} AS short, ${reservation.ticket}::float8 > b.issued AS expired
        FROM rate_buckets b WHERE b.key = ${this.key(key)} AND b.expires_at >= now()
      ), u AS (
        UPDATE rate_buckets b SET pending = GREATEST(0, b.pending - ${reservation.cost}::float8)
        FROM s WHERE b.key = s.key AND s.short <= 0 AND NOT s.expired
      )
      SELECT CASE WHEN expired THEN 0 ELSE short END AS short FROM s`.execute(this.db);
    return msToCover(rows[0] ? Number(rows[0].short) : 0, limits.refillPerSecond);
  }

  async sync(key: string, available: number, limits: BucketLimits): Promise<void> {
    checkLimits(limits);
    await this.update(key, limits, (current, pending) => sql`LEAST(${current}, ${available}::float8 - ${pending})`);
  }

  async refund(key: string, points: number, limits: BucketLimits): Promise<void> {
    checkLimits(limits);
    if (points <= 0) return;
    await this.update(key, limits, (current) => sql`LEAST(${limits.capacity}::float8, ${current} + ${points}::float8)`);
  }

  /**
   * Refills the bucket to now, applies `change` to the refilled level, adds
   * `reserved` to the points issued, saves it; returns the new level and issued.
   */
  private async update(
    key: string,
    limits: BucketLimits,
    change: (current: ReturnType<typeof sql>, pending: ReturnType<typeof sql>) => ReturnType<typeof sql>,
    reserved = 0,
  ): Promise<{ level: number; issued: number }> {
    const { capacity, refillPerSecond: rate } = limits;
    const ttlMs = Math.ceil((capacity / rate) * 1000) + 60_000;
    const current = sql`(CASE WHEN b.expires_at < now() THEN ${capacity}::float8 ELSE ${refilledLevel(limits)} END)`;
    const pending = sql`(CASE WHEN b.expires_at < now() THEN 0 ELSE b.pending END)`;
    const fresh = change(sql`${capacity}::float8`, sql`0::float8`);
    const next = change(current, pending);
    // A reservation the bucket cannot cover yet is waiting: counted in pending until `waitFor` lets it go.
    const { rows } = await sql<{ level: number; issued: number }>`
      INSERT INTO rate_buckets AS b (key, level, issued, pending, updated_at, expires_at)
      VALUES (${this.key(key)}, ${fresh}, ${reserved}::float8, CASE WHEN ${fresh} < 0 THEN ${reserved}::float8 ELSE 0 END,
        now(), now() + ${ttlMs} * interval '1 millisecond')
      ON CONFLICT (key) DO UPDATE SET
        level = ${next},
        issued = (CASE WHEN b.expires_at < now() THEN 0 ELSE b.issued END) + ${reserved}::float8,
        pending = ${pending} + CASE WHEN ${reserved}::float8 > 0 AND ${next} < 0 THEN ${reserved}::float8 ELSE 0 END,
        updated_at = now(),
        expires_at = now() + ${ttlMs} * interval '1 millisecond'
      RETURNING level, issued`.execute(this.db);
    if (Math.random() < 0.01) await sql`DELETE FROM rate_buckets WHERE expires_at < now()`.execute(this.db);
    return { level: Number(rows[0]!.level), issued: Number(rows[0]!.issued) };
  }

  private key(key: string): string {
    return `${this.prefix}:budget:${key}`;
  }
}

/** Bucket `b`'s level refilled to now (the database clock), at most its capacity. */
function refilledLevel({ capacity, refillPerSecond }: BucketLimits) {
  return sql`LEAST(${capacity}::float8, b.level + EXTRACT(EPOCH FROM (now() - b.updated_at)) * ${refillPerSecond}::float8)`;
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
