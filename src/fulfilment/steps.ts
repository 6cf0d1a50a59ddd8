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
import { sql } from 'kysely';
import { jobId, type JobLabels } from '../queue/queues.ts';
import { failedJobIds } from '../queue/failures.ts';
import { kickStockPushes } from '../outbox/index.ts';

export type StepName = 'allocate' | 'pick' | 'pack' | 'ship' | 'deliver';

/** `allocate` takes an order id, `deliver` a shipment id, the others a fulfilment id. The labels only name the job for people. */
export interface FulfilmentJobData extends JobLabels {
  step: StepName;
  id: number;
}

/**
 * The order number and channel each step is about, for the job's name
 * (`pick #1012 -> main-shopify`), in one query for all `ids` (a pulled page
 * asks for 100 at once: one query an order was most of the ingest's round
 * trips to Postgres). An id without them (unreadable, gone) has no entry.
 */
export async function stepLabels(app: App, step: StepName, ids: readonly number[]): Promise<Map<number, JobLabels>> {
  if (ids.length === 0) return new Map();
  const toOrder =
    step === 'allocate'
      ? sql`orders o ON o.id = x.id`
      : step === 'deliver'
        ? sql`shipments s ON s.id = x.id JOIN fulfillments f ON f.id = s.fulfillment_id JOIN orders o ON o.id = f.order_id`
        : sql`fulfillments f ON f.id = x.id JOIN orders o ON o.id = f.order_id`;
  try {
    const { rows } = await sql<{ id: string | number; order_number: string; name: string }>`
      SELECT x.id, o.order_number, c.name
      FROM unnest(${[...ids]}::bigint[]) AS x(id) JOIN ${toOrder} JOIN channels c ON c.id = o.channel_id`.execute(app.db);
    return new Map(rows.map((r) => [Number(r.id), { orderNumber: r.order_number, channelName: r.name }]));
  } catch {
    return new Map();
  }
}

/** What a step does after its commit: start the next automatic step as a job (the default), or leave it to the caller (`auto.ts` runs it next in the same job). */
export interface StepOptions {
  enqueueNext?: boolean;
}

export const stepJobId = (step: StepName, id: number) => jobId(step, id);

/**
 * Makes sure a job for this step is waiting; never throws (the sweeper re-finds the work).
 * A step whose job failed for good (`job_failures`) is not revived: a person retries it.
 */
export async function enqueueStep(app: App, step: StepName, id: number, delayMs = 0, labels?: JobLabels): Promise<void> {
  await enqueueSteps(app, step, [id], delayMs, labels && new Map([[id, labels]]));
}

/**
 * `enqueueStep` for many ids at once (a page of orders): one look at
 * `job_failures` for all of them, then each id's queue calls side by side
 * (ioredis sends them without waiting for each answer). One at a time, a
 * page of 100 orders made 300 round trips in a row and was most of a poll's
 * time (`npm run bench -- ingest`).
 */
export async function enqueueSteps(app: App, step: StepName, ids: readonly number[], delayMs = 0, known?: ReadonlyMap<number, JobLabels>): Promise<void> {
  if (ids.length === 0) return;
  let failed: Set<string>;
  try {
    failed = await failedJobIds(app.db, 'fulfilment', ids.flatMap((id) => (step === 'allocate' ? [stepJobId(step, id), `${stepJobId(step, id)}.again`] : [stepJobId(step, id)])));
  } catch (err) {
    app.log.warn({ step, ids: ids.length, err: (err as Error).message }, 'could not enqueue fulfilment steps; the sweeper will');
    return;
  }
  const unique = [...new Set(ids)];
  // Labels the caller has at hand (ship knows its order's number and channel) are not read again.
  const labels = known ?? (await stepLabels(app, step, unique));
  await Promise.all(unique.map((id) => enqueueOne(app, step, id, delayMs, failed, labels.get(id) ?? {})));
}

async function enqueueOne(app: App, step: StepName, id: number, delayMs: number, failed: Set<string>, labels: JobLabels): Promise<void> {
  const stepId = stepJobId(step, id);
  const again = `${stepId}.again`;
  try {
    if (failed.has(stepId)) {
      app.log.info({ step, id }, 'not enqueueing a fulfilment step that failed for good: retry it from the admin API');
      return;
    }
    const data: FulfilmentJobData = { step, id, ...labels };
    if (delayMs > 0) await app.queues.add('fulfilment', stepId, data, { delay: delayMs });
    else if (!(await app.queues.ensure<FulfilmentJobData>('fulfilment', stepId, data)) && step === 'allocate' && !failed.has(again)) {
      // An allocation that is running now may have read the order before this change: run it once
      // more after. Allocation is idempotent and serialised by the order's row lock, so an extra
      // run costs nothing but a look.
      const running = await app.queues.get('fulfilment').getJob(stepId);
      if (running && (await running.getState()) === 'active') {
        await app.queues.ensure<FulfilmentJobData>('fulfilment', again, data);
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
  const ids = results.filter((r) => r.orderId !== null && r.outcome !== 'stale').map((r) => r.orderId!);
  await enqueueSteps(app, 'allocate', ids);
  // A refund that restocked: its stock pushes were owed in the order's transaction; send them now.
  const restocked = results.flatMap((r) => r.restockedSkuIds ?? []);
  if (restocked.length > 0) await kickStockPushes(app, restocked);
}
