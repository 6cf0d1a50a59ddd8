/**
 * No secret leaves channelsync: the daemon runs at LOG_LEVEL=debug with every
 * credential set (a Shopify and a WooCommerce store, admin token and password,
 * metrics token) through a sync, webhooks, pushes, a faulty channel and admin
 * API calls, right and wrong; then its logs, every Redis key and value under
 * its prefix (job data included), /metrics, the error columns in Postgres and
 * the admin API's answers are searched for each secret, as text, base64 and hex.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { sql } from 'kysely';
import { Redis } from 'ioredis';
import { connectorFactory } from '../connectors/index.ts';
import type { ChannelSimulator } from '../connectors/types.ts';
import { loadConfig } from '../src/config.ts';
import { createApp, type App } from '../src/app.ts';
import { addChannel } from '../src/db/channels.ts';
import { syncListings } from '../src/stock/listings.ts';
import { adjustStock, ensureLocation, skuIdOf } from '../src/stock/ledger.ts';
import { createTestDatabase, REDIS_URL, testPrefix, type TestDatabase } from './helpers/services.ts';
import { BIN } from './helpers/cli.ts';

const ADMIN_TOKEN = `admtok-${randomBytes(16).toString('hex')}`;
const ADMIN_PASSWORD = `admpw-${randomBytes(12).toString('hex')}`;
const METRICS_TOKEN = `mettok-${randomBytes(16).toString('hex')}`;
const SECRET_KEY = randomBytes(32).toString('hex');
const SKU = 'SECRET-MUG';

let database: TestDatabase;
const redis = testPrefix();
const sims: Record<'shopify' | 'woocommerce', ChannelSimulator> = {} as never;
const channelIds: Record<string, number> = {};
let app: App;
let env: Record<string, string>;
let daemon: ChildProcess | null = null;
let logs = '';
/** Every admin API / metrics answer, headers and body. */
const answers: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  env = {
    DATABASE_URL: database.url,
    REDIS_URL,
    QUEUE_PREFIX: redis.prefix,
    CHANNELSYNC_SECRET_KEY: SECRET_KEY,
    LOG_LEVEL: 'debug',
    PORT: '0',
    HOST: '127.0.0.1',
    SYNC_INTERVAL_SECONDS: '3600',
    SWEEP_INTERVAL_SECONDS: '1',
    SWEEP_AFTER_SECONDS: '1',
    JOB_ATTEMPTS: '2',
    SHUTDOWN_TIMEOUT_SECONDS: '2',
    FULFILMENT_MODE: 'auto',
    CARRIER: 'simulated',
    SIMULATED_DELIVERY_SECONDS: '3600',
    ADMIN_TOKEN,
    ADMIN_USER: 'admin',
    ADMIN_PASSWORD,
    METRICS_TOKEN,
  };
  app = await createApp(loadConfig(env), { log: pino({ level: 'silent' }) });
  for (const kind of ['shopify', 'woocommerce'] as const) {
    const sim = await connectorFactory(kind).simulate({ orders: 0, log: pino({ level: 'silent' }) });
    sims[kind] = sim;
    await sim.createProduct({ sku: SKU, title: 'Mug', price: '9.00', stock: 5 });
    const { settings, credentials } = sim.channelConfig();
    channelIds[kind] = await addChannel(app.db, app.config.secretKey!, { kind, name: `secret-${kind}`, settings, credentials });
    await syncListings(app, channelIds[kind]!);
  }
  // Stock channelsync knows, so the daemon owes (and makes) stock pushes.
  await adjust(50, 'secrets-test');
}, 60_000);

async function adjust(quantity: number, reference: string): Promise<void> {
  const [skuId, locationId] = [await skuIdOf(app.db, SKU), await ensureLocation(app.db, 'MAIN')];
  await adjustStock(app.db, { skuId, locationId, mode: 'delta', quantity, reason: 'adjustment', reference });
}

afterAll(async () => {
  daemon?.kill('SIGKILL');
  await app?.close();
  for (const sim of Object.values(sims)) await sim?.close();
  await redis.cleanup();
  await database?.drop();
});

