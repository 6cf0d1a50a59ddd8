/**
 * Retry timing through a real BullMQ worker (Redis, and BullMQ's PostgreSQL
 * backend in the embedded pass): a channel's Retry-After is honoured, other
 * retryable errors back off exponentially with jitter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from 'bullmq';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/workers.ts';
import { RetryableError } from '../../src/domain/errors.ts';
import { retryDelay } from '../../src/queue/backoff.ts';
import type { JobDefinition } from '../../src/queue/job.ts';

let t: TestApp;
let workers: WorkerSet;
const runs = new Map<string, number>();

// A job that fails the way a throttled channel call does: the payload says how.
const throttled: JobDefinition<{ retryAfterMs?: number }> = {
  queue: 'sync-orders',
  async handle(_app, data, job) {
    runs.set(job.id!, (runs.get(job.id!) ?? 0) + 1);
    throw new RetryableError('429 Too Many Requests', data.retryAfterMs);
  },
};

beforeAll(async () => {
  t = await createTestApp();
  workers = startWorkers(t.app, [throttled], 2);
});
afterAll(async () => {
  await workers?.close(5_000);
  await t?.close();
});

async function delayedJob(id: string): Promise<Job> {
  const end = Date.now() + 15_000;
  for (;;) {
    const job = await t.app.queues.get('sync-orders').getJob(id);
    if (job && (await job.getState()) === 'delayed') return job;
    if (Date.now() > end) throw new Error(`job ${id} never became delayed`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('retry timing', () => {
  it("waits at least the channel's Retry-After before the next attempt", async () => {
    await t.app.queues.add('sync-orders', 'throttled.30s', { retryAfterMs: 30_000 });
    const job = await delayedJob('throttled.30s');
    expect(job.delay).toBeGreaterThanOrEqual(30_000);
    expect(job.attemptsMade).toBe(1);
    // Not run again in the meantime: the next attempt is half a minute away.
    expect(runs.get('throttled.30s')).toBe(1);
  });

  it('backs off exponentially with jitter when the channel names no wait', async () => {
    await t.app.queues.add('sync-orders', 'throttled.none', {});
    const job = await delayedJob('throttled.none');
    // First retry: 2 s base, 50% jitter.
    expect(job.delay).toBeGreaterThanOrEqual(1_000);
    expect(job.delay).toBeLessThanOrEqual(2_000);
  });

  it('grows the wait each attempt, capped at ten minutes, and never below what was asked', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4].map((n) => retryDelay(n, new Error('x'), 2_000, mid))).toEqual([1_500, 3_000, 6_000, 12_000]);
    expect(retryDelay(30, new Error('x'), 2_000, () => 1)).toBe(600_000);
    expect(retryDelay(1, new RetryableError('429', 45_000), 2_000, () => 1)).toBe(45_000);
    // A long channel wait (a daily quota) is kept, not cut to the exponential cap.
    expect(retryDelay(1, new RetryableError('quota', 3 * 3600_000))).toBe(3 * 3600_000);
  });
});
