/**
 * Reconciliation: read what every channel shows for every listed SKU, compare
 * with what it should show (`channel_stock_expected`) in one set-based query
 * per chunk, record each difference in `stock_drift`, and push the
 * corrections.
 *
 * Channels run in parallel (their rate limits are independent); within a
 * channel, a few chunks are in flight so the connector's rate budget is never
 * idle while Postgres compares. Each slot is claimed in `reconcile_runs`, so a
 * slot that finished never runs again, even after a Redis flush.
 *
 * A channel is reconciled by one run at a time, across processes (a session
 * advisory lock) and within one (embedded mode shares a single session). A
 * large catalogue on a slow plan can take longer than the schedule's period
 * (100,000 SKUs on Shopify Standard: about 50 minutes); the next slot then
 * skips that channel instead of spending the same budget twice.
 *
 * A listing whose SKU has no stock movement at all is "not initialised":
 * channelsync was never told its stock, so it is neither read nor corrected
 * (correcting it would set the store to 0), only counted (`notInitialised`).
 */
import { sql } from 'kysely';
import type { App } from '../app.ts';
import { LOCKS, withSessionLock } from '../db/locks.ts';
import type { ListingRef, StockPush, StockPushResult } from '../../connectors/types.ts';
import { stockInitialised } from './ledger.ts';

export interface ReconcileProgress {
  channelId: number;
  /** Listings read so far on this channel. */
  read: number;
  total: number;
  drift: number;
  corrected: number;
}

export interface ReconcileOptions {
  /** The schedule slot (`2026-11-01T10:15:00Z`) or a manual run's id. */
  slot: string;
  /** Listings per `readStock` call (the connector batches further). Default 2000. */
  chunkSize?: number;
  /** Chunks in flight per channel. Default 3. */
  inFlight?: number;
  /** Only these channels (default: every enabled channel with listings). */
  channelIds?: number[];
  onProgress?: (p: ReconcileProgress) => void;
}

export interface ChannelReconcileReport {
  channelId: number;
  listings: number;
  drift: number;
  corrected: number;
  /** Corrections the channel refused (kept in `stock_drift.error`). */
  failed: number;
  /** Listings whose SKU has no stock in channelsync yet: not read, never pushed. */
  notInitialised: number;
  /** Why this channel was not reconciled in this run (an earlier run still holds it). */
  skipped?: string;
  ms: number;
}

export interface ReconcileReport {
  slot: string;
  /** True when this slot already ran to completion (another daemon, or an earlier attempt). */
  skipped: boolean;
  channels: ChannelReconcileReport[];
  ms: number;
}

interface ListingRow {
  id: number;
  sku: string;
  product_external_id: string | null;
  variant_external_id: string | null;
  inventory_item_external_id: string | null;
  initialised: boolean;
}

export async function reconcile(app: App, options: ReconcileOptions): Promise<ReconcileReport> {
  const started = Date.now();
  const { slot } = options;
  // Claim the slot; an unfinished claim (a crashed or retried attempt) may be taken over.
  const claim = await sql<{ slot: string }>`
    INSERT INTO reconcile_runs (slot) VALUES (${slot})
    ON CONFLICT (slot) DO UPDATE SET started_at = now(), error = NULL WHERE reconcile_runs.finished_at IS NULL
    RETURNING slot`.execute(app.db);
  if (claim.rows.length === 0) return { slot, skipped: true, channels: [], ms: Date.now() - started };

  try {
    let q = app.db
      .selectFrom('channels')
      .select('id')
      .where('enabled', '=', true)
      .where((eb) => eb.exists(eb.selectFrom('channel_listings').select('id').whereRef('channel_listings.channel_id', '=', 'channels.id')));
    if (options.channelIds) q = q.where('id', 'in', options.channelIds.length ? options.channelIds : [-1]);
    const channels = await q.orderBy('id').execute();
    const reports = await Promise.all(channels.map((c) => reconcileChannel(app, c.id, options)));
    const sum = (k: 'listings' | 'drift' | 'corrected' | 'notInitialised') => reports.reduce((a, r) => a + r[k], 0);
    await app.db
      .updateTable('reconcile_runs')
      .set({ finished_at: new Date(), listings: sum('listings'), drift: sum('drift'), corrected: sum('corrected') })
      .where('slot', '=', slot)
      .execute();
    const report = { slot, skipped: false, channels: reports, ms: Date.now() - started };
    app.log.info({ slot, listings: sum('listings'), drift: sum('drift'), corrected: sum('corrected'), notInitialised: sum('notInitialised'), ms: report.ms }, 'stock reconciled');
    return report;
  } catch (err) {
    await app.db
      .updateTable('reconcile_runs')
      .set({ error: (err as Error).message })
      .where('slot', '=', slot)
      .execute()
      .catch(() => {});
    throw err;
  }
}

