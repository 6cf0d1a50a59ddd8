/**
 * State shared between processes when there is no Redis (embedded mode):
 * rate-limit buckets and small values with an expiry. Rows are keyed by
 * `<prefix>:<key>`; expired rows are ignored on read and deleted now and then.
 * Names must not collide with BullMQ's tables (`rate_limit`, `meta`, ...),
 * which share the search path in embedded mode.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE rate_buckets (
      key text PRIMARY KEY,
      -- Points left; negative while callers wait out reservations made ahead of the refill.
      level double precision NOT NULL,
      updated_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL
    );

    CREATE TABLE shared_values (
      key text PRIMARY KEY,
      value text NOT NULL,
      expires_at timestamptz NOT NULL
    );
    CREATE INDEX shared_values_expires_idx ON shared_values (expires_at);
    CREATE INDEX rate_buckets_expires_idx ON rate_buckets (expires_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE shared_values; DROP TABLE rate_buckets;`.execute(db);
}
