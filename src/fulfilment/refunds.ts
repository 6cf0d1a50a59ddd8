/**
 * Refunding a return channelsync ran, on the order's channel, exactly once.
 *
 * `approveReturn` writes, in one transaction, the refund row (source
 * `channelsync`, no channel id yet) with its lines, the return `approved`, the
 * order's history, and the `refund` push it owes (`channel_pushes`, target
 * `<order external id>.<refund id>`). The push job (`deliverRefund`) asks the
 * connector to refund; the connector puts `channelsync-refund:<id>` in the
 * refund's note and looks for it on the channel before creating one, so a run
 * killed after the channel accepted, then retried, finds it there instead of
 * refunding twice. When the refund comes back with the order (a poll, a
 * webhook), the marker ties it to the same row (src/db/refunds.ts).
 *
 * Amount: per returned unit, what the customer paid for it: the unit price
 * less the line's discount and plus its tax, both spread evenly over the units
 * ordered, rounded to the cent (half up). Shipping is not refunded unless
 * asked (`refundShipping`: what is left of the order's shipping). The total is
 * capped at what the order was paid (its lines, every unit ordered, and its
 * shipping) less every refund already recorded, the channel's and ours;
 * nothing left is a refusal. The channel has the last word: a refund it finds
 * too large is refused with its own error and the push fails for good.
 */
import { sql } from 'kysely';
import type { App } from '../app.ts';
import { ConfigError, PermanentError } from '../domain/errors.ts';
import { addMoney, fromUnits, money, subMoney, toUnits } from '../domain/money.ts';
import { enqueuePush, owePush, type OwedPush } from '../outbox/index.ts';
import { syncRefundedCounters } from '../db/refunds.ts';
import { inTransaction, lockOrder, type By, type Trx } from './transitions.ts';

export interface ApproveOptions {
  /** Give back the order's shipping too (what is left of it). Default false: a return does not refund shipping. */
  refundShipping?: boolean;
  reason?: string | null;
}

export interface ApprovedRefund {
  refundId: number;
  returnId: number;
  orderId: number;
  amount: string;
  shipping: string;
  currency: string;
  /** False when the return was approved before (nothing changed). */
  created: boolean;
  /** The push that refunds it on the channel. */
  pushId: number;
  lines: Array<{ orderLineId: number; sku: string | null; quantity: number; amount: string }>;
}

/** Units of 0.01: money rounded to the cent, half up (amounts here are never negative). */
const CENT = toUnits('0.01');
function perUnitPaid(unitPrice: string, discount: string, tax: string, ordered: number): bigint {
  const n = BigInt(Math.max(1, ordered));
  // In 10^-4 units: price - discount/n + tax/n, kept exact until the final rounding of the line.
  return toUnits(unitPrice) * n - toUnits(discount) + toUnits(tax);
}
function roundCents(unitsTimesN: bigint, n: bigint): bigint {
  const cents = (unitsTimesN * 2n + n * CENT) / (2n * n * CENT);
  return cents * CENT;
}

