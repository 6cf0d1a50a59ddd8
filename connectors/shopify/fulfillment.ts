/**
 * Planning a shipment onto Shopify fulfillment orders. Pure: the connector
 * reads the order's state, this decides what to send.
 *
 * Shopify facts (fulfillmentCreate, https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentCreate,
 * and the real answers in ../shared/fixtures/shopify/captures/2026-04_orders_fulfillment-create-multi-group.json):
 * one fulfillment may span several fulfillment orders of one order, but
 * "All fulfillment orders must be assigned to a single location"; quantities
 * must be > 0 and at most the line's `remainingQuantity`.
 */
import { z } from 'zod';
import { PermanentError } from '../../src/domain/errors.ts';
import type { FulfillmentPush } from '../types.ts';

export const fulfillmentStateSchema = z.object({
  order: z
    .object({
      id: z.string(),
      cancelledAt: z.string().nullish(),
      fulfillments: z.array(
        z.object({
          id: z.string(),
          status: z.string(),
          trackingInfo: z.array(z.object({ company: z.string().nullish(), number: z.string().nullish(), url: z.string().nullish() })),
          fulfillmentLineItems: z
            .object({
              nodes: z.array(z.object({ quantity: z.number().int(), lineItem: z.object({ id: z.string() }) })),
              pageInfo: z.object({ hasNextPage: z.boolean() }).default({ hasNextPage: false }),
            })
            .default({ nodes: [], pageInfo: { hasNextPage: false } }),
        }),
      ),
      fulfillmentOrders: z.object({
        nodes: z.array(
          z.object({
            id: z.string(),
            status: z.string(),
            lineItems: z.object({
              nodes: z.array(z.object({ id: z.string(), remainingQuantity: z.number().int(), lineItem: z.object({ id: z.string() }) })),
              pageInfo: z.object({ hasNextPage: z.boolean() }),
            }),
          }),
        ),
        pageInfo: z.object({ hasNextPage: z.boolean() }),
      }),
    })
    .nullable(),
});
export type FulfillmentState = NonNullable<z.infer<typeof fulfillmentStateSchema>['order']>;

/** FULFILLMENT_ORDER_LOCATIONS_QUERY's answer: a node is null (or another type) when its id no longer resolves. */
export const fulfillmentOrderLocationsSchema = z.object({
  nodes: z.array(z.object({ id: z.string().optional(), assignedLocation: z.object({ location: z.object({ id: z.string() }).nullish() }).optional() }).nullable()),
});

/** Fulfillment order id -> its assigned location's id (null: the location is gone). */
export function locationsOf(answer: z.infer<typeof fulfillmentOrderLocationsSchema>): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const n of answer.nodes) if (n?.id && n.assignedLocation) out.set(n.id, n.assignedLocation.location?.id ?? null);
  return out;
}

/** Line items the full-size state read asks for per fulfillment and per fulfillment order. */
export const FULL_STATE_LINES = { fulfilledLines: 25, openLines: 50 } as const;

/**
 * A state read sized to a shipment saw only part of a fulfillment's or a
 * fulfillment order's lines: read again at full size before deciding.
 */
export function stateTruncated(state: FulfillmentState): boolean {
  return (
    state.fulfillments.some((f) => f.fulfillmentLineItems.pageInfo.hasNextPage) ||
    state.fulfillmentOrders.nodes.some((fo) => fo.lineItems.pageInfo.hasNextPage)
  );
}

/** `FulfillmentOrderLineItemsInput` */
export interface FulfillmentOrderLineItems {
  fulfillmentOrderId: string;
  fulfillmentOrderLineItems: Array<{ id: string; quantity: number }>;
}

/**
 * One `fulfillmentCreate` call: every fulfillment order in it is at
 * `locationId` (null when the location is gone, or was not read because the
 * shipment is on one fulfillment order).
 */
export interface PlannedFulfillment {
  locationId: string | null;
  lineItemsByFulfillmentOrder: FulfillmentOrderLineItems[];
}

/** Fulfillment order statuses that accept a fulfillment now. */
const FULFILLABLE = new Set(['OPEN', 'IN_PROGRESS']);

/**
 * What of this shipment Shopify already has: live fulfillments carrying its
 * tracking number, and the lines still to send. A shipment split over two
 * locations is two fulfillmentCreate calls; when the first succeeded and the
 * second failed, a retry sends only the second.
 */
