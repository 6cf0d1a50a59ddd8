/**
 * `rejected_orders`: channel orders set aside because they cannot be saved
 * (a value the channel's schema or the database refuses), one row per channel
 * and external id, so one bad order never blocks its page, its channel's
 * cursor or the orders after it, and a person sees why. `raw` is the payload
 * as JSON text (text, not jsonb: jsonb refuses some payloads, such as a NUL
 * in a string, which may be why the order was refused). The row goes when a
 * later copy of the order saves.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE rejected_orders (
      id bigserial PRIMARY KEY,
      channel_id bigint NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
      external_id text NOT NULL,
      source text NOT NULL CHECK (source IN ('poll', 'webhook', 'backfill')),
      reason text NOT NULL,
      raw text,
      occurrences integer NOT NULL DEFAULT 1,
      first_seen_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (channel_id, external_id)
    )
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE rejected_orders`.execute(db);
}
