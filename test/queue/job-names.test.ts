/**
 * Jobs explain themselves in the queue UI: a push's job is named after the
 * order and the channel (`push-fulfillment #1012 -> shop`) and carries them in
 * its data, while its id stays the deterministic one; a job added before the
 * labels existed (only `pushId`) still delivers; a classified failure keeps
 * its message, not a stack trace, on the job card.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { order } from '../helpers/orders.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/workers.ts';
import { jobName } from '../../src/queue/queues.ts';
import { pushJobId } from '../../src/outbox/index.ts';
import { enqueueStep, enqueueSteps } from '../../src/fulfilment/steps.ts';
import { JOBS } from '../../jobs/index.ts';
import { addFakeChannel } from '../server/fake-channel.ts';
import { eventually, shipOrder } from '../server/seed.ts';
import { saveOrders } from '../helpers/orders.ts';

describe('job names and data', () => {
  let t: TestApp;
  let workers: WorkerSet | undefined;

  beforeAll(async () => {
    t = await createTestApp({ JOB_ATTEMPTS: '1' });
  });
  afterAll(async () => {
    await workers?.close(2_000);
    await t?.close();
  });

  it('names a job by its kind, order or SKU, and channel', () => {
    expect(jobName('push-fulfillment.12.3', { pushId: 4, orderNumber: '#1012', channelName: 'main-shopify' })).toBe('push-fulfillment #1012 -> main-shopify');
    expect(jobName('push-stock', { pushId: 5, sku: 'MUG-BLUE', channelName: 'woo' })).toBe('push-stock MUG-BLUE -> woo');
    expect(jobName('pick.7', { step: 'pick', id: 7 })).toBe('pick');
  });

  it('labels push and step jobs, keeps their ids, and still runs a job without labels', async () => {
    const { app } = t;
    const fake = await addFakeChannel(app, 'names-shop');
    const [saved] = await saveOrders(app.db, fake.channelId, [order({ externalId: 'N1', orderNumber: '#4242', placedAt: new Date(), updatedAt: new Date() })]);
    const orderId = saved!.orderId!;

    // Failing channel: the push fails for good (JOB_ATTEMPTS=1) with its message as the whole "stack".
    fake.state.failing = true;
    workers = startWorkers(app, JOBS.filter((j) => j.queue === 'channel-push'), 2);
    const shipped = await shipOrder(app, orderId);
    const id = pushJobId({ kind: 'fulfillment', channel_id: fake.channelId, target: String(shipped.shipmentId) });
    expect(id).toBe(`push-fulfillment.${shipped.shipmentId}.${fake.channelId}`);
    const job = await eventually(async () => {
      const j = await app.queues.get('channel-push').getJob(id);
      return j && (await j.getState()) === 'failed' ? j : null;
    }, 'the push to fail');
    expect(job.name).toBe('push-fulfillment #4242 -> names-shop');
    expect(job.data).toEqual({ pushId: shipped.pushId, orderNumber: '#4242', channelName: 'names-shop' });
    expect((job.stacktrace ?? []).join('\n')).toContain('503 Service Unavailable');
    expect((job.stacktrace ?? []).join('\n')).not.toMatch(/\n\s+at /);
    const failure = await app.db.selectFrom('job_failures').select('data').where('job_id', '=', id).executeTakeFirstOrThrow();
    expect(failure.data).toMatchObject({ orderNumber: '#4242', channelName: 'names-shop' });

    // A job from before the labels: only the push id. It delivers all the same.
    fake.state.failing = false;
    await job.remove();
    await app.db.updateTable('channel_pushes').set({ status: 'pending', last_error: null }).where('id', '=', shipped.pushId).execute();
    await app.queues.get('channel-push').add('push-fulfillment', { pushId: shipped.pushId }, { jobId: id });
    await eventually(
      async () => (await app.db.selectFrom('channel_pushes').select('status').where('id', '=', shipped.pushId).executeTakeFirst())?.status === 'done',
      'the unlabelled job to deliver',
    );
    expect(fake.state.fulfillments).toHaveLength(1);

    // Fulfilment steps carry the order and channel too.
    await enqueueStep(app, 'pack', shipped.fulfillmentId, 60_000);
    const step = await app.queues.get('fulfilment').getJob(`pack.${shipped.fulfillmentId}`);
    expect(step?.name).toBe('pack #4242 -> names-shop');
    expect(step?.data).toEqual({ step: 'pack', id: shipped.fulfillmentId, orderNumber: '#4242', channelName: 'names-shop' });
    await enqueueStep(app, 'deliver', shipped.shipmentId, 60_000);
    expect((await app.queues.get('fulfilment').getJob(`deliver.${shipped.shipmentId}`))?.name).toBe('deliver #4242 -> names-shop');

    // A pulled page's orders are labelled together, each with its own number.
    const page = await saveOrders(app.db, fake.channelId, ['#4243', '#4244', '#4245'].map((n, i) => order({ externalId: `P${i}`, orderNumber: n, placedAt: new Date(), updatedAt: new Date() })));
    await enqueueSteps(app, 'allocate', page.map((r) => r.orderId!), 60_000);
    const names = await Promise.all(page.map(async (r) => (await app.queues.get('fulfilment').getJob(`allocate.${r.orderId}`))?.name));
    expect(names).toEqual(['allocate #4243 -> names-shop', 'allocate #4244 -> names-shop', 'allocate #4245 -> names-shop']);
  });
});
