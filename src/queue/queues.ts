/**
 * The queues. Every queue shares one prefix (with a Redis Cluster hash tag by
 * default, `{channelsync}`), one back-off strategy (`backoff.ts`: exponential
 * with jitter, never shorter than a channel's `Retry-After`), and keeps
 * failed jobs for inspection in the queue UI.
 *
 * Job ids are deterministic (see `jobId`), so enqueueing the same work twice
 * is a no-op. BullMQ refuses ':' in custom ids, so parts are joined with '.'.
 */
import type { Job, JobsOptions, Queue } from 'bullmq';
import type { QueueBackend } from './backend.ts';
import { backoffOptions } from './backoff.ts';

export const QUEUE_NAMES = ['sync-orders', 'webhooks', 'fulfilment', 'channel-push', 'reconcile-stock', 'notify', 'sweeper', 'order-notifications'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** `jobId('push-fulfillment', 12, 3)` -> "push-fulfillment.12.3". Parts are URI-encoded. */
export function jobId(kind: string, ...parts: Array<string | number>): string {
  return [kind, ...parts.map((p) => encodeURIComponent(String(p)).replace(/\./g, '%2E'))].join('.');
}

/**
 * What a job's payload may carry besides its ids, so that a person reading the
 * queue UI or `job_failures` knows what the job is about. Handlers never read
 * them (a job added before they existed has none and runs the same).
 */
export interface JobLabels {
  /** The order number the customer sees ("#1012"). */
  orderNumber?: string;
  /** The channel's name ("main-shopify"). */
  channelName?: string;
  sku?: string;
}

/**
 * The job's name in the queue UI: its kind (the id's first part) and its
 * labels, `push-fulfillment #1012 -> main-shopify`. Only the name: the id
 * stays the deterministic one the exactly-once design depends on.
 */
export function jobName(id: string, data: object): string {
  const kind = id.split('.')[0]!;
  const { orderNumber, channelName, sku } = data as JobLabels;
  const about = [typeof orderNumber === 'string' ? orderNumber : null, typeof sku === 'string' ? sku : null].filter(Boolean).join(' ');
  return [kind, about || null, typeof channelName === 'string' ? `-> ${channelName}` : null].filter(Boolean).join(' ');
}

export interface QueueSetOptions {
  prefix: string;
  attempts: number;
  /** First retry delay; doubles each attempt, with 50% jitter, lengthened to a channel's `Retry-After`. Default 2 s. */
  backoffMs?: number;
}

export class QueueSet {
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    private readonly backend: QueueBackend,
    readonly options: QueueSetOptions,
  ) {}

  get(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = this.backend.createQueue(name, {
        defaultJobOptions: {
          attempts: this.options.attempts,
          // Our own type, not 'exponential': BullMQ would use its builtin and never ask the workers' strategy.
          backoff: backoffOptions(this.options.backoffMs),
          removeOnComplete: { age: 24 * 3600, count: 5_000 },
          removeOnFail: false,
          // One stack per attempt is kept; classified failures keep only their message (see workers.ts).
          stackTraceLimit: 3,
        },
      });
      this.queues.set(name, queue);
    }
    return queue;
  }

  all(): Queue[] {
    return QUEUE_NAMES.map((name) => this.get(name));
  }

  /** Adds a job; a job with the same id that exists already makes this a no-op. */
  add<T extends object>(name: QueueName, id: string, data: T, opts: JobsOptions = {}): Promise<Job> {
    return this.get(name).add(jobName(id, data), data, { ...opts, jobId: id });
  }

  /** Adds many jobs of one queue in one round trip; as with `add`, an id that exists already is left as it is. */
  async addBulk<T extends object>(name: QueueName, jobs: Array<{ id: string; data: T }>): Promise<void> {
    await this.get(name).addBulk(jobs.map((j) => ({ name: jobName(j.id, j.data), data: j.data, opts: { jobId: j.id } })));
  }

  /**
   * Makes sure a job for this work is waiting or running: a job with the same
   * id that completed earlier is removed and the work added again. A job that
   * failed for good is left alone (failed stays failed until a person retries
   * it: `retry`, `failures.ts`). Used by the sweeper for rows that Postgres
   * still says are pending; it also checks `job_failures`, since a Redis flush
   * loses the failed job itself. Returns true when a job was (re)added.
   */
  async ensure<T extends object>(name: QueueName, id: string, data: T): Promise<boolean> {
    const queue = this.get(name);
    const existing = await queue.getJob(id);
    if (existing) {
      const state = await existing.getState();
      if (state !== 'completed' && state !== 'unknown') return false;
      await existing.remove().catch(() => {});
    }
    await this.add(name, id, data);
    return true;
  }

  /**
   * `ensure` for many jobs of one queue at once (a pulled page's next steps),
   * returning per job whether it was (re)added. On Redis, one pipeline asks
   * which ids have a job at all and one more adds those that have none
   * (BullMQ's `addBulk`): two round trips a page instead of two a job (`npm
   * run bench -- ingest`). Only ids that have a job go through `ensure` one by
   * one, so a completed job is still replaced and a live one left alone.
   */
  async ensureAll<T extends object>(name: QueueName, jobs: ReadonlyArray<{ id: string; data: T }>): Promise<boolean[]> {
    const redis = this.backend.redis;
    if (!redis || jobs.length < 2) return Promise.all(jobs.map((j) => this.ensure(name, j.id, j.data)));
    const queue = this.get(name);
    // A job is its hash at `toKey(id)`; every key shares the queue prefix's hash tag, so this also works on a Cluster.
    const pipeline = redis.pipeline();
    for (const j of jobs) pipeline.exists(queue.toKey(j.id));
    const answers = (await pipeline.exec()) ?? [];
    const has = jobs.map((_, i) => {
      const [err, n] = answers[i] ?? [new Error('no answer')];
      if (err) throw err;
      return n === 1;
    });
    const fresh = jobs.filter((_, i) => !has[i]);
    // An id added by someone else since the look is a no-op for BullMQ, as in `ensure`.
    if (fresh.length > 0) await queue.addBulk(fresh.map((j) => ({ name: jobName(j.id, j.data), data: j.data, opts: { jobId: j.id } })));
    return Promise.all(jobs.map((j, i) => (has[i] ? this.ensure(name, j.id, j.data) : true)));
  }

  /**
   * Puts work back after a person asked to: a failed (or completed) job with
   * this id is removed and the work added again. Returns false, adding
   * nothing, when a job with this id is waiting, delayed or running already.
   * Callers clear the failure record first (`retryJob` in `failures.ts`).
   */
  async retry<T extends object>(name: QueueName, id: string, data: T): Promise<boolean> {
    const existing = await this.get(name).getJob(id);
    if (existing) {
      const state = await existing.getState();
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return false;
      await existing.remove();
    }
    await this.add(name, id, data);
    return true;
  }

  /** True when a job with this id is waiting, delayed or running (not finished, not absent). */
  async isLive(name: QueueName, id: string): Promise<boolean> {
    const existing = await this.get(name).getJob(id);
    if (!existing) return false;
    const state = await existing.getState();
    return state !== 'completed' && state !== 'failed' && state !== 'unknown';
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
