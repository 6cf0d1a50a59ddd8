/**
 * The unified schema. Plain SQL: Postgres types, checks and triggers say more
 * here than a builder would. Conventions:
 * - ids are bigint identities (read as JS numbers, see src/db/index.ts);
 * - money is numeric(20,4), never float; times are timestamptz;
 * - states are text with CHECK lists (extended by later migrations);
 * - the stock ledger is append-only and stock_levels follows it by trigger,
 *   so a level always equals the sum of its movements.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE channels (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      kind text NOT NULL,
      name text NOT NULL UNIQUE,
      settings jsonb NOT NULL DEFAULT '{}',
      credentials_encrypted text NOT NULL,
      enabled boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE sync_cursors (
      channel_id bigint NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
      resource text NOT NULL,
      cursor text NOT NULL,
      last_synced_at timestamptz NOT NULL DEFAULT now(),
      last_error text,
      PRIMARY KEY (channel_id, resource)
    );

    CREATE TABLE suppliers (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name text NOT NULL UNIQUE,
      email text,
      lead_time_days integer NOT NULL DEFAULT 7 CHECK (lead_time_days >= 0),
      dropship boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE skus (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      sku text NOT NULL UNIQUE CHECK (sku <> ''),
      title text NOT NULL DEFAULT '',
      supplier_id bigint REFERENCES suppliers(id) ON DELETE SET NULL,
      dropship boolean NOT NULL DEFAULT false,
      safety_stock integer NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
      created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE locations (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      code text NOT NULL UNIQUE,
      name text NOT NULL,
      active boolean NOT NULL DEFAULT true,
      priority integer NOT NULL DEFAULT 100,
      created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE channel_listings (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      channel_id bigint NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
      sku_id bigint NOT NULL REFERENCES skus(id) ON DELETE CASCADE,
      product_external_id text,
      variant_external_id text,
      inventory_item_external_id text,
      last_pushed_available integer,
      last_pushed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (channel_id, sku_id)
    );
    CREATE INDEX channel_listings_sku ON channel_listings (sku_id);

    CREATE TABLE orders (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      channel_id bigint NOT NULL REFERENCES channels(id) ON DELETE RESTRICT,
      external_id text NOT NULL,
      order_number text NOT NULL,
      state text NOT NULL DEFAULT 'received' CHECK (state IN
        ('received', 'allocated', 'backordered', 'partially_shipped', 'shipped', 'delivered', 'on_hold', 'cancelled', 'needs_attention')),
      channel_state text NOT NULL CHECK (channel_state IN ('open', 'cancelled', 'closed')),
      financial_status text NOT NULL CHECK (financial_status IN
        ('pending', 'authorized', 'partially_paid', 'paid', 'partially_refunded', 'refunded', 'voided', 'expired', 'failed', 'unknown')),
      fulfillment_status text NOT NULL CHECK (fulfillment_status IN
        ('unfulfilled', 'partially_fulfilled', 'fulfilled', 'on_hold', 'scheduled', 'restocked', 'unknown')),
      currency char(3) NOT NULL,
      presentment_currency char(3),
      subtotal numeric(20,4) NOT NULL,
      shipping numeric(20,4) NOT NULL,
      tax numeric(20,4) NOT NULL,
      discount numeric(20,4) NOT NULL,
      total numeric(20,4) NOT NULL,
      customer_email text,
      customer_name text,
      customer jsonb,
      billing_address jsonb,
      shipping_address jsonb,
      placed_at timestamptz NOT NULL,
      channel_updated_at timestamptz NOT NULL,
      cancelled_at timestamptz,
      closed_at timestamptz,
      flags text[] NOT NULL DEFAULT '{}',
      raw jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (channel_id, external_id)
    );
    CREATE INDEX orders_placed_at ON orders (placed_at);
    CREATE INDEX orders_state ON orders (state) WHERE state NOT IN ('delivered', 'cancelled');
    CREATE INDEX orders_channel_updated ON orders (channel_id, channel_updated_at);

    CREATE TABLE order_lines (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
      external_id text NOT NULL,
      sku text,
      sku_id bigint REFERENCES skus(id) ON DELETE SET NULL,
      title text NOT NULL,
      quantity integer NOT NULL CHECK (quantity >= 0),
      unit_price numeric(20,4) NOT NULL,
      tax numeric(20,4) NOT NULL,
      discount numeric(20,4) NOT NULL DEFAULT 0,
      quantity_fulfilled integer NOT NULL DEFAULT 0 CHECK (quantity_fulfilled >= 0),
      quantity_refunded integer NOT NULL DEFAULT 0 CHECK (quantity_refunded >= 0),
      quantity_fulfilled_on_channel integer NOT NULL DEFAULT 0,
      product_external_id text,
      variant_external_id text,
      inventory_item_external_id text,
      UNIQUE (order_id, external_id)
    );
    CREATE INDEX order_lines_sku ON order_lines (sku_id);

    CREATE TABLE stock_movements (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      sku_id bigint NOT NULL REFERENCES skus(id) ON DELETE RESTRICT,
      location_id bigint NOT NULL REFERENCES locations(id) ON DELETE RESTRICT,
      on_hand_delta integer NOT NULL DEFAULT 0,
      reserved_delta integer NOT NULL DEFAULT 0,
      reason text NOT NULL CHECK (reason IN
        ('receipt', 'adjustment', 'count', 'damage', 'reservation', 'release', 'shipment', 'return_restock', 'transfer')),
      reference text NOT NULL,
      note text,
      actor text NOT NULL DEFAULT 'system',
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (on_hand_delta <> 0 OR reserved_delta <> 0)
    );
    CREATE INDEX stock_movements_sku_location ON stock_movements (sku_id, location_id, id);
    CREATE INDEX stock_movements_reference ON stock_movements (reference);

    CREATE TABLE stock_levels (
      sku_id bigint NOT NULL REFERENCES skus(id) ON DELETE RESTRICT,
      location_id bigint NOT NULL REFERENCES locations(id) ON DELETE RESTRICT,
      on_hand integer NOT NULL DEFAULT 0,
      reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (sku_id, location_id)
    );

    -- The ledger is append-only: corrections are new movements.
    CREATE FUNCTION stock_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'stock_movements is append-only: record a correcting movement instead';
    END $$;
    CREATE TRIGGER stock_movements_no_change BEFORE UPDATE OR DELETE ON stock_movements
      FOR EACH ROW EXECUTE FUNCTION stock_movements_append_only();

    -- Levels follow the ledger in the same transaction.
    CREATE FUNCTION stock_levels_apply() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- Update first: an INSERT ... ON CONFLICT would check the delta itself against the level's constraints.
      UPDATE stock_levels
        SET on_hand = on_hand + NEW.on_hand_delta, reserved = reserved + NEW.reserved_delta, updated_at = now()
        WHERE sku_id = NEW.sku_id AND location_id = NEW.location_id;
      IF NOT FOUND THEN
        INSERT INTO stock_levels (sku_id, location_id, on_hand, reserved, updated_at)
        VALUES (NEW.sku_id, NEW.location_id, NEW.on_hand_delta, NEW.reserved_delta, now())
        ON CONFLICT (sku_id, location_id) DO UPDATE
          SET on_hand = stock_levels.on_hand + EXCLUDED.on_hand,
              reserved = stock_levels.reserved + EXCLUDED.reserved,
              updated_at = now();
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER stock_movements_apply AFTER INSERT ON stock_movements
      FOR EACH ROW EXECUTE FUNCTION stock_levels_apply();

    CREATE TABLE fulfillments (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
      location_id bigint REFERENCES locations(id),
      kind text NOT NULL DEFAULT 'warehouse' CHECK (kind IN ('warehouse', 'dropship')),
      state text NOT NULL DEFAULT 'allocated' CHECK (state IN
        ('allocated', 'backordered', 'picking', 'packed', 'shipped', 'delivered', 'on_hold', 'cancelled')),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX fulfillments_order ON fulfillments (order_id);
    CREATE INDEX fulfillments_open ON fulfillments (state, updated_at) WHERE state NOT IN ('delivered', 'cancelled');

    CREATE TABLE fulfillment_lines (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      fulfillment_id bigint NOT NULL REFERENCES fulfillments(id) ON DELETE CASCADE,
      order_line_id bigint NOT NULL REFERENCES order_lines(id) ON DELETE CASCADE,
      quantity integer NOT NULL CHECK (quantity > 0),
      UNIQUE (fulfillment_id, order_line_id)
    );

    CREATE TABLE shipments (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      fulfillment_id bigint NOT NULL REFERENCES fulfillments(id) ON DELETE CASCADE,
      carrier text NOT NULL,
      service text,
      tracking_number text NOT NULL,
      tracking_url text,
      parcels jsonb NOT NULL DEFAULT '[]',
      shipped_at timestamptz NOT NULL DEFAULT now(),
      delivered_at timestamptz,
      UNIQUE (carrier, tracking_number)
    );

    CREATE TABLE shipment_lines (
      shipment_id bigint NOT NULL REFERENCES shipments(id) ON DELETE CASCADE,
      order_line_id bigint NOT NULL REFERENCES order_lines(id) ON DELETE CASCADE,
      quantity integer NOT NULL CHECK (quantity > 0),
      PRIMARY KEY (shipment_id, order_line_id)
    );

    -- The outbox: one row per side effect owed to a channel.
    CREATE TABLE channel_pushes (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      channel_id bigint NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('fulfillment', 'stock', 'cancel', 'refund')),
      target text NOT NULL,
      payload jsonb NOT NULL DEFAULT '{}',
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      external_ref text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      completed_at timestamptz,
      UNIQUE (channel_id, kind, target)
    );
    CREATE INDEX channel_pushes_pending ON channel_pushes (updated_at) WHERE status = 'pending';
    CREATE INDEX channel_pushes_failed ON channel_pushes (updated_at) WHERE status = 'failed';

    -- The inbox: every webhook delivery, stored before it is acknowledged.
    CREATE TABLE webhook_deliveries (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      channel_id bigint NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
      delivery_key text NOT NULL,
      topic text NOT NULL,
      headers jsonb NOT NULL,
      raw_body bytea NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processed', 'ignored', 'failed')),
      error text,
      received_at timestamptz NOT NULL DEFAULT now(),
      processed_at timestamptz,
      UNIQUE (channel_id, delivery_key)
    );
    CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (received_at) WHERE status = 'pending';

    CREATE TABLE purchase_orders (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      supplier_id bigint REFERENCES suppliers(id),
      location_id bigint REFERENCES locations(id),
      kind text NOT NULL DEFAULT 'stock' CHECK (kind IN ('stock', 'dropship')),
      status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sent', 'partially_received', 'received', 'cancelled')),
      expected_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE purchase_order_lines (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      purchase_order_id bigint NOT NULL REFERENCES purchase_orders(id) ON DELETE CASCADE,
      sku_id bigint NOT NULL REFERENCES skus(id),
      quantity integer NOT NULL CHECK (quantity > 0),
      quantity_received integer NOT NULL DEFAULT 0 CHECK (quantity_received >= 0),
      order_line_id bigint REFERENCES order_lines(id) ON DELETE SET NULL,
      unit_cost numeric(20,4)
    );
    CREATE INDEX purchase_order_lines_po ON purchase_order_lines (purchase_order_id);

    CREATE TABLE returns (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
      status text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'received', 'restocked', 'rejected')),
      reason text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE return_lines (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      return_id bigint NOT NULL REFERENCES returns(id) ON DELETE CASCADE,
      order_line_id bigint NOT NULL REFERENCES order_lines(id) ON DELETE CASCADE,
      quantity integer NOT NULL CHECK (quantity > 0),
      restock boolean NOT NULL DEFAULT true
    );

    CREATE TABLE refunds (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
      external_id text,
      amount numeric(20,4) NOT NULL CHECK (amount >= 0),
      currency char(3) NOT NULL,
      reason text,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (order_id, external_id)
    );

    CREATE TABLE order_history (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
      fulfillment_id bigint REFERENCES fulfillments(id) ON DELETE CASCADE,
      actor text NOT NULL,
      from_state text,
      to_state text NOT NULL,
      reason text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX order_history_order ON order_history (order_id, id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS order_history, refunds, return_lines, returns, purchase_order_lines, purchase_orders,
      webhook_deliveries, channel_pushes, shipment_lines, shipments, fulfillment_lines, fulfillments,
      stock_levels, stock_movements, order_lines, orders, channel_listings, locations, skus, suppliers,
      sync_cursors, channels CASCADE;
    DROP FUNCTION IF EXISTS stock_levels_apply(), stock_movements_append_only();
  `.execute(db);
}
