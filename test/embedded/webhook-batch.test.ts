/**
 * A webhook batch (jobs/webhooks.ts) in embedded mode, where every pool
 * connection shares PGlite's one session: a query on a second connection
 * while the batch's transaction is open would wait for ever (the demo hung
 * so). The batch reads every channel it needs through its own transaction.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pino } from 'pino';
import { connectorFactory } from '../../connectors/index.ts';
import type { ChannelSimulator } from '../../connectors/types.ts';
import { addChannel } from '../../src/db/channels.ts';
import { processDelivery } from '../../jobs/webhooks.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { EMBEDDED } from '../helpers/embedded.ts';

/** Shopify's real orders/create body (../shared), the one the other webhook tests send. */
const FIXTURE = JSON.parse(readFileSync(new URL('../../../shared/fixtures/shopify/webhook-orders-create.json', import.meta.url), 'utf8'));

let t: TestApp;
let sim: ChannelSimulator;
const channels: Array<{ id: number; secret: string }> = [];

beforeAll(async () => {
  t = await createTestApp();
  sim = await connectorFactory('shopify').simulate({ log: pino({ level: 'silent' }) });
  const { settings, credentials } = sim.channelConfig();
  // Two channels: the second one's connector is not cached when the batch meets its delivery.
  for (const name of ['one', 'two']) {
    const id = await addChannel(t.app.db, t.app.config.secretKey!, { kind: 'shopify', name, settings, credentials });
    channels.push({ id, secret: String(credentials.apiSecretKey ?? credentials.clientSecret) });
  }
});
afterAll(async () => {
  await sim?.close();
  await t?.close();
});

/** That body for order `orderId`, signed, stored in the inbox as the route would. */
async function deliver(channel: { id: number; secret: string }, orderId: number): Promise<number> {
  const body = structuredClone(FIXTURE);
  body.id = orderId;
  body.admin_graphql_api_id = `gid://shopify/Order/${orderId}`;
  body.line_items = body.line_items.map((l: Record<string, unknown>) => ({ ...l, sku: 'ONE-SESSION' }));
  const raw = Buffer.from(JSON.stringify(body));
  const key = `one-session-${orderId}`;
  const headers = { 'x-shopify-hmac-sha256': createHmac('sha256', channel.secret).update(raw).digest('base64'), 'x-shopify-topic': 'orders/create', 'x-shopify-webhook-id': key };
  const row = await t.app.db
    .insertInto('webhook_deliveries')
    .values({ channel_id: channel.id, delivery_key: key, topic: 'orders/create', headers: JSON.stringify(headers), raw_body: raw })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

it('saves a batch of deliveries of two channels on the one embedded session, and does not hang', async () => {
  expect(EMBEDDED).toBe(true);
  const a = await deliver(channels[0]!, 9_100_001);
  const b = await deliver(channels[1]!, 9_100_002);
  await processDelivery(t.app, { deliveryId: a });
  const rows = await t.app.db.selectFrom('webhook_deliveries').select(['id', 'status']).where('id', 'in', [a, b]).orderBy('id').execute();
  expect(rows.map((r) => r.status)).toEqual(['processed', 'processed']);
  const orders = await t.app.db.selectFrom('orders').select('external_id').where('external_id', 'in', ['gid://shopify/Order/9100001', 'gid://shopify/Order/9100002']).execute();
  expect(orders).toHaveLength(2);
});
