/**
 * Refunds with lines, both ways (issue #14, part 2).
 *
 * - `refunds` gains where it came from (`source`: the channel, or channelsync
 *   refunding a return it ran), the shipping part of its amount, the return it
 *   pays for (one refund per return at most) and the channel's own time. The
 *   channel's refund id stays `external_id`, unique per order (0001), so a
 *   refund read twice (a poll and a webhook) is recorded once. A refund
 *   channelsync owes has no `external_id` until the channel accepted it.
 * - `refund_lines`: units and money per order line; `restock` is what the
 *   channel said (it put the units back in its stock), `restocked` the units
 *   channelsync booked back on its shelf for it (only units that had shipped:
 *   unshipped ones are released by re-allocation instead).
 * - `return_lines.condition`: what became of each returned unit (restock,
 *   damaged, discard; rows from before are restock or discard by their flag).
 * - `returns.status` gains `approved` (a refund is owed to the channel) and
 *   `refunded` (the channel accepted it).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE refunds
      ADD COLUMN source text NOT NULL DEFAULT 'channel' CHECK (source IN ('channel', 'channelsync')),
      ADD COLUMN shipping numeric(20,4) NOT NULL DEFAULT 0 CHECK (shipping >= 0),
      ADD COLUMN return_id bigint UNIQUE REFERENCES returns(id) ON DELETE SET NULL,
      ADD COLUMN refunded_at timestamptz,
      ADD COLUMN actor text NOT NULL DEFAULT 'channel';

    CREATE TABLE refund_lines (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      refund_id bigint NOT NULL REFERENCES refunds(id) ON DELETE CASCADE,
      order_line_id bigint NOT NULL REFERENCES order_lines(id) ON DELETE CASCADE,
      quantity integer NOT NULL CHECK (quantity >= 0),
      amount numeric(20,4) NOT NULL CHECK (amount >= 0),
      restock boolean NOT NULL DEFAULT false,
      restocked integer NOT NULL DEFAULT 0 CHECK (restocked >= 0 AND restocked <= quantity),
      UNIQUE (refund_id, order_line_id)
    );
    CREATE INDEX refund_lines_order_line ON refund_lines (order_line_id);

    ALTER TABLE return_lines ADD COLUMN condition text NOT NULL DEFAULT 'restock' CHECK (condition IN ('restock', 'damaged', 'discard'));
    UPDATE return_lines SET condition = 'discard' WHERE NOT restock;

    ALTER TABLE returns DROP CONSTRAINT returns_status_check;
    ALTER TABLE returns ADD CONSTRAINT returns_status_check
      CHECK (status IN ('requested', 'received', 'restocked', 'rejected', 'approved', 'refunded'));
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE returns DROP CONSTRAINT returns_status_check;
    UPDATE returns SET status = 'received' WHERE status IN ('approved', 'refunded');
    ALTER TABLE returns ADD CONSTRAINT returns_status_check CHECK (status IN ('requested', 'received', 'restocked', 'rejected'));
    ALTER TABLE return_lines DROP COLUMN condition;
    DROP TABLE refund_lines;
    ALTER TABLE refunds DROP COLUMN source, DROP COLUMN shipping, DROP COLUMN return_id, DROP COLUMN refunded_at, DROP COLUMN actor;
  `.execute(db);
}
