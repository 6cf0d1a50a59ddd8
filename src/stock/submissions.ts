/**
 * Stock pushes through a channel's asynchronous bulk job (`AsyncStockSink`:
 * Amazon's JSON_LISTINGS_FEED), whose result comes minutes later.
 *
 * A batch of at least `asyncStockThreshold` SKUs is submitted once, recorded
 * as a `stock_submissions` row with one `stock_submission_rows` row per push
 * it carries (quantity and the push row's `updated_at` as sent), in one
 * transaction. The push rows stay `pending`: their jobs wait (delayed, no
 * attempt used) and the job of the submission's first push asks the channel
 * how it ended. Once it has, one transaction records every row's result,
 * marks the unchanged successful pushes done and the submission done; each
 * other push's job then reads its own result (done, or the channel's error,
 * retryable or not). A push changed since it was sent is pushed again.
 * One submission per channel is in flight at a time (a unique index).
 */
import { sql } from 'kysely';
import type { App } from '../app.ts';
import type { ChannelPush } from '../db/schema.ts';
import type { AsyncStockSink, Connector, StockPush, StockPushResult } from '../../connectors/types.ts';

/** How long a submission may stay unfinished before its pushes are retried by other means. Amazon has feeds stuck for hours (models#4823). */
export const MAX_SUBMISSION_AGE_MS = 2 * 60 * 60 * 1000;

export type AsyncStep =
  /** This push has no submission to wait for or read: push it as usual. */
  | { kind: 'none' }
  /** A submission this push is in (or that blocks the channel) is still running. */
  | { kind: 'wait'; ms: number; why: string }
  /** The channel's answer for this push, as sent. */
  | { kind: 'result'; ok: boolean; error: string | null; retryable: boolean; available: number };

interface OpenSubmission {
  id: number;
  handle: string;
  created_at: Date;
  owner: number;
  carries: boolean;
}

/** What the push's job should do about submissions before (or instead of) pushing. */
export async function asyncStep(app: App, connector: Connector & AsyncStockSink, push: ChannelPush): Promise<AsyncStep> {
  const result = await unseenResult(app, push);
  if (result) return result;
  const open = await sql<OpenSubmission>`
    SELECT s.id, s.handle, s.created_at,
      s.owner_push_id AS owner,
      EXISTS (SELECT 1 FROM stock_submission_rows WHERE submission_id = s.id AND push_id = ${push.id}) AS carries
    FROM stock_submissions s WHERE s.channel_id = ${push.channel_id} AND s.status = 'pending'`.execute(app.db);
  const submission = open.rows[0];
  // None pending: one that carried this push may have finished since the first look (its results commit with it).
  if (!submission) return (await unseenResult(app, push)) ?? { kind: 'none' };
  if (!submission.carries) return { kind: 'none' }; // the caller waits only if it would submit too
  if (Number(submission.owner) !== push.id) return { kind: 'wait', ms: connector.asyncStockPollMs, why: `stock submission ${submission.id} is still being processed by the channel` };

  const age = Date.now() - new Date(submission.created_at).getTime();
  let results: StockPushResult[] | null = null;
  if (age > MAX_SUBMISSION_AGE_MS) {
    results = (await carried(app, submission.id)).map((r) => ({ sku: r.sku, ok: false, retryable: true, error: `the channel had not finished submission ${submission.id} after ${Math.round(age / 60_000)} minutes` }));
  } else {
    const state = await connector.stockSubmission(submission.handle);
    if (!state.done) return { kind: 'wait', ms: state.checkAfterMs, why: `stock submission ${submission.id} is still being processed by the channel` };
    results = state.results;
  }
  await finish(app, submission.id, results);
  return (await unseenResult(app, push)) ?? { kind: 'none' };
}

/** Whether a channel already has a submission in flight (a new one must wait for it). */
export async function submissionInFlight(app: App, channelId: number): Promise<boolean> {
  const { rows } = await sql`SELECT 1 FROM stock_submissions WHERE channel_id = ${channelId} AND status = 'pending'`.execute(app.db);
  return rows.length > 0;
}

export interface CarriedRow {
  push_id: number;
  listing_id: number;
  sku: string;
  available: number;
  stamp: string;
}

