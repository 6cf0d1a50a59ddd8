/** Choosing the mode, and the daemon in embedded mode. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { describeRuntime, resolveRuntime } from '../../src/embedded/runtime.ts';
import { loadConfig } from '../../src/config.ts';
import { startDaemon } from '../../src/daemon.ts';
import { ConfigError } from '../../src/domain/errors.ts';
import { EmbeddedDataInUseError, startEmbeddedPostgres } from '../../src/embedded/postgres.ts';
import { PG_URL, REDIS_URL } from '../helpers/services.ts';
import { closedServices } from '../helpers/ports.ts';

let dir: string;
let closed: { databaseUrl: string; redisUrl: string };
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cs-embedded-'));
  closed = await closedServices();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('choosing the mode', () => {
  it('uses the services when DATABASE_URL or REDIS_URL is set, without probing', async () => {
    const runtime = await resolveRuntime({ DATABASE_URL: 'postgres://u@db.example:5432/x' }, { probe: closed });
    expect(runtime).toMatchObject({ mode: 'services', reason: 'DATABASE_URL is set' });
    expect(runtime.embedded).toBeUndefined();
  });

  it('uses the services when both answer on their default ports', async () => {
    const runtime = await resolveRuntime({}, { probe: { databaseUrl: PG_URL, redisUrl: REDIS_URL } });
    expect(runtime.mode).toBe('services');
    expect(describeRuntime(runtime)[0]).toMatch(/^channelsync: using Postgres and Redis \(Postgres answers on 127\.0\.0\.1:5432/);
  });

  it('refuses, saying what to do, when only one of them answers', async () => {
    const half = resolveRuntime({}, { probe: { databaseUrl: PG_URL, redisUrl: closed.redisUrl } });
    await expect(half).rejects.toThrow(ConfigError);
    await expect(half).rejects.toThrow(/Postgres answers on 127\.0\.0\.1:5432 but Redis does not .*--embedded/);
  });

  it('runs embedded when nothing is set and nothing answers, and says why and how to move on', async () => {
    const runtime = await resolveRuntime({}, { probe: closed, dataDir: join(dir, 'auto') });
    try {
      expect(runtime.mode).toBe('embedded');
      expect(runtime.env.DATABASE_URL).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      const lines = describeRuntime(runtime).join('\n');
      expect(lines).toMatch(/running embedded \(DATABASE_URL and REDIS_URL are not set and nothing answers on/);
      expect(lines).toMatch(/for trying channelsync and for small single-process use/);
      expect(lines).toMatch(/set DATABASE_URL and REDIS_URL, run "channelsync migrate"/);
    } finally {
      await runtime.embedded?.close();
    }
  });

  it('runs embedded with --embedded even when the services answer', async () => {
    const runtime = await resolveRuntime({}, { embedded: true, probe: { databaseUrl: PG_URL, redisUrl: REDIS_URL }, dataDir: join(dir, 'auto') });
    await runtime.embedded?.close();
    expect(runtime).toMatchObject({ mode: 'embedded', reason: '--embedded was given' });
  });

  it('lets one process at a time use a data folder', async () => {
    const first = await startEmbeddedPostgres({ dataDir: join(dir, 'auto') });
    try {
      await expect(startEmbeddedPostgres({ dataDir: join(dir, 'auto') })).rejects.toThrow(EmbeddedDataInUseError);
    } finally {
      await first.close();
    }
    await (await startEmbeddedPostgres({ dataDir: join(dir, 'auto') })).close();
  });
});

describe('the daemon in embedded mode', () => {
  it('reports the queue backend instead of Redis on /healthz', async () => {
    const runtime = await resolveRuntime({}, { probe: closed, dataDir: join(dir, 'auto') });
    const env = { ...runtime.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', CHANNELSYNC_SECRET_KEY: randomBytes(32).toString('hex') };
    const daemon = await startDaemon(loadConfig(env), { log: pino({ level: 'silent' }), embedded: runtime.embedded });
    try {
      const res = await fetch(`${daemon.url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', postgres: 'ok', queues: 'ok', queueBackend: 'postgres' });
      expect(daemon.app.redis).toBeNull();
    } finally {
      await daemon.stop();
    }
  });
});