async function reconcileChannel(app: App, channelId: number, options: ReconcileOptions): Promise<ChannelReconcileReport> {
  const run = await withSessionLock(app.config.databaseUrl, LOCKS.reconcileStock, channelId, (lockLost) => readAndCorrect(app, channelId, options, lockLost));
  if (run.locked) return run.value;
  const why = 'an earlier reconciliation of this channel is still running';
  app.log.warn({ channel: channelId, slot: options.slot }, `stock reconciliation skipped this channel: ${why}`);
  return { channelId, listings: 0, drift: 0, corrected: 0, failed: 0, notInitialised: 0, skipped: why, ms: 0 };
}

async function readAndCorrect(app: App, channelId: number, options: ReconcileOptions, lockLost: AbortSignal): Promise<ChannelReconcileReport> {
  const started = Date.now();
  const chunkSize = options.chunkSize ?? 2000;
  const inFlight = options.inFlight ?? 3;
  const { connector } = await app.connectors.get(channelId);
  const { total } = await app.db
    .selectFrom('channel_listings')
    .select((eb) => eb.fn.countAll<number>().as('total'))
    .where('channel_id', '=', channelId)
    .executeTakeFirstOrThrow();
  const report: ChannelReconcileReport = { channelId, listings: 0, drift: 0, corrected: 0, failed: 0, notInitialised: 0, ms: 0 };

  // Keyset pages handed out one at a time to `inFlight` workers.
  let after = 0;
  let exhausted = false;
  let paging: Promise<unknown> = Promise.resolve();
  const nextChunk = (): Promise<ListingRow[]> => {
    const next = paging.then(async () => {
      if (exhausted) return [];
      const rows = await app.db
        .selectFrom('channel_listings as cl')
        .innerJoin('skus as s', 's.id', 'cl.sku_id')
        .select(['cl.id', 's.sku', 'cl.product_external_id', 'cl.variant_external_id', 'cl.inventory_item_external_id'])
        .select(stockInitialised('cl.sku_id').as('initialised'))
        .where('cl.channel_id', '=', channelId)
        .where('cl.id', '>', after)
        .orderBy('cl.id')
        .limit(chunkSize)
        .execute();
      if (rows.length < chunkSize) exhausted = true;
      if (rows.length) after = rows[rows.length - 1]!.id;
      return rows;
    });
    paging = next.catch(() => {});
    return next;
  };

  const worker = async () => {
    for (;;) {
      lockLost.throwIfAborted();
      const chunk = await nextChunk();
      if (chunk.length === 0) return;
      const known = chunk.filter((r) => r.initialised);
      report.notInitialised += chunk.length - known.length;
      const refs: ListingRef[] = known.map((r) => ({
        sku: r.sku,
        productExternalId: r.product_external_id,
        variantExternalId: r.variant_external_id,
        inventoryItemExternalId: r.inventory_item_external_id,
      }));
      const readings = refs.length ? await connector.readStock(refs) : [];
      const drift = await recordDrift(app, channelId, options.slot, readings);
      report.listings += chunk.length;
      report.drift += drift.length;
      if (drift.length > 0) {
        const { corrected, failed } = await correct(app, connector.pushStock.bind(connector), options.slot, drift);
        report.corrected += corrected;
        report.failed += failed;
      }
      options.onProgress?.({ channelId, read: report.listings, total, drift: report.drift, corrected: report.corrected });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, inFlight) }, worker));
  report.ms = Date.now() - started;
  return report;
}

interface DriftRow {
  drift_id: number;
  listing_id: number;
  sku: string;
  product_external_id: string | null;
  variant_external_id: string | null;
  inventory_item_external_id: string | null;
  expected: number;
}

