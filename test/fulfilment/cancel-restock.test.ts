/**
 * A store restocks a cancelled order's units by itself (WooCommerce's
 * cancellation restock), on top of what channelsync last pushed. A
 * cancellation therefore re-asserts the ledger's number for the order's SKUs,
 * even when nothing was reserved for it (found by the chaos run, seed 22: the
 * store was left one unit above the ledger with nothing owed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { allocateOrder } from '../../src/fulfilment/allocate.ts';
import { changeOnChannel, channel, location, placeOrder, sku, stock } from './fixtures.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t?.close());

describe('a cancellation', () => {
  it('owes the store a stock push for the order\'s SKUs even when nothing was reserved', async () => {
    const { app } = t;
    const ch = await channel(app, 'restocking-store');
    const loc = await location(app, 'RESTOCK');
    const s = await sku(app, 'RESTOCK-A');
    await stock(app, s, loc, 10);
    await app.db.insertInto('channel_listings').values({ channel_id: ch, sku_id: s }).execute();
    // Not payable yet: allocation waits, nothing is reserved.
    const orderId = await placeOrder(app, ch, [['RESTOCK-A', 1]], { financialStatus: 'pending' });
    expect((await allocateOrder(app, orderId)).outcome).toBe('waiting for payment');
    // Every push owed so far has been made: the store shows the ledger's number.
    await app.db.updateTable('channel_pushes').set({ status: 'done' }).execute();

    await changeOnChannel(app, orderId, { cancel: true });
    const result = await allocateOrder(app, orderId);
    expect(result.outcome).toBe('cancelled');
    expect(result.stockChanged).toContain(s);
    const owed = await app.db.selectFrom('channel_pushes').select(['channel_id', 'status']).where('kind', '=', 'stock').where('target', '=', 'RESTOCK-A').execute();
    expect(owed).toEqual([{ channel_id: ch, status: 'pending' }]);
  });
});
