/**
 * State shared by every process that talks to the same channel: rate-limit
 * buckets and small cached values (access tokens). Backed by Redis, or by
 * Postgres in embedded mode (`QueueBackend.sharedState` picks); the
 * interfaces are small so that another store can stand behind them.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
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
  /**
   * Id of the lease of a reservation that has to wait (unset when it may go at
   * once). `waitFor` renews the lease; a reservation whose holder stops asking
   * for longer than the lease (a killed process) is dropped by whoever touches
   * the bucket next, and its points come back.
   */
  lease?: string;
}

/** Options of a `RateBudget` implementation. */
export interface RateBudgetOptions {
  /**
   * How long a waiting reservation survives without its holder asking
   * (`waitFor`, every 100 ms while it waits). Default 30 000 ms: far above any
   * pause of a live process, short enough that a SIGKILLed daemon's queued
   * points are back within half a minute.
   */
  leaseMs?: number;
}

/** Default lease of a waiting reservation; see `RateBudgetOptions.leaseMs`. */
export const DEFAULT_LEASE_MS = 30_000;

let leaseSeq = 0;
/** A lease id unique across processes: this process's random owner id and a counter. */
function newLeaseId(owner: string): string {
  leaseSeq = (leaseSeq + 1) % Number.MAX_SAFE_INTEGER;
  return `${owner}.${leaseSeq}`;
}

/**
 * Waits until a reservation is covered, re-checking at least every
 * `recheckMs` so that refunds made meanwhile are used. Rejects with
 * `signal`'s reason when it aborts (the client closing at shutdown); the
 * reservation then stops being renewed and its lease returns its points.
 */
