/**
 * Importing a channel's products and variants as listings of SKUs
 * (`channelsync listings sync <channel>`). A SKU seen for the first time is
 * created; order lines imported earlier with that SKU are linked to it, and
 * their orders lose the `unknown_sku` flag.
 */
import { sql } from 'kysely';
import type { App } from '../app.ts';

export interface ListingSyncReport {
  /** Listings with a SKU read from the channel. */
  listings: number;
  /** Products/variants without a SKU (cannot be linked; give them one on the channel). */
  withoutSku: number;
  skusCreated: number;
  /** Listings that are new for this channel. */
  linked: number;
  /** Order lines linked to a SKU they named but channelsync did not know. */
  orderLinesLinked: number;
}

export async function syncListings(app: App, channelId: number, onPage?: (report: ListingSyncReport) => void): Promise<ListingSyncReport> {
  const { connector } = await app.connectors.get(channelId);
  const report: ListingSyncReport = { listings: 0, withoutSku: 0, skusCreated: 0, linked: 0, orderLinesLinked: 0 };
  for await (const page of connector.listListings()) {
    const bySku = new Map<string, (typeof page)[number]>();
    for (const l of page) {
      if (!l.sku || !l.sku.trim()) report.withoutSku += 1;
      else bySku.set(l.sku.trim(), l);
    }
    const items = [...bySku.entries()];
    if (items.length === 0) continue;
    const skus = items.map(([sku]) => sku);
    const created = await sql<{ id: number }>`
      INSERT INTO skus (sku, title)
      SELECT * FROM unnest(${skus}::text[], ${items.map(([, l]) => l.title ?? '')}::text[])
      ON CONFLICT (sku) DO NOTHING RETURNING id`.execute(app.db);
    const linked = await sql<{ inserted: boolean }>`
      INSERT INTO channel_listings (channel_id, sku_id, product_external_id, variant_external_id, inventory_item_external_id)
      SELECT ${channelId}::bigint, s.id, u.product, u.variant, u.item
      FROM unnest(${skus}::text[], ${items.map(([, l]) => l.productExternalId)}::text[],
        ${items.map(([, l]) => l.variantExternalId)}::text[], ${items.map(([, l]) => l.inventoryItemExternalId)}::text[])
        AS u(sku, product, variant, item)
      JOIN skus s ON s.sku = u.sku
      ON CONFLICT (channel_id, sku_id) DO UPDATE SET
        product_external_id = EXCLUDED.product_external_id,
        variant_external_id = EXCLUDED.variant_external_id,
        inventory_item_external_id = EXCLUDED.inventory_item_external_id
      RETURNING (xmax = 0) AS inserted`.execute(app.db);
    report.listings += items.length;
    report.skusCreated += created.rows.length;
    report.linked += linked.rows.filter((r) => r.inserted).length;
    onPage?.({ ...report });
  }
  report.orderLinesLinked = await linkOrderLines(app);
  return report;
}

/** Links order lines whose SKU now exists, and clears `unknown_sku` from orders with none left. */
export async function linkOrderLines(app: App): Promise<number> {
  const { rows } = await sql<{ order_id: number }>`
    UPDATE order_lines l SET sku_id = s.id FROM skus s
    WHERE l.sku_id IS NULL AND l.sku = s.sku
    RETURNING l.order_id`.execute(app.db);
  const orderIds = [...new Set(rows.map((r) => r.order_id))];
  if (orderIds.length > 0) {
    await sql`
      UPDATE orders o SET flags = array_remove(o.flags, 'unknown_sku'), updated_at = now()
      WHERE o.id = ANY(${orderIds}::bigint[]) AND 'unknown_sku' = ANY(o.flags)
        AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.sku IS NOT NULL AND l.sku_id IS NULL AND l.quantity > 0)`.execute(app.db);
  }
  return rows.length;
}
