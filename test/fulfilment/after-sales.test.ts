/**
 * Refunds and cancellations both ways, against the channels' simulators:
 * - a Shopify refund with restock puts the unit back in the ledger, once,
 *   and the WooCommerce store shows the new level after one push;
 * - a return received as one restocked and one damaged unit books the right
 *   movements, and approving it refunds once on WooCommerce even when the
 *   refund job dies after the store accepted and runs again;
 * - an order cancelled in channelsync is cancelled on its channel once and
 *   its stock released.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { connectorFactory } from '../../connectors/index.ts';
import type { ChannelSimulator, Connector } from '../../connectors/types.ts';
import type { ShopifySimulator } from '../../connectors/shopify/simulator/index.ts';
import type { WooCommerceSimulator } from '../../connectors/woocommerce/simulator/index.ts';
import { addChannel } from '../../src/db/channels.ts';
import { syncListings } from '../../src/stock/listings.ts';
import { syncOrders } from '../../jobs/sync-orders.ts';
import { runStep } from '../../jobs/fulfilment.ts';
import { runPush } from '../../jobs/channel-push.ts';
import { recordReturn } from '../../src/fulfilment/returns.ts';
import { approveReturn } from '../../src/fulfilment/refunds.ts';
import { cancelOrderHere } from '../../src/fulfilment/cancel.ts';
import { RetryableError } from '../../src/domain/errors.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { location, stock } from './fixtures.ts';

let t: TestApp;
let shopify: ChannelSimulator & ShopifySimulator;
let woo: ChannelSimulator & WooCommerceSimulator;
let shopifyChannel: number;
let wooChannel: number;
let locationId: number;
const by = { actor: 'test' };

beforeAll(async () => {
  t = await createTestApp({ CARRIER: 'simulated' });
  const log = pino({ level: 'silent' });
  shopify = (await connectorFactory('shopify').simulate({ log, rateLimit: { restoreRate: 100000, bucketSize: 100000 } })) as ChannelSimulator & ShopifySimulator;
  woo = (await connectorFactory('woocommerce').simulate({ log })) as ChannelSimulator & WooCommerceSimulator;
  for (const sim of [shopify, woo]) {
    await sim.createProduct({ sku: 'AS-MUG', title: 'Mug', price: '12.50', stock: 10 });
    await sim.createProduct({ sku: 'AS-TEE', title: 'Tee', price: '20.00', stock: 10 });
    await sim.createProduct({ sku: 'AS-CAP', title: 'Cap', price: '8.00', stock: 10 });
  }
  const add = async (kind: string, sim: ChannelSimulator) => {
    const { settings, credentials } = sim.channelConfig();
    return addChannel(t.app.db, t.app.config.secretKey!, { kind, name: `after-sales ${kind}`, settings, credentials });
  };
  shopifyChannel = await add('shopify', shopify);
  wooChannel = await add('woocommerce', woo);
  await syncListings(t.app, shopifyChannel);
  await syncListings(t.app, wooChannel);
  locationId = await location(t.app, 'AS', 1);
  for (const code of ['AS-MUG', 'AS-TEE', 'AS-CAP']) await stock(t.app, await skuId(code), locationId, 10);
});
afterAll(async () => {
  await shopify?.close();
  await woo?.close();
  await t?.close();
});

async function skuId(code: string): Promise<number> {
  return (await t.app.db.selectFrom('skus').select('id').where('sku', '=', code).executeTakeFirstOrThrow()).id;
}

async function onHand(code: string): Promise<number> {
  const row = await t.app.db.selectFrom('stock_levels').select(['on_hand', 'reserved']).where('sku_id', '=', await skuId(code)).where('location_id', '=', locationId).executeTakeFirstOrThrow();
  return row.on_hand;
}

/** Pulls the order in, allocates, picks, packs, ships and pushes the shipment. Returns the order id. */
async function shipOrder(channelId: number, externalId: string): Promise<number> {
  await syncOrders(t.app, channelId);
  const order = await t.app.db.selectFrom('orders').select('id').where('external_id', '=', externalId).where('channel_id', '=', channelId).executeTakeFirstOrThrow();
  await runStep(t.app, { step: 'allocate', id: order.id });
  const f = await t.app.db.selectFrom('fulfillments').select('id').where('order_id', '=', order.id).executeTakeFirstOrThrow();
  for (const step of ['pick', 'pack', 'ship'] as const) await runStep(t.app, { step, id: f.id });
  for (const p of await pending('fulfillment')) await runPush(t.app, { pushId: p.id });
  return order.id;
}

