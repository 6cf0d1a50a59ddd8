/**
 * The stock ledger: every change is an appended movement with a reason and a
 * reference; `stock_levels` follows by trigger (0001_initial), so a level is
 * always the sum of its movements and can be explained from them.
 *
 * Every movement owes the channels a stock push in its own transaction: a
 * trigger writes the pending `channel_pushes` rows (migration 0009). The
 * caller only kicks the push jobs after its commit (`kickStockPushes`), so a
 * push never reads a level that was rolled back.
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Database, StockMovementsTable } from '../db/schema.ts';
import { ConfigError, PermanentError } from '../domain/errors.ts';

type Executor = Kysely<Database> | Transaction<Database>;
export type MovementReason = StockMovementsTable['reason'];

export interface Movement {
  skuId: number;
  locationId: number;
  /** Change in units physically present. */
  onHand?: number;
  /** Change in units promised to orders. */
  reserved?: number;
  reason: MovementReason;
  /** What caused it: `order:<id>`, `po:<id>`, `count:<date>`, `return:<id>`... */
  reference: string;
  note?: string | null;
  actor?: string;
}

/** Appends movements (one statement). Movements that change nothing are skipped. */
export async function recordMovements(db: Executor, movements: Movement[]): Promise<number> {
  const rows = movements
    // An opening balance of 0 is kept: it is what makes the SKU initialised (0010_opening_balance).
    .filter((m) => (m.onHand ?? 0) !== 0 || (m.reserved ?? 0) !== 0 || m.reason === 'opening_balance')
    .map((m) => ({
      sku_id: m.skuId,
      location_id: m.locationId,
      on_hand_delta: m.onHand ?? 0,
      reserved_delta: m.reserved ?? 0,
      reason: m.reason,
      reference: m.reference,
      note: m.note ?? null,
      actor: m.actor ?? 'system',
    }));
  if (rows.length === 0) return 0;
  await db.insertInto('stock_movements').values(rows).execute();
  return rows.length;
}

/**
 * The movement of each business event, so every caller books it the same way:
 * - receipt: goods in (+on hand);
 * - reservation / release: promised to an order / promise withdrawn (±reserved);
 * - shipment: a reserved unit leaves (−on hand, −reserved);
 * - return_restock: a returned unit back on the shelf (+on hand);
 * - damage: written off (−on hand); adjustment: any signed correction;
 * - openingBalance: what a channel showed when its listings were imported
 *   (`listings sync --import-stock`); may be 0.
 */
export const movementFor = {
  receipt: (skuId: number, locationId: number, qty: number, reference: string): Movement => ({ skuId, locationId, onHand: qty, reason: 'receipt', reference }),
  reservation: (skuId: number, locationId: number, qty: number, reference: string): Movement => ({ skuId, locationId, reserved: qty, reason: 'reservation', reference }),
  release: (skuId: number, locationId: number, qty: number, reference: string): Movement => ({ skuId, locationId, reserved: -qty, reason: 'release', reference }),
  shipment: (skuId: number, locationId: number, qty: number, reference: string): Movement => ({ skuId, locationId, onHand: -qty, reserved: -qty, reason: 'shipment', reference }),
  returnRestock: (skuId: number, locationId: number, qty: number, reference: string): Movement => ({ skuId, locationId, onHand: qty, reason: 'return_restock', reference }),
  damage: (skuId: number, locationId: number, qty: number, reference: string): Movement => ({ skuId, locationId, onHand: -qty, reason: 'damage', reference }),
  openingBalance: (skuId: number, locationId: number, qty: number, reference: string): Movement => ({ skuId, locationId, onHand: qty, reason: 'opening_balance', reference }),
};

export interface Adjustment {
  skuId: number;
  locationId: number;
  /** `delta`: add this many (negative removes). `count`: the shelf holds exactly this many now. */
  mode: 'delta' | 'count';
  quantity: number;
  reason: Extract<MovementReason, 'adjustment' | 'count' | 'damage' | 'receipt'>;
  reference: string;
  note?: string | null;
  actor?: string;
}

/**
 * Books a manual change. A count becomes the difference to the current level,
 * computed under a row lock so two counts at once cannot both apply their
 * difference. Returns the on-hand change booked (0 when the count matched).
 */
