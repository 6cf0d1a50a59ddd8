import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, REDIS_URL, testPrefix, type TestDatabase } from './helpers/services.ts';
import { runCli } from './helpers/cli.ts';

let database: TestDatabase;
const redis = testPrefix();
let env: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase();
  env = {
    DATABASE_URL: database.url,
    REDIS_URL,
    QUEUE_PREFIX: redis.prefix,
    CHANNELSYNC_SECRET_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'silent',
  };
});
afterAll(async () => {
  await redis.cleanup();
  await database.drop();
});

describe('channelsync CLI', () => {
  it('explains itself', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const command of ['migrate', 'start', 'channels', 'status', 'demo', 'simulate']) expect(stdout).toContain(command);
  });

  it('migrates a new database, then again with nothing to do', async () => {
    const name = `cs_cli_${randomBytes(4).toString('hex')}`;
    const url = database.url.replace(/\/[^/]+$/, `/${name}`);
    try {
      const first = await runCli(['migrate'], { ...env, DATABASE_URL: url });
      expect(first.stderr).toBe('');
      expect(first.stdout).toContain(`created database ${name}`);
      expect(first.stdout).toMatch(/applied: 0001_initial/);
      // The first run gives the merchant somewhere to keep stock, and says so.
      expect(first.stdout).toContain('no location existed: created the default location "MAIN"');
      const second = await runCli(['migrate'], { ...env, DATABASE_URL: url });
      expect(second.code).toBe(0);
      expect(second.stdout.trim()).toBe('schema is up to date');
      const listed = await runCli(['locations', 'list'], { ...env, DATABASE_URL: url });
      expect(listed.stdout).toMatch(/^MAIN\s+Main warehouse\s+active\s+100\s+0\s+0$/m);
    } finally {
      const pg = await import('pg');
      const admin = new pg.default.Client({ connectionString: database.url });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('stops on a bad setting with one line naming the variable', async () => {
    const { code, stdout, stderr } = await runCli(['status'], { ...env, WORKER_CONCURRENCY: 'lots' });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual(['channelsync: WORKER_CONCURRENCY must be a whole number from 1 to 1000 (got "lots")']);
  });

  it('refuses to start without a secret key, and says how to make one', async () => {
    const { code, stderr } = await runCli(['start'], { ...env, CHANNELSYNC_SECRET_KEY: '' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/CHANNELSYNC_SECRET_KEY is not set.*openssl rand -hex 32/);
  });

  it('refuses an unknown channel kind and an unknown channel', async () => {
    const kind = await runCli(['channels', 'add', 'etsy', 'x'], env);
    expect(kind.code).toBe(2);
    expect(kind.stderr).toMatch(/unknown channel kind "etsy"/);
    const missing = await runCli(['channels', 'remove', 'nope'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no channel with id or name "nope"/);
    const status = await runCli(['status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('no channels yet');
  });
});
