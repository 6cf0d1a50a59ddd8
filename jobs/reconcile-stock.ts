/**
 * reconcile-stock: compare what every channel shows with the ledger, push the
 * corrections and record the drift. Job id `reconcile.<slot>`, enqueued by the
 * node-cron schedule in every daemon (src/stock/schedule.ts): one run per slot.
 */
import type { JobDefinition } from '../src/queue/job.ts';
import { reconcile } from '../src/stock/reconcile.ts';
import type { ReconcileData } from '../src/stock/schedule.ts';
import { syncOrders } from './sync-orders.ts';

export const reconcileStockJob: JobDefinition<ReconcileData> = {
  queue: 'reconcile-stock',
  async handle(app, data, job) {
    const report = await reconcile(app, {
      slot: data.slot,
      // Lower readings are settled after the channel's orders are pulled past them.
      catchUp: (channelId) => syncOrders(app, channelId),
      onProgress: (p) => void job.updateProgress({ channelId: p.channelId, read: p.read, total: p.total }).catch(() => {}),
    });
    return {
      skipped: report.skipped,
      ms: report.ms,
      channels: report.channels.map((c) => ({ channelId: c.channelId, listings: c.listings, drift: c.drift, corrected: c.corrected, failed: c.failed, held: c.held, skipped: c.skipped })),
    };
  },
};
