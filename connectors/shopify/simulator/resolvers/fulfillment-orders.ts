/**
 * What staff and other apps do to a shop's fulfillment orders, which changes
 * what channelsync's `fulfillmentCreate` may do: holds (whole or some
 * units), releases, moves to another location, splits, cancels, progress
 * reports, re-opening and closing.
 *
 * channelsync never sends these; the simulator runs them so that a test (or
 * the demo) can put a fulfillment order in the state a merchant would, and
 * so that `fulfillmentCreate`, `supportedActions`, `fulfillableQuantity` and
 * `displayFulfillmentStatus` answer for that state as Shopify does. Wording,
 * fields, codes and the order of checks are those of the 2026-04 captures
 * (fulfillment-order-lifecycle, -hold-validation, -release-hold-selective,
 * -move-multi-line, -open-report-progress-preconditions,
 * orders_fulfillment-create-multi-group). What no capture shows is noted
 * where it is decided.
 *
 * Not simulated (left out of the trimmed schema, so a request for one is
 * refused as for a field Shopify lacks): the fulfillment-service request
 * flows (submit/accept/reject), since the simulator has no fulfillment
 * services; rerouting answers only for unknown ids (see below).
 */
import type { GraphQLResolveInfo } from 'graphql';
import { parseGid } from '../ids.ts';
import { HOLD_LIMIT, type FulfillmentOrder, type ShopState } from '../state.ts';
import { ShopifyResolverError } from '../errors.ts';
import type { Ctx, UserError } from './context.ts';
import { fulfillmentHoldView, fulfillmentOrderView } from './views.ts';


interface LineInput { id: string; quantity: number }

/** Shopify answers an unknown fulfillment order id with a top-level RESOURCE_NOT_FOUND and a null payload. */
function mustFind(id: string, ctx: Ctx, info: GraphQLResolveInfo): FulfillmentOrder {
  const fo = ctx.state.fulfillmentOrders.get(parseGid(id, 'FulfillmentOrder') ?? -1);
  if (!fo) throw new ShopifyResolverError(`Invalid id: ${id}`, 'RESOURCE_NOT_FOUND', [...info.fieldNodes]);
  return fo;
}

/** A new fulfillment order of the same order, open, at `locationId`, holding `lines` (new line ids). */
function addFulfillmentOrder(state: ShopState, from: FulfillmentOrder, locationId: number, lines: Array<{ lineItemId: number; quantity: number }>): FulfillmentOrder {
  const t = state.now();
  const fo: FulfillmentOrder = {
    id: state.nextId(), orderId: from.orderId, locationId, status: 'OPEN', requestStatus: 'UNSUBMITTED',
    lines: lines.map((l) => ({ id: state.nextId(), lineItemId: l.lineItemId, total: l.quantity, remaining: l.quantity })),
    createdAt: from.createdAt, updatedAt: t,
  };
  state.fulfillmentOrders.set(fo.id, fo);
  for (const l of fo.lines) state.fulfillmentOrderLineOwner.set(l.id, fo.id);
  state.orders.get(fo.orderId)!.fulfillmentOrderIds.push(fo.id);
  return fo;
}

/**
 * Keep the given units on `fo` and move the rest of its remaining units to a
 * new fulfillment order at the same location (a split, a partial hold).
 * Returns the new one, or null when `keep` covers everything.
 */
function splitOff(state: ShopState, fo: FulfillmentOrder, keep: Map<number, number>): FulfillmentOrder | null {
  const rest: Array<{ lineItemId: number; quantity: number }> = [];
  for (const l of fo.lines) {
    const kept = keep.get(l.id) ?? 0;
    if (l.remaining - kept > 0) rest.push({ lineItemId: l.lineItemId, quantity: l.remaining - kept });
  }
  if (rest.length === 0) return null;
  for (const l of fo.lines) {
    const kept = keep.get(l.id) ?? 0;
    l.total -= l.remaining - kept;
    l.remaining = kept;
  }
  // A line left with no units stays off the fulfillment order (Shopify lists only what it holds).
  fo.lines = fo.lines.filter((l) => l.total > 0);
  fo.updatedAt = state.now();
  return addFulfillmentOrder(state, fo, fo.locationId, rest);
}

