/**
 * Shopify webhook deliveries stored straight into the inbox (`webhook_deliveries`),
 * signed, as the route stores them: for tests of what jobs/webhooks.ts does with
 * them (batches, one transaction per delivery), without the HTTP in between.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { connectorFactory } from '../../connectors/index.ts';
import type { ChannelSimulator } from '../../connectors/types.ts';
import { addChannel } from '../../src/db/channels.ts';
import { createTestApp, type TestApp } from './app.ts';

/** Shopify's real orders/create body (../shared/fixtures), the one the webhook tests send. */
export const ORDERS_CREATE = JSON.parse(readFileSync(new URL('../../../shared/fixtures/shopify/webhook-orders-create.json', import.meta.url), 'utf8'));

export interface InboxChannel {
  id: number;
  /** The secret its deliveries are signed with. */
  secret: string;
}

export interface Delivery {
  /** The order's Shopify id (`gid://shopify/Order/<orderId>`). */
  orderId: number;
  /** Whose delivery it is (default the first channel). */
  channel?: InboxChannel;
  /** The body's updated_at (default the fixture's). */
  updatedAt?: string;
  /** Default orders/create. */
  topic?: string;
  /** Rewrites each of the fixture's lines (an SKU, quantities). */
  line?: (line: Record<string, unknown>, index: number) => Record<string, unknown>;
}

export interface WebhookInbox {
  t: TestApp;
  sim: ChannelSimulator;
  channels: InboxChannel[];
  /** Stores the fixture changed as `d` says, signed with its channel's secret; returns the delivery's id. */
  deliver(d: Delivery): Promise<number>;
  close(): Promise<void>;
}

/** A test app with one Shopify channel per name, all on one simulator's settings. */
export async function openWebhookInbox(names: string[] = ['shop']): Promise<WebhookInbox> {
  const t = await createTestApp();
  const sim = await connectorFactory('shopify').simulate({ log: pino({ level: 'silent' }) });
  const { settings, credentials } = sim.channelConfig();
  const channels: InboxChannel[] = [];
  for (const name of names) {
    const id = await addChannel(t.app.db, t.app.config.secretKey!, { kind: 'shopify', name, settings, credentials });
    channels.push({ id, secret: String(credentials.apiSecretKey ?? credentials.clientSecret) });
  }
  let delivered = 0;
  return {
    t,
    sim,
    channels,
    async deliver({ orderId, channel = channels[0]!, updatedAt, topic = 'orders/create', line = (l) => l }) {
      const body = structuredClone(ORDERS_CREATE);
      body.id = orderId;
      body.admin_graphql_api_id = `gid://shopify/Order/${orderId}`;
      if (updatedAt) body.updated_at = updatedAt;
      body.line_items = body.line_items.map(line);
      const raw = Buffer.from(JSON.stringify(body));
      const headers = {
        'x-shopify-hmac-sha256': createHmac('sha256', channel.secret).update(raw).digest('base64'),
        'x-shopify-topic': topic,
        'x-shopify-webhook-id': `inbox-${++delivered}`,
      };
      const row = await t.app.db
        .insertInto('webhook_deliveries')
        .values({ channel_id: channel.id, delivery_key: headers['x-shopify-webhook-id'], topic, headers: JSON.stringify(headers), raw_body: raw })
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },
    async close() {
      await sim.close();
      await t.close();
    },
  };
}
