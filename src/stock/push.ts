/**
 * Delivering a stock push (a `channel_pushes` row of kind 'stock', target =
 * SKU). The quantity is read when the push runs, from the
 * `channel_stock_expected` view, so a burst of changes needs one push.
 *
 * Batching: other stock pushes owed to the same channel ride along in the same
 * `pushStock` call (up to `STOCK_PUSH_BATCH`), so a burst across many SKUs
 * costs a few bulk calls, not one call per SKU. A ridden-along row is marked
 * done only if nothing changed it meanwhile; its own job then finds it done.
 *
 * The debounce race: BullMQ keeps a deduplication key while its job is
 * active, so a change notified during this push is dropped by the queue. The
 * row's `updated_at` is what tells: when it moved while we pushed, the job
 * moves itself back to delayed (`DelayedError`, no attempt used) and pushes
 * the newer quantity shortly after.
 */
import { sql } from 'kysely';
import { DelayedError, type Job } from 'bullmq';
import type { App } from '../app.ts';
import type { ChannelPush } from '../db/schema.ts';
import { PermanentError, RetryableError } from '../domain/errors.ts';
import type { Connector, StockPush } from '../../connectors/types.ts';
import { stockInitialised } from './ledger.ts';
import { hasAsyncStock } from '../../connectors/types.ts';
import { asyncStep, submissionInFlight, submit } from './submissions.ts';

/** Most SKUs in one `pushStock` call from the push job; the connector splits it further per its API. */
export const STOCK_PUSH_BATCH = 250;
/** How soon a push re-runs when its row changed while it was pushing. */
export const REPUSH_DELAY_MS = 150;

/**
 * Comes back later without using an attempt: the job moves itself to delayed. Without a job
 * (a direct call), a RetryableError with the wait, so the row stays pending either way.
 */
async function waitFor(ms: number, why: string, job?: Job): Promise<never> {
  if (job?.token) {
    await job.moveToDelayed(Date.now() + ms, job.token);
    throw new DelayedError();
  }
  throw new RetryableError(why, ms);
}

interface BatchRow {
  push_id: number;
  stamp: string;
  listing_id: number;
  sku: string;
  product_external_id: string | null;
  variant_external_id: string | null;
  inventory_item_external_id: string | null;
  expected: number;
}

/**
 * Pushes the SKU of `push` (and other pending stock pushes of its channel); returns the quantity pushed.
 * `connector`: the channel's, when the caller has just fetched it (the push job has: one check of the channel, not two).
 */