/** `fulfillmentOrderLineItems` as fulfillment order line → units, or the first userError. */
function lineQuantities(
  fo: FulfillmentOrder, lines: LineInput[], field: string[],
  messages: { zero: UserError['message']; zeroCode?: string; duplicate?: UserError },
): Map<number, number> | UserError {
  const out = new Map<number, number>();
  for (const [i, l] of lines.entries()) {
    if (l.quantity <= 0) return { field: [...field, String(i), 'quantity'], message: messages.zero, ...(messages.zeroCode ? { code: messages.zeroCode } : {}) };
  }
  for (const l of lines) {
    const id = parseGid(l.id, 'FulfillmentOrderLineItem') ?? -1;
    if (out.has(id) && messages.duplicate) return messages.duplicate;
    const line = fo.lines.find((x) => x.id === id);
    if (!line) return { field: null, message: 'Fulfillment order line item does not exist.' };
    if (l.quantity > line.remaining) return { field: null, message: 'Invalid fulfillment order line item quantity requested.' };
    out.set(id, (out.get(id) ?? 0) + l.quantity);
  }
  return out;
}

const isUserError = (x: unknown): x is UserError => !!x && typeof x === 'object' && 'message' in x;

interface HoldInput {
  reason: string; reasonNotes?: string | null; notifyMerchant?: boolean | null; externalId?: string | null; handle?: string | null;
  fulfillmentOrderLineItems?: LineInput[] | null;
}

/**
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentOrderHold
 * Checks in the captures' order: line quantities and duplicates, the handle
 * (one hold per handle, "" when none is given), a partial hold of a
 * fulfillment order already on hold, then the limit of 10. A partial hold
 * keeps the held units on this fulfillment order and moves the rest to a new
 * open one (`remainingFulfillmentOrder`). Holding a closed or cancelled
 * fulfillment order is not recorded: it is refused as HOLD is not among its
 * supportedActions.
 */
export function fulfillmentOrderHold(args: { id: string; fulfillmentHold: HoldInput }, ctx: Ctx, info: GraphQLResolveInfo) {
  const { state } = ctx;
  const fo = mustFind(args.id, ctx, info);
  const input = args.fulfillmentHold;
  const fail = (e: UserError) => ({ fulfillmentHold: null, fulfillmentOrder: null, remainingFulfillmentOrder: null, userErrors: [e] });
  const holds = fo.holds ?? [];
  const partial = input.fulfillmentOrderLineItems?.length ? input.fulfillmentOrderLineItems : null;
  let keep: Map<number, number> | null = null;
  if (partial) {
    const q = lineQuantities(fo, partial, ['fulfillmentHold', 'fulfillmentOrderLineItems'], {
      zero: 'You must select at least one item to place on partial hold.', zeroCode: 'GREATER_THAN_ZERO',
      duplicate: { field: ['fulfillmentHold', 'fulfillmentOrderLineItems'], message: 'must contain unique line item ids', code: 'DUPLICATED_FULFILLMENT_ORDER_LINE_ITEMS' },
    });
    if (isUserError(q)) return fail(q);
    keep = q;
  }
  const handle = input.handle ?? '';
  if (holds.some((h) => h.handle === handle)) {
    return fail({ field: ['fulfillmentHold', 'handle'], message: 'The handle provided for the fulfillment hold is already in use by this app for another hold on this fulfillment order.', code: 'DUPLICATE_FULFILLMENT_HOLD_HANDLE' });
  }
  if (keep && fo.status === 'ON_HOLD') {
    return fail({ field: ['fulfillmentHold', 'fulfillmentOrderLineItems'], message: 'The fulfillment order is not in a splittable state.', code: 'FULFILLMENT_ORDER_NOT_SPLITTABLE' });
  }
  if (holds.length >= HOLD_LIMIT) {
    return fail({ field: ['id'], message: `The maximum number of fulfillment holds for this fulfillment order has been reached for this app. An app can only have up to ${HOLD_LIMIT} holds on a single fulfillment order at any one time.`, code: 'FULFILLMENT_ORDER_HOLD_LIMIT_REACHED' });
  }
  if (!['OPEN', 'IN_PROGRESS', 'ON_HOLD'].includes(fo.status)) {
    return fail({ field: ['id'], message: `Fulfillment order ${fo.id} has an unholdable status= ${fo.status.toLowerCase()}.` });
  }
  const remaining = keep ? splitOff(state, fo, keep) : null;
  if (remaining) remaining.heldFrom = fo.id;
  const hold = { id: state.nextId(), handle, reason: input.reason, reasonNotes: input.reasonNotes ?? null };
  fo.holds = [...holds, hold];
  fo.status = 'ON_HOLD';
  fo.updatedAt = state.now();
  const order = state.orders.get(fo.orderId)!;
  state.touch(order);
  return {
    fulfillmentHold: fulfillmentHoldView(hold),
    fulfillmentOrder: fulfillmentOrderView(state, fo),
    remainingFulfillmentOrder: remaining ? fulfillmentOrderView(state, remaining) : null,
    userErrors: [],
  };
}

