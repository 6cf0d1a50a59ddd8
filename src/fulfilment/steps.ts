/**
 * The fulfilment queue's job ids and how domain code asks for the next step.
 * Ids are deterministic (`allocate.<orderId>`, `pick.<fulfilmentId>`,
 * `pack.<f>`, `ship.<f>`, `deliver.<shipmentId>`), so asking twice is one job;
 * `ensure` re-adds an id whose earlier job completed, because the same order
 * can need allocating again after an edit (never one that failed for good); an edit that arrives while its
 * allocation runs queues one follow-up run (`allocate.<id>.again`). Postgres stays the truth: a lost
 * job is found again by the fulfilment job's `sweep`.
 */
import type { App } from '../app.ts';
import type { UpsertResult } from '../db/orders.ts';
import { jobId } from '../queue/queues.ts';
import { failedJobIds } from '../queue/failures.ts';
import { kickStockPushes } from '../outbox/index.ts';

export type StepName = 'allocate' | 'pick' | 'pack' | 'ship' | 'deliver';

/** `allocate` takes an order id, `deliver` a shipment id, the others a fulfilment id. */
export interface FulfilmentJobData {
  step: StepName;
  id: number;
}

export const stepJobId = (step: StepName, id: number) => jobId(step, id);

/**
 * Makes sure a job for this step is waiting; never throws (the sweeper re-finds the work).
 * A step whose job failed for good (`job_failures`) is not revived: a person retries it.
 */
export async function enqueueStep(app: App, step: StepName, id: number, delayMs = 0): Promise<void> {
  const stepId = stepJobId(step, id);
  const again = `${stepId}.again`;
  try {
    const failed = await failedJobIds(app.db, 'fulfilment', step === 'allocate' ? [stepId, again] : [stepId]);
    if (failed.has(stepId)) {
      app.log.info({ step, id }, 'not enqueueing a fulfilment step that failed for good: retry it from the admin API');
      return;
    }
    if (delayMs > 0) await app.queues.add('fulfilment', stepId, { step, id }, { delay: delayMs });
    else if (!(await app.queues.ensure<FulfilmentJobData>('fulfilment', stepId, { step, id })) && step === 'allocate' && !failed.has(again)) {
      // An allocation that is running now may have read the order before this change: run it once
      // more after. Allocation is idempotent and serialised by the order's row lock, so an extra
      // run costs nothing but a look.
      const running = await app.queues.get('fulfilment').getJob(stepId);
      if (running && (await running.getState()) === 'active') {
        await app.queues.ensure<FulfilmentJobData>('fulfilment', again, { step, id });
      }
    }
  } catch (err) {
    app.log.warn({ step, id, err: (err as Error).message }, 'could not enqueue a fulfilment step; the sweeper will');
  }
}

/**
 * After orders are saved (sync-orders, webhooks): every new or changed order
 * gets an allocate job, which decides what the change means (payable now,
 * cancelled, lines edited, or nothing). Never throws: the order rows are the
 * truth and the sweep finds what could not be enqueued.
 */
export async function ordersChanged(app: App, results: ReadonlyArray<Pick<UpsertResult, 'orderId' | 'outcome' | 'restockedSkuIds'>>): Promise<void> {
  for (const r of results) {
    if (r.orderId !== null && r.outcome !== 'stale') await enqueueStep(app, 'allocate', r.orderId);
  }
  // A refund that restocked: its stock pushes were owed in the order's transaction; send them now.
  const restocked = results.flatMap((r) => r.restockedSkuIds ?? []);
  if (restocked.length > 0) await kickStockPushes(app, restocked);
}
