/**
 * The running application's shared resources: one Postgres pool, the queue
 * backend (Redis, or Postgres itself in embedded mode), the queues, and built
 * connectors. Jobs, the HTTP server and the CLI all take an `App`; nothing
 * else holds global state.
 */
import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import { requireSecretKey } from './config.ts';
import { createDb, ensureDatabase, migrate, type Db } from './db/index.ts';
import { loadChannel, pauseAdvice, pauseChannel, storeCredential } from './db/channels.ts';
import { closeLockConnections } from './db/locks.ts';
import { postgresBackend, redisBackend, type QueueBackend } from './queue/backend.ts';
import { QueueSet } from './queue/queues.ts';
import type { RateBudget, SharedKV } from './queue/shared-state.ts';
import type { EmbeddedPostgres } from './embedded/postgres.ts';
import { createLogger, type Logger } from './log.ts';
import type { ChannelRecord, Connector } from '../connectors/types.ts';
import { ChannelPausedError, PermanentError } from './domain/errors.ts';
import { sleep } from './domain/async.ts';

export interface App {
  config: Readonly<Config>;
  log: Logger;
  db: Db;
  /**
   * The webhook inbox's own small pool (the HTTP accept: store the delivery,
   * answer): an accept never waits for a connection behind the jobs' queries,
   * which under a burst held every pooled one and made stores time out
   * (`npm run bench -- webhooks`). The same pool as `db` in embedded mode.
   */
  inbox: Db;
  /** Where queues and shared state live. */
  backend: QueueBackend;
  /** The Redis connection, or null in embedded mode (no Redis). */
  redis: Redis | null;
  queues: QueueSet;
  budget: RateBudget;
  kv: SharedKV;
  connectors: ConnectorCache;
  close(): Promise<void>;
}

/** Connections of the webhook inbox's pool: an accept is one or two short statements. */
const INBOX_POOL_SIZE = 3;

export interface CreateAppOptions {
  log?: Logger;
  /** Create the database when missing and apply migrations (default true). */
  migrate?: boolean;
  /**
   * Embedded mode: `config.databaseUrl` points at this in-process Postgres,
   * the queues and shared state live in it too (no Redis), and the app closes
   * it last.
   */
  embedded?: EmbeddedPostgres;
  /**
   * How long to wait for a Postgres that does not answer yet (or is restarting) before failing;
   * default 0 (a command fails at once). The daemon waits a minute.
   */
  waitForPostgresMs?: number;
  /** Ends that wait early (a SIGTERM during start-up). */
  signal?: AbortSignal;
}

export async function createApp(config: Readonly<Config>, options: CreateAppOptions = {}): Promise<App> {
  const log = options.log ?? createLogger(config.logLevel);
  if (options.migrate ?? true) {
    const created = await whilePostgresStarts(log, options.waitForPostgresMs ?? 0, options.signal, () => ensureDatabase(config.databaseUrl));
    if (created) log.info({ database: dbName(config.databaseUrl) }, 'created database');
  }
  const db = createDb(config.databaseUrl, { max: config.databasePoolSize });
  if (options.migrate ?? true) {
    const { applied } = await whilePostgresStarts(log, options.waitForPostgresMs ?? 0, options.signal, () => migrate(db)).catch(async (err) => {
      await db.destroy();
      throw err;
    });
    if (applied.length) log.info({ applied }, 'applied migrations');
  }
  const backend = options.embedded
    ? postgresBackend(config.databaseUrl, { prefix: config.queuePrefix })
    : redisBackend(config.redisUrl, config.queuePrefix);
  if (options.migrate ?? true) await backend.prepare();
  const queues = new QueueSet(backend, { prefix: config.queuePrefix, attempts: config.jobAttempts });
  const { budget, kv } = backend.sharedState(db);
  const inbox = options.embedded ? db : createDb(config.databaseUrl, { max: INBOX_POOL_SIZE });
  const app: App = {
    config,
    log,
    db,
    inbox,
    backend,
    redis: backend.redis,
    queues,
    budget,
    kv,
    connectors: undefined as unknown as ConnectorCache,
    async close() {
      await app.connectors.closeAll();
      await queues.close();
      await backend.close();
      await closeLockConnections(config.databaseUrl);
      if (inbox !== db) await inbox.destroy();
      await db.destroy();
      await options.embedded?.close();
    },
  };
  app.connectors = new ConnectorCache(app);
  return app;
}

/**
 * Built connectors by channel id. A connector is rebuilt when its channel row
 * changes (settings or credentials edited), so a running daemon picks up edits.
 */
export class ConnectorCache {
  private readonly built = new Map<number, { updatedAt: number; channel: ChannelRecord; connector: Connector }>();
  /** Builds under way, so that jobs asking at once share one connector (and its concurrency limits). */
  private readonly building = new Map<string, Promise<{ updatedAt: number; channel: ChannelRecord; connector: Connector }>>();