/**
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentOrderReleaseHold
 * Releases the holds named (all of them when none is named). When the last
 * goes the fulfillment order is open again (in progress if progress was
 * reported), and the units a partial hold split off, still untouched, come
 * back to it: the split-off one is left CLOSED with its lines at 0, as the
 * lifecycle capture shows. An unknown hold id is ignored (not recorded).
 */
export function fulfillmentOrderReleaseHold(args: { id: string; holdIds?: string[] | null; externalId?: string | null }, ctx: Ctx, info: GraphQLResolveInfo) {
  const { state } = ctx;
  const fo = mustFind(args.id, ctx, info);
  const named = args.holdIds?.length ? new Set(args.holdIds.map((h) => parseGid(h, 'FulfillmentHold') ?? -1)) : null;
  fo.holds = (fo.holds ?? []).filter((h) => named && !named.has(h.id));
  const t = state.now();
  if (fo.holds.length === 0 && fo.status === 'ON_HOLD') {
    fo.status = fo.progressReported ? 'IN_PROGRESS' : 'OPEN';
    for (const other of state.fulfillmentOrders.values()) {
      const untouched = other.heldFrom === fo.id && other.status === 'OPEN' && other.locationId === fo.locationId && other.lines.every((l) => l.remaining === l.total);
      if (!untouched) continue;
      for (const l of other.lines) {
        const mine = fo.lines.find((x) => x.lineItemId === l.lineItemId);
        if (mine) {
          mine.total += l.remaining;
          mine.remaining += l.remaining;
        } else {
          const id = state.nextId();
          fo.lines.push({ id, lineItemId: l.lineItemId, total: l.remaining, remaining: l.remaining });
          state.fulfillmentOrderLineOwner.set(id, fo.id);
        }
        l.total = 0;
        l.remaining = 0;
      }
      other.status = 'CLOSED';
      other.updatedAt = t;
    }
  }
  fo.updatedAt = t;
  state.touch(state.orders.get(fo.orderId)!);
  return { fulfillmentOrder: fulfillmentOrderView(state, fo), userErrors: [] };
}

/**
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentOrderMove
 * Some units (`fulfillmentOrderLineItems`) go to a new fulfillment order at
 * the new location and the rest stay (`originalFulfillmentOrder` and
 * `remainingFulfillmentOrder` are then the same); all of them move the
 * fulfillment order itself. A fulfillment order with reported progress may
 * not move; holds move with it. A partial move of a held fulfillment order
 * is not recorded and is refused like a partial hold of one.
 */