async function pending(kind: 'fulfillment' | 'stock' | 'cancel' | 'refund', channelId?: number) {
  let q = t.app.db.selectFrom('channel_pushes').select(['id', 'target', 'channel_id']).where('kind', '=', kind).where('status', '=', 'pending');
  if (channelId !== undefined) q = q.where('channel_id', '=', channelId);
  return q.orderBy('id').execute();
}

describe('a refund made on the channel', () => {
  it('with restock on Shopify puts the unit back in the ledger once, and WooCommerce shows it after one push', async () => {
    const { externalId } = await shopify.createOrder({ lines: [{ sku: 'AS-MUG', quantity: 2 }] });
    const orderId = await shipOrder(shopifyChannel, externalId);
    expect(await onHand('AS-MUG')).toBe(8);
    for (const p of await pending('stock')) await runPush(t.app, { pushId: p.id });

    // The merchant refunds one mug on Shopify and restocks it (a return).
    const read = await shopify.graphql(`query ($id: ID!) { order(id: $id) { lineItems(first: 1) { nodes { id } } transactions { id kind } } }`, { id: externalId });
    const lineId = read.body.data.order.lineItems.nodes[0].id;
    const sale = read.body.data.order.transactions.find((x: { kind: string }) => x.kind === 'SALE').id;
    const refund = await shopify.graphql(
      `mutation ($input: RefundInput!) { refundCreate(input: $input) { refund { id } userErrors { field message } } }`,
      { input: { orderId: externalId, note: 'broken handle', refundLineItems: [{ lineItemId: lineId, quantity: 1, restockType: 'RETURN' }], transactions: [{ orderId: externalId, parentId: sale, gateway: 'manual', kind: 'REFUND', amount: '12.50' }] } },
    );
    expect(refund.body.data.refundCreate.userErrors).toEqual([]);

    await syncOrders(t.app, shopifyChannel);
    await syncOrders(t.app, shopifyChannel); // read twice: recorded once
    const refunds = await t.app.db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).execute();
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ source: 'channel', external_id: refund.body.data.refundCreate.refund.id, amount: '12.5000', reason: 'broken handle' });
    const lines = await t.app.db.selectFrom('refund_lines').selectAll().where('refund_id', '=', refunds[0]!.id).execute();
    expect(lines).toEqual([expect.objectContaining({ quantity: 1, amount: '12.5000', restock: true, restocked: 1 })]);
    const movements = await t.app.db.selectFrom('stock_movements').select(['reason', 'on_hand_delta']).where('reference', '=', `refund:${refunds[0]!.id}`).execute();
    expect(movements).toEqual([{ reason: 'return_restock', on_hand_delta: 1 }]);
    expect(await onHand('AS-MUG')).toBe(9);
    // A shipped unit refunded is not an edit after shipping: the order stays shipped.
    await runStep(t.app, { step: 'allocate', id: orderId });
    expect((await t.app.db.selectFrom('orders').select('state').where('id', '=', orderId).executeTakeFirstOrThrow()).state).toBe('shipped');
    const history = await t.app.db.selectFrom('order_history').select(['actor', 'reason']).where('order_id', '=', orderId).where('reason', 'like', 'refund %').execute();
    expect(history).toEqual([{ actor: 'channel', reason: expect.stringContaining('1 unit(s) back on the shelf') }]);

    // One push to WooCommerce and its store shows the ledger's new number.
    const owed = await pending('stock', wooChannel);
    expect(owed.map((p) => p.target)).toContain('AS-MUG');
    await runPush(t.app, { pushId: owed.find((p) => p.target === 'AS-MUG')!.id });
    expect(await woo.stockOf('AS-MUG')).toBe(9);
  });
});

