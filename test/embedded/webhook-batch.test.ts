/**
 * A webhook batch (jobs/webhooks.ts) in embedded mode, where every pool
 * connection shares PGlite's one session: a query on a second connection
 * while the batch's transaction is open would wait for ever (the demo hung
 * so). The batch reads every channel it needs through its own transaction.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { processDelivery } from '../../jobs/webhooks.ts';
import { EMBEDDED } from '../helpers/embedded.ts';
import { openWebhookInbox, type WebhookInbox } from '../helpers/webhook-inbox.ts';

let inbox: WebhookInbox;

// Two channels: the second one's connector is not cached when the batch meets its delivery.
beforeAll(async () => {
  inbox = await openWebhookInbox(['one', 'two']);
});
afterAll(async () => {
  await inbox?.close();
});

it('saves a batch of deliveries of two channels on the one embedded session, and does not hang', async () => {
  expect(EMBEDDED).toBe(true);
  const { t, channels } = inbox;
  const line = (l: Record<string, unknown>) => ({ ...l, sku: 'ONE-SESSION' });
  const a = await inbox.deliver({ channel: channels[0], orderId: 9_100_001, line });
  const b = await inbox.deliver({ channel: channels[1], orderId: 9_100_002, line });
  await processDelivery(t.app, { deliveryId: a });
  const rows = await t.app.db.selectFrom('webhook_deliveries').select(['id', 'status']).where('id', 'in', [a, b]).orderBy('id').execute();
  expect(rows.map((r) => r.status)).toEqual(['processed', 'processed']);
  const orders = await t.app.db.selectFrom('orders').select('external_id').where('external_id', 'in', ['gid://shopify/Order/9100001', 'gid://shopify/Order/9100002']).execute();
  expect(orders).toHaveLength(2);
});
