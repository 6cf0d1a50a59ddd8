/**
 * Stock pushes are owed by the database itself, in the transaction of the
 * change that causes them. Anything that changes what a channel should show
 * (a stock movement, a stock rule, a location switched on or off) upserts a
 * pending `channel_pushes` row of kind 'stock' for every enabled channel that
 * lists an affected SKU, from a statement trigger. No code path can commit a
 * stock change and forget its push, and a crash after the commit loses
 * nothing: the sweeper finds the pending row. Code only has to *kick* the
 * push job after commit, for speed (`kickStockPushes`).
 *
 * `updated_at` is `clock_timestamp()`, not `now()`: `now()` is the start of the
 * transaction, so a long transaction committing after a push read the row
 * could stamp it with a time *before* that read, and the push would wrongly
 * count itself as covering the change. The SET runs after the row lock is
 * taken, so the stamp is later than every stamp committed before it.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION cs_owe_stock_pushes(sku_ids bigint[], channel_ids bigint[] DEFAULT NULL) RETURNS void
    LANGUAGE sql AS $$
      INSERT INTO channel_pushes (channel_id, kind, target, status, updated_at)
      SELECT DISTINCT cl.channel_id, 'stock', s.sku, 'pending', clock_timestamp()
      FROM channel_listings cl JOIN skus s ON s.id = cl.sku_id JOIN channels c ON c.id = cl.channel_id
      WHERE cl.sku_id = ANY(sku_ids) AND c.enabled AND (channel_ids IS NULL OR cl.channel_id = ANY(channel_ids))
        -- A SKU channelsync was never told the stock of ("not initialised") is owed nothing: its 0 would only mean "nobody said".
        AND EXISTS (SELECT 1 FROM stock_movements m WHERE m.sku_id = cl.sku_id)
      -- One lock order for every writer, so two transactions owing overlapping SKUs cannot deadlock.
      ORDER BY cl.channel_id, s.sku
      ON CONFLICT (channel_id, kind, target)
        DO UPDATE SET status = 'pending', last_error = NULL, updated_at = clock_timestamp()
    $$;

    CREATE FUNCTION cs_stock_moved() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM cs_owe_stock_pushes(ARRAY(SELECT DISTINCT sku_id FROM moved));
      RETURN NULL;
    END $$;
    CREATE TRIGGER stock_movements_owe_pushes AFTER INSERT ON stock_movements
      REFERENCING NEW TABLE AS moved FOR EACH STATEMENT EXECUTE FUNCTION cs_stock_moved();

    -- A rule changes what its channel shows: every listing of the channel (channel rule) or of the SKU.
    CREATE FUNCTION cs_stock_rules_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM cs_owe_stock_pushes(ARRAY(
        SELECT cl.sku_id FROM changed r JOIN channel_listings cl ON cl.channel_id = r.channel_id AND (r.sku_id IS NULL OR cl.sku_id = r.sku_id)),
        ARRAY(SELECT DISTINCT channel_id FROM changed));
      RETURN NULL;
    END $$;
    CREATE TRIGGER stock_rules_insert_owe_pushes AFTER INSERT ON stock_rules
      REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cs_stock_rules_changed();
    CREATE TRIGGER stock_rules_update_owe_pushes AFTER UPDATE ON stock_rules
      REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cs_stock_rules_changed();
    CREATE TRIGGER stock_rules_delete_owe_pushes AFTER DELETE ON stock_rules
      REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cs_stock_rules_changed();

    -- A location switched on or off changes what is available of everything stocked there.
    CREATE FUNCTION cs_location_toggled() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM cs_owe_stock_pushes(ARRAY(
        SELECT DISTINCT sl.sku_id FROM stock_levels sl JOIN toggled n ON n.id = sl.location_id JOIN before_toggle o ON o.id = n.id
        WHERE n.active IS DISTINCT FROM o.active));
      RETURN NULL;
    END $$;
    CREATE TRIGGER locations_owe_pushes AFTER UPDATE ON locations
      REFERENCING NEW TABLE AS toggled OLD TABLE AS before_toggle FOR EACH STATEMENT EXECUTE FUNCTION cs_location_toggled();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER IF EXISTS locations_owe_pushes ON locations;
    DROP TRIGGER IF EXISTS stock_rules_delete_owe_pushes ON stock_rules;
    DROP TRIGGER IF EXISTS stock_rules_update_owe_pushes ON stock_rules;
    DROP TRIGGER IF EXISTS stock_rules_insert_owe_pushes ON stock_rules;
    DROP TRIGGER IF EXISTS stock_movements_owe_pushes ON stock_movements;
    DROP FUNCTION IF EXISTS cs_location_toggled(), cs_stock_rules_changed(), cs_stock_moved(), cs_owe_stock_pushes(bigint[], bigint[]);
  `.execute(db);
}
