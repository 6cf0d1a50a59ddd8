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
import { kickStockPushes } from '../outbox/index.ts';

export type StepName = 'allocate' | 'pick' | 'pack' | 'ship' | 'deliver';

/** `allocate` takes an order id, `deliver` a shipment id, the others a fulfilment id. The labels only name the job for people. */
export interface FulfilmentJobData extends JobLabels {
  step: StepName;
  id: number;
}

/** What enqueueing a step needs to know about its id, read from Postgres. */
interface StepContext {
  /** The order number and channel the step is about, for the job's name; none when unreadable or gone. */
  labels: JobLabels;
  /** The step's job failed for good (`job_failures`): a person retries it, nothing revives it. */
  failed: boolean;
  /** The same for the follow-up run of an allocation (`allocate.<id>.again`). */
  againFailed: boolean;
}

/**
 * For all `ids` in one query (a pulled page asks for 100 at once; a query an
 * order was once most of the ingest's round trips to Postgres): the job-name
 * labels (`pick #1012 -> main-shopify`) and whether the step's job failed
 * for good.
 */
async function stepContexts(app: App, step: StepName, ids: readonly number[]): Promise<Map<number, StepContext>> {
  const [from, key] =
    step === 'allocate'
      ? [sql`orders o`, sql`o.id`]
      : step === 'deliver'
        ? [sql`shipments s JOIN fulfillments f ON f.id = s.fulfillment_id JOIN orders o ON o.id = f.order_id`, sql`s.id`]
        : [sql`fulfillments f JOIN orders o ON o.id = f.order_id`, sql`f.id`];
  const { rows } = await sql<{ id: string | number; order_number: string | null; name: string | null; failed: boolean; again_failed: boolean }>`
    SELECT x.id, l.order_number, l.name,
      EXISTS (SELECT 1 FROM job_failures j WHERE j.queue = 'fulfilment' AND j.job_id = x.job_id) AS failed,
      EXISTS (SELECT 1 FROM job_failures j WHERE j.queue = 'fulfilment' AND j.job_id = x.job_id || '.again') AS again_failed
    FROM unnest(${[...ids]}::bigint[], ${ids.map((id) => stepJobId(step, id))}::text[]) AS x(id, job_id)
    LEFT JOIN LATERAL (SELECT o.order_number, c.name FROM ${from} JOIN channels c ON c.id = o.channel_id WHERE ${key} = x.id) l ON true`.execute(app.db);
  return new Map(
    rows.map((r) => [
      Number(r.id),
      { labels: r.order_number === null ? {} : { orderNumber: r.order_number, channelName: r.name! }, failed: r.failed, againFailed: r.again_failed },
    ]),
  );
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
 * `enqueueStep` for many ids at once (a page of orders): one query for what
 * Postgres knows of all of them (`stepContexts`), then their jobs together
 * (`QueueSet.ensureAll`: on Redis two pipelines, not two commands an id in
 * flight at once). One at a time, a page of 100 orders made 300 round trips
 * in a row and was most of a poll's time (`npm run bench -- ingest`).
 */
export async function enqueueSteps(app: App, step: StepName, ids: readonly number[], delayMs = 0, known?: ReadonlyMap<number, JobLabels>): Promise<void> {
  if (ids.length === 0) return;
  const unique = [...new Set(ids)];
  let contexts: Map<number, StepContext>;
  try {
    contexts = await stepContexts(app, step, unique);
  } catch (err) {
    app.log.warn({ step, ids: ids.length, err: (err as Error).message }, 'could not enqueue fulfilment steps; the sweeper will');
    return;
  }
  const wanted: Array<{ id: string; data: FulfilmentJobData; againFailed: boolean }> = [];
  for (const id of unique) {
    const context = contexts.get(id) ?? { labels: {}, failed: false, againFailed: false };
    if (context.failed) {
      app.log.info({ step, id }, 'not enqueueing a fulfilment step that failed for good: retry it from the admin API');
      continue;
    }
    // Labels the caller has at hand (ship knows its order's number and channel) win over the read.
    wanted.push({ id: stepJobId(step, id), data: { step, id, ...(known?.get(id) ?? context.labels) }, againFailed: context.againFailed });
  }
  try {
    if (delayMs > 0) {
      await Promise.all(wanted.map((w) => app.queues.add('fulfilment', w.id, w.data, { delay: delayMs })));
      return;
    }
    const added = await app.queues.ensureAll('fulfilment', wanted);
    // An id whose job was live already: an allocation running now may have read the order before
    // this change, so it runs once more after. Allocation is idempotent and serialised by the
    // order's row lock, so an extra run costs nothing but a look.
    if (step !== 'allocate') return;
    await Promise.all(wanted.filter((w, i) => !added[i] && !w.againFailed).map((w) => againIfRunning(app, w.id, w.data)));
  } catch (err) {
    app.log.warn({ step, ids: wanted.length, err: (err as Error).message }, 'could not enqueue fulfilment steps; the sweeper will');
  }
}

async function againIfRunning(app: App, stepId: string, data: FulfilmentJobData): Promise<void> {
  const running = await app.queues.get('fulfilment').getJob(stepId);
  if (running && (await running.getState()) === 'active') await app.queues.ensure<FulfilmentJobData>('fulfilment', `${stepId}.again`, data);
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