describe('a return run in channelsync', () => {
  it('books one restocked and one damaged unit, and refunds once on WooCommerce though the refund job dies after the store accepted', async () => {
    const { externalId } = await woo.createOrder({ lines: [{ sku: 'AS-TEE', quantity: 2 }] });
    const orderId = await shipOrder(wooChannel, externalId);
    expect(await onHand('AS-TEE')).toBe(8);

    const ret = await recordReturn(t.app, orderId, [{ sku: 'AS-TEE', quantity: 1, condition: 'restock' }, { sku: 'AS-TEE', quantity: 1, condition: 'damaged' }], { restock: true, reference: 'RMA-AS-1' }, by);
    expect(ret.lines.map((l) => [l.quantity, l.condition])).toEqual([[1, 'restock'], [1, 'damaged']]);
    const movements = await t.app.db.selectFrom('stock_movements').select(['reason', 'on_hand_delta']).where('reference', '=', `return:${ret.returnId}`).orderBy('id').execute();
    expect(movements).toEqual([
      { reason: 'return_restock', on_hand_delta: 1 },
      { reason: 'return_restock', on_hand_delta: 1 },
      { reason: 'damage', on_hand_delta: -1 },
    ]);
    expect(await onHand('AS-TEE')).toBe(9);

    const approved = await approveReturn(t.app, ret.returnId, {}, by);
    expect(approved).toMatchObject({ created: true, amount: '40.00', shipping: '0.00', lines: [{ quantity: 2, amount: '40.00' }] });
    expect((await approveReturn(t.app, ret.returnId, {}, by)).created).toBe(false);

    // The job dies right after WooCommerce accepted the refund (before it could record anything).
    const { connector } = (await t.app.connectors.get(wooChannel)) as { connector: Connector };
    const real = connector.refundOrder!.bind(connector);
    connector.refundOrder = async (push) => {
      await real(push);
      throw new RetryableError('worker killed after the store accepted the refund');
    };
    await expect(runPush(t.app, { pushId: approved.pushId })).rejects.toThrow(/worker killed/);
    connector.refundOrder = real;
    const store = woo.state.orders.get(Number(externalId))!;
    expect(store.refunds).toHaveLength(1);
    expect((await t.app.db.selectFrom('channel_pushes').select('status').where('id', '=', approved.pushId).executeTakeFirstOrThrow()).status).toBe('pending');

    // Run again: the connector finds its refund on the store and does not make a second.
    await expect(runPush(t.app, { pushId: approved.pushId })).resolves.toEqual({ outcome: 'done' });
    expect(store.refunds).toHaveLength(1);
    expect(store.refunds[0]!.amount).toBe('40.00');
    const row = await t.app.db.selectFrom('refunds').selectAll().where('id', '=', approved.refundId).executeTakeFirstOrThrow();
    expect(row.external_id).toBe(String(store.refunds[0]!.id));
    expect((await t.app.db.selectFrom('returns').select('status').where('id', '=', ret.returnId).executeTakeFirstOrThrow()).status).toBe('refunded');

    // The refund comes back with the order: the same refund, not a second one, and nothing restocked twice.
    woo.state.touchOrder(store);
    await syncOrders(t.app, wooChannel);
    expect(await t.app.db.selectFrom('refunds').select('id').where('order_id', '=', orderId).execute()).toHaveLength(1);
    expect(await onHand('AS-TEE')).toBe(9);
  });

  it('refunds once on Shopify though the job dies after the shop accepted, and the refund read back is the same one', async () => {
    const { externalId } = await shopify.createOrder({ lines: [{ sku: 'AS-TEE', quantity: 1 }] });
    const orderId = await shipOrder(shopifyChannel, externalId);
    const ret = await recordReturn(t.app, orderId, [{ sku: 'AS-TEE', quantity: 1 }], { restock: true }, by);
    const approved = await approveReturn(t.app, ret.returnId, { reason: 'did not fit' }, by);
    expect(approved.amount).toBe('20.00');

    const { connector } = (await t.app.connectors.get(shopifyChannel)) as { connector: Connector };
    const real = connector.refundOrder!.bind(connector);
    connector.refundOrder = async (push) => {
      await real(push);
      throw new RetryableError('worker killed after the shop accepted the refund');
    };
    await expect(runPush(t.app, { pushId: approved.pushId })).rejects.toThrow(/worker killed/);
    connector.refundOrder = real;
    await expect(runPush(t.app, { pushId: approved.pushId })).resolves.toEqual({ outcome: 'done' });
    const onStore = shopify.state.orders.get(Number(externalId.split('/').pop()))!;
    expect(onStore.refunds).toHaveLength(1);
    expect(onStore.refunds![0]!.note).toContain(`channelsync-refund:${approved.refundId}`);
    expect(onStore.financialStatus).toBe('REFUNDED');

    const before = await onHand('AS-TEE');
    await syncOrders(t.app, shopifyChannel);
    const rows = await t.app.db.selectFrom('refunds').select(['id', 'source', 'external_id']).where('order_id', '=', orderId).execute();
    expect(rows).toEqual([{ id: approved.refundId, source: 'channelsync', external_id: `gid://shopify/Refund/${onStore.refunds![0]!.id}` }]);
    expect(await onHand('AS-TEE')).toBe(before);
  });

  it('never refunds more than was paid: WooCommerce refuses it with its own error', async () => {
    const { externalId } = await woo.createOrder({ lines: [{ sku: 'AS-CAP', quantity: 1 }] });
    const { connector } = (await t.app.connectors.get(wooChannel)) as { connector: Connector };
    await expect(
      connector.refundOrder!({ orderExternalId: externalId, refundId: 999_999, amount: '1000.00', shipping: '0.00', currency: 'USD', lines: [], reason: 'too much' }),
    ).rejects.toThrow(/Invalid refund amount\./);
  });
});

