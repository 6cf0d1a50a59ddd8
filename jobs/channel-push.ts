/**
 * channel-push: deliver one side effect owed to a channel, recorded first as a
 * `channel_pushes` row (the outbox). The job id is derived from the row's
 * natural key (`push-fulfillment.<shipment>.<channel>`), connectors check the
 * channel before creating anything, and the row is marked done only after
 * the channel accepted: a crash at any point leads to one push, not two.
 */
import { sql } from 'kysely';
import { DelayedError, type Job } from 'bullmq';
import type { App } from '../src/app.ts';
import type { JobDefinition } from '../src/queue/job.ts';
import { onePushJobData, pushJobData, pushJobId, type PushJobData } from '../src/outbox/index.ts';
import { retryJob } from '../src/queue/failures.ts';
import type { ChannelPush } from '../src/db/schema.ts';
import { PermanentError, RetryableError } from '../src/domain/errors.ts';
import { LOCKS, withSessionLock } from '../src/db/locks.ts';
import { deliverStock } from '../src/stock/push.ts';
import { kickMessages, oweShippingMessage } from '../src/notify/outbox.ts';
import { channelsyncNotifies } from '../src/notify/policy.ts';
import { recordRefundAccepted, refundPushOf } from '../src/fulfilment/refunds.ts';

/** The outbox row's id; `orderNumber`, `channelName`, `sku` only name the job for people (old jobs lack them). */
export type ChannelPushData = PushJobData;

export const channelPushJob: JobDefinition<ChannelPushData> = {
  queue: 'channel-push',
  handle: runPush,
  async onFailed(app, data, error) {
    await app.db
      .updateTable('channel_pushes')
      .set({ status: 'failed', last_error: error.message, updated_at: sql`now()` })
      .where('id', '=', data.pushId)
      .where('status', '=', 'pending')
      .execute();
  },
  async sweep(app, before) {
    const rows = await app.db
      .selectFrom('channel_pushes')
      .select(['id', 'channel_id', 'kind', 'target'])
      .where('status', '=', 'pending')
      .where('updated_at', '<', before)
      .orderBy('id')
      .limit(10_000)
      .execute();
    const data = await pushJobData(app.db, rows);
    return rows.map((r) => ({ jobId: pushJobId(r), data: data.get(r.id)! }));
  },
};

/** Puts a failed push back to work (admin retry). */
export async function retryPush(app: App, pushId: number): Promise<void> {
  const row = await app.db
    .updateTable('channel_pushes')
    .set({ status: 'pending', last_error: null, updated_at: sql`now()` })
    .where('id', '=', pushId)
    .where('status', '=', 'failed')
    .returning(['id', 'channel_id', 'kind', 'target'])
    .executeTakeFirst();
  if (!row) throw new PermanentError(`push ${pushId} is not failed (only failed pushes can be retried)`);
  // Clears the job's failure record too, so the sweeper may revive it again if Redis loses it.
  await retryJob(app, 'channel-push', pushJobId(row), await onePushJobData(app, row.id));
}

export async function runPush(app: App, data: ChannelPushData, job?: Job): Promise<{ outcome: string }> {
  const push = await app.db
    .updateTable('channel_pushes')
    .set({ attempts: sql`attempts + 1` })
    .where('id', '=', data.pushId)
    .returningAll()
    .executeTakeFirst();
  if (!push) return { outcome: 'gone' };
  if (push.status === 'done') return { outcome: 'already done' };
  if (push.kind !== 'stock') {
    // One delivery of a fulfilment, cancel or refund at a time, across processes. Two runs of one push
    // happen (a Redis flush hides a running job and the sweeper adds it again; a lock that expired):
    // both would check the channel, find nothing, and create it twice. The second waits its turn and
    // then finds the push done. Stock pushes set absolute numbers and check after, so they may overlap.
    const run = await withSessionLock(app.config.databaseUrl, LOCKS.channelPush, push.id, async () => {
      const now = await app.db.selectFrom('channel_pushes').select('status').where('id', '=', push.id).executeTakeFirst();
      return now?.status === 'done' ? { outcome: 'already done' } : deliverAndRecord(app, push, job);
    });
    if (!run.locked) throw new RetryableError(`push ${push.id} is being delivered by another run; trying again after it`);
    return run.value;
  }
  return deliverAndRecord(app, push, job);
}