/** Each secret in the forms it could be leaked in. */
function needles(): Array<{ name: string; value: string }> {
  const secrets: Record<string, string> = { ADMIN_TOKEN, ADMIN_PASSWORD, METRICS_TOKEN, CHANNELSYNC_SECRET_KEY: SECRET_KEY };
  for (const [kind, sim] of Object.entries(sims)) {
    for (const [k, v] of Object.entries(sim.channelConfig().credentials)) {
      // A client id is public by design (it is in every OAuth URL), not a secret.
      if (k !== 'clientId' && typeof v === 'string') secrets[`${kind}.${k}`] = v;
    }
  }
  const woo = sims.woocommerce.channelConfig().credentials as { consumerKey: string; consumerSecret: string };
  // What travels in Authorization headers.
  secrets['basic(admin)'] = `admin:${ADMIN_PASSWORD}`;
  secrets['basic(woocommerce)'] = `${woo.consumerKey}:${woo.consumerSecret}`;
  const out: Array<{ name: string; value: string }> = [];
  for (const [name, value] of Object.entries(secrets)) {
    const buf = Buffer.from(value, 'utf8');
    out.push({ name, value });
    out.push({ name: `${name} (base64)`, value: buf.toString('base64').replace(/=+$/, '') });
    out.push({ name: `${name} (base64url)`, value: buf.toString('base64url') });
    out.push({ name: `${name} (hex)`, value: buf.toString('hex') });
    if (name === 'CHANNELSYNC_SECRET_KEY') out.push({ name: `${name} (raw base64)`, value: Buffer.from(value, 'hex').toString('base64').replace(/=+$/, '') });
  }
  return out;
}

