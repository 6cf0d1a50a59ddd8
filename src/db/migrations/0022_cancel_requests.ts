/**
 * A customer's request to cancel, on the order, for a person to decide.
 * Channel-neutral: Amazon's `BuyerRequestedCancel` (Orders v0 order items)
 * and eBay's cancellation requests land in the same columns.
 *
 * - `cancel_requested_at`: when channelsync first saw the request (the
 *   channel's time of the order version that carried it); null: none.
 * - `cancel_request_reason`: the customer's reason as the channel gave it.
 * - `cancel_request_dismissed_at` / `_by`: a person looked and decided to go
 *   on (the order ships). A request that later comes back new (after the
 *   channel cleared it) is shown again.
 *
 * A request is never acted on by itself: it counts in "needs attention"
 * while it is not dismissed and the order is neither cancelled nor shipped
 * (once it has left, the buyer returns it instead; the partial index below
 * keeps that list read in page order, as 0019's do).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE orders
      ADD COLUMN cancel_requested_at timestamptz,
      ADD COLUMN cancel_request_reason text,
      ADD COLUMN cancel_request_dismissed_at timestamptz,
      ADD COLUMN cancel_request_dismissed_by text;
    CREATE INDEX IF NOT EXISTS orders_cancel_requested ON orders (placed_at DESC, id DESC)
      WHERE cancel_requested_at IS NOT NULL AND cancel_request_dismissed_at IS NULL AND state NOT IN ('cancelled', 'shipped', 'delivered');
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS orders_cancel_requested;
    ALTER TABLE orders
      DROP COLUMN cancel_requested_at,
      DROP COLUMN cancel_request_reason,
      DROP COLUMN cancel_request_dismissed_at,
      DROP COLUMN cancel_request_dismissed_by;
  `.execute(db);
}