export async function awaitReservation(
  budget: RateBudget,
  key: string,
  reservation: Reservation,
  limits: BucketLimits,
  recheckMs = 100,
  signal?: AbortSignal,
): Promise<void> {
  let wait = reservation.waitMs;
  while (wait > 0) {
    signal?.throwIfAborted();
    await delay(Math.min(wait, recheckMs), undefined, signal ? { signal } : {});
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
  /**
   * Adds `by` to a counter (missing or expired: 0) in one atomic step and
   * returns the new value; the expiry is set when the counter is made and kept
   * after. For counts that several workers move at once (a daily cap): a
   * get-then-set would let two of them write the same next value.
   */
  incr(key: string, by: number, ttlMs: number): Promise<number>;
}

// Bucket state: a hash {level, ts, issued, pending}. Level may go negative:
// that is the debt of reservations made ahead of the refill, which callers are
// waiting out; issued counts every point reserved (tickets); pending, the
// points of reservations still waiting (not sent, so unknown to the channel).
// Each waiting reservation also has a lease in a sorted set beside the hash
// (member `<lease id>|<cost>`, score its deadline): a holder that dies while
// waiting stops renewing it, and the next script to touch the bucket drops it
// and gives its points back (level and pending). Without that, a SIGKILLed
// daemon's queued points stayed in pending for good, every sync pulled the
// level that far below Shopify's, and each call kept refreshing the key.
// Time comes from the Redis server so that every process shares one clock.
// Every script takes ARGV[1..3] = capacity, refill per second, lease ms.
const REFILL = `
local capacity, rate, lease_ms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local function fmt(n) return string.format('%.17g', n) end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function current(key)
  local now = now_ms()
  local level = tonumber(redis.call('HGET', key, 'level'))
  local ts = tonumber(redis.call('HGET', key, 'ts'))
  if level == nil or ts == nil then return capacity, now end
  level = math.min(capacity, level + (now - ts) * rate / 1000)
  return level, now
end
local function keep(key, leases)
  local ttl = math.ceil(capacity / rate * 1000) + 60000
  redis.call('PEXPIRE', key, ttl)
  -- The leases outlive the bucket, so pending never outlives the leases that explain it.
  if redis.call('EXISTS', leases) == 1 then redis.call('PEXPIRE', leases, ttl + lease_ms) end
end
local function save(key, leases, level, now)
  redis.call('HSET', key, 'level', fmt(level), 'ts', tostring(now))
  keep(key, leases)
end
-- Drops the leases that ran out; returns the points they give back (already taken out of pending).
local function expire(key, leases, now)
  local dead = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, 500)
  if #dead == 0 then return 0 end
  local back = 0
  for _, m in ipairs(dead) do back = back + (tonumber(string.match(m, '|([^|]+)$')) or 0) end
  redis.call('ZREM', leases, unpack(dead))
  local pending = tonumber(redis.call('HGET', key, 'pending')) or 0
  redis.call('HSET', key, 'pending', fmt(math.max(0, pending - back)))
  return back
end
-- The level refilled to now, with the points of dead holders given back.
local function healed(key, leases)
  local level, now = current(key)
  return math.min(capacity, level + expire(key, leases, now)), now
end
`;

const RESERVE = `${REFILL}
local cost, lease = tonumber(ARGV[4]), ARGV[5]
local level, now = healed(KEYS[1], KEYS[2])
local issued = (tonumber(redis.call('HGET', KEYS[1], 'issued')) or 0) + cost
local pending = tonumber(redis.call('HGET', KEYS[1], 'pending')) or 0
level = level - cost
local member = ''
if level < 0 then
  pending = pending + cost
  member = lease .. '|' .. fmt(cost)
  redis.call('ZADD', KEYS[2], now + lease_ms, member)
end
redis.call('HSET', KEYS[1], 'issued', fmt(issued), 'pending', fmt(pending))
save(KEYS[1], KEYS[2], level, now)
return { fmt(level), fmt(issued), member }
`;

// Covered: the level, with the points reserved after this ticket given back, is >= 0.
// A lease already dropped (its holder was silent past the lease) gave its points
// back: the caller goes, and the next response aligns the bucket.
const WAIT_FOR = `${REFILL}
local ticket, cost, member = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
if redis.call('EXISTS', KEYS[1]) == 0 then return '0' end
local level, now = current(KEYS[1])
local back = expire(KEYS[1], KEYS[2], now)
if back > 0 then
  level = math.min(capacity, level + back)
  save(KEYS[1], KEYS[2], level, now)
end
local issued = tonumber(redis.call('HGET', KEYS[1], 'issued')) or 0
if ticket > issued then return '0' end
if member ~= '' and not redis.call('ZSCORE', KEYS[2], member) then return '0' end
local short = ticket - issued - level
if short > 0 then
  if member ~= '' then
    redis.call('ZADD', KEYS[2], 'XX', now + lease_ms, member)
    keep(KEYS[1], KEYS[2])
  end
  return fmt(short)
end
if member ~= '' then
  redis.call('ZREM', KEYS[2], member)
  local pending = tonumber(redis.call('HGET', KEYS[1], 'pending')) or 0
  redis.call('HSET', KEYS[1], 'pending', fmt(math.max(0, pending - cost)))
end
return '0'
`;

const SYNC = `${REFILL}
local reported = tonumber(ARGV[4])
local level, now = healed(KEYS[1], KEYS[2])
local pending = tonumber(redis.call('HGET', KEYS[1], 'pending')) or 0
save(KEYS[1], KEYS[2], math.min(level, reported - pending), now)
return 0
`;

const REFUND = `${REFILL}
local points = tonumber(ARGV[4])
local level, now = healed(KEYS[1], KEYS[2])
save(KEYS[1], KEYS[2], math.min(capacity, level + points), now)
return 0
`;

export class RedisRateBudget implements RateBudget {
  private readonly owner = randomUUID();
  private readonly leaseMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    options: RateBudgetOptions = {},
  ) {
    this.leaseMs = checkLease(options.leaseMs ?? DEFAULT_LEASE_MS);
  }

  async reserve(key: string, cost: number, limits: BucketLimits): Promise<Reservation> {
    checkLimits(limits);
    const [level, issued, member] = (await this.eval(RESERVE, key, limits, cost, newLeaseId(this.owner))) as [string, string, string];
    return { waitMs: msToCover(-Number(level), limits.refillPerSecond), ticket: Number(issued), cost, ...(member ? { lease: member } : {}) };
  }

  async waitFor(key: string, reservation: Reservation, limits: BucketLimits): Promise<number> {
    checkLimits(limits);
    const short = Number(await this.eval(WAIT_FOR, key, limits, reservation.ticket, reservation.cost, reservation.lease ?? ''));
    return msToCover(short, limits.refillPerSecond);
  }

  async sync(key: string, available: number, limits: BucketLimits): Promise<void> {
    checkLimits(limits);
    await this.eval(SYNC, key, limits, available);
  }

  async refund(key: string, points: number, limits: BucketLimits): Promise<void> {
    checkLimits(limits);
    if (points <= 0) return;
    await this.eval(REFUND, key, limits, points);
  }

  private eval(script: string, key: string, limits: BucketLimits, ...args: (string | number)[]): Promise<unknown> {
    const bucket = `${this.prefix}:budget:${key}`;
    return this.redis.eval(script, 2, bucket, `${bucket}:leases`, limits.capacity, limits.refillPerSecond, this.leaseMs, ...args);
  }
}

