/**
 * Cancellations on Amazon, through the simulator, the sync and the console:
 * a buyer's cancel request is flagged on the order for a person (order page,
 * "needs attention" list, dashboard count) and never cancels by itself; a
 * person dismisses it (and it stays dismissed on the next polls) or Amazon
 * cancels the order, which releases its stock and pushes no shipment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { adminServer } from '../helpers/admin-server.ts';
import { addChannel } from '../../src/db/channels.ts';
import { syncListings } from '../../src/stock/listings.ts';
import { syncOrders } from '../../jobs/sync-orders.ts';
import { allocateOrder } from '../../src/fulfilment/allocate.ts';
import { startPicking } from '../../src/fulfilment/pickpack.ts';
import { startAmazonSimulator, type AmazonSimulator } from '../../connectors/amazon/simulator/index.ts';
import { location, stock } from './fixtures.ts';

const TOKEN = 'amazon-cancel-token-0123456789abcdef';
const admin = adminServer(TOKEN);
const get = (url: string) => admin.server.inject({ url, headers: admin.auth });
const post = (url: string) => admin.server.inject({ method: 'POST', url, headers: { ...admin.auth, 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
const listed = (html: string) => [...html.matchAll(/<tr data-order="(\d+)">/g)].map((m) => Number(m[1]));
const dashboardCount = (html: string) => Number(/id="cancel-requests">.*?<b[^>]*>(?:<a[^>]*>)?(\d+)/s.exec(html)?.[1]);

let sim: AmazonSimulator;
let channelId: number;

beforeAll(async () => {
  const { app } = admin.t;
  sim = await startAmazonSimulator({ log: pino({ level: 'silent' }) });
  await sim.createProduct({ sku: 'AC-MUG', title: 'Mug', price: '12.50', stock: 100 });
  const { settings, credentials } = sim.channelConfig();
  channelId = await addChannel(app.db, app.config.secretKey!, { kind: 'amazon', name: 'cancel-amazon', settings, credentials });
  await syncListings(app, channelId);
  const main = await location(app, 'AC-MAIN', 1);
  const mug = await app.db.selectFrom('skus').select('id').where('sku', '=', 'AC-MUG').executeTakeFirstOrThrow();
  await stock(app, mug.id, main, 10);
}, 60_000);
afterAll(async () => {
  await sim?.close();
});

const orderOf = (externalId: string) =>
  admin.t.app.db.selectFrom('orders').selectAll().where('channel_id', '=', channelId).where('external_id', '=', externalId).executeTakeFirstOrThrow();
const reserved = async () =>
  Number(
    (await admin.t.app.db.selectFrom('stock_levels').innerJoin('skus', 'skus.id', 'stock_levels.sku_id').select((eb) => eb.fn.sum<number>('reserved').as('r')).where('skus.sku', '=', 'AC-MUG').executeTakeFirst())?.r ?? 0,
  );

/** An MFN order of two mugs, pulled and allocated: its two units are reserved. */
async function allocatedOrder(): Promise<{ externalId: string; id: number }> {
  const { externalId } = await sim.createOrder({ lines: [{ sku: 'AC-MUG', quantity: 2 }] });
  await syncOrders(admin.t.app, channelId);
  const { id } = await orderOf(externalId);
  await allocateOrder(admin.t.app, id);
  expect((await orderOf(externalId)).state).toBe('allocated');
  return { externalId, id };
}

