import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { allocateOrder } from '../../src/fulfilment/allocate.ts';
import { listPurchaseOrders, receivePurchaseOrder } from '../../src/fulfilment/purchasing.ts';
import { packFulfilment, startPicking } from '../../src/fulfilment/pickpack.ts';
import { markDelivered, recordSupplierShipment, shipFulfilment } from '../../src/fulfilment/ship.ts';
import { changeOnChannel, channel, ledgerMismatches, level, location, orderState, placeOrder, sku, stock, supplier } from './fixtures.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

const by = { actor: 'test' };
const parcel = [{ weightGrams: 250, lengthCm: 10, widthCm: 10, heightCm: 10 }];

async function shipAll(app: TestApp['app'], orderId: number): Promise<number[]> {
  const fs = await app.db.selectFrom('fulfillments').select(['id']).where('order_id', '=', orderId).where('state', '=', 'allocated').where('kind', '=', 'warehouse').orderBy('id').execute();
  const shipments: number[] = [];
  for (const f of fs) {
    await startPicking(app, f.id, by);
    await packFulfilment(app, f.id, parcel, by);
    shipments.push((await shipFulfilment(app, f.id, { adapter: 'simulated' }, by)).shipmentId);
  }
  return shipments;
}

describe('dropship', () => {
  it('sends a dropship purchase order and ships the line with the tracking the supplier reports', async () => {
    const { app } = t;
    const ch = await channel(app, 'dropship');
    const loc = await location(app, 'DS-WH', 1);
    const maker = await supplier(app, 'Sofa Maker', { dropship: true, leadTimeDays: 10 });
    const sofa = await sku(app, 'SOFA', { supplierId: maker });
    const cushion = await sku(app, 'CUSHION');
    await stock(app, cushion, loc, 4);
    const orderId = await placeOrder(app, ch, [['SOFA', 1], ['CUSHION', 2]]);
    await allocateOrder(app, orderId, by);

    const fs = await app.db.selectFrom('fulfillments').selectAll().where('order_id', '=', orderId).orderBy('id').execute();
    expect(fs.map((f) => [f.kind, f.state])).toEqual([
      ['dropship', 'allocated'],
      ['warehouse', 'allocated'],
    ]);
    // The warehouse never reserves the sofa.
    expect(await app.db.selectFrom('stock_levels').select('sku_id').where('sku_id', '=', sofa).execute()).toEqual([]);
    const po = (await listPurchaseOrders(app.db)).find((p) => p.id === fs[0]!.purchase_order_id)!;
    expect(po).toMatchObject({ kind: 'dropship', status: 'sent', supplier: 'Sofa Maker', lines: [{ sku: 'SOFA', quantity: 1, received: 0 }] });
    await expect(receivePurchaseOrder(app, po.id, by)).rejects.toThrow(/dropship order: record the supplier's tracking/);

    await shipAll(app, orderId);
    expect(await orderState(app, orderId)).toBe('partially_shipped');
    const shipped = await recordSupplierShipment(app, po.id, { carrier: 'FedEx', trackingNumber: '794612345678' }, { actor: 'supplier:Sofa Maker' });
    expect(shipped.label).toEqual({
      carrier: 'FedEx',
      service: null,
      trackingNumber: '794612345678',
      trackingUrl: 'https://www.fedex.com/fedextrack/?trknbr=794612345678',
    });
    expect(await orderState(app, orderId)).toBe('shipped');
    const push = await app.db.selectFrom('channel_pushes').select(['kind', 'status']).where('target', '=', String(shipped.shipmentId)).where('channel_id', '=', ch).executeTakeFirst();
    expect(push).toEqual({ kind: 'fulfillment', status: 'pending' });
    const lines = await app.db.selectFrom('shipment_lines').innerJoin('order_lines', 'order_lines.id', 'shipment_lines.order_line_id').select(['sku', 'shipment_lines.quantity']).where('shipment_id', '=', shipped.shipmentId).execute();
    expect(lines).toEqual([{ sku: 'SOFA', quantity: 1 }]);
    expect((await listPurchaseOrders(app.db)).find((p) => p.id === po.id)!.status).toBe('received');
    // The same report again changes nothing.
    expect((await recordSupplierShipment(app, po.id, { carrier: 'FedEx', trackingNumber: '794612345678' }, by)).created).toBe(false);
  });
});

describe('cancellations and edits on the channel', () => {
  it('a cancel before shipping releases every reservation and stops the fulfilment', async () => {
    const { app } = t;
    const ch = await channel(app, 'cancel');
    const loc = await location(app, 'C-WH', 1);
    const kettle = await sku(app, 'KETTLE');
    await stock(app, kettle, loc, 3);
    const orderId = await placeOrder(app, ch, [['KETTLE', 2]]);
    await allocateOrder(app, orderId, by);
    const [f] = await app.db.selectFrom('fulfillments').select('id').where('order_id', '=', orderId).execute();
    await startPicking(app, f!.id, by);
    expect(await level(app, kettle, loc)).toEqual({ on_hand: 3, reserved: 2 });

    await changeOnChannel(app, orderId, { cancel: true });
    expect((await allocateOrder(app, orderId, by)).outcome).toBe('cancelled');
    expect(await orderState(app, orderId)).toBe('cancelled');
    expect(await level(app, kettle, loc)).toEqual({ on_hand: 3, reserved: 0 });
    const release = await app.db.selectFrom('stock_movements').selectAll().where('reason', '=', 'release').where('reference', '=', `order:${orderId}`).execute();
    expect(release.map((m) => m.reserved_delta)).toEqual([-2]);
    const history = await app.db.selectFrom('order_history').select(['from_state', 'to_state', 'reason']).where('order_id', '=', orderId).orderBy('id').execute();
    expect(history.at(-2)).toEqual({ from_state: 'picking', to_state: 'cancelled', reason: 'order cancelled on the channel (goods were picking: put them back)' });
    expect(history.at(-1)).toMatchObject({ from_state: 'allocated', to_state: 'cancelled' });
    await expect(packFulfilment(app, f!.id, parcel, by)).rejects.toThrow(/cancelled/);
    // Repeating the job changes nothing.
    expect((await allocateOrder(app, orderId, by)).outcome).toBe('nothing to do');
    expect(await level(app, kettle, loc)).toEqual({ on_hand: 3, reserved: 0 });
  });

  it('a cancel after shipping goes to a person', async () => {
    const { app } = t;
    const ch = await channel(app, 'late-cancel');
    const loc = await location(app, 'LC-WH', 1);
    const toaster = await sku(app, 'TOASTER');
    await stock(app, toaster, loc, 3);
    const orderId = await placeOrder(app, ch, [['TOASTER', 1]]);
    await allocateOrder(app, orderId, by);
    await shipAll(app, orderId);
    await changeOnChannel(app, orderId, { cancel: true });
    expect((await allocateOrder(app, orderId, by)).outcome).toBe('needs attention');
    const row = await app.db.selectFrom('orders').select(['state', 'flags']).where('id', '=', orderId).executeTakeFirstOrThrow();
    expect(row.state).toBe('needs_attention');
    expect(row.flags).toContain('cancelled_after_shipping');
    expect(await level(app, toaster, loc)).toEqual({ on_hand: 2, reserved: 0 });
  });

  it('changed lines re-allocate: fewer units release, a new line reserves', async () => {
    const { app } = t;
    const ch = await channel(app, 'edit');
    const loc = await location(app, 'E-WH', 1);
    const pen = await sku(app, 'PEN');
    const ink = await sku(app, 'INK');
    await stock(app, pen, loc, 10);
    await stock(app, ink, loc, 10);
    const orderId = await placeOrder(app, ch, [['PEN', 5]]);
    await allocateOrder(app, orderId, by);
    expect(await level(app, pen, loc)).toEqual({ on_hand: 10, reserved: 5 });

    await changeOnChannel(app, orderId, { lines: [['PEN', 2], ['INK', 3]] });
    expect((await allocateOrder(app, orderId, by)).outcome).toBe('allocated');
    expect(await level(app, pen, loc)).toEqual({ on_hand: 10, reserved: 2 });
    expect(await level(app, ink, loc)).toEqual({ on_hand: 10, reserved: 3 });
    const live = await app.db
      .selectFrom('fulfillments')
      .innerJoin('fulfillment_lines', 'fulfillment_lines.fulfillment_id', 'fulfillments.id')
      .innerJoin('order_lines', 'order_lines.id', 'fulfillment_lines.order_line_id')
      .select(['order_lines.sku', 'fulfillment_lines.quantity'])
      .where('fulfillments.order_id', '=', orderId)
      .where('fulfillments.state', '=', 'allocated')
      .orderBy('sku')
      .execute();
    expect(live).toEqual([
      { sku: 'INK', quantity: 3 },
      { sku: 'PEN', quantity: 2 },
    ]);
    await shipAll(app, orderId);
    expect(await orderState(app, orderId)).toBe('shipped');
  });

  it('an order that is not paid waits, an archived one is left alone, one with an unknown SKU is held with the reason', async () => {
    const { app } = t;
    const ch = await channel(app, 'wait');
    const loc = await location(app, 'W-WH', 1);
    const cup = await sku(app, 'CUP');
    await stock(app, cup, loc, 3);
    const unpaid = await placeOrder(app, ch, [['CUP', 1]], { financialStatus: 'pending' });
    expect((await allocateOrder(app, unpaid, by)).outcome).toBe('waiting for payment');
    expect(await level(app, cup, loc)).toEqual({ on_hand: 3, reserved: 0 });
    const archived = await placeOrder(app, ch, [['CUP', 1]], { channelState: 'closed' });
    expect((await allocateOrder(app, archived, by)).outcome).toBe('nothing to do');
    expect(await orderState(app, archived)).toBe('received');
    const unknown = await placeOrder(app, ch, [['CUP', 1], ['NOPE', 1]]);
    expect((await allocateOrder(app, unknown, by)).outcome).toBe('on hold');
    const h = await app.db.selectFrom('order_history').select(['to_state', 'reason']).where('order_id', '=', unknown).executeTakeFirstOrThrow();
    expect(h.to_state).toBe('on_hold');
    expect(h.reason).toMatch(/no known SKU for "Title of NOPE" \(NOPE\)/);
  });
});

describe('the ledger after a mixed workload', () => {
  it('every level equals the sum of its movements, and delivery closes the cycle', async () => {
    const { app } = t;
    const ch = await channel(app, 'mixed');
    const a = await location(app, 'MX-A', 1);
    const b = await location(app, 'MX-B', 2);
    const sup = await supplier(app, 'Mixed Supplies', { leadTimeDays: 2 });
    const skus = [await sku(app, 'MX-1', { supplierId: sup }), await sku(app, 'MX-2', { supplierId: sup }), await sku(app, 'MX-3', { supplierId: sup })];
    await stock(app, skus[0]!, a, 6);
    await stock(app, skus[1]!, b, 6);
    await stock(app, skus[2]!, a, 2);
    await stock(app, skus[2]!, b, 2);
    const orders: number[] = [];
    for (let i = 0; i < 24; i++) {
      orders.push(await placeOrder(app, ch, [[`MX-${(i % 3) + 1}`, 1 + (i % 2)], [`MX-${((i + 1) % 3) + 1}`, 1]], { minutesAgo: 30 - i }));
    }
    await Promise.all(orders.map((id) => allocateOrder(app, id, by)));
    await Promise.all(orders.slice(0, 4).map(async (id) => changeOnChannel(app, id, { cancel: true })));
    await Promise.all(orders.slice(0, 4).map((id) => allocateOrder(app, id, by)));
    for (const id of orders.slice(4, 10)) await shipAll(app, id);
    const draft = (await listPurchaseOrders(app.db, 'draft'))[0]!;
    await receivePurchaseOrder(app, draft.id, by);
    for (const id of orders.slice(4)) await shipAll(app, id);
    for (const id of orders.slice(4)) expect(await orderState(app, id)).toBe('shipped');

    const open = await app.db.selectFrom('fulfillments').select('id').where('order_id', 'in', orders).where('state', 'in', ['allocated', 'backordered']).execute();
    expect(open).toEqual([]);
    expect(await ledgerMismatches(app)).toEqual([]);

    const shipments = await app.db.selectFrom('shipments').innerJoin('fulfillments', 'fulfillments.id', 'shipments.fulfillment_id').select('shipments.id').where('fulfillments.order_id', '=', orders[5]!).execute();
    for (const s of shipments) await markDelivered(app, s.id, { actor: 'carrier' });
    expect(await orderState(app, orders[5]!)).toBe('delivered');
  });
});
