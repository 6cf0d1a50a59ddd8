/**
 * The mail outbox: a message owed to a customer is a `customer_messages` row
 * committed in the transaction of the event that owes it (a fulfilment push
 * done, a shipment delivered, an order delivered: its feedback request, due
 * later), then its `notify` job is kicked after the commit. A lost kick only
 * delays the message: the sweeper finds every pending row that is due.
 *
 * One row per (order, kind, subject), so an event seen twice owes one message;
 * job ids come from the same key (`mail.shipping.<order>.<shipment>`,
 * `mail.delivery.<order>.<shipment>`, `mail.feedback.<order>`).
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { App } from '../app.ts';
import type { Config } from '../config.ts';
import type { Db, Trx } from '../db/index.ts';
import type { MessageKind } from '../db/schema.ts';
import { jobId } from '../queue/queues.ts';
import { failedJobIds } from '../queue/failures.ts';
import { channelsyncNotifies, mailEnabled } from './policy.ts';
import { feedbackRequestsOf } from '../../connectors/customer-messages.ts';

export interface OwedMessage {
  id: number;
  order_id: number;
  kind: MessageKind;
  subject: string;
  status: string;
  due_at: Date;
}

export function messageJobId(m: { kind: MessageKind; order_id: number; subject: string }): string {
  return m.subject ? jobId('mail', m.kind, m.order_id, m.subject) : jobId('mail', m.kind, m.order_id);
}

/** The domain part of MAIL_FROM, for Message-IDs. */
function mailDomain(config: Pick<Config, 'mailFrom'>): string {
  const m = /@([^\s<>@]+?)>?\s*$/.exec(config.mailFrom ?? '');
  return m?.[1] ?? 'channelsync.invalid';
}

/**
 * Records, in the caller's transaction, that this order's customer is owed a
 * message. Idempotent per (order, kind, subject): an existing row is returned
 * as it is (a sent message stays sent). Returns null when nothing is owed: the
 * order has no e-mail address.
 */
export async function oweMessage(
  trx: Trx,
  config: Pick<Config, 'mailFrom'>,
  message: { orderId: number; kind: MessageKind; subject?: string; dueAt?: Date },
): Promise<OwedMessage | null> {
  const order = await trx.selectFrom('orders').select(['customer_email']).where('id', '=', message.orderId).executeTakeFirst();
  const to = order?.customer_email?.trim();
  if (!to) return null;
  const subject = message.subject ?? '';
  // Stable for the row's life: a resend after a crash between "accepted" and "marked sent" carries the same
  // Message-ID, so mail systems that deduplicate by it (and people reading threads) see one message.
  const messageId = `<cs.${message.kind}.${message.orderId}${subject ? `.${subject}` : ''}.${randomBytes(6).toString('hex')}@${mailDomain(config)}>`;
  return trx
    .insertInto('customer_messages')
    .values({
      order_id: message.orderId,
      kind: message.kind,
      subject,
      to_address: to,
      message_id: messageId,
      ...(message.dueAt ? { due_at: message.dueAt } : {}),
    })
    .onConflict((oc) => oc.columns(['order_id', 'kind', 'subject']).doUpdateSet({ updated_at: sql`customer_messages.updated_at` }))
    .returning(['id', 'order_id', 'kind', 'subject', 'status', 'due_at'])
    .executeTakeFirstOrThrow();
}

/**
 * A fulfilment push was accepted by the channel (same transaction as marking it
 * done): owe the shipping confirmation when channelsync, not the channel, tells
 * this channel's customers.
 */
export async function oweShippingMessage(trx: Trx, config: Config, shipmentId: number): Promise<OwedMessage | null> {
  const row = await shipmentChannel(trx, shipmentId);
  if (!row || !channelsyncNotifies(config, row.settings)) return null;
  return oweMessage(trx, config, { orderId: row.order_id, kind: 'shipping', subject: String(shipmentId) });
}

/**
 * A shipment was delivered (same transaction as recording it): owe the delivery
 * notice (when channelsync tells this channel's customers) and, once the whole
 * order is delivered, the feedback request, due FEEDBACK_AFTER_DAYS later.
 */
export async function oweDeliveryMessages(trx: Trx, config: Config, shipmentId: number): Promise<OwedMessage[]> {
  if (!mailEnabled(config)) return [];
  const row = await shipmentChannel(trx, shipmentId);
  if (!row) return [];
  const owed: Array<OwedMessage | null> = [];
  if (channelsyncNotifies(config, row.settings)) {
    owed.push(await oweMessage(trx, config, { orderId: row.order_id, kind: 'delivery', subject: String(shipmentId) }));
  }
  if (row.order_state === 'delivered' && feedbackRequestsOf(row.kind, row.settings)) {
    const dueAt = new Date(Date.now() + config.feedbackAfterDays * 86_400_000);
    owed.push(await oweMessage(trx, config, { orderId: row.order_id, kind: 'feedback', dueAt }));
  }
  return owed.filter((m): m is OwedMessage => m !== null);
}

async function shipmentChannel(trx: Trx, shipmentId: number) {
  return trx
    .selectFrom('shipments')
    .innerJoin('fulfillments', 'fulfillments.id', 'shipments.fulfillment_id')
    .innerJoin('orders', 'orders.id', 'fulfillments.order_id')
    .innerJoin('channels', 'channels.id', 'orders.channel_id')
    .select(['orders.id as order_id', 'orders.state as order_state', 'channels.settings', 'channels.kind'])
    .where('shipments.id', '=', shipmentId)
    .executeTakeFirst();
}

/** After commit: starts the job of each owed message (delayed until it is due). Never throws; the sweeper covers a failed kick. */
export async function kickMessages(app: App, rows: ReadonlyArray<OwedMessage | null>): Promise<void> {
  for (const row of rows) {
    if (!row || row.status !== 'pending') continue;
    const id = messageJobId(row);
    try {
      if ((await failedJobIds(app.db, 'notify', [id])).has(id)) continue;
      const delay = Math.max(0, row.due_at.getTime() - Date.now());
      await app.queues.add('notify', id, { messageId: row.id }, delay > 0 ? { delay } : {});
    } catch (err) {
      app.log.warn({ message: row.id, err: (err as Error).message }, 'could not enqueue a customer message; the sweeper will');
    }
  }
}

/** Pending messages that are due, untouched since `before`, and not being sent by a live run. */
export async function pendingMessages(db: Db, before: Date): Promise<Array<{ jobId: string; data: { messageId: number } }>> {
  const rows = await db
    .selectFrom('customer_messages')
    .select(['id', 'order_id', 'kind', 'subject'])
    .where('status', '=', 'pending')
    .where('due_at', '<=', sql<Date>`now()`)
    .where('updated_at', '<', before)
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', sql<Date>`now()`)]))
    .orderBy('due_at')
    .limit(10_000)
    .execute();
  return rows.map((r) => ({ jobId: messageJobId(r), data: { messageId: r.id } }));
}