export function fulfillmentOrderMove(args: { id: string; newLocationId: string; fulfillmentOrderLineItems?: LineInput[] | null }, ctx: Ctx, info: GraphQLResolveInfo) {
  const { state } = ctx;
  const fo = mustFind(args.id, ctx, info);
  const fail = (e: UserError) => ({ movedFulfillmentOrder: null, originalFulfillmentOrder: null, remainingFulfillmentOrder: null, userErrors: [e] });
  const location = state.locations.get(parseGid(args.newLocationId, 'Location') ?? -1);
  if (!location) return fail({ field: ['id'], message: 'Location not found.' });
  if (fo.progressReported && fo.status === 'IN_PROGRESS') {
    return fail({ field: ['id'], message: 'Cannot move a fulfillment order that has had progress reported. To move a fulfillment order that has had progress reported, the fulfillment order must first be marked as open resolving the ongoing progress state.', code: 'CANNOT_MOVE_FULFILLMENT_ORDER_WITH_REPORTED_PROGRESS' });
  }
  if (!['OPEN', 'IN_PROGRESS', 'ON_HOLD'].includes(fo.status) || location.id === fo.locationId) return fail({ field: null, message: 'Cannot change location.' });
  const partial = args.fulfillmentOrderLineItems?.length ? args.fulfillmentOrderLineItems : null;
  let moving: Map<number, number> | null = null;
  if (partial) {
    const q = lineQuantities(fo, partial, ['fulfillmentOrderLineItems'], { zero: 'Invalid fulfillment order line item quantity requested.' });
    if (isUserError(q)) return fail(q);
    const everything = fo.lines.every((l) => (q.get(l.id) ?? 0) === l.remaining);
    if (!everything) moving = q;
  }
  if (moving && fo.status === 'ON_HOLD') return fail({ field: null, message: 'Cannot change location.' });
  if (!moving) {
    fo.locationId = location.id;
    fo.updatedAt = state.now();
    state.touch(state.orders.get(fo.orderId)!);
    const view = fulfillmentOrderView(state, fo);
    return { movedFulfillmentOrder: view, originalFulfillmentOrder: view, remainingFulfillmentOrder: null, userErrors: [] };
  }
  const created = carveOff(state, fo, moving, location.id);
  state.touch(state.orders.get(fo.orderId)!);
  const original = fulfillmentOrderView(state, fo);
  return { movedFulfillmentOrder: fulfillmentOrderView(state, created), originalFulfillmentOrder: original, remainingFulfillmentOrder: original, userErrors: [] };
}

/** Move the given units off `fo` to a new fulfillment order at `locationId` (a split, a partial move). */
function carveOff(state: ShopState, fo: FulfillmentOrder, units: Map<number, number>, locationId: number): FulfillmentOrder {
  const moved: Array<{ lineItemId: number; quantity: number }> = [];
  for (const l of fo.lines) {
    const q = units.get(l.id) ?? 0;
    if (q === 0) continue;
    moved.push({ lineItemId: l.lineItemId, quantity: q });
    l.total -= q;
    l.remaining -= q;
  }
  fo.lines = fo.lines.filter((l) => l.total > 0);
  fo.updatedAt = state.now();
  return addFulfillmentOrder(state, fo, locationId, moved);
}

/**
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentOrderSplit
 * The given units go to a new fulfillment order (`remainingFulfillmentOrder`)
 * and the rest stay (lifecycle capture: 3 units, split 1, leaves 2 and 1).
 */
export function fulfillmentOrderSplit(args: { fulfillmentOrderSplits: Array<{ fulfillmentOrderId: string; fulfillmentOrderLineItems: LineInput[] }> }, ctx: Ctx) {
  const { state } = ctx;
  const fail = (e: UserError) => ({ fulfillmentOrderSplits: null, userErrors: [e] });
  const plans: Array<{ fo: FulfillmentOrder; units: Map<number, number> }> = [];
  for (const [i, s] of args.fulfillmentOrderSplits.entries()) {
    const fo = state.fulfillmentOrders.get(parseGid(s.fulfillmentOrderId, 'FulfillmentOrder') ?? -1);
    if (!fo) return fail({ field: ['fulfillmentOrderSplits', String(i), 'fulfillmentOrderId'], message: 'Fulfillment order does not exist.', code: 'FULFILLMENT_ORDER_NOT_FOUND' });
    const q = lineQuantities(fo, s.fulfillmentOrderLineItems, ['fulfillmentOrderSplits', String(i), 'fulfillmentOrderLineItems'], {
      zero: 'You must select at least one item to split into a new fulfillment order.', zeroCode: 'GREATER_THAN',
    });
    if (isUserError(q)) return fail(q);
    plans.push({ fo, units: q });
  }
  const splits = plans.map(({ fo, units }) => {
    const everything = fo.lines.every((l) => (units.get(l.id) ?? 0) === l.remaining);
    const rest = everything ? null : carveOff(state, fo, units, fo.locationId);
    return { fulfillmentOrder: fulfillmentOrderView(state, fo), remainingFulfillmentOrder: rest ? fulfillmentOrderView(state, rest) : null, replacementFulfillmentOrder: null };
  });
  for (const { fo } of plans) state.touch(state.orders.get(fo.orderId)!);
  return { fulfillmentOrderSplits: splits, userErrors: [] };
}

