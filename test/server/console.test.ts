/**
 * The operations console's pages and forms, through the HTTP server: find an
 * order by number, e-mail, SKU or tracking number; page through every order
 * once; an order's story and the steps a person confirms there; retry a failed
 * push; record a return once; receive a purchase order and see the backorder
 * allocated; stock warnings and a SKU's movements; cancel an order from its
 * page (against the Shopify simulator), once. Refusals are named on the page
 * with a 4xx, never a 500.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { adminServer } from '../helpers/admin-server.ts';
import { allocateOrder } from '../../src/fulfilment/allocate.ts';
import { addChannel } from '../../src/db/channels.ts';
import { syncOrders } from '../../jobs/sync-orders.ts';
import { runPush } from '../../jobs/channel-push.ts';
import { connectorFactory } from '../../connectors/index.ts';
import type { ChannelSimulator } from '../../connectors/types.ts';
import type { ShopifySimulator } from '../../connectors/shopify/simulator/index.ts';
import { line, order } from '../helpers/orders.ts';
import { addFakeChannel } from './fake-channel.ts';
import { channel, location, placeOrder, sku, stock, supplier } from '../fulfilment/fixtures.ts';
import { shipOrder } from './seed.ts';
import { decodeCursor, encodeCursor, listOrders } from '../../src/server/admin/order-list.ts';

const TOKEN = 'console-pages-token-0123456789abcdef';
const admin = adminServer(TOKEN);
const auth = { authorization: `Bearer ${TOKEN}` };

const get = (url: string) => admin.server.inject({ url, headers: auth });
const post = (url: string, form: Record<string, string> = {}) =>
  admin.server.inject({ method: 'POST', url, headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(form).toString() });

/** Order ids in the page's order table, top to bottom. */
const listed = (html: string) => [...html.matchAll(/<tr data-order="(\d+)">/g)].map((m) => Number(m[1]));

