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
import { OPEN_STATES, SHIPPED_STATES } from '../fulfilment/states.ts';

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
  /**
   * Pulls a channel's orders now (the reconcile job and the CLI pass the
   * order sync). Lower readings are compared again once it has run; without
   * it they stay held until a later run finds the orders pulled.
   */
  catchUp?: (channelId: number) => Promise<unknown>;
  /** How long to wait for the channel's orders to be pulled past the readings (another process may be pulling). Default 30 s. */
  catchUpWaitMs?: number;
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
  /** Lower readings not corrected because the ledger may not have seen those sales yet (see `recordDrift`). */
  held: number;
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
  return { channelId, listings: 0, drift: 0, corrected: 0, failed: 0, notInitialised: 0, held: 0, skipped: why, ms: 0 };
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
  const report: ChannelReconcileReport = { channelId, listings: 0, drift: 0, corrected: 0, failed: 0, notInitialised: 0, held: 0, ms: 0 };
  const held: HeldReading[] = [];

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
      const readAt = await dbNow(app);
      const readings = refs.length ? await connector.readStock(refs) : [];
      const found = await recordDrift(app, channelId, options.slot, readings, readAt);
      const bySku = new Map(readings.map((r) => [r.sku, r.available]));
      for (const h of found.filter((d) => d.held)) held.push({ sku: h.sku, available: bySku.get(h.sku) ?? null, readAt });
      const drift = found.filter((d) => !d.held);
      report.listings += chunk.length;
      await applyCorrections(drift);
      options.onProgress?.({ channelId, read: report.listings, total, drift: report.drift, corrected: report.corrected });
    }
  };
  const applyCorrections = async (drift: DriftRow[]) => {
    report.drift += drift.length;
    if (drift.length === 0) return;
    const { corrected, failed } = await correct(app, connector.pushStock.bind(connector), options.slot, drift);
    report.corrected += corrected;
    report.failed += failed;
  };
  await Promise.all(Array.from({ length: Math.max(1, inFlight) }, worker));

  // Lower readings: pull the channel's orders past them, then compare them again.
  if (held.length > 0) {
    lockLost.throwIfAborted();
    const latest = new Date(Math.max(...held.map((h) => h.readAt.getTime())));
    if (options.catchUp) {
      await options.catchUp(channelId).catch((err) =>
        app.log.warn({ channel: channelId, err: (err as Error).message }, 'could not pull orders to settle lower stock readings; they stay held'),
      );
    }
    if (await caughtUpPast(app, channelId, latest, options.catchUp ? (options.catchUpWaitMs ?? 30_000) : 0)) {
      const settled = await settleHeld(app, channelId, options.slot, held);
      await applyCorrections(settled.drift);
      report.held = settled.stillHeld;
    } else {
      report.held = held.length;
    }
  }
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
  /** The channel shows less than the ledger and the ledger may not have seen those sales yet. */
  held: boolean;
}

/** A reading that was lower than the ledger, kept to compare again once the channel's orders are pulled. */
interface HeldReading {
  sku: string;
  available: number | null;
  readAt: Date;
}

export const HELD_REASON = 'held: the channel shows less than the ledger, and its orders were not pulled past this reading yet';

/**
 * Compares one chunk of readings with the ledger in a single statement: the
 * readings go in as arrays, the differences come out as `stock_drift` rows.
 * A SKU with a stock push still pending is skipped: that push is the correction.
 *
 * Sales the ledger has not seen yet: a channel lowers its own stock the moment
 * it sells, and channelsync learns of the sale only when the order is pulled
 * and allocated. A reading *lower* than the ledger is therefore only drift
 * once the channel's orders have been pulled past the moment it was read
 * (`sync_cursors.caught_up_at > readAt`) and the gap is more than the units
 * of this channel's own orders still waiting for allocation; until then it is
 * `held` (recorded with `HELD_REASON`, never pushed). A reading *higher* than
 * the ledger is corrected at once: showing less can never oversell.
 */
