/**
 * Allocation: bring an order's fulfilments in line with the order as the
 * channel shows it now. One idempotent function serves every case, so the
 * job (`allocate.<orderId>`) can run any number of times:
 * - a payable order gets stock reserved (one location if one can ship it all,
 *   else a split), backorders for what is missing and dropship purchase orders;
 * - an order cancelled on its channel releases its reservations and stops, or,
 *   when something already shipped, goes to a person (`needs_attention`);
 * - an order whose lines changed is re-allocated.
 *
 * Concurrency: the order row is locked first, then stock level rows in (SKU,
 * location) order (`lockAvailable`), then purchase orders: the same order in
 * every transaction, so concurrent orders queue on the rows they share and
 * never reserve the same unit.
 *
 * Every order of a SKU queues on its level row, across all daemons, for as
 * long as the transaction that locked it lives: locked first, the row was
 * held through ~10 round trips (the fulfilment, its lines, history, the
 * order's state), and with 2 or 4 daemons on one best-selling SKU the fleet
 * was slower than one daemon (`npm run bench -- scale-out`: most backends
 * waiting on `Lock:tuple`). So a plain allocation plans from an unlocked
 * read, writes the fulfilment and the order's state, and locks the levels
 * last: it plans again from the locked levels and books only if that plan is
 * the same (then the result is what locking first would have given); if the
 * stock moved meanwhile, the whole transaction is rolled back and run again
 * the old way, levels locked first. Backorders and dropship lines (which
 * lock purchase orders, after the levels) always take the old way.
 */
import { sql } from 'kysely';
import type { App } from '../app.ts';
import type { FulfillmentState } from '../db/schema.ts';
import { ConfigError } from '../domain/errors.ts';
import { kickStockPushes, oweStockPushes } from '../outbox/index.ts';
import { book, defaultLocation, lineCoverage, lockAvailable, orderCoverage, readAvailable, type Booking, type LineCoverage } from './ledger.ts';
import { channelHoldsStock, paymentView, payableStatuses } from './payable.ts';
import { planAllocation, type Need } from './plan.ts';
import { addDropshipOrder, addToDraftPurchaseOrder } from './purchasing.ts';
import { enqueueStep, type StepOptions } from './steps.ts';
import { deriveOrderState, RESERVING_STATES, SHIPPED_STATES } from './states.ts';
import {
  flagOrder,
  inTransaction,
  lockOrder,
  moveFulfilment,
  moveOrder,
  orderFulfilments,
  recordCreated,
  type By,
  type FulfilmentRow,
  type LockedOrder,
  type Trx,
} from './transitions.ts';

export type AllocateOutcome =
  | 'allocated'
  | 'backordered'
  | 'partially_shipped'
  | 'nothing to do'
  | 'waiting for payment'
  | 'reserved, waiting for payment'
  | 'on hold'
  | 'cancelled'
  | 'needs attention';

export interface AllocateResult {
  outcome: AllocateOutcome;
  /** Warehouse fulfilments that became ready to pick. */
  ready: number[];
  /** SKUs whose reservations changed (channels are told). */
  stockChanged: number[];
}

/** Reconciles one order's fulfilments with the order (see the module comment), then tells channels and starts auto steps. */
export async function allocateOrder(app: App, orderId: number, by: By = { actor: 'system' }, options: StepOptions = {}): Promise<AllocateResult> {
  const run = (lockLevelsLast: boolean) =>
    inTransaction(app.db, async (trx) => {
      const order = await lockOrder(trx, orderId);
      return reconcileLocked(trx, app.config.allocateWhen, order, by, lockLevelsLast);
    });
  const result = await run(true).catch((err: unknown) => {
    if (err instanceof StockMovedWhilePlanning) return run(false);
    throw err;
  });
  await afterCommit(app, result, options);
  return result;
}

/** The levels changed between an allocation's unlocked plan and its check under the lock: run it again, locking first. */
class StockMovedWhilePlanning extends Error {}

/**
 * What every fulfilment change does once committed: kick the stock pushes its
 * movements owed (the rows committed with them) and start the next automatic
 * step. Losing this (a crash right after the commit) only delays both: the
 * sweeper finds the pending pushes and the unstarted steps.
 */
export async function afterCommit(app: App, result: { ready: number[]; stockChanged: number[] }, options: StepOptions = {}): Promise<void> {
  await kickStockPushes(app, result.stockChanged);
  if (app.config.fulfilmentMode === 'auto' && options.enqueueNext !== false) for (const id of result.ready) await enqueueStep(app, 'pick', id);
}