describe('the operations console', () => {
  it('finds an order by its number, e-mail, SKU or tracking number, and filters by channel, state and attention', async () => {
    const { app } = admin.t;
    const shop = await channel(app, 'find-shop');
    const other = await channel(app, 'find-other');
    await sku(app, 'FIND-MUG');
    await sku(app, 'FIND-CUP');
    const a = await placeOrder(app, shop, [['FIND-MUG', 1]], { orderNumber: '#7001', customer: { externalId: 'C7001', email: 'Ada.Lovelace@example.com', firstName: 'Ada', lastName: 'Lovelace', phone: null } });
    const b = await placeOrder(app, other, [['FIND-CUP', 2]], { orderNumber: '#7002', customer: { externalId: 'C7002', email: 'grace@example.com', firstName: 'Grace', lastName: 'Hopper', phone: null } });
    const { shipmentId } = await shipOrder(app, b, { trackingNumber: 'TRACK-FIND-1' });
    await app.db.updateTable('orders').set({ flags: ['address_unverified'] }).where('id', '=', a).execute();

    expect(listed((await get('/admin/orders?q=7001')).body)).toEqual([a]);
    expect(listed((await get('/admin/orders?q=%237002')).body)).toEqual([b]);
    expect(listed((await get('/admin/orders?q=ada.love')).body)).toEqual([a]);
    expect(listed((await get('/admin/orders?q=FIND-CUP')).body)).toEqual([b]);
    expect(listed((await get('/admin/orders?q=TRACK-FIND-1')).body)).toEqual([b]);
    expect(listed((await get(`/admin/orders?q=70&channel=${other}`)).body)).toEqual([b]);
    expect(listed((await get('/admin/orders?q=70&state=shipped')).body)).toEqual([b]);
    expect(listed((await get('/admin/orders?q=70&attention=1')).body)).toEqual([a]);
    const none = await get('/admin/orders?q=nothing-like-this');
    expect(none.statusCode).toBe(200);
    expect(none.body).toContain('No orders match');

    // A failed push puts its order on the "needs attention" list too.
    await app.db.updateTable('channel_pushes').set({ status: 'failed', last_error: 'HTTP 503' }).where('kind', '=', 'fulfillment').where('target', '=', String(shipmentId)).execute();
    expect(listed((await get('/admin/orders?q=70&attention=1')).body).sort()).toEqual([a, b].sort());
    expect((await get('/admin/orders?q=7002')).body).toContain('1 failed push');

    // Hostile input is named with a 400, never a 500.
    for (const url of ['/admin/orders?q=%00', '/admin/stock/A%00B', '/admin/orders?to=9999-12-31', '/admin/orders?q=' + 'x'.repeat(201), '/admin/stock?only=everything']) {
      expect((await get(url)).statusCode, url).toBe(400);
    }
    expect((await post(`/admin/orders/${a}/returns`, { qty_1: '1\u0000' })).statusCode).toBe(400);
    expect((await get('/admin/orders?after=not-a-cursor')).statusCode).toBe(200);
    const bad = await get('/admin/orders?from=yesterday&state=lost');
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/Cannot filter by that: .*state/);
  });

  it('pages through every order once, newest first, however many share a placed time', async () => {
    const { app } = admin.t;
    const ch = await channel(app, 'paging-shop');
    const placedAt = new Date('2026-01-02T03:04:05Z');
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) ids.push(await placeOrder(app, ch, [['PAGE-SKU', 1]], { placedAt, updatedAt: placedAt }));
    for (let i = 0; i < 5; i++) ids.push(await placeOrder(app, ch, [['PAGE-SKU', 1]], { minutesAgo: 5 - i }));
    const seen = listed((await get(`/admin/orders?channel=${ch}`)).body);
    expect(seen).toEqual([...ids.slice(7).reverse(), ...ids.slice(0, 7).reverse()]);

    // Pages of 3 through the cursor the "Older orders" link carries: each order once, ties on placed_at broken by id.
    const all: number[] = [];
    let after = undefined as ReturnType<typeof decodeCursor>;
    for (;;) {
      const page = await listOrders(app, { channelId: ch, limit: 3, after });
      all.push(...page.rows.map((r) => r.id));
      if (!page.next) break;
      after = decodeCursor(encodeCursor(page.next));
    }
    expect(all).toEqual(seen);
  });

  it("tells an order's story and confirms its steps from the page, as the CLI would", async () => {
    const { app } = admin.t;
    const ch = await channel(app, 'story-shop');
    const loc = await location(app, 'ST', 1);
    const mug = await sku(app, 'STORY-MUG');
    await stock(app, mug, loc, 5);
    const id = await placeOrder(app, ch, [['STORY-MUG', 2]], { orderNumber: '#8001' });
    await allocateOrder(app, id, { actor: 'test' });
    const f = await app.db.selectFrom('fulfillments').select('id').where('order_id', '=', id).executeTakeFirstOrThrow();

    const page = await get(`/admin/orders/${id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Order #8001');
    expect(page.body).toContain('href="/admin/stock/STORY-MUG"');
    expect(page.body).toMatch(/id="timeline"[\s\S]*Placed[\s\S]*allocated[\s\S]*by test/);
    expect(page.body).toContain(`action="/admin/orders/${id}/fulfilments/${f.id}/pick"`);
    expect(page.body).toMatch(/<details><summary>Channel payload/);

    // Packing before picking is refused with the state machine's reason, on the page.
    const early = await post(`/admin/orders/${id}/fulfilments/${f.id}/pack`);
    expect(early.statusCode).toBe(409);
    expect(early.body).toMatch(/role="alert">[^<]*allocated/);

    for (const step of ['pick', 'pack'] as const) {
      const res = await post(`/admin/orders/${id}/fulfilments/${f.id}/${step}`);
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`/admin/orders/${id}?done=${step === 'pick' ? 'picked' : 'packed'}`);
    }
    const half = await post(`/admin/orders/${id}/fulfilments/${f.id}/ship`, { carrier: 'UPS', tracking: '' });
    expect(half.statusCode).toBe(400);
    const shipped = await post(`/admin/orders/${id}/fulfilments/${f.id}/ship`, { carrier: 'UPS', tracking: '1Z999AA10123456784' });
    expect(shipped.statusCode).toBe(303);
    const after = (await get(`/admin/orders/${id}?done=shipped`)).body;
    expect(after).toContain('Shipped: the channel is told in the background');
    expect(after).toMatch(/<a href="https:\/\/[^"]*1Z999AA10123456784[^"]*"[^>]*>1Z999AA10123456784<\/a>/);
    const history = await app.db.selectFrom('order_history').select(['actor', 'to_state']).where('fulfillment_id', '=', f.id).orderBy('id').execute();
    expect(history.filter((h) => h.actor === 'admin').map((h) => h.to_state)).toEqual(['picking', 'packed', 'shipped']);

    // A fulfilment of another order is not this page's to move.
    const stranger = await placeOrder(app, ch, [['STORY-MUG', 1]]);
    expect((await post(`/admin/orders/${stranger}/fulfilments/${f.id}/pick`)).statusCode).toBe(404);
    expect((await get('/admin/orders/not-a-number')).statusCode).toBe(404);
    expect((await get('/admin/orders/999999999')).statusCode).toBe(404);

    // A return from the page, submitted twice (a double click): one return, restocked.
    const line = await app.db.selectFrom('order_lines').select('id').where('order_id', '=', id).executeTakeFirstOrThrow();
    const form = /name="reference" value="([^"]+)"/.exec((await get(`/admin/orders/${id}`)).body)![1]!;
    for (let i = 0; i < 2; i++) {
      const r = await post(`/admin/orders/${id}/returns`, { reference: form, [`qty_${line.id}`]: '1', restock: '1', reason: 'too big' });
      expect(r.statusCode).toBe(303);
    }
    expect(await app.db.selectFrom('returns').select('id').where('order_id', '=', id).execute()).toHaveLength(1);
    const tooMany = await post(`/admin/orders/${id}/returns`, { [`qty_${line.id}`]: '5' });
    expect(tooMany.statusCode).toBe(409);
    expect((await post(`/admin/orders/${id}/returns`, { [`qty_${line.id}`]: 'two' })).statusCode).toBe(400);
  });

  it('retries a failed push from the order page, and only a push of that order', async () => {
    const { app } = admin.t;
    const ch = await channel(app, 'retry-shop');
    const id = await placeOrder(app, ch, [['RETRY-MUG', 1]]);
    const { pushId } = await shipOrder(app, id);
    await app.db.updateTable('channel_pushes').set({ status: 'failed', last_error: 'Shopify answered 503 Service Unavailable' }).where('id', '=', pushId).execute();
    const page = (await get(`/admin/orders/${id}`)).body;
    expect(page).toContain('Shopify answered 503 Service Unavailable');
    expect(page).toContain(`action="/admin/orders/${id}/pushes/${pushId}/retry"`);

    const other = await placeOrder(app, ch, [['RETRY-MUG', 1]]);
    expect((await post(`/admin/orders/${other}/pushes/${pushId}/retry`)).statusCode).toBe(404);

    const res = await post(`/admin/orders/${id}/pushes/${pushId}/retry`);
    expect(res.statusCode).toBe(303);
    expect((await app.db.selectFrom('channel_pushes').select('status').where('id', '=', pushId).executeTakeFirstOrThrow()).status).toBe('pending');
    // Twice: the push is not failed any more, and the page says so.
    const again = await post(`/admin/orders/${id}/pushes/${pushId}/retry`);
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain('only failed pushes can be retried');
  });

  it('shows what waits for a purchase order, receives it from the page, and the backorder gets the stock', async () => {
    const { app } = admin.t;
    const ch = await channel(app, 'po-shop');
    const loc = await location(app, 'PO', 0);
    const sup = await supplier(app, 'Cups Ltd', { leadTimeDays: 2 });
    const cup = await sku(app, 'PO-CUP', { supplierId: sup });
    await stock(app, cup, loc, 1);
    const first = await placeOrder(app, ch, [['PO-CUP', 1]], { orderNumber: '#9000', minutesAgo: 10 });
    await allocateOrder(app, first, { actor: 'test' });
    const waiting = await placeOrder(app, ch, [['PO-CUP', 3]], { orderNumber: '#9001' });
    expect((await allocateOrder(app, waiting, { actor: 'test' })).outcome).toBe('backordered');
    const po = await app.db
      .selectFrom('purchase_orders')
      .innerJoin('purchase_order_lines', 'purchase_order_lines.purchase_order_id', 'purchase_orders.id')
      .select('purchase_orders.id')
      .where('purchase_order_lines.sku_id', '=', cup)
      .executeTakeFirstOrThrow();

    const stockPage = (await get('/admin/stock?only=out&sku=PO-')).body;
    expect(stockPage).toMatch(/data-sku="PO-CUP"[\s\S]*out of stock[\s\S]*>3<\/a>/);

    const list = (await get('/admin/purchase-orders')).body;
    expect(list).toMatch(new RegExp(`id="po-${po.id}"[\\s\\S]*Waiting for it:[\\s\\S]*href="/admin/orders/${waiting}">#9001`));
    expect((await post(`/admin/purchase-orders/${po.id}/send`, { expected: 'soon' })).statusCode).toBe(400);

    const received = await post(`/admin/purchase-orders/${po.id}/receive`);
    expect(received.statusCode).toBe(303);
    expect(received.headers.location).toBe(`/admin/purchase-orders?done=received-${po.id}-1`);
    expect((await app.db.selectFrom('orders').select('state').where('id', '=', waiting).executeTakeFirstOrThrow()).state).toBe('allocated');
    const again = await post(`/admin/purchase-orders/${po.id}/receive`);
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain('received already');

    const skuPage = (await get('/admin/stock/PO-CUP')).body;
    expect(skuPage).toMatch(/id="movements"[\s\S]*receipt[\s\S]*po:\d+[\s\S]*admin[\s\S]*\+3/);
    expect((await get('/admin/stock/NO-SUCH-SKU')).statusCode).toBe(404);
  });

  it('cancels an unshipped order from its page once, as the CLI would, and refuses a shipped one without changing it', async () => {
    const { app } = admin.t;
    const sim = (await connectorFactory('shopify').simulate({ orders: 0, log: pino({ level: 'silent' }) })) as ChannelSimulator & ShopifySimulator;
    try {
      const ch = await addChannel(app.db, app.config.secretKey!, { kind: 'shopify', name: 'cancel-shop', ...sim.channelConfig() });
      await sim.createProduct({ sku: 'CXL-MUG', title: 'Mug', price: '12.50', stock: 10 });
      const loc = await location(app, 'CXL', 1);
      const mug = await sku(app, 'CXL-MUG');
      await stock(app, mug, loc, 5);
      const open = await sim.createOrder({ lines: [{ sku: 'CXL-MUG', quantity: 2 }] });
      const gone = await sim.createOrder({ lines: [{ sku: 'CXL-MUG', quantity: 1 }] });
      const stuck = await sim.createOrder({ lines: [{ sku: 'CXL-MUG', quantity: 1 }] });
      await syncOrders(app, ch);
      const idOf = async (ext: string) => (await app.db.selectFrom('orders').select('id').where('channel_id', '=', ch).where('external_id', '=', ext).executeTakeFirstOrThrow()).id;
      const id = await idOf(open.externalId);
      const shippedId = await idOf(gone.externalId);
      await allocateOrder(app, id, { actor: 'test' });
      const reserved = async () => (await app.db.selectFrom('stock_levels').select('reserved').where('sku_id', '=', mug).where('location_id', '=', loc).executeTakeFirstOrThrow()).reserved;
      expect(await reserved()).toBe(2);
      const cancelPushes = () => app.db.selectFrom('channel_pushes').select(['id', 'status']).where('channel_id', '=', ch).where('kind', '=', 'cancel').execute();

      const page = (await get(`/admin/orders/${id}`)).body;
      expect(page).toContain(`<form method="post" action="/admin/orders/${id}/cancel"`);
      expect(page).toMatch(/<input type="checkbox" name="confirm" value="1" required>/);

      // The confirmation step: no ticked box, or no reason, cancels nothing.
      const unconfirmed = await post(`/admin/orders/${id}/cancel`, { reason: 'customer asked' });
      expect(unconfirmed.statusCode).toBe(400);
      expect(unconfirmed.body).toMatch(/role="alert">tick “Yes, cancel it” to confirm/);
      expect((await post(`/admin/orders/${id}/cancel`, { reason: '  ', confirm: '1' })).statusCode).toBe(400);
      expect((await post(`/admin/orders/${id}/cancel`, { reason: 'x'.repeat(501), confirm: '1' })).statusCode).toBe(400);
      // Another site cannot make a signed-in browser send it (the session cookie with a foreign Origin).
      const login = await admin.server.inject({ method: 'POST', url: '/admin/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ token: TOKEN }).toString() });
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      const forged = await admin.server.inject({
        method: 'POST',
        url: `/admin/orders/${id}/cancel`,
        headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ reason: 'forged', confirm: '1' }).toString(),
      });
      expect(forged.statusCode).toBe(403);
      expect(await reserved()).toBe(2);
      expect(await cancelPushes()).toEqual([]);

      const done = await post(`/admin/orders/${id}/cancel`, { reason: 'customer asked', confirm: '1' });
      expect(done.statusCode).toBe(303);
      expect(done.headers.location).toBe(`/admin/orders/${id}?done=cancelled`);
      expect((await app.db.selectFrom('orders').select('state').where('id', '=', id).executeTakeFirstOrThrow()).state).toBe('cancelled');
      expect(await reserved()).toBe(0);
      const [push, ...more] = await cancelPushes();
      expect(more).toEqual([]);
      const history = await app.db.selectFrom('order_history').select(['actor', 'reason']).where('order_id', '=', id).where('fulfillment_id', 'is', null).where('to_state', '=', 'cancelled').execute();
      expect(history).toEqual([{ actor: 'admin', reason: 'cancelled in channelsync: customer asked' }]);

      const after = (await get(`/admin/orders/${id}?done=cancelled`)).body;
      expect(after).toContain('Cancelled: its stock is released');
      expect(after).toMatch(/id="timeline"[\s\S]*→ cancelled \(cancelled in channelsync: customer asked\) <span class="muted">by admin/);
      expect(after).toMatch(new RegExp(`<tr data-push="${push!.id}"><td>${push!.id}</td><td>cancel[\\s\\S]*?in the queue`));
      expect(after).not.toContain('id="cancel-form"');

      // A second submit (a double click, the back button) changes nothing and says so.
      const again = await post(`/admin/orders/${id}/cancel`, { reason: 'again', confirm: '1' });
      expect(again.statusCode).toBe(409);
      expect(again.body).toContain('cancelled already: nothing changed');
      expect(await cancelPushes()).toHaveLength(1);
      expect(await app.db.selectFrom('order_history').select('id').where('order_id', '=', id).where('to_state', '=', 'cancelled').where('reason', 'like', '%again%').execute()).toEqual([]);

      // The push cancels it on the channel once; the page shows it done.
      await expect(runPush(app, { pushId: push!.id })).resolves.toEqual({ outcome: 'done' });
      expect(sim.state.orders.get(Number(open.externalId.split('/').pop()))!.cancelledAt).not.toBeNull();
      const told = (await get(`/admin/orders/${id}`)).body;
      expect(told).toMatch(new RegExp(`<tr data-push="${push!.id}">[\\s\\S]*?<span class="state ok">done</span>`));
      expect(told).toMatch(/id="timeline"[\s\S]*Pushed cancel to cancel-shop/);

      // A shipped order: no form, the reason instead; a forced submit is refused with 409 and changes nothing.
      await shipOrder(app, shippedId);
      const before = await app.db.selectFrom('orders').select(['state', 'updated_at']).where('id', '=', shippedId).executeTakeFirstOrThrow();
      const shippedPage = (await get(`/admin/orders/${shippedId}`)).body;
      expect(shippedPage).not.toContain('id="cancel-form"');
      expect(shippedPage).toMatch(/id="cancel-blocked">[^<]*1 shipment already: record a return instead/);
      const refused = await post(`/admin/orders/${shippedId}/cancel`, { reason: 'too late', confirm: '1' });
      expect(refused.statusCode).toBe(409);
      expect(refused.body).toMatch(/role="alert">[^<]*record a return instead of cancelling/);
      expect(await app.db.selectFrom('orders').select(['state', 'updated_at']).where('id', '=', shippedId).executeTakeFirstOrThrow()).toEqual(before);
      expect(await cancelPushes()).toHaveLength(1);
      expect((await app.db.selectFrom('fulfillments').select('state').where('order_id', '=', shippedId).execute()).map((f) => f.state)).toEqual(['shipped']);

      // An order a person must look at first: the reason instead of the form, and a forced submit is refused.
      const stuckId = await idOf(stuck.externalId);
      await app.db.updateTable('orders').set({ state: 'needs_attention' }).where('id', '=', stuckId).execute();
      expect((await get(`/admin/orders/${stuckId}`)).body).toMatch(/id="cancel-blocked">[^<]*needs attention: resolve that first/);
      expect((await post(`/admin/orders/${stuckId}/cancel`, { reason: 'x', confirm: '1' })).statusCode).toBe(409);
      expect((await app.db.selectFrom('orders').select('state').where('id', '=', stuckId).executeTakeFirstOrThrow()).state).toBe('needs_attention');

      // A channel whose connector cannot cancel: the page says so instead of offering the form.
      const fake = await addFakeChannel(app, 'cannot-cancel');
      fake.state.orders = [order({ externalId: 'fake-cxl-1', lines: [line({ sku: 'CXL-MUG', externalId: 'f1', quantity: 1 })] })];
      await syncOrders(app, fake.channelId);
      const stranded = await app.db.selectFrom('orders').select('id').where('channel_id', '=', fake.channelId).executeTakeFirstOrThrow();
      expect((await get(`/admin/orders/${stranded.id}`)).body).toMatch(/id="cancel-blocked">[^<]*ops-fake channels cannot cancel orders through channelsync: cancel it on cannot-cancel/);
      const forced = await post(`/admin/orders/${stranded.id}/cancel`, { reason: 'x', confirm: '1' });
      expect(forced.statusCode).toBe(409);
      expect(forced.body).toMatch(/role="alert">ops-fake channels cannot cancel orders through channelsync/);
      expect((await post(`/admin/orders/999999999/cancel`, { reason: 'x', confirm: '1' })).statusCode).toBe(404);
    } finally {
      await sim.close();
    }
  });

  it('answers 401 to every console page and form without credentials', async () => {
    const res = await admin.server.inject({ method: 'POST', url: '/admin/purchase-orders/1/receive' });
    expect(res.statusCode).toBe(401);
    expect((await admin.server.inject({ method: 'POST', url: '/admin/orders/1/cancel', payload: 'reason=x&confirm=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).statusCode).toBe(401);
    expect((await admin.server.inject({ url: '/admin/orders' })).statusCode).toBe(401);
  });
});
