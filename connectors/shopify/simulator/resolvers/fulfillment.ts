/**
 * Fulfilment: `fulfillmentOrder`, `fulfillment`, `fulfillmentOrders`,
 * `manualHoldsFulfillmentOrders` and `fulfillmentCreate`, with the
 * userErrors the real API returns (wording and order of checks from the
 * 2026-04 captures).
 */
import { parseGid } from '../ids.ts';
import type { Fulfillment, FulfillmentOrder } from '../state.ts';
import { compare, compareTime, matches, parseSearch, type FieldMatcher } from '../search.ts';
import { sortedConnection, type ConnectionArgs, type Ctx, type UserError } from './context.ts';
import { fulfillmentEventView, fulfillmentOrderView, fulfillmentView } from './views.ts';

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/fulfillmentOrder */
export function fulfillmentOrder(args: { id: string }, ctx: Ctx) {
  const fo = ctx.state.fulfillmentOrders.get(parseGid(args.id, 'FulfillmentOrder') ?? -1);
  return fo ? fulfillmentOrderView(ctx.state, fo) : null;
}

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/fulfillment */
export function fulfillment(args: { id: string }, ctx: Ctx) {
  const f = ctx.state.fulfillments.get(parseGid(args.id, 'Fulfillment') ?? -1);
  return f ? fulfillmentView(ctx.state, f) : null;
}

type FulfillmentOrderSortKey = 'ID' | 'UPDATED_AT';

const foSortValue: Record<FulfillmentOrderSortKey, (fo: FulfillmentOrder) => number> = {
  ID: (fo) => fo.id,
  UPDATED_AT: (fo) => fo.updatedAt,
};

/** What `includeClosed: false` leaves out: fulfillment orders whose work is over. */
const CLOSED_STATUSES = new Set(['CLOSED', 'CANCELLED', 'INCOMPLETE']);

/** The number of an id term's value, which may be a bare number or a gid. */
const idValue = (v: string) => Number(/(\d+)$/.exec(v)?.[1] ?? NaN);

/**
 * Search fields of `fulfillmentOrders(query:)`; `default` (free text) is not
 * simulated and, like any unknown field, filters nothing.
 * https://shopify.dev/docs/api/admin-graphql/latest/queries/fulfillmentOrders#arguments-query
 */
const fulfillmentOrderFilters: Record<string, FieldMatcher<FulfillmentOrder>> = {
  status: (fo, t) => fo.status.toLowerCase() === t.value.toLowerCase(),
  id: (fo, t) => compare(fo.id, idValue(t.value), t.op),
  assigned_location_id: (fo, t) => compare(fo.locationId, idValue(t.value), t.op),
  updated_at: (fo, t) => compareTime(fo.updatedAt, t),
};

/**
 * https://shopify.dev/docs/api/admin-graphql/latest/queries/fulfillmentOrders
 * `includeClosed` (default false) sets the scope and `query` narrows it: no
 * capture shows `status:closed` without `includeClosed`, so a closed status
 * term finds nothing then, as any filter over the open scope would.
 * Sorted by `sortKey` (default ID) then id; the cursor's `last_value` is
 * the id as a string for ID, like Shopify's.
 */
export function fulfillmentOrders(
  args: ConnectionArgs & { includeClosed?: boolean | null; sortKey?: FulfillmentOrderSortKey | null; query?: string | null },
  ctx: Ctx,
) {
  const q = parseSearch(args.query);
  const list = [...ctx.state.fulfillmentOrders.values()].filter(
    (fo) => (args.includeClosed || !CLOSED_STATUSES.has(fo.status)) && matches(fo, q, fulfillmentOrderFilters),
  );
  const key: FulfillmentOrderSortKey = args.sortKey === 'UPDATED_AT' ? 'UPDATED_AT' : 'ID';
  const cursorValue = key === 'ID' ? (fo: FulfillmentOrder) => String(fo.id) : foSortValue.UPDATED_AT;
  return sortedConnection(list, args, (fo) => fulfillmentOrderView(ctx.state, fo), foSortValue[key], cursorValue);
}

/**
 * https://shopify.dev/docs/api/admin-graphql/latest/queries/manualHoldsFulfillmentOrders
 * Fulfillment orders on a manual hold, by id. The simulator places no holds
 * (fulfillmentOrderHold is not simulated), so this lists any ON_HOLD ones;
 * of the order filters only `order_financial_status` is simulated.
 */