async function reconcileLocked(trx: Trx, payable: readonly string[], order: LockedOrder, by: By, lockLevelsLast = false): Promise<AllocateResult> {
  const none: AllocateResult = { outcome: 'nothing to do', ready: [], stockChanged: [] };
  if (order.state === 'cancelled') return none;
  const coverage = await orderCoverage(trx, order.id);
  let fulfilments = coverage.fulfilments ?? (await orderFulfilments(trx, order.id));

  if (order.channel_state === 'cancelled') return cancelLocked(trx, order, fulfilments, by);
  // A person owns the order until they move it out of needs_attention.
  if (order.state === 'needs_attention') return none;

  let lines = coverage.lines.filter((l) => l.quantity > 0 || l.open > 0 || l.shipped > 0);
  const stockChanged = new Set<number>();

  // Fewer units wanted than promised (an edit on the channel): start over from what has shipped.
  if (lines.some((l) => l.remaining < 0 && l.open > 0)) {
    for (const sku of await releaseOpen(trx, order, fulfilments, { ...by, reason: 'order lines changed on the channel: re-allocating' })) {
      stockChanged.add(sku);
    }
    fulfilments = await orderFulfilments(trx, order.id);
    lines = await lineCoverage(trx, order.id);
  }
  const overShipped = lines.filter((l) => l.remaining < 0);
  if (overShipped.length) {
    await flagOrder(trx, order.id, 'edited_after_shipping');
    await moveOrder(trx, order, 'needs_attention', {
      ...by,
      reason: overShipped.map((l) => `${l.title}: ${l.shipped} shipped, the channel now asks for ${l.quantity}`).join('; '),
    });
    return { outcome: 'needs attention', ready: [], stockChanged: [...stockChanged] };
  }

  const owed = lines.filter((l) => l.remaining > 0);
  const started = fulfilments.some((f) => f.state !== 'cancelled');
  // The locked row's payment status is current; the channel's kind and fulfilment status only matter when it is not payable.
  const isPayable = payableStatuses(payable).includes(order.financial_status);
  if (owed.length === 0) {
    await settleOrderState(trx, order, by);
    // Everything was reserved while the order waited for payment: now it may be picked.
    return { ...none, ready: isPayable ? heldForPayment(fulfilments) : [], stockChanged: [...stockChanged] };
  }
  // Allocation starts when the order is open and payable; once started, added lines follow without asking again.
  // (A closed order seen for the first time is history, e.g. an archived order on the first import: never started.)
  if (!started && order.channel_state !== 'open') return { ...none, stockChanged: [...stockChanged] };
  // Not payable but held by the channel (WooCommerce on-hold, any Shopify order): reserve, do not ship.
  const reserveOnly = !isPayable && order.channel_state === 'open' && channelHoldsStock(await paymentView(trx, order.id));
  if (!started && !isPayable && !reserveOnly) {
    return { outcome: 'waiting for payment', ready: [], stockChanged: [...stockChanged] };
  }
  const unknown = owed.filter((l) => l.skuId === null);
  if (unknown.length) {
    await moveOrder(trx, order, 'on_hold', {
      ...by,
      reason: `no known SKU for ${unknown.map((l) => `"${l.title}" (${l.sku ?? 'no SKU'})`).join(', ')}: add the SKU, then edit or re-sync the order`,
    });
    return { outcome: 'on hold', ready: [], stockChanged: [...stockChanged] };
  }

  const created = await allocateLines(trx, order, owed, by, reserveOnly, lockLevelsLast);
  for (const sku of created.stockChanged) stockChanged.add(sku);
  const state = await settleOrderState(trx, order, by);
  // The level rows last, two statements before the commit (see the module comment).
  await created.bookStock();
  if (reserveOnly) return { outcome: 'reserved, waiting for payment', ready: [], stockChanged: [...stockChanged] };
  return {
    outcome: state === 'backordered' ? 'backordered' : state === 'partially_shipped' ? 'partially_shipped' : 'allocated',
    ready: [...heldForPayment(fulfilments), ...created.ready],
    stockChanged: [...stockChanged],
  };
}

/** Warehouse fulfilments reserved earlier and not yet picked: ready once the order is payable. */
function heldForPayment(fulfilments: FulfilmentRow[]): number[] {
  return fulfilments.filter((f) => f.kind === 'warehouse' && f.state === 'allocated').map((f) => f.id);
}

/**
 * Reserves what the locations have, backorders the rest, and sends dropship
 * lines to their supplier. `reserveOnly` (held by the channel, not paid):
 * reserve what is on the shelf and nothing else, since a backorder or a
 * dropship purchase order spends money before the customer has; the rest
 * stays owed and is allocated once the order is paid.
 */
