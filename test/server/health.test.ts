import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { unusedPort } from '../helpers/ports.ts';
import { loadConfig } from '../../src/config.ts';
import { startDaemon, type Daemon } from '../../src/daemon.ts';

let t: TestApp;
let up: Daemon;
let deadPort: number;
const silent = () => pino({ level: 'silent' });

beforeAll(async () => {
  t = await createTestApp();
  up = await startDaemon(loadConfig(t.env), { log: silent() });
  deadPort = await unusedPort();
});
afterAll(async () => {
  await up?.stop();
  await t?.close();
});

describe('GET /healthz', () => {
  it('answers 200 when Postgres and Redis answer', async () => {
    const res = await fetch(`${up.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', postgres: 'ok', redis: 'ok' });
  });

  it('answers 503 naming Redis when Redis is down', async () => {
    const down = await startDaemon(loadConfig({ ...t.env, REDIS_URL: `redis://127.0.0.1:${deadPort}` }), { log: silent(), workers: false });
    try {
      const res = await fetch(`${down.url}/healthz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as Record<string, string>;
      expect(body.postgres).toBe('ok');
      expect(body.redis).toMatch(/^down: /);
    } finally {
      await down.stop();
    }
  });

  it('answers 503 naming Postgres when Postgres is down', async () => {
    const daemon = await startDaemon(loadConfig(t.env), { log: silent(), workers: false });
    try {
      // The pool is gone, as when the server stops answering.
      await daemon.app.db.destroy();
      const res = await fetch(`${daemon.url}/healthz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as Record<string, string>;
      expect(body.redis).toBe('ok');
      expect(body.postgres).toMatch(/^down: /);
    } finally {
      await daemon.stop().catch(() => {});
    }
  });
});