export function manualHoldsFulfillmentOrders(args: ConnectionArgs & { query?: string | null }, ctx: Ctx) {
  const q = parseSearch(args.query);
  const filters: Record<string, FieldMatcher<FulfillmentOrder>> = {
    order_financial_status: (fo, t) => ctx.state.orders.get(fo.orderId)?.financialStatus?.toLowerCase() === t.value.toLowerCase(),
  };
  const list = [...ctx.state.fulfillmentOrders.values()].filter((fo) => fo.status === 'ON_HOLD' && matches(fo, q, filters));
  return sortedConnection(list, args, (fo) => fulfillmentOrderView(ctx.state, fo), foSortValue.ID, (fo) => String(fo.id));
}

interface FulfillmentInput {
  notifyCustomer?: boolean | null;
  trackingInfo?: { company?: string | null; number?: string | null; url?: string | null; numbers?: string[] | null; urls?: string[] | null } | null;
  lineItemsByFulfillmentOrder: Array<{ fulfillmentOrderId: string; fulfillmentOrderLineItems?: Array<{ id: string; quantity: number }> | null }>;
}

const FULFILLABLE = new Set(['OPEN', 'IN_PROGRESS']);

/**
 * https://shopify.dev/docs/api/admin-graphql/latest/mutations/fulfillmentCreate
 * Checks run in Shopify's order: quantities first (per line, by path), then
 * existence, then "same order" and "same location", then state and amounts.
 */
