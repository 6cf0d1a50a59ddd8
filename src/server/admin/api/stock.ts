/**
 * GET /api/stock/levels     on hand, reserved and available per SKU and location
 * GET /api/stock/movements  the ledger, newest first (keyset pages)
 * GET /api/stock/drift      differences found by stock reconciliation
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { z } from 'zod';
import type { App } from '../../../app.ts';
import { before, instant, int32, limit, page, parse, documented } from './validate.ts';
import { resolveChannel } from './orders.ts';

const REASONS = ['receipt', 'adjustment', 'count', 'damage', 'reservation', 'release', 'shipment', 'return_restock', 'transfer', 'opening_balance'] as const;

const levelsQuery = z.object({
  sku: z.string().min(1).optional(),
  location: z.string().min(1).optional(),
  /** Only levels whose available stock (on hand - reserved) is below this. */
  below: int32.optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});

const movementsQuery = z.object({
  sku: z.string().min(1).optional(),
  location: z.string().min(1).optional(),
  reason: z.enum(REASONS).optional(),
  reference: z.string().min(1).optional(),
  since: instant.optional(),
  limit,
  before,
});

const driftQuery = z.object({
  channel: z.string().min(1).optional(),
  sku: z.string().min(1).optional(),
  /** Only differences not corrected yet. */
  open: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  since: instant.optional(),
  limit,
  before,
});

export function stockRoutes(server: FastifyInstance, app: App): void {
  server.get('/api/stock/levels', documented({ query: levelsQuery }), async (request) => {
    const q = parse(levelsQuery, request.query, 'query');
    let query = app.db
      .selectFrom('stock_levels')
      .innerJoin('skus', 'skus.id', 'stock_levels.sku_id')
      .innerJoin('locations', 'locations.id', 'stock_levels.location_id')
      .select([
        'skus.sku', 'skus.title', 'locations.code as location', 'stock_levels.on_hand', 'stock_levels.reserved',
        sql<number>`stock_levels.on_hand - stock_levels.reserved`.as('available'), 'skus.safety_stock', 'stock_levels.updated_at',
      ])
      .orderBy('skus.sku')
      .orderBy('locations.code')
      .limit(q.limit);
    if (q.sku) query = query.where('skus.sku', '=', q.sku);
    if (q.location) query = query.where('locations.code', '=', q.location);
    if (q.below !== undefined) query = query.where(sql<boolean>`stock_levels.on_hand - stock_levels.reserved < ${q.below}`);
    return { items: await query.execute() };
  });

  server.get('/api/stock/movements', documented({ query: movementsQuery }), async (request) => {
    const q = parse(movementsQuery, request.query, 'query');
    let query = app.db
      .selectFrom('stock_movements')
      .innerJoin('skus', 'skus.id', 'stock_movements.sku_id')
      .innerJoin('locations', 'locations.id', 'stock_movements.location_id')
      .select([
        'stock_movements.id', 'skus.sku', 'locations.code as location', 'stock_movements.on_hand_delta', 'stock_movements.reserved_delta',
        'stock_movements.reason', 'stock_movements.reference', 'stock_movements.note', 'stock_movements.actor', 'stock_movements.created_at',
      ])
      .orderBy('stock_movements.id', 'desc')
      .limit(q.limit);
    if (q.sku) query = query.where('skus.sku', '=', q.sku);
    if (q.location) query = query.where('locations.code', '=', q.location);
    if (q.reason) query = query.where('stock_movements.reason', '=', q.reason);
    if (q.reference) query = query.where('stock_movements.reference', '=', q.reference);
    if (q.since) query = query.where('stock_movements.created_at', '>=', q.since);
    if (q.before) query = query.where('stock_movements.id', '<', q.before);
    return page(await query.execute(), q.limit);
  });

  server.get('/api/stock/drift', documented({ query: driftQuery }), async (request) => {
    const q = parse(driftQuery, request.query, 'query');
    const exists = await sql<{ t: string | null }>`SELECT to_regclass('stock_drift')::text AS t`.execute(app.db);
    if (!exists.rows[0]?.t) return { items: [], next: null, note: 'stock reconciliation is not installed yet (no stock_drift table)' };
    const channelId = q.channel ? await resolveChannel(app, q.channel) : null;
    const { rows } = await sql<{ id: number }>`
      SELECT d.id, d.channel_id, c.name AS channel_name, s.sku, d.slot, d.expected, d.found,
        (d.found - d.expected) AS difference, d.detected_at, d.corrected_at, d.error
      FROM stock_drift d JOIN channels c ON c.id = d.channel_id JOIN skus s ON s.id = d.sku_id
      WHERE true
        ${channelId !== null ? sql`AND d.channel_id = ${channelId}` : sql``}
        ${q.sku ? sql`AND s.sku = ${q.sku}` : sql``}
        ${q.open === true ? sql`AND d.corrected_at IS NULL` : q.open === false ? sql`AND d.corrected_at IS NOT NULL` : sql``}
        ${q.since ? sql`AND d.detected_at >= ${q.since}` : sql``}
        ${q.before ? sql`AND d.id < ${q.before}` : sql``}
      ORDER BY d.id DESC LIMIT ${q.limit}`.execute(app.db);
    return page(rows, q.limit);
  });
}
