/**
 * Ingest first: when this process's event loop lags, the workers of the
 * queues that can wait (fulfilment, pushes, mail, reconcile) drop to one job
 * at a time, so the HTTP accepts and the webhook and sync workers, which share
 * the loop, get it back. A backlog of fulfilment then builds up and drains
 * when the lag is gone; an accept that misses a store's timeout is a delivery
 * the store counts failed (WooCommerce disables the webhook after 5 in a
 * row), which a backlog never is.
 *
 * Why: at 200 new paid orders a second one daemon fulfils ~5 a second, and
 * its ten fulfilment jobs at a time (labels block the loop for tens of ms)
 * held the accepts past WooCommerce's 5 s (`npm run bench -- webhooks`).
 *
 * Only while there is ingest to protect: a webhook accepted, or a webhook or
 * sync job started, in this process within the last `INGEST_RECENT_MS`
 * (`noteIngest`). A loop that lags from fulfilment alone keeps fulfilling at
 * full concurrency.
 *
 * The lag is the event loop's delay (`monitorEventLoopDelay`), read every
 * `SAMPLE_MS`: above `lagMs` the yielding workers go to 1 at once; after
 * `CALM_SAMPLES` calm samples in a row (below half of `lagMs`) they double
 * back towards their own concurrency. Never below 1: fulfilment always moves.
 * Lowering a BullMQ worker's concurrency stops new fetches; running jobs finish.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Worker } from 'bullmq';
import type { QueueName } from './queues.ts';
import type { Logger } from '../log.ts';

/** The queues whose work can wait behind ingest. Ingest (webhooks, sync-orders) and the sweeper never yield. */
export const YIELDING_QUEUES: ReadonlySet<QueueName> = new Set(['fulfilment', 'channel-push', 'notify', 'order-notifications', 'reconcile-stock']);

const SAMPLE_MS = 100;
const CALM_SAMPLES = 5;
const INGEST_RECENT_MS = 1_000;

let lastIngest = -Infinity;
/** Ingest happened in this process (a webhook accepted, a webhook or sync job started). */
export function noteIngest(): void {
  lastIngest = performance.now();
}

export interface IngestFirst {
  /** Whether the yielding workers are held below their concurrency now. */
  readonly yielding: boolean;
  stop(): void;
}

/**
 * Watches the loop and sets the concurrency of `workers` (those of `YIELDING_QUEUES`) between 1 and `full`.
 * `lagMs` 0 turns it off (returns a handle that does nothing).
 */
export function ingestFirst(workers: Worker[], full: number, lagMs: number, log: Logger): IngestFirst {
  const yielding = workers.filter((w) => YIELDING_QUEUES.has(w.name as QueueName));
  if (lagMs <= 0 || yielding.length === 0 || full <= 1) return { yielding: false, stop() {} };
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let current = full;
  let calm = 0;
  const set = (n: number) => {
    if (n === current) return;
    if (current === full) log.info({ lagMs: Math.round(histogram.max / 1e6) }, 'event loop lagging: fulfilment, pushes and mail yield to ingest');
    current = n;
    for (const w of yielding) w.concurrency = n;
    if (n === full) log.info('event loop calm again: fulfilment, pushes and mail at full concurrency');
  };
  const timer = setInterval(() => {
    const lag = histogram.max / 1e6;
    histogram.reset();
    const ingesting = performance.now() - lastIngest < INGEST_RECENT_MS;
    if (lag > lagMs && ingesting) {
      calm = 0;
      set(1);
    } else if (!ingesting && current < full) {
      set(full);
    } else if (lag < lagMs / 2 && current < full && ++calm >= CALM_SAMPLES) {
      calm = 0;
      set(Math.min(full, current * 2));
    }
  }, SAMPLE_MS);
  timer.unref();
  return {
    get yielding() {
      return current < full;
    },
    stop() {
      clearInterval(timer);
      histogram.disable();
    },
  };
}
