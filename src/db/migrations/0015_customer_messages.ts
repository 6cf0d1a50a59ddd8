/**
 * Customer messages, feedback and shipping labels (issue #14).
 *
 * - `customer_messages`: the mail outbox. One row per message owed to a
 *   customer, written in the transaction of the event that owes it (a
 *   fulfilment push done: `shipping`; a shipment delivered: `delivery`; an
 *   order delivered: `feedback`, due `FEEDBACK_AFTER_DAYS` later). Unique per
 *   order, kind and subject (the shipment id, or '' for the order's feedback
 *   request), so an event seen twice owes one message. `message_id` is the
 *   stable RFC 5322 Message-ID of the row; `claimed_until` is the lease of the
 *   run sending it (two runs at once: the second waits).
 * - `feedback`: one rating per order (1-5, a comment), kept up to date by a
 *   later submission from the same link; `flagged` marks a low rating for a person.
 * - `shipment_labels`: the 4x6 label PDF printed for a shipment, kept with it.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE customer_messages (
      id bigserial PRIMARY KEY,
      order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('shipping', 'delivery', 'feedback')),
      subject text NOT NULL DEFAULT '',
      to_address text NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
      due_at timestamptz NOT NULL DEFAULT now(),
      message_id text NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      claimed_until timestamptz,
      last_error text,
      smtp_response text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      sent_at timestamptz,
      UNIQUE (order_id, kind, subject)
    )
  `.execute(db);
  await sql`CREATE INDEX customer_messages_pending ON customer_messages (due_at) WHERE status = 'pending'`.execute(db);
  await sql`
    CREATE TABLE feedback (
      order_id bigint PRIMARY KEY REFERENCES orders(id) ON DELETE CASCADE,
      rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
      comment text NOT NULL DEFAULT '' CHECK (length(comment) <= 2000),
      flagged boolean NOT NULL DEFAULT false,
      submissions integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )
  `.execute(db);
  await sql`CREATE INDEX feedback_flagged ON feedback (updated_at) WHERE flagged`.execute(db);
  await sql`
    CREATE TABLE shipment_labels (
      shipment_id bigint PRIMARY KEY REFERENCES shipments(id) ON DELETE CASCADE,
      pdf bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE shipment_labels`.execute(db);
  await sql`DROP TABLE feedback`.execute(db);
  await sql`DROP TABLE customer_messages`.execute(db);
}
