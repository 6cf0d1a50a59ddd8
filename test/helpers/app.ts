/**
 * A full `App` on a throwaway database and Redis prefix; with
 * `CHANNELSYNC_TEST_MODE=embedded`, on a throwaway in-memory PGlite with the
 * queues in it (one suite, two modes).
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { sql } from 'kysely';
import { loadConfig, type Config } from '../../src/config.ts';
import { createApp, type App } from '../../src/app.ts';
import { createTestDatabase, deleteKeys, testPrefix, REDIS_URL, type TestDatabase } from './services.ts';
import { EMBEDDED, startTestEmbeddedPostgres } from './embedded.ts';

export interface TestApp {
  app: App;
  database: TestDatabase;
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function createTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const embedded = EMBEDDED ? await startTestEmbeddedPostgres() : undefined;
  const database: TestDatabase = embedded
    ? { name: 'embedded', url: embedded.url, drop: async () => {} }
    : await createTestDatabase();
  const redis = testPrefix();
  const fullEnv = {
    DATABASE_URL: database.url,
    REDIS_URL,
    QUEUE_PREFIX: redis.prefix,
    CHANNELSYNC_SECRET_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    ...env,
  };
  const config: Config = loadConfig(fullEnv);
  const app = await createApp(config, { log: pino({ level: 'silent' }), embedded });
  return {
    app,
    database,
    env: fullEnv,
    async close() {
      await app.close();
      await redis.cleanup();
      await database.drop();
    },
  };
}

/**
 * Loses every job, as a Redis flush would (embedded: BullMQ's tables emptied).
 * Returns how many keys or jobs were deleted.
 */
export async function flushQueues(app: App): Promise<number> {
  if (app.backend.kind === 'redis') return deleteKeys(`${app.config.queuePrefix}*`);
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM bullmq.job`.execute(app.db);
  await sql`TRUNCATE bullmq.job, bullmq.job_log, bullmq.job_dependency, bullmq.dedup, bullmq.dedup_next, bullmq.scheduler, bullmq.event, bullmq.meta`.execute(app.db);
  return rows[0]!.n;
}
