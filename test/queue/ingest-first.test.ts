/**
 * Ingest first (src/queue/ingest-first.ts): while the event loop lags,
 * fulfilment, pushes and mail run one job at a time; ingest never yields;
 * once the loop is calm they come back to their own concurrency.
 */
import { describe, expect, it } from 'vitest';
import type { Worker } from 'bullmq';
import { pino } from 'pino';
import { ingestFirst } from '../../src/queue/ingest-first.ts';

/** The part of a BullMQ worker the governor touches: its queue's name and its concurrency. */
const worker = (name: string) => ({ name, concurrency: 10 }) as unknown as Worker;

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ingest first', () => {
  it('drops the yielding workers to 1 while the loop lags, leaves ingest alone, and restores them when calm', async () => {
    const fulfilment = worker('fulfilment');
    const push = worker('channel-push');
    const webhooks = worker('webhooks');
    const sync = worker('sync-orders');
    const governor = ingestFirst([fulfilment, push, webhooks, sync], 10, 50, pino({ level: 'silent' }));
    try {
      await new Promise((r) => setTimeout(r, 50));
      // A job that holds the loop (a label, a big parse) for 150 ms.
      const until150 = Date.now() + 150;
      while (Date.now() < until150);
      await until(() => governor.yielding);
      expect([fulfilment.concurrency, push.concurrency]).toEqual([1, 1]);
      expect([webhooks.concurrency, sync.concurrency]).toEqual([10, 10]);
      await until(() => !governor.yielding);
      expect([fulfilment.concurrency, push.concurrency, webhooks.concurrency]).toEqual([10, 10, 10]);
    } finally {
      governor.stop();
    }
  });

  it('does nothing when turned off (INGEST_FIRST_LAG_MS=0)', async () => {
    const fulfilment = worker('fulfilment');
    const governor = ingestFirst([fulfilment], 10, 0, pino({ level: 'silent' }));
    const until150 = Date.now() + 150;
    while (Date.now() < until150);
    await new Promise((r) => setTimeout(r, 200));
    expect(fulfilment.concurrency).toBe(10);
    governor.stop();
  });
});
