/**
 * Reorder forecast (`channelsync stock reorder`).
 *
 * - velocity over N days = units ordered in the N days before `now` / N
 *   (order lines of orders not cancelled, by `orders.placed_at`), less the
 *   units refunded or returned from those lines (returns not rejected; a unit
 *   returned and refunded counts once): a refunded sale is not demand, on any
 *   channel. Connectors take units refunded on the channel off the line
 *   (Shopify `currentQuantity`, WooCommerce refunded quantities), so units
 *   ordered are the line's quantity plus the refund lines the channel has;
 * - the velocity that drives the numbers is the 30-day one by default;
 * - days of cover = available / velocity (null when nothing sells);
 * - reorder point = ceil(velocity × supplier lead time + the SKU's safety stock);
 * - reorder when available + on order <= reorder point, enough to reach the
 *   reorder point plus `coverDays` of sales:
 *   quantity = ceil(reorder point + velocity × coverDays − available − on order).
 * "On order" counts open purchase order lines (draft, sent, partially received),
 * so drafting twice does not order twice.
 */
import { sql } from 'kysely';
import type { Db } from '../db/index.ts';

export interface ForecastOptions {
  now?: Date;
  /** Which window's velocity drives the reorder numbers. Default 30. */
  basis?: 7 | 30 | 90;
  /** Days of sales a reorder should cover beyond the reorder point. Default 30. */
  coverDays?: number;
  /** Lead time for SKUs without a supplier. Default 7 (the suppliers table's default). */
  defaultLeadTimeDays?: number;
}

export interface SkuForecast {
  skuId: number;
  sku: string;
  supplierId: number | null;
  supplier: string | null;
  leadTimeDays: number;
  safetyStock: number;
  sold: { d7: number; d30: number; d90: number };
  /** Units per day. */
  velocity: { d7: number; d30: number; d90: number };
  onHand: number;
  reserved: number;
  available: number;
  onOrder: number;
  daysOfCover: number | null;
  reorderPoint: number;
  reorder: boolean;
  suggestedQuantity: number;
}