async function recordDrift(
  app: App,
  channelId: number,
  slot: string,
  readings: Array<{ sku: string; available: number | null }>,
  readAt: Date,
): Promise<DriftRow[]> {
  if (readings.length === 0) return [];
  const { rows } = await sql<DriftRow>`
    WITH r AS (
      SELECT * FROM unnest(${readings.map((r) => r.sku)}::text[], ${readings.map((r) => r.available)}::int[]) AS r(sku, found)
    ), caught AS (
      SELECT COALESCE((SELECT caught_up_at > ${readAt} FROM sync_cursors WHERE channel_id = ${channelId} AND resource = 'orders'), false) AS up
    ), d AS (
      SELECT e.listing_id, e.sku_id, e.sku, e.product_external_id, e.variant_external_id, e.inventory_item_external_id,
        GREATEST(e.expected, 0) AS expected, r.found,
        (r.found IS NOT NULL AND r.found < GREATEST(e.expected, 0) AND (NOT caught.up OR GREATEST(e.expected, 0) - r.found <= (
          -- Units of this channel's open orders that no fulfilment covers yet (pulled, allocation to come).
          SELECT COALESCE(sum(GREATEST(l.quantity - GREATEST(c.shipped, l.quantity_fulfilled_on_channel) - c.open, 0)), 0)
          FROM order_lines l JOIN orders o ON o.id = l.order_id
          CROSS JOIN LATERAL (
            SELECT COALESCE(sum(fl.quantity) FILTER (WHERE f.state = ANY(${SHIPPED_STATES})), 0) AS shipped,
                   COALESCE(sum(fl.quantity) FILTER (WHERE f.state = ANY(${OPEN_STATES})), 0) AS open
            FROM fulfillment_lines fl JOIN fulfillments f ON f.id = fl.fulfillment_id WHERE fl.order_line_id = l.id) c
          WHERE l.sku_id = e.sku_id AND o.channel_id = ${channelId} AND o.channel_state = 'open' AND o.state <> 'cancelled'))) AS held
      FROM r JOIN channel_stock_expected e ON e.channel_id = ${channelId} AND e.sku = r.sku CROSS JOIN caught
      WHERE r.found IS DISTINCT FROM GREATEST(e.expected, 0)
        AND NOT EXISTS (SELECT 1 FROM channel_pushes p
          WHERE p.channel_id = ${channelId} AND p.kind = 'stock' AND p.target = e.sku AND p.status = 'pending')
    ), ins AS (
      INSERT INTO stock_drift (channel_id, sku_id, slot, expected, found, error)
      SELECT ${channelId}, sku_id, ${slot}, expected, found, CASE WHEN held THEN ${HELD_REASON} END FROM d
      ON CONFLICT (slot, channel_id, sku_id) DO UPDATE
        SET expected = EXCLUDED.expected, found = EXCLUDED.found, detected_at = now(), corrected_at = NULL, error = EXCLUDED.error
      RETURNING id, sku_id
    )
    SELECT ins.id AS drift_id, d.listing_id, d.sku, d.product_external_id, d.variant_external_id, d.inventory_item_external_id, d.expected, d.held
    FROM ins JOIN d ON d.sku_id = ins.sku_id`.execute(app.db);
  return rows;
}

/**
 * Held readings, once the channel's orders are pulled past them: compared
 * again (a sale now allocated is no drift, and its held row goes); what is
 * still lower by more than the unallocated orders is drift, returned for
 * correction; the rest stays held for the next run.
 */
async function settleHeld(app: App, channelId: number, slot: string, held: HeldReading[]): Promise<{ drift: DriftRow[]; stillHeld: number }> {
  const latest = new Date(Math.max(...held.map((h) => h.readAt.getTime())));
  const rows = await recordDrift(app, channelId, slot, held, latest);
  const differing = new Set(rows.map((r) => r.sku));
  const settled = held.map((h) => h.sku).filter((sku) => !differing.has(sku));
  if (settled.length > 0) {
    await sql`
      DELETE FROM stock_drift sd USING skus s
      WHERE sd.sku_id = s.id AND sd.slot = ${slot} AND sd.channel_id = ${channelId} AND s.sku = ANY(${settled}::text[])
        AND sd.error = ${HELD_REASON}`.execute(app.db);
  }
  return { drift: rows.filter((r) => !r.held), stillHeld: rows.filter((r) => r.held).length };
}

/**
 * Pushes the expected level of each drifted SKU. Each correction's intent is
 * its drift row in this slot (`reconcile:<slot>:<driftId>`), so a channel's
 * idempotency key is new for every correction. A failure stays on the drift
 * row (`corrected_at` null, `error` set); one the channel said to retry later
 * is marked so, and is detected and corrected again by the next run.
 */
async function dbNow(app: App): Promise<Date> {
  const { rows } = await sql<{ now: Date }>`SELECT now() AS now`.execute(app.db);
  return rows[0]!.now;
}

/** True once the channel's last complete order pull started after `at`, waiting up to `waitMs` for one to finish. */
async function caughtUpPast(app: App, channelId: number, at: Date, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const row = await app.db
      .selectFrom('sync_cursors')
      .select('caught_up_at')
      .where('channel_id', '=', channelId)
      .where('resource', '=', 'orders')
      .executeTakeFirst();
    if (row?.caught_up_at && row.caught_up_at > at) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

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
