/**
 * order-notifications: drain a channel's notification queue (Amazon:
 * ORDER_CHANGE messages in SQS), scheduled every few seconds for channels
 * whose settings name a queue. A message is an unsigned hint: the job fetches
 * the order from the channel's API and saves what the API says (newer wins),
 * exactly like a poll; nothing in the message itself is saved, cancels or
 * dates anything. Each message is recorded in the inbox (`webhook_deliveries`,
 * key = the channel's notification id, already processed) in the same
 * transaction as the order, so a message delivered twice is fetched once;
 * it is deleted from the queue only after that commit. Polling (sync-orders)
 * stays the safety net for messages that never come.
 */
import { sql } from 'kysely';
import type { App } from '../src/app.ts';
import type { Trx } from '../src/db/index.ts';
import type { JobDefinition } from '../src/queue/job.ts';
import { saveOrdersSettingAside } from '../src/db/orders.ts';
import { ordersChanged } from '../src/fulfilment/steps.ts';
import { PermanentError } from '../src/domain/errors.ts';
import { hasNotificationQueue, type QueuedNotification } from '../connectors/types.ts';

export interface OrderNotificationsData {
  channelId: number;
}

export const orderNotificationsJob: JobDefinition<OrderNotificationsData> = {
  queue: 'order-notifications',
  handle: (app, data) => drainNotifications(app, data.channelId),
};

export interface DrainReport {
  received: number;
  duplicates: number;
  saved: number;
  failed: number;
}

/** Reads the queue once (a short long-poll) and handles every message it returned. */
export async function drainNotifications(app: App, channelId: number, waitSeconds = 1): Promise<DrainReport> {
  const { connector } = await app.connectors.get(channelId);
  const report: DrainReport = { received: 0, duplicates: 0, saved: 0, failed: 0 };
  if (!hasNotificationQueue(connector)) return report;
  const notes = await connector.pollNotifications(waitSeconds);
  report.received = notes.length;
  const done: string[] = [];
  for (const note of notes) {
    const seen = await app.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('channel_id', '=', channelId)
      .where('delivery_key', '=', note.notificationId)
      .executeTakeFirst();
    if (seen) {
      report.duplicates++;
      done.push(note.receipt);
      continue;
    }
    try {
      const order = note.orderExternalId ? await connector.fetchOrder(note.orderExternalId) : null;
      const results = await app.db.transaction().execute(async (trx) => {
        const inserted = await recordInbox(trx, channelId, note, order ? 'processed' : 'ignored', order ? null : 'the order is not on the channel (or the message names none)');
        if (!inserted || !order) return [];
        return (await saveOrdersSettingAside(trx, channelId, [order], { sameTimestamp: 'replace', source: 'webhook' })).results;
      });
      await ordersChanged(app, results);
      report.saved += results.length;
      done.push(note.receipt);
    } catch (err) {
      if (!(err instanceof PermanentError)) throw err; // retried: the message comes back after its visibility timeout
      // One order that cannot be read never blocks the others: recorded as failed, for a person.
      await recordInbox(app.db, channelId, note, 'failed', err.message);
      app.log.warn({ channel: channelId, notification: note.notificationId, err: err.message }, 'order notification could not be handled');
      report.failed++;
      done.push(note.receipt);
    }
  }
  if (done.length) await connector.ackNotifications(done);
  return report;
}

/** The message in the inbox, already handled (never `pending`: the webhooks job must not pick it up). False when it was there. */
async function recordInbox(db: Trx | App['db'], channelId: number, note: QueuedNotification, status: 'processed' | 'ignored' | 'failed', error: string | null): Promise<boolean> {
  const { rows } = await sql`
    INSERT INTO webhook_deliveries (channel_id, delivery_key, topic, headers, raw_body, status, error, processed_at)
    VALUES (${channelId}, ${note.notificationId}, ${note.topic}, '{}'::jsonb, ${Buffer.from(JSON.stringify(note.raw))}, ${status}, ${error}, now())
    ON CONFLICT (channel_id, delivery_key) DO NOTHING RETURNING id`.execute(db);
  return rows.length > 0;
}
