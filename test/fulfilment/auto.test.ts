/**
 * Auto mode runs allocate -> pick -> pack -> ship in the job that started
 * them (src/fulfilment/auto.ts), each step its own transaction; a step that
 * fails inside the run continues as its own job, so its retries and a
 * failure for good stay under its own id.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { runStep } from '../../jobs/fulfilment.ts';
import { stepJobId } from '../../src/fulfilment/steps.ts';
import { channel, location, placeOrder, sku, stock } from './fixtures.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ FULFILMENT_MODE: 'auto', CARRIER: 'simulated' });
});
afterAll(async () => t?.close());

async function paidOrder(name: string): Promise<number> {
  const { app } = t;
  const ch = await channel(app, name);
  const loc = await location(app, name.toUpperCase(), 1);
  await stock(app, await sku(app, `${name}-A`), loc, 10);
  return placeOrder(app, ch, [[`${name}-A`, 2]]);
}

const history = async (orderId: number) =>
  (await t.app.db.selectFrom('order_history').select(['from_state', 'to_state']).where('order_id', '=', orderId).where('fulfillment_id', 'is not', null).orderBy('id').execute()).map((h) => `${h.from_state ?? '-'}>${h.to_state}`);

describe('auto mode', () => {
  it('one allocate job takes a paid order to shipped, every step recorded, the push owed', async () => {
    const { app } = t;
    const orderId = await paidOrder('auto-one');
    const run = await runStep(app, { step: 'allocate', id: orderId });
    expect(run.outcome).toMatch(/^allocated; shipped /);
    expect(await history(orderId)).toEqual(['->allocated', 'allocated>picking', 'picking>packed', 'packed>shipped']);
    const pushes = await app.db
      .selectFrom('channel_pushes')
      .innerJoin('shipments', (j) => j.on(sql`shipments.id::text`, '=', sql.ref('channel_pushes.target')))
      .innerJoin('fulfillments', 'fulfillments.id', 'shipments.fulfillment_id')
      .select('channel_pushes.status')
      .where('fulfillments.order_id', '=', orderId)
      .where('channel_pushes.kind', '=', 'fulfillment')
      .execute();
    expect(pushes).toHaveLength(1);
  });

  it('a step that fails inside the run continues as its own job, and the run does not fail', async () => {
    const { app } = t;
    const orderId = await paidOrder('auto-two');
    // Packing this order's fulfilment fails (as a bug or a lost connection would), once.
    await sql.raw(`
      CREATE FUNCTION cs_test_refuse_pack() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.state = 'packed' AND NEW.order_id = ${orderId} THEN RAISE EXCEPTION 'packing refused by the test'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER cs_test_refuse_pack BEFORE UPDATE ON fulfillments FOR EACH ROW EXECUTE FUNCTION cs_test_refuse_pack();`).execute(app.db);
    const run = await runStep(app, { step: 'allocate', id: orderId });
    const f = await app.db.selectFrom('fulfillments').select(['id', 'state']).where('order_id', '=', orderId).executeTakeFirstOrThrow();
    expect(f.state).toBe('picking');
    expect(run.outcome).toMatch(/pack handed to its own job \(packing refused by the test\)/);
    const job = await app.queues.get('fulfilment').getJob(stepJobId('pack', f.id));
    expect(job?.data).toMatchObject({ step: 'pack', id: f.id });

    await sql.raw('DROP TRIGGER cs_test_refuse_pack ON fulfillments; DROP FUNCTION cs_test_refuse_pack();').execute(app.db);
    // The pack job's run (what the worker does with it) finishes the order.
    expect((await runStep(app, { step: 'pack', id: f.id })).outcome).toMatch(/^shipped /);
    expect(await history(orderId)).toEqual(['->allocated', 'allocated>picking', 'picking>packed', 'packed>shipped']);
  });
});