/**
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentOrderMerge
 * Each input merges its intents into the first one's fulfillment order; a
 * fulfillment order merged in whole is left CLOSED with its lines at 0 (as
 * recorded). Checks in the merge-validation capture's order: quantities,
 * fulfillment orders, lines, then the mergeable state.
 */
export function fulfillmentOrderMerge(
  args: { fulfillmentOrderMergeInputs: Array<{ mergeIntents: Array<{ fulfillmentOrderId: string; fulfillmentOrderLineItems?: LineInput[] | null }> }> },
  ctx: Ctx,
) {
  const { state } = ctx;
  const fail = (e: UserError) => ({ fulfillmentOrderMerges: null, userErrors: [e] });
  for (const [i, input] of args.fulfillmentOrderMergeInputs.entries()) {
    for (const [j, intent] of input.mergeIntents.entries()) {
      for (const [k, l] of (intent.fulfillmentOrderLineItems ?? []).entries()) {
        if (l.quantity <= 0) {
          return fail({ field: ['fulfillmentOrderMergeInputs', String(i), 'mergeIntents', String(j), 'fulfillmentOrderLineItems', String(k), 'quantity'], message: 'You must select at least one item to merge into a new fulfillment order.', code: 'GREATER_THAN' });
        }
      }
    }
  }
  const plans: Array<Array<{ fo: FulfillmentOrder; units: Map<number, number> }>> = [];
  for (const input of args.fulfillmentOrderMergeInputs) {
    const plan: Array<{ fo: FulfillmentOrder; units: Map<number, number> }> = [];
    for (const intent of input.mergeIntents) {
      const fo = state.fulfillmentOrders.get(parseGid(intent.fulfillmentOrderId, 'FulfillmentOrder') ?? -1);
      if (!fo) return fail({ field: null, message: 'Fulfillment order does not exist.', code: 'FULFILLMENT_ORDER_NOT_FOUND' });
      const given = intent.fulfillmentOrderLineItems?.length ? intent.fulfillmentOrderLineItems : fo.lines.filter((l) => l.remaining > 0).map((l) => ({ id: `gid://shopify/FulfillmentOrderLineItem/${l.id}`, quantity: l.remaining }));
      const q = lineQuantities(fo, given, [], { zero: '' });
      if (isUserError(q)) return fail({ field: q.field, message: q.message });
      plan.push({ fo, units: q });
    }
    plans.push(plan);
  }
  for (const plan of plans) {
    const [into] = plan;
    for (const { fo } of plan) {
      const sameGroup = into && fo.orderId === into.fo.orderId && fo.locationId === into.fo.locationId;
      if (fo.status !== 'OPEN' || fo.progressReported || !sameGroup) return fail({ field: null, message: `Fulfillment order: ${fo.id} is currently not in a mergeable state.` });
    }
  }
  const t = state.now();
  const merges = plans.map(([into, ...rest]) => {
    for (const { fo, units } of rest) {
      for (const l of fo.lines) {
        const q = units.get(l.id) ?? 0;
        if (q === 0) continue;
        const mine = into!.fo.lines.find((x) => x.lineItemId === l.lineItemId);
        if (mine) {
          mine.total += q;
          mine.remaining += q;
        } else {
          const id = state.nextId();
          into!.fo.lines.push({ id, lineItemId: l.lineItemId, total: q, remaining: q });
          state.fulfillmentOrderLineOwner.set(id, into!.fo.id);
        }
        l.total -= q;
        l.remaining -= q;
      }
      if (fo.lines.every((l) => l.remaining === 0)) fo.status = 'CLOSED';
      fo.updatedAt = t;
    }
    into!.fo.updatedAt = t;
    state.touch(state.orders.get(into!.fo.orderId)!);
    return { fulfillmentOrder: fulfillmentOrderView(state, into!.fo) };
  });
  return { fulfillmentOrderMerges: merges, userErrors: [] };
}

