/**
 * After-sales mutations: `orderCancel` and `refundCreate`, answering as the
 * real Admin API did in the captures of ../shared/fixtures/shopify/captures:
 * - orderCancel: `2026-04_orders_orderCancel-parity.json` (empty errors, the
 *   order closed and cancelled), `2026-04_orders_order-management-cleanup.json`
 *   ("Cannot cancel an order that has already been canceled", INVALID on
 *   `orderId`), `2025-01_shipping-fulfillments_fulfillment-create-name.json`
 *   ("Cannot cancel an order that has outstanding fulfillments");
 * - refundCreate: `2025-01_orders_refund-create-user-errors-and-quantities.json`
 *   (unknown order; more units than purchased; more money than received, even
 *   with `allowOverRefunding`), `2025-01_orders_refund-create-over-refund-user-errors.json`,
 *   `2026-04_orders_refund-create-transactions-validation.json` (a kind other
 *   than REFUND; a parent that is not the order's; another gateway is accepted).
 * `test/connectors/shopify/after-sales-captures.test.ts` replays those cases.
 */
import type { Order, Refund, ShopState, Transaction } from '../state.ts';
import { gid, isoSeconds, parseGid, toCents } from '../ids.ts';
import { connection, moneyBag, type ConnectionArgs, type Ctx } from './context.ts';
import { lineItemView, orderView } from './views.ts';

interface UserError { field: string[] | null; message: string; code?: string }

/**
 * Shopify cancels in a background job and answers before it has run: every
 * `job` the captures recorded (50 of them) reads `done: false`.
 */
const job = () => ({ id: `gid://shopify/Job/${crypto.randomUUID()}`, done: false, query: {} });

/** When each order's cancel job started; it runs `ShopState.cancelJobMs`. */
const cancelJobs = new WeakMap<Order, number>();

function cancelRefused(field: string[] | null, message: string, code: string) {
  return { job: null, orderCancelUserErrors: [{ field, message, code }], userErrors: [{ field, message }] };
}

/**
 * https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderCancel
 * Shopify cancels in a job and answers at once with the job not done; the
 * simulator cancels before it answers (a read after the answer finds the
 * order cancelled, as a read after Shopify's job does) and answers as Shopify.
 */
export function orderCancel(
  args: { orderId: string; restock: boolean; reason: string; refund?: boolean | null; refundMethod?: { originalPaymentMethodsRefund?: boolean | null } | null; staffNote?: string | null },
  ctx: Ctx,
) {
  const o = ctx.state.orders.get(parseGid(args.orderId, 'Order') ?? -1);
  if (!o) return cancelRefused(['orderId'], 'Order does not exist', 'NOT_FOUND');
  // Recorded (`2026-04_orders_orderCustomerSet-and-Remove-error-paths-cleanup.json`): a cancel while
  // the first one's job runs; field null, and the capture did not select the code.
  if (o.cancelledAt && (cancelJobs.get(o) ?? -Infinity) + ctx.state.cancelJobMs > ctx.state.now()) {
    const message = 'Cancellation is already in progress';
    return { job: null, orderCancelUserErrors: [{ field: null, message, code: null }], userErrors: [{ field: null, message }] };
  }
  if (o.cancelledAt) return cancelRefused(['orderId'], 'Cannot cancel an order that has already been canceled', 'INVALID');
  if (o.fulfillmentIds.some((id) => ctx.state.fulfillments.get(id)?.status === 'SUCCESS')) {
    return cancelRefused(['orderId'], 'Cannot cancel an order that has outstanding fulfillments', 'INVALID');
  }
  // Refunding on cancel (`2026-04_orders_orderCancel-restock-refundMethod-parity.json`): one refund of
  // what is still paid, back through each sale's gateway; the order reads REFUNDED, net payment 0.
  if (args.refundMethod?.originalPaymentMethodsRefund || args.refund) refundAll(ctx.state, o, args.restock);
  ctx.state.cancel(o, args.reason, args.restock, args.staffNote ?? null);
  cancelJobs.set(o, ctx.state.now());
  return { job: job(), orderCancelUserErrors: [], userErrors: [] };
}

