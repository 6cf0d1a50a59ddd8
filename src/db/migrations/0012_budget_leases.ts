/**
 * Leases of waiting reservations on a rate bucket (Postgres `RateBudget`,
 * embedded mode). A reservation that has to wait is counted in
 * `rate_buckets.pending` and gets a lease here that its holder renews while it
 * waits; when a holder dies (SIGKILL) the lease runs out and the next call on
 * the bucket deletes it and gives its points back, so a dead process can no
 * longer keep the bucket short for as long as traffic refreshes the row.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE rate_budget_leases (
      bucket text NOT NULL,
      id text NOT NULL,
      cost double precision NOT NULL,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (bucket, id)
    );
    CREATE INDEX rate_budget_leases_expires_idx ON rate_budget_leases (bucket, expires_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE rate_budget_leases`.execute(db);
}
