/**
 * fulfilment: allocate -> pick -> pack -> ship -> deliver, each step a state
 * transition on rows in Postgres (`src/fulfilment`). Job ids are
 * `<step>.<id>` (`allocate.<orderId>`, `pick.<fulfilmentId>`, ...,
 * `deliver.<shipmentId>`); every handler checks the state before acting, so a
 * repeated or late job is a no-op.
 *
 * Pick, pack and ship run as jobs only with FULFILMENT_MODE=auto; in manual
 * mode people confirm them (CLI, admin API). Allocation always runs.
 */
import type { App } from '../src/app.ts';
import type { JobDefinition } from '../src/queue/job.ts';
import { allocateOrder } from '../src/fulfilment/allocate.ts';
import { IllegalTransitionError } from '../src/domain/errors.ts';
import { DEFAULT_PARCEL, OrderCancelledError, packFulfilment, startPicking } from '../src/fulfilment/pickpack.ts';
import { pendingSteps, inState } from '../src/fulfilment/pending.ts';
import { checkDelivery, shipFulfilment } from '../src/fulfilment/ship.ts';
import type { FulfilmentJobData } from '../src/fulfilment/steps.ts';
import { runAutoSteps, runsAuto } from '../src/fulfilment/auto.ts';

export type { FulfilmentJobData } from '../src/fulfilment/steps.ts';

const BY = { actor: 'job:fulfilment' } as const;

export const fulfilmentJob: JobDefinition<FulfilmentJobData> = {
  queue: 'fulfilment',
  handle: runStep,
  sweep: (app, before) => pendingSteps(app, before),
};

/** The state each automatic step moves a warehouse fulfilment out of. */
const STEP_FROM: Partial<Record<FulfilmentJobData['step'], string>> = { pick: 'allocated', pack: 'picking', ship: 'packed' };

export async function runStep(app: App, data: FulfilmentJobData): Promise<{ outcome: string }> {
  try {
    return await runStepOnce(app, data);
  } catch (err) {
    // Cancelled between this job's enqueue and its run (a webhook or poll saved the cancel; the
    // allocate job it kicked has not run yet): not a failure for a person to retry, nothing to do here.
    if (err instanceof OrderCancelledError && data.step !== 'allocate') return { outcome: `skipped: ${err.message}` };
    // Two runs of one step at once (a killed daemon's job handed on while a sweep re-added it, a person
    // confirming as the job runs): the state checked before the transaction moved under it. The other run
    // did the step; this one has nothing to do.
    const from = STEP_FROM[data.step];
    if (err instanceof IllegalTransitionError && from && !(await inState(app, data.id, from, 'warehouse'))) {
      return { outcome: `skipped: no longer ${from} (${err.message})` };
    }
    throw err;
  }
}

async function runStepOnce(app: App, data: FulfilmentJobData): Promise<{ outcome: string }> {
  // Auto mode: the steps that follow run in this job too (src/fulfilment/auto.ts).
  const auto = runsAuto(app);
  switch (data.step) {
    case 'allocate': {
      const allocated = await allocateOrder(app, data.id, BY, { enqueueNext: !auto });
      if (!auto || allocated.ready.length === 0) return { outcome: allocated.outcome };
      const then = [];
      for (const f of allocated.ready) then.push(await runAutoSteps(app, 'pick', f, BY, false));
      return { outcome: `${allocated.outcome}; ${then.join('; ')}` };
    }
    case 'pick':
      if (!(await inState(app, data.id, 'allocated', 'warehouse'))) return { outcome: 'skipped: not allocated' };
      if (auto) return { outcome: await runAutoSteps(app, 'pick', data.id, BY, true) };
      await startPicking(app, data.id, BY);
      return { outcome: 'picking' };
    case 'pack':
      if (!(await inState(app, data.id, 'picking', 'warehouse'))) return { outcome: 'skipped: not picking' };
      if (auto) return { outcome: await runAutoSteps(app, 'pack', data.id, BY, true) };
      await packFulfilment(app, data.id, [DEFAULT_PARCEL], BY);
      return { outcome: 'packed' };
    case 'ship': {
      if (!(await inState(app, data.id, 'packed', 'warehouse'))) return { outcome: 'skipped: not packed' };
      const shipped = await shipFulfilment(app, data.id, {}, BY);
      return { outcome: `shipped ${shipped.label.carrier} ${shipped.label.trackingNumber}` };
    }
    case 'deliver':
      return { outcome: await checkDelivery(app, data.id, { actor: 'carrier' }) };
  }
}