export async function forecast(db: Db, options: ForecastOptions = {}): Promise<SkuForecast[]> {
  const now = options.now ?? new Date();
  const basis = options.basis ?? 30;
  const coverDays = options.coverDays ?? 30;
  const defaultLead = options.defaultLeadTimeDays ?? 7;
  const { rows } = await sql<{
    id: number;
    sku: string;
    supplier_id: number | null;
    supplier: string | null;
    lead_time_days: number | null;
    safety_stock: number;
    u7: number;
    u30: number;
    u90: number;
    on_hand: number;
    reserved: number;
    on_order: number;
  }>`
    WITH sales AS (
      SELECT l.sku_id,
        COALESCE(sum(sold.units) FILTER (WHERE o.placed_at >= ${now}::timestamptz - interval '7 days'), 0)::int AS u7,
        COALESCE(sum(sold.units) FILTER (WHERE o.placed_at >= ${now}::timestamptz - interval '30 days'), 0)::int AS u30,
        COALESCE(sum(sold.units), 0)::int AS u90
      FROM order_lines l JOIN orders o ON o.id = l.order_id
      LEFT JOIN LATERAL (
        SELECT sum(rl.quantity) AS units FROM return_lines rl JOIN returns r ON r.id = rl.return_id AND r.status <> 'rejected'
        WHERE rl.order_line_id = l.id
      ) rt ON true
      LEFT JOIN LATERAL (
        SELECT sum(fl.quantity) AS units, sum(fl.quantity) FILTER (WHERE f.external_id IS NOT NULL) AS on_channel
        FROM refund_lines fl JOIN refunds f ON f.id = fl.refund_id WHERE fl.order_line_id = l.id
      ) rf ON true
      -- Units ordered (the line plus what the channel took off it for refunds) less those refunded or returned.
      CROSS JOIN LATERAL (
        SELECT GREATEST(l.quantity + COALESCE(rf.on_channel, 0) - GREATEST(COALESCE(rf.units, 0), COALESCE(rt.units, 0)), 0) AS units
      ) sold
      WHERE l.sku_id IS NOT NULL
        AND o.placed_at >= ${now}::timestamptz - interval '90 days' AND o.placed_at < ${now}::timestamptz
        AND o.channel_state <> 'cancelled' AND o.state <> 'cancelled'
      GROUP BY l.sku_id
    ), stock AS (
      SELECT sl.sku_id, sum(sl.on_hand)::int AS on_hand, sum(sl.reserved)::int AS reserved
      FROM stock_levels sl JOIN locations loc ON loc.id = sl.location_id AND loc.active
      GROUP BY sl.sku_id
    ), incoming AS (
      SELECT pl.sku_id, sum(GREATEST(pl.quantity - pl.quantity_received, 0))::int AS on_order
      FROM purchase_order_lines pl JOIN purchase_orders po ON po.id = pl.purchase_order_id
      WHERE po.status IN ('draft', 'sent', 'partially_received') AND po.kind = 'stock'
      GROUP BY pl.sku_id
    )
    SELECT s.id, s.sku, s.supplier_id, sup.name AS supplier, sup.lead_time_days, s.safety_stock,
      COALESCE(sa.u7, 0) AS u7, COALESCE(sa.u30, 0) AS u30, COALESCE(sa.u90, 0) AS u90,
      COALESCE(st.on_hand, 0) AS on_hand, COALESCE(st.reserved, 0) AS reserved, COALESCE(i.on_order, 0) AS on_order
    FROM skus s
    LEFT JOIN suppliers sup ON sup.id = s.supplier_id
    LEFT JOIN sales sa ON sa.sku_id = s.id
    LEFT JOIN stock st ON st.sku_id = s.id
    LEFT JOIN incoming i ON i.sku_id = s.id
    WHERE NOT s.dropship
    ORDER BY s.sku`.execute(db);

  return rows.map((r) => {
    const velocity = { d7: r.u7 / 7, d30: r.u30 / 30, d90: r.u90 / 90 };
    const v = basis === 7 ? velocity.d7 : basis === 90 ? velocity.d90 : velocity.d30;
    const leadTimeDays = r.lead_time_days ?? defaultLead;
    const available = r.on_hand - r.reserved;
    const reorderPoint = ceil(v * leadTimeDays + r.safety_stock);
    const position = available + r.on_order;
    const reorder = position <= reorderPoint && (v > 0 || r.safety_stock > 0);
    const suggestedQuantity = reorder ? Math.max(0, ceil(reorderPoint + v * coverDays - position)) : 0;
    return {
      skuId: r.id,
      sku: r.sku,
      supplierId: r.supplier_id,
      supplier: r.supplier,
      leadTimeDays,
      safetyStock: r.safety_stock,
      sold: { d7: r.u7, d30: r.u30, d90: r.u90 },
      velocity,
      onHand: r.on_hand,
      reserved: r.reserved,
      available,
      onOrder: r.on_order,
      daysOfCover: v > 0 ? Math.max(0, available) / v : null,
      reorderPoint,
      reorder: reorder && suggestedQuantity > 0,
      suggestedQuantity,
    };
  });
}

/** Ceil that forgives float noise (0.1 × 30 = 3.0000000000000004 must stay 3). */
function ceil(x: number): number {
  return Math.ceil(Math.round(x * 1e9) / 1e9);
}

export interface DraftedOrder {
  purchaseOrderId: number;
  supplierId: number | null;
  lines: Array<{ skuId: number; sku: string; quantity: number }>;
}

/** Drafts one purchase order per supplier for every SKU to reorder. Safe to repeat: drafts count as on order. */
export async function draftPurchaseOrders(db: Db, items: SkuForecast[], locationId: number | null = null): Promise<DraftedOrder[]> {
  const toOrder = items.filter((i) => i.reorder && i.suggestedQuantity > 0);
  const bySupplier = new Map<number | null, SkuForecast[]>();
  for (const item of toOrder) bySupplier.set(item.supplierId, [...(bySupplier.get(item.supplierId) ?? []), item]);
  return db.transaction().execute(async (trx) => {
    const drafted: DraftedOrder[] = [];
    for (const [supplierId, lines] of bySupplier) {
      const lead = lines[0]!.leadTimeDays;
      const po = await trx
        .insertInto('purchase_orders')
        .values({ supplier_id: supplierId, location_id: locationId, kind: 'stock', status: 'draft', expected_at: new Date(Date.now() + lead * 86_400_000) })
        .returning('id')
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('purchase_order_lines')
        .values(lines.map((l) => ({ purchase_order_id: po.id, sku_id: l.skuId, quantity: l.suggestedQuantity })))
        .execute();
      drafted.push({ purchaseOrderId: po.id, supplierId, lines: lines.map((l) => ({ skuId: l.skuId, sku: l.sku, quantity: l.suggestedQuantity })) });
    }
    return drafted;
  });
}
