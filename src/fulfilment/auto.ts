/**
 * Auto mode (FULFILMENT_MODE=auto): the steps after one another in the job
 * that started them, allocate -> pick -> pack -> ship, each behind its own
 * state check and committed before the next starts (pick and pack share one
 * transaction, pack in a savepoint of it), so a crash between two leaves the
 * state the sweeper resumes from (`pending.ts`), as a lost job did before.
 *
 * Why: a job a step cost, besides the step, the enqueue's `job_failures`
 * look and label query, BullMQ's add, fetch and completion, the completion's
 * bookkeeping and the next job's state check: most of an order's 57 commits
 * and Redis round trips in `npm run bench -- fulfilment`.
 *
 * A step that fails inside the run becomes its own job (`<step>.<id>`), as
 * if the run had stopped before it: its retries, back-off and a failure for
 * good are recorded under its own id, so the sweeper never revives it. Only
 * the job's own step fails the job.
 */
import type { App } from '../app.ts';
import { carrierAdapter } from './carriers/index.ts';
import { DEFAULT_PARCEL, packFulfilment, pickAndPack } from './pickpack.ts';
import { shipFulfilment } from './ship.ts';
import { enqueueStep, type StepName } from './steps.ts';
import type { By } from './transitions.ts';

type WarehouseStep = Extract<StepName, 'pick' | 'pack' | 'ship'>;
const ORDER: WarehouseStep[] = ['pick', 'pack', 'ship'];

/** True when the steps after allocation run by themselves (auto mode). */
export const runsAuto = (app: App) => app.config.fulfilmentMode === 'auto';

/**
 * Runs `from` and the automatic steps after it on one fulfilment. `own`:
 * `from` is the job's own step, whose error is thrown; otherwise (the steps
 * after an allocation) an error in `from` hands it to its own job too.
 * Returns what the last step did.
 */
export async function runAutoSteps(app: App, from: WarehouseStep, fulfilmentId: number, by: By, own: boolean): Promise<string> {
  const automatic = carrierAdapter(app.config, app.config.carrier).automatic;
  let done = 'nothing';
  const handOff = async (step: WarehouseStep, err: Error) => {
    app.log.info({ step, fulfilment: fulfilmentId, err: err.message }, 'an automatic step failed inside the run; it continues as its own job');
    await enqueueStep(app, step, fulfilmentId);
    return `${done}; ${step} handed to its own job (${err.message})`;
  };
  for (const step of ORDER.slice(ORDER.indexOf(from))) {
    if (step === 'ship' && !automatic) break; // a person enters the tracking
    if (step === 'pack' && done === 'packed') continue; // packed with the pick
    try {
      if (step === 'pick') {
        // Pick and pack share one transaction; pack runs in a savepoint, so a pack that fails leaves it picking.
        const { packError } = await pickAndPack(app, fulfilmentId, [DEFAULT_PARCEL], by);
        done = 'picking';
        if (packError) return handOff('pack', packError);
        done = 'packed';
      } else {
        done = await runOne(app, step, fulfilmentId, by);
      }
    } catch (err) {
      if (own && step === from) throw err;
      return handOff(step, err as Error);
    }
  }
  return done;
}

async function runOne(app: App, step: Exclude<WarehouseStep, 'pick'>, fulfilmentId: number, by: By): Promise<string> {
  switch (step) {
    case 'pack':
      await packFulfilment(app, fulfilmentId, [DEFAULT_PARCEL], by, { enqueueNext: false });
      return 'packed';
    case 'ship': {
      const shipped = await shipFulfilment(app, fulfilmentId, {}, by);
      return `shipped ${shipped.label.carrier} ${shipped.label.trackingNumber}`;
    }
  }
}
