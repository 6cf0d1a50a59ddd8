/**
 * When an order may ship (payable) and when its channel has already taken the
 * units out of its own stock (holds stock). The two differ: WooCommerce
 * reduces stock for an `on-hold` order that still waits for its payment, and
 * Shopify commits stock at order creation whatever the payment status. We
 * reserve what the channel reserves, so available stock, stock pushes and
 * reconciliation agree with the channel, but a reserved order that is not
 * payable is not picked (`assertPayable`) until its payment arrives.
 */
import { sql, type RawBuilder } from 'kysely';
import { connectorFactories } from '../../connectors/index.ts';
import { IllegalTransitionError } from '../domain/errors.ts';
import type { Trx } from './transitions.ts';

/**
 * The financial statuses that let an order ship: `ALLOCATE_WHEN`, and
 * `partially_refunded` whenever `paid` is in it. A partially refunded order
 * was paid; what is refunded is no longer owed (connectors take refunded
 * units off the line quantity), and the rest must still ship.
 */
export function payableStatuses(allocateWhen: readonly string[]): string[] {
  return allocateWhen.includes('paid') && !allocateWhen.includes('partially_refunded')
    ? [...allocateWhen, 'partially_refunded']
    : [...allocateWhen];
}

export interface PaymentView {
  kind: string;
  financial_status: string;
  fulfillment_status: string;
}

/** Whether the order's channel holds stock for it in this state (`ConnectorFactory.holdsStock`). */
export function channelHoldsStock(o: PaymentView): boolean {
  const rule = connectorFactories.get(o.kind)?.holdsStock;
  if (!rule) return false;
  return (
    (rule.financial as readonly string[]).includes(o.financial_status) ||
    (rule.fulfillment as readonly string[]).includes(o.fulfillment_status)
  );
}

/** The payment side of one order, with its channel kind. */
export async function paymentView(trx: Trx, orderId: number): Promise<PaymentView> {
  return trx
    .selectFrom('orders')
    .innerJoin('channels', 'channels.id', 'orders.channel_id')
    .select(['channels.kind', 'orders.financial_status', 'orders.fulfillment_status'])
    .where('orders.id', '=', orderId)
    .executeTakeFirstOrThrow();
}

/**
 * Refuses to start work on goods of an order that is reserved but not paid.
 * `order` is the row as locked (`lockOrder`): its payment status is current.
 */
export function assertPayable(order: { id: number; order_number: string; financial_status: string }, allocateWhen: readonly string[], step: string): void {
  if (payableStatuses(allocateWhen).includes(order.financial_status)) return;
  throw new IllegalTransitionError(
    `cannot ${step} order ${order.order_number} (${order.id}): its payment is ${order.financial_status}; its units stay reserved until it is paid (ALLOCATE_WHEN=${allocateWhen.join(',')})`,
  );
}

/**
 * SQL: the order `o` (joined with its channel `ch`) is in a state where its
 * channel holds stock for it, per channel kind.
 */
export function holdsStockSql(): RawBuilder<boolean> {
  const rules = [...connectorFactories.values()].flatMap((f) =>
    f.holdsStock
      ? [sql`(ch.kind = ${f.kind} AND (o.financial_status = ANY(${[...f.holdsStock.financial]}::text[]) OR o.fulfillment_status = ANY(${[...f.holdsStock.fulfillment]}::text[])))`]
      : [],
  );
  return rules.length ? sql<boolean>`(${sql.join(rules, sql` OR `)})` : sql<boolean>`false`;
}

