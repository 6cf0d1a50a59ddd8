/**
 * A customer cancels while the order's next step is already queued (auto
 * mode): the late pick, pack or ship job finds the order cancelled and ends
 * as a no-op, not as a job failed for good that a person would have to look
 * at on the dashboard. A person confirming the step is still refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { runStep } from '../../jobs/fulfilment.ts';
import { allocateOrder } from '../../src/fulfilment/allocate.ts';
import { startPicking } from '../../src/fulfilment/pickpack.ts';
import { changeOnChannel, channel, location, placeOrder, sku, stock } from './fixtures.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ FULFILMENT_MODE: 'auto', CARRIER: 'simulated' });
});
afterAll(async () => t?.close());

describe('a step job queued before the customer cancelled', () => {
  it('is skipped, not failed, and a person picking it is still told why not', async () => {
    const { app } = t;
    const ch = await channel(app, 'late-step');
    const loc = await location(app, 'LATE', 1);
    const s = await sku(app, 'LATE-A');
    await stock(app, s, loc, 10);
    const orderId = await placeOrder(app, ch, [['LATE-A', 1]]);
    await allocateOrder(app, orderId, { actor: 'test' });
    const f = await app.db.selectFrom('fulfillments').select('id').where('order_id', '=', orderId).executeTakeFirstOrThrow();
    // The cancellation is saved; the allocate job it queues has not run yet.
    await changeOnChannel(app, orderId, { cancel: true });

    await expect(runStep(app, { step: 'pick', id: f.id })).resolves.toEqual({ outcome: expect.stringMatching(/^skipped: .*cancelled on its channel/) });
    await expect(startPicking(app, f.id, { actor: 'cli:sam' })).rejects.toThrow(/cancelled on its channel/);
  });
});
