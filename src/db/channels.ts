/**
 * Channel rows: credentials are sealed with AES-256-GCM before they reach the
 * database and opened only when a connector is built.
 */
import { sql } from 'kysely';
import type { Db } from './index.ts';
import { decryptJson, encryptJson, keyId, opens } from '../crypto.ts';
import { ConfigError } from '../domain/errors.ts';
import type { ChannelRecord } from '../../connectors/types.ts';

export interface NewChannel {
  kind: string;
  name: string;
  settings: Record<string, unknown>;
  credentials: Record<string, unknown>;
}

export interface ChannelSummary {
  id: number;
  kind: string;
  name: string;
  enabled: boolean;
  settings: Record<string, unknown>;
  createdAt: Date;
}

const aad = (id: number) => `channel:${id}`;

export async function addChannel(db: Db, key: Buffer, input: NewChannel): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('channels').select('id').where('name', '=', input.name).executeTakeFirst();
    if (existing) throw new ConfigError(`a channel named "${input.name}" exists already (id ${existing.id})`);
    // The id is part of the ciphertext's authenticated data, so insert first, then seal.
    const { id } = await trx
      .insertInto('channels')
      .values({ kind: input.kind, name: input.name, settings: JSON.stringify(input.settings), credentials_encrypted: '' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx
      .updateTable('channels')
      .set({ credentials_encrypted: encryptJson(key, input.credentials, aad(id)), credential_key_id: keyId(key) })
      .where('id', '=', id)
      .execute();
    return id;
  });
}

export async function listChannels(db: Db): Promise<ChannelSummary[]> {
  const rows = await db
    .selectFrom('channels')
    .select(['id', 'kind', 'name', 'enabled', 'settings', 'created_at'])
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: r.id, kind: r.kind, name: r.name, enabled: r.enabled, settings: r.settings, createdAt: r.created_at }));
}

/**
 * `credentials[name] = value` on channel `id`, re-sealed in one transaction with the row
 * locked, when the stored value still equals `replaces` (undefined: absent): a
 * compare-and-set, so of two processes that each obtained a credential (two signing
 * keys), the first one stored wins and both use it. Returns the value stored afterwards.
 * `updated_at` moves, so connector caches rebuild with it.
 */
export async function storeCredential(db: Db, key: Buffer, id: number, name: string, value: unknown, replaces?: unknown): Promise<unknown> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('channels').select(['id', 'credentials_encrypted', 'credential_key_id']).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!row) throw new ConfigError(`channel ${id} does not exist`);
    const credentials = openCredentials(key, row);
    if (JSON.stringify(credentials[name]) !== JSON.stringify(replaces)) return credentials[name];
    await trx
      .updateTable('channels')
      .set({ credentials_encrypted: encryptJson(key, { ...credentials, [name]: value }, aad(id)), credential_key_id: keyId(key), updated_at: sql`now()` })
      .where('id', '=', id)
      .execute();
    return value;
  });
}

/** Loads and decrypts one channel. Null when it does not exist. */
export async function loadChannel(db: Db, key: Buffer, id: number): Promise<(ChannelRecord & { enabled: boolean; updatedAt: Date }) | null> {
  const row = await db.selectFrom('channels').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return null;
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    enabled: row.enabled,
    updatedAt: row.updated_at,
    settings: row.settings,
    credentials: openCredentials(key, row),
  };
}

function openCredentials(key: Buffer, row: { id: number; credentials_encrypted: string; credential_key_id: string | null }): Record<string, unknown> {
  try {
    return decryptJson<Record<string, unknown>>(key, row.credentials_encrypted, aad(row.id));
  } catch (err) {
    // Say which key the row wants: mid-rotation, a process still on the old key is the usual cause.
    if (row.credential_key_id && row.credential_key_id !== keyId(key)) {
      throw new ConfigError(
        `channel credentials cannot be decrypted: CHANNELSYNC_SECRET_KEY is not the key they were stored with (channel ${row.id}'s are ` +
          `under key ${row.credential_key_id}, CHANNELSYNC_SECRET_KEY is key ${keyId(key)}: run every process with the key "channelsync secrets rotate" moved them to)`,
        { cause: err },
      );
    }
    throw err;
  }
}

/** What `rotateCredentials` did. */
export interface RotationReport {
  /** Channels re-sealed under the new key by this run. */
  rotated: number;
  /** Channels already under the new key (a resumed run). */
  alreadyNew: number;
}

/**
 * Re-seals every channel's credentials under `newKey`. Rows are checked first:
 * when any row opens under neither key nothing is changed (a `ConfigError`
 * names the rows). Then each row is re-sealed in a transaction of its own,
 * with `credential_key_id` recording the key, so an interrupted run is
 * resumed by running it again: rows already under the new key are skipped.
 * `onRotated` is called after each row commits (progress).
 */
