/**
 * GET /metrics in the Prometheus text format (prom-client).
 *
 * Two kinds of numbers, kept apart on purpose:
 * - **Events counted by this process** (orders ingested, job durations and
 *   failures, channel API calls): counters and histograms in `registry`. With
 *   several daemons, sum them across instances.
 * - **State read from Postgres and Redis at scrape time** (sync lag, orders
 *   and failed pushes per channel, queue depths, stock drift): gauges that every
 *   instance reports identically. With several daemons, take `max` of them.
 *
 * Channels are labelled by id (`channel="3"`); `channelsync_channel_info`
 * carries the name and kind for joins, so a renamed channel keeps its series.
 *
 * /metrics is open unless METRICS_TOKEN is set, then it wants
 * `Authorization: Bearer <METRICS_TOKEN>`. It reveals counts, never order data.
 *
 * This module imports only prom-client at runtime, so connectors can import
 * `channelApiCalls` without pulling in the HTTP server.
 */
import type { FastifyInstance } from 'fastify';
import type { Job, Worker } from 'bullmq';
import { sql } from 'kysely';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { App } from '../app.ts';
import { safeEqual } from './admin/credentials.ts';
import { withTimeout } from '../domain/async.ts';

/** Longest a scrape waits for the queue depths (they need the queue backend). */
const QUEUE_COUNTS_TIMEOUT_MS = 1_000;


/** Process-wide metrics: events counted by this process, plus Node's default process metrics. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'channelsync_' });

/** Orders saved from a channel (pull or webhook), by outcome: inserted (new) or updated. */
export const ordersIngested = new Counter({
  name: 'channelsync_orders_ingested_total',
  help: 'Orders saved from a channel by this process, by channel id and outcome (inserted, updated)',
  labelNames: ['channel', 'outcome'] as const,
  registers: [registry],
});

/** Jobs finished by this process's workers, by queue and outcome (completed, failed, retried). */
export const jobsFinished = new Counter({
  name: 'channelsync_jobs_total',
  help: 'Jobs run by this process, by queue and outcome: completed, retry (failed, will retry) or failed (given up)',
  labelNames: ['queue', 'outcome'] as const,
  registers: [registry],
});

export const jobDuration = new Histogram({
  name: 'channelsync_job_duration_seconds',
  help: 'Time from a worker taking a job to it finishing, by queue and outcome',
  labelNames: ['queue', 'outcome'] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  registers: [registry],
});

/**
 * Calls to a channel's API. Connectors increment it once per HTTP request:
 * `channelApiCalls.inc({ channel: String(channelId), kind: 'shopify', outcome: 'ok' })`.
 * outcome: `ok`, `throttled` (429 or a GraphQL THROTTLED), `error` (other failures).
 */
export const channelApiCalls = new Counter({
  name: 'channelsync_channel_api_calls_total',
  help: 'HTTP calls to a channel API by this process, by channel id, channel kind and outcome (ok, throttled, error)',
  labelNames: ['channel', 'kind', 'outcome'] as const,
  registers: [registry],
});

/** Counts orders saved, for code that saves orders outside the sync-orders job. */
export function recordOrdersIngested(channelId: number, counts: { inserted?: number; updated?: number }): void {
  if (counts.inserted) ordersIngested.inc({ channel: String(channelId), outcome: 'inserted' }, counts.inserted);
  if (counts.updated) ordersIngested.inc({ channel: String(channelId), outcome: 'updated' }, counts.updated);
}

const instrumented = new WeakSet<Worker>();

/**
 * Counts a worker's jobs: call once per BullMQ worker (`startWorkers` does).
 * Safe to call twice on the same worker. Also counts orders from the return
 * value of sync-orders jobs ({ inserted, updated }) and of webhook jobs that
 * return `{ channelId, outcome: 'inserted' | 'updated' }`, or for a batch
 * `{ ingested: [{ channelId, inserted, updated }] }`.
 */
