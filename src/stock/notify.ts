/**
 * After any stock change: every channel that lists an affected SKU is owed a
 * push of its new available quantity. One outbox row per (channel, SKU); the
 * push job computes the quantity when it runs, so a burst of changes needs
 * only the latest push. A SKU with no stock movement (not initialised) is
 * owed nothing: its 0 would only mean "nobody said".
 */
import { sql } from 'kysely';
import type { App } from '../app.ts';
import { pushJobId } from '../../jobs/channel-push.ts';
import { stockInitialised } from './ledger.ts';

export async function notifyStockChanged(app: App, skuIds: number[]): Promise<void> {
  if (skuIds.length === 0) return;
  const rows = await sql<{ id: number; channel_id: number; kind: 'stock'; target: string }>`
    INSERT INTO channel_pushes (channel_id, kind, target, status, updated_at)
    SELECT DISTINCT cl.channel_id, 'stock', s.sku, 'pending', now()
    FROM channel_listings cl JOIN skus s ON s.id = cl.sku_id JOIN channels c ON c.id = cl.channel_id
    WHERE cl.sku_id = ANY(${skuIds}::bigint[]) AND c.enabled AND ${stockInitialised('cl.sku_id')}
    ON CONFLICT (channel_id, kind, target) DO UPDATE SET status = 'pending', last_error = NULL, updated_at = now()
    RETURNING id, channel_id, kind, target`.execute(app.db);
  const queue = app.queues.get('channel-push');
  // A push already waiting covers this change too: it reads the level when it runs. One that is
  // running now re-runs itself when it sees the row moved (see `deliverStock`).
  await Promise.all(
    rows.rows.map((row) =>
      queue
        .add('push-stock', { pushId: row.id }, { deduplication: { id: pushJobId(row) }, delay: STOCK_PUSH_DEBOUNCE_MS })
        .catch((err) => app.log.warn({ push: row.id, err: (err as Error).message }, 'could not enqueue stock push; the sweeper will')),
    ),
  );
}

/** How long a stock push waits for more changes to the same SKU before it runs. */
export const STOCK_PUSH_DEBOUNCE_MS = 250;