describe('a refund the channel sends that cannot be read', () => {
  it('sets its order aside with the reason, and the rest of the page saves', async () => {
    const bad = await woo.createOrder({ lines: [{ sku: 'AS-CAP', quantity: 2 }] });
    const o = woo.state.orders.get(Number(bad.externalId))!;
    // A refund line of 1.5 units: WooCommerce's quantities are whole numbers.
    const refund = woo.state.createRefund(o, { amount: '1.00', reason: 'odd', line_items: [{ id: o.lines[0]!.id, quantity: 1, refund_total: '1.00' }] });
    refund.lines[0]!.quantity = 1.5;
    const good = await woo.createOrder({ lines: [{ sku: 'AS-CAP', quantity: 1 }] });
    await syncOrders(t.app, wooChannel);
    const rejected = await t.app.db.selectFrom('rejected_orders').select(['external_id', 'reason']).where('channel_id', '=', wooChannel).execute();
    expect(rejected).toEqual([{ external_id: bad.externalId, reason: expect.stringMatching(/refund of order \d+ channelsync cannot read: .*quantity/) }]);
    expect(await t.app.db.selectFrom('orders').select('id').where('channel_id', '=', wooChannel).where('external_id', '=', good.externalId).executeTakeFirst()).toBeDefined();
  });
});

describe('an order cancelled in channelsync', () => {
  it('is cancelled on its channel once, with its stock released and its fulfilment stopped', async () => {
    const { externalId } = await shopify.createOrder({ lines: [{ sku: 'AS-CAP', quantity: 3 }] });
    await syncOrders(t.app, shopifyChannel);
    const order = await t.app.db.selectFrom('orders').select('id').where('external_id', '=', externalId).executeTakeFirstOrThrow();
    await runStep(t.app, { step: 'allocate', id: order.id });
    const f = await t.app.db.selectFrom('fulfillments').select('id').where('order_id', '=', order.id).executeTakeFirstOrThrow();
    const reserved = async () =>
      (await t.app.db.selectFrom('stock_levels').select('reserved').where('sku_id', '=', await skuId('AS-CAP')).where('location_id', '=', locationId).executeTakeFirstOrThrow()).reserved;
    expect(await reserved()).toBe(3);

    const result = await cancelOrderHere(t.app, order.id, 'customer asked', by);
    expect(result).toMatchObject({ cancelled: true });
    expect(await reserved()).toBe(0);
    expect((await t.app.db.selectFrom('fulfillments').select('state').where('id', '=', f.id).executeTakeFirstOrThrow()).state).toBe('cancelled');
    await expect(runStep(t.app, { step: 'pick', id: f.id })).resolves.toMatchObject({ outcome: expect.stringMatching(/^skipped/) });
    expect((await cancelOrderHere(t.app, order.id, 'again', by)).cancelled).toBe(false);

    await expect(runPush(t.app, { pushId: result.pushId! })).resolves.toEqual({ outcome: 'done' });
    const onStore = shopify.state.orders.get(Number(externalId.split('/').pop()))!;
    expect(onStore.cancelledAt).not.toBeNull();
    // Run once more (a retry after a lost answer): the store has it cancelled already, which is done.
    await t.app.db.updateTable('channel_pushes').set({ status: 'pending' }).where('id', '=', result.pushId!).execute();
    await expect(runPush(t.app, { pushId: result.pushId! })).resolves.toEqual({ outcome: 'done' });
    // The store's copy comes back cancelled and changes nothing more.
    await syncOrders(t.app, shopifyChannel);
    const after = await t.app.db.selectFrom('orders').select(['state', 'channel_state']).where('id', '=', order.id).executeTakeFirstOrThrow();
    expect(after).toEqual({ state: 'cancelled', channel_state: 'cancelled' });
  });
});