export function alreadyFulfilled(
  state: FulfillmentState,
  trackingNumber: string,
  lines: FulfillmentPush['lines'],
): { fulfillmentIds: string[]; remaining: FulfillmentPush['lines'] } {
  const live = state.fulfillments.filter(
    (f) => !['CANCELLED', 'ERROR', 'FAILURE'].includes(f.status) && f.trackingInfo.some((t) => t.number === trackingNumber),
  );
  const covered = new Map<string, number>();
  for (const f of live) for (const li of f.fulfillmentLineItems.nodes) covered.set(li.lineItem.id, (covered.get(li.lineItem.id) ?? 0) + li.quantity);
  const remaining = lines
    .map((line) => {
      const take = Math.min(line.quantity, covered.get(line.lineExternalId) ?? 0);
      covered.set(line.lineExternalId, (covered.get(line.lineExternalId) ?? 0) - take);
      return { ...line, quantity: line.quantity - take };
    })
    .filter((line) => line.quantity > 0);
  return { fulfillmentIds: live.map((f) => f.id), remaining };
}

/**
 * Spreads the shipment's lines over the open fulfillment orders' lines (in
 * the order Shopify lists them), naming every fulfillment order line and
 * its quantity, so a line Shopify added after the read is never fulfilled.
 * Throws PermanentError when Shopify has fewer units open than the shipment
 * carries (already fulfilled elsewhere, on hold, scheduled), naming the line.
 */
export function allocateShipment(lines: FulfillmentPush['lines'], state: FulfillmentState): FulfillmentOrderLineItems[] {
  const open = state.fulfillmentOrders.nodes.filter((fo) => FULFILLABLE.has(fo.status));
  const remaining = new Map<string, number>();
  for (const fo of open) for (const li of fo.lineItems.nodes) remaining.set(li.id, li.remainingQuantity);

  const byFo = new Map<string, Map<string, number>>();
  for (const line of lines) {
    if (line.quantity <= 0) continue;
    let left = line.quantity;
    for (const fo of open) {
      for (const li of fo.lineItems.nodes) {
        if (left === 0) break;
        if (li.lineItem.id !== line.lineExternalId) continue;
        const available = remaining.get(li.id) ?? 0;
        const take = Math.min(available, left);
        if (take <= 0) continue;
        remaining.set(li.id, available - take);
        left -= take;
        const items = byFo.get(fo.id) ?? new Map<string, number>();
        items.set(li.id, (items.get(li.id) ?? 0) + take);
        byFo.set(fo.id, items);
      }
    }
    if (left > 0) {
      const held = state.fulfillmentOrders.nodes.filter((fo) => !FULFILLABLE.has(fo.status)).map((fo) => fo.status);
      // A hold is the merchant's (or another app's) "not yet": no retry would lift it, so the push
      // fails for a person, who releases the hold on Shopify and retries the push.
      const onHold = state.fulfillmentOrders.nodes
        .filter((fo) => fo.status === 'ON_HOLD')
        .reduce((n, fo) => n + fo.lineItems.nodes.filter((li) => li.lineItem.id === line.lineExternalId).reduce((m, li) => m + li.remainingQuantity, 0), 0);
      throw new PermanentError(
        `Shopify order ${state.id}: line ${line.lineExternalId}${line.sku ? ` (SKU ${line.sku})` : ''} has ${line.quantity - left} of ${line.quantity} units open to fulfil` +
          (onHold > 0
            ? `: ${onHold} are on hold on Shopify (a fulfillment hold); release the hold there, then retry this push`
            : held.length ? ` (other fulfillment orders are ${[...new Set(held)].join(', ')})` : ''),
      );
    }
  }
  if (byFo.size === 0) throw new PermanentError(`Shopify order ${state.id}: the shipment has no units to fulfil`);
  return open
    .filter((fo) => byFo.has(fo.id))
    .map((fo) => ({ fulfillmentOrderId: fo.id, fulfillmentOrderLineItems: [...byFo.get(fo.id)!].map(([id, quantity]) => ({ id, quantity })) }));
}

/**
 * One fulfillmentCreate per location ("All fulfillment orders must be
 * assigned to a single location"). `locations` (fulfillment order id ->
 * location id) is needed only when the shipment spans several fulfillment
 * orders; one whose location is unknown goes with those whose location is
 * gone (null), as Shopify would refuse a mixed create rather than misfile it.
 */
export function groupByLocation(allocation: FulfillmentOrderLineItems[], locations: ReadonlyMap<string, string | null>): PlannedFulfillment[] {
  const byLocation = new Map<string | null, FulfillmentOrderLineItems[]>();
  for (const items of allocation) {
    const location = locations.get(items.fulfillmentOrderId) ?? null;
    byLocation.set(location, [...(byLocation.get(location) ?? []), items]);
  }
  return [...byLocation].map(([locationId, lineItemsByFulfillmentOrder]) => ({ locationId, lineItemsByFulfillmentOrder }));
}

/** The shipment as fulfillmentCreate calls: allocateShipment, then groupByLocation. */
export function planFulfillments(lines: FulfillmentPush['lines'], state: FulfillmentState, locations: ReadonlyMap<string, string | null> = new Map()): PlannedFulfillment[] {
  return groupByLocation(allocateShipment(lines, state), locations);
}
