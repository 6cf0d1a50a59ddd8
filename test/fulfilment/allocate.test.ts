import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { allocateOrder } from '../../src/fulfilment/allocate.ts';
import { listPurchaseOrders, receivePurchaseOrder } from '../../src/fulfilment/purchasing.ts';
import { packFulfilment, pickList, startPicking } from '../../src/fulfilment/pickpack.ts';
import { shipFulfilment } from '../../src/fulfilment/ship.ts';
import { channel, ledgerMismatches, level, location, orderState, placeOrder, sku, stock, supplier } from './fixtures.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

describe('50 orders racing for 10 units', () => {
  it('reserves exactly 10, backorders 40 onto one draft purchase order, and receipts serve the oldest first', async () => {
    const { app } = t;
    const ch = await channel(app, 'race');
    const loc = await location(app, 'RACE', 10);
    const acme = await supplier(app, 'Acme', { leadTimeDays: 5 });
    const widget = await sku(app, 'WIDGET', { supplierId: acme });
    await stock(app, widget, loc, 10);
    // Oldest first: order i was placed (50 - i) minutes ago.
    const orders: number[] = [];
    for (let i = 0; i < 50; i++) orders.push(await placeOrder(app, ch, [['WIDGET', 1]], { minutesAgo: 50 - i }));

    const outcomes = await Promise.all(orders.map((id) => allocateOrder(app, id, { actor: 'test' })));
    expect(outcomes.filter((o) => o.outcome === 'allocated')).toHaveLength(10);
    expect(outcomes.filter((o) => o.outcome === 'backordered')).toHaveLength(40);
    expect(await level(app, widget, loc)).toEqual({ on_hand: 10, reserved: 10 });

    const backordered = await app.db
      .selectFrom('fulfillment_lines')
      .innerJoin('fulfillments', 'fulfillments.id', 'fulfillment_lines.fulfillment_id')
      .select(['fulfillments.order_id', 'fulfillment_lines.quantity'])
      .where('fulfillments.state', '=', 'backordered')
      .execute();
    expect(backordered).toHaveLength(40);

    const pos = await listPurchaseOrders(app.db, 'draft');
    expect(pos).toHaveLength(1);
    expect(pos[0]!.supplier).toBe('Acme');
    expect(pos[0]!.lines).toEqual([{ sku: 'WIDGET', quantity: 40, received: 0 }]);
    const days = (pos[0]!.expectedAt!.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(4.9);
    expect(days).toBeLessThan(5.1);

    // Allocating again changes nothing (idempotent).
    await Promise.all(orders.map((id) => allocateOrder(app, id, { actor: 'test' })));
    expect(await level(app, widget, loc)).toEqual({ on_hand: 10, reserved: 10 });

    // 15 arrive: the 15 oldest waiting orders get them, nobody else.
    const waitingOldestFirst = orders.filter((id) => backordered.some((b) => b.order_id === id));
    const first = await receivePurchaseOrder(app, pos[0]!.id, { actor: 'cli:ada' }, { WIDGET: 15 });
    expect(first.status).toBe('partially_received');
    expect(first.allocated.map((a) => a.orderId)).toEqual(waitingOldestFirst.slice(0, 15));
    for (const id of waitingOldestFirst.slice(0, 15)) expect(await orderState(app, id)).toBe('allocated');
    for (const id of waitingOldestFirst.slice(15)) expect(await orderState(app, id)).toBe('backordered');

    const rest = await receivePurchaseOrder(app, pos[0]!.id, { actor: 'cli:ada' });
    expect(rest.status).toBe('received');
    expect(rest.allocated.map((a) => a.orderId)).toEqual(waitingOldestFirst.slice(15));
    expect(await level(app, widget, loc)).toEqual({ on_hand: 50, reserved: 50 });
    await expect(receivePurchaseOrder(app, pos[0]!.id, { actor: 'cli:ada' })).rejects.toThrow(/received already/);

    // The pick list batches all 50 by SKU.
    const list = await pickList(app.db, loc);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ location: 'RACE', sku: 'WIDGET', quantity: 50 });

    // Ship the backorders in the order they were served: shipments follow the oldest first.
    for (const a of [...first.allocated, ...rest.allocated]) {
      await startPicking(app, a.fulfilmentId, { actor: 'test' });
      await packFulfilment(app, a.fulfilmentId, [{ weightGrams: 300, lengthCm: null, widthCm: null, heightCm: null }], { actor: 'test' });
      await shipFulfilment(app, a.fulfilmentId, { adapter: 'simulated' }, { actor: 'test' });
    }
    const shipped = await app.db
      .selectFrom('shipments')
      .innerJoin('fulfillments', 'fulfillments.id', 'shipments.fulfillment_id')
      .select(['fulfillments.order_id'])
      .orderBy('shipments.id')
      .execute();
    expect(shipped.map((s) => s.order_id)).toEqual(waitingOldestFirst);
    for (const id of waitingOldestFirst) expect(await orderState(app, id)).toBe('shipped');
    expect(await level(app, widget, loc)).toEqual({ on_hand: 10, reserved: 10 });
    expect(await ledgerMismatches(app)).toEqual([]);
  });
});