function refundAll(state: ShopState, o: Order, restock: boolean): void {
  const at = state.now();
  const tx = o.transactions ?? [];
  const refunds: Transaction[] = [];
  for (const sale of tx.filter((t) => t.kind === 'SALE')) {
    const left = sale.amountCents - tx.filter((t) => t.kind === 'REFUND' && t.parentId === sale.id).reduce((n, t) => n + t.amountCents, 0);
    if (left > 0) refunds.push({ id: state.nextId(), kind: 'REFUND', status: 'SUCCESS', gateway: sale.gateway, amountCents: left, parentId: sale.id, createdAt: at });
  }
  if (refunds.length === 0) return;
  const lines = o.lines
    .map((l) => ({ l, open: Math.max(0, l.currentQuantity - state.fulfilledQuantity(o, l.id)) }))
    .filter((x) => x.open > 0)
    .map(({ l, open }) => ({ id: state.nextId(), lineItemId: l.id, quantity: open, restockType: restock ? ('CANCEL' as const) : ('NO_RESTOCK' as const), subtotalCents: l.unitCents * open }));
  // The refunded units leave their lines and fulfillment orders as any refund's do: the capture's
  // fulfillment order reads CLOSED with 0 of 0 units after the cancel, not CANCELLED.
  for (const rl of lines) refundLine(state, o, rl);
  (o.transactions ??= []).push(...refunds);
  (o.refunds ??= []).push({ id: state.nextId(), createdAt: at, note: null, shippingCents: o.shippingCents, transactionIds: refunds.map((t) => t.id), lines });
  o.financialStatus = 'REFUNDED';
}

interface RefundInput {
  orderId: string;
  note?: string | null;
  notify?: boolean | null;
  shipping?: { amount?: string | null; fullRefund?: boolean | null } | null;
  refundLineItems?: Array<{ lineItemId: string; quantity: number; restockType?: Refund['lines'][number]['restockType'] | null }> | null;
  transactions?: Array<{ amount: string; gateway: string; kind: string; orderId: string; parentId?: string | null }> | null;
  allowOverRefunding?: boolean | null;
}