export function fulfillmentCreate(args: { fulfillment: FulfillmentInput; message?: string | null }, ctx: Ctx) {
  const { state } = ctx;
  const input = args.fulfillment;
  const fail = (errors: UserError[]) => ({ fulfillment: null, userErrors: errors });
  const groups = input.lineItemsByFulfillmentOrder;
  if (groups.length === 0) return fail([{ field: ['fulfillment'], message: 'Line items by fulfillment order must not be empty.' }]);
  for (const [gi, g] of groups.entries()) {
    for (const [li, l] of (g.fulfillmentOrderLineItems ?? []).entries()) {
      if (l.quantity <= 0) {
        return fail([{ field: ['fulfillment', 'lineItemsByFulfillmentOrder', String(gi), 'fulfillmentOrderLineItems', String(li), 'quantity'], message: 'Quantity must be greater than 0' }]);
      }
    }
  }
  const fos: FulfillmentOrder[] = [];
  for (const g of groups) {
    const fo = state.fulfillmentOrders.get(parseGid(g.fulfillmentOrderId, 'FulfillmentOrder') ?? -1);
    if (!fo) return fail([{ field: ['fulfillment'], message: 'Fulfillment order does not exist.' }]);
    fos.push(fo);
  }
  const orderIds = [...new Set(fos.map((fo) => fo.orderId))];
  if (orderIds.length > 1) {
    return fail([{ field: ['fulfillment'], message: `All fulfillment orders must belong to the same order. Multiple orders with ids [${orderIds.sort((a, b) => a - b).join(', ')}] were found.` }]);
  }
  const locationIds = [...new Set(fos.map((fo) => fo.locationId))];
  if (locationIds.length > 1) {
    return fail([{ field: ['fulfillment'], message: `All fulfillment orders must be assigned to a single location. Multiple locations with ids [${locationIds.sort((a, b) => a - b).join(', ')}] were found.` }]);
  }
  const order = state.orders.get(orderIds[0]!)!;
  // Which fulfillment order lines, how many of each.
  const picks: Array<{ fo: FulfillmentOrder; lineId: number; quantity: number }> = [];
  for (const [gi, g] of groups.entries()) {
    const fo = fos[gi]!;
    if (!FULFILLABLE.has(fo.status)) {
      return fail([{ field: ['fulfillment'], message: `Fulfillment order ${g.fulfillmentOrderId.split('/').pop()} has an unfulfillable status= ${fo.status.toLowerCase()}.` }]);
    }
    if (!g.fulfillmentOrderLineItems || g.fulfillmentOrderLineItems.length === 0) {
      // No lines given: everything remaining on this fulfillment order.
      for (const l of fo.lines) if (l.remaining > 0) picks.push({ fo, lineId: l.id, quantity: l.remaining });
      continue;
    }
    for (const l of g.fulfillmentOrderLineItems) {
      const lineId = parseGid(l.id, 'FulfillmentOrderLineItem');
      const line = fo.lines.find((x) => x.id === lineId);
      if (!line) return fail([{ field: ['fulfillment'], message: 'Fulfillment order line item does not exist.' }]);
      if (l.quantity > line.remaining) return fail([{ field: ['fulfillment'], message: 'Invalid fulfillment order line item quantity requested.' }]);
      picks.push({ fo, lineId: line.id, quantity: l.quantity });
    }
  }
  if (picks.length === 0) return fail([{ field: ['fulfillment'], message: 'Invalid fulfillment order line item quantity requested.' }]);

  const t = state.now();
  const byLineItem = new Map<number, number>();
  for (const p of picks) {
    const line = p.fo.lines.find((x) => x.id === p.lineId)!;
    line.remaining -= p.quantity;
    byLineItem.set(line.lineItemId, (byLineItem.get(line.lineItemId) ?? 0) + p.quantity);
  }
  for (const fo of fos) {
    fo.status = fo.lines.every((l) => l.remaining === 0) ? 'CLOSED' : 'IN_PROGRESS';
    fo.updatedAt = t;
  }
  const tracking = input.trackingInfo;
  const numbers = tracking?.numbers?.length ? tracking.numbers : tracking?.number ? [tracking.number] : [];
  const urls = tracking?.urls?.length ? tracking.urls : tracking?.url ? [tracking.url] : [];
  const f: Fulfillment = {
    id: state.nextId(), orderId: order.id, name: `${order.name}-F${order.fulfillmentIds.length + 1}`, status: 'SUCCESS',
    locationId: fos[0]!.locationId, createdAt: t, updatedAt: t, notifyCustomer: input.notifyCustomer ?? false,
    tracking: (numbers.length ? numbers : tracking?.company ? [null] : []).map((n, i) => ({ company: tracking?.company ?? null, number: n, url: urls[i] ?? null })),
    lines: [...byLineItem].map(([lineItemId, quantity]) => ({ id: state.nextId(), lineItemId, quantity })),
    fulfillmentOrderIds: fos.map((fo) => fo.id),
  };
  state.fulfillments.set(f.id, f);
  order.fulfillmentIds.push(f.id);
  for (const [lineItemId, q] of byLineItem) {
    const li = order.lines.find((l) => l.id === lineItemId);
    if (li?.variantId != null) state.shipCommitted(state.variants.get(li.variantId)?.inventoryItemId, q);
  }
  // A paid order that is now fulfilled is archived (closed), as the capture store does by default
  // (fulfillment-cancel-parity: closed true after fulfillmentCreate, reopened by fulfillmentCancel).
  if (state.fulfillmentStatus(order) === 'FULFILLED' && order.financialStatus === 'PAID' && order.closedAt === null) order.closedAt = t;
  state.touch(order, state.fulfillmentStatus(order) === 'FULFILLED' ? 'orders/fulfilled' : 'orders/updated');
  if (state.fulfillmentStatus(order) === 'FULFILLED') state.emit('order', 'orders/updated', order);
  return { fulfillment: fulfillmentView(state, f), userErrors: [] };
}


/**
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentCancel
 * Staff undoing a shipment: its units open again on a new fulfillment order,
 * the order is no longer fulfilled and, if it was
 * archived for being fulfilled, it is reopened (captures: fulfillment-cancel-parity,
 * fulfillment-state-preconditions). Cancelling a cancelled one answers it unchanged,
 * as recorded; so does a delivered one.
 */
