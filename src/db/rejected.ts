/**
 * Orders set aside: what a channel sent that cannot be saved (a value its
 * schema or the database refuses). Recorded in the transaction of the page
 * or delivery that carried them, so the cursor moves past them visibly, never
 * silently; listed for a person (`GET /api/rejected-orders`, `channelsync
 * status`); cleared when a later copy of the order saves.
 */
import { sql } from 'kysely';
import type { Db, Trx } from './index.ts';

/** One order that could not be saved, and why. */
export interface RejectedOrder {
  /** The channel's id of the order; `(unknown)` when even that could not be read. */
  externalId: string;
  /** What was wrong, for a person: the field and the problem, or the database's refusal. */
  reason: string;
  /** The payload as received, kept for the person who fixes it. */
  raw: unknown;
}

export type RejectionSource = 'poll' | 'webhook' | 'backfill';

// Postgres text cannot hold NUL; a refused payload may well contain one.
const printable = (text: string, max: number) => text.replace(/\0/g, '\uFFFD').slice(0, max);

function rawText(raw: unknown): string | null {
  if (raw === undefined) return null;
  try {
    // JSON.stringify writes a NUL as the six characters \u0000, which text stores.
    return JSON.stringify(raw) ?? null;
  } catch {
    return null;
  }
}

/** Records (or refreshes: reason, payload, count) these rejections in the caller's transaction. */
export async function recordRejectedOrders(trx: Trx, channelId: number, source: RejectionSource, rejected: readonly RejectedOrder[]): Promise<void> {
  // One row per external id (a page can repeat one): the last one wins.
  const byId = new Map(rejected.map((r) => [printable(r.externalId, 500), r]));
  for (const [externalId, r] of byId) {
    await trx
      .insertInto('rejected_orders')
      .values({ channel_id: channelId, external_id: externalId, source, reason: printable(r.reason, 2000), raw: rawText(r.raw) })
      .onConflict((oc) =>
        oc.columns(['channel_id', 'external_id']).doUpdateSet((eb) => ({
          source: eb.ref('excluded.source'),
          reason: eb.ref('excluded.reason'),
          raw: eb.ref('excluded.raw'),
          occurrences: sql`rejected_orders.occurrences + 1`,
          last_seen_at: sql`now()`,
        })),
      )
      .execute();
  }
}

/** Removes the rejections of orders that have now saved. */
export async function clearRejectedOrders(trx: Trx, channelId: number, externalIds: readonly string[]): Promise<void> {
  if (externalIds.length === 0) return;
  await trx.deleteFrom('rejected_orders').where('channel_id', '=', channelId).where('external_id', '=', sql<string>`ANY(${[...externalIds]}::text[])`).execute();
}

/** Rejections, newest first, in keyset pages (`before` an id). */
export async function listRejectedOrders(db: Db, q: { channelId?: number; limit: number; before?: number }) {
  let query = db
    .selectFrom('rejected_orders')
    .innerJoin('channels', 'channels.id', 'rejected_orders.channel_id')
    .select([
      'rejected_orders.id', 'rejected_orders.channel_id', 'channels.name as channel_name', 'rejected_orders.external_id', 'rejected_orders.source',
      'rejected_orders.reason', 'rejected_orders.occurrences', 'rejected_orders.first_seen_at', 'rejected_orders.last_seen_at',
    ])
    .orderBy('rejected_orders.id', 'desc')
    .limit(q.limit);
  if (q.channelId !== undefined) query = query.where('rejected_orders.channel_id', '=', q.channelId);
  if (q.before !== undefined) query = query.where('rejected_orders.id', '<', q.before);
  return query.execute();
}
