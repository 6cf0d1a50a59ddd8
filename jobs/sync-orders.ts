/**
 * sync-orders: pull every order changed since the channel's cursor, page by
 * page; each page and the cursor that follows it are saved in one
 * transaction, so a crash re-pulls at most one page and never skips one.
 * One sync per channel at a time, across all processes (advisory lock).
 */
import { sql } from 'kysely';
import type { App } from '../src/app.ts';
import type { JobDefinition } from '../src/queue/job.ts';
import { saveOrdersInTransaction, saveOrdersSettingAside, type UpsertResult } from '../src/db/orders.ts';
import { LOCKS, withSessionLock } from '../src/db/locks.ts';
import { PermanentError } from '../src/domain/errors.ts';
import { ordersChanged } from '../src/fulfilment/steps.ts';
import { aheadByOne } from '../src/domain/async.ts';

export interface SyncOrdersData {
  channelId: number;
}

export interface SyncReport {
  pages: number;
  inserted: number;
  updated: number;
  stale: number;
  /** Orders set aside (`rejected_orders`): unreadable, or refused by the database. */
  rejected: number;
  skipped?: string;
}

const ORDERS = 'orders';

export const syncOrdersJob: JobDefinition<SyncOrdersData> = {
  queue: 'sync-orders',
  handle: (app, data) => syncOrders(app, data.channelId),
};

/** Runs one pull now (also used by `channelsync sync`). */
export async function syncOrders(app: App, channelId: number): Promise<SyncReport> {
  const { connector } = await app.connectors.get(channelId);
  const report: SyncReport = { pages: 0, inserted: 0, updated: 0, stale: 0, rejected: 0 };
  const run = await withSessionLock(app.config.databaseUrl, LOCKS.syncOrders, channelId, async (lockLost) => {
    const conn = app.db;
    // The database's clock, like the stock readings reconcile compares with it.
    const { rows: [clock] } = await sql<{ now: Date }>`SELECT now() AS now`.execute(conn);
    const saved = await conn
      .selectFrom('sync_cursors')
      .select('cursor')
      .where('channel_id', '=', channelId)
      .where('resource', '=', ORDERS)
      .executeTakeFirst();
    // The kicks of the page saved last run while the next page is saved: Redis and Postgres
    // round trips overlap instead of adding up. Never more than one page's kicks in flight,
    // and all of them done before the sync returns (a kick never throws: the rows are the truth).
    let kicks: Promise<void> = Promise.resolve();
    try {
      // The next page is read from the channel while this one is saved (`npm run bench -- ingest`).
      for await (const page of aheadByOne(connector.pullOrders(saved?.cursor ?? null))) {
        // Another process may take the channel once our lock is gone: stop before saving more.
        lockLost.throwIfAborted();
        // A page was read from the channel just now: at equal times its content wins. An order
        // that cannot be saved is set aside with its reason, in the page's transaction, and the
        // cursor moves on with it: one bad order never stops the channel's polling.
        const { results, rejected } = await saveOrdersInTransaction(
          conn,
          channelId,
          page.orders,
          { sameTimestamp: 'replace', source: 'poll', alsoRejected: page.rejected },
          async (trx) => {
            await trx
              .insertInto('sync_cursors')
              .values({ channel_id: channelId, resource: ORDERS, cursor: page.cursor, last_error: null })
              .onConflict((oc) =>
                oc.columns(['channel_id', 'resource']).doUpdateSet({ cursor: page.cursor, last_synced_at: sql`now()`, last_error: null }),
              )
              .execute();
          },
        );
        if (rejected.length > 0) app.log.warn({ channel: channelId, rejected: rejected.map((r) => ({ order: r.externalId, reason: r.reason })) }, 'orders set aside');
        report.rejected += rejected.length;
        count(report, results);
        await kicks;
        kicks = ordersChanged(app, results).catch((err: unknown) => app.log.warn({ channel: channelId, err: (err as Error).message }, 'could not kick the steps of a page; the sweeper will'));
        report.pages += 1;
      }
      await kicks;
      // The pull reached the channel's present: everything changed before it started is saved.
      await conn
        .insertInto('sync_cursors')
        .values({ channel_id: channelId, resource: ORDERS, cursor: saved?.cursor ?? '', last_error: null, caught_up_at: clock!.now })
        .onConflict((oc) => oc.columns(['channel_id', 'resource']).doUpdateSet({ caught_up_at: clock!.now, last_error: null }))
        .execute();
    } catch (err) {
      await kicks;
      await conn
        .insertInto('sync_cursors')
        .values({ channel_id: channelId, resource: ORDERS, cursor: saved?.cursor ?? '', last_error: String((err as Error).message) })
        .onConflict((oc) => oc.columns(['channel_id', 'resource']).doUpdateSet({ last_error: String((err as Error).message) }))
        .execute()
        .catch(() => {});
      throw err;
    }
  });
  if (!run.locked) report.skipped = 'another process is syncing this channel';
  app.log.info({ channel: channelId, ...report }, 'order sync finished');
  return report;
}

function count(report: Pick<SyncReport, 'inserted' | 'updated' | 'stale'>, results: UpsertResult[]): void {
  for (const r of results) report[r.outcome] += 1;
}

export interface BackfillReport {
  orders: number;
  inserted: number;
  updated: number;
  stale: number;
  /** Orders set aside (`rejected_orders`). */
  rejected: number;
}

/**
 * Historic orders through the channel's bulk export (`channelsync backfill`).
 * Batches are saved as they stream in, with the same newer-wins rule as polls,
 * so a backfill can run beside the daemon and be stopped and re-run safely.
 */
export async function backfillOrders(
  app: App,
  channelId: number,
  since: Date,
  onProgress: (p: { done: number; total: number | null; saved: number }) => void = () => {},
): Promise<BackfillReport> {
  const { connector, channel } = await app.connectors.get(channelId);
  if (!connector.backfill) {
    throw new PermanentError(`${channel.kind} channels have no bulk export; "channelsync sync ${channelId}" pulls their history page by page`);
  }
  const report: BackfillReport = { orders: 0, inserted: 0, updated: 0, stale: 0, rejected: 0 };
  let progress = { done: 0, total: null as number | null };
  for await (const batch of connector.backfill(since, (p) => {
    progress = p;
    onProgress({ ...p, saved: report.orders });
  })) {
    // Each batch is one transaction: an order is never saved without its lines.
    const { results, rejected } = await app.db.transaction().execute((trx) => saveOrdersSettingAside(trx, channelId, batch, { sameTimestamp: 'replace', source: 'backfill', alsoRejected: batch.rejected }));
    report.rejected += rejected.length;
    count(report, results);
    report.orders += batch.length;
    onProgress({ ...progress, saved: report.orders });
  }
  return report;
}
