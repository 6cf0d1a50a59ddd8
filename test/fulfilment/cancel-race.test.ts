/**
 * An order cancelled on its channel while an automatic step job waits (the
 * cancel is saved, the allocate job it kicked has not run yet): the step job
 * does nothing and does not fail for good (found by the chaos run: a `pack`
 * job left in job_failures for a person to retry, for an order already
 * cancelled). The allocate job then cancels the fulfilment and frees the stock.
 * And one step run twice at once (at-least-once delivery): one moves it, the
 * other does nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { runStep } from '../../jobs/fulfilment.ts';
import { allocateOrder } from '../../src/fulfilment/allocate.ts';
import { startPicking } from '../../src/fulfilment/pickpack.ts';
import { changeOnChannel, channel, level, location, orderState, placeOrder, sku, stock } from './fixtures.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

describe('a step job for an order cancelled meanwhile', () => {
  it.each(['pick', 'pack'] as const)('%s: skipped, not failed; allocation then cancels the fulfilment', async (step) => {
    const { app } = t;
    const ch = await channel(app, `race-${step}`);
    const loc = await location(app, `RACE-${step}`, 1);
    const s = await sku(app, `RACE-${step}`);
    await stock(app, s, loc, 10);
    const orderId = await placeOrder(app, ch, [[`RACE-${step}`, 2]]);
    await allocateOrder(app, orderId);
    const f = await app.db.selectFrom('fulfillments').select('id').where('order_id', '=', orderId).executeTakeFirstOrThrow();
    if (step === 'pack') await startPicking(app, f.id, { actor: 'test' });

    await changeOnChannel(app, orderId, { cancel: true });
    // It used to throw IllegalTransitionError (permanent: a job_failures row for a person).
    await expect(runStep(app, { step, id: f.id })).resolves.toMatchObject({ outcome: expect.stringMatching(/^skipped: .*cancelled on its channel/) });

    await allocateOrder(app, orderId);
    expect(await orderState(app, orderId)).toBe('cancelled');
    expect((await level(app, s, loc)).reserved).toBe(0);
  });
});

describe('one step run twice at once', () => {
  it('moves the fulfilment once and neither run fails for good (found by the chaos run: pick.<id> "picking to picking")', async () => {
    const { app } = t;
    const ch = await channel(app, 'twice');
    const loc = await location(app, 'TWICE', 1);
    const s = await sku(app, 'TWICE-1');
    await stock(app, s, loc, 100);
    const ids: number[] = [];
    for (let i = 0; i < 12; i++) {
      const orderId = await placeOrder(app, ch, [['TWICE-1', 1]]);
      await allocateOrder(app, orderId);
      ids.push((await app.db.selectFrom('fulfillments').select('id').where('order_id', '=', orderId).executeTakeFirstOrThrow()).id);
    }
    // Both runs read "allocated" before either commits; the second finds "picking" under its lock.
    const results = await Promise.allSettled(ids.flatMap((id) => [runStep(app, { step: 'pick', id }), runStep(app, { step: 'pick', id })]));
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    const states = await app.db.selectFrom('fulfillments').select('state').where('id', 'in', ids).execute();
    expect(states.map((r) => r.state)).toEqual(ids.map(() => 'picking'));
  });
});
