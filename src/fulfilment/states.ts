/**
 * The order and fulfilment state machines: explicit transitions maps and the
 * guards that refuse anything else. Pure; `transitions.ts` applies them to
 * rows and records every move in `order_history`.
 *
 * An order's state is derived from its fulfilments (`deriveOrderState`), so
 * the two machines cannot drift apart: a fulfilment moves, then its order
 * follows.
 */
import type { FulfillmentState, OrderState } from '../db/schema.ts';
import { IllegalTransitionError } from '../domain/errors.ts';

/** Where an order may go from each state. `needs_attention` is a person's queue: it can resolve to anything but received. */
export const ORDER_TRANSITIONS: Readonly<Record<OrderState, readonly OrderState[]>> = {
  received: ['allocated', 'backordered', 'on_hold', 'cancelled', 'needs_attention'],
  allocated: ['backordered', 'partially_shipped', 'shipped', 'on_hold', 'cancelled', 'needs_attention'],
  backordered: ['allocated', 'partially_shipped', 'on_hold', 'cancelled', 'needs_attention'],
  partially_shipped: ['shipped', 'on_hold', 'needs_attention'],
  // Lines added on the channel after everything shipped reopen the order.
  shipped: ['delivered', 'partially_shipped', 'needs_attention'],
  delivered: ['partially_shipped', 'needs_attention'],
  on_hold: ['received', 'allocated', 'backordered', 'partially_shipped', 'cancelled', 'needs_attention'],
  cancelled: [],
  needs_attention: ['allocated', 'backordered', 'partially_shipped', 'shipped', 'delivered', 'on_hold', 'cancelled'],
};

/** Where a fulfilment may go. Creation (`null ->`) is allocated or backordered. */
export const FULFILMENT_TRANSITIONS: Readonly<Record<FulfillmentState, readonly FulfillmentState[]>> = {
  backordered: ['allocated', 'cancelled'],
  // allocated -> shipped only for dropship (the supplier ships; see `fulfilmentGuard`).
  allocated: ['picking', 'shipped', 'on_hold', 'cancelled'],
  picking: ['packed', 'allocated', 'on_hold', 'cancelled'],
  packed: ['shipped', 'picking', 'on_hold', 'cancelled'],
  shipped: ['delivered'],
  delivered: [],
  // A held fulfilment keeps its reservation.
  on_hold: ['allocated', 'cancelled'],
  cancelled: [],
};

/** Fulfilment states that hold reserved stock (warehouse fulfilments). */
export const RESERVING_STATES: readonly FulfillmentState[] = ['allocated', 'picking', 'packed', 'on_hold'];
/** States that count as "left the building". */
export const SHIPPED_STATES: readonly FulfillmentState[] = ['shipped', 'delivered'];
/** States that still promise units to a line (not shipped, not cancelled). */
export const OPEN_STATES: readonly FulfillmentState[] = ['backordered', 'allocated', 'picking', 'packed', 'on_hold'];

export function assertOrderTransition(from: OrderState, to: OrderState, what = 'order'): void {
  if (!ORDER_TRANSITIONS[from].includes(to)) {
    throw new IllegalTransitionError(`${what} cannot go from ${from} to ${to} (allowed from ${from}: ${list(ORDER_TRANSITIONS[from])})`);
  }
}

export type FulfilmentKind = 'warehouse' | 'dropship';

export function assertFulfilmentTransition(from: FulfillmentState, to: FulfillmentState, kind: FulfilmentKind, what = 'fulfilment'): void {
  if (!FULFILMENT_TRANSITIONS[from].includes(to)) {
    throw new IllegalTransitionError(
      `${what} cannot go from ${from} to ${to} (allowed from ${from}: ${list(FULFILMENT_TRANSITIONS[from])})`,
    );
  }
  const refusal = fulfilmentGuard(from, to, kind);
  if (refusal) throw new IllegalTransitionError(`${what} cannot go from ${from} to ${to}: ${refusal}`);
}

/** Guards beyond the map: what a move needs besides being listed. Returns why not, or null. */
function fulfilmentGuard(from: FulfillmentState, to: FulfillmentState, kind: FulfilmentKind): string | null {
  if (kind === 'warehouse' && from === 'allocated' && to === 'shipped') return 'a warehouse fulfilment is picked and packed first';
  if (kind === 'dropship' && (to === 'picking' || to === 'packed')) return 'the supplier picks and packs a dropship fulfilment';
  return null;
}

/**
 * What an order's state should be, given its live (not cancelled) fulfilments
 * and whether units are still unassigned to any of them.
 */
export function deriveOrderState(fulfilments: readonly FulfillmentState[], unassigned: boolean): OrderState | null {
  const live = fulfilments.filter((s) => s !== 'cancelled');
  if (live.length === 0) return null;
  const shipped = live.filter((s) => SHIPPED_STATES.includes(s)).length;
  if (shipped === live.length && !unassigned) return live.every((s) => s === 'delivered') ? 'delivered' : 'shipped';
  if (shipped > 0) return 'partially_shipped';
  if (live.includes('backordered')) return 'backordered';
  return 'allocated';
}

function list(states: readonly string[]): string {
  return states.length ? states.join(', ') : 'nothing, it is final';
}