describe('split across locations', () => {
  it('prefers one location that has everything, by priority', async () => {
    const { app } = t;
    const ch = await channel(app, 'prefer');
    const near = await location(app, 'NEAR', 1);
    const far = await location(app, 'FAR', 2);
    const a = await sku(app, 'PREF-A');
    const b = await sku(app, 'PREF-B');
    await stock(app, a, near, 5);
    await stock(app, a, far, 5);
    await stock(app, b, far, 5);
    const orderId = await placeOrder(app, ch, [['PREF-A', 1], ['PREF-B', 1]]);
    await allocateOrder(app, orderId, { actor: 'test' });
    const fs = await app.db.selectFrom('fulfillments').select(['location_id', 'state']).where('order_id', '=', orderId).execute();
    expect(fs).toEqual([{ location_id: far, state: 'allocated' }]);
    expect(await level(app, a, near)).toEqual({ on_hand: 5, reserved: 0 });
  });

  it('splits an order two locations share into two fulfilments and two shipments, each with its own lines', async () => {
    const { app } = t;
    const ch = await channel(app, 'split');
    const east = await location(app, 'EAST', 1);
    const west = await location(app, 'WEST', 2);
    const lamp = await sku(app, 'LAMP');
    const rug = await sku(app, 'RUG');
    await stock(app, lamp, east, 3);
    await stock(app, rug, west, 3);
    const orderId = await placeOrder(app, ch, [['LAMP', 2], ['RUG', 1]]);
    expect((await allocateOrder(app, orderId, { actor: 'test' })).outcome).toBe('allocated');

    const fs = await app.db.selectFrom('fulfillments').select(['id', 'location_id']).where('order_id', '=', orderId).orderBy('id').execute();
    expect(fs.map((f) => f.location_id)).toEqual([east, west]);
    const shipmentIds: number[] = [];
    for (const f of fs) {
      await startPicking(app, f.id, { actor: 'test' });
      await packFulfilment(app, f.id, [{ weightGrams: 1000, lengthCm: 30, widthCm: 30, heightCm: 30 }], { actor: 'test' });
      shipmentIds.push((await shipFulfilment(app, f.id, { adapter: 'simulated' }, { actor: 'test' })).shipmentId);
      if (shipmentIds.length === 1) expect(await orderState(app, orderId)).toBe('partially_shipped');
    }
    expect(await orderState(app, orderId)).toBe('shipped');

    const lines = await app.db
      .selectFrom('shipment_lines')
      .innerJoin('order_lines', 'order_lines.id', 'shipment_lines.order_line_id')
      .select(['shipment_id', 'order_lines.sku', 'shipment_lines.quantity'])
      .where('shipment_id', 'in', shipmentIds)
      .orderBy('shipment_id')
      .execute();
    expect(lines).toEqual([
      { shipment_id: shipmentIds[0], sku: 'LAMP', quantity: 2 },
      { shipment_id: shipmentIds[1], sku: 'RUG', quantity: 1 },
    ]);
    const pushes = await app.db.selectFrom('channel_pushes').select(['kind', 'target', 'status']).where('channel_id', '=', ch).where('kind', '=', 'fulfillment').orderBy('id').execute();
    expect(pushes).toEqual(shipmentIds.map((id) => ({ kind: 'fulfillment', target: String(id), status: 'pending' })));
    const tracking = await app.db.selectFrom('shipments').select(['carrier', 'tracking_number', 'tracking_url']).where('id', 'in', shipmentIds).execute();
    for (const s of tracking) expect(s.tracking_url).toContain(encodeURIComponent(s.tracking_number));
    expect(await level(app, lamp, east)).toEqual({ on_hand: 1, reserved: 0 });
    expect(await level(app, rug, west)).toEqual({ on_hand: 2, reserved: 0 });

    // Shipping again returns the same shipment and owes no second push.
    const again = await shipFulfilment(app, fs[0]!.id, { adapter: 'simulated' }, { actor: 'test' });
    expect(again).toMatchObject({ shipmentId: shipmentIds[0], created: false });
    expect(await app.db.selectFrom('channel_pushes').select('id').where('channel_id', '=', ch).execute()).toHaveLength(2);
    expect(await ledgerMismatches(app)).toEqual([]);
  });
});