/** Approves a received return: owes its refund to the channel (see the module comment). */
export async function approveReturn(app: App, returnId: number, opts: ApproveOptions, by: By): Promise<ApprovedRefund> {
  const channel = await app.db
    .selectFrom('returns')
    .innerJoin('orders', 'orders.id', 'returns.order_id')
    .select('orders.channel_id')
    .where('returns.id', '=', returnId)
    .executeTakeFirst();
  if (!channel) throw new ConfigError(`return ${returnId} does not exist`);
  // A refund the channel cannot take would only become a failed push: refuse it now.
  const { connector } = await app.connectors.get(channel.channel_id);
  if (!connector.capabilities.refund || !connector.refundOrder) {
    throw new PermanentError(`${connector.kind} channels cannot refund through channelsync: refund the order on its channel`);
  }
  const result = await inTransaction(app.db, async (trx) => {
    const head = await trx.selectFrom('returns').select(['id', 'order_id']).where('id', '=', returnId).executeTakeFirst();
    if (!head) throw new ConfigError(`return ${returnId} does not exist`);
    const order = await lockOrder(trx, head.order_id);
    const ret = await trx.selectFrom('returns').select(['id', 'status']).where('id', '=', returnId).forUpdate().executeTakeFirstOrThrow();
    const existing = await trx.selectFrom('refunds').selectAll().where('return_id', '=', returnId).executeTakeFirst();
    if (existing) return { ...(await describe(trx, existing.id)), created: false, push: null };
    if (ret.status === 'rejected') throw new PermanentError(`return ${returnId} was rejected: nothing to refund`);

    const o = await trx
      .selectFrom('orders')
      .select(['id', 'channel_id', 'external_id', 'currency', 'total', 'shipping'])
      .where('id', '=', order.id)
      .executeTakeFirstOrThrow();
    // Every line of the order with what it cost per unit; the returned units of this return.
    const { rows: orderLines } = await sql<{ id: number; sku: string | null; unit_price: string; discount: string; tax: string; quantity: number; refunded_on_channel: number; returned: number }>`
      SELECT l.id, l.sku, l.unit_price::text, l.discount::text, l.tax::text, l.quantity,
        COALESCE((SELECT sum(fl.quantity) FROM refund_lines fl JOIN refunds f ON f.id = fl.refund_id
          WHERE fl.order_line_id = l.id AND f.external_id IS NOT NULL), 0)::int AS refunded_on_channel,
        COALESCE((SELECT sum(rl.quantity) FROM return_lines rl WHERE rl.return_id = ${returnId} AND rl.order_line_id = l.id), 0)::int AS returned
      FROM order_lines l WHERE l.order_id = ${o.id} ORDER BY l.id`.execute(trx);
    const lines = orderLines.filter((l) => l.returned > 0).map((l) => ({ ...l, line_quantity: l.quantity, quantity: l.returned }));
    if (lines.length === 0) throw new ConfigError(`return ${returnId} has no lines`);

    // One entry per order line (a line returned as one restocked and one damaged unit is one refund line).
    const byLine = new Map<number, { id: number; sku: string | null; quantity: number; paid: bigint; ordered: number }>();
    for (const l of lines) {
      const seen = byLine.get(l.id);
      // The channel takes units refunded there off the line; the price, discount and tax are of all units ordered.
      const ordered = l.line_quantity + Number(l.refunded_on_channel);
      byLine.set(l.id, { id: l.id, sku: l.sku, quantity: (seen?.quantity ?? 0) + l.quantity, paid: perUnitPaid(l.unit_price, l.discount, l.tax, ordered), ordered });
    }
    const refundLines = [...byLine.values()].map((l) => ({
      orderLineId: l.id,
      sku: l.sku,
      quantity: l.quantity,
      amount: fromUnits(roundCents(l.paid * BigInt(l.quantity), BigInt(Math.max(1, l.ordered)))),
    }));

    const { rows: [before] } = await sql<{ amount: string; shipping: string }>`
      SELECT COALESCE(sum(amount), 0)::text AS amount, COALESCE(sum(shipping), 0)::text AS shipping FROM refunds WHERE order_id = ${o.id}`.execute(trx);
    const shippingLeft = toUnits(subMoney(o.shipping, money(before!.shipping)));
    const shipping = opts.refundShipping && shippingLeft > 0n ? fromUnits(shippingLeft) : '0.00';
    const wanted = addMoney(shipping, ...refundLines.map((l) => l.amount));
    // What was paid, read from the lines (every unit ordered) and the shipping, the same way on every
    // channel (Shopify's order total shrinks with its refunds, WooCommerce's does not).
    const paid = addMoney(
      o.shipping,
      ...orderLines.map((l) => {
        const ordered = Math.max(1, l.quantity + Number(l.refunded_on_channel));
        return fromUnits(roundCents(perUnitPaid(l.unit_price, l.discount, l.tax, ordered) * BigInt(ordered), BigInt(ordered)));
      }),
    );
    const left = subMoney(paid, money(before!.amount));
    if (toUnits(left) <= 0n) throw new PermanentError(`order ${order.order_number}: everything paid (${paid} ${o.currency}) was refunded already`);
    // Never more than was paid and not yet given back: the channel would refuse it anyway.
    const amount = toUnits(wanted) > toUnits(left) ? money(left) : money(wanted);
    if (toUnits(amount) <= 0n) throw new PermanentError(`return ${returnId}: the returned units were not paid for (0.00 to refund)`);

    const refund = await trx
      .insertInto('refunds')
      .values({
        order_id: o.id,
        external_id: null,
        amount,
        shipping,
        currency: o.currency,
        reason: opts.reason ?? `return ${returnId}`,
        source: 'channelsync',
        return_id: returnId,
        actor: by.actor,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('refund_lines')
      .values(refundLines.map((l) => ({ refund_id: refund.id, order_line_id: l.orderLineId, quantity: l.quantity, amount: l.amount, restock: false, restocked: 0 })))
      .execute();
    await syncRefundedCounters(trx, o.id);
    await trx.updateTable('returns').set({ status: 'approved', updated_at: sql`now()` }).where('id', '=', returnId).execute();
    const capped = amount !== money(wanted) ? ` (capped from ${money(wanted)}: that much is left of what was paid)` : '';
    await trx
      .insertInto('order_history')
      .values({
        order_id: o.id,
        fulfillment_id: null,
        actor: by.actor,
        from_state: order.state,
        to_state: order.state,
        reason: `return ${returnId} approved: refund ${refund.id} of ${amount} ${o.currency}${capped} owed to the channel${by.reason ? `; ${by.reason}` : ''}`,
      })
      .execute();
    const push = await owePush(trx, { channelId: o.channel_id, kind: 'refund', target: refundTarget(o.external_id, refund.id), payload: { refundId: refund.id } });
    return { ...(await describe(trx, refund.id)), created: true, push };
  });
  if (result.push) await enqueuePush(app, result.push);
  const { push: _push, ...approved } = result;
  return approved;
}

/** The `channel_pushes.target` of a refund: the order's channel id and the refund (the order page lists pushes by this prefix). */
export function refundTarget(orderExternalId: string, refundId: number): string {
  return `${orderExternalId}.${refundId}`;
}

async function describe(trx: Trx, refundId: number): Promise<Omit<ApprovedRefund, 'created'> & { push?: OwedPush | null }> {
  const r = await trx
    .selectFrom('refunds')
    .innerJoin('orders', 'orders.id', 'refunds.order_id')
    .select(['refunds.id', 'refunds.return_id', 'refunds.order_id', 'refunds.amount', 'refunds.shipping', 'refunds.currency', 'orders.channel_id', 'orders.external_id'])
    .where('refunds.id', '=', refundId)
    .executeTakeFirstOrThrow();
  const lines = await trx
    .selectFrom('refund_lines')
    .innerJoin('order_lines', 'order_lines.id', 'refund_lines.order_line_id')
    .select(['refund_lines.order_line_id', 'order_lines.sku', 'refund_lines.quantity', 'refund_lines.amount'])
    .where('refund_id', '=', refundId)
    .orderBy('refund_lines.order_line_id')
    .execute();
  const push = await trx
    .selectFrom('channel_pushes')
    .select('id')
    .where('channel_id', '=', r.channel_id)
    .where('kind', '=', 'refund')
    .where('target', '=', refundTarget(r.external_id, r.id))
    .executeTakeFirst();
  return {
    refundId: r.id,
    returnId: r.return_id!,
    orderId: r.order_id,
    amount: money(r.amount),
    shipping: money(r.shipping),
    currency: r.currency,
    pushId: push?.id ?? 0,
    lines: lines.map((l) => ({ orderLineId: l.order_line_id, sku: l.sku, quantity: l.quantity, amount: money(l.amount) })),
  };
}

/** What a refund push sends: the refund with its lines by channel line id. */
export async function refundPushOf(db: App['db'], refundId: number) {
  const r = await db
    .selectFrom('refunds')
    .innerJoin('orders', 'orders.id', 'refunds.order_id')
    .select(['refunds.id', 'refunds.amount', 'refunds.shipping', 'refunds.currency', 'refunds.reason', 'refunds.source', 'refunds.order_id', 'orders.external_id'])
    .where('refunds.id', '=', refundId)
    .executeTakeFirst();
  if (!r) return null;
  const lines = await db
    .selectFrom('refund_lines')
    .innerJoin('order_lines', 'order_lines.id', 'refund_lines.order_line_id')
    .select(['order_lines.external_id', 'refund_lines.quantity', 'refund_lines.amount'])
    .where('refund_id', '=', refundId)
    .orderBy('order_lines.id')
    .execute();
  const known = await db
    .selectFrom('refunds')
    .select('external_id')
    .where('order_id', '=', r.order_id)
    .where('external_id', 'is not', null)
    .where('id', '!=', refundId)
    .execute();
  return {
    knownChannelRefunds: known.map((k) => k.external_id!),
    orderExternalId: r.external_id,
    refundId: r.id,
    amount: money(r.amount),
    shipping: money(r.shipping),
    currency: r.currency,
    reason: r.reason ?? `channelsync refund ${r.id}`,
    lines: lines.filter((l) => l.quantity > 0).map((l) => ({ lineExternalId: l.external_id, quantity: l.quantity, amount: money(l.amount) })),
  };
}

/**
 * The channel accepted refund `refundId` as `externalId`: recorded on the row
 * (unless the order's ingestion matched it first), the return `refunded`, the
 * order's history told. Safe to repeat.
 */
export async function recordRefundAccepted(app: App, refundId: number, externalId: string | null): Promise<void> {
  await inTransaction(app.db, async (trx) => {
    const r = await trx.selectFrom('refunds').select(['id', 'order_id', 'return_id', 'external_id', 'amount', 'currency']).where('id', '=', refundId).forUpdate().executeTakeFirst();
    if (!r) return;
    if (r.external_id === null && externalId !== null) {
      await trx.updateTable('refunds').set({ external_id: externalId, refunded_at: sql`COALESCE(refunded_at, now())` }).where('id', '=', refundId).execute();
    }
    if (r.return_id === null) return;
    const moved = await trx.updateTable('returns').set({ status: 'refunded', updated_at: sql`now()` }).where('id', '=', r.return_id).where('status', '=', 'approved').executeTakeFirst();
    if (Number(moved.numUpdatedRows) === 0) return;
    const order = await trx.selectFrom('orders').select('state').where('id', '=', r.order_id).executeTakeFirstOrThrow();
    await trx
      .insertInto('order_history')
      .values({
        order_id: r.order_id,
        fulfillment_id: null,
        actor: 'job:channel-push',
        from_state: order.state,
        to_state: order.state,
        reason: `refund ${refundId} of ${money(r.amount)} ${r.currency} accepted by the channel${externalId ? ` (${externalId})` : ''}: return ${r.return_id} refunded`,
      })
      .execute();
  });
}
