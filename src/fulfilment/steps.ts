/**
 * The fulfilment queue's job ids and how domain code asks for the next step.
 * Ids are deterministic (`allocate.<orderId>`, `pick.<fulfilmentId>`,
 * `pack.<f>`, `ship.<f>`, `deliver.<shipmentId>`), so asking twice is one job;
 * `ensure` re-adds an id whose earlier job finished, because the same order
 * can need allocating again after an edit. Postgres stays the truth: a lost
 * job is found again by the fulfilment job's `sweep`.
 */
import type { App } from '../app.ts';
import { jobId } from '../queue/queues.ts';

export type StepName = 'allocate' | 'pick' | 'pack' | 'ship' | 'deliver';

/** `allocate` takes an order id, `deliver` a shipment id, the others a fulfilment id. */
export interface FulfilmentJobData {
  step: StepName;
  id: number;
}

export const stepJobId = (step: StepName, id: number) => jobId(step, id);

/** Makes sure a job for this step is waiting; never throws (the sweeper re-finds the work). */
export async function enqueueStep(app: App, step: StepName, id: number, delayMs = 0): Promise<void> {
  try {
    if (delayMs > 0) await app.queues.add('fulfilment', stepJobId(step, id), { step, id }, { delay: delayMs });
    else await app.queues.ensure<FulfilmentJobData>('fulfilment', stepJobId(step, id), { step, id });
  } catch (err) {
    app.log.warn({ step, id, err: (err as Error).message }, 'could not enqueue a fulfilment step; the sweeper will');
  }
}
