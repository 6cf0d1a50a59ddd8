/**
 * The reconciliation schedule: node-cron fires RECONCILE_CRON in every daemon,
 * and each firing enqueues a job whose id is its slot (`reconcile.<slot>`).
 * BullMQ ignores an id it already has, so however many daemons fire, one job
 * runs per slot; `reconcile_runs` keeps the slot done after a Redis flush.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { App } from '../app.ts';
import { jobId } from '../queue/queues.ts';

export interface ReconcileData {
  slot: string;
}

/** The slot of a scheduled firing: its matched time to the second (`2026-11-01T10:15:00Z`). */
export function slotOf(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

export const reconcileJobId = (slot: string) => jobId('reconcile', slot);

/** Enqueues the reconciliation of `slot`; a no-op when that slot's job exists already. */
export async function enqueueReconcile(app: App, slot: string): Promise<string> {
  const id = reconcileJobId(slot);
  // One attempt fewer than other work: the next slot comes soon anyway.
  await app.queues.add<ReconcileData>('reconcile-stock', id, { slot }, { attempts: Math.min(3, app.config.jobAttempts) });
  return id;
}

export interface ReconcileSchedule {
  stop(): Promise<void>;
}

/** Starts firing RECONCILE_CRON in this process. */
export function startReconcileSchedule(app: App, expression = app.config.reconcileCron): ReconcileSchedule {
  const task: ScheduledTask = cron.schedule(
    expression,
    async (ctx) => {
      const slot = slotOf(ctx.date);
      try {
        await enqueueReconcile(app, slot);
      } catch (err) {
        app.log.warn({ slot, err: (err as Error).message }, 'could not enqueue stock reconciliation for this slot');
      }
    },
    { name: `reconcile-stock-${Math.random().toString(36).slice(2, 8)}`, unref: true },
  );
  return {
    async stop() {
      await task.destroy();
    },
  };
}
