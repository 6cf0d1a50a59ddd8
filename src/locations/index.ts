/**
 * Locations (warehouses, shops, a back room): where stock is counted.
 * Allocation, `stock adjust` and opening balances need at least one active
 * location; the first run creates a default one (`ensureDefaultLocation`).
 *
 * A location is never deleted: movements point at it (the ledger is
 * append-only). Deactivating one takes its stock out of what channels are
 * shown and out of allocation, so callers notify the SKUs it held.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import { ConfigError, PermanentError } from '../domain/errors.ts';

type Executor = Kysely<Database> | Transaction<Database>;

/** The code and name of the location the first run creates. */
export const DEFAULT_LOCATION = { code: 'MAIN', name: 'Main warehouse' } as const;

export interface Location {
  id: number;
  code: string;
  name: string;
  active: boolean;
  /** Lower is preferred by allocation. Default 100. */
  priority: number;
  createdAt: Date;
  /** Units physically there (sum of on hand over its SKUs). */
  onHand: number;
  /** Units promised to orders there. */
  reserved: number;
}

export interface LocationInput {
  /** Short unique code used on the command line and in the API (`MAIN`, `LDN-1`). */
  code: string;
  /** Human name; default: the code. */
  name?: string;
  priority?: number;
}

export interface LocationChange {
  name?: string;
  priority?: number;
  active?: boolean;
}

const CODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function checkCode(code: string): string {
  const c = code.trim();
  if (!CODE.test(c)) throw new ConfigError(`location code "${code}" must be 1-64 letters, digits, "-", "_" or ".", starting with a letter or digit`);
  return c;
}

function checkPriority(priority: number | undefined): void {
  if (priority !== undefined && (!Number.isInteger(priority) || priority < 0 || priority > 1_000_000)) {
    throw new ConfigError(`priority must be a whole number from 0 to 1000000, got ${priority}`);
  }
}

function checkName(name: string | undefined): void {
  if (name !== undefined && (name.trim() === '' || name.length > 200)) throw new ConfigError('name must be 1-200 characters');
}

async function select(db: Executor, where: { code?: string; includeInactive?: boolean }): Promise<Location[]> {
  const { rows } = await sql<{ id: number; code: string; name: string; active: boolean; priority: number; created_at: Date; on_hand: number; reserved: number }>`
    SELECT l.id, l.code, l.name, l.active, l.priority, l.created_at,
      COALESCE(sum(sl.on_hand), 0)::int AS on_hand, COALESCE(sum(sl.reserved), 0)::int AS reserved
    FROM locations l LEFT JOIN stock_levels sl ON sl.location_id = l.id
    WHERE ${where.code === undefined ? sql`true` : sql`l.code = ${where.code}`}
      AND ${where.includeInactive === false ? sql`l.active` : sql`true`}
    GROUP BY l.id ORDER BY l.active DESC, l.priority, l.id`.execute(db);
  return rows.map((r) => ({
    id: r.id, code: r.code, name: r.name, active: r.active, priority: r.priority, createdAt: r.created_at, onHand: r.on_hand, reserved: r.reserved,
  }));
}

/** Every location, active ones first (by priority), with its stock totals. */
export async function listLocations(db: Executor, options: { includeInactive?: boolean } = {}): Promise<Location[]> {
  return select(db, { includeInactive: options.includeInactive ?? true });
}

/** One location by code, or null. */
export async function getLocation(db: Executor, code: string): Promise<Location | null> {
  return (await select(db, { code: code.trim() }))[0] ?? null;
}

/** Adds a location. A code that exists is refused (`PermanentError`: a conflict, not bad input). */
export async function addLocation(db: Executor, input: LocationInput): Promise<Location> {
  const code = checkCode(input.code);
  checkName(input.name);
  checkPriority(input.priority);
  const row = await db
    .insertInto('locations')
    .values({ code, name: input.name?.trim() ?? code, ...(input.priority !== undefined ? { priority: input.priority } : {}) })
    .onConflict((oc) => oc.column('code').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!row) throw new PermanentError(`location "${code}" already exists (change it with "channelsync locations update ${code}")`);
  return (await getLocation(db, code))!;
}

/**
 * Changes name, priority or active. Returns null when no location has this
 * code. Deactivating is refused for the last active location and for one
 * holding reserved units (open allocations ship from there).
 */
export async function updateLocation(db: Kysely<Database>, code: string, change: LocationChange): Promise<{ location: Location; skuIds: number[] } | null> {
  checkName(change.name);
  checkPriority(change.priority);
  return db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('locations').selectAll().where('code', '=', code.trim()).forUpdate().executeTakeFirst();
    if (!current) return null;
    if (change.active === false && current.active) {
      // Serialises deactivations, so two at once cannot both leave "another active one".
      await sql`SELECT pg_advisory_xact_lock(7304, 0)`.execute(trx);
      const others = await trx.selectFrom('locations').select('id').where('active', '=', true).where('id', '<>', current.id).executeTakeFirst();
      if (!others) throw new PermanentError(`location "${current.code}" is the only active location: add another before deactivating it`);
      const held = await trx.selectFrom('stock_levels').select((eb) => eb.fn.sum<number>('reserved').as('reserved')).where('location_id', '=', current.id).executeTakeFirst();
      if (Number(held?.reserved ?? 0) > 0) {
        throw new PermanentError(`location "${current.code}" holds ${held!.reserved} units reserved for open orders: ship or cancel them first`);
      }
    }
    await trx
      .updateTable('locations')
      .set({
        ...(change.name !== undefined ? { name: change.name.trim() } : {}),
        ...(change.priority !== undefined ? { priority: change.priority } : {}),
        ...(change.active !== undefined ? { active: change.active } : {}),
      })
      .where('id', '=', current.id)
      .execute();
    // Active or not changes what every channel is shown for the SKUs stocked there.
    const skuIds = change.active !== undefined && change.active !== current.active
      ? (await trx.selectFrom('stock_levels').select('sku_id').where('location_id', '=', current.id).execute()).map((r) => r.sku_id)
      : [];
    return { location: (await getLocation(trx, current.code))!, skuIds };
  });
}

/**
 * Creates the default location when there is no location at all (the first
 * run). Safe to run from several processes at once: the code is unique.
 */
export async function ensureDefaultLocation(db: Executor): Promise<{ id: number; code: string; created: boolean } | null> {
  const created = await sql<{ id: number; code: string }>`
    INSERT INTO locations (code, name)
    SELECT ${DEFAULT_LOCATION.code}, ${DEFAULT_LOCATION.name}
    WHERE NOT EXISTS (SELECT 1 FROM locations)
    ON CONFLICT (code) DO NOTHING
    RETURNING id, code`.execute(db);
  if (created.rows[0]) return { ...created.rows[0], created: true };
  return null;
}

/** The line the CLI prints and the daemon logs when the default location was created. */
export function defaultLocationCreatedMessage(code: string): string {
  return `no location existed: created the default location "${code}" (${DEFAULT_LOCATION.name}); add others with "channelsync locations add <code>"`;
}
