/**
 * With Redis gone, the HTTP side still answers from Postgres: a webhook is
 * stored and acknowledged within Shopify's 5 s (here: under 1 s), admin login
 * answers, /metrics answers with what it has; when Redis is back the stored
 * delivery is processed. Runs on a Redis of its own (the shared one on 6379 is
 * never stopped).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { connectorFactory } from '../../connectors/index.ts';
import type { ChannelSimulator } from '../../connectors/types.ts';
import { loadConfig } from '../../src/config.ts';
import { startDaemon, type Daemon } from '../../src/daemon.ts';
import { addChannel } from '../../src/db/channels.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

const FIXTURE = readFileSync(new URL('../../../shared/fixtures/shopify/webhook-orders-create.json', import.meta.url));
const TOKEN = 'redis-down-admin-token-0123456789';

let port: number;
let redisServer: ChildProcess | null = null;
let t: TestApp;
let daemon: Daemon;
let sim: ChannelSimulator;

async function sparePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startRedis(): Promise<void> {
  redisServer = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null });
  probe.on('error', () => {});
  await probe.connect().catch(() => {});
  await probe.ping();
  probe.disconnect();
}

async function stopRedis(): Promise<void> {
  const child = redisServer;
  redisServer = null;
  if (!child || child.exitCode !== null) return;
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGKILL');
  });
}

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  port = await sparePort();
  await startRedis();
  t = await createTestApp({ REDIS_URL: `redis://127.0.0.1:${port}`, ADMIN_TOKEN: TOKEN, SWEEP_INTERVAL_SECONDS: '1', SWEEP_AFTER_SECONDS: '1' });
  daemon = await startDaemon(loadConfig({ ...t.env, SYNC_INTERVAL_SECONDS: '3600' }), { log: pino({ level: 'silent' }) });
  sim = await connectorFactory('shopify').simulate({ log: pino({ level: 'silent' }) });
}, 30_000);
afterAll(async () => {
  if (!redisServer) await startRedis().catch(() => {});
  await daemon?.stop();
  await sim?.close();
  await t?.close();
  await stopRedis();
}, 30_000);

describe('Redis down', () => {
  it('webhooks, admin login and /metrics answer at once; the delivery is processed once Redis is back', async () => {
    const { settings, credentials } = sim.channelConfig();
    const channelId = await addChannel(daemon.app.db, daemon.app.config.secretKey!, { kind: 'shopify', name: 'redis-down', settings, credentials });
    await stopRedis();

    const timed = async (request: () => Promise<Response>) => {
      const started = Date.now();
      const response = await request();
      const body = await response.text();
      return { status: response.status, body, ms: Date.now() - started };
    };

    const hook = await timed(() =>
      fetch(`${daemon.url}/webhooks/${channelId}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': 'orders/create',
          'x-shopify-hmac-sha256': createHmac('sha256', String(credentials.apiSecretKey)).update(FIXTURE).digest('base64'),
          'x-shopify-shop-domain': 'example.myshopify.com',
          'x-shopify-webhook-id': 'redis-down-1',
          'x-shopify-api-version': '2026-07',
        },
        body: FIXTURE,
      }),
    );
    expect(hook.status).toBe(200);
    expect(hook.ms).toBeLessThan(1000);
    const delivery = await daemon.app.db.selectFrom('webhook_deliveries').select(['id', 'status']).where('channel_id', '=', channelId).executeTakeFirst();
    expect(delivery?.status).toBe('pending');

    const form = (token: string) => () =>
      fetch(`${daemon.url}/admin/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${token}` });
    const wrong = await timed(form('not-the-token'));
    expect(wrong.status).toBe(401);
    expect(wrong.ms).toBeLessThan(1000);
    const right = await timed(form(TOKEN));
    expect(right.status).toBe(303);
    expect(right.ms).toBeLessThan(1000);

    const metrics = await timed(() => fetch(`${daemon.url}/metrics`));
    expect(metrics.status).toBe(200);
    expect(metrics.ms).toBeLessThan(2000);
    expect(metrics.body).toMatch(/^channelsync_queues_up 0$/m);
    expect(metrics.body).toMatch(new RegExp(`^channelsync_channel_info\\{channel="${channelId}"`, 'm'));

    await startRedis();
    await eventually(
      () => daemon.app.db.selectFrom('webhook_deliveries').select('status').where('id', '=', delivery!.id).executeTakeFirst(),
      (d) => d?.status === 'processed',
    );
    const order = await daemon.app.db.selectFrom('orders').select('external_id').where('channel_id', '=', channelId).executeTakeFirst();
    expect(order?.external_id).toBe('gid://shopify/Order/6198432301356');
  }, 40_000);
});
