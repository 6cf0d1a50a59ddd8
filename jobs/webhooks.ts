/**
 * webhooks: process one stored delivery from the inbox. The HTTP route has
 * already verified and stored it; this job maps it and saves the order with
 * the newer-wins rule, so a stale or repeated delivery changes nothing.
 */
import { sql } from 'kysely';
import type { App } from '../src/app.ts';
import type { JobDefinition } from '../src/queue/job.ts';
import { jobId } from '../src/queue/queues.ts';
import { differsAtSameTime, markOrderDeleted, upsertOrders } from '../src/db/orders.ts';
import { ordersChanged } from './fulfilment.ts';

export interface WebhookData {
  deliveryId: number;
}

export const webhookJob: JobDefinition<WebhookData> = {
  queue: 'webhooks',
  handle: processDelivery,
  async onFailed(app, data, error) {
    await app.db
      .updateTable('webhook_deliveries')
      .set({ status: 'failed', error: error.message, processed_at: sql`now()` })
      .where('id', '=', data.deliveryId)
      .execute();
  },
  async sweep(app, before) {
    const rows = await app.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('status', '=', 'pending')
      .where('received_at', '<', before)
      .orderBy('id')
      .limit(10_000)
      .execute();
    return rows.map((r) => ({ jobId: webhookJobId(r.id), data: { deliveryId: r.id } }));
  },
};

export const webhookJobId = (deliveryId: number) => jobId('webhook', deliveryId);

export async function processDelivery(app: App, data: WebhookData): Promise<{ outcome: string; channelId?: number }> {
  const delivery = await app.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', data.deliveryId).executeTakeFirst();
  if (!delivery) return { outcome: 'gone' };
  if (delivery.status !== 'pending') return { outcome: `already ${delivery.status}` };
  const { connector } = await app.connectors.get(delivery.channel_id);
  const parsed = connector.parseWebhook({ rawBody: delivery.raw_body, headers: delivery.headers });
  const event = parsed.event;
  let outcome: string;
  if (event.type === 'order') {
    let order = event.order;
    let fetched = false;
    // A body without SKUs (WooCommerce lines of deleted products) or a second change within the
    // channel's timestamp resolution: ask the channel for the order as it is now.
    if (order.lines.some((l) => !l.sku) || (await differsAtSameTime(app.db, delivery.channel_id, order))) {
      const current = await connector.fetchOrder(order.externalId);
      if (current) {
        order = current;
        fetched = true;
      }
    }
    const [result] = await upsertOrders(app.db, delivery.channel_id, [order], { sameTimestamp: fetched ? 'replace' : 'keep' });
    outcome = result?.outcome ?? 'stale';
    if (result) await ordersChanged(app, [result]);
  } else if (event.type === 'order_deleted') {
    const deleted = await markOrderDeleted(app.db, delivery.channel_id, event.externalId, event.at);
    outcome = deleted ? 'deleted' : 'stale';
    if (deleted) await ordersChanged(app, [{ orderId: deleted, outcome: 'updated' }]);
  } else {
    outcome = event.type === 'ping' ? 'ping' : `ignored: ${event.reason}`;
  }
  await app.db
    .updateTable('webhook_deliveries')
    .set({ status: event.type === 'ignored' ? 'ignored' : 'processed', processed_at: sql`now()`, error: null })
    .where('id', '=', delivery.id)
    .execute();
  // The channel rides along for the orders-ingested metric.
  return { outcome, channelId: delivery.channel_id };
}