function findLeaks(where: string, text: string): string[] {
  const lower = text.toLowerCase();
  return needles()
    .filter((n) => n.value.length >= 8 && (text.includes(n.value) || (/^[0-9a-f]+$/.test(n.value) && lower.includes(n.value))))
    .map((n) => `${n.name} in ${where}`);
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; logs:\n${logs.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function call(base: string, path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(`${base}${path}`, { redirect: 'manual', ...init });
  const body = await res.text();
  answers.push(`${init.method ?? 'GET'} ${path} -> ${res.status}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${body}`);
  return new Response(body, { status: res.status, headers: res.headers });
}

async function redisDump(prefix: string): Promise<string> {
  const client = new Redis(REDIS_URL);
  const parts: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await client.type(key);
        let value: unknown;
        if (type === 'string') value = await client.get(key);
        else if (type === 'hash') value = await client.hgetall(key);
        else if (type === 'list') value = await client.lrange(key, 0, -1);
        else if (type === 'set') value = await client.smembers(key);
        else if (type === 'zset') value = await client.zrange(key, 0, -1, 'WITHSCORES');
        else if (type === 'stream') value = await client.xrange(key, '-', '+');
        parts.push(`${key} ${type} ${JSON.stringify(value)}`);
      }
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return parts.join('\n');
}

describe('secrets', () => {
  it('appear in no log line, Redis key or value, metric, error column or admin answer', async () => {
    daemon = spawn(process.execPath, [BIN, 'start'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    daemon.stdout!.on('data', (d) => (logs += d));
    daemon.stderr!.on('data', (d) => (logs += d));
    await waitFor('the daemon to start', () => logs.includes('channelsync daemon started'));
    const base = /"url":"(http:\/\/[^"]+)"/.exec(logs)![1]!;

    // Webhooks: both stores send signed deliveries for new orders; one forged delivery is refused.
    for (const kind of ['shopify', 'woocommerce'] as const) sims[kind].setWebhookUrl(`${base}/webhooks/${channelIds[kind]}`);
    for (const kind of ['shopify', 'woocommerce'] as const) await sims[kind].createOrder({ lines: [{ sku: SKU, quantity: 1 }] });
    await fetch(`${base}/webhooks/${channelIds.woocommerce}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-wc-webhook-signature': 'forged' }, body: '{}' });

    // A sync of each store (through the admin-visible schedule's job: the CLI's own code path).
    const { syncOrders } = await import('../jobs/sync-orders.ts');
    for (const id of Object.values(channelIds)) await syncOrders(app, id);

    // Auto mode ships the orders; shipments and stock are pushed back.
    await waitFor('every order shipped and every push done', async () => {
      const open = await sql<{ n: number }>`SELECT count(*)::int AS n FROM orders WHERE state NOT IN ('shipped', 'cancelled')`.execute(app.db);
      const pending = await sql<{ n: number }>`SELECT count(*)::int AS n FROM channel_pushes WHERE status = 'pending'`.execute(app.db);
      return open.rows[0]!.n === 0 && pending.rows[0]!.n === 0;
    }, 60_000);

    // A channel that fails: errors are recorded in Postgres and logged.
    sims.woocommerce.setFaults({ errorRate: 1 });
    sims.shopify.setFaults({ errorRate: 1 });
    await adjust(-1, 'secrets-test-2');
    // Shopify's client gives up on a 5xx at once; WooCommerce's backs off for ~30 s, so its errors come from pushes.
    await expect(syncOrders(app, channelIds.shopify!)).rejects.toThrow(/HTTP 5/);
    await waitFor('a push error recorded', async () => {
      const rows = await sql<{ n: number }>`SELECT count(*)::int AS n FROM channel_pushes WHERE last_error IS NOT NULL`.execute(app.db);
      return rows.rows[0]!.n >= 2;
    }, 30_000);
    sims.woocommerce.setFaults({});
    sims.shopify.setFaults({});

    // Admin API: right and wrong credentials, every way in.
    const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const basic = { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` };
    expect((await call(base, '/api/channels', { headers: bearer })).status).toBe(200);
    for (const id of Object.values(channelIds)) expect((await call(base, `/api/channels/${id}`, { headers: basic })).status).toBe(200);
    const orders = (await (await call(base, '/api/orders', { headers: bearer })).json()) as { orders?: Array<{ id: number }> } | Array<{ id: number }>;
    const list = Array.isArray(orders) ? orders : (orders.orders ?? []);
    for (const o of list.slice(0, 4)) {
      await call(base, `/api/orders/${o.id}`, { headers: bearer });
      await call(base, `/api/orders/${o.id}/raw`, { headers: bearer });
    }
    await call(base, '/api/pushes', { headers: bearer });
    await call(base, '/api/failed-jobs', { headers: bearer });
    await call(base, '/admin', { headers: { ...bearer, accept: 'text/html' } });
    expect((await call(base, '/api/channels', { headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } })).status).toBe(401);
    expect((await call(base, '/api/channels', { headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}x`).toString('base64')}` } })).status).toBe(401);
    const form = new URLSearchParams({ user: 'admin', password: `${ADMIN_PASSWORD}x`, next: '/admin' }).toString();
    expect((await call(base, '/admin/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form })).status).toBe(401);
    const good = new URLSearchParams({ token: ADMIN_TOKEN, next: '/admin' }).toString();
    expect((await call(base, '/admin/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: good })).status).toBe(303);
    expect((await call(base, '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);
    expect((await call(base, '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } })).status).toBe(401);

    // Let the failing pushes finish their attempts (job_failures), then stop the daemon cleanly.
    await waitFor('a final failure recorded or pushes done', async () => {
      const f = await sql<{ n: number }>`SELECT (SELECT count(*) FROM job_failures) + (SELECT count(*) FROM channel_pushes WHERE status = 'pending') = 0 OR (SELECT count(*) FROM job_failures) > 0 AS n`.execute(app.db);
      return Boolean(f.rows[0]!.n);
    }, 30_000);
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon!.once('exit', r));
    daemon = null;

    const db = await sql<{ text: string }>`
      SELECT coalesce(string_agg(t, E'\n'), '') AS text FROM (
        SELECT last_error AS t FROM channel_pushes WHERE last_error IS NOT NULL
        UNION ALL SELECT row_to_json(j)::text FROM job_failures j
        UNION ALL SELECT error FROM webhook_deliveries WHERE error IS NOT NULL
        UNION ALL SELECT last_error FROM sync_cursors WHERE last_error IS NOT NULL
        UNION ALL SELECT headers::text FROM webhook_deliveries
      ) x`.execute(app.db);

    // The search itself works: an Authorization header's worth of password is found.
    expect(findLeaks('self-check', `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`)).not.toEqual([]);
    const leaks = [
      ...findLeaks('daemon logs', logs),
      ...findLeaks('Redis', await redisDump(redis.prefix)),
      ...findLeaks('Postgres error columns', db.rows[0]!.text),
      ...answers.flatMap((a) => findLeaks(a.split('\n')[0]!, a)),
    ];
    expect(leaks).toEqual([]);
    // The test saw what it searched: debug logs, job data, errors.
    expect(logs).toMatch(/"level":20/);
    expect(db.rows[0]!.text.length).toBeGreaterThan(0);
  }, 150_000);
});
