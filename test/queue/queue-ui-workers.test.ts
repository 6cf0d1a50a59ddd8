/**
 * The queue UI never says "No workers" while workers run: with Redis it sees
 * them; with the queues in Postgres (embedded mode) it cannot list them, so
 * it shows no worker status instead of a false "none".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { buildServer } from '../../src/server/index.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/workers.ts';
import { JOBS } from '../../jobs/index.ts';
import { eventually } from '../server/seed.ts';

const TOKEN = 'queue-ui-workers-token-0123456789';

describe('queue UI worker status', () => {
  let t: TestApp;
  let server: FastifyInstance;
  let workers: WorkerSet;
  beforeAll(async () => {
    t = await createTestApp({ ADMIN_TOKEN: TOKEN });
    server = await buildServer(t.app);
    workers = startWorkers(t.app, JOBS.filter((j) => j.queue === 'channel-push'), 1);
  });
  afterAll(async () => {
    await workers?.close(2_000);
    await server?.close();
    await t?.close();
  });

  it('reports the running worker, or nothing where it cannot tell, never "no workers"', async () => {
    const hasWorkers = async () => {
      const res = await server.inject({ url: '/admin/queues/api/queues', headers: { authorization: `Bearer ${TOKEN}` } });
      return (res.json().queues as Array<{ name: string; hasWorkers: boolean | null | undefined }>).find((q) => q.name === 'channel-push')!.hasWorkers;
    };
    if (t.app.backend.kind === 'redis') {
      await eventually(async () => (await hasWorkers()) === true, 'the board to see the worker');
    } else {
      expect(await hasWorkers()).toBeNull();
    }
  });
});
