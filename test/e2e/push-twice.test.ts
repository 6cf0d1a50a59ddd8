/**
 * One shipment's push run twice at once (after a Redis flush hides a running
 * push job, the sweeper adds it again): the store gets one fulfilment, not
 * two. Found by the chaos run: a WooCommerce order showing the same tracking
 * number twice. Both runs checked the store, found nothing, and created it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { connectorFactory } from '../../connectors/index.ts';
import type { ChannelSimulator } from '../../connectors/types.ts';
import { addChannel } from '../../src/db/channels.ts';
import { syncListings } from '../../src/stock/listings.ts';
import { syncOrders } from '../../jobs/sync-orders.ts';
import { runStep } from '../../jobs/fulfilment.ts';
import { runPush } from '../../jobs/channel-push.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { location, stock } from '../fulfilment/fixtures.ts';

let t: TestApp;
let sim: ChannelSimulator;
beforeAll(async () => {
  t = await createTestApp({ CARRIER: 'simulated' });
  sim = await connectorFactory('woocommerce').simulate({ log: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await sim?.close();
  await t?.close();
});

describe('a fulfilment push run twice at once', () => {
  it('creates one fulfilment on the store', async () => {
    const { app } = t;
    await sim.createProduct({ sku: 'TWICE-MUG', title: 'Mug', price: '5.00', stock: 10 });
    const { settings, credentials } = sim.channelConfig();
    const channelId = await addChannel(app.db, app.config.secretKey!, { kind: 'woocommerce', name: 'twice', settings, credentials });
    await syncListings(app, channelId);
    const skuId = (await app.db.selectFrom('skus').select('id').where('sku', '=', 'TWICE-MUG').executeTakeFirstOrThrow()).id;
    await stock(app, skuId, await location(app, 'TWICE', 1), 10);
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'TWICE-MUG', quantity: 1 }] });
    await syncOrders(app, channelId);
    const order = await app.db.selectFrom('orders').select('id').where('external_id', '=', externalId).executeTakeFirstOrThrow();
    await runStep(app, { step: 'allocate', id: order.id });
    const f = await app.db.selectFrom('fulfillments').select('id').where('order_id', '=', order.id).executeTakeFirstOrThrow();
    for (const step of ['pick', 'pack', 'ship'] as const) await runStep(app, { step, id: f.id });
    const push = await app.db.selectFrom('channel_pushes').select('id').where('kind', '=', 'fulfillment').executeTakeFirstOrThrow();

    // A slow store, so the two runs overlap between "check" and "create".
    sim.setFaults({ latencyMs: 150 });
    const runs = await Promise.allSettled([runPush(app, { pushId: push.id }), runPush(app, { pushId: push.id })]);
    sim.setFaults({});
    // The one that waited is told to try again later; when it does, the push is done.
    for (const r of runs) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/being delivered by another run/);
    await expect(runPush(app, { pushId: push.id })).resolves.toEqual({ outcome: 'already done' });

    const onStore = await sim.fulfillments(externalId);
    expect(onStore).toHaveLength(1);
  });
});
