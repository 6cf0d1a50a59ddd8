/** A full `App` on a throwaway database and Redis prefix. */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../src/config.ts';
import { createApp, type App } from '../../src/app.ts';
import { createTestDatabase, testPrefix, REDIS_URL, type TestDatabase } from './services.ts';

export interface TestApp {
  app: App;
  database: TestDatabase;
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function createTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const database = await createTestDatabase();
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
  const app = await createApp(config, { log: pino({ level: 'silent' }) });
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
