import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from 'bullmq';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { enqueueStep, enqueueSteps } from '../../src/fulfilment/steps.ts';
import { createRedis } from '../../src/queue/connection.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

describe('asking for a fulfilment step', () => {
  it('is one job however often it is asked, and queues one follow-up when the allocation is running', async () => {
    const { app } = t;
    const queue = app.queues.get('fulfilment');
    await enqueueStep(app, 'allocate', 42);
    await enqueueStep(app, 'allocate', 42);
    expect((await queue.getJobs(['waiting'])).map((j) => j.id)).toEqual(['allocate.42']);

    // A worker takes the job: it is now running, and may have read the order before the next change.
    const connection = createRedis(app.config.redisUrl);
    const worker = new Worker('fulfilment', null, { connection, prefix: app.config.queuePrefix, autorun: false });
    try {
      const running = await worker.getNextJob('test-token');
      expect(running?.id).toBe('allocate.42');
      await enqueueStep(app, 'allocate', 42);
      await enqueueStep(app, 'allocate', 42);
      expect((await queue.getJobs(['waiting'])).map((j) => j.id)).toEqual(['allocate.42.again']);
    } finally {
      await worker.close(true);
      connection.disconnect();
    }
  });

  it('for a page at once (one pipeline on Redis), still replaces a completed job, leaves a running one a follow-up, and adds the rest', async () => {
    const { app } = t;
    const queue = app.queues.get('fulfilment');
    const connection = createRedis(app.config.redisUrl);
    const worker = new Worker('fulfilment', null, { connection, prefix: app.config.queuePrefix, autorun: false });
    try {
      await queue.drain();
      await enqueueSteps(app, 'allocate', [101]);
      const done = await worker.getNextJob('test-token');
      expect(done?.id).toBe('allocate.101');
      await done!.moveToCompleted('allocated', 'test-token', false);
      await enqueueSteps(app, 'allocate', [102]);
      expect((await worker.getNextJob('test-token'))?.id).toBe('allocate.102');

      await enqueueSteps(app, 'allocate', [101, 102, 103, 103]);
      expect((await queue.getJobs(['waiting'])).map((j) => j.id).sort()).toEqual(['allocate.101', 'allocate.102.again', 'allocate.103']);
    } finally {
      await worker.close(true);
      connection.disconnect();
    }
  });
});
