/**
 * What a job module in `jobs/` exports: its queue, its handler, and how the
 * sweeper finds its pending work in Postgres. Payloads are small JSON (ids and
 * cursors, never whole orders or credentials).
 */
import type { Job } from 'bullmq';
import type { App } from '../app.ts';
import type { QueueName } from './queues.ts';

export interface PendingJob<P> {
  jobId: string;
  data: P;
}

export interface JobDefinition<P extends object = any> {
  queue: QueueName;
  /** Runs one job. Throws `RetryableError` to retry, `PermanentError` to give up at once. */
  handle(app: App, data: P, job: Job<P>): Promise<unknown>;
  /** Called once when BullMQ gives up on a job (permanent error or attempts used up). */
  onFailed?(app: App, data: P, error: Error): Promise<void>;
  /** Work Postgres says is pending and untouched since `before`: the sweeper makes sure each has a job. */
  sweep?(app: App, before: Date): Promise<Array<PendingJob<P>>>;
}