/**
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentOrderReschedule
 * Only a SCHEDULED fulfillment order (one with a future fulfillAt) can be
 * rescheduled; the simulator opens every fulfillment order at once, so it
 * answers as Shopify does for an open one.
 */
export function fulfillmentOrderReschedule(args: { id: string; fulfillAt: string }, ctx: Ctx, info: GraphQLResolveInfo) {
  const fo = mustFind(args.id, ctx, info);
  if (fo.status !== 'SCHEDULED') return { fulfillmentOrder: null, userErrors: [{ field: null, message: 'Fulfillment order must be scheduled.' }] };
  fo.fulfillAt = Date.parse(args.fulfillAt);
  fo.updatedAt = ctx.state.now();
  return { fulfillmentOrder: fulfillmentOrderView(ctx.state, fo), userErrors: [] };
}

/**
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentOrdersReroute
 * Unknown ids are refused as Shopify refuses them. Rerouting itself is not
 * simulated: the one recorded attempt got Shopify's INTERNAL_SERVER_ERROR,
 * so there is no answer to copy, and the simulator says so.
 */
export function fulfillmentOrdersReroute(args: { fulfillmentOrderIds: string[] }, ctx: Ctx, info: GraphQLResolveInfo) {
  for (const id of args.fulfillmentOrderIds) mustFind(id, ctx, info);
  throw new ShopifyResolverError(
    'fulfillmentOrdersReroute is not supported by the channelsync Shopify simulator: no recorded answer of Shopify to reproduce (the one recorded attempt was an internal error)',
    'NOT_SUPPORTED_BY_SIMULATOR', [...info.fieldNodes], { fieldName: 'fulfillmentOrdersReroute' },
  );
}

/** https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentOrdersSetFulfillmentDeadline */
export function fulfillmentOrdersSetFulfillmentDeadline(args: { fulfillmentOrderIds: string[]; fulfillmentDeadline: string }, ctx: Ctx) {
  const fos = args.fulfillmentOrderIds.map((id) => ctx.state.fulfillmentOrders.get(parseGid(id, 'FulfillmentOrder') ?? -1));
  // Not recorded: the wording is the FULFILLMENT_ORDERS_NOT_FOUND description of the 2026-07 schema.
  if (fos.some((fo) => !fo)) return { success: false, userErrors: [{ field: ['fulfillmentOrderIds'], message: 'The fulfillment orders could not be found.', code: 'FULFILLMENT_ORDERS_NOT_FOUND' }] };
  const deadline = Date.parse(args.fulfillmentDeadline);
  for (const fo of fos) fo!.fulfillBy = deadline;
  return { success: true, userErrors: [] };
}

/**
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentOrderLineItemsPreparedForPickup
 * Only local-pickup fulfillment orders can be prepared for pickup; every
 * simulated one ships, so each is refused as recorded.
 */
export function fulfillmentOrderLineItemsPreparedForPickup(args: { input: { lineItemsByFulfillmentOrder: Array<{ fulfillmentOrderId: string }> } }) {
  return {
    userErrors: args.input.lineItemsByFulfillmentOrder.map((g, i) => ({
      field: ['input', 'lineItemsByFulfillmentOrder', String(i), 'fulfillmentOrderId'],
      message: `Invalid fulfillment_order_id provided ${g.fulfillmentOrderId.split('/').pop()}`,
      code: 'FULFILLMENT_ORDER_INVALID',
    })),
  };
}

