/**
 * sweeper: Postgres is the truth, Redis the conveyor. Every job module that
 * keeps pending work in Postgres says how to find it (`sweep`); this job makes
 * sure each pending item has a job, so a Redis flush, a crash or a lost job
 * delays work but never loses it. Scheduled; runs once per slot however many
 * daemons run. Work that failed for good (a `job_failures` record) is never
 * re-added: only a person's retry puts it back (`src/queue/failures.ts`).
 */
import type { App } from '../src/app.ts';
import type { JobDefinition } from '../src/queue/job.ts';
import { failedJobIds } from '../src/queue/failures.ts';

export interface SweepReport {
  /** Jobs (re)added per queue. */
  requeued: Record<string, number>;
  /** Pending items that already had a live job. */
  alreadyQueued: number;
  /** Pending items left alone because their job failed for good (waiting for a person's retry). */
  failedForGood: number;
}

export function sweeperJob(definitions: () => JobDefinition[]): JobDefinition<Record<string, never>> {
  return {
    queue: 'sweeper',
    handle: (app) => sweep(app, definitions()),
  };
}

/** One pass over every job module's pending work older than SWEEP_AFTER_SECONDS. */
export async function sweep(app: App, definitions: JobDefinition[], before = new Date(Date.now() - app.config.sweepAfterSeconds * 1000)): Promise<SweepReport> {
  const report: SweepReport = { requeued: {}, alreadyQueued: 0, failedForGood: 0 };
  for (const definition of definitions) {
    if (!definition.sweep) continue;
    const pending = await definition.sweep(app, before);
    const failed = await failedJobIds(app.db, definition.queue, pending.map((p) => p.jobId));
    for (const item of pending) {
      if (failed.has(item.jobId)) {
        report.failedForGood += 1;
        continue;
      }
      if (await app.queues.ensure(definition.queue, item.jobId, item.data)) {
        report.requeued[definition.queue] = (report.requeued[definition.queue] ?? 0) + 1;
      } else {
        report.alreadyQueued += 1;
      }
    }
  }
  const total = Object.values(report.requeued).reduce((a, b) => a + b, 0);
  if (total > 0) app.log.info(report, 'sweeper re-enqueued pending work');
  return report;
}
