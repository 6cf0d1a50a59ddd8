/**
 * Fulfilment: `fulfillmentOrder`, `fulfillment`, `fulfillmentOrders` and
 * `fulfillmentCreate`, with the userErrors the real API returns (wording
 * and order of checks from the 2026-04 captures).
 */
import { parseGid } from '../ids.ts';
import type { Fulfillment, FulfillmentOrder } from '../state.ts';
import { connection, type ConnectionArgs, type Ctx, type UserError } from './context.ts';
import { fulfillmentOrderView, fulfillmentView } from './views.ts';

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

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/fulfillmentOrders */
export function fulfillmentOrders(args: ConnectionArgs & { includeClosed?: boolean | null; query?: string | null }, ctx: Ctx) {
  const statusTerm = /status:(\w+)/.exec(args.query ?? '')?.[1]?.toUpperCase();
  const list = [...ctx.state.fulfillmentOrders.values()].filter((fo) => {
    if (statusTerm) return fo.status === statusTerm;
    return args.includeClosed || (fo.status !== 'CLOSED' && fo.status !== 'CANCELLED' && fo.status !== 'INCOMPLETE');
  });
  return connection(list, args, (fo) => fulfillmentOrderView(ctx.state, fo));
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
  state.touch(order, state.fulfillmentStatus(order) === 'FULFILLED' ? 'orders/fulfilled' : 'orders/updated');
  if (state.fulfillmentStatus(order) === 'FULFILLED') state.emit('order', 'orders/updated', order);
  return { fulfillment: fulfillmentView(state, f), userErrors: [] };
}

