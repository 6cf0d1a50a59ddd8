/**
 * Returns: the caller's own reference (an RMA number) makes recording a
 * return idempotent; a second request with the same reference finds the first
 * return instead of booking the goods in twice. NULL for returns without one.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE returns ADD COLUMN reference text UNIQUE;
    -- "Units already returned" per order line is read on every return.
    CREATE INDEX return_lines_order_line ON return_lines (order_line_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS return_lines_order_line;
    ALTER TABLE returns DROP COLUMN IF EXISTS reference;
  `.execute(db);
}
