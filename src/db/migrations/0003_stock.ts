/**
 * Stock across channels: what each channel is shown, what reconciliation
 * found, and when it ran.
 *
 * - `stock_rules`: per channel (sku_id NULL) or per listing (sku_id set); a
 *   listing rule overrides the channel rule field by field (NULL = inherit).
 * - `channel_stock_expected`: the one definition of "what this channel should
 *   show" (available = on hand - reserved over the rule's locations, minus the
 *   buffer, times the share, capped). Pushes and reconciliation both read it.
 * - `stock_drift`: every difference reconciliation found, and whether it was
 *   corrected.
 * - `reconcile_runs`: one row per schedule slot: the slot is claimed here, so
 *   a slot runs once however many daemons fire it.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE stock_rules (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      channel_id bigint NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
      sku_id bigint REFERENCES skus(id) ON DELETE CASCADE,
      buffer integer CHECK (buffer >= 0),
      share_percent numeric(5,2) CHECK (share_percent >= 0 AND share_percent <= 100),
      max_shown integer CHECK (max_shown >= 0),
      location_ids bigint[],
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE NULLS NOT DISTINCT (channel_id, sku_id)
    );

    CREATE VIEW channel_stock_expected AS
    SELECT cl.id AS listing_id, cl.channel_id, cl.sku_id, s.sku,
      cl.product_external_id, cl.variant_external_id, cl.inventory_item_external_id,
      cl.last_pushed_available,
      r.location_ids, r.buffer, r.share_percent, r.max_shown,
      a.on_hand, a.reserved, a.available,
      LEAST(COALESCE(r.max_shown, 2147483647),
        floor(GREATEST(0, a.available - r.buffer) * r.share_percent / 100))::int AS expected
    FROM channel_listings cl
    JOIN skus s ON s.id = cl.sku_id
    LEFT JOIN stock_rules rc ON rc.channel_id = cl.channel_id AND rc.sku_id IS NULL
    LEFT JOIN stock_rules rs ON rs.channel_id = cl.channel_id AND rs.sku_id = cl.sku_id
    CROSS JOIN LATERAL (SELECT
        COALESCE(rs.location_ids, rc.location_ids) AS location_ids,
        COALESCE(rs.buffer, rc.buffer, 0) AS buffer,
        COALESCE(rs.share_percent, rc.share_percent, 100) AS share_percent,
        COALESCE(rs.max_shown, rc.max_shown) AS max_shown) r
    CROSS JOIN LATERAL (
      SELECT COALESCE(sum(sl.on_hand), 0)::int AS on_hand, COALESCE(sum(sl.reserved), 0)::int AS reserved,
        COALESCE(sum(sl.on_hand - sl.reserved), 0)::int AS available
      FROM stock_levels sl JOIN locations l ON l.id = sl.location_id
      WHERE sl.sku_id = cl.sku_id AND l.active AND (r.location_ids IS NULL OR sl.location_id = ANY (r.location_ids))
    ) a;

    CREATE TABLE reconcile_runs (
      slot text PRIMARY KEY,
      started_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      listings integer NOT NULL DEFAULT 0,
      drift integer NOT NULL DEFAULT 0,
      corrected integer NOT NULL DEFAULT 0,
      error text
    );

    CREATE TABLE stock_drift (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      channel_id bigint NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
      sku_id bigint NOT NULL REFERENCES skus(id) ON DELETE CASCADE,
      slot text NOT NULL,
      expected integer NOT NULL,
      found integer,
      detected_at timestamptz NOT NULL DEFAULT now(),
      corrected_at timestamptz,
      error text,
      UNIQUE (slot, channel_id, sku_id)
    );
    CREATE INDEX stock_drift_detected ON stock_drift (detected_at);
    CREATE INDEX stock_drift_sku ON stock_drift (sku_id);
    CREATE INDEX channel_listings_channel ON channel_listings (channel_id, id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS stock_drift, reconcile_runs;
    DROP VIEW IF EXISTS channel_stock_expected;
    DROP TABLE IF EXISTS stock_rules;
    DROP INDEX IF EXISTS channel_listings_channel;
  `.execute(db);
}
