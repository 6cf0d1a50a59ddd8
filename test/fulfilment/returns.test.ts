/**
 * Warehouse returns: restock at the shipping location through the ledger,
 * refusals that record nothing, returns without restock, idempotency by
 * reference, stock pushes owed, and the CLI and admin API paths.
 */
import type { FastifyInstance } from 'fastify';
import { runInProcess } from '../helpers/in-process-cli.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { buildServer } from '../../src/server/index.ts';
import { allocateOrder } from '../../src/fulfilment/allocate.ts';
import { packFulfilment, startPicking, DEFAULT_PARCEL } from '../../src/fulfilment/pickpack.ts';
import { shipFulfilment } from '../../src/fulfilment/ship.ts';
import { orderFulfilments } from '../../src/fulfilment/transitions.ts';
import { recordReturn } from '../../src/fulfilment/returns.ts';
import { registerReturnCommands } from '../../src/fulfilment/return-cli.ts';
import { PermanentError, ConfigError } from '../../src/domain/errors.ts';
import { channel, ledgerMismatches, level, location, placeOrder, sku, stock } from './fixtures.ts';

const TOKEN = 'returns-test-token-0123456789abcdef';
const by = { actor: 'test' };

let t: TestApp;
let server: FastifyInstance;
let shop: number;
let other: number;
let north: number;
let south: number;
let tracking = 0;

beforeAll(async () => {
  t = await createTestApp({ ADMIN_TOKEN: TOKEN });
  server = await buildServer(t.app);
  shop = await channel(t.app, 'returns-shop');
  other = await channel(t.app, 'returns-other');
  north = await location(t.app, 'RET-NORTH', 1);
  south = await location(t.app, 'RET-SOUTH', 2);
});
afterAll(async () => {
  await server?.close();
  await t?.close();
});

/** A SKU with stock at both locations, listed on both channels. */
async function stockedSku(code: string, atNorth: number, atSouth: number): Promise<number> {
  const id = await sku(t.app, code);
  if (atNorth) await stock(t.app, id, north, atNorth);
  if (atSouth) await stock(t.app, id, south, atSouth);
  await t.app.db.insertInto('channel_listings').values([{ channel_id: shop, sku_id: id }, { channel_id: other, sku_id: id }]).execute();
  return id;
}

/** Places, allocates, picks, packs and ships an order with a manual carrier, as a person would. */
async function shippedOrder(lines: Array<[string, number]>): Promise<number> {
  const orderId = await placeOrder(t.app, shop, lines);
  await allocateOrder(t.app, orderId, by);
  for (const f of await orderFulfilments(t.app.db, orderId)) {
    await startPicking(t.app, f.id, by);
    await packFulfilment(t.app, f.id, [DEFAULT_PARCEL], by);
    tracking += 1;
    await shipFulfilment(t.app, f.id, { manual: { carrier: 'UPS', service: null, trackingNumber: `1ZRET${Date.now()}${tracking}`, trackingUrl: null } }, by);
  }
  return orderId;
}

async function movementsOf(reference: string) {
  return t.app.db.selectFrom('stock_movements').select(['sku_id', 'location_id', 'on_hand_delta', 'reserved_delta', 'reason']).where('reference', '=', reference).execute();
}

async function counts(orderId: number) {
  const returns = await t.app.db.selectFrom('returns').select('id').where('order_id', '=', orderId).execute();
  const movements = await t.app.db.selectFrom('stock_movements').select('id').where('reason', '=', 'return_restock').where('note', '=', `order ${orderId}`).execute();
  return { returns: returns.length, movements: movements.length };
}

