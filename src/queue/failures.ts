/**
 * Jobs that failed for good, recorded in Postgres (`job_failures`), because
 * Redis is the conveyor, not the truth: after a flush BullMQ's failed set is
 * gone, and the sweeper would find the work still pending in Postgres and run
 * it again, forever if the failure is permanent. So:
 *
 * - the worker wrapper records every job BullMQ gives up on, and clears the
 *   record when a job with that id completes (a retry from the queue UI,
 *   which calls BullMQ's `job.retry()` directly, counts);
 * - the sweeper and `enqueueStep` never revive an id with a record;
 * - a person's retry (`retryJob`: admin API, `retryPush`) clears the record
 *   first, then puts the job back.
 */
import { sql, type Selectable } from 'kysely';
import type { App } from '../app.ts';
import type { Db } from '../db/index.ts';
import type { JobFailuresTable } from '../db/schema.ts';
import type { QueueName } from './queues.ts';

/** One job BullMQ gave up on (a `job_failures` row). */
export type JobFailure = Selectable<JobFailuresTable>;

/** Records (or rewrites, on a later final failure of the same job id) that BullMQ gave up on a job. */
export async function recordFailure(
  db: Db,
  failure: { queue: QueueName; jobId: string; data: unknown; error: string; attempts: number },
): Promise<void> {
  await db
    .insertInto('job_failures')
    .values({
      queue: failure.queue,
      job_id: failure.jobId,
      data: JSON.stringify(failure.data ?? {}),
      error: failure.error,
      attempts: failure.attempts,
    })
    .onConflict((oc) =>
      oc.columns(['queue', 'job_id']).doUpdateSet({
        data: (eb) => eb.ref('excluded.data'),
        error: (eb) => eb.ref('excluded.error'),
        attempts: (eb) => eb.ref('excluded.attempts'),
        failed_at: sql`now()`,
      }),
    )
    .execute();
}

/** Deletes the record of a job id (it succeeded, or a person retries it). Returns true when there was one. */
export async function clearFailure(db: Db, queue: QueueName, jobId: string): Promise<boolean> {
  const result = await db.deleteFrom('job_failures').where('queue', '=', queue).where('job_id', '=', jobId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Which of these job ids of one queue have failed for good (one query, for the sweeper's batches). */
export async function failedJobIds(db: Db, queue: QueueName, jobIds: readonly string[]): Promise<Set<string>> {
  if (jobIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('job_failures')
    .select('job_id')
    .where('queue', '=', queue)
    .where('job_id', '=', sql<string>`ANY(${[...jobIds]}::text[])`)
    .execute();
  return new Set(rows.map((r) => r.job_id));
}

/** Failures newest first, optionally of one queue; keyset pages by `before` (an id). */
export async function listFailures(db: Db, opts: { queue?: QueueName; limit: number; before?: number }): Promise<JobFailure[]> {
  let query = db.selectFrom('job_failures').selectAll().orderBy('id', 'desc').limit(opts.limit);
  if (opts.queue) query = query.where('queue', '=', opts.queue);
  if (opts.before) query = query.where('id', '<', opts.before);
  return query.execute();
}

export async function getFailure(db: Db, id: number): Promise<JobFailure | undefined> {
  return db.selectFrom('job_failures').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Failures per queue, for the dashboard (Postgres survives a Redis flush; BullMQ's failed counts do not). */
export async function failureCounts(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('job_failures')
    .select(['queue', sql<number>`count(*)::int`.as('n')])
    .groupBy('queue')
    .execute();
  return new Map(rows.map((r) => [r.queue, r.n]));
}

/**
 * A person's retry: clears the record, then removes the failed job (if Redis
 * still has it) and adds the work again. Clearing first matters: the new run
 * may fail for good before this returns, and its record must survive.
 * Returns false when a job with this id is already waiting or running (then
 * nothing is added; its outcome records or clears the failure again).
 */
export async function retryJob(app: App, queue: QueueName, jobId: string, data: object): Promise<boolean> {
  await clearFailure(app.db, queue, jobId);
  return app.queues.retry(queue, jobId, data);
}
