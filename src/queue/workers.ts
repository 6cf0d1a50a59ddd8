/**
 * One BullMQ worker per queue. Errors are translated once, here:
 * `PermanentError` becomes BullMQ's `UnrecoverableError` (no more attempts),
 * `RetryableError.retryAfterMs` lengthens the back-off to what the channel
 * asked for, and a job that BullMQ gives up on calls its `onFailed`, which
 * records the failure in Postgres for admins to see and retry.
 */
import { UnrecoverableError, type Job, type Worker } from 'bullmq';
import type { App } from '../app.ts';
import { PermanentError } from '../domain/errors.ts';
import { backoffStrategy } from './backoff.ts';
import type { JobDefinition } from './job.ts';
import { instrumentWorker } from '../server/metrics.ts';

export interface WorkerSet {
  workers: Worker[];
  /** Stops taking jobs and waits for running ones up to `timeoutMs`; then forces the close. Returns true if all finished. */
  close(timeoutMs: number): Promise<boolean>;
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
          if (err instanceof PermanentError) throw new UnrecoverableError(err.message);
          throw err;
        }
      },
      {
        concurrency: definition.queue === 'sweeper' ? 1 : concurrency,
        // Called only because jobs carry our BACKOFF_TYPE (see backoff.ts).
        settings: { backoffStrategy },
      },
    );
    worker.on('failed', (job, err) => {
      if (!job) return;
      const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      app.log[final ? 'error' : 'warn'](
        { queue: definition.queue, jobId: job.id, attempt: job.attemptsMade, err: err.message },
        final ? 'job failed for good' : 'job failed, will retry',
      );
      if (final && definition.onFailed) {
        definition.onFailed(app, job.data, err).catch((e) => app.log.error({ err: e }, 'recording a failed job failed'));
      }
    });
    worker.on('error', (err) => app.log.error({ queue: definition.queue, err: err.message }, 'worker error'));
    instrumentWorker(worker, definition.queue);
    return { worker, release };
  });

  return {
    workers: workers.map((w) => w.worker),
    async close(timeoutMs: number) {
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