export async function adjustStock(db: Kysely<Database>, a: Adjustment): Promise<{ delta: number; onHand: number }> {
  if (!Number.isInteger(a.quantity)) throw new ConfigError(`quantity must be a whole number, got ${a.quantity}`);
  if (a.mode === 'count' && a.quantity < 0) throw new ConfigError('a counted quantity cannot be negative');
  if (a.reason === 'damage' && a.mode === 'delta' && a.quantity > 0) throw new ConfigError('damage removes stock: give a negative quantity');
  return db.transaction().execute(async (trx) => {
    // Serialises counts of one SKU and location even before its level row exists.
    await sql`SELECT pg_advisory_xact_lock(7303, ${a.skuId}::int # ${a.locationId}::int)`.execute(trx);
    const level = await trx
      .selectFrom('stock_levels')
      .select('on_hand')
      .where('sku_id', '=', a.skuId)
      .where('location_id', '=', a.locationId)
      .executeTakeFirst();
    const current = level?.on_hand ?? 0;
    const delta = a.mode === 'count' ? a.quantity - current : a.quantity;
    await recordMovements(trx, [
      { skuId: a.skuId, locationId: a.locationId, onHand: delta, reason: a.reason, reference: a.reference, note: a.note, actor: a.actor },
    ]);
    return { delta, onHand: current + delta };
  });
}

/**
 * SQL, true when channelsync has been told this SKU's stock: it has at least
 * one movement (an opening balance, a count, a receipt...). A SKU without one
 * is "not initialised": its level would read 0 only because nobody said
 * otherwise, so reconciliation and stock pushes leave the channel alone.
 * `skuIdColumn` names the SKU id column of the outer query (`cl.sku_id`).
 */
export function stockInitialised(skuIdColumn: string): RawBuilder<boolean> {
  return sql<boolean>`EXISTS (SELECT 1 FROM stock_movements sm_init WHERE sm_init.sku_id = ${sql.ref(skuIdColumn)})`;
}

/** Resolves a SKU code to its id, with a clear error when unknown. */
export async function skuIdOf(db: Executor, sku: string): Promise<number> {
  const row = await db.selectFrom('skus').select('id').where('sku', '=', sku).executeTakeFirst();
  if (!row) throw new PermanentError(`unknown SKU "${sku}" (import listings with "channelsync listings sync <channel>")`);
  return row.id;
}

/** Resolves a location code (or the only/first active one by priority when none is given). */
export async function locationIdOf(db: Executor, code?: string): Promise<number> {
  let q = db.selectFrom('locations').select(['id', 'code']);
  q = code ? q.where('code', '=', code) : q.where('active', '=', true).orderBy('priority').orderBy('id');
  const row = await q.executeTakeFirst();
  if (!row) {
    throw new PermanentError(code ? `unknown location "${code}"` : 'no active location: add one with "channelsync locations add <code>"');
  }
  return row.id;
}

/** Ensures a location with this code exists (the first one is created on first use). */
export async function ensureLocation(db: Executor, code: string, name = code): Promise<number> {
  const row = await db
    .insertInto('locations')
    .values({ code, name })
    .onConflict((oc) => oc.column('code').doUpdateSet({ name: (eb) => eb.ref('locations.name') }))
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export interface LevelCheck {
  skuId: number;
  locationId: number;
  level: { onHand: number; reserved: number };
  ledger: { onHand: number; reserved: number };
}

/** Levels that do not equal the sum of their movements (should be none, ever). */
export async function levelsOutOfLedger(db: Executor): Promise<LevelCheck[]> {
  const { rows } = await sql<{ sku_id: number; location_id: number; on_hand: number; reserved: number; m_on_hand: number; m_reserved: number }>`
    WITH m AS (
      SELECT sku_id, location_id, sum(on_hand_delta)::int AS on_hand, sum(reserved_delta)::int AS reserved
      FROM stock_movements GROUP BY sku_id, location_id)
    SELECT COALESCE(l.sku_id, m.sku_id) AS sku_id, COALESCE(l.location_id, m.location_id) AS location_id,
      COALESCE(l.on_hand, 0) AS on_hand, COALESCE(l.reserved, 0) AS reserved,
      COALESCE(m.on_hand, 0) AS m_on_hand, COALESCE(m.reserved, 0) AS m_reserved
    FROM stock_levels l FULL JOIN m ON m.sku_id = l.sku_id AND m.location_id = l.location_id
    WHERE COALESCE(l.on_hand, 0) <> COALESCE(m.on_hand, 0) OR COALESCE(l.reserved, 0) <> COALESCE(m.reserved, 0)`.execute(db);
  return rows.map((r) => ({
    skuId: r.sku_id,
    locationId: r.location_id,
    level: { onHand: r.on_hand, reserved: r.reserved },
    ledger: { onHand: r.m_on_hand, reserved: r.m_reserved },
  }));
}
