/**
 * webhooks: process one stored delivery from the inbox. The HTTP route has
 * already verified and stored it; this job maps it and saves the order with
 * the newer-wins rule, so a stale or repeated delivery changes nothing.
 *
 * One transaction saves the order (header and lines) and marks the delivery
 * processed: a crash leaves either both or neither, and the retry redoes the
 * whole delivery. Channel calls (a re-fetch) happen before it, never inside.
 */
import { sql } from 'kysely';
import type { App } from '../src/app.ts';
import type { JobDefinition } from '../src/queue/job.ts';
import { jobId } from '../src/queue/queues.ts';
import { differsAtSameTime, markOrderDeleted, saveOrdersSettingAside, type UpsertResult } from '../src/db/orders.ts';
import { ordersChanged } from '../src/fulfilment/steps.ts';
import { hasNotificationEndpoint, hasWebhooks } from '../connectors/types.ts';
import { PermanentError } from '../src/domain/errors.ts';

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
  const request = { rawBody: delivery.raw_body, headers: delivery.headers };
  // eBay: verified again with the cached key, and an order topic re-fetched (a hint, not a body).
  let parsed;
  if (hasNotificationEndpoint(connector)) parsed = await connector.resolveWebhook(request);
  else if (hasWebhooks(connector)) parsed = connector.parseWebhook(request);
  else throw new PermanentError(`channel ${delivery.channel_id} (${connector.kind}) receives no webhooks: delivery ${delivery.id} cannot be read`);
  const event = parsed.event;
  let order = event.type === 'order' ? event.order : null;
  let fetched = false;
  // A body without SKUs (WooCommerce lines of deleted products), a second change within the
  // channel's timestamp resolution, or refunds the body does not detail (their lines and restocks
  // are read from the channel: `UnifiedOrder.refunds` undefined): ask the channel for the order as it is now.
  if (order && (order.lines.some((l) => !l.sku) || (order.refunds === undefined && connector.capabilities.refund) || (await differsAtSameTime(app.db, delivery.channel_id, order)))) {
    const current = await connector.fetchOrder(order.externalId);
    if (current) {
      order = current;
      fetched = true;
    }
  }
  // Channels sign the body, not the topic: any captured order body replayed under
  // orders/delete (order.deleted) reads as a deletion. So a deletion is only what the
  // channel itself says: gone (null), or the order as it is now, saved like a fetch.
  let gone = false;
  if (event.type === 'order_deleted') {
    const current = await connector.fetchOrder(event.externalId);
    if (current) {
      order = current;
      fetched = true;
    } else {
      gone = true;
    }
  }

  const saved = await app.db.transaction().execute(async (trx) => {
    // Another run of this delivery finished while we read the channel: nothing more to do.
    const still = await trx.selectFrom('webhook_deliveries').select('status').where('id', '=', delivery.id).forUpdate().executeTakeFirst();
    if (still?.status !== 'pending') return { outcome: `already ${still?.status ?? 'gone'}`, changed: [] as UpsertResult[] };
    let outcome: string;
    let refused: string | null = null;
    const changed: UpsertResult[] = [];
    if (order) {
      // An order the database refuses is set aside (rejected_orders) and the delivery marked
      // failed with the reason: retrying the same body cannot help, and nothing half-saves.
      const { results: [result], rejected } = await saveOrdersSettingAside(trx, delivery.channel_id, [order], { sameTimestamp: fetched ? 'replace' : 'keep', source: 'webhook' });
      refused = rejected[0]?.reason ?? null;
      outcome = refused ? `rejected: ${refused}` : (result?.outcome ?? 'stale');
      if (event.type === 'order_deleted' && !refused) outcome = `not deleted: the channel still has the order (${outcome})`;
      if (result) changed.push(result);
    } else if (event.type === 'order_deleted' && gone) {
      const deleted = await markOrderDeleted(trx, delivery.channel_id, event.externalId);
      outcome = deleted ? 'deleted' : 'stale';
      if (deleted) changed.push({ orderId: deleted, externalId: event.externalId, outcome: 'updated' });
    } else {
      outcome = event.type === 'ping' ? 'ping' : `ignored: ${event.type === 'ignored' ? event.reason : event.type}`;
    }
    await trx
      .updateTable('webhook_deliveries')
      .set({ status: refused ? 'failed' : event.type === 'ignored' ? 'ignored' : 'processed', processed_at: sql`now()`, error: refused })
      .where('id', '=', delivery.id)
      .execute();
    return { outcome, changed };
  });
  // After the commit: start allocation (the sweeper finds it if this is lost).
  await ordersChanged(app, saved.changed);
  // The channel rides along for the orders-ingested metric.
  return { outcome: saved.outcome, channelId: delivery.channel_id };
}
