/**
 * `channelsync secrets rotate`, run as a person runs it: every channel's
 * credentials move to the new key; a run interrupted by a row that fails to
 * save leaves the others under the new key and is finished by running it
 * again; a key that opens nothing is refused before anything changes; the
 * new key is never taken from the command line.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../src/db/index.ts';
import { addChannel, loadChannel } from '../src/db/channels.ts';
import { keyId } from '../src/crypto.ts';
import { createTestDatabase, type TestDatabase } from './helpers/services.ts';
import { runCli } from './helpers/cli.ts';

let database: TestDatabase;
let db: Db;
const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const ids: number[] = [];
const creds = (i: number) => ({ accessToken: `shpat_${i}_${randomBytes(8).toString('hex')}` });

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { max: 2 });
  for (let i = 0; i < 4; i++) ids.push(await addChannel(db, oldKey, { kind: 'shopify', name: `shop-${i}`, settings: {}, credentials: creds(i) }));
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const env = (extra: Record<string, string> = {}) => ({ DATABASE_URL: database.url, CHANNELSYNC_SECRET_KEY: oldKey.toString('hex'), ...extra });
const keyFile = (key: Buffer) => {
  const file = join(mkdtempSync(join(tmpdir(), 'cs-key-')), 'new.key');
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600 });
  return file;
};
const keyIds = async () => (await db.selectFrom('channels').select(['id', 'credential_key_id']).orderBy('id').execute()).map((r) => r.credential_key_id);

describe('channelsync secrets rotate', () => {
  it('refuses a current key that opens no row, changing nothing', async () => {
    const before = await db.selectFrom('channels').select('credentials_encrypted').orderBy('id').execute();
    const run = await runCli(['secrets', 'rotate'], env({ CHANNELSYNC_SECRET_KEY: randomBytes(32).toString('hex'), CHANNELSYNC_NEW_SECRET_KEY: newKey.toString('hex') }));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/neither key opens the credentials of channel \d+ \("shop-0"\).*nothing was changed/);
    expect(await db.selectFrom('channels').select('credentials_encrypted').orderBy('id').execute()).toEqual(before);
  });

  it('takes the new key from a file or the environment, never argv', async () => {
    const run = await runCli(['secrets', 'rotate', '--new-key', newKey.toString('hex')], env());
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/unknown option '--new-key'/);
    const none = await runCli(['secrets', 'rotate'], env());
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no new key: give --new-key-file <path> or set CHANNELSYNC_NEW_SECRET_KEY/);
  });

  it('resumes after a row fails midway, and every channel then opens under the new key only', async () => {
    // The third row cannot be saved (as if the process died there): a trigger refuses its update.
    await sql`CREATE FUNCTION refuse_rotation() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$`.execute(db);
    await sql.raw(`CREATE TRIGGER refuse_rotation BEFORE UPDATE ON channels FOR EACH ROW WHEN (OLD.id = ${ids[2]}) EXECUTE FUNCTION refuse_rotation()`).execute(db);
    const file = keyFile(newKey);
    const first = await runCli(['secrets', 'rotate', '--new-key-file', file], env());
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/disk full/);
    expect(first.stdout).toContain(`channel ${ids[1]}: re-encrypted`);
    // The rows before the failure are under the new key (each in its own transaction), the rest still under the old.
    expect(await keyIds()).toEqual([keyId(newKey), keyId(newKey), keyId(oldKey), keyId(oldKey)]);
    expect((await loadChannel(db, newKey, ids[0]!))!.credentials).toMatchObject({ accessToken: expect.stringMatching(/^shpat_0_/) });

    await sql`DROP TRIGGER refuse_rotation ON channels`.execute(db);
    const again = await runCli(['secrets', 'rotate', '--new-key-file', file], env());
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/2 channels re-encrypted, 2 already under key/);

    expect(await keyIds()).toEqual(ids.map(() => keyId(newKey)));
    for (const [i, id] of ids.entries()) {
      expect((await loadChannel(db, newKey, id))!.credentials.accessToken).toMatch(new RegExp(`^shpat_${i}_`));
      await expect(loadChannel(db, oldKey, id)).rejects.toThrow(/not the key they were stored with.*under key/);
    }
    // A daemon started with the new key (env as a file would give it) lists and opens them.
    const list = await runCli(['channels', 'list'], { ...env({ CHANNELSYNC_SECRET_KEY: newKey.toString('hex') }), REDIS_URL: 'redis://127.0.0.1:6379', QUEUE_PREFIX: `{cs-rot-${randomBytes(3).toString('hex')}}` });
    expect(list.stdout).toContain('shop-3');
  }, 60_000);
});