async function allocateLines(
  trx: Trx,
  order: LockedOrder,
  owed: LineCoverage[],
  by: By,
  reserveOnly = false,
  lockLevelsLast = false,
): Promise<{ ready: number[]; stockChanged: number[]; bookStock(): Promise<void> }> {
  const reference = `order:${order.id}`;
  const ready: number[] = [];
  const bookings: Booking[] = [];

  const dropship = reserveOnly ? [] : owed.filter((l) => l.dropship);
  const bySupplier = new Map<number | null, LineCoverage[]>();
  for (const l of dropship) bySupplier.set(l.supplierId, [...(bySupplier.get(l.supplierId) ?? []), l]);
  for (const [supplierId, supplierLines] of bySupplier) {
    const lines = supplierLines.map((l) => ({ lineId: l.lineId, skuId: l.skuId!, quantity: l.remaining }));
    const poId = await addDropshipOrder(trx, supplierId, lines);
    await createFulfilment(trx, order, { kind: 'dropship', state: 'allocated', locationId: null, purchaseOrderId: poId, lines }, {
      ...by,
      reason: `dropship: purchase order ${poId} sent to ${supplierId === null ? 'no supplier (assign one)' : `supplier ${supplierId}`}`,
    });
  }

  const needs: Need[] = owed.filter((l) => !l.dropship).map((l) => ({ lineId: l.lineId, skuId: l.skuId!, quantity: l.remaining }));
  const booked = async () => {};
  if (needs.length === 0) return { ready, stockChanged: [], bookStock: booked };
  const skuIds = needs.map((n) => n.skuId);
  const planFrom = (levels: Awaited<ReturnType<typeof readAvailable>>) => {
    const byLocation = new Map<number, { locationId: number; priority: number; available: Map<number, number> }>();
    for (const l of levels) {
      const entry = byLocation.get(l.locationId) ?? { locationId: l.locationId, priority: l.priority, available: new Map() };
      entry.available.set(l.skuId, l.available);
      byLocation.set(l.locationId, entry);
    }
    return planAllocation(needs, [...byLocation.values()]);
  };
  let late = lockLevelsLast && dropship.length === 0;
  let plan = planFrom(await (late ? readAvailable(trx, skuIds) : lockAvailable(trx, skuIds)));
  if (late && plan.backordered.length && !reserveOnly) {
    // A backorder locks a purchase order, which comes after the levels: lock them now, as before.
    late = false;
    plan = planFrom(await lockAvailable(trx, skuIds));
  }
  const split = plan.allocations.length + (plan.backordered.length && !reserveOnly ? 1 : 0) > 1;
  for (const group of plan.allocations) {
    const f = await createFulfilment(trx, order, { kind: 'warehouse', state: 'allocated', locationId: group.locationId, purchaseOrderId: null, lines: group.lines }, {
      ...by,
      reason: split ? `split: ${group.lines.length} line(s) from location ${group.locationId}` : `reserved at location ${group.locationId}`,
    });
    ready.push(f.id);
    for (const line of group.lines) {
      bookings.push({ skuId: line.skuId, locationId: group.locationId, quantity: line.quantity, reason: 'reservation', reference, note: `fulfilment ${f.id}`, actor: by.actor });
    }
  }
  const stockChanged = [...new Set(bookings.map((b) => b.skuId))];
  if (late) {
    const planned = JSON.stringify(plan);
    return {
      ready,
      stockChanged,
      async bookStock() {
        if (JSON.stringify(planFrom(await lockAvailable(trx, skuIds))) !== planned) throw new StockMovedWhilePlanning();
        await book(trx, bookings);
      },
    };
  }
  await book(trx, bookings);

  if (plan.backordered.length && !reserveOnly) {
    const locationId = await defaultLocation(trx);
    if (locationId === null) throw new ConfigError('no active location to backorder into: add a location first');
    await createFulfilment(trx, order, { kind: 'warehouse', state: 'backordered', locationId, purchaseOrderId: null, lines: plan.backordered }, {
      ...by,
      reason: `not enough stock: ${plan.backordered.map((n) => `${n.quantity} x SKU ${n.skuId}`).join(', ')} backordered`,
    });
    for (const n of plan.backordered) await addToDraftPurchaseOrder(trx, n.skuId, locationId, n.quantity);
  }
  return { ready, stockChanged, bookStock: booked };
}

export interface NewFulfilment {
  kind: 'warehouse' | 'dropship';
  state: FulfillmentState;
  locationId: number | null;
  purchaseOrderId: number | null;
  lines: Need[];
}

/** Creates a fulfilment with its lines (a line listed twice is merged) and records its creation. */
export async function createFulfilment(trx: Trx, order: { id: number }, input: NewFulfilment, by: By): Promise<FulfilmentRow> {
  const f = await trx
    .insertInto('fulfillments')
    .values({ order_id: order.id, location_id: input.locationId, kind: input.kind, state: input.state, purchase_order_id: input.purchaseOrderId })
    .returning(['id', 'order_id', 'location_id', 'kind', 'state', 'purchase_order_id'])
    .executeTakeFirstOrThrow();
  const merged = new Map<number, number>();
  for (const l of input.lines) merged.set(l.lineId, (merged.get(l.lineId) ?? 0) + l.quantity);
  await trx
    .insertInto('fulfillment_lines')
    .values([...merged].map(([lineId, quantity]) => ({ fulfillment_id: f.id, order_line_id: lineId, quantity })))
    .execute();
  await recordCreated(trx, f, by);
  return f;
}