/** "$25.00": how the captures write money in refund errors (the capture shop's currency is CAD, still "$"). */
function dollars(cents: number): string {
  return `$${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** A refused refund still answers the order as it is (null only when it does not exist). */
function refusal(errors: UserError[], state?: ShopState, o?: Order) {
  return { refund: null, order: state && o ? orderView(state, o) : null, userErrors: errors };
}

/** Sales minus refunds: what the customer paid and was not given back. */
export function netPaymentCents(o: Order): number {
  const tx = o.transactions ?? [];
  return tx.reduce((n, t) => n + (t.kind === 'SALE' ? t.amountCents : -t.amountCents), 0);
}

/** https://shopify.dev/docs/api/admin-graphql/latest/mutations/refundCreate */
export function refundCreate(args: { input: RefundInput }, ctx: Ctx) {
  const input = args.input;
  const state = ctx.state;
  const o = state.orders.get(parseGid(input.orderId, 'Order') ?? -1);
  if (!o) return refusal([{ field: ['orderId'], message: 'Order does not exist' }]);

  const items = input.refundLineItems ?? [];
  for (const [i, item] of items.entries()) {
    const line = o.lines.find((l) => l.id === parseGid(item.lineItemId, 'LineItem'));
    if (!line || item.quantity > line.currentQuantity) {
      return refusal([{ field: ['refundLineItems', String(i), 'quantity'], message: 'Quantity cannot refund more items than were purchased' }], state, o);
    }
  }
  const transactions = input.transactions ?? [];
  for (const t of transactions) {
    if (t.kind !== 'REFUND') return refusal([{ field: null, message: `Kind ${t.kind.toLowerCase()} is not a valid transaction` }], state, o);
    const parent = (o.transactions ?? []).find((x) => x.id === parseGid(t.parentId, 'OrderTransaction') && x.kind === 'SALE');
    if (!parent) return refusal([{ field: ['transactions'], message: 'Transactions require a parent_id associated with the order' }], state, o);
  }
  const refundCents = transactions.reduce((n, t) => n + toCents(t.amount), 0);
  const net = netPaymentCents(o);
  // Recorded with and without allowOverRefunding: the store refused both.
  if (refundCents > net) return refusal([{ field: null, message: `Refund amount ${dollars(refundCents)} is greater than net payment received ${dollars(net)}` }], state, o);

  const at = state.now();
  // The refund goes back through its parent's gateway, whatever `gateway` said (the mismatchedGateway case).
  const refunded: Transaction[] = transactions.map((t) => {
    const parent = (o.transactions ?? []).find((x) => x.id === parseGid(t.parentId, 'OrderTransaction'))!;
    return { id: state.nextId(), kind: 'REFUND', status: 'SUCCESS', gateway: parent.gateway, amountCents: toCents(t.amount), parentId: parent.id, createdAt: at };
  });
  const shippingCents = input.shipping?.fullRefund ? o.shippingCents : toCents(input.shipping?.amount ?? 0);
  const whole = refundsWholeOrder(o, items, Boolean(input.shipping?.fullRefund));
  const refund: Refund = {
    id: state.nextId(), createdAt: at, note: input.note ?? null, shippingCents, transactionIds: refunded.map((t) => t.id),
    lines: items.map((item) => {
      const line = o.lines.find((l) => l.id === parseGid(item.lineItemId, 'LineItem'))!;
      const restockType = item.restockType ?? 'NO_RESTOCK';
      return { id: state.nextId(), lineItemId: line.id, quantity: item.quantity, restockType, subtotalCents: whole && restockType === 'NO_RESTOCK' ? 0 : line.unitCents * item.quantity };
    }),
  };
  for (const rl of refund.lines) refundLine(state, o, rl);
  (o.transactions ??= []).push(...refunded);
  (o.refunds ??= []).push(refund);
  if (refundCents > 0) o.financialStatus = netPaymentCents(o) <= 0 ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
  state.touch(o);
  return { refund: refundView(state, o, refund), order: orderView(state, o), userErrors: [] };
}

/**
 * Whether a refund gives back all of what is left of an order: every unit of
 * every line and all of the shipping.
 *
 * A refund line's `subtotalSet` is the line's price x quantity, except that
 * Shopify answered 0.0 for a NO_RESTOCK line of such a refund
 * (`2025-01_orders_refund-create-full-parity.json`: 1 x 10.00 NO_RESTOCK,
 * `shipping.fullRefund`, the whole order; 15.00 back). The evidence fixes no
 * more than that conjunction: the same money with RETURN, 1 of 2 units and a
 * shipping amount answered 10.0 (`refund-create-partial-shipping-restock-parity`),
 * and Shopify's REST reference shows a no_restock line of a partial refund with
 * its subtotal (https://shopify.dev/docs/api/admin-rest/2024-10/resources/refund),
 * so neither NO_RESTOCK alone nor an unfulfilled line makes it 0. Either way
 * `subtotalSet` is not the money refunded for the line (a refund of 0.00 that
 * restocks still shows the full price: community.shopify.dev/t/25825), which is
 * why the connector does not read the line's money from it (mapping.ts).
 */
function refundsWholeOrder(o: Order, items: ReadonlyArray<{ lineItemId: string; quantity: number }>, fullShipping: boolean): boolean {
  if (!fullShipping) return false;
  return o.lines.every((l) => {
    const taken = items.filter((i) => parseGid(i.lineItemId, 'LineItem') === l.id).reduce((n, i) => n + i.quantity, 0);
    return l.currentQuantity - taken <= 0;
  });
}

/**
 * Refunded units leave the line (`currentQuantity`); unfulfilled ones leave
 * its fulfillment order too. CANCEL/RETURN/LEGACY_RESTOCK put them back in
 * stock: committed units released, shipped ones back on hand.
 */
function refundLine(state: ShopState, o: Order, rl: Refund['lines'][number]): void {
  const line = o.lines.find((l) => l.id === rl.lineItemId)!;
  const unfulfilled = Math.max(0, line.currentQuantity - state.fulfilledQuantity(o, line.id));
  let fromOpen = Math.min(rl.quantity, unfulfilled);
  const openTaken = fromOpen;
  for (const foId of o.fulfillmentOrderIds) {
    const fo = state.fulfillmentOrders.get(foId);
    for (const fl of fo?.lines ?? []) {
      if (fl.lineItemId !== line.id || fromOpen === 0) continue;
      const take = Math.min(fl.remaining, fromOpen);
      fl.remaining -= take;
      fl.total -= take;
      fromOpen -= take;
    }
    if (fo && fo.lines.every((l) => l.remaining === 0) && (fo.status === 'OPEN' || fo.status === 'IN_PROGRESS')) fo.status = 'CLOSED';
  }
  line.currentQuantity -= rl.quantity;
  if (rl.restockType !== 'NO_RESTOCK' && line.variantId !== null) {
    const itemId = state.variants.get(line.variantId)?.inventoryItemId;
    // Released from the order's commitment, then the shipped units back on hand.
    state.adjustAvailable(itemId, openTaken);
    const shipped = rl.quantity - openTaken;
    if (shipped > 0) state.adjustAvailable(itemId, shipped);
  }
}

export function refundView(state: ShopState, o: Order, r: Refund) {
  const bag = (cents: number) => moneyBag(cents, o.currency);
  const tx = (o.transactions ?? []).filter((t) => r.transactionIds.includes(t.id));
  const total = tx.reduce((n, t) => n + t.amountCents, 0);
  return {
    __typename: 'Refund',
    id: gid('Refund', r.id),
    legacyResourceId: String(r.id),
    createdAt: isoSeconds(r.createdAt),
    processedAt: isoSeconds(r.createdAt),
    updatedAt: isoSeconds(r.createdAt),
    note: r.note,
    totalRefundedSet: bag(total),
    refundLineItems: (args: ConnectionArgs) =>
      connection(r.lines, args, (l) => {
        const line = o.lines.find((x) => x.id === l.lineItemId)!;
        return {
          id: gid('RefundLineItem', l.id),
          quantity: l.quantity,
          restockType: l.restockType,
          restocked: l.restockType !== 'NO_RESTOCK',
          priceSet: bag(line.unitCents),
          subtotalSet: bag(l.subtotalCents),
          totalTaxSet: bag(0),
          lineItem: lineItemView(state, o, line),
        };
      }),
    refundShippingLines: (args: ConnectionArgs) =>
      connection(r.shippingCents ? [{ id: r.id }] : [], args, () => ({ id: gid('RefundShippingLine', r.id), subtotalAmountSet: bag(r.shippingCents), taxAmountSet: bag(0) })),
    transactions: (args: ConnectionArgs) => connection(tx, args, (t) => transactionView(o, t)),
  };
}

export function transactionView(o: Order, t: Transaction) {
  return {
    __typename: 'OrderTransaction',
    id: gid('OrderTransaction', t.id),
    kind: t.kind,
    status: t.status,
    gateway: t.gateway,
    createdAt: isoSeconds(t.createdAt),
    processedAt: isoSeconds(t.createdAt),
    amountSet: moneyBag(t.amountCents, o.currency),
    get parentTransaction() {
      const p = t.parentId === null ? undefined : (o.transactions ?? []).find((x) => x.id === t.parentId);
      return p ? transactionView(o, p) : null;
    },
  };
}
