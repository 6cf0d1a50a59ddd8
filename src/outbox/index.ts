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
import { jobId, jobName, type JobLabels } from '../queue/queues.ts';

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

/** A channel-push job's payload: the row's id; the labels only name it for people (`jobName`). */
export type PushJobData = { pushId: number } & JobLabels;

/**
 * Payloads for these pushes' jobs, in one query: the channel's name, and the
 * order number (a fulfilment push names a shipment; cancel and refund pushes
 * the order's external id) or the SKU (stock). A push whose order is gone
 * still gets its id and channel.
 */
export async function pushJobData(db: Db, pushes: ReadonlyArray<{ id: number }>): Promise<Map<number, PushJobData>> {
  const out = new Map<number, PushJobData>(pushes.map((p) => [p.id, { pushId: p.id }]));
  if (pushes.length === 0) return out;
  const { rows } = await sql<{ id: number; channel_name: string; order_number: string | null; sku: string | null }>`
    SELECT p.id, c.name AS channel_name,
      CASE p.kind
        WHEN 'fulfillment' THEN (SELECT o.order_number FROM shipments s JOIN fulfillments f ON f.id = s.fulfillment_id JOIN orders o ON o.id = f.order_id
          WHERE s.id = CASE WHEN p.target ~ '^[0-9]{1,18}$' THEN p.target::bigint END)
        WHEN 'stock' THEN NULL
        ELSE (SELECT o.order_number FROM orders o WHERE o.channel_id = p.channel_id AND o.external_id = split_part(p.target, '.', 1))
      END AS order_number,
      CASE WHEN p.kind = 'stock' THEN p.target END AS sku
    FROM channel_pushes p JOIN channels c ON c.id = p.channel_id
    WHERE p.id = ANY(${pushes.map((p) => p.id)}::bigint[])`.execute(db);
  for (const r of rows) {
    out.set(r.id, { pushId: r.id, channelName: r.channel_name, ...(r.order_number ? { orderNumber: r.order_number } : {}), ...(r.sku ? { sku: r.sku } : {}) });
  }
  return out;
}

/** One push's payload; just its id when the labels cannot be read (the job runs the same). */
export async function onePushJobData(app: App, pushId: number): Promise<PushJobData> {
  return (await pushJobData(app.db, [{ id: pushId }]).catch(() => null))?.get(pushId) ?? { pushId };
}

/**
 * After commit: starts the job of an owed push. Never throws; the sweeper covers a failed kick.
 * `labels`: the job's labels when the caller has them at hand (saves reading them).
 */
export async function enqueuePush(app: App, row: OwedPush, labels?: JobLabels): Promise<void> {
  if (row.status !== 'pending') return;
  try {
    await app.queues.add('channel-push', pushJobId(row), labels ? { pushId: row.id, ...labels } : await onePushJobData(app, row.id));
  } catch (err) {
    app.log.warn({ push: row.id, err: (err as Error).message }, 'could not enqueue push; the sweeper will');
  }
}

/** How long a stock push waits for more changes to the same SKU before it runs. */
export const STOCK_PUSH_DEBOUNCE_MS = 250;

/**
 * After commit: starts the jobs of the stock pushes these SKUs owe (the rows
 * were written by the trigger in the change's own transaction). A push
 * already waiting covers this change too: it reads the level when it runs.
 * One that is running now may have read the row before this change, and
 * may already have looked at it for the last time (`deliverStock` re-runs
 * itself when it sees its row moved, but not after its last look): so a kick
 * that finds its push running is kept by the queue (`keepLastIfActive`) and
 * becomes a new job when the running one ends. Without it the kick was
 * dropped and the row waited for the sweeper (30 s or more; seen in `npm
 * run bench -- scale-out`, where pushes of a few SKUs run all the time).
 * At most one push of a row runs and one waits. Never throws.
 */
export async function kickStockPushes(app: App, skuIds: number[]): Promise<void> {
  if (skuIds.length === 0) return;
  try {
    const rows = await pendingStockPushes(app.db, skuIds);
    const queue = app.queues.get('channel-push');
    await Promise.all(
      rows.map((row) => {
        const data: PushJobData = { pushId: row.id, channelName: row.channel_name, sku: row.target };
        return queue
          .add(jobName('push-stock', data), data, { deduplication: { id: pushJobId(row), keepLastIfActive: true }, delay: STOCK_PUSH_DEBOUNCE_MS })
          .catch((err) => app.log.warn({ push: row.id, err: (err as Error).message }, 'could not enqueue stock push; the sweeper will'));
      }),
    );
  } catch (err) {
    app.log.warn({ skus: skuIds.length, err: (err as Error).message }, 'could not kick stock pushes; the sweeper will');
  }
}

/** The pending stock pushes of these SKUs, with their channel's name for the job's label (one query, not two). */
async function pendingStockPushes(db: Db, skuIds: number[]): Promise<Array<OwedPush & { channel_name: string }>> {
  const { rows } = await sql<OwedPush & { channel_name: string }>`
    SELECT p.id, p.channel_id, p.kind, p.target, p.status, c.name AS channel_name
    FROM channel_listings cl
    JOIN skus s ON s.id = cl.sku_id
    JOIN channel_pushes p ON p.channel_id = cl.channel_id AND p.kind = 'stock' AND p.target = s.sku
    JOIN channels c ON c.id = p.channel_id
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