/** Submits the batch and records it with the rows it carries, in one transaction. */
export async function submit(app: App, connector: AsyncStockSink, owner: ChannelPush, rows: CarriedRow[], levels: StockPush[]): Promise<number> {
  const submission = await connector.submitStock(levels);
  return app.db.transaction().execute(async (trx) => {
    const { rows: inserted } = await sql<{ id: number }>`
      INSERT INTO stock_submissions (channel_id, handle, owner_push_id) VALUES (${owner.channel_id}, ${submission.handle}, ${owner.id}) RETURNING id`.execute(trx);
    const id = inserted[0]!.id;
    await sql`
      INSERT INTO stock_submission_rows (submission_id, push_id, listing_id, sku, available, stamp)
      SELECT ${id}, u.push_id, u.listing_id, u.sku, u.available, u.stamp
      FROM unnest(${rows.map((r) => r.push_id)}::bigint[], ${rows.map((r) => r.listing_id)}::bigint[], ${rows.map((r) => r.sku)}::text[],
        ${rows.map((r) => r.available)}::int[], ${rows.map((r) => r.stamp)}::timestamptz[]) AS u(push_id, listing_id, sku, available, stamp)`.execute(trx);
    return id;
  });
}

async function carried(app: App, submissionId: number): Promise<CarriedRow[]> {
  const { rows } = await sql<CarriedRow>`
    SELECT push_id, listing_id, sku, available, stamp::text FROM stock_submission_rows WHERE submission_id = ${submissionId}`.execute(app.db);
  return rows;
}

/** Records how the submission ended, once (whoever gets here first); the unchanged successful pushes are done. */
async function finish(app: App, submissionId: number, results: StockPushResult[]): Promise<void> {
  const bySku = new Map(results.map((r) => [r.sku, r]));
  await app.db.transaction().execute(async (trx) => {
    const closed = await sql`UPDATE stock_submissions SET status = 'done', completed_at = now() WHERE id = ${submissionId} AND status = 'pending' RETURNING id`.execute(trx);
    if (closed.rows.length === 0) return;
    const { rows } = await sql<CarriedRow>`SELECT push_id, listing_id, sku, available, stamp::text FROM stock_submission_rows WHERE submission_id = ${submissionId}`.execute(trx);
    for (const row of rows) {
      const r = bySku.get(row.sku) ?? { sku: row.sku, ok: false, retryable: true, error: 'the channel reported nothing for this SKU' };
      await sql`UPDATE stock_submission_rows SET ok = ${r.ok}, error = ${r.ok ? null : (r.error ?? 'refused by the channel')}, retryable = ${Boolean(r.retryable)}
        WHERE submission_id = ${submissionId} AND push_id = ${row.push_id}`.execute(trx);
    }
    const ok = rows.filter((row) => bySku.get(row.sku)?.ok);
    if (ok.length === 0) return;
    await sql`
      UPDATE channel_listings cl SET last_pushed_available = u.available, last_pushed_at = now()
      FROM unnest(${ok.map((r) => r.listing_id)}::bigint[], ${ok.map((r) => r.available)}::int[]) AS u(id, available) WHERE cl.id = u.id`.execute(trx);
    // Done only where nothing changed since the row was sent; a moved row is pushed again by its job.
    await sql`
      UPDATE channel_pushes p SET status = 'done', last_error = NULL, completed_at = now(), external_ref = u.available::text
      FROM unnest(${ok.map((r) => r.push_id)}::bigint[], ${ok.map((r) => r.stamp)}::timestamptz[], ${ok.map((r) => r.available)}::int[]) AS u(id, stamp, available)
      WHERE p.id = u.id AND p.status = 'pending' AND p.updated_at = u.stamp`.execute(trx);
  });
}

/** The push's result from a finished submission it has not read yet; stale (the row changed since) counts as none. */
async function unseenResult(app: App, push: ChannelPush): Promise<AsyncStep | null> {
  const { rows } = await sql<{ submission_id: number; ok: boolean; error: string | null; retryable: boolean; available: number; unchanged: boolean }>`
    UPDATE stock_submission_rows r SET seen = true
    FROM stock_submissions s, channel_pushes p
    WHERE r.submission_id = s.id AND p.id = r.push_id AND r.push_id = ${push.id} AND s.status = 'done' AND NOT r.seen
    RETURNING r.submission_id, r.ok, r.error, r.retryable, r.available, (p.updated_at = r.stamp) AS unchanged`.execute(app.db);
  const latest = rows.sort((a, b) => Number(b.submission_id) - Number(a.submission_id))[0];
  if (!latest || !latest.unchanged) return null;
  return { kind: 'result', ok: latest.ok, error: latest.error, retryable: latest.retryable, available: latest.available };
}