/**
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentOrderCancel
 * A merchant-managed fulfillment order is closed with no lines left and its
 * remaining units go to a new open one (`replacementFulfillmentOrder`).
 */
export function fulfillmentOrderCancel(args: { id: string }, ctx: Ctx, info: GraphQLResolveInfo) {
  const { state } = ctx;
  const fo = mustFind(args.id, ctx, info);
  const fail = (e: UserError) => ({ fulfillmentOrder: null, replacementFulfillmentOrder: null, userErrors: [e] });
  if (fo.progressReported && fo.status === 'IN_PROGRESS') {
    return fail({ field: ['id'], message: 'Cannot cancel fulfillment order that has had progress reported. Mark as unfulfilled first.' });
  }
  if (!['OPEN', 'IN_PROGRESS'].includes(fo.status)) return fail({ field: null, message: "Fulfillment order is not in cancelable request state and can't be canceled." });
  const rest = fo.lines.filter((l) => l.remaining > 0).map((l) => ({ lineItemId: l.lineItemId, quantity: l.remaining }));
  for (const l of fo.lines) {
    l.total -= l.remaining;
    l.remaining = 0;
  }
  fo.lines = fo.lines.filter((l) => l.total > 0);
  fo.status = 'CLOSED';
  fo.updatedAt = state.now();
  const replacement = rest.length ? addFulfillmentOrder(state, fo, fo.locationId, rest) : null;
  state.touch(state.orders.get(fo.orderId)!);
  return { fulfillmentOrder: fulfillmentOrderView(state, fo), replacementFulfillmentOrder: replacement ? fulfillmentOrderView(state, replacement) : null, userErrors: [] };
}

/** https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentOrderReportProgress */
export function fulfillmentOrderReportProgress(args: { id: string; progressReport?: { reasonNotes?: string | null } | null }, ctx: Ctx, info: GraphQLResolveInfo) {
  const { state } = ctx;
  const fo = mustFind(args.id, ctx, info);
  if (fo.status !== 'OPEN' && fo.status !== 'IN_PROGRESS') {
    return { fulfillmentOrder: null, userErrors: [{ field: null, message: 'Cannot report progress on a fulfillment order in this state.' }] };
  }
  fo.status = 'IN_PROGRESS';
  fo.progressReported = true;
  fo.updatedAt = state.now();
  state.touch(state.orders.get(fo.orderId)!);
  return { fulfillmentOrder: fulfillmentOrderView(state, fo), userErrors: [] };
}

/**
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentOrderOpen
 * Undoes reported progress (MARK_AS_OPEN); any other state is refused with
 * its status, as recorded for open, closed and on-hold ones.
 */
export function fulfillmentOrderOpen(args: { id: string }, ctx: Ctx, info: GraphQLResolveInfo) {
  const { state } = ctx;
  const fo = mustFind(args.id, ctx, info);
  const reopenable = (fo.status === 'IN_PROGRESS' && fo.progressReported) || fo.status === 'SCHEDULED';
  if (!reopenable) return { fulfillmentOrder: null, userErrors: [{ field: null, message: `Expected fulfillment order status to be valid but it was ${fo.status.toLowerCase()}.` }] };
  fo.status = 'OPEN';
  fo.progressReported = false;
  fo.updatedAt = state.now();
  state.touch(state.orders.get(fo.orderId)!);
  return { fulfillmentOrder: fulfillmentOrderView(state, fo), userErrors: [] };
}

/**
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentOrderClose
 * Only a fulfillment service closes its fulfillment orders (after accepting
 * a request). The simulator has no fulfillment services, so every one is
 * merchant-managed and refused as Shopify refuses those.
 */
export function fulfillmentOrderClose(args: { id: string; message?: string | null }, ctx: Ctx, info: GraphQLResolveInfo) {
  mustFind(args.id, ctx, info);
  return { fulfillmentOrder: null, userErrors: [{ field: null, message: "The fulfillment order's assigned fulfillment service must be of api type" }] };
}
