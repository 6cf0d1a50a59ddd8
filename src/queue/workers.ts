/**
 * One BullMQ worker per queue. Errors are translated once, here:
 * `PermanentError` becomes BullMQ's `UnrecoverableError` (no more attempts),
 * `RetryableError.retryAfterMs` lengthens the back-off to what the channel
 * asked for (`backoff.ts`), and a job that BullMQ gives up on is recorded in
 * `job_failures` (so no sweep revives it; `failures.ts`) and calls its
 * definition's `onFailed`, which marks its own row failed.
 */
import { UnrecoverableError, type Job, type Worker } from 'bullmq';
import type { App } from '../app.ts';
import { ChannelsyncError, PermanentError } from '../domain/errors.ts';
import { backoffStrategy } from './backoff.ts';
import { clearFailure, recordFailure } from './failures.ts';
import type { JobDefinition } from './job.ts';
import { instrumentWorker } from '../server/metrics.ts';
import { ingestFirst, noteIngest } from './ingest-first.ts';

export interface WorkerSet {
  workers: Worker[];
  /** Stops taking jobs and waits for running ones up to `timeoutMs`; then forces the close. Returns true if all finished. */
  close(timeoutMs: number): Promise<boolean>;
}

/**
 * Logs a failed attempt; when BullMQ gave up (a permanent error, attempts used
 * up, or a job it moved to failed for stalling too often), records it in
 * `job_failures` so that no sweep revives it, then calls the definition's own
 * `onFailed`.
 */
async function onJobFailed(app: App, definition: JobDefinition, job: Job, err: Error): Promise<void> {
  const report = (e: unknown) => app.log.error({ queue: definition.queue, jobId: job.id, err: (e as Error).message }, 'recording a failed job failed');
  const final =
    err instanceof UnrecoverableError ||
    err.name === 'UnrecoverableError' ||
    job.attemptsMade >= (job.opts.attempts ?? 1) ||
    (await job.getState().catch(() => 'unknown')) === 'failed';
  app.log[final ? 'error' : 'warn'](
    { queue: definition.queue, jobId: job.id, attempt: job.attemptsMade, err: err.message },
    final ? 'job failed for good' : 'job failed, will retry',
  );
  const key = failureKey(job);
  if (!final || !key) return;
  // Independent: one failing to write must not keep the other from being written.
  await Promise.all([
    recordFailure(app.db, { queue: definition.queue, jobId: key, data: job.data, error: err.message, attempts: job.attemptsMade }).catch(report),
    definition.onFailed?.(app, job.data, err).catch(report),
  ]);
}

/**
 * The id a failure is recorded under: the job's id, or for a run of a schedule
 * (a new job id every slot) the scheduler's id, so a schedule that keeps
 * failing is one record, rewritten, and its next good run clears it.
 */
function failureKey(job: Job): string | undefined {
  return job.repeatJobKey ?? job.id;
}

/**
 * Whether a completed job may have a `job_failures` record to clear: a run of
 * a schedule (its record is under the scheduler's id, and any run may follow
 * a failed one), or a job that ran or failed before (BullMQ keeps a job's
 * stack traces through `job.retry()`, even when the attempt counters are
 * reset). A first, clean run of an id has none: every path that adds an id
 * that has a record clears it first (`retryJob`) or refuses to (the sweeper,
 * `enqueueStep`). Skipping the DELETE saves a commit on nearly every job.
 */
function mayHaveFailureRecord(job: Job): boolean {
  return !!job.repeatJobKey || job.attemptsMade > 1 || job.attemptsStarted > 1 || (job.stacktrace?.length ?? 0) > 0;
}

/**
 * A classified failure (the channel refused, or asked us to come back later)
 * is explained by its message; its stack trace would only fill the job card in
 * the queue UI. Bugs (anything unclassified) keep their stack.
 */
function brief<E extends Error>(err: E): E {
  err.stack = `${err.name}: ${err.message}`;
  return err;
}

export function startWorkers(app: App, definitions: JobDefinition[], concurrency = app.config.workerConcurrency): WorkerSet {
  const byQueue = new Map(definitions.map((d) => [d.queue, d]));
  const workers = [...byQueue.values()].map((definition) => {
    const { worker, release } = app.backend.createWorker(
      definition.queue,
      async (job: Job) => {
        try {
          return await definition.handle(app, job.data, job);
        } catch (err) {
          if (err instanceof PermanentError) throw brief(new UnrecoverableError(err.message));
          if (err instanceof ChannelsyncError) throw brief(err);
          throw err;
        }
      },
      {
        concurrency: definition.queue === 'sweeper' ? 1 : concurrency,
        // A killed process's jobs come back after the lock expires and the next stalled check (JOB_LOCK_SECONDS).
        lockDuration: app.config.jobLockSeconds * 1000,
        stalledInterval: app.config.jobLockSeconds * 1000,
        // Called only because jobs carry our BACKOFF_TYPE (see backoff.ts).
        settings: { backoffStrategy },
      },
    );
    worker.on('failed', (job, err) => {
      if (!job) return;
      void onJobFailed(app, definition, job, err);
    });
    // A job id with a failure record that now completes was retried outside our own retry
    // (BullMQ's job.retry() from the queue UI): the failure is over.
    worker.on('completed', (job) => {
      const key = failureKey(job);
      if (!key || !mayHaveFailureRecord(job)) return;
      clearFailure(app.db, definition.queue, key).catch((e) => app.log.error({ queue: definition.queue, jobId: job.id, err: (e as Error).message }, 'clearing a job failure failed'));
    });
    worker.on('error', (err) => app.log.error({ queue: definition.queue, err: err.message }, 'worker error'));
    if (definition.queue === 'webhooks' || definition.queue === 'sync-orders') worker.on('active', noteIngest);
    instrumentWorker(worker, definition.queue);
    return { worker, release };
  });

  // Fulfilment, pushes and mail yield to the accepts and ingest while the event loop lags (ingest-first.ts).
  const yielding = ingestFirst(workers.map((w) => w.worker), concurrency, app.config.ingestFirstLagMs, app.log);
  return {
    workers: workers.map((w) => w.worker),
    async close(timeoutMs: number) {
      yielding.stop();
      // Stop fetching new jobs at once, then wait for the running ones. Pause, not
      // close: once a graceful close has started, BullMQ's close(true) returns that
      // same close, which waits for every running job however long it takes.
      let timer: NodeJS.Timeout | undefined;
      const drained = Promise.all(workers.map(({ worker }) => worker.pause())).then(() => true);
      const finished = await Promise.race([drained, new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
      clearTimeout(timer);
      // Running jobs keep their lock until it expires; BullMQ's stalled-job check then hands them to another worker.
      await Promise.all(workers.map(({ worker }) => worker.close(!finished).catch(() => {})));
      for (const { release } of workers) release();
      return finished;
    },
  };
}
