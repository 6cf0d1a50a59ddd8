/**
 * Rate buckets count the points ever reserved (`issued`), so a waiting caller
 * holds a ticket and goes as soon as the bucket covers it: a refund (a query
 * that cost less than it asked for) moves every waiter forward at once,
 * instead of each one sleeping out a wait computed when it reserved. The
 * points still waiting (`pending`) are kept out of what the channel reports
 * when the bucket is aligned with it.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE rate_buckets ADD COLUMN issued double precision NOT NULL DEFAULT 0;
    -- Points of reservations still waiting (not sent, so not in what the channel reports).
    ALTER TABLE rate_buckets ADD COLUMN pending double precision NOT NULL DEFAULT 0;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rate_buckets DROP COLUMN issued, DROP COLUMN pending`.execute(db);
}