export async function rotateCredentials(
  db: Db,
  oldKey: Buffer,
  newKey: Buffer,
  onRotated: (channelId: number) => void = () => {},
): Promise<RotationReport> {
  const newId = keyId(newKey);
  const rows = await db.selectFrom('channels').select(['id', 'name', 'credentials_encrypted', 'credential_key_id']).orderBy('id').execute();
  const unopenable = rows.filter((r) => !opens(oldKey, r.credentials_encrypted, aad(r.id)) && !opens(newKey, r.credentials_encrypted, aad(r.id)));
  if (unopenable.length > 0) {
    throw new ConfigError(
      `neither key opens the credentials of ${unopenable.map((r) => `channel ${r.id} ("${r.name}")`).join(', ')}: nothing was changed. ` +
        'CHANNELSYNC_SECRET_KEY must be the key they are sealed under now',
    );
  }
  const report: RotationReport = { rotated: 0, alreadyNew: 0 };
  for (const { id } of rows) {
    const moved = await db.transaction().execute(async (trx) => {
      // Locked and read again: another process may have changed the row since the check.
      const row = await trx.selectFrom('channels').select(['credentials_encrypted', 'credential_key_id']).where('id', '=', id).forUpdate().executeTakeFirst();
      if (!row) return false;
      if (opens(newKey, row.credentials_encrypted, aad(id))) {
        if (row.credential_key_id !== newId) await trx.updateTable('channels').set({ credential_key_id: newId }).where('id', '=', id).execute();
        return false;
      }
      const credentials = decryptJson(oldKey, row.credentials_encrypted, aad(id));
      await trx
        .updateTable('channels')
        .set({ credentials_encrypted: encryptJson(newKey, credentials, aad(id)), credential_key_id: newId, updated_at: sql`now()` })
        .where('id', '=', id)
        .execute();
      return true;
    });
    if (moved) {
      report.rotated += 1;
      onRotated(id);
    } else {
      report.alreadyNew += 1;
    }
  }
  return report;
}

/** Finds a channel by id (digits) or name. */
export async function resolveChannelId(db: Db, ref: string): Promise<number> {
  const q = db.selectFrom('channels').select('id');
  const row = /^\d+$/.test(ref)
    ? await q.where('id', '=', Number(ref)).executeTakeFirst()
    : await q.where('name', '=', ref).executeTakeFirst();
  if (!row) throw new ConfigError(`no channel with id or name "${ref}" (see: channelsync channels list)`);
  return row.id;
}

export async function setChannelEnabled(db: Db, id: number, enabled: boolean): Promise<void> {
  await db.updateTable('channels').set({ enabled, updated_at: sql`now()` }).where('id', '=', id).execute();
}

/**
 * Removes a channel. A channel with orders is kept unless `purge` is set,
 * because its orders are the merchant's records.
 */
export async function removeChannel(db: Db, id: number, purge: boolean): Promise<{ ordersDeleted: number }> {
  return db.transaction().execute(async (trx) => {
    const { count } = await trx
      .selectFrom('orders')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('channel_id', '=', id)
      .executeTakeFirstOrThrow();
    const orders = Number(count);
    if (orders > 0 && !purge) {
      throw new ConfigError(
        `channel ${id} has ${orders} orders: disable it with "channelsync channels disable ${id}", or remove it and its orders with --purge`,
      );
    }
    if (orders > 0) await trx.deleteFrom('orders').where('channel_id', '=', id).execute();
    await trx.deleteFrom('channels').where('id', '=', id).execute();
    return { ordersDeleted: orders };
  });
}

/** A channel's pause: since when and why (the channel's words). */
export interface ChannelPauseState {
  at: Date;
  reason: string;
}

/**
 * The exact command that ends a pause: new credentials saved for the channel
 * (given on standard input, merged with the current ones, checked against the store).
 */
export function reconnectCommand(channelId: number): string {
  return `channelsync channels credentials ${channelId} --credentials-stdin`;
}

/** What a person reads about a paused channel: why, since when, and the command that ends it. */
export function pauseAdvice(channelId: number, pause: ChannelPauseState): string {
  return `channel ${channelId} is paused since ${pause.at.toISOString().slice(0, 19).replace('T', ' ')} UTC: ${pause.reason}; reconnect the account: ${reconnectCommand(channelId)}`;
}

/**
 * Pauses a channel until a person saves new credentials. The first reason is kept
 * when it is paused already (a revocation followed by refused refreshes). Does not
 * touch `updated_at`: the connector stays built, its jobs are refused by the cache.
 */
export async function pauseChannel(db: Db, id: number, reason: string): Promise<void> {
  await db.updateTable('channels').set({ paused_at: sql`now()`, paused_reason: reason }).where('id', '=', id).where('paused_at', 'is', null).execute();
}

/** The channel's pause; null when it runs. */
export async function channelPause(db: Db, id: number): Promise<ChannelPauseState | null> {
  const row = await db.selectFrom('channels').select(['paused_at', 'paused_reason']).where('id', '=', id).executeTakeFirst();
  return row?.paused_at ? { at: row.paused_at, reason: row.paused_reason ?? '' } : null;
}

/**
 * Saves new credentials for a channel and, in the same write, ends its pause:
 * reconnecting the account is the one thing that revives a paused channel.
 * `updated_at` moves, so every process rebuilds the connector with them.
 * Returns the pause that was ended, if any.
 */
export async function replaceCredentials(db: Db, key: Buffer, id: number, credentials: Record<string, unknown>): Promise<ChannelPauseState | null> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('channels').select(['paused_at', 'paused_reason']).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!row) throw new ConfigError(`no channel with id ${id} (see: channelsync channels list)`);
    await trx
      .updateTable('channels')
      .set({ credentials_encrypted: encryptJson(key, credentials, aad(id)), credential_key_id: keyId(key), paused_at: null, paused_reason: null, updated_at: sql`now()` })
      .where('id', '=', id)
      .execute();
    return row.paused_at ? { at: row.paused_at, reason: row.paused_reason ?? '' } : null;
  });
}
