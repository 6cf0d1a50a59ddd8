/**
 * Fulfilment: what the pipeline needs beyond the initial schema.
 * - fulfillments remember their parcels (pack comes before ship) and, for
 *   dropship, the purchase order the supplier ships against;
 * - one shipment per fulfilment, so shipping twice cannot create a second one,
 *   and the carrier adapter that issued it (it is the one that reports delivery);
 * - at most one draft stock purchase order per supplier and location, with one
 *   line per SKU, so concurrent backorders join it instead of racing to create it.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE fulfillments
      ADD COLUMN parcels jsonb NOT NULL DEFAULT '[]',
      ADD COLUMN purchase_order_id bigint REFERENCES purchase_orders(id) ON DELETE SET NULL;
    CREATE INDEX fulfillments_purchase_order ON fulfillments (purchase_order_id) WHERE purchase_order_id IS NOT NULL;
    CREATE INDEX fulfillment_lines_order_line ON fulfillment_lines (order_line_id);

    -- The adapter that issued the shipment (manual, simulated, a label API): it reports delivery.
    ALTER TABLE shipments ADD COLUMN adapter text NOT NULL DEFAULT 'manual';
    CREATE UNIQUE INDEX shipments_one_per_fulfillment ON shipments (fulfillment_id);
    CREATE INDEX shipments_undelivered ON shipments (shipped_at) WHERE delivered_at IS NULL;

    CREATE UNIQUE INDEX purchase_orders_one_draft ON purchase_orders ((COALESCE(supplier_id, 0)), (COALESCE(location_id, 0)))
      WHERE status = 'draft' AND kind = 'stock';
    CREATE UNIQUE INDEX purchase_order_lines_one_per_sku ON purchase_order_lines (purchase_order_id, sku_id)
      WHERE order_line_id IS NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS purchase_order_lines_one_per_sku, purchase_orders_one_draft, shipments_undelivered,
      shipments_one_per_fulfillment, fulfillment_lines_order_line, fulfillments_purchase_order;
    ALTER TABLE shipments DROP COLUMN IF EXISTS adapter;
    ALTER TABLE fulfillments DROP COLUMN IF EXISTS purchase_order_id, DROP COLUMN IF EXISTS parcels;
  `.execute(db);
}
