/**
 * Reconciliation never undoes a sale it has not seen yet. A store lowers its
 * own stock the moment it sells; channelsync learns of the sale only when the
 * order is pulled and allocated. A reading lower than the ledger is held until
 * the store's orders are pulled past it, and is corrected only by what the
 * pulled orders do not explain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { line, order } from '../helpers/orders.ts';
import { ensureLocation, movementFor, recordMovements } from '../../src/stock/ledger.ts';
import { reconcile } from '../../src/stock/reconcile.ts';
import { allocateOrder } from '../../src/fulfilment/allocate.ts';
import { syncOrders } from '../../jobs/sync-orders.ts';
import type { OrderPage } from '../../connectors/types.ts';
import type { UnifiedOrder } from '../../src/domain/order.ts';
import { MemoryChannel, addMemoryChannel } from './memory-channel.ts';

/** A store whose orders can be pulled: each pull returns what it sold since the last one. */
class SellingShop extends MemoryChannel {
  unpulled: UnifiedOrder[] = [];
  override async *pullOrders(): AsyncIterable<OrderPage> {
    const orders = this.unpulled.splice(0);
    if (orders.length) yield { orders, cursor: new Date().toISOString() };
  }
  /** A customer buys on the store: its stock drops at once, the order waits to be pulled. */
  sell(sku: string, quantity: number, externalId: string): void {
    this.stock.set(sku, this.stock.get(sku)! - quantity);
    this.unpulled.push(order({ externalId, financialStatus: 'paid', lines: [line({ externalId: `${externalId}-1`, sku, quantity })] }));
  }
}

let t: TestApp;
let shopId: number;
let skuId: number;
const shop = new SellingShop('selling-shop');

beforeAll(async () => {
  t = await createTestApp();
  const main = await ensureLocation(t.app.db, 'MAIN');
  shopId = await addMemoryChannel(t.app, shop);
  ({ id: skuId } = await t.app.db.insertInto('skus').values({ sku: 'SOLD-1' }).returning('id').executeTakeFirstOrThrow());
  await t.app.db.insertInto('channel_listings').values({ channel_id: shopId, sku_id: skuId }).execute();
  await recordMovements(t.app.db, [movementFor.receipt(skuId, main, 10, 'po:seed')]);
  // The store shows the ledger's 10: the push the receipt owed has been made.
  shop.stock.set('SOLD-1', 10);
  await t.app.db.updateTable('channel_pushes').set({ status: 'done' }).execute();
});
afterAll(() => t?.close());

const pullNow = (channelId: number) => syncOrders(t.app, channelId);

async function orderIdOf(externalId: string): Promise<number> {
  return (await t.app.db.selectFrom('orders').select('id').where('external_id', '=', externalId).executeTakeFirstOrThrow()).id;
}

describe('reconciliation and sales not pulled yet', () => {
  it('holds a lower reading that unpulled sales explain, and leaves the store alone', async () => {
    shop.sell('SOLD-1', 3, 'SALE-1');
    // Without a pull, the lower reading cannot be told from drift: held.
    const first = await reconcile(t.app, { slot: 'unseen-1' });
    expect(first.channels[0]).toMatchObject({ drift: 0, corrected: 0, held: 1 });
    expect(shop.stock.get('SOLD-1')).toBe(7);

    // With the pull, the sale is in Postgres (allocation still to run): explained, still held, never pushed back up.
    const second = await reconcile(t.app, { slot: 'unseen-2', catchUp: pullNow });
    expect(second.channels[0]).toMatchObject({ drift: 0, corrected: 0, held: 1 });
    expect(shop.stock.get('SOLD-1')).toBe(7);

    // Allocated, the sale is in the ledger: the store and the ledger agree, nothing to do.
    await allocateOrder(t.app, await orderIdOf('SALE-1'));
    await t.app.db.updateTable('channel_pushes').set({ status: 'done' }).execute();
    const third = await reconcile(t.app, { slot: 'unseen-3', catchUp: pullNow });
    expect(third.channels[0]).toMatchObject({ drift: 0, corrected: 0, held: 0 });
    expect(shop.stock.get('SOLD-1')).toBe(7);
    const held = await t.app.db.selectFrom('stock_drift').select('slot').where('slot', '=', 'unseen-3').execute();
    expect(held).toEqual([]);
  });

  it('corrects a lower reading the pulled orders do not explain, by what they do not explain', async () => {
    // Someone sets the store to 1 by hand, and a customer buys 2 more that are not pulled yet.
    shop.stock.set('SOLD-1', 3);
    shop.sell('SOLD-1', 2, 'SALE-2');
    const report = await reconcile(t.app, { slot: 'unseen-4', catchUp: pullNow });
    // After the pull the ledger expects 7, of which 2 are the new sale's, still unallocated: the gap of 6 is more than 2.
    expect(report.channels[0]).toMatchObject({ drift: 1, corrected: 1, held: 0 });
    expect(shop.stock.get('SOLD-1')).toBe(7);
    await allocateOrder(t.app, await orderIdOf('SALE-2'));
    const expected = await t.app.db.selectFrom('channel_stock_expected').select('expected').where('sku', '=', 'SOLD-1').executeTakeFirstOrThrow();
    expect(expected.expected).toBe(5);
  });

  it('corrects a higher reading at once: showing less can never oversell', async () => {
    await t.app.db.updateTable('channel_pushes').set({ status: 'done' }).execute();
    shop.stock.set('SOLD-1', 40);
    const report = await reconcile(t.app, { slot: 'unseen-5' });
    expect(report.channels[0]).toMatchObject({ drift: 1, corrected: 1, held: 0 });
    expect(shop.stock.get('SOLD-1')).toBe(5);
  });
});
