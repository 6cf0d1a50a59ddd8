/**
 * Real Postgres and Redis for tests, isolated per test file: a database cloned
 * from a migrated template (fast), and a Redis key prefix of its own.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { MIGRATION_NAMES, createDb, migrate } from '../../src/db/index.ts';

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function urlFor(database: string): string {
  const url = new URL(PG_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * The template's name changes whenever a migration file does, so a stale template is never used.
 * The names this process will migrate with are hashed too: a run that loaded the code before a
 * migration was added (files edited while it started) gets a name of its own, not the new one.
 */
export function templateName(): string {
  const dir = join(import.meta.dirname, '../../src/db/migrations');
  const hash = createHash('sha256').update(MIGRATION_NAMES.join(','));
  for (const file of readdirSync(dir).sort()) hash.update(file).update(readFileSync(join(dir, file)));
  hash.update(readFileSync(join(import.meta.dirname, '../../src/db/index.ts')));
  return `cs_template_${hash.digest('hex').slice(0, 12)}`;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates and migrates the template once (under an advisory lock: parallel runs may race). */
export async function ensureTemplate(): Promise<string> {
  const name = templateName();
  await admin(async (client) => {
    await client.query('SELECT pg_advisory_lock(7302)');
    try {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (exists.rowCount && (await hasEveryMigration(name))) return;
      // A template left half-made (or made by older code under this name) is made again.
      if (exists.rowCount) await client.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await client.query(`CREATE DATABASE ${name}`);
      const db = createDb(urlFor(name), { max: 1 });
      try {
        await migrate(db);
      } catch (err) {
        await db.destroy();
        await client.query(`DROP DATABASE ${name}`);
        throw err;
      }
      await db.destroy();
    } finally {
      await client.query('SELECT pg_advisory_unlock(7302)');
    }
  });
  return name;
}

async function hasEveryMigration(database: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: urlFor(database) });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>('SELECT name FROM kysely_migration');
    const applied = new Set(rows.map((r) => r.name));
    return MIGRATION_NAMES.every((n) => applied.has(n));
  } catch {
    return false;
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = await ensureTemplate();
  const name = `cs_test_${randomBytes(6).toString('hex')}`;
  await admin(async (client) => {
    // CREATE DATABASE ... TEMPLATE fails while another session is connected to the template.
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        return;
      } catch (err) {
        if (attempt >= 20 || (err as { code?: string }).code !== '55006') throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  });
  return {
    name,
    url: urlFor(name),
    drop: () => admin(async (client) => void (await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
}

/** The environment of a daemon process started by a test: its database, Redis prefix, a fresh key, a quiet schedule. */
export function daemonEnv(databaseUrl: string, prefix: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    CHANNELSYNC_SECRET_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'info',
    PORT: '0',
    HOST: '127.0.0.1',
    SYNC_INTERVAL_SECONDS: '3600',
  };
}

/** A unique queue prefix (with a Cluster hash tag, like production) and a way to delete its keys. */
export function testPrefix(): { prefix: string; cleanup(): Promise<void> } {
  const prefix = `{cs-test-${randomBytes(5).toString('hex')}}`;
  return {
    prefix,
    async cleanup() {
      await deleteKeys(`${prefix}*`);
    },
  };
}

export async function deleteKeys(pattern: string): Promise<number> {
  const redis = new Redis(REDIS_URL);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
