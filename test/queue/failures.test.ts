/**
 * Work that failed for good stays failed until a person retries it: recorded
 * in Postgres by the worker wrapper, never revived by the sweeper (not even
 * after Redis loses every job), put back by the admin API or the queue UI's
 * retry, and cleared once it succeeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestApp, flushQueues, type TestApp } from '../helpers/app.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/workers.ts';
import type { JobDefinition } from '../../src/queue/job.ts';
import { buildServer } from '../../src/server/index.ts';
import { fulfilmentJob, type FulfilmentJobData } from '../../jobs/fulfilment.ts';
import { ordersChanged } from '../../src/fulfilment/steps.ts';
import { JOBS } from '../../jobs/index.ts';
import { sweep } from '../../jobs/sweeper.ts';
import { channel, placeOrder, sku } from '../fulfilment/fixtures.ts';
import { PermanentError } from '../../src/domain/errors.ts';

const TOKEN = 'failures-test-token-0123456789abcdef';

let t: TestApp;
let server: FastifyInstance;
let workers: WorkerSet;
let ch: number;
/** Runs of each fulfilment job id, counted around the real handler. */
const runs = new Map<string, number>();
const counted: JobDefinition<FulfilmentJobData> = {
  ...fulfilmentJob,
  handle(app, data, job) {
    runs.set(job.id!, (runs.get(job.id!) ?? 0) + 1);
    return fulfilmentJob.handle(app, data, job);
  },
};

beforeAll(async () => {
  t = await createTestApp({ ADMIN_TOKEN: TOKEN });
  server = await buildServer(t.app);
  workers = startWorkers(t.app, [counted], 2);
  ch = await channel(t.app, 'failures');
  // A SKU with no stock and no location at all: allocation must backorder, and cannot (ConfigError).
  await sku(t.app, 'NOWHERE-1');
});
afterAll(async () => {
  await workers?.close(5_000);
  await server?.close();
  await t?.close();
});

