/**
 * Where the queues, and the state shared between processes (rate-limit
 * buckets, cached tokens), live. One object per process, chosen once at start:
 *
 * - `redisBackend`: production. BullMQ on Redis with a key prefix; shared
 *   state in Redis too.
 * - `postgresBackend`: embedded mode. BullMQ's own PostgreSQL backend on our
 *   database (its tables in the `bullmq` schema); shared state in two small
 *   tables of ours (migration 0005). About 460 jobs/s on PGlite, against
 *   thousands on Redis: fine for trying channelsync and for small shops.
 *
 * Everything else (QueueSet, workers, schedules, health) takes a
 * `QueueBackend` and never asks which one it is.
 */
import { Queue, Worker, createPostgresBackend, runMigrations, withBackend, type Processor, type QueueOptions, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import pg from 'pg';
import type { Db } from '../db/index.ts';
import { createRedis, createRequestRedis, pingRedis } from './connection.ts';
import {
  PostgresRateBudget,
  PostgresSharedKV,
  RedisRateBudget,
  RedisSharedKV,
  type RateBudget,
  type SharedKV,
} from './shared-state.ts';

export type QueueSettings = Omit<QueueOptions, 'connection' | 'prefix'>;
export type WorkerSettings = Omit<WorkerOptions, 'connection' | 'prefix'>;

export interface QueueBackend {
  readonly kind: 'redis' | 'postgres';
  /** For logs: where the queues live, without credentials. */
  readonly description: string;
  /** The Redis connection when the queues are on Redis (for features that need Redis itself); null otherwise. */
  readonly redis: Redis | null;
  /**
   * A connection for HTTP request handlers when the queues are on Redis: it
   * fails fast instead of waiting for Redis to come back (`createRequestRedis`); null otherwise.
   */
  readonly requestRedis: Redis | null;
  /** Creates what the backend needs before first use (BullMQ's tables on Postgres); safe to repeat and to run concurrently. */
  prepare(): Promise<void>;
  createQueue(name: string, settings: QueueSettings): Queue;
  /** A worker with the connection it needs; `release` frees that connection once the worker is closed. */
  createWorker(name: string, processor: Processor, settings: WorkerSettings): { worker: Worker; release(): void };
  /** Rate-limit buckets and small shared values, kept where the queues are. */
  sharedState(db: Db): { budget: RateBudget; kv: SharedKV };
  /** Rejects when the backend does not answer within `timeoutMs`. */
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** BullMQ on Redis: one connection for queues and shared state, one more per worker (BullMQ blocks on it). */
export function redisBackend(url: string, prefix: string): QueueBackend {
  const redis = createRedis(url);
  const requestRedis = createRequestRedis(url);
  return {
    kind: 'redis',
    description: `redis ${redactUrl(url)} prefix ${prefix}`,
    redis,
    requestRedis,
    async prepare() {},
    createQueue: (name, settings) => new Queue(name, { ...settings, connection: redis, prefix }),
    createWorker(name, processor, settings) {
      const connection = createRedis(url);
      const worker = new Worker(name, processor, { ...settings, connection, prefix });
      return { worker, release: () => connection.disconnect() };
    },
    sharedState: () => ({ budget: new RedisRateBudget(redis, prefix), kv: new RedisSharedKV(redis, prefix) }),
    ping: (timeoutMs) => pingRedis(url, timeoutMs),
    async close() {
      redis.disconnect();
      requestRedis.disconnect();
    },
  };
}

export interface PostgresBackendOptions {
  /**
   * Connections in BullMQ's pool; default 20. Each worker holds one for
   * LISTEN (woken by NOTIFY when a job is added), so keep it above the number
   * of queues with workers plus a few for queries.
   */
  max?: number;
  /** Prefix for shared-state keys, so daemons with different QUEUE_PREFIX can share a database. */
  prefix: string;
}

/** Postgres schema holding BullMQ's tables (its default; a pool we pass in cannot choose another). */
export const BULLMQ_SCHEMA = 'bullmq';

const PG = withBackend(createPostgresBackend);

/**
 * BullMQ's PostgreSQL backend. Its SQL names its tables without a schema and
 * relies on `search_path` reaching `bullmq`: on a real server each connection
 * of this pool asks for `bullmq, public`; on embedded PGlite the one shared
 * session has `public, bullmq` (set in `embedded/postgres.ts`), which is why
 * `prepare` refuses a name that exists in both schemas.
 */
export function postgresBackend(databaseUrl: string, options: PostgresBackendOptions): QueueBackend {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 20,
    options: `-c search_path=${BULLMQ_SCHEMA},public`,
    connectionTimeoutMillis: 10_000,
  });
  pool.on('error', () => {});
  // Every BullMQ queue and worker adds its own 'error' listener to the shared pool.
  pool.setMaxListeners(0);
  return {
    kind: 'postgres',
    description: `postgres ${redactUrl(databaseUrl)} schema ${BULLMQ_SCHEMA}`,
    redis: null,
    requestRedis: null,
    async prepare() {
      const client = await pool.connect();
      try {
        await runMigrations(client, BULLMQ_SCHEMA);
        await refuseShadowedNames(client);
      } finally {
        client.release();
      }
    },
    // The PG-backed classes have the same API; only their connection type parameter differs.
    createQueue: (name, settings) => new PG.Queue(name, { ...settings, connection: pool }) as unknown as Queue,
    createWorker(name, processor, settings) {
      const worker = new PG.Worker(name, processor, { ...settings, connection: pool }) as unknown as Worker;
      return { worker, release: () => {} };
    },
    sharedState: (db) => ({ budget: new PostgresRateBudget(db, options.prefix), kv: new PostgresSharedKV(db, options.prefix) }),
    async ping(timeoutMs) {
      const client = await pool.connect();
      try {
        await client.query({ text: `SELECT 1 FROM ${BULLMQ_SCHEMA}.migration LIMIT 1`, query_timeout: timeoutMs } as pg.QueryConfig);
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}

/** BullMQ's unqualified names must not find a table or function of ours first. */
async function refuseShadowedNames(client: pg.PoolClient): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT ours.name FROM (
       SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
       UNION SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
     ) ours JOIN (
       SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
       UNION SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1
     ) theirs USING (name) ORDER BY 1`,
    [BULLMQ_SCHEMA],
  );
  if (rows.length) {
    throw new Error(
      `tables or functions in schema public share names with BullMQ's in schema ${BULLMQ_SCHEMA} (${rows.map((r) => r.name).join(', ')}): ` +
        'rename ours in a migration, or BullMQ would use them in embedded mode',
    );
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
