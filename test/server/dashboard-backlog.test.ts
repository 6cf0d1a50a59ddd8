/**
 * The dashboard and GET /api/stock/backlog say what a sold-out shop looks
 * like: orders waiting for stock, the SKUs sold out with the units waiting
 * and on order, and the delivery date once the purchase order is sent; a
 * receipt clears them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminServer } from '../helpers/admin-server.ts';
import { allocateOrder } from '../../src/fulfilment/allocate.ts';
import { receivePurchaseOrder, sendPurchaseOrder } from '../../src/fulfilment/purchasing.ts';
import { channel, location, placeOrder, sku, stock, supplier } from '../fulfilment/fixtures.ts';

const TOKEN = 'dashboard-backlog-token-0123456789';
const admin = adminServer(TOKEN);

const get = (url: string) => admin.server.inject({ url, headers: { authorization: `Bearer ${TOKEN}` } });

describe('stock-outs and backorders on the dashboard', () => {
  it('shows the sold-out SKU, its waiting and ordered units, then nothing once the supplier delivers', async () => {
    const { app } = admin.t;
    const ch = await channel(app, 'backlog');
    const loc = await location(app, 'BL', 1);
    const sup = await supplier(app, 'Mugs Ltd', { leadTimeDays: 3 });
    const mug = await sku(app, 'BL-MUG', { supplierId: sup });
    await stock(app, mug, loc, 1);
    const first = await placeOrder(app, ch, [['BL-MUG', 1]]);
    const second = await placeOrder(app, ch, [['BL-MUG', 2]]);
    await allocateOrder(app, first, { actor: 'test' });
    expect((await allocateOrder(app, second, { actor: 'test' })).outcome).toBe('backordered');

    const backlog = await get('/api/stock/backlog');
    expect(backlog.statusCode).toBe(200);
    expect(backlog.json()).toMatchObject({
      backorderedOrders: 1,
      stockOuts: [{ sku: 'BL-MUG', available: 0, backorderedUnits: 2, onOrder: 2, nextDeliveryAt: null }],
      purchaseOrders: { draft: 1, sent: 0 },
    });
    const page = (await get('/admin')).body;
    expect(page).toMatch(/id="backordered"><span class="muted">Backordered orders<\/span><b class="bad"><a class="bad" href="\/admin\/orders\?state=backordered">1<\/a><\/b>/);
    expect(page).toMatch(/id="stock-out-list"[\s\S]*BL-MUG[\s\S]*not sent yet/);

    const po = await app.db.selectFrom('purchase_orders').select('id').where('status', '=', 'draft').executeTakeFirstOrThrow();
    const due = new Date(Date.now() + 3_600_000);
    await sendPurchaseOrder(app, po.id, { expectedAt: due, topUp: new Map([[mug, 10]]) });
    await expect(sendPurchaseOrder(app, po.id, { expectedAt: due })).rejects.toThrow(/only a draft stock order can be sent/);
    expect((await get('/api/stock/backlog')).json()).toMatchObject({
      stockOuts: [{ sku: 'BL-MUG', onOrder: 12, nextDeliveryAt: due.toISOString() }],
      purchaseOrders: { draft: 0, sent: 1 },
    });

    const received = await receivePurchaseOrder(app, po.id, { actor: 'test' });
    expect(received.received).toEqual({ 'BL-MUG': 12 });
    expect(received.allocated.map((a) => a.orderId)).toEqual([second]);
    expect((await get('/api/stock/backlog')).json()).toEqual({ backorderedOrders: 0, backorderedFulfilments: 0, stockOuts: [], purchaseOrders: { draft: 0, sent: 0 } });
    expect((await get('/admin')).body).toContain('Every SKU with stock has some available.');
  });
});