const api = (method: 'GET' | 'POST', url: string) => server.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}` } });

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const failure = (jobId: string) =>
  t.app.db.selectFrom('job_failures').selectAll().where('queue', '=', 'fulfilment').where('job_id', '=', jobId).executeTakeFirst();
const orderState = async (id: number) => (await t.app.db.selectFrom('orders').select('state').where('id', '=', id).executeTakeFirstOrThrow()).state;
const later = () => new Date(Date.now() + 1_000);

let first: number;
let second: number;

describe('a job that failed for good', () => {
  it('runs once, is recorded, and no sweep revives it, not even after Redis loses every job', async () => {
    const { app } = t;
    first = await placeOrder(app, ch, [['NOWHERE-1', 1]]);
    second = await placeOrder(app, ch, [['NOWHERE-1', 2]]);
    await ordersChanged(app, [first, second].map((orderId) => ({ orderId, outcome: 'inserted' as const })));

    const recorded = await until('the failure record', () => failure(`allocate.${first}`));
    expect(recorded).toMatchObject({ error: expect.stringMatching(/no active location/), attempts: 1, data: { step: 'allocate', id: first } });
    await until('the second failure record', () => failure(`allocate.${second}`));
    expect(runs.get(`allocate.${first}`)).toBe(1);

    // The order is still unallocated, so the fulfilment sweep lists it as pending work: it must be left alone.
    const report = await sweep(app, JOBS, later());
    expect(report.requeued.fulfilment ?? 0).toBe(0);
    expect(report.failedForGood).toBe(2);
    expect(await app.queues.isLive('fulfilment', `allocate.${first}`)).toBe(false);
    expect(await (await app.queues.get('fulfilment').getJob(`allocate.${first}`))!.getState()).toBe('failed');

    // Redis loses everything, BullMQ's failed set included: the record in Postgres still holds.
    await flushQueues(app);
    const afterFlush = await sweep(app, JOBS, later());
    expect(afterFlush.requeued.fulfilment ?? 0).toBe(0);
    expect(afterFlush.failedForGood).toBe(2);
    // Nor does a new change to the order (sync, webhook) enqueue it again.
    await ordersChanged(app, [{ orderId: first, outcome: 'updated' }]);
    expect(await app.queues.get('fulfilment').getJob(`allocate.${first}`)).toBeUndefined();
    expect(await app.queues.get('fulfilment').getJobCounts('waiting', 'delayed', 'active')).toEqual({ waiting: 0, delayed: 0, active: 0 });
    expect(runs.get(`allocate.${first}`)).toBe(1);
    expect(await orderState(first)).toBe('received');
  });

  it('is listed by the admin API and runs again when retried there; once it succeeds the record is gone', async () => {
    const { app } = t;
    const list = await api('GET', '/api/failed-jobs?queue=fulfilment');
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((i: { job_id: string }) => i.job_id).sort()).toEqual([`allocate.${first}`, `allocate.${second}`].sort());
    const id = list.json().items.find((i: { job_id: string }) => i.job_id === `allocate.${first}`).id as number;

    // The person fixes the cause, then retries.
    await app.db.insertInto('locations').values({ code: 'MAIN', name: 'Main' }).execute();
    const retried = await api('POST', `/api/failed-jobs/${id}/retry`);
    expect(retried.statusCode).toBe(202);
    await until('the order to be backordered', async () => (await orderState(first)) === 'backordered');
    expect(runs.get(`allocate.${first}`)).toBe(2);
    await until('the record to go', async () => !(await failure(`allocate.${first}`)));

    expect((await api('POST', `/api/failed-jobs/${id}/retry`)).statusCode).toBe(404);
    expect((await api('POST', '/api/failed-jobs/abc/retry')).statusCode).toBe(400);
    expect((await api('GET', '/api/failed-jobs?queue=nope')).statusCode).toBe(400);
    // The other one is still failed, and still left alone by the sweeper.
    expect((await sweep(app, JOBS, later())).failedForGood).toBe(1);
  });

  it('answers 409 for a job that is waiting or running again', async () => {
    const { app } = t;
    const record = (await failure(`allocate.${second}`))!;
    // Put back by other means (the queue UI's Retry leaves it waiting): it is not failed now.
    await app.queues.add('fulfilment', `allocate.${second}`, { step: 'allocate', id: second }, { delay: 60_000 });
    expect((await api('POST', `/api/failed-jobs/${record.id}/retry`)).statusCode).toBe(409);
    await (await app.queues.get('fulfilment').getJob(`allocate.${second}`))!.remove();
  });

  it('a retry from the queue UI (job.retry()) rewrites the record when it fails again and clears it when it succeeds', async () => {
    const { app } = t;
    await app.db.updateTable('locations').set({ active: false }).execute();
    const third = await placeOrder(app, ch, [['NOWHERE-1', 3]]);
    await ordersChanged(app, [{ orderId: third, outcome: 'inserted' }]);
    const before = await until('the failure record', () => failure(`allocate.${third}`));

    const job = (await app.queues.get('fulfilment').getJob(`allocate.${third}`))!;
    await job.retry('failed');
    const again = await until('the record rewritten', async () => {
      const f = await failure(`allocate.${third}`);
      return f && f.attempts > before.attempts ? f : undefined;
    });
    expect(again.id).toBe(before.id);
    expect(again.failed_at.getTime()).toBeGreaterThanOrEqual(before.failed_at.getTime());

    await app.db.updateTable('locations').set({ active: true }).execute();
    await (await app.queues.get('fulfilment').getJob(`allocate.${third}`))!.retry('failed');
    await until('the order to be backordered', async () => (await orderState(third)) === 'backordered');
    await until('the record to go', async () => !(await failure(`allocate.${third}`)));
    expect(runs.get(`allocate.${third}`)).toBe(3);
  });
});

describe('a schedule that keeps failing', () => {
  it('is one record under the scheduler id, rewritten each slot, and cleared by its next good run', async () => {
    const { app } = t;
    let failing = true;
    let runsOfSchedule = 0;
    const scheduled: JobDefinition = {
      queue: 'sync-orders',
      async handle() {
        runsOfSchedule += 1;
        if (failing) throw new PermanentError('channel 1 is disabled');
        return {};
      },
    };
    const syncWorkers = startWorkers(app, [scheduled], 1);
    try {
      await app.queues.get('sync-orders').upsertJobScheduler('sync.failing', { every: 150 }, { name: 'sync', data: {} });
      await until('three failed runs', async () => runsOfSchedule >= 3);
      const records = await app.db.selectFrom('job_failures').selectAll().where('queue', '=', 'sync-orders').execute();
      expect(records.map((r) => r.job_id)).toEqual(['sync.failing']);
      failing = false;
      await until('the record to go', async () => !(await app.db.selectFrom('job_failures').select('id').where('queue', '=', 'sync-orders').executeTakeFirst()));
    } finally {
      await app.queues.get('sync-orders').removeJobScheduler('sync.failing');
      await syncWorkers.close(5_000);
    }
  });
});
