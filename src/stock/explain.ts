/**
 * Every stock number, explained: the levels per location, the movements that
 * sum to them, and how each channel's shown quantity follows from the rules.
 */
import { sql } from 'kysely';
import type { Db } from '../db/index.ts';

export interface LevelRow {
  skuId: number;
  sku: string;
  location: string;
  onHand: number;
  reserved: number;
  available: number;
}

/** Levels per SKU and location (all SKUs, or those named). */
export async function stockLevels(db: Db, skus?: string[]): Promise<LevelRow[]> {
  let q = db
    .selectFrom('stock_levels as sl')
    .innerJoin('skus as s', 's.id', 'sl.sku_id')
    .innerJoin('locations as l', 'l.id', 'sl.location_id')
    .select(['s.id', 's.sku', 'l.code', 'sl.on_hand', 'sl.reserved']);
  if (skus?.length) q = q.where('s.sku', 'in', skus);
  const rows = await q.orderBy('s.sku').orderBy('l.priority').orderBy('l.code').execute();
  return rows.map((r) => ({ skuId: r.id, sku: r.sku, location: r.code, onHand: r.on_hand, reserved: r.reserved, available: r.on_hand - r.reserved }));
}

export interface MovementLine {
  id: number;
  at: Date;
  location: string;
  reason: string;
  reference: string;
  note: string | null;
  actor: string;
  onHandDelta: number;
  reservedDelta: number;
  /** Running totals at this location after this movement. */
  onHand: number;
  reserved: number;
}

export interface ChannelLine {
  channel: string;
  channelId: number;
  locations: string;
  available: number;
  buffer: number;
  sharePercent: number;
  maxShown: number | null;
  expected: number;
  lastPushed: number | null;
  lastPushedAt: Date | null;
  pushStatus: string | null;
}

export interface Explanation {
  sku: string;
  levels: LevelRow[];
  movements: MovementLine[];
  /** Movements not listed (older than the `limit` shown); their sum is in `carried`. */
  omitted: number;
  carried: Array<{ location: string; onHand: number; reserved: number }>;
  channels: ChannelLine[];
}

export async function explainSku(db: Db, skuId: number, limit = 50): Promise<Explanation> {
  const sku = await db.selectFrom('skus').select('sku').where('id', '=', skuId).executeTakeFirstOrThrow();
  const { rows } = await sql<{
    id: number; created_at: Date; code: string; reason: string; reference: string; note: string | null; actor: string;
    on_hand_delta: number; reserved_delta: number; on_hand: number; reserved: number; rn: number; total: number;
  }>`
    SELECT * FROM (
      SELECT m.id, m.created_at, l.code, m.reason, m.reference, m.note, m.actor, m.on_hand_delta, m.reserved_delta,
        sum(m.on_hand_delta) OVER w::int AS on_hand, sum(m.reserved_delta) OVER w::int AS reserved,
        row_number() OVER (ORDER BY m.id DESC)::int AS rn, count(*) OVER ()::int AS total
      FROM stock_movements m JOIN locations l ON l.id = m.location_id
      WHERE m.sku_id = ${skuId}
      WINDOW w AS (PARTITION BY m.location_id ORDER BY m.id)
    ) x WHERE rn <= ${limit} ORDER BY id`.execute(db);
  const movements: MovementLine[] = rows.map((r) => ({
    id: r.id, at: r.created_at, location: r.code, reason: r.reason, reference: r.reference, note: r.note, actor: r.actor,
    onHandDelta: r.on_hand_delta, reservedDelta: r.reserved_delta, onHand: r.on_hand, reserved: r.reserved,
  }));
  const total = rows[0]?.total ?? 0;
  // What the first shown movement at each location started from.
  const carried = new Map<string, { onHand: number; reserved: number }>();
  for (const m of movements) {
    if (!carried.has(m.location)) carried.set(m.location, { onHand: m.onHand - m.onHandDelta, reserved: m.reserved - m.reservedDelta });
  }
  const channels = await sql<{
    channel_id: number; name: string; location_ids: number[] | null; available: number; buffer: number; share_percent: string;
    max_shown: number | null; expected: number; last_pushed_available: number | null; last_pushed_at: Date | null; status: string | null;
    codes: string | null;
  }>`
    SELECT e.channel_id, c.name, e.location_ids, e.available, e.buffer, e.share_percent, e.max_shown, e.expected,
      e.last_pushed_available, cl.last_pushed_at, p.status,
      (SELECT string_agg(code, ',' ORDER BY code) FROM locations WHERE id = ANY(e.location_ids)) AS codes
    FROM channel_stock_expected e
    JOIN channels c ON c.id = e.channel_id
    JOIN channel_listings cl ON cl.id = e.listing_id
    LEFT JOIN channel_pushes p ON p.channel_id = e.channel_id AND p.kind = 'stock' AND p.target = e.sku
    WHERE e.sku_id = ${skuId} ORDER BY c.name`.execute(db);
  return {
    sku: sku.sku,
    levels: await stockLevels(db, [sku.sku]),
    movements,
    omitted: Math.max(0, total - movements.length),
    carried: [...carried].filter(([, v]) => v.onHand !== 0 || v.reserved !== 0).map(([location, v]) => ({ location, ...v })),
    channels: channels.rows.map((r) => ({
      channel: r.name,
      channelId: r.channel_id,
      locations: r.location_ids ? (r.codes ?? '') : 'all active',
      available: r.available,
      buffer: r.buffer,
      sharePercent: Number(r.share_percent),
      maxShown: r.max_shown,
      expected: r.expected,
      lastPushed: r.last_pushed_available,
      lastPushedAt: r.last_pushed_at,
      pushStatus: r.status,
    })),
  };
}

export interface DriftLine {
  at: Date;
  slot: string;
  channel: string;
  sku: string;
  expected: number;
  found: number | null;
  correctedAt: Date | null;
  error: string | null;
}

/** Drift found by reconciliation, newest first. */
export async function driftReport(db: Db, options: { since?: Date; channelId?: number; limit?: number } = {}): Promise<DriftLine[]> {
  let q = db
    .selectFrom('stock_drift as d')
    .innerJoin('channels as c', 'c.id', 'd.channel_id')
    .innerJoin('skus as s', 's.id', 'd.sku_id')
    .select(['d.detected_at', 'd.slot', 'c.name', 's.sku', 'd.expected', 'd.found', 'd.corrected_at', 'd.error']);
  if (options.since) q = q.where('d.detected_at', '>=', options.since);
  if (options.channelId) q = q.where('d.channel_id', '=', options.channelId);
  const rows = await q.orderBy('d.id', 'desc').limit(options.limit ?? 100).execute();
  return rows.map((r) => ({
    at: r.detected_at, slot: r.slot, channel: r.name, sku: r.sku, expected: r.expected, found: r.found, correctedAt: r.corrected_at, error: r.error,
  }));
}
