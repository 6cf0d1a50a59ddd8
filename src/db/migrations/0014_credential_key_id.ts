/**
 * `credential_key_id`: which secret key a channel's credentials are sealed
 * under (`keyId()` in src/crypto.ts, a fingerprint, not the key). It lets
 * `channelsync secrets rotate` resume after an interruption and say which
 * key a row needs. Null for rows sealed before this column: rotate finds out
 * by trying the keys it is given.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE channels ADD COLUMN credential_key_id text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE channels DROP COLUMN credential_key_id`.execute(db);
}
