/**
 * The admin API: filters, order detail, push retries, stock, drift, channels,
 * fulfilment steps, validation errors, and the OpenAPI file matching the routes.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { line, order } from '../helpers/orders.ts';
import { buildServer } from '../../src/server/index.ts';
import { registeredRoutes } from '../../src/server/admin/routes.ts';
import { DOCS_PATH, OPENAPI_PATH } from '../../src/server/admin/api/index.ts';
import { syncOrders } from '../../jobs/sync-orders.ts';
import { addFakeChannel } from './fake-channel.ts';
import { shipOrder } from './seed.ts';

const TOKEN = 'api-test-token-0123456789abcdef';

describe('admin API', () => {
  let t: TestApp;
  let server: FastifyInstance;
  let shopA: number;
  let shopB: number;
  const api = async (opts: InjectOptions | string) => {
    const o = typeof opts === 'string' ? { url: opts } : opts;
    return server.inject({ ...o, headers: { authorization: `Bearer ${TOKEN}`, ...(o.headers ?? {}) } });
  };
  const ids = (res: { json(): { items: Array<{ id: number }> } }) => res.json().items.map((i) => i.id);

  beforeAll(async () => {
    t = await createTestApp({ ADMIN_TOKEN: TOKEN });
    server = await buildServer(t.app);
    const a = await addFakeChannel(t.app, 'shop-a');
    const b = await addFakeChannel(t.app, 'shop-b');
    shopA = a.channelId;
    shopB = b.channelId;
    a.state.orders = [
      order({ externalId: 'A1', orderNumber: '#1001', placedAt: new Date('2026-11-01T10:00:00Z'), customer: { externalId: 'C1', email: 'ada@example.com', firstName: 'Ada', lastName: 'L', phone: null } }),
      order({ externalId: 'A2', orderNumber: '#1002', placedAt: new Date('2026-11-02T10:00:00Z'), lines: [line({ sku: 'MUG-RED', externalId: 'L2' })] }),
    ];
    b.state.orders = [order({ externalId: 'B1', orderNumber: '#2001', placedAt: new Date('2026-11-03T10:00:00Z') })];
    // Stock first, so the synced lines know their SKU (allocation needs it).
    const loc = await t.app.db.insertInto('locations').values({ code: 'MAIN', name: 'Main' }).returning('id').executeTakeFirstOrThrow();
    const sku = await t.app.db.insertInto('skus').values({ sku: 'MUG-BLUE', title: 'Blue Mug' }).returning('id').executeTakeFirstOrThrow();
    await t.app.db.insertInto('stock_movements').values({ sku_id: sku.id, location_id: loc.id, on_hand_delta: 10, reason: 'receipt', reference: 'po:1' }).execute();
    await syncOrders(t.app, shopA);
    await syncOrders(t.app, shopB);
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  it('lists orders filtered by channel (id or name), status, date and number', async () => {
    expect((await api('/api/orders')).json().items).toHaveLength(3);
    expect((await api(`/api/orders?channel=${shopA}`)).json().items.map((o: { order_number: string }) => o.order_number)).toEqual(['#1002', '#1001']);
    expect((await api('/api/orders?channel=shop-b')).json().items).toHaveLength(1);
    expect((await api('/api/orders?from=2026-11-02&to=2026-11-03')).json().items.map((o: { order_number: string }) => o.order_number)).toEqual(['#1002']);
    expect((await api('/api/orders?q=%231001')).json().items).toHaveLength(1);
    expect((await api('/api/orders?q=ada@')).json().items).toHaveLength(3);
    expect((await api('/api/orders?status=received,allocated')).json().items).toHaveLength(3);
    expect((await api('/api/orders?status=shipped')).json().items).toHaveLength(0);
    const first = await api('/api/orders?limit=2');
    expect(first.json().items).toHaveLength(2);
    const second = await api(`/api/orders?limit=2&before=${first.json().next}`);
    expect(second.json()).toMatchObject({ next: null });
    expect(second.json().items).toHaveLength(1);
  });

  it('refuses bad input with 400 naming the field', async () => {
    const bad = await api('/api/orders?status=lost&from=yesterday&limit=0');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(/status/);
    expect(bad.json().issues.map((i: { field: string }) => i.field.split('.')[0]).sort()).toEqual(['from', 'limit', 'status']);
    expect((await api('/api/orders?channel=nope')).statusCode).toBe(400);
    expect((await api('/api/orders/abc')).statusCode).toBe(400);
    expect((await api('/api/orders/999999')).statusCode).toBe(404);
    const extra = await api({ method: 'POST', url: '/api/pushes/retry-failed', payload: { everything: true } });
    expect(extra.statusCode).toBe(400);
  });

  it('shows one order with lines, fulfilments, shipments, pushes and history; retries its failed push', async () => {
    const orderId = ids(await api('/api/orders?q=%231001'))[0]!;
    const shipped = await shipOrder(t.app, orderId, { trackingNumber: 'TRK-API-1' });
    await t.app.db.updateTable('channel_pushes').set({ status: 'failed', last_error: 'HTTP 503' }).where('id', '=', shipped.pushId).execute();

    const detail = (await api(`/api/orders/${orderId}`)).json();
    expect(detail).toMatchObject({ id: orderId, order_number: '#1001', channel_name: 'shop-a', state: 'shipped', raw_available: true });
    expect(detail.raw).toBeUndefined();
    expect(detail.lines).toHaveLength(1);
    expect(detail.fulfillments[0].lines).toHaveLength(1);
    expect(detail.shipments[0]).toMatchObject({ tracking_number: 'TRK-API-1', carrier: 'DHL' });
    expect(detail.pushes).toEqual([expect.objectContaining({ id: shipped.pushId, kind: 'fulfillment', status: 'failed', last_error: 'HTTP 503' })]);
    expect(detail.history.map((h: { to_state: string }) => h.to_state)).toContain('shipped');
    expect((await api(`/api/orders/${orderId}/raw`)).json()).toEqual({ id: 1001 });

    const failed = await api(`/api/pushes?channel=shop-a`);
    expect(ids(failed)).toEqual([shipped.pushId]);
    expect((await api('/api/pushes?channel=shop-b')).json().items).toEqual([]);
    const retried = await api({ method: 'POST', url: `/api/pushes/${shipped.pushId}/retry` });
    expect(retried.statusCode).toBe(202);
    expect((await api(`/api/pushes/${shipped.pushId}`)).json()).toMatchObject({ status: 'pending', last_error: null });
    expect(await t.app.queues.get('channel-push').getJob(`push-fulfillment.${shipped.shipmentId}.${shopA}`)).toBeTruthy();
    const again = await api({ method: 'POST', url: `/api/pushes/${shipped.pushId}/retry` });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatch(/not failed/);

    await t.app.db.updateTable('channel_pushes').set({ status: 'failed' }).where('id', '=', shipped.pushId).execute();
    const all = await api({ method: 'POST', url: '/api/pushes/retry-failed', payload: { channel: 'shop-a' } });
    expect(all.json()).toEqual({ retried: 1, more: false });
  });

  it('shows stock levels, movements and drift, and channels with lag and health', async () => {
    const loc = await t.app.db.selectFrom('locations').select('id').where('code', '=', 'MAIN').executeTakeFirstOrThrow();
    const sku = await t.app.db.selectFrom('skus').select('id').where('sku', '=', 'MUG-BLUE').executeTakeFirstOrThrow();
    await t.app.db.insertInto('stock_movements').values({ sku_id: sku.id, location_id: loc.id, on_hand_delta: -2, reason: 'damage', reference: 'count:1' }).execute();
    expect((await api('/api/stock/levels?sku=MUG-BLUE')).json().items).toEqual([expect.objectContaining({ sku: 'MUG-BLUE', location: 'MAIN', on_hand: 8, reserved: 0, available: 8 })]);
    expect((await api('/api/stock/levels?below=5')).json().items).toEqual([]);
    const movements = (await api('/api/stock/movements?sku=MUG-BLUE')).json().items;
    expect(movements.map((m: { reason: string }) => m.reason)).toEqual(['damage', 'receipt']);
    expect((await api('/api/stock/movements?reason=receipt')).json().items).toHaveLength(1);

    let channels = (await api('/api/channels')).json().items;
    expect(channels.find((c: { id: number }) => c.id === shopA)).toMatchObject({ name: 'shop-a', health: 'ok', stockDriftSkus: null, ordersInFulfilment: 1 });
    expect(channels[0].syncLagSeconds).toBeGreaterThanOrEqual(0);

    await t.app.db.insertInto('reconcile_runs' as never).values({ slot: 's1', finished_at: new Date() } as never).execute();
    await t.app.db.insertInto('stock_drift' as never).values({ channel_id: shopB, sku_id: sku.id, slot: 's1', expected: 8, found: 5 } as never).execute();
    const drift = (await api('/api/stock/drift?open=true')).json().items;
    expect(drift).toEqual([expect.objectContaining({ channel_name: 'shop-b', sku: 'MUG-BLUE', expected: 8, found: 5, difference: -3 })]);
    channels = (await api('/api/channels')).json().items;
    expect(channels.find((c: { id: number }) => c.id === shopB).stockDriftSkus).toBe(1);
    expect(channels.find((c: { id: number }) => c.id === shopA).stockDriftSkus).toBe(0);
    const one = (await api(`/api/channels/${shopB}`)).json();
    expect(one).toMatchObject({ id: shopB, cursors: [expect.objectContaining({ resource: 'orders' })] });
    expect(JSON.stringify(one)).not.toMatch(/credential/i);
  });

  it('takes an order through allocate, pick, pack and ship, refusing moves out of order', async () => {
    const orderId = ids(await api('/api/orders?q=%232001'))[0]!;
    const allocated = await api({ method: 'POST', url: `/api/orders/${orderId}/allocate`, payload: {} });
    expect(allocated.statusCode).toBe(200);
    expect(allocated.json().outcome).toBe('allocated');
    const f = (await api(`/api/fulfilments?order=${orderId}`)).json().items[0];
    expect(f.state).toBe('allocated');
    const early = await api({ method: 'POST', url: `/api/fulfilments/${f.id}/pack`, payload: {} });
    expect(early.statusCode).toBe(409);
    expect((await api({ method: 'POST', url: `/api/fulfilments/${f.id}/pick`, payload: { reason: 'by hand' } })).json().state).toBe('picking');
    expect((await api({ method: 'POST', url: `/api/fulfilments/${f.id}/pack`, payload: { parcels: [{ weightGrams: 400 }] } })).json().state).toBe('packed');
    const noTracking = await api({ method: 'POST', url: `/api/fulfilments/${f.id}/ship`, payload: {} });
    expect(noTracking.statusCode).toBe(400);
    const ship = await api({ method: 'POST', url: `/api/fulfilments/${f.id}/ship`, payload: { carrier: 'DHL', trackingNumber: 'TRK-API-2' } });
    expect(ship.statusCode).toBe(200);
    expect(ship.json()).toMatchObject({ state: 'shipped', created: true });
    const slip = await api(`/api/fulfilments/${f.id}/packing-slip`);
    expect(slip.headers['content-type']).toMatch(/text\/html/);
    const detail = (await api(`/api/orders/${orderId}`)).json();
    expect(detail.pushes).toEqual([expect.objectContaining({ kind: 'fulfillment', target: String(ship.json().shipmentId) })]);
  });

  it('documents every /api route in docs/openapi.json, and nothing more', async () => {
    const doc = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    const registered = registeredRoutes(server)
      // Swagger UI's own assets and copies of the document live under /api/docs/ (documented on /api/docs).
      .filter((r) => r.url.startsWith('/api/') && !r.url.startsWith(`${DOCS_PATH}/`) && r.method !== 'HEAD')
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`)
      .sort();
    expect(registered).toEqual(documented);
    const served = await api('/api/openapi.json');
    expect(served.json().openapi).toBe('3.1.0');
    expect((await api('/api/docs/json')).json()).toEqual(served.json());
    // For a person: Swagger UI, whose assets load behind the same credentials.
    const ui = await api('/api/docs');
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
    expect(ui.body).toMatch(/swagger-ui/i);
    const script = /src="\.?\/?([^"]*swagger-initializer\.js)"/.exec(ui.body)?.[1];
    expect(script).toBeTruthy();
  });
});