  constructor(private readonly app: App) {}

  /**
   * The channel and its connector. Throws `PermanentError` for a missing or disabled
   * channel, `ChannelPausedError` (saying what to do) for a paused one: every job
   * asks here first, so a pause stops them all, in every process, at their next start.
   * `via`: the pool to read the channel row with (the webhook inbox passes its own).
   */
  async get(channelId: number, via: Db = this.app.db): Promise<{ channel: ChannelRecord; connector: Connector }> {
    const row = await via
      .selectFrom('channels')
      .select(['updated_at', 'enabled', 'paused_at', 'paused_reason'])
      .where('id', '=', channelId)
      .executeTakeFirst();
    if (!row) throw new PermanentError(`channel ${channelId} does not exist`);
    if (!row.enabled) throw new PermanentError(`channel ${channelId} is disabled`);
    if (row.paused_at) throw new ChannelPausedError(pauseAdvice(channelId, { at: row.paused_at, reason: row.paused_reason ?? '' }));
    const cached = this.built.get(channelId);
    if (cached && cached.updatedAt === row.updated_at.getTime()) return cached;
    const key = `${channelId}@${row.updated_at.getTime()}`;
    let pending = this.building.get(key);
    if (!pending) {
      pending = this.build(channelId, row.updated_at.getTime(), via).finally(() => this.building.delete(key));
      this.building.set(key, pending);
    }
    return pending;
  }

  private async build(channelId: number, updatedAt: number, via: Db): Promise<{ updatedAt: number; channel: ChannelRecord; connector: Connector }> {
    const record = await loadChannel(via, requireSecretKey(this.app.config), channelId);
    if (!record) throw new PermanentError(`channel ${channelId} does not exist`);
    // Loaded on the first connector, not with the app: CLI commands that never
    // talk to a channel skip the connectors and prom-client (see src/cli.ts).
    const [{ connectorFactory }, { channelApiCalls }] = await Promise.all([import('../connectors/index.ts'), import('./server/metrics.ts')]);
    const factory = connectorFactory(record.kind);
    const settings = factory.settingsSchema.safeParse(record.settings);
    if (!settings.success) throw new PermanentError(`channel ${channelId} settings: ${settings.error.issues[0]?.message}`);
    const credentials = factory.credentialsSchema.safeParse(record.credentials);
    if (!credentials.success) {
      throw new PermanentError(`channel ${channelId} credentials: ${credentials.error.issues[0]?.message}`);
    }
    const channel = { ...record, settings: settings.data, credentials: credentials.data };
    const connector = factory.create({
      channel,
      budget: this.app.budget,
      kv: this.app.kv,
      log: this.app.log.child({ channel: channelId, kind: record.kind }),
      recordCall: (outcome) => channelApiCalls.inc({ channel: String(channelId), kind: record.kind, outcome }),
      pauseChannel: async (reason) => {
        await pauseChannel(this.app.db, channelId, reason);
        this.app.log.warn({ channel: channelId, reason }, 'channel paused until a person reconnects it');
      },
      storeCredential: (name, value, replaces) => storeCredential(this.app.db, requireSecretKey(this.app.config), channelId, name, value, replaces),
    });
    const entry = { updatedAt, channel, connector };
    const previous = this.built.get(channelId);
    this.built.set(channelId, entry);
    // The channel was edited: the old connector's sockets and timers go.
    if (previous && previous.connector !== connector) await previous.connector.close().catch(() => {});
    return entry;
  }

  async closeAll(): Promise<void> {
    const all = [...this.built.values()];
    this.built.clear();
    await Promise.all(all.map((e) => e.connector.close().catch(() => {})));
  }
}

/** Errors that mean "Postgres is not there yet / just went away", not "something is wrong with us". */
function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: unknown };
  if (e?.code && ['ECONNREFUSED', 'ECONNRESET', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006'].includes(e.code)) return true;
  if (/ECONNREFUSED|Connection terminated|connection has been discarded|the database system is (starting up|shutting down)|timeout exceeded when trying to connect/i.test(e?.message ?? '')) return true;
  return e?.cause !== undefined && e.cause !== err && isConnectionLoss(e.cause);
}

/**
 * Runs a start-up step, retrying it while Postgres is unreachable or restarting
 * (a machine booting, a managed database failing over, a restart during a
 * daemon's start): the daemon waits, saying so, instead of exiting 1.
 */
async function whilePostgresStarts<T>(log: Logger, waitMs: number, signal: AbortSignal | undefined, step: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (!isConnectionLoss(err) || Date.now() > deadline || signal?.aborted) throw err;
      if (attempt === 1) log.warn({ err: (err as Error).message }, 'Postgres does not answer yet: waiting for it');
      await sleep(Math.min(2_000, 200 * attempt), signal ?? new AbortController().signal);
    }
  }
}

function dbName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}
