/**
 * The fulfilment side of the stock ledger: reservations, releases, receipts
 * and shipments as appended movements (stock_levels follows by trigger), and
 * what each order line is still owed. Callers hold the order's row lock.
 */
import { sql } from 'kysely';
import type { FulfilmentRow, Trx } from './transitions.ts';
import { OPEN_STATES, SHIPPED_STATES } from './states.ts';

export type FulfilmentMovementReason = 'reservation' | 'release' | 'shipment' | 'receipt';

export interface Booking {
  skuId: number;
  locationId: number;
  quantity: number;
  reason: FulfilmentMovementReason;
  /** `order:<id>`, `shipment:<id>`, `po:<id>`. */
  reference: string;
  note?: string;
  actor: string;
}

/** How each event moves the two counters. */
const DELTAS: Record<FulfilmentMovementReason, (q: number) => { on_hand_delta: number; reserved_delta: number }> = {
  reservation: (q) => ({ on_hand_delta: 0, reserved_delta: q }),
  release: (q) => ({ on_hand_delta: 0, reserved_delta: -q }),
  shipment: (q) => ({ on_hand_delta: -q, reserved_delta: -q }),
  receipt: (q) => ({ on_hand_delta: q, reserved_delta: 0 }),
};

/** Appends movements, sorted by (SKU, location) so that the level rows they lock are always taken in the same order. */
export async function book(trx: Trx, bookings: Booking[]): Promise<void> {
  const rows = bookings
    .filter((b) => b.quantity > 0)
    .sort((a, b) => a.skuId - b.skuId || a.locationId - b.locationId)
    .map((b) => ({
      sku_id: b.skuId,
      location_id: b.locationId,
      ...DELTAS[b.reason](b.quantity),
      reason: b.reason,
      reference: b.reference,
      note: b.note ?? null,
      actor: b.actor,
    }));
  if (rows.length) await trx.insertInto('stock_movements').values(rows).execute();
}

/**
 * Locks the level rows of these SKUs at active locations, in (SKU, location)
 * order, and returns what is available (on hand - reserved) at each.
 */
export async function lockAvailable(
  trx: Trx,
  skuIds: number[],
  locationId?: number,
): Promise<Array<{ skuId: number; locationId: number; priority: number; available: number }>> {
  return readAvailable(trx, skuIds, locationId, true);
}

/**
 * What `lockAvailable` returns, without locking: a snapshot to plan from
 * (`allocate.ts` plans outside the level locks and checks the plan under them).
 */
export async function readAvailable(
  trx: Trx,
  skuIds: number[],
  locationId?: number,
  lock = false,
): Promise<Array<{ skuId: number; locationId: number; priority: number; available: number }>> {
  if (skuIds.length === 0) return [];
  const rows = await sql<{ sku_id: number; location_id: number; priority: number; available: number }>`
    SELECT sl.sku_id, sl.location_id, loc.priority, sl.on_hand - sl.reserved AS available
    FROM stock_levels sl JOIN locations loc ON loc.id = sl.location_id AND loc.active
    WHERE sl.sku_id = ANY(${[...new Set(skuIds)]}::bigint[]) ${locationId === undefined ? sql`` : sql`AND sl.location_id = ${locationId}`}
    ORDER BY sl.sku_id, sl.location_id
    ${lock ? sql`FOR UPDATE OF sl` : sql``}`.execute(trx);
  return rows.rows.map((r) => ({ skuId: r.sku_id, locationId: r.location_id, priority: r.priority, available: r.available }));
}

export interface LineCoverage {
  lineId: number;
  title: string;
  sku: string | null;
  skuId: number | null;
  quantity: number;
  /** Units this line still needs assigned: quantity (+ refunded units that had shipped) - max(shipped, fulfilled on the channel) - open. Negative: over-promised. */
  remaining: number;
  shipped: number;
  open: number;
  dropship: boolean;
  supplierId: number | null;
}

/** What each line of an order has: shipped, promised by open fulfilments, still owed. */
export async function lineCoverage(trx: Trx, orderId: number): Promise<LineCoverage[]> {
  return (await orderCoverage(trx, orderId)).lines;
}

/**
 * `lineCoverage`, and the order's fulfilments (`orderFulfilments`) read by the
 * same statement: what allocation and `settleOrderState` start from, in one
 * round trip, not two. `fulfilments` is null for an order without lines (no
 * row to carry them): the caller reads them itself.
 */
export async function orderCoverage(trx: Trx, orderId: number): Promise<{ lines: LineCoverage[]; fulfilments: FulfilmentRow[] | null }> {
  const rows = await sql<{
    fulfilments: FulfilmentRow[];
    id: number;
    title: string;
    sku: string | null;
    sku_id: number | null;
    quantity: number;
    on_channel: number;
    refunded: number;
    shipped: number;
    open: number;
    dropship: boolean;
    supplier_id: number | null;
  }>`
    SELECT COALESCE((SELECT json_agg(json_build_object('id', id, 'order_id', order_id, 'location_id', location_id, 'kind', kind, 'state', state,
        'purchase_order_id', purchase_order_id) ORDER BY id) FROM fulfillments WHERE order_id = ${orderId}), '[]') AS fulfilments,
      l.id, l.title, l.sku, l.sku_id, l.quantity, l.quantity_fulfilled_on_channel AS on_channel, l.quantity_refunded AS refunded,
      COALESCE(sum(fl.quantity) FILTER (WHERE f.state = ANY(${SHIPPED_STATES})), 0)::int AS shipped,
      COALESCE(sum(fl.quantity) FILTER (WHERE f.state = ANY(${OPEN_STATES})), 0)::int AS open,
      COALESCE(s.dropship OR sup.dropship, false) AS dropship, s.supplier_id
    FROM order_lines l
    LEFT JOIN fulfillment_lines fl ON fl.order_line_id = l.id
    LEFT JOIN fulfillments f ON f.id = fl.fulfillment_id
    LEFT JOIN skus s ON s.id = l.sku_id
    LEFT JOIN suppliers sup ON sup.id = s.supplier_id
    WHERE l.order_id = ${orderId}
    GROUP BY l.id, s.id, sup.id
    ORDER BY l.id`.execute(trx);
  const lines = rows.rows.map((r) => {
    // Units the channel reports fulfilled beyond ours were shipped by someone else (the merchant, by hand).
    const shipped = Math.max(r.shipped, r.on_channel);
    // The channel takes refunded units off the line (Shopify currentQuantity, WooCommerce refunded
    // quantities), shipped ones too: a unit shipped and then refunded (a return) is not an edit after
    // shipping. Refunds are taken to cover unshipped units first, so a refund never makes a line
    // look over-shipped, and a refunded unit that did not ship is never owed.
    const refundedShipped = Math.min(r.refunded, Math.max(0, shipped - r.quantity));
    return {
      lineId: r.id,
      title: r.title,
      sku: r.sku,
      skuId: r.sku_id,
      quantity: r.quantity,
      remaining: r.quantity + refundedShipped - shipped - r.open,
      shipped: r.shipped,
      open: r.open,
      dropship: r.dropship,
      supplierId: r.supplier_id,
    };
  });
  return { lines, fulfilments: rows.rows[0]?.fulfilments ?? null };
}

/** The location backorders wait at and receipts land at by default: the best active one by priority. */
export async function defaultLocation(trx: Trx): Promise<number | null> {
  const row = await trx
    .selectFrom('locations')
    .select('id')
    .where('active', '=', true)
    .orderBy('priority')
    .orderBy('id')
    .executeTakeFirst();
  return row?.id ?? null;
}