function checkLease(ms: number): number {
  if (!(ms > 0)) throw new RangeError(`leaseMs must be a positive number of milliseconds (got ${ms})`);
  return Math.ceil(ms);
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

  async incr(key: string, by: number, ttlMs: number): Promise<number> {
    const k = this.key(key);
    const [[err, value]] = (await this.redis.multi().incrby(k, by).pexpire(k, Math.max(1, Math.round(ttlMs)), 'NX').exec())! as [[Error | null, number]];
    if (err) throw err;
    return value;
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
  private readonly owner = randomUUID();
  private readonly leaseMs: number;

  constructor(
    private readonly db: Db,
    private readonly prefix: string,
    options: RateBudgetOptions = {},
  ) {
    this.leaseMs = checkLease(options.leaseMs ?? DEFAULT_LEASE_MS);
  }

  async reserve(key: string, cost: number, limits: BucketLimits): Promise<Reservation> {
    checkLimits(limits);
    const lease = newLeaseId(this.owner);
    const { level, issued } = await this.update(key, limits, (current) => sql`${current} - ${cost}::float8`, { cost, lease });
    // Waiting (level < 0) is exactly when update() counted it in pending and wrote its lease.
    return { waitMs: msToCover(-level, limits.refillPerSecond), ticket: issued, cost, ...(level < 0 ? { lease } : {}) };
  }

  async waitFor(key: string, reservation: Reservation, limits: BucketLimits): Promise<number> {
    checkLimits(limits);
    const bucket = this.key(key);
    const lease = reservation.lease ?? '';
    // One statement: drop dead holders' leases (points back), then either renew this
    // reservation's lease (still short) or end it (covered: it stops counting as waiting).
    // A lease that is gone already gave its points back: the caller goes.
    const { rows } = await sql<{ short: number }>`
      WITH dead AS (
        DELETE FROM rate_budget_leases WHERE bucket = ${bucket} AND expires_at < now() RETURNING cost
      ), back AS (
        SELECT COALESCE(sum(cost), 0)::float8 AS points FROM dead
      ), s AS (
        SELECT b.key,
          ${reservation.ticket}::float8 - b.issued - LEAST(${limits.capacity}::float8, ${refilledLevel(limits)} + back.points) AS short,
          ${reservation.ticket}::float8 > b.issued AS expired,
          (${lease} = '' OR EXISTS (
            SELECT 1 FROM rate_budget_leases l WHERE l.bucket = ${bucket} AND l.id = ${lease} AND l.expires_at >= now()
          )) AS held
        FROM rate_buckets b, back WHERE b.key = ${bucket} AND b.expires_at >= now()
      ), gone AS (
        DELETE FROM rate_budget_leases l USING s
        WHERE l.bucket = ${bucket} AND l.id = ${lease} AND s.held AND NOT s.expired AND s.short <= 0
        RETURNING l.cost
      ), renewed AS (
        UPDATE rate_budget_leases l SET expires_at = now() + ${this.leaseMs} * interval '1 millisecond' FROM s
        WHERE l.bucket = ${bucket} AND l.id = ${lease} AND s.held AND NOT s.expired AND s.short > 0
      ), u AS (
        UPDATE rate_buckets b
        SET level = b.level + back.points,
          pending = GREATEST(0, b.pending - back.points - COALESCE((SELECT sum(cost) FROM gone), 0))
        FROM back WHERE b.key = ${bucket} AND (back.points > 0 OR EXISTS (SELECT 1 FROM gone))
      )
      SELECT CASE WHEN expired OR NOT held THEN 0 ELSE short END AS short FROM s`.execute(this.db);
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
   * Drops the bucket's leases that ran out (their points come back), refills
   * it to now, applies `change` to that level, adds the reservation (if any)
   * to the points issued and, when it has to wait, to pending with a lease;
   * saves it; returns the new level and issued. One statement.
   */
  private async update(
    key: string,
    limits: BucketLimits,
    change: (current: ReturnType<typeof sql>, pending: ReturnType<typeof sql>) => ReturnType<typeof sql>,
    reservation: { cost: number; lease: string } = { cost: 0, lease: '' },
  ): Promise<{ level: number; issued: number }> {
    const { capacity, refillPerSecond: rate } = limits;
    const bucket = this.key(key);
    const reserved = reservation.cost;
    const ttlMs = Math.ceil((capacity / rate) * 1000) + 60_000;
    const back = sql`(SELECT points FROM back)`;
    const current = sql`(CASE WHEN b.expires_at < now() THEN ${capacity}::float8 ELSE LEAST(${capacity}::float8, ${refilledLevel(limits)} + ${back}) END)`;
    const pending = sql`(CASE WHEN b.expires_at < now() THEN 0 ELSE GREATEST(0, b.pending - ${back}) END)`;
    const fresh = change(sql`${capacity}::float8`, sql`0::float8`);
    const next = change(current, pending);
    // A reservation the bucket cannot cover yet is waiting: counted in pending, with a lease, until `waitFor` lets it go.
    const { rows } = await sql<{ level: number; issued: number }>`
      WITH dead AS (
        DELETE FROM rate_budget_leases WHERE bucket = ${bucket} AND expires_at < now() RETURNING cost
      ), back AS (
        SELECT COALESCE(sum(cost), 0)::float8 AS points FROM dead
      ), saved AS (
        INSERT INTO rate_buckets AS b (key, level, issued, pending, updated_at, expires_at)
        VALUES (${bucket}, ${fresh}, ${reserved}::float8, CASE WHEN ${fresh} < 0 THEN ${reserved}::float8 ELSE 0 END,
          now(), now() + ${ttlMs} * interval '1 millisecond')
        ON CONFLICT (key) DO UPDATE SET
          level = ${next},
          issued = (CASE WHEN b.expires_at < now() THEN 0 ELSE b.issued END) + ${reserved}::float8,
          pending = ${pending} + CASE WHEN ${reserved}::float8 > 0 AND ${next} < 0 THEN ${reserved}::float8 ELSE 0 END,
          updated_at = now(),
          expires_at = now() + ${ttlMs} * interval '1 millisecond'
        RETURNING level, issued
      ), leased AS (
        INSERT INTO rate_budget_leases (bucket, id, cost, expires_at)
        SELECT ${bucket}, ${reservation.lease}, ${reserved}::float8, now() + ${this.leaseMs} * interval '1 millisecond'
        FROM saved WHERE ${reserved}::float8 > 0 AND saved.level < 0
      )
      SELECT level, issued FROM saved`.execute(this.db);
    if (Math.random() < 0.01) {
      await sql`DELETE FROM rate_buckets WHERE expires_at < now()`.execute(this.db);
      // Leases of buckets nobody touched again (their bucket expired with them).
      await sql`DELETE FROM rate_budget_leases WHERE expires_at < now() - interval '1 hour'`.execute(this.db);
    }
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

  async incr(key: string, by: number, ttlMs: number): Promise<number> {
    const ms = Math.max(1, Math.round(ttlMs));
    // The row lock of ON CONFLICT DO UPDATE makes concurrent increments queue, each seeing the last one's value.
    const { rows } = await sql<{ value: string }>`
      INSERT INTO shared_values (key, value, expires_at) VALUES (${this.key(key)}, ${String(by)}, now() + ${ms} * interval '1 millisecond')
      ON CONFLICT (key) DO UPDATE SET
        value = CASE WHEN shared_values.expires_at > now() THEN (shared_values.value::bigint + ${by})::text ELSE EXCLUDED.value END,
        expires_at = CASE WHEN shared_values.expires_at > now() THEN shared_values.expires_at ELSE EXCLUDED.expires_at END
      RETURNING value`.execute(this.db);
    return Number(rows[0]!.value);
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
