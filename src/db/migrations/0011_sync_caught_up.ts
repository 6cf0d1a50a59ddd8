/**
 * `caught_up_at`: the start of the last order pull that ran to its end, per
 * channel. Every order the channel changed before it is in Postgres. A stock
 * reading taken before it can be compared with the ledger without mistaking
 * sales not yet pulled for drift (src/stock/reconcile.ts).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE sync_cursors ADD COLUMN caught_up_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE sync_cursors DROP COLUMN caught_up_at`.execute(db);
}
