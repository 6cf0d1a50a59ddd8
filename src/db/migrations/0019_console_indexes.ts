/**
 * Indexes for the operations console's order list (src/server/admin/order-list.ts):
 * newest first by (placed_at, id) with keyset pages, optionally of one channel
 * or state, and a search box that finds an order by its number (prefix), the
 * customer's e-mail (prefix, any case), a SKU on a line, or a tracking number.
 * Each filter has an index that reads the page in order, so a page costs the
 * same at 1,000 or 1,000,000 orders (`bench/console.ts` measures it).
 *
 * Plain CREATE INDEX (migrations run in a transaction, which CONCURRENTLY
 * cannot): on a large live database, create them by hand with CONCURRENTLY
 * first, under these names; IF NOT EXISTS then makes this a no-op.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX IF NOT EXISTS orders_placed_id ON orders (placed_at DESC, id DESC);
    CREATE INDEX IF NOT EXISTS orders_channel_placed_id ON orders (channel_id, placed_at DESC, id DESC);
    CREATE INDEX IF NOT EXISTS orders_state_placed_id ON orders (state, placed_at DESC, id DESC);
    CREATE INDEX IF NOT EXISTS orders_channel_state_placed_id ON orders (channel_id, state, placed_at DESC, id DESC);
    CREATE INDEX IF NOT EXISTS orders_needs_attention ON orders (placed_at DESC, id DESC)
      WHERE state IN ('needs_attention', 'on_hold') OR flags <> '{}';
    CREATE INDEX IF NOT EXISTS orders_number_prefix ON orders (order_number text_pattern_ops);
    CREATE INDEX IF NOT EXISTS orders_email_prefix ON orders (lower(customer_email) text_pattern_ops);
    CREATE INDEX IF NOT EXISTS order_lines_sku_text ON order_lines (sku);
    CREATE INDEX IF NOT EXISTS shipments_tracking ON shipments (tracking_number);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS orders_placed_id, orders_channel_placed_id, orders_state_placed_id, orders_channel_state_placed_id, orders_needs_attention,
      orders_number_prefix, orders_email_prefix, order_lines_sku_text, shipments_tracking;
  `.execute(db);
}