async function deliverAndRecord(app: App, push: ChannelPush, job?: Job): Promise<{ outcome: string }> {
  try {
    const ref = await deliver(app, push, job);
    // Done, and the shipping e-mail it owes (when channelsync tells this channel's customers), in one
    // transaction: the message exists exactly when the channel has the shipment.
    const mail = await app.db.transaction().execute(async (trx) => {
      const done = await trx
        .updateTable('channel_pushes')
        .set({ status: 'done', external_ref: ref, last_error: null, completed_at: sql`now()`, updated_at: sql`now()` })
        .where('id', '=', push.id)
        // Owed again since this push read it (a stock change meanwhile): stays pending for its next run.
        .where(sql<Date>`date_trunc('milliseconds', updated_at)`, '<=', push.updated_at)
        .executeTakeFirst();
      return push.kind === 'fulfillment' && Number(done.numUpdatedRows) > 0 ? oweShippingMessage(trx, app.config, Number(push.target)) : null;
    });
    await kickMessages(app, [mail]);
    return { outcome: 'done' };
  } catch (err) {
    if (err instanceof DelayedError) throw err; // re-run on purpose, not a failure
    await app.db
      .updateTable('channel_pushes')
      .set({ last_error: (err as Error).message })
      .where('id', '=', push.id)
      .execute();
    throw err;
  }
}

async function deliver(app: App, push: ChannelPush, job?: Job): Promise<string | null> {
  const { connector, channel } = await app.connectors.get(push.channel_id);
  switch (push.kind) {
    case 'fulfillment': {
      const shipmentId = Number(push.target);
      // One read: the shipment, its lines, and how many of the order's lines still wait for units after it.
      const shipment = await app.db
        .selectFrom('shipments')
        .innerJoin('fulfillments', 'fulfillments.id', 'shipments.fulfillment_id')
        .innerJoin('orders', 'orders.id', 'fulfillments.order_id')
        .select([
          'shipments.id', 'carrier', 'service', 'tracking_number', 'tracking_url', 'orders.id as order_id', 'orders.external_id',
          sql<Array<{ external_id: string; sku: string | null; quantity: number }>>`COALESCE((
            SELECT json_agg(json_build_object('external_id', l.external_id, 'sku', l.sku, 'quantity', sl.quantity) ORDER BY l.id)
            FROM shipment_lines sl JOIN order_lines l ON l.id = sl.order_line_id WHERE sl.shipment_id = shipments.id), '[]')`.as('lines'),
          sql<number>`(
            SELECT count(*)::int FROM order_lines l
            WHERE l.order_id = orders.id AND l.quantity > COALESCE((
              SELECT sum(sl.quantity) FROM shipment_lines sl
              JOIN shipments s ON s.id = sl.shipment_id
              JOIN fulfillments f ON f.id = s.fulfillment_id
              WHERE sl.order_line_id = l.id AND f.order_id = orders.id), 0))`.as('open'),
        ])
        .where('shipments.id', '=', shipmentId)
        .executeTakeFirst();
      if (!shipment) throw new PermanentError(`shipment ${shipmentId} does not exist`);
      const { lines } = shipment;
      const outcome = await connector.pushFulfillment({
        orderExternalId: shipment.external_id,
        shipmentId,
        lines: lines.map((l) => ({ lineExternalId: l.external_id, sku: l.sku, quantity: l.quantity })),
        carrier: shipment.carrier,
        service: shipment.service,
        trackingNumber: shipment.tracking_number,
        trackingUrl: shipment.tracking_url,
        // channelsync e-mails the customer itself, or lets the channel: never both (src/notify/policy.ts).
        notifyCustomer: !channelsyncNotifies(app.config, channel.settings),
        completesOrder: shipment.open === 0,
      });
      return outcome.externalRef;
    }
    case 'stock':
      return deliverStock(app, push, job, connector);
    case 'cancel': {
      if (!connector.cancelOrder) throw new PermanentError(`${connector.kind} channels cannot cancel orders through channelsync`);
      const outcome = await connector.cancelOrder(push.target, String(push.payload.reason ?? 'cancelled in channelsync'));
      return outcome.externalRef;
    }
    case 'refund': {
      // A return approved in channelsync (src/fulfilment/refunds.ts). The connector checks the channel
      // for this refund's marker before it creates one: a run killed after the channel accepted refunds once.
      if (!connector.refundOrder) throw new PermanentError(`${connector.kind} channels cannot refund orders through channelsync: refund it on the channel`);
      const refundId = Number(push.payload.refundId);
      const refund = await refundPushOf(app.db, refundId);
      if (!refund) throw new PermanentError(`refund ${refundId} does not exist`);
      const outcome = await connector.refundOrder(refund);
      await recordRefundAccepted(app, refundId, outcome.externalRef);
      return outcome.externalRef;
    }
  }
}
