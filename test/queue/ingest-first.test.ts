/**
 * Ingest first (src/queue/ingest-first.ts): while the event loop lags,
 * fulfilment, pushes and mail run one job at a time; ingest never yields;
 * once the loop is calm they come back to their own concurrency.
 */
import { describe, expect, it } from 'vitest';
import type { Worker } from 'bullmq';
import { pino } from 'pino';
import { ingestFirst, noteIngest } from '../../src/queue/ingest-first.ts';

/** The part of a BullMQ worker the governor touches: its queue's name and its concurrency. */
// Full concurrency 2: one doubling brings the yielding workers back, which keeps the test short.
const worker = (name: string) => ({ name, concurrency: 2 }) as unknown as Worker;

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ingest first', () => {
  it('drops the yielding workers to 1 while the loop lags during ingest (not without it), leaves ingest alone, and restores them when calm', async () => {
    const fulfilment = worker('fulfilment');
    const push = worker('channel-push');
    const webhooks = worker('webhooks');
    const sync = worker('sync-orders');
    const governor = ingestFirst([fulfilment, push, webhooks, sync], 2, 50, pino({ level: 'silent' }));
    try {
      await new Promise((r) => setTimeout(r, 50));
      // Lag from fulfilment alone (no ingest to protect): nothing yields.
      let until150 = Date.now() + 150;
      while (Date.now() < until150);
      await new Promise((r) => setTimeout(r, 250));
      expect(governor.yielding).toBe(false);
      // Deliveries coming in, and a job that holds the loop (a label, a big parse) for 150 ms.
      noteIngest();
      until150 = Date.now() + 150;
      while (Date.now() < until150);
      await until(() => governor.yielding);
      expect([fulfilment.concurrency, push.concurrency]).toEqual([1, 1]);
      expect([webhooks.concurrency, sync.concurrency]).toEqual([2, 2]);
      await until(() => !governor.yielding);
      expect([fulfilment.concurrency, push.concurrency, webhooks.concurrency]).toEqual([2, 2, 2]);
    } finally {
      governor.stop();
    }
  });

  it('does nothing when turned off (INGEST_FIRST_LAG_MS=0)', async () => {
    const fulfilment = worker('fulfilment');
    const governor = ingestFirst([fulfilment], 2, 0, pino({ level: 'silent' }));
    const until150 = Date.now() + 150;
    while (Date.now() < until150);
    await new Promise((r) => setTimeout(r, 200));
    expect(fulfilment.concurrency).toBe(2);
    governor.stop();
  });
});
