/**
 * Sending one owed message (the `notify` job's work).
 *
 * 1. Claim the row: pending, due, and not claimed by a live run (a lease of
 *    `CLAIM_MS`, longer than the SMTP timeouts). A second run of the same
 *    message meanwhile waits and then finds it sent.
 * 2. Render it from the templates and hand it to the SMTP server with the
 *    row's stable Message-ID.
 * 3. Mark it sent right after the server accepted it.
 *
 * SMTP cannot join a Postgres transaction, so this is at least once: a crash
 * between 2 and 3 (or a claim that ran out while the server was silent)
 * sends it again after the lease, with the same Message-ID. The window is
 * one UPDATE long; docs/guarantees.md says so.
 */
import { sql } from 'kysely';
import type { App } from '../app.ts';
import { PermanentError, RetryableError } from '../domain/errors.ts';
import type { MessageKind } from '../db/schema.ts';
import type { Address } from '../domain/order.ts';
import { feedbackKey, signFeedbackToken } from '../feedback/token.ts';
import { mailSender } from './send.ts';
import { loadTemplates, render, type MessageValues, type Template } from './templates.ts';

/** How long a run may hold a message before another may send it. */
export const CLAIM_MS = 90_000;

const templateCache = new WeakMap<object, Record<MessageKind, Template>>();

function templates(app: App): Record<MessageKind, Template> {
  let t = templateCache.get(app.config);
  if (!t) {
    t = loadTemplates(app.config.mailTemplatesDir);
    templateCache.set(app.config, t);
  }
  return t;
}

export async function sendMessage(app: App, messageId: number): Promise<{ outcome: string }> {
  const sender = mailSender(app.config);
  if (!sender) throw new PermanentError('customer e-mail is off in this daemon (SMTP_URL is not set): set it on every daemon and retry');
  const claimed = await app.db
    .updateTable('customer_messages')
    .set({ claimed_until: sql`now() + ${`${CLAIM_MS} milliseconds`}::interval`, attempts: sql`attempts + 1`, updated_at: sql`now()` })
    .where('id', '=', messageId)
    .where('status', '=', 'pending')
    .where('due_at', '<=', sql<Date>`now()`)
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', sql<Date>`now()`)]))
    .returningAll()
    .executeTakeFirst();
  if (!claimed) {
    const row = await app.db.selectFrom('customer_messages').select(['status', 'due_at', 'claimed_until']).where('id', '=', messageId).executeTakeFirst();
    if (!row) return { outcome: 'gone' };
    if (row.status !== 'pending') return { outcome: `already ${row.status}` };
    // Not due yet (a job that came early): the sweeper adds it again once it is.
    if (row.due_at.getTime() > Date.now()) return { outcome: `not due until ${row.due_at.toISOString()}` };
    const wait = Math.max(1_000, (row.claimed_until?.getTime() ?? Date.now()) - Date.now());
    throw new RetryableError(`message ${messageId} is being sent by another run; trying again after it`, wait);
  }
  try {
    const values = await messageValues(app, claimed.order_id, claimed.kind, claimed.subject);
    const mail = render(templates(app)[claimed.kind], values, claimed.kind);
    const accepted = await sender.send({ messageId: claimed.message_id, to: claimed.to_address, ...mail });
    await app.db
      .updateTable('customer_messages')
      .set({ status: 'sent', sent_at: sql`now()`, smtp_response: accepted.response.slice(0, 500), last_error: null, claimed_until: null, updated_at: sql`now()` })
      .where('id', '=', messageId)
      .execute();
    return { outcome: `sent ${claimed.kind} to ${sender.describe}` };
  } catch (err) {
    await app.db
      .updateTable('customer_messages')
      .set({ last_error: (err as Error).message.slice(0, 1000), claimed_until: null })
      .where('id', '=', messageId)
      .execute();
    throw err;
  }
}

/** Marks a message failed for good (BullMQ gave up on its job). */
export async function markMessageFailed(app: App, messageId: number, error: string): Promise<void> {
  await app.db
    .updateTable('customer_messages')
    .set({ status: 'failed', last_error: error.slice(0, 1000), claimed_until: null, updated_at: sql`now()` })
    .where('id', '=', messageId)
    .where('status', '=', 'pending')
    .execute();
}

/** A person's retry of a failed message: pending again (so a lost job is swept), then the caller re-adds the job. */
export async function reopenMessage(app: App, messageId: number): Promise<boolean> {
  const row = await app.db
    .updateTable('customer_messages')
    .set({ status: 'pending', last_error: null, updated_at: sql`now()` })
    .where('id', '=', messageId)
    .where('status', '=', 'failed')
    .executeTakeFirst();
  return Number(row.numUpdatedRows) > 0;
}

async function messageValues(app: App, orderId: number, kind: MessageKind, subject: string): Promise<MessageValues> {
  const order = await app.db
    .selectFrom('orders')
    .innerJoin('channels', 'channels.id', 'orders.channel_id')
    .select(['orders.order_number', 'orders.customer_name', 'orders.shipping_address', 'channels.name as shop'])
    .where('orders.id', '=', orderId)
    .executeTakeFirst();
  if (!order) throw new PermanentError(`order ${orderId} does not exist`);
  const address = order.shipping_address as Address | null;
  const values: MessageValues = {
    shop: order.shop,
    order_number: order.order_number,
    customer_name: order.customer_name?.trim() || address?.name?.trim() || 'there',
    carrier: '',
    service: '',
    tracking_number: '',
    tracking_url: '',
    items: '',
    feedback_url: '',
    feedback_expires: '',
  };
  if (kind === 'shipping' || kind === 'delivery') {
    const shipmentId = Number(subject);
    const s = await app.db.selectFrom('shipments').select(['carrier', 'service', 'tracking_number', 'tracking_url']).where('id', '=', shipmentId).executeTakeFirst();
    if (!s) throw new PermanentError(`shipment ${shipmentId} of order ${orderId} does not exist`);
    const lines = await app.db
      .selectFrom('shipment_lines')
      .innerJoin('order_lines', 'order_lines.id', 'shipment_lines.order_line_id')
      .select(['order_lines.title', 'order_lines.sku', 'shipment_lines.quantity'])
      .where('shipment_id', '=', shipmentId)
      .orderBy('order_lines.id')
      .execute();
    Object.assign(values, {
      carrier: s.carrier,
      service: s.service ?? '',
      tracking_number: s.tracking_number,
      tracking_url: s.tracking_url ?? '',
      items: lines.map((l) => `${l.quantity} x ${l.title}${l.sku ? ` (${l.sku})` : ''}`).join('\n'),
    });
  }
  if (kind === 'feedback') {
    if (!app.config.secretKey) throw new PermanentError('feedback links are signed with CHANNELSYNC_SECRET_KEY, which is not set');
    const expires = new Date(Date.now() + app.config.feedbackLinkDays * 86_400_000);
    values.feedback_url = `${app.config.publicUrl}/feedback/${signFeedbackToken(feedbackKey(app.config.secretKey), orderId, expires)}`;
    values.feedback_expires = expires.toISOString().slice(0, 10);
  }
  return values;
}
