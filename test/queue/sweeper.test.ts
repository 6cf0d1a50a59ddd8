import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, flushQueues, type TestApp } from '../helpers/app.ts';
import { requestPush } from '../../src/outbox/index.ts';
import { sweep } from '../../jobs/sweeper.ts';
import { JOBS } from '../../jobs/index.ts';

let t: TestApp;
let channelId: number;

beforeAll(async () => {
  t = await createTestApp();
  ({ id: channelId } = await t.app.db
    .insertInto('channels')
    .values({ kind: 'test', name: 'sweep', credentials_encrypted: 'x' })
    .returning('id')
    .executeTakeFirstOrThrow());
});
afterAll(() => t.close());

async function jobIds(queue: 'channel-push' | 'webhooks'): Promise<string[]> {
  const jobs = await t.app.queues.get(queue).getJobs(['waiting', 'delayed', 'prioritized']);
  return jobs.map((j) => j.id!).sort();
}

describe('sweeper', () => {
  it('puts every pending item back on its queue after Redis is flushed', async () => {
    const { app } = t;
    for (const shipment of [11, 12, 13]) await requestPush(app, { channelId, kind: 'fulfillment', target: String(shipment) });
    const done = await requestPush(app, { channelId, kind: 'fulfillment', target: '14' });
    await app.db.updateTable('channel_pushes').set({ status: 'done' }).where('id', '=', done).execute();
    const { id: deliveryId } = await app.db
      .insertInto('webhook_deliveries')
      .values({ channel_id: channelId, delivery_key: 'd-1', topic: 'orders/create', headers: '{}', raw_body: Buffer.from('{}') })
      .returning('id')
      .executeTakeFirstOrThrow();
    expect(await jobIds('channel-push')).toHaveLength(4);

    // Lose everything Redis held.
    expect(await flushQueues(app)).toBeGreaterThan(0);
    expect(await jobIds('channel-push')).toEqual([]);

    const report = await sweep(app, JOBS, new Date(Date.now() + 1000));
    expect(report.requeued).toEqual({ 'channel-push': 3, webhooks: 1 });
    expect(await jobIds('channel-push')).toEqual([
      `push-fulfillment.11.${channelId}`,
      `push-fulfillment.12.${channelId}`,
      `push-fulfillment.13.${channelId}`,
    ]);
    expect(await jobIds('webhooks')).toEqual([`webhook.${deliveryId}`]);

    // A second pass finds the jobs in place and adds nothing.
    const again = await sweep(app, JOBS, new Date(Date.now() + 1000));
    expect(again.requeued).toEqual({});
    expect(again.alreadyQueued).toBe(4);
  });

  it('leaves recent work alone (its job may still be on the way)', async () => {
    const { app } = t;
    await requestPush(app, { channelId, kind: 'fulfillment', target: '99' });
    await flushQueues(app);
    const report = await sweep(app, JOBS, new Date(Date.now() - 60_000));
    expect(report.requeued).toEqual({});
  });

  it('owing the same push twice makes one row and one job', async () => {
    const { app } = t;
    await flushQueues(app);
    const a = await requestPush(app, { channelId, kind: 'fulfillment', target: '500' });
    const b = await requestPush(app, { channelId, kind: 'fulfillment', target: '500' });
    expect(a).toBe(b);
    expect((await jobIds('channel-push')).filter((id) => id.startsWith('push-fulfillment.500.'))).toHaveLength(1);
  });
});
