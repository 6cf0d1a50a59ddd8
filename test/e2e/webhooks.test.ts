/**
 * Webhooks through the daemon's HTTP route, against the simulators: verified,
 * stored once in the inbox, processed from the queue, never going back in time.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import { connectorFactory } from '../../connectors/index.ts';
import type { ChannelSimulator } from '../../connectors/types.ts';
import { loadConfig } from '../../src/config.ts';
import { startDaemon, type Daemon } from '../../src/daemon.ts';
import { addChannel } from '../../src/db/channels.ts';
import { syncOrders } from '../../jobs/sync-orders.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

const FIXTURE = new URL('../../../shared/fixtures/shopify/webhook-orders-create.json', import.meta.url);

let t: TestApp;
let daemon: Daemon;
const sims: ChannelSimulator[] = [];

beforeAll(async () => {
  t = await createTestApp();
  daemon = await startDaemon(loadConfig({ ...t.env, SYNC_INTERVAL_SECONDS: '3600', WORKER_CONCURRENCY: '4' }), { log: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await daemon?.stop();
  await Promise.all(sims.map((s) => s.close()));
  await t?.close();
});

async function connect(kind: 'shopify' | 'woocommerce', name: string) {
  // The daemon listens on http://127.0.0.1: allowed as a plugin filter would on a real WordPress.
  const sim = await connectorFactory(kind).simulate({ allowLocalWebhooks: true, log: pino({ level: 'silent' }) });
  sims.push(sim);
  const { settings, credentials } = sim.channelConfig();
  const channelId = await addChannel(daemon.app.db, daemon.app.config.secretKey!, { kind, name, settings, credentials });
  return { sim, channelId, credentials };
}

async function storedOrder(channelId: number, externalId: string) {
  return daemon.app.db
    .selectFrom('orders')
    .selectAll()
    .where('channel_id', '=', channelId)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
}

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function count(table: 'orders' | 'webhook_deliveries', channelId: number): Promise<number> {
  const row = await daemon.app.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('channel_id', '=', channelId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('the inbox', () => {
  it('stores and acknowledges a delivery while the jobs hold every pooled connection', async () => {
    const { channelId, credentials } = await connect('shopify', 'shop-busy');
    const body = readFileSync(FIXTURE);
    const holder = new pg.Client({ connectionString: t.database.url });
    await holder.connect();
    // Every connection of the daemon's pool waits on a lock held here, as under a burst of jobs.
    await holder.query('SELECT pg_advisory_lock(4242)');
    const busy = Array.from({ length: daemon.app.config.databasePoolSize }, () => sql`SELECT pg_advisory_xact_lock(4242)`.execute(daemon.app.db));
    try {
      const res = await fetch(`${daemon.url}/webhooks/${channelId}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': 'orders/create',
          'x-shopify-hmac-sha256': createHmac('sha256', String(credentials.apiSecretKey)).update(body).digest('base64'),
          'x-shopify-shop-domain': 'example.myshopify.com',
          'x-shopify-webhook-id': 'busy-pool-delivery',
        },
        body,
      });
      expect(res.status).toBe(200);
      const stored = await holder.query('SELECT status FROM webhook_deliveries WHERE channel_id = $1', [channelId]);
      expect(stored.rows).toEqual([{ status: 'pending' }]);
    } finally {
      await holder.query('SELECT pg_advisory_unlock(4242)');
      await Promise.all(busy);
      await holder.end();
    }
    // Once the jobs get their connections back, it is processed like any other.
    await eventually(() => storedOrder(channelId, 'gid://shopify/Order/6198432301356'), (o) => !!o);
  });
});

describe('the inbox under a burst (deliveries that arrive together share one INSERT: src/server/inbox-writer.ts)', () => {
  it('answers each delivery once it is stored, stores a copy sent twice at once once, and processes them all', async () => {
    const { channelId, credentials } = await connect('shopify', 'shop-burst');
    const body = readFileSync(FIXTURE);
    const signature = createHmac('sha256', String(credentials.apiSecretKey)).update(body).digest('base64');
    const post = (id: string) =>
      fetch(`${daemon.url}/webhooks/${channelId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-shopify-topic': 'orders/create', 'x-shopify-hmac-sha256': signature, 'x-shopify-shop-domain': 'example.myshopify.com', 'x-shopify-webhook-id': id },
        body,
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { duplicate?: boolean } }));
    const ids = [...Array.from({ length: 12 }, (_, i) => `burst-${i}`), 'burst-0'];
    const answers = await Promise.all(ids.map(post));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.filter((a) => a.body.duplicate)).toHaveLength(1);
    expect(await count('webhook_deliveries', channelId)).toBe(12);
    // Every stored delivery got its job (one addBulk a write): all end processed, one order.
    await eventually(
      () => daemon.app.db.selectFrom('webhook_deliveries').select('status').where('channel_id', '=', channelId).execute(),
      (rows) => rows.length === 12 && rows.every((r) => r.status === 'processed'),
    );
    expect(await count('orders', channelId)).toBe(1);
  });

  it('a delivery Postgres refuses fails alone; the others written with it are stored', async () => {
    const { channelId } = await connect('shopify', 'shop-refused-row');
    const { InboxWriter } = await import('../../src/server/inbox-writer.ts');
    // One write at a time, so the three after the first go together in the second.
    const writer = new InboxWriter(daemon.app.inbox, daemon.app.queues, pino({ level: 'silent' }), { inFlight: 1, jobIdOf: (id) => `inbox-writer-test.${id}` });
    const delivery = (key: string) => ({ channelId, deliveryKey: key, topic: 'orders/create', headers: { 'x-test': key }, rawBody: Buffer.from('{}') });
    // The refused one is sent twice at once: its copy must fail with it, never be answered as a duplicate of a row that is not there.
    const refused = delivery('w-\u0000-refused');
    const results = await Promise.allSettled([writer.store(delivery('w-first')), writer.store(delivery('w-a')), writer.store(refused), writer.store({ ...refused }), writer.store(delivery('w-b'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
    const keys = await daemon.app.db.selectFrom('webhook_deliveries').select('delivery_key').where('channel_id', '=', channelId).orderBy('delivery_key').execute();
    expect(keys.map((k) => k.delivery_key)).toEqual(['w-a', 'w-b', 'w-first']);
  });
});

describe('Shopify webhooks', () => {
  it('the real orders/create body, signed, creates its order; twice stores it once; a bad signature stores nothing', async () => {
    const { channelId, credentials } = await connect('shopify', 'shop-fixture');
    const body = readFileSync(FIXTURE);
    const sign = (secret: string) => createHmac('sha256', secret).update(body).digest('base64');
    const post = (signature: string) =>
      fetch(`${daemon.url}/webhooks/${channelId}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': 'orders/create',
          'x-shopify-hmac-sha256': signature,
          'x-shopify-shop-domain': 'example.myshopify.com',
          'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
          'x-shopify-api-version': '2026-07',
        },
        body,
      });

    const forged = await post(sign('not-the-app-secret'));
    expect(forged.status).toBe(401);
    expect(await count('webhook_deliveries', channelId)).toBe(0);

    const first = await post(sign(String(credentials.apiSecretKey)));
    expect(first.status).toBe(200);
    const second = await post(sign(String(credentials.apiSecretKey)));
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ duplicate: true });

    const order = await eventually(() => storedOrder(channelId, 'gid://shopify/Order/6198432301356'), (o) => !!o);
    expect(order!.order_number).toBe(JSON.parse(body.toString()).name);
    expect(await count('orders', channelId)).toBe(1);
    expect(await count('webhook_deliveries', channelId)).toBe(1);
    await eventually(
      () => daemon.app.db.selectFrom('webhook_deliveries').select('status').where('channel_id', '=', channelId).executeTakeFirst(),
      (d) => d?.status === 'processed',
    );
  });

  it('keeps orders current from the simulator by webhook, and by poll when webhooks are lost', async () => {
    const { sim, channelId } = await connect('shopify', 'shop-live');
    sim.setWebhookUrl(`${daemon.url}/webhooks/${channelId}`);
    await sim.createProduct({ sku: 'E2E-1', title: 'E2E', price: '10.00', stock: 10 });
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'E2E-1', quantity: 1 }] });
    await eventually(() => storedOrder(channelId, externalId), (o) => o?.channel_state === 'open');
    await sim.cancelOrder(externalId);
    await eventually(() => storedOrder(channelId, externalId), (o) => o?.channel_state === 'cancelled');

    // Webhooks lost: the poll is the safety net.
    sim.setWebhookUrl(null);
    const missed = await sim.createOrder({ lines: [{ sku: 'E2E-1', quantity: 2 }] });
    await new Promise((r) => setTimeout(r, 300));
    expect(await storedOrder(channelId, missed.externalId)).toBeUndefined();
    await syncOrders(daemon.app, channelId);
    expect((await storedOrder(channelId, missed.externalId))?.channel_state).toBe('open');
  });
});

describe('refunds by webhook', () => {
  async function refundsOf(channelId: number, externalId: string) {
    const order = await storedOrder(channelId, externalId);
    if (!order) return [];
    return daemon.app.db
      .selectFrom('refunds')
      .innerJoin('refund_lines', 'refund_lines.refund_id', 'refunds.id')
      .select(['refunds.external_id', 'refunds.amount', 'refund_lines.quantity', 'refund_lines.restock'])
      .where('refunds.order_id', '=', order.id)
      .execute();
  }

  it('Shopify: a refund in an orders/updated body is read from the shop with its lines, and recorded once', async () => {
    const { sim, channelId } = await connect('shopify', 'shop-refunds');
    const shop = sim as unknown as { graphql(q: string, v: Record<string, unknown>): Promise<{ body: any }> };
    sim.setWebhookUrl(`${daemon.url}/webhooks/${channelId}`);
    await sim.createProduct({ sku: 'E2E-R', title: 'Refunded', price: '10.00', stock: 10 });
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'E2E-R', quantity: 2 }] });
    await eventually(() => storedOrder(channelId, externalId), (o) => o?.channel_state === 'open');
    const read = await shop.graphql(`query ($id: ID!) { order(id: $id) { lineItems(first: 1) { nodes { id } } transactions { id } } }`, { id: externalId });
    const refund = await shop.graphql(`mutation ($input: RefundInput!) { refundCreate(input: $input) { refund { id } userErrors { message } } }`, {
      input: {
        orderId: externalId,
        refundLineItems: [{ lineItemId: read.body.data.order.lineItems.nodes[0].id, quantity: 1, restockType: 'CANCEL' }],
        transactions: [{ orderId: externalId, parentId: read.body.data.order.transactions[0].id, gateway: 'manual', kind: 'REFUND', amount: '10.00' }],
      },
    });
    expect(refund.body.data.refundCreate.userErrors).toEqual([]);
    const rows = await eventually(() => refundsOf(channelId, externalId), (r) => r.length > 0);
    expect(rows).toEqual([{ external_id: refund.body.data.refundCreate.refund.id, amount: '10.0000', quantity: 1, restock: true }]);
    await syncOrders(daemon.app, channelId);
    expect(await refundsOf(channelId, externalId)).toHaveLength(1);
  });

  it('WooCommerce: a refund in an order.updated body is read from the store with its lines', async () => {
    const { sim, channelId } = await connect('woocommerce', 'woo-refunds');
    const store = sim as unknown as { state: { orders: Map<number, unknown>; createRefund(o: unknown, input: Record<string, unknown>): { id: number } } };
    sim.setWebhookUrl(`${daemon.url}/webhooks/${channelId}`);
    await sim.createProduct({ sku: 'E2E-WR', title: 'Woo refunded', price: '5.00', stock: 10 });
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'E2E-WR', quantity: 2 }] });
    await eventually(() => storedOrder(channelId, externalId), (o) => o?.channel_state === 'open');
    await new Promise((r) => setTimeout(r, 1100)); // WooCommerce stamps changes to the second
    const o = store.state.orders.get(Number(externalId)) as { lines: Array<{ id: number }> };
    const made = store.state.createRefund(o, { amount: '5.00', reason: 'late', line_items: [{ id: o.lines[0]!.id, quantity: 1, refund_total: '5.00', restock_item: true }] });
    const rows = await eventually(() => refundsOf(channelId, externalId), (r) => r.length > 0);
    expect(rows).toEqual([{ external_id: String(made.id), amount: '5.0000', quantity: 1, restock: true }]);
    // The refunded unit is off the line, so it is no longer owed.
    const line = await daemon.app.db.selectFrom('order_lines').select(['quantity', 'quantity_refunded']).where('order_id', '=', (await storedOrder(channelId, externalId))!.id).executeTakeFirstOrThrow();
    expect(line).toEqual({ quantity: 1, quantity_refunded: 1 });
  });
});

describe('WooCommerce webhooks', () => {
  it('create and update orders; a retried delivery stores nothing twice; a bad signature gets 401', async () => {
    const { sim, channelId } = await connect('woocommerce', 'woo-live');
    sim.setWebhookUrl(`${daemon.url}/webhooks/${channelId}`);
    await sim.createProduct({ sku: 'E2E-W', title: 'Woo E2E', price: '5.00', stock: 10 });
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'E2E-W', quantity: 1 }] });
    await eventually(() => storedOrder(channelId, externalId), (o) => o?.channel_state === 'open');
    await new Promise((r) => setTimeout(r, 1100)); // WooCommerce stamps changes to the second
    await sim.cancelOrder(externalId);
    await eventually(() => storedOrder(channelId, externalId), (o) => o?.channel_state === 'cancelled');

    const deliveries = await count('webhook_deliveries', channelId);
    sim.setFaults({ duplicateWebhookRate: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    await sim.touchOrder(externalId);
    await eventually(() => count('webhook_deliveries', channelId), (n) => n === deliveries + 1);
    await new Promise((r) => setTimeout(r, 500));
    expect(await count('webhook_deliveries', channelId)).toBe(deliveries + 1);
    expect(await count('orders', channelId)).toBe(1);

    const forged = await fetch(`${daemon.url}/webhooks/${channelId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-wc-webhook-topic': 'order.updated', 'x-wc-webhook-signature': 'AAAA', 'x-wc-webhook-delivery-id': '9' },
      body: JSON.stringify({ id: Number(externalId), date_modified_gmt: '2030-01-01T00:00:00' }),
    });
    expect(forged.status).toBe(401);
    expect(await count('webhook_deliveries', channelId)).toBe(deliveries + 1);
  });

  it('answers 404 for a channel that does not exist', async () => {
    const res = await fetch(`${daemon.url}/webhooks/999999`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(404);
  });
});

describe('a channel without webhooks (Amazon: notifications through SQS)', () => {
  it('answers 404 to a delivery and stores nothing', async () => {
    const sim = await connectorFactory('amazon').simulate({ log: pino({ level: 'silent' }) });
    sims.push(sim);
    const { settings, credentials } = sim.channelConfig();
    const channelId = await addChannel(daemon.app.db, daemon.app.config.secretKey!, { kind: 'amazon', name: 'amazon-no-hooks', settings, credentials });
    const res = await fetch(`${daemon.url}/webhooks/${channelId}`, { method: 'POST', body: '{"AmazonOrderId":"1"}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toMatch(/receives no webhooks/);
    expect(await daemon.app.db.selectFrom('webhook_deliveries').select('id').where('channel_id', '=', channelId).execute()).toEqual([]);
  });
});