/** Cancels every fulfilment that has not shipped, releasing its reservations. Returns the SKUs released. */
export async function releaseOpen(trx: Trx, order: LockedOrder, fulfilments: FulfilmentRow[], by: By): Promise<number[]> {
  const bookings: Booking[] = [];
  for (const f of fulfilments) {
    if (f.state === 'cancelled' || SHIPPED_STATES.includes(f.state)) continue;
    if (f.kind === 'warehouse' && f.location_id !== null && RESERVING_STATES.includes(f.state)) {
      const lines = await fulfilmentSkus(trx, f.id);
      for (const l of lines) {
        bookings.push({ skuId: l.skuId, locationId: f.location_id, quantity: l.quantity, reason: 'release', reference: `order:${order.id}`, note: `fulfilment ${f.id}`, actor: by.actor });
      }
    }
    if (f.kind === 'dropship' && f.purchase_order_id !== null) {
      // The supplier must hear about it: the purchase order shows cancelled and the order is flagged.
      await trx.updateTable('purchase_orders').set({ status: 'cancelled', updated_at: sql`now()` }).where('id', '=', f.purchase_order_id).where('status', 'in', ['draft', 'sent']).execute();
      await flagOrder(trx, order.id, 'tell_dropship_supplier');
    }
    const reason = f.state === 'picking' || f.state === 'packed' ? `${by.reason ?? 'cancelled'} (goods were ${f.state}: put them back)` : by.reason;
    await moveFulfilment(trx, f, 'cancelled', { ...by, reason });
  }
  await book(trx, bookings);
  return [...new Set(bookings.map((b) => b.skuId))];
}

async function cancelLocked(trx: Trx, order: LockedOrder, fulfilments: FulfilmentRow[], by: By): Promise<AllocateResult> {
  const released = await releaseOpen(trx, order, fulfilments, { ...by, reason: 'order cancelled on the channel' });
  // A store restocks a cancelled order's units by itself (WooCommerce's cancellation restock), on top of
  // whatever channelsync last pushed: when a push since the sale already set the store to the ledger's
  // number, that restock leaves it showing more than the ledger, with nothing owed (found by the chaos
  // run, seed 22). So a cancellation re-asserts the ledger's number for the order's SKUs everywhere.
  const lines = await trx.selectFrom('order_lines').select('sku_id').where('order_id', '=', order.id).where('sku_id', 'is not', null).execute();
  const skuIds = [...new Set(lines.map((l) => l.sku_id!))];
  await oweStockPushes(trx, skuIds);
  for (const sku of skuIds) if (!released.includes(sku)) released.push(sku);
  const shipped = fulfilments.filter((f) => SHIPPED_STATES.includes(f.state));
  if (shipped.length) {
    await flagOrder(trx, order.id, 'cancelled_after_shipping');
    await moveOrder(trx, order, 'needs_attention', {
      ...by,
      reason: `order cancelled on the channel after ${shipped.length} shipment(s) left: arrange a return or refund`,
    });
    return { outcome: 'needs attention', ready: [], stockChanged: released };
  }
  await moveOrder(trx, order, 'cancelled', { ...by, reason: 'order cancelled on the channel' });
  return { outcome: 'cancelled', ready: [], stockChanged: released };
}

/** Moves the order to the state its fulfilments imply. */
export async function settleOrderState(trx: Trx, order: LockedOrder, by: By): Promise<LockedOrder['state']> {
  if (order.state === 'needs_attention' || order.state === 'cancelled') return order.state;
  const { lines, fulfilments } = await orderCoverage(trx, order.id);
  const next = deriveOrderState(
    (fulfilments ?? (await orderFulfilments(trx, order.id))).map((f) => f.state),
    lines.some((l) => l.remaining > 0),
  );
  if (next) await moveOrder(trx, order, next, by);
  return order.state;
}

export async function fulfilmentSkus(trx: Trx, fulfilmentId: number): Promise<Array<{ lineId: number; skuId: number; quantity: number }>> {
  const rows = await trx
    .selectFrom('fulfillment_lines')
    .innerJoin('order_lines', 'order_lines.id', 'fulfillment_lines.order_line_id')
    .select(['order_lines.id as lineId', 'order_lines.sku_id as skuId', 'fulfillment_lines.quantity'])
    .where('fulfillment_lines.fulfillment_id', '=', fulfilmentId)
    .orderBy('order_lines.id')
    .execute();
  return rows.filter((r): r is { lineId: number; skuId: number; quantity: number } => r.skuId !== null);
}