export function fulfillmentCancel(args: { id: string }, ctx: Ctx) {
  const { state } = ctx;
  const f = state.fulfillments.get(parseGid(args.id, 'Fulfillment') ?? -1);
  if (!f) return { fulfillment: null, userErrors: [{ field: ['id'], message: 'Fulfillment not found.' }] };
  if (f.status === 'CANCELLED') return { fulfillment: fulfillmentView(state, f), userErrors: [] };
  const order = state.orders.get(f.orderId)!;
  const t = state.now();
  f.status = 'CANCELLED';
  f.updatedAt = t;
  // Per fulfillment order it drew from, the units it took back: they open again on a new
  // fulfillment order at the same location. The closed one keeps its line, showing the units
  // as remaining again (recorded), but stays CLOSED, so nothing fulfils from it.
  const back = new Map<number, Array<{ lineItemId: number; quantity: number }>>();
  for (const fl of f.lines) {
    let left = fl.quantity;
    for (const foId of f.fulfillmentOrderIds) {
      const fo = state.fulfillmentOrders.get(foId);
      const line = fo?.lines.find((l) => l.lineItemId === fl.lineItemId && l.remaining < l.total);
      if (!fo || !line || left === 0) continue;
      const q = Math.min(left, line.total - line.remaining);
      if (fo.status === 'CLOSED') line.remaining += q;
      left -= q;
      back.set(fo.id, [...(back.get(fo.id) ?? []), { lineItemId: fl.lineItemId, quantity: q }]);
    }
    const li = order.lines.find((l) => l.id === fl.lineItemId);
    if (li?.variantId != null) state.unshipCommitted(state.variants.get(li.variantId)?.inventoryItemId, fl.quantity);
  }
  for (const [foId, lines] of back) {
    const from = state.fulfillmentOrders.get(foId)!;
    const fo: FulfillmentOrder = {
      id: state.nextId(), orderId: order.id, locationId: from.locationId, status: 'OPEN', requestStatus: 'UNSUBMITTED',
      lines: lines.map((l) => ({ id: state.nextId(), lineItemId: l.lineItemId, total: l.quantity, remaining: l.quantity })),
      createdAt: t, updatedAt: t,
    };
    state.fulfillmentOrders.set(fo.id, fo);
    for (const l of fo.lines) state.fulfillmentOrderLineOwner.set(l.id, fo.id);
    order.fulfillmentOrderIds.push(fo.id);
  }
  if (order.cancelledAt === null) order.closedAt = null;
  state.touch(order);
  return { fulfillment: fulfillmentView(state, f), userErrors: [] };
}

/**
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentTrackingInfoUpdate
 * Replaces the tracking; Shopify takes it on a cancelled fulfillment too (recorded).
 */
export function fulfillmentTrackingInfoUpdate(
  args: { fulfillmentId: string; trackingInfoInput: { company?: string | null; number?: string | null; url?: string | null; numbers?: string[] | null; urls?: string[] | null }; notifyCustomer?: boolean | null },
  ctx: Ctx,
) {
  const { state } = ctx;
  const f = state.fulfillments.get(parseGid(args.fulfillmentId, 'Fulfillment') ?? -1);
  if (!f) return { fulfillment: null, userErrors: [{ field: ['fulfillmentId'], message: 'Fulfillment does not exist.' }] };
  const t = args.trackingInfoInput;
  const numbers = t.numbers?.length ? t.numbers : t.number ? [t.number] : [];
  const urls = t.urls?.length ? t.urls : t.url ? [t.url] : [];
  f.tracking = (numbers.length ? numbers : t.company ? [null] : []).map((n, i) => ({ company: t.company ?? null, number: n, url: urls[i] ?? null }));
  f.updatedAt = state.now();
  state.touch(state.orders.get(f.orderId)!);
  return { fulfillment: fulfillmentView(state, f), userErrors: [] };
}

/**
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentEventCreate
 * A carrier's tracking event; Shopify records it on a cancelled fulfillment
 * too (recorded). A live fulfillment's displayStatus follows its latest event.
 */
export function fulfillmentEventCreate(
  args: { fulfillmentEvent: {
    fulfillmentId: string; status: string; message?: string | null; happenedAt?: string | null; estimatedDeliveryAt?: string | null;
    city?: string | null; province?: string | null; country?: string | null; zip?: string | null; address1?: string | null; latitude?: number | null; longitude?: number | null;
  } },
  ctx: Ctx,
) {
  const { state } = ctx;
  const { fulfillmentId, happenedAt, estimatedDeliveryAt, ...rest } = args.fulfillmentEvent;
  const f = state.fulfillments.get(parseGid(fulfillmentId, 'Fulfillment') ?? -1);
  if (!f) return { fulfillmentEvent: null, userErrors: [{ field: ['fulfillmentEvent', 'fulfillmentId'], message: 'Fulfillment does not exist.' }] };
  const createdAt = state.now();
  const event = {
    ...rest, id: state.nextId(), message: rest.message ?? null, createdAt,
    happenedAt: happenedAt ? Date.parse(happenedAt) : createdAt, estimatedDeliveryAt: estimatedDeliveryAt ? Date.parse(estimatedDeliveryAt) : null,
  };
  f.events = [...(f.events ?? []), event];
  return { fulfillmentEvent: fulfillmentEventView(event), userErrors: [] };
}