/**
 * Compares one chunk of readings with the ledger in a single statement: the
 * readings go in as arrays, the differences come out as `stock_drift` rows.
 * A SKU with a stock push still pending is skipped: that push is the correction.
 */
async function recordDrift(app: App, channelId: number, slot: string, readings: Array<{ sku: string; available: number | null }>): Promise<DriftRow[]> {
  if (readings.length === 0) return [];
  const { rows } = await sql<DriftRow>`
    WITH r AS (
      SELECT * FROM unnest(${readings.map((r) => r.sku)}::text[], ${readings.map((r) => r.available)}::int[]) AS r(sku, found)
    ), d AS (
      SELECT e.listing_id, e.sku_id, e.sku, e.product_external_id, e.variant_external_id, e.inventory_item_external_id,
        GREATEST(e.expected, 0) AS expected, r.found
      FROM r JOIN channel_stock_expected e ON e.channel_id = ${channelId} AND e.sku = r.sku
      WHERE r.found IS DISTINCT FROM GREATEST(e.expected, 0)
        AND NOT EXISTS (SELECT 1 FROM channel_pushes p
          WHERE p.channel_id = ${channelId} AND p.kind = 'stock' AND p.target = e.sku AND p.status = 'pending')
    ), ins AS (
      INSERT INTO stock_drift (channel_id, sku_id, slot, expected, found)
      SELECT ${channelId}, sku_id, ${slot}, expected, found FROM d
      ON CONFLICT (slot, channel_id, sku_id) DO UPDATE
        SET expected = EXCLUDED.expected, found = EXCLUDED.found, detected_at = now(), corrected_at = NULL, error = NULL
      RETURNING id, sku_id
    )
    SELECT ins.id AS drift_id, d.listing_id, d.sku, d.product_external_id, d.variant_external_id, d.inventory_item_external_id, d.expected
    FROM ins JOIN d ON d.sku_id = ins.sku_id`.execute(app.db);
  return rows;
}

/**
 * Pushes the expected level of each drifted SKU. Each correction's intent is
 * its drift row in this slot (`reconcile:<slot>:<driftId>`), so a channel's
 * idempotency key is new for every correction. A failure stays on the drift
 * row (`corrected_at` null, `error` set); one the channel said to retry later
 * is marked so, and is detected and corrected again by the next run.
 */
async function correct(
  app: App,
  pushStock: (levels: StockPush[]) => Promise<StockPushResult[]>,
  slot: string,
  drift: DriftRow[],
): Promise<{ corrected: number; failed: number }> {
  const results = await pushStock(
    drift.map((d) => ({
      listing: {
        sku: d.sku,
        productExternalId: d.product_external_id,
        variantExternalId: d.variant_external_id,
        inventoryItemExternalId: d.inventory_item_external_id,
      },
      available: d.expected,
      intent: `reconcile:${slot}:${d.drift_id}`,
    })),
  );
  const bySku = new Map(results.map((r) => [r.sku, r]));
  const ok = drift.filter((d) => bySku.get(d.sku)?.ok);
  const failed = drift.filter((d) => !bySku.get(d.sku)?.ok);
  if (ok.length > 0) {
    await sql`
      WITH u AS (SELECT * FROM unnest(${ok.map((d) => d.drift_id)}::bigint[], ${ok.map((d) => d.listing_id)}::bigint[],
        ${ok.map((d) => d.expected)}::int[]) AS u(drift_id, listing_id, expected)),
      l AS (UPDATE channel_listings cl SET last_pushed_available = u.expected, last_pushed_at = now() FROM u WHERE cl.id = u.listing_id)
      UPDATE stock_drift sd SET corrected_at = now() FROM u WHERE sd.id = u.drift_id`.execute(app.db);
  }
  if (failed.length > 0) {
    const errorOf = (d: DriftRow) => {
      const r = bySku.get(d.sku);
      const error = r?.error ?? 'no answer for this SKU';
      return r?.retryable ? `retry later: ${error}` : error;
    };
    await sql`
      UPDATE stock_drift sd SET error = u.error
      FROM unnest(${failed.map((d) => d.drift_id)}::bigint[], ${failed.map(errorOf)}::text[]) AS u(id, error)
      WHERE sd.id = u.id`.execute(app.db);
  }
  return { corrected: ok.length, failed: failed.length };
}
