/**
 * `stock_submissions`: stock sent through a channel's asynchronous bulk job
 * (Amazon's JSON_LISTINGS_FEED), whose result arrives minutes later. The push
 * rows it carries stay `pending` until the submission's report is read; each
 * carried row keeps the quantity and the row's `updated_at` it was sent with
 * (a row changed since is pushed again, not marked done) and, once known,
 * its own result. At most one submission per channel is in flight (Amazon
 * processes a seller's feeds one after another).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE stock_submissions (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      channel_id bigint NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
      handle text NOT NULL,
      -- The push whose job submitted it and asks the channel how it ended; the others wait for the answer.
      owner_push_id bigint NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
      created_at timestamptz NOT NULL DEFAULT now(),
      completed_at timestamptz
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX stock_submissions_one_in_flight ON stock_submissions (channel_id) WHERE status = 'pending'`.execute(db);
  await sql`
    CREATE TABLE stock_submission_rows (
      submission_id bigint NOT NULL REFERENCES stock_submissions(id) ON DELETE CASCADE,
      push_id bigint NOT NULL REFERENCES channel_pushes(id) ON DELETE CASCADE,
      listing_id bigint NOT NULL,
      sku text NOT NULL,
      available integer NOT NULL,
      stamp timestamptz NOT NULL,
      ok boolean,
      error text,
      retryable boolean,
      seen boolean NOT NULL DEFAULT false,
      PRIMARY KEY (submission_id, push_id)
    )`.execute(db);
  await sql`CREATE INDEX stock_submission_rows_push ON stock_submission_rows (push_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE stock_submission_rows`.execute(db);
  await sql`DROP TABLE stock_submissions`.execute(db);
}