export function instrumentWorker(worker: Worker, queue: string): void {
  if (instrumented.has(worker)) return;
  instrumented.add(worker);
  worker.on('completed', (job: Job, result: unknown) => {
    jobsFinished.inc({ queue, outcome: 'completed' });
    observeDuration(job, queue, 'completed');
    countOrders(queue, job, result);
  });
  worker.on('failed', (job: Job | undefined, err: Error) => {
    if (!job) return;
    const final = err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    const outcome = final ? 'failed' : 'retry';
    jobsFinished.inc({ queue, outcome });
    observeDuration(job, queue, outcome);
  });
}

function observeDuration(job: Job, queue: string, outcome: string): void {
  if (job.processedOn && job.finishedOn && job.finishedOn >= job.processedOn) {
    jobDuration.observe({ queue, outcome }, (job.finishedOn - job.processedOn) / 1000);
  }
}

function countOrders(queue: string, job: Job, result: unknown): void {
  if (!result || typeof result !== 'object') return;
  const r = result as Record<string, unknown>;
  if (queue === 'sync-orders' && typeof job.data?.channelId === 'number') {
    recordOrdersIngested(job.data.channelId, { inserted: num(r.inserted), updated: num(r.updated) });
  } else if (queue === 'webhooks' && Array.isArray(r.ingested)) {
    // A batch of deliveries (jobs/webhooks.ts): every order it saved, per channel.
    for (const c of r.ingested as Array<Record<string, unknown>>) if (typeof c.channelId === 'number') recordOrdersIngested(c.channelId, { inserted: num(c.inserted), updated: num(c.updated) });
  } else if (queue === 'webhooks' && typeof r.channelId === 'number') {
    if (r.outcome === 'inserted') recordOrdersIngested(r.channelId, { inserted: 1 });
    if (r.outcome === 'updated') recordOrdersIngested(r.channelId, { updated: 1 });
  }
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Gauges read from Postgres and Redis when scraped, for one app. */
export function stateRegistry(app: App): Registry {
  const state = new Registry();
  const info = new Gauge({ name: 'channelsync_channel_info', help: 'One per channel: its name, kind and whether it is enabled', labelNames: ['channel', 'name', 'kind', 'enabled'] as const, registers: [state] });
  const orders = new Gauge({ name: 'channelsync_orders', help: 'Orders in Postgres, by channel id and state', labelNames: ['channel', 'state'] as const, registers: [state] });
  const lag = new Gauge({ name: 'channelsync_sync_lag_seconds', help: 'Seconds since the last successful order sync page, by channel id (absent before the first sync)', labelNames: ['channel'] as const, registers: [state] });
  const pushes = new Gauge({ name: 'channelsync_channel_pushes', help: 'Outbox rows by channel id, kind and status (pending, failed; done is not counted)', labelNames: ['channel', 'kind', 'status'] as const, registers: [state] });
  const jobs = new Gauge({ name: 'channelsync_queue_jobs', help: 'Jobs in each queue by state, as BullMQ reports them', labelNames: ['queue', 'state'] as const, registers: [state] });
  const drift = new Gauge({ name: 'channelsync_stock_drift', help: 'SKUs whose channel stock differs from the ledger at the last reconcile, by channel id (absent until stock reconciliation runs)', labelNames: ['channel'] as const, registers: [state] });
  const queuesUp = new Gauge({ name: 'channelsync_queues_up', help: 'Whether the queue backend (Redis, or Postgres when embedded) answered for this scrape: 1 yes, 0 no (channelsync_queue_jobs is then absent)', registers: [state] });
  const driftUnits = new Gauge({ name: 'channelsync_stock_drift_units', help: 'Sum of |channel stock - ledger| at the last reconcile, by channel id', labelNames: ['channel'] as const, registers: [state] });

  // One collect for all gauges, so a scrape runs each query once.
  let collecting: Promise<void> | null = null;
  const collectAll = () =>
    (collecting ??= (async () => {
      try {
        for (const g of [info, orders, lag, pushes, jobs, drift, driftUnits, queuesUp]) g.reset();
        const channels = await app.db.selectFrom('channels').select(['id', 'name', 'kind', 'enabled']).execute();
        for (const c of channels) info.set({ channel: String(c.id), name: c.name, kind: c.kind, enabled: String(c.enabled) }, 1);
        const orderRows = await app.db.selectFrom('orders').select(['channel_id', 'state', sql<number>`count(*)::int`.as('n')]).groupBy(['channel_id', 'state']).execute();
        for (const r of orderRows) orders.set({ channel: String(r.channel_id), state: r.state }, r.n);
        const lagRows = await sql<{ channel_id: number; lag: number }>`
          SELECT channel_id, extract(epoch FROM now() - max(last_synced_at))::float8 AS lag FROM sync_cursors GROUP BY channel_id`.execute(app.db);
        for (const r of lagRows.rows) lag.set({ channel: String(r.channel_id) }, Math.max(0, r.lag));
        const pushRows = await app.db
          .selectFrom('channel_pushes')
          .select(['channel_id', 'kind', 'status', sql<number>`count(*)::int`.as('n')])
          .where('status', '<>', 'done')
          .groupBy(['channel_id', 'kind', 'status'])
          .execute();
        for (const r of pushRows) pushes.set({ channel: String(r.channel_id), kind: r.kind, status: r.status }, r.n);
        for (const r of await readDrift(app)) {
          drift.set({ channel: String(r.channel_id) }, r.skus);
          driftUnits.set({ channel: String(r.channel_id) }, r.units);
        }
        // Queue depths come from the queue backend: bounded, so a scrape with Redis down answers
        // with the Postgres gauges and channelsync_queues_up 0 instead of hanging.
        try {
          const all = await withTimeout(
            Promise.all(app.queues.all().map(async (queue) => [queue.name, await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized')] as const)),
            QUEUE_COUNTS_TIMEOUT_MS,
            app.backend.kind,
          );
          for (const [name, counts] of all) for (const [state, n] of Object.entries(counts)) jobs.set({ queue: name, state }, n);
          queuesUp.set(1);
        } catch (err) {
          queuesUp.set(0);
          app.log.warn({ err: (err as Error).message }, 'metrics: queue depths unavailable');
        }
      } finally {
        collecting = null;
      }
    })());
  // prom-client serialises all metrics of a registry in parallel, each awaiting its collect: share one run.
  for (const g of [info, orders, lag, pushes, jobs, drift, driftUnits, queuesUp]) {
    (g as unknown as { collect: () => Promise<void> }).collect = collectAll;
  }
  return state;
}

/**
 * Stock drift per channel found by the latest finished stock reconciliation
 * (`reconcile_runs` and `stock_drift`, issue 6): SKUs that differed and the
 * sum of the differences. Empty before the first reconcile, or before the
 * stock migration is applied.
 */
export async function readDrift(app: App): Promise<Array<{ channel_id: number; skus: number; units: number }>> {
  const exists = await sql<{ t: string | null }>`SELECT to_regclass('stock_drift')::text AS t`.execute(app.db);
  if (!exists.rows[0]?.t) return [];
  const { rows } = await sql<{ channel_id: number; skus: number; units: number }>`
    WITH latest AS (SELECT slot FROM reconcile_runs WHERE finished_at IS NOT NULL ORDER BY started_at DESC LIMIT 1)
    SELECT d.channel_id::int AS channel_id, count(*)::int AS skus, COALESCE(sum(abs(d.expected - COALESCE(d.found, d.expected))), 0)::int AS units
    FROM stock_drift d JOIN latest ON latest.slot = d.slot
    GROUP BY d.channel_id`.execute(app.db);
  return rows;
}

export function metricsRoutes(server: FastifyInstance, app: App): void {
  const state = stateRegistry(app);
  server.get('/metrics', async (request, reply) => {
    if (app.config.metricsToken) {
      const header = request.headers.authorization ?? '';
      const given = header.startsWith('Bearer ') ? header.slice(7) : '';
      if (!safeEqual(given, app.config.metricsToken)) {
        return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').send({ error: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>' });
      }
    }
    const body = (await registry.metrics()) + (await state.metrics());
    return reply.type(registry.contentType).send(body);
  });
}