export async function deliverStock(app: App, push: ChannelPush, job?: Job, connector?: Connector): Promise<string | null> {
  connector ??= (await app.connectors.get(push.channel_id)).connector;
  // A channel that writes stock through an asynchronous job (Amazon's feeds): this push may be
  // waiting for one, or its result may have come (src/stock/submissions.ts).
  const async = hasAsyncStock(connector) ? connector : null;
  if (async) {
    const step = await asyncStep(app, async, push);
    if (step.kind === 'wait') return waitFor(step.ms, `stock push for ${push.target}: ${step.why}`, job);
    if (step.kind === 'result') {
      if (step.ok) return String(step.available);
      const message = `stock push for ${push.target}: ${step.error ?? 'refused by the channel'}`;
      if (step.retryable) throw new RetryableError(message);
      throw new PermanentError(message);
    }
  }
  // One snapshot reads each row's stamp and the level together: a change that
  // commits after it also moves the stamp, which the check below sees.
  const { rows } = await sql<BatchRow>`
    SELECT p.id AS push_id, p.updated_at::text AS stamp, e.listing_id, e.sku,
      e.product_external_id, e.variant_external_id, e.inventory_item_external_id, e.expected
    FROM channel_pushes p
    JOIN channel_stock_expected e ON e.channel_id = p.channel_id AND e.sku = p.target
    WHERE p.channel_id = ${push.channel_id} AND p.kind = 'stock'
      AND (p.id = ${push.id} OR p.status = 'pending') AND ${stockInitialised('e.sku_id')}
      -- Rows an unfinished submission carries wait for its result, not for another push.
      AND NOT EXISTS (SELECT 1 FROM stock_submission_rows r JOIN stock_submissions s ON s.id = r.submission_id
        WHERE r.push_id = p.id AND s.status = 'pending')
    ORDER BY (p.id = ${push.id}) DESC, p.updated_at
    LIMIT ${STOCK_PUSH_BATCH}`.execute(app.db);
  const own = rows[0];
  if (!own || own.push_id !== push.id) {
    const listed = await sql<{ sku_id: number }>`
      SELECT sku_id FROM channel_stock_expected WHERE channel_id = ${push.channel_id} AND sku = ${push.target}`.execute(app.db);
    if (listed.rows.length === 0) throw new PermanentError(`SKU ${push.target} is not listed on channel ${push.channel_id}`);
    // Not initialised: channelsync was never told this SKU's stock, so the channel keeps its own number.
    app.log.info({ channel: push.channel_id, sku: push.target }, 'stock push skipped: SKU has no stock in channelsync yet');
    return null;
  }

  // The intent names this attempt of this row (`runPush` counted the attempt before
  // delivering), so a channel's idempotency key never outlives the change it sends.
  const levels: StockPush[] = rows.map((r) => ({
    listing: {
      sku: r.sku,
      productExternalId: r.product_external_id,
      variantExternalId: r.variant_external_id,
      inventoryItemExternalId: r.inventory_item_external_id,
    },
    available: Math.max(0, r.expected),
    intent: r.push_id === push.id ? `push:${push.id}:${push.attempts}` : `push:${r.push_id}:via:${push.id}:${push.attempts}`,
  }));
  if (async && rows.length >= async.asyncStockThreshold) {
    if (await submissionInFlight(app, push.channel_id)) {
      return waitFor(async.asyncStockPollMs, `stock push for ${push.target}: the channel is still processing an earlier submission`, job);
    }
    const carried = rows.map((r) => ({ push_id: r.push_id, listing_id: r.listing_id, sku: r.sku, available: Math.max(0, r.expected), stamp: r.stamp }));
    const id = await submit(app, async, push, carried, levels);
    app.log.info({ channel: push.channel_id, submission: id, skus: rows.length }, 'stock submitted in bulk; the pushes complete when the channel reports');
    return waitFor(async.asyncStockPollMs, `stock push for ${push.target}: submitted in bulk (submission ${id}), waiting for the channel's report`, job);
  }
  const results = await connector.pushStock(levels);
  const okSkus = new Set(results.filter((r) => r.ok).map((r) => r.sku));
  const errors = new Map(results.filter((r) => !r.ok).map((r) => [r.sku, r.error ?? 'refused by the channel']));
  const ownResult = results.find((r) => r.sku === own.sku);

  const pushed = rows.filter((r) => okSkus.has(r.sku));
  if (pushed.length > 0) {
    await sql`
      UPDATE channel_listings cl SET last_pushed_available = u.available, last_pushed_at = now()
      FROM unnest(${pushed.map((r) => r.listing_id)}::bigint[], ${pushed.map((r) => Math.max(0, r.expected))}::int[]) AS u(id, available)
      WHERE cl.id = u.id`.execute(app.db);
  }
  const others = pushed.filter((r) => r.push_id !== push.id);
  if (others.length > 0) {
    // Done only where nothing changed since our snapshot; a moved row keeps its own job.
    await sql`
      UPDATE channel_pushes p SET status = 'done', last_error = NULL, completed_at = now(), external_ref = u.available::text
      FROM unnest(${others.map((r) => r.push_id)}::bigint[], ${others.map((r) => r.stamp)}::timestamptz[],
        ${others.map((r) => Math.max(0, r.expected))}::int[]) AS u(id, stamp, available)
      WHERE p.id = u.id AND p.status = 'pending' AND p.updated_at = u.stamp`.execute(app.db);
  }
  // Ridden-along rows that failed stay pending, whether the channel said "later" or "never":
  // their own job runs next and retries or gives up by its own result.
  const failedOthers = rows.filter((r) => r.push_id !== push.id && errors.has(r.sku));
  for (const r of failedOthers) {
    await app.db.updateTable('channel_pushes').set({ last_error: errors.get(r.sku)! }).where('id', '=', r.push_id).execute();
  }

  const ownError = errors.get(own.sku);
  if (ownError !== undefined || !okSkus.has(own.sku)) {
    const message = `stock push for ${own.sku}: ${ownError ?? 'no answer from the channel for this SKU'}`;
    // The channel said "later" (busy, locked, throttled): the row stays pending and the job retries, after the channel's wait.
    if (ownResult?.retryable) throw new RetryableError(message, ownResult.retryAfterMs);
    throw new PermanentError(message);
  }

  // Two pushes of one SKU can overlap (a batch carrying it, and its own job): if the older
  // quantity reached the channel last, the channel now shows a stale number. Every push
  // therefore checks, after its own write, that what it wrote is still what the channel
  // should show; the push whose write landed last always checks last, so a stale number
  // is always caught and pushed again.
  const fresh = await sql<{ sku: string; expected: number }>`
    SELECT sku, expected FROM channel_stock_expected
    WHERE channel_id = ${push.channel_id} AND sku = ANY(${pushed.map((r) => r.sku)}::text[])`.execute(app.db);
  const now = new Map(fresh.rows.map((r) => [r.sku, Math.max(0, r.expected)]));
  const stale = pushed.filter((r) => now.get(r.sku) !== Math.max(0, r.expected));
  if (stale.length > 0) {
    await sql`
      UPDATE channel_pushes SET status = 'pending', updated_at = now()
      WHERE channel_id = ${push.channel_id} AND kind = 'stock' AND target = ANY(${stale.map((r) => r.sku)}::text[])`.execute(app.db);
  }

  const after = await sql<{ moved: boolean }>`
    SELECT updated_at <> ${own.stamp}::timestamptz AS moved FROM channel_pushes WHERE id = ${push.id}`.execute(app.db);
  if ((after.rows[0]?.moved || stale.length > 0) && job?.token) {
    // Changed while we pushed: the queue dropped that change's job (our dedup key was held), so we redo it.
    await job.moveToDelayed(Date.now() + REPUSH_DELAY_MS, job.token);
    throw new DelayedError();
  }
  return String(Math.max(0, own.expected));
}