describe('a buyer cancel request on Amazon', () => {
  it('is flagged for a person and cancels nothing; Amazon cancelling it releases the stock and ships nothing', async () => {
    const { app } = admin.t;
    const { externalId, id } = await allocatedOrder();
    const before = await reserved();

    await sim.requestCancel(externalId, 'Ordered by mistake');
    await syncOrders(app, channelId);
    await allocateOrder(app, id);
    const flagged = await orderOf(externalId);
    expect(flagged.cancel_requested_at).not.toBeNull();
    expect(flagged.cancel_request_reason).toBe('Ordered by mistake');
    // A request, not a cancellation: the order still holds its stock and may ship.
    expect(flagged.state).toBe('allocated');
    expect(await reserved()).toBe(before);

    const page = await get(`/admin/orders/${id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('The customer asked to cancel');
    expect(page.body).toContain('Ordered by mistake');
    expect(page.body).toContain('Dismiss the request and ship');
    // Amazon takes no cancellation from channelsync: the page says where to cancel it instead.
    expect(page.body).toContain('amazon channels cannot cancel orders through channelsync');
    expect(listed((await get('/admin/orders?attention=1')).body)).toContain(id);
    expect(dashboardCount((await get('/admin')).body)).toBe(1);

    // The seller cancels it on Amazon (Seller Central): the poll brings OrderStatus Canceled.
    await sim.cancelOrder(externalId);
    await syncOrders(app, channelId);
    await allocateOrder(app, id);
    const cancelled = await orderOf(externalId);
    expect(cancelled.state).toBe('cancelled');
    expect(await reserved()).toBe(before - 2);
    const fulfilments = await app.db.selectFrom('fulfillments').select(['id', 'state']).where('order_id', '=', id).execute();
    expect(fulfilments.map((f) => f.state)).toEqual(['cancelled']);
    await expect(startPicking(app, fulfilments[0]!.id, { actor: 'test' })).rejects.toThrow(/cancelled/);
    const pushes = await app.db.selectFrom('channel_pushes').select('kind').where('channel_id', '=', channelId).where('kind', 'in', ['fulfillment', 'cancel']).execute();
    expect(pushes).toEqual([]);
    expect(sim.server.calls.some((c) => c.op === 'confirmShipment')).toBe(false);
    // Settled: no longer waiting for a person.
    expect(listed((await get('/admin/orders?attention=1')).body)).not.toContain(id);
    expect(dashboardCount((await get('/admin')).body)).toBe(0);
    expect((await get(`/admin/orders/${id}`)).body).not.toContain('Dismiss the request and ship');
  }, 60_000);

  it('once dismissed stays dismissed while Amazon shows it, and a second dismissal is refused', async () => {
    const { app } = admin.t;
    const { externalId, id } = await allocatedOrder();
    await sim.requestCancel(externalId, 'Delivery too slow');
    await syncOrders(app, channelId);
    expect(listed((await get('/admin/orders?attention=1')).body)).toContain(id);

    const dismissed = await post(`/admin/orders/${id}/cancel-request/dismiss`);
    expect(dismissed.statusCode).toBe(303);
    expect(dismissed.headers.location).toBe(`/admin/orders/${id}?done=request-dismissed`);
    const row = await orderOf(externalId);
    expect(row.cancel_request_dismissed_by).toBe('admin');
    expect(row.state).toBe('allocated');
    expect(listed((await get('/admin/orders?attention=1')).body)).not.toContain(id);
    expect((await get(`/admin/orders/${id}`)).body).toContain('Cancel request dismissed');

    // The order changes again on Amazon, the request still on its items: not shown again.
    await sim.touchOrder(externalId);
    await syncOrders(app, channelId);
    const again = await orderOf(externalId);
    expect(again.channel_updated_at.getTime()).toBeGreaterThan(row.channel_updated_at.getTime());
    expect(again.cancel_request_dismissed_at).not.toBeNull();
    expect(listed((await get('/admin/orders?attention=1')).body)).not.toContain(id);

    const twice = await post(`/admin/orders/${id}/cancel-request/dismiss`);
    expect(twice.statusCode).toBe(409);
    expect(twice.body).toContain('dismissed already');
    const none = await allocatedOrder();
    const nothing = await post(`/admin/orders/${none.id}/cancel-request/dismiss`);
    expect(nothing.statusCode).toBe(409);
    expect(nothing.body).toContain('no cancel request');

    // The admin API does the same.
    await sim.requestCancel(none.externalId, 'Wrong size');
    await syncOrders(app, channelId);
    const api = (url: string) => admin.server.inject({ method: 'POST', url, headers: admin.auth });
    const viaApi = await api(`/api/orders/${none.id}/cancel-request/dismiss`);
    expect(viaApi.statusCode).toBe(200);
    expect(viaApi.json()).toEqual({ orderId: none.id, dismissed: true });
    expect((await orderOf(none.externalId)).cancel_request_dismissed_at).not.toBeNull();
    expect((await api(`/api/orders/${none.id}/cancel-request/dismiss`)).statusCode).toBe(409);
    expect((await api('/api/orders/999999999/cancel-request/dismiss')).statusCode).toBe(404);
  }, 60_000);
});
