/**
 * The outbox: side effects owed to the channels, as `channel_pushes` rows
 * written in the transaction of the change that owes them (see
 * docs/design.md, "One change, one transaction").
 *
 * - Fulfilment, cancel and refund pushes are owed explicitly with `owePush`,
 *   which only takes a transaction: it cannot be called after the commit.
 * - Stock pushes are owed by the database itself: a trigger on stock
 *   movements, stock rules and locations (migration 0009) upserts the row in
 *   the same transaction, so no code path can forget one.
 *
 * After the commit, the caller *kicks* the jobs (`enqueuePush`,
 * `kickStockPushes`) so the push goes at once. A kick that fails (Redis down,
 * the process dies) only delays the push: the sweeper finds every pending row.
 */
import { sql } from 'kysely';
import type { App } from '../app.ts';
import type { Db, Trx } from '../db/index.ts';
import type { PushKind } from '../db/schema.ts';
import { jobId } from '../queue/queues.ts';

export interface OwedPush {
  id: number;
  channel_id: number;
  kind: PushKind;
  target: string;
  status: string;
}

/** `push-fulfillment.<shipment>.<channel>`, `push-stock.<channel>.<sku>`, ... */
export function pushJobId(push: { kind: PushKind; channel_id: number; target: string }): string {
  return push.kind === 'fulfillment'
    ? jobId('push-fulfillment', push.target, push.channel_id)
    : jobId(`push-${push.kind}`, push.channel_id, push.target);
}

/**
 * Records, inside the caller's transaction, that a channel must be told
 * something. Idempotent: the same (channel, kind, target) is one row; a row
 * that exists is returned as it is (a done push stays done).
 */
export async function owePush(
  trx: Trx,
  push: { channelId: number; kind: PushKind; target: string; payload?: Record<string, unknown> },
): Promise<OwedPush> {
  return trx
    .insertInto('channel_pushes')
    .values({ channel_id: push.channelId, kind: push.kind, target: push.target, payload: JSON.stringify(push.payload ?? {}) })
    .onConflict((oc) => oc.columns(['channel_id', 'kind', 'target']).doUpdateSet({ updated_at: sql`channel_pushes.updated_at` }))
    .returning(['id', 'channel_id', 'kind', 'target', 'status'])
    .executeTakeFirstOrThrow();
}

/**
 * A push that is itself the whole change (an admin or a test asking for one):
 * owed in a transaction of its own, then its job started. Returns the row id.
 */
export async function requestPush(
  app: App,
  push: { channelId: number; kind: PushKind; target: string; payload?: Record<string, unknown> },
): Promise<number> {
  const row = await app.db.transaction().execute((trx) => owePush(trx, push));
  await enqueuePush(app, row);
  return row.id;
}

/** After commit: starts the job of an owed push. Never throws; the sweeper covers a failed kick. */
export async function enqueuePush(app: App, row: OwedPush): Promise<void> {
  if (row.status !== 'pending') return;
  await app.queues.add('channel-push', pushJobId(row), { pushId: row.id }).catch((err) => {
    app.log.warn({ push: row.id, err: (err as Error).message }, 'could not enqueue push; the sweeper will');
  });
}

/** How long a stock push waits for more changes to the same SKU before it runs. */
export const STOCK_PUSH_DEBOUNCE_MS = 250;

/**
 * After commit: starts the jobs of the stock pushes these SKUs owe (the rows
 * were written by the trigger in the change's own transaction). A push
 * already waiting covers this change too: it reads the level when it runs.
 * One that is running now re-runs itself when it sees its row moved (see
 * `deliverStock`). Never throws.
 */
export async function kickStockPushes(app: App, skuIds: number[]): Promise<void> {
  if (skuIds.length === 0) return;
  try {
    const rows = await pendingStockPushes(app.db, skuIds);
    const queue = app.queues.get('channel-push');
    await Promise.all(
      rows.map((row) =>
        queue
          .add('push-stock', { pushId: row.id }, { deduplication: { id: pushJobId(row) }, delay: STOCK_PUSH_DEBOUNCE_MS })
          .catch((err) => app.log.warn({ push: row.id, err: (err as Error).message }, 'could not enqueue stock push; the sweeper will')),
      ),
    );
  } catch (err) {
    app.log.warn({ skus: skuIds.length, err: (err as Error).message }, 'could not kick stock pushes; the sweeper will');
  }
}

async function pendingStockPushes(db: Db, skuIds: number[]): Promise<OwedPush[]> {
  const { rows } = await sql<OwedPush>`
    SELECT p.id, p.channel_id, p.kind, p.target, p.status
    FROM channel_listings cl
    JOIN skus s ON s.id = cl.sku_id
    JOIN channel_pushes p ON p.channel_id = cl.channel_id AND p.kind = 'stock' AND p.target = s.sku
    WHERE cl.sku_id = ANY(${[...new Set(skuIds)]}::bigint[]) AND p.status = 'pending'`.execute(db);
  return rows;
}

/**
 * Owes stock pushes for these SKUs without a stock change (a listing linked,
 * an admin asking for a push): the same statement the triggers run.
 */
export async function oweStockPushes(trx: Trx, skuIds: number[]): Promise<void> {
  if (skuIds.length === 0) return;
  await sql`SELECT cs_owe_stock_pushes(${[...new Set(skuIds)]}::bigint[])`.execute(trx);
}
