/**
 * /metrics after activity: orders ingested per channel, jobs per queue with
 * durations and failures, state gauges read from Postgres and Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { order } from '../helpers/orders.ts';
import { buildServer } from '../../src/server/index.ts';
import { instrumentWorker, channelApiCalls } from '../../src/server/metrics.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/workers.ts';
import { JOBS } from '../../jobs/index.ts';
import { addFakeChannel } from './fake-channel.ts';
import { eventually, shipOrder } from './seed.ts';

/** The sum of every sample of `name` whose labels include `labels`. */
function total(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const have = (line.slice(name.length).match(/^\{([^}]*)\}/)?.[1] ?? '').split(',');
    if (want.every((w) => have.includes(w))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** The value of one sample, e.g. `channelsync_jobs_total{queue="sync-orders",outcome="completed"}`; 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelPart = line.slice(name.length).match(/^\{([^}]*)\}/)?.[1] ?? '';
    const have = labelPart.split(',');
    if (want.every((w) => have.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

describe('/metrics', () => {
  let t: TestApp;
  let server: FastifyInstance;
  let workers: WorkerSet;

  beforeAll(async () => {
    t = await createTestApp({ JOB_ATTEMPTS: '1' });
    server = await buildServer(t.app);
    workers = startWorkers(t.app, JOBS, 4);
    // startWorkers is expected to call this itself; calling again is a no-op.
    workers.workers.forEach((w) => instrumentWorker(w, w.name));
  });
  afterAll(async () => {
    await workers?.close(2_000);
    await server?.close();
    await t?.close();
  });

  it('counts orders per channel and jobs per queue after a sync and pushes', async () => {
    const a = await addFakeChannel(t.app, 'metrics-a');
    const b = await addFakeChannel(t.app, 'metrics-b');
    a.state.orders = [order({ externalId: 'A1' }), order({ externalId: 'A2', orderNumber: '#A2' }), order({ externalId: 'A3', orderNumber: '#A3' })];
    b.state.orders = [order({ externalId: 'B1' })];
    b.state.failing = true;
    const sync = t.app.queues.get('sync-orders');
    await sync.add('sync', { channelId: a.channelId });
    await sync.add('sync', { channelId: b.channelId });
    await eventually(async () => (await sync.getCompletedCount()) === 2, 'both syncs to complete');

    // One push that succeeds (channel a), one that fails for good (channel b, JOB_ATTEMPTS=1).
    const orderA = await t.app.db.selectFrom('orders').select('id').where('channel_id', '=', a.channelId).where('external_id', '=', 'A1').executeTakeFirstOrThrow();
    const orderB = await t.app.db.selectFrom('orders').select('id').where('channel_id', '=', b.channelId).executeTakeFirstOrThrow();
    const passing = await shipOrder(t.app, orderA.id);
    const failing = await shipOrder(t.app, orderB.id);
    const statusOf = async (pushId: number) => (await t.app.db.selectFrom('channel_pushes').select('status').where('id', '=', pushId).executeTakeFirst())?.status;
    await eventually(async () => (await statusOf(failing.pushId)) === 'failed', 'the push to the failing channel to be recorded as failed');
    await eventually(async () => (await statusOf(passing.pushId)) === 'done', 'the push to the working channel to be done');

    channelApiCalls.inc({ channel: String(a.channelId), kind: 'ops-fake', outcome: 'throttled' });

    const res = await server.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    // Worker events (which count) fire just after the job's state is saved: scrape until they are in.
    const text = await eventually(async () => {
      const body = (await server.inject({ url: '/metrics' })).body;
      const done = (outcome: string) => sample(body, 'channelsync_jobs_total', { queue: 'channel-push', outcome });
      return done('completed') >= 1 && done('failed') === 1 ? body : null;
    }, 'the push jobs to be counted');
    const ca = String(a.channelId);
    const cb = String(b.channelId);

    expect(sample(text, 'channelsync_orders_ingested_total', { channel: ca, outcome: 'inserted' })).toBe(3);
    expect(sample(text, 'channelsync_orders_ingested_total', { channel: cb, outcome: 'inserted' })).toBe(1);
    // States move on as fulfilment runs; the count per channel does not.
    expect(total(text, 'channelsync_orders', { channel: ca })).toBe(3);
    expect(total(text, 'channelsync_orders', { channel: cb })).toBe(1);
    expect(sample(text, 'channelsync_orders', { channel: ca, state: 'shipped' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'channelsync_channel_info', { channel: ca, name: 'metrics-a', kind: 'ops-fake' })).toBe(1);
    expect(sample(text, 'channelsync_sync_lag_seconds', { channel: ca })).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(new RegExp(`channelsync_sync_lag_seconds\\{channel="${ca}"\\}`));

    expect(sample(text, 'channelsync_jobs_total', { queue: 'sync-orders', outcome: 'completed' })).toBe(2);
    expect(sample(text, 'channelsync_jobs_total', { queue: 'channel-push', outcome: 'completed' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'channelsync_jobs_total', { queue: 'channel-push', outcome: 'failed' })).toBe(1);
    expect(sample(text, 'channelsync_job_duration_seconds_count', { queue: 'sync-orders', outcome: 'completed' })).toBe(2);
    expect(sample(text, 'channelsync_queue_jobs', { queue: 'channel-push', state: 'failed' })).toBe(1);
    expect(sample(text, 'channelsync_channel_pushes', { channel: cb, kind: 'fulfillment', status: 'failed' })).toBe(1);
    expect(sample(text, 'channelsync_channel_api_calls_total', { channel: ca, kind: 'ops-fake', outcome: 'throttled' })).toBe(1);
    expect(text).toContain('channelsync_process_resident_memory_bytes');
  });
});
