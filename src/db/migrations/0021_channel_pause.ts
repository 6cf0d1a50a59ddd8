/**
 * A channel paused until a person acts (the seller took channelsync's access
 * away: eBay's AUTHORIZATION_REVOCATION, a refresh token refused with
 * invalid_grant). Kept on the channel row, not in Redis: a pause must survive a
 * flush, be seen by every process and by `channelsync status`, and end only when
 * a person saves new credentials (`channelsync channels credentials`).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE channels ADD COLUMN paused_at timestamptz, ADD COLUMN paused_reason text`.execute(db);
  await sql`ALTER TABLE channels ADD CONSTRAINT channels_pause_has_reason CHECK ((paused_at IS NULL) = (paused_reason IS NULL))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE channels DROP CONSTRAINT channels_pause_has_reason, DROP COLUMN paused_reason, DROP COLUMN paused_at`.execute(db);
}
