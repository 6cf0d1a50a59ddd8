/**
 * A daemon started while Postgres does not answer yet (a machine booting, a
 * restart during start-up: found by the chaos run, seed 22, where a restarted
 * daemon exited 1 with "migrations failed: Postgres connection has been
 * discarded") waits for it and starts, instead of exiting.
 */
import { createServer, connect, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../src/config.ts';
import { startDaemon, type Daemon } from '../src/daemon.ts';
import { createTestDatabase, daemonEnv, testPrefix, type TestDatabase } from './helpers/services.ts';
import { unusedPort } from './helpers/ports.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('daemon start-up', () => {
  it('waits for a Postgres that starts answering after the daemon, then starts', async () => {
    const database: TestDatabase = await createTestDatabase();
    const redis = testPrefix();
    cleanups.push(() => database.drop(), () => redis.cleanup());
    const real = new URL(database.url);
    const port = await unusedPort();
    const late = new URL(database.url);
    late.port = String(port);

    let daemon: Daemon | undefined;
    const starting = startDaemon(loadConfig({ ...daemonEnv(late.toString(), redis.prefix), LOG_LEVEL: 'silent' }), { log: pino({ level: 'silent' }) }).then((d) => (daemon = d));
    // Postgres "comes up" 1.5 s later: a proxy to the real server appears on the port.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(daemon).toBeUndefined();
    const proxy: Server = createServer((client) => {
      const upstream = connect({ host: real.hostname, port: Number(real.port) || 5432 });
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => proxy.close(r)));
    await starting;
    cleanups.push(() => daemon!.stop());
    const health = await fetch(`${daemon!.url}/healthz`);
    expect(health.status).toBe(200);
  }, 30_000);
});
