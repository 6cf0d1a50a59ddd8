import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { IllegalTransitionError } from '../../src/domain/errors.ts';
import { assertFulfilmentTransition, assertOrderTransition, deriveOrderState, ORDER_TRANSITIONS } from '../../src/fulfilment/states.ts';
import { allocateOrder } from '../../src/fulfilment/allocate.ts';
import { packFulfilment, startPicking } from '../../src/fulfilment/pickpack.ts';
import { shipFulfilment } from '../../src/fulfilment/ship.ts';
import { channel, location, placeOrder, sku, stock } from './fixtures.ts';

describe('state machines (pure)', () => {
  it('refuse illegal moves with an error naming from and to', () => {
    expect(() => assertOrderTransition('cancelled', 'allocated')).toThrow(IllegalTransitionError);
    expect(() => assertOrderTransition('cancelled', 'allocated')).toThrow(/from cancelled to allocated/);
    expect(() => assertFulfilmentTransition('shipped', 'picking', 'warehouse')).toThrow(/from shipped to picking/);
    expect(() => assertFulfilmentTransition('backordered', 'shipped', 'warehouse')).toThrow(IllegalTransitionError);
  });

  it('guard: only dropship skips pick and pack, and dropship is never picked', () => {
    expect(() => assertFulfilmentTransition('allocated', 'shipped', 'warehouse')).toThrow(/picked and packed first/);
    expect(() => assertFulfilmentTransition('allocated', 'shipped', 'dropship')).not.toThrow();
    expect(() => assertFulfilmentTransition('allocated', 'picking', 'dropship')).toThrow(/supplier picks and packs/);
  });

  it('cancelled is final', () => {
    expect(ORDER_TRANSITIONS.cancelled).toEqual([]);
  });

  it('derives the order state from its fulfilments', () => {
    expect(deriveOrderState(['allocated', 'backordered'], false)).toBe('backordered');
    expect(deriveOrderState(['shipped', 'backordered'], false)).toBe('partially_shipped');
    expect(deriveOrderState(['shipped', 'delivered'], false)).toBe('shipped');
    expect(deriveOrderState(['delivered', 'cancelled'], false)).toBe('delivered');
    expect(deriveOrderState(['shipped'], true)).toBe('partially_shipped');
    expect(deriveOrderState(['cancelled'], false)).toBeNull();
  });
});

describe('transitions on rows', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  it('walks allocate -> pick -> pack -> ship, refuses skipping a step, and records every move', async () => {
    const { app } = t;
    const ch = await channel(app);
    const loc = await location(app, 'MAIN');
    const mug = await sku(app, 'MUG');
    await stock(app, mug, loc, 5);
    const orderId = await placeOrder(app, ch, [['MUG', 2]]);

    await allocateOrder(app, orderId, { actor: 'test' });
    const [f] = await app.db.selectFrom('fulfillments').selectAll().where('order_id', '=', orderId).execute();
    expect(f!.state).toBe('allocated');

    // Shipping an allocated warehouse fulfilment skips pick and pack: refused, nothing changes.
    await expect(shipFulfilment(app, f!.id, { adapter: 'manual', manual: { carrier: 'UPS', trackingNumber: '1Z999AA10123456784' } }, { actor: 'test' })).rejects.toThrow(
      /fulfilment \d+ cannot go from allocated to shipped/,
    );
    await expect(packFulfilment(app, f!.id, [{ weightGrams: 500, lengthCm: 20, widthCm: 15, heightCm: 10 }], { actor: 'test' })).rejects.toThrow(
      IllegalTransitionError,
    );

    await startPicking(app, f!.id, { actor: 'cli:ada' });
    await packFulfilment(app, f!.id, [{ weightGrams: 500, lengthCm: 20, widthCm: 15, heightCm: 10 }], { actor: 'cli:ada' });
    await shipFulfilment(app, f!.id, { adapter: 'manual', manual: { carrier: 'UPS', trackingNumber: '1Z999AA10123456784' } }, { actor: 'cli:ada' });
    await expect(startPicking(app, f!.id, { actor: 'cli:ada' })).rejects.toThrow(/from shipped to picking/);

    const history = await app.db.selectFrom('order_history').selectAll().where('order_id', '=', orderId).orderBy('id').execute();
    const moves = history.map((h) => `${h.fulfillment_id ? 'F' : 'O'} ${h.from_state ?? '-'}>${h.to_state} ${h.actor}`);
    expect(moves).toEqual([
      'F ->allocated test',
      'O received>allocated test',
      'F allocated>picking cli:ada',
      'F picking>packed cli:ada',
      'F packed>shipped cli:ada',
      'O allocated>shipped cli:ada',
    ]);
    expect(history.find((h) => h.to_state === 'packed')!.reason).toBe('1 parcel(s)');
    expect(history.find((h) => h.to_state === 'shipped' && h.fulfillment_id)!.reason).toBe('UPS 1Z999AA10123456784');
  });
});