describe('recordReturn', () => {
  it('restocks on hand at the location the line was shipped from, and the level is the sum of its movements', async () => {
    const vase = await stockedSku('RET-VASE', 0, 5); // only the south warehouse has it
    const orderId = await shippedOrder([['RET-VASE', 3]]);
    expect(await level(t.app, vase, south)).toEqual({ on_hand: 2, reserved: 0 });
    // The push owed by shipping was delivered; a return must owe a new one to every channel listing the SKU.
    await t.app.db.updateTable('channel_pushes').set({ status: 'done' }).where('kind', '=', 'stock').where('target', '=', 'RET-VASE').execute();

    const r = await recordReturn(t.app, orderId, [{ sku: 'RET-VASE', quantity: 2 }], { restock: true, reason: 'wrong colour' }, { actor: 'test:returns' });
    expect(r).toMatchObject({ created: true, status: 'restocked', lines: [{ sku: 'RET-VASE', quantity: 2, restock: true, locationId: south }] });
    expect(await level(t.app, vase, south)).toEqual({ on_hand: 4, reserved: 0 });
    expect(await level(t.app, vase, north)).toEqual({ on_hand: 0, reserved: 0 });
    expect(await movementsOf(`return:${r.returnId}`)).toEqual([{ sku_id: vase, location_id: south, on_hand_delta: 2, reserved_delta: 0, reason: 'return_restock' }]);
    expect(await ledgerMismatches(t.app)).toEqual([]);

    const ret = await t.app.db.selectFrom('returns').selectAll().where('id', '=', r.returnId).executeTakeFirstOrThrow();
    expect(ret).toMatchObject({ order_id: orderId, status: 'restocked', reason: 'wrong colour', reference: null });
    const history = await t.app.db.selectFrom('order_history').select(['actor', 'reason']).where('order_id', '=', orderId).orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(history.actor).toBe('test:returns');
    expect(history.reason).toMatch(/^return \d+ restocked: 2 x RET-VASE/);

    const pushes = await t.app.db.selectFrom('channel_pushes').select(['channel_id', 'status']).where('kind', '=', 'stock').where('target', '=', 'RET-VASE').orderBy('channel_id').execute();
    expect(pushes).toEqual([{ channel_id: shop, status: 'pending' }, { channel_id: other, status: 'pending' }]);

    // One more is still returnable; two are not.
    await expect(recordReturn(t.app, orderId, [{ sku: 'RET-VASE', quantity: 2 }], { restock: true }, by)).rejects.toThrow(/cannot return 2, only 1 can be \(3 shipped, 2 returned already\)/);
  });

  it('refuses more than was shipped, a line not on the order, and a quantity of 0, and records nothing', async () => {
    await stockedSku('RET-CUP', 4, 0);
    await stockedSku('RET-BOWL', 4, 0);
    const orderId = await shippedOrder([['RET-CUP', 1], ['RET-BOWL', 1]]);
    const before = await counts(orderId);

    // The first line is fine, the second is not: neither is booked.
    const tooMany = recordReturn(t.app, orderId, [{ sku: 'RET-CUP', quantity: 1 }, { sku: 'RET-BOWL', quantity: 2 }], { restock: true }, by);
    await expect(tooMany).rejects.toThrow(PermanentError);
    await expect(tooMany).rejects.toThrow(/SKU RET-BOWL on order #\d+: cannot return 2, only 1 can be \(1 shipped, 0 returned already\)/);
    await expect(recordReturn(t.app, orderId, [{ sku: 'RET-VASE', quantity: 1 }], { restock: true }, by)).rejects.toThrow(ConfigError);
    await expect(recordReturn(t.app, orderId, [{ orderLineId: 999_999, quantity: 1 }], { restock: true }, by)).rejects.toThrow(/order line 999999 is not on order/);
    await expect(recordReturn(t.app, orderId, [{ sku: 'RET-CUP', quantity: 0 }], { restock: true }, by)).rejects.toThrow(/quantity must be a whole number above 0/);
    await expect(recordReturn(t.app, 999_999, [{ sku: 'RET-CUP', quantity: 1 }], { restock: true }, by)).rejects.toThrow(/order 999999 does not exist/);

    expect(await counts(orderId)).toEqual(before);
    expect(await level(t.app, (await t.app.db.selectFrom('skus').select('id').where('sku', '=', 'RET-BOWL').executeTakeFirstOrThrow()).id, north)).toEqual({ on_hand: 3, reserved: 0 });
  });

  it('refuses a line that was ordered but not shipped yet', async () => {
    await stockedSku('RET-LAMP', 2, 0);
    const orderId = await placeOrder(t.app, shop, [['RET-LAMP', 1]]);
    await allocateOrder(t.app, orderId, by);
    await expect(recordReturn(t.app, orderId, [{ sku: 'RET-LAMP', quantity: 1 }], { restock: true }, by)).rejects.toThrow(/only 0 can be \(0 shipped/);
  });

  it('without restock records the return and changes no stock', async () => {
    const plate = await stockedSku('RET-PLATE', 3, 0);
    const orderId = await shippedOrder([['RET-PLATE', 2]]);
    await t.app.db.updateTable('channel_pushes').set({ status: 'done' }).where('kind', '=', 'stock').where('target', '=', 'RET-PLATE').execute();
    const movementsBefore = await t.app.db.selectFrom('stock_movements').select('id').where('sku_id', '=', plate).execute();

    const r = await recordReturn(t.app, orderId, [{ sku: 'RET-PLATE', quantity: 2 }], { restock: false, reason: 'broken in transit' }, by);
    expect(r).toMatchObject({ created: true, status: 'received', lines: [{ quantity: 2, restock: false, locationId: null }] });
    expect(await level(t.app, plate, north)).toEqual({ on_hand: 1, reserved: 0 });
    expect(await t.app.db.selectFrom('stock_movements').select('id').where('sku_id', '=', plate).execute()).toEqual(movementsBefore);
    const lines = await t.app.db.selectFrom('return_lines').select(['quantity', 'restock']).where('return_id', '=', r.returnId).execute();
    expect(lines).toEqual([{ quantity: 2, restock: false }]);
    const pushes = await t.app.db.selectFrom('channel_pushes').select('status').where('kind', '=', 'stock').where('target', '=', 'RET-PLATE').execute();
    expect(pushes.every((p) => p.status === 'done')).toBe(true);
  });

  it('records one return for the same reference, even when sent twice at once', async () => {
    const jug = await stockedSku('RET-JUG', 5, 0);
    const orderId = await shippedOrder([['RET-JUG', 4]]);
    const [a, b] = await Promise.all([
      recordReturn(t.app, orderId, [{ sku: 'RET-JUG', quantity: 1 }], { restock: true, reference: 'RMA-1' }, by),
      recordReturn(t.app, orderId, [{ sku: 'RET-JUG', quantity: 1 }], { restock: true, reference: 'RMA-1' }, by),
    ]);
    expect(a.returnId).toBe(b.returnId);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    const again = await recordReturn(t.app, orderId, [{ sku: 'RET-JUG', quantity: 1 }], { restock: true, reference: 'RMA-1' }, by);
    expect(again).toMatchObject({ returnId: a.returnId, created: false, status: 'restocked', reference: 'RMA-1', lines: [{ sku: 'RET-JUG', quantity: 1 }] });
    expect(await counts(orderId)).toEqual({ returns: 1, movements: 1 });
    expect(await level(t.app, jug, north)).toEqual({ on_hand: 2, reserved: 0 });

    const elsewhere = await shippedOrder([['RET-JUG', 1]]);
    await expect(recordReturn(t.app, elsewhere, [{ sku: 'RET-JUG', quantity: 1 }], { restock: true, reference: 'RMA-1' }, by)).rejects.toThrow(/"RMA-1" is already used by return \d+ of order/);
  });
});

describe('channelsync return', () => {
  const cli = (...args: string[]) => runInProcess(t.app, registerReturnCommands, ...args);

  it('books a return by order number, restocks, and refuses too many with one clear line', async () => {
    const mug = await stockedSku('RET-MUG', 3, 0);
    const orderId = await shippedOrder([['RET-MUG', 2]]);
    const { order_number } = await t.app.db.selectFrom('orders').select('order_number').where('id', '=', orderId).executeTakeFirstOrThrow();

    const ok = await cli('return', order_number, '--line', 'RET-MUG=1', '--reason', 'too small', '--ref', 'RMA-CLI-1');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^recorded: return \d+ of order #\d+ \(RMA-CLI-1\), restocked: 1 x RET-MUG$/m);
    expect(await level(t.app, mug, north)).toEqual({ on_hand: 2, reserved: 0 });
    expect((await cli('return', String(orderId), '--line', 'RET-MUG=1', '--ref', 'RMA-CLI-1')).stdout).toMatch(/^already recorded: return/);

    const tooMany = await cli('return', String(orderId), '--line', 'RET-MUG=2', '--no-restock');
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toMatch(/RET-MUG on order #\d+: cannot return 2, only 1 can be/);
    expect((await cli('return', String(orderId))).stderr).toMatch(/--line <sku=qty\[:condition\]>' not specified/);
    expect(await counts(orderId)).toEqual({ returns: 1, movements: 1 });
  });
});

describe('POST /api/orders/:id/returns', () => {
  const api = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    server.inject({ method, url, payload: payload as object, headers: { authorization: `Bearer ${TOKEN}` } });

  it('records a return (201, then 200 for the same reference), answers 400, 404 and 409, and shows returns in the order', async () => {
    const bin = await stockedSku('RET-BIN', 2, 0);
    const orderId = await shippedOrder([['RET-BIN', 2]]);
    const { id: lineId } = await t.app.db.selectFrom('order_lines').select('id').where('order_id', '=', orderId).executeTakeFirstOrThrow();

    const created = await api('POST', `/api/orders/${orderId}/returns`, { lines: [{ orderLineId: lineId, quantity: 1 }], reference: 'RMA-API-1', reason: 'changed mind' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ orderId, created: true, status: 'restocked', lines: [{ orderLineId: lineId, quantity: 1, locationId: north }] });
    expect(await level(t.app, bin, north)).toEqual({ on_hand: 1, reserved: 0 });
    const again = await api('POST', `/api/orders/${orderId}/returns`, { lines: [{ orderLineId: lineId, quantity: 1 }], reference: 'RMA-API-1' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ returnId: created.json().returnId, created: false });

    const bad = await api('POST', `/api/orders/${orderId}/returns`, { lines: [{ sku: 'RET-BIN', quantity: 0 }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(/lines\.0\.quantity/);
    expect((await api('POST', `/api/orders/${orderId}/returns`, { lines: [] })).statusCode).toBe(400);
    expect((await api('POST', `/api/orders/${orderId}/returns`, { lines: [{ sku: 'RET-BIN', orderLineId: lineId, quantity: 1 }] })).statusCode).toBe(400);
    const notOnOrder = await api('POST', `/api/orders/${orderId}/returns`, { lines: [{ sku: 'RET-NOPE', quantity: 1 }] });
    expect(notOnOrder.statusCode).toBe(400);
    expect(notOnOrder.json().error).toMatch(/SKU RET-NOPE is not on order/);
    expect((await api('POST', '/api/orders/999999/returns', { lines: [{ sku: 'RET-BIN', quantity: 1 }] })).statusCode).toBe(404);
    const tooMany = await api('POST', `/api/orders/${orderId}/returns`, { lines: [{ sku: 'RET-BIN', quantity: 2 }], restock: false });
    expect(tooMany.statusCode).toBe(409);
    expect(tooMany.json().error).toMatch(/cannot return 2, only 1 can be/);
    expect((await server.inject({ method: 'POST', url: `/api/orders/${orderId}/returns`, payload: { lines: [{ sku: 'RET-BIN', quantity: 1 }] } })).statusCode).toBe(401);

    const detail = (await api('GET', `/api/orders/${orderId}`)).json();
    expect(detail.returns).toMatchObject([{ id: created.json().returnId, status: 'restocked', reference: 'RMA-API-1', reason: 'changed mind', lines: [{ order_line_id: lineId, quantity: 1, restock: true }] }]);
  });
});
