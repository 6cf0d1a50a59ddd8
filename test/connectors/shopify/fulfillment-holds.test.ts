/**
 * channelsync's shipment push against a fulfillment order the merchant (or
 * another app) put on hold on Shopify: the push fails for a person to see
 * (PermanentError: the push is marked failed and kept, never retried by
 * itself) with a message that says what to do, fulfils nothing of what is
 * held, and goes through once the hold is released and the push retried.
 * The holds are placed through the simulator's fulfillmentOrderHold, which
 * answers as the 2026-04 captures recorded Shopify answering.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { RedisRateBudget, RedisSharedKV } from '../../../src/queue/shared-state.ts';
import { PermanentError } from '../../../src/domain/errors.ts';
import type { UnifiedOrder } from '../../../src/domain/order.ts';
import type { FulfillmentPush } from '../../../connectors/types.ts';
import { shopifyFactory, type ShopifyConnector } from '../../../connectors/shopify/index.ts';
import { startShopifySimulator, type ShopifySimulator } from '../../../connectors/shopify/simulator/index.ts';

const PREFIX = `cs-test-shopify-holds-${randomBytes(4).toString('hex')}`;
const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
let sim: ShopifySimulator;
let connector: ShopifyConnector;

beforeAll(async () => {
  sim = await startShopifySimulator({ port: 0, products: 0 });
  await sim.createProduct({ sku: 'HOLD-1', title: 'Held thing', price: '12.00', stock: 50 });
  const config = sim.channelConfig();
  connector = shopifyFactory.create({
    channel: { id: 1, kind: 'shopify', name: 'sim', settings: shopifyFactory.settingsSchema.parse(config.settings), credentials: shopifyFactory.credentialsSchema.parse(config.credentials) },
    budget: new RedisRateBudget(redis, PREFIX),
    kv: new RedisSharedKV(redis, PREFIX),
    log: pino({ level: 'silent' }),
  }) as ShopifyConnector;
}, 30_000);

afterAll(async () => {
  await connector?.close();
  await sim?.close();
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const HOLD = `mutation($id: ID!, $hold: FulfillmentOrderHoldInput!) {
  fulfillmentOrderHold(id: $id, fulfillmentHold: $hold) {
    fulfillmentHold { id }
    fulfillmentOrder { id status }
    remainingFulfillmentOrder { id status }
    userErrors { field message code }
  }
}`;
const RELEASE = `mutation($id: ID!) { fulfillmentOrderReleaseHold(id: $id) { fulfillmentOrder { id status } userErrors { field message code } } }`;
const FULFILLMENT_ORDERS = `query($id: ID!) {
  order(id: $id) { displayFulfillmentStatus fulfillmentOrders(first: 5) { nodes { id status lineItems(first: 5) { nodes { id remainingQuantity } } } } }
}`;

/** An order of `quantity` units, as channelsync reads it, and its one fulfillment order. */
async function order(quantity: number) {
  const { externalId } = await sim.createOrder({ lines: [{ sku: 'HOLD-1', quantity }] });
  const unified = (await connector.fetchOrder(externalId)) as UnifiedOrder;
  const read = await sim.graphql(FULFILLMENT_ORDERS, { id: externalId });
  const fo = read.body.data.order.fulfillmentOrders.nodes[0];
  return { externalId, unified, foId: fo.id as string, foLineId: fo.lineItems.nodes[0].id as string };
}

function shipment(o: { externalId: string; unified: UnifiedOrder }, quantity: number, tracking: string): FulfillmentPush {
  return {
    orderExternalId: o.externalId, shipmentId: 1,
    lines: o.unified.lines.map((l) => ({ lineExternalId: l.externalId, sku: l.sku, quantity })),
    carrier: 'UPS', service: null, trackingNumber: tracking, trackingUrl: null, notifyCustomer: false, completesOrder: true,
  };
}

async function hold(foId: string, lines?: Array<{ id: string; quantity: number }>) {
  const res = await sim.graphql(HOLD, { id: foId, hold: { reason: 'OTHER', reasonNotes: 'staff: check the address', handle: `h-${randomBytes(3).toString('hex')}`, ...(lines ? { fulfillmentOrderLineItems: lines } : {}) } });
  expect(res.body.data.fulfillmentOrderHold.userErrors).toEqual([]);
  return res.body.data.fulfillmentOrderHold;
}

describe('pushing a shipment against a fulfillment order on hold', () => {
  it('fails for a person (not retried, not a success), fulfils nothing, and goes through after the merchant releases the hold', async () => {
    const o = await order(2);
    await hold(o.foId);

    const err = await connector.pushFulfillment(shipment(o, 2, 'HELD-1')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).retryable).toBe(false);
    expect((err as Error).message).toMatch(/on hold on Shopify.*release the hold there, then retry/);
    expect(await sim.fulfillments(o.externalId)).toEqual([]);

    const released = await sim.graphql(RELEASE, { id: o.foId });
    expect(released.body.data.fulfillmentOrderReleaseHold.fulfillmentOrder.status).toBe('OPEN');
    const retried = await connector.pushFulfillment(shipment(o, 2, 'HELD-1'));
    expect(retried.alreadyDone).toBe(false);
    expect(await sim.fulfillments(o.externalId)).toHaveLength(1);
    expect((await connector.fetchOrder(o.externalId))?.fulfillmentStatus).toBe('fulfilled');
  }, 30_000);

  it('a hold placed between channelsync reading the order and creating the fulfillment is refused by Shopify and fails the same way', async () => {
    const o = await order(1);
    // The merchant holds the fulfillment order (through Shopify's API) right after channelsync read it as
    // open: just before the connector's fulfillmentCreate goes out. The answer it then gets is the simulator's own.
    const client = (connector as unknown as { client: { graphql: (q: string, ...rest: unknown[]) => Promise<unknown> } }).client;
    const send = client.graphql.bind(client);
    let heldFirst = false;
    client.graphql = async (q: string, ...rest: unknown[]) => {
      if (/fulfillmentCreate\(/.test(q) && !heldFirst) {
        heldFirst = true;
        await hold(o.foId);
      }
      return send(q, ...rest);
    };
    const err = await connector.pushFulfillment(shipment(o, 1, 'RACE-1')).catch((e: unknown) => e);
    client.graphql = send;
    expect(heldFirst).toBe(true);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toMatch(/Shopify refused the fulfillment.*on_hold/);
    expect(await sim.fulfillments(o.externalId)).toEqual([]);
  }, 30_000);

  it('with only some units held, ships the open ones and fails for the held ones without a partial fulfillment', async () => {
    const o = await order(3);
    const placed = await hold(o.foId, [{ id: o.foLineId, quantity: 2 }]);
    expect(placed.fulfillmentOrder.status).toBe('ON_HOLD');
    expect(placed.remainingFulfillmentOrder.status).toBe('OPEN');

    // All three units: two are held, so nothing is sent.
    const err = await connector.pushFulfillment(shipment(o, 3, 'PART-ALL')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toMatch(/has 1 of 3 units open to fulfil: 2 are on hold on Shopify/);
    expect(await sim.fulfillments(o.externalId)).toEqual([]);

    // The one open unit ships from the fulfillment order the hold left open.
    const one = await connector.pushFulfillment(shipment(o, 1, 'PART-ONE'));
    expect(one.alreadyDone).toBe(false);
    const shipped = await sim.fulfillments(o.externalId);
    expect(shipped).toHaveLength(1);
    const after = (await sim.graphql(FULFILLMENT_ORDERS, { id: o.externalId })).body.data.order;
    expect(after.fulfillmentOrders.nodes.map((fo: { status: string }) => fo.status)).toEqual(['ON_HOLD', 'CLOSED']);
    expect(after.displayFulfillmentStatus).toBe('PARTIALLY_FULFILLED');
  }, 30_000);

  it('after staff cancel the fulfillment on Shopify, a retried push ships again from the reopened units: not "already done", not doubled', async () => {
    const o = await order(2);
    const first = await connector.pushFulfillment(shipment(o, 2, 'STAFF-CANCEL-1'));
    const cancelled = await sim.graphql(`mutation($id: ID!) { fulfillmentCancel(id: $id) { fulfillment { status } userErrors { message } } }`, { id: first.externalRef });
    expect(cancelled.body.data.fulfillmentCancel).toEqual({ fulfillment: { status: 'CANCELLED' }, userErrors: [] });
    // Shopify leaves the old fulfillment order CLOSED (its line showing the units again) and opens a new one.
    const reopened = (await sim.graphql(FULFILLMENT_ORDERS, { id: o.externalId })).body.data.order;
    expect(reopened.displayFulfillmentStatus).toBe('UNFULFILLED');
    expect(reopened.fulfillmentOrders.nodes.map((fo: { status: string }) => fo.status)).toEqual(['CLOSED', 'OPEN']);

    const again = await connector.pushFulfillment(shipment(o, 2, 'STAFF-CANCEL-1'));
    expect(again.alreadyDone).toBe(false);
    expect(again.externalRef).not.toBe(first.externalRef);
    const orderId = Number(o.externalId.split('/').pop());
    const live = [...sim.state.fulfillments.values()].filter((f) => f.orderId === orderId && f.status === 'SUCCESS');
    expect(live.map((f) => f.lines.reduce((n, l) => n + l.quantity, 0))).toEqual([2]);
    expect((await connector.fetchOrder(o.externalId))?.fulfillmentStatus).toBe('fulfilled');
  }, 30_000);
});


describe('a shipment spread over several fulfillment orders', () => {
  const MOVE = `mutation($id: ID!, $to: ID!, $lines: [FulfillmentOrderLineItemInput!]) {
    fulfillmentOrderMove(id: $id, newLocationId: $to, fulfillmentOrderLineItems: $lines) { movedFulfillmentOrder { id } userErrors { message } }
  }`;
  const SPLIT = `mutation($splits: [FulfillmentOrderSplitInput!]!) { fulfillmentOrderSplit(fulfillmentOrderSplits: $splits) { userErrors { message } } }`;
  /** Live fulfillments of the order as [location id, units], sorted. */
  const shipped = (externalId: string) => {
    const orderId = Number(externalId.split('/').pop());
    return [...sim.state.fulfillments.values()]
      .filter((f) => f.orderId === orderId && f.status === 'SUCCESS')
      .map((f) => [f.locationId, f.lines.reduce((n, l) => n + l.quantity, 0)])
      .sort();
  };

  // The state read does not ask where fulfillment orders are (2 points each); a shipment over
  // several reads their locations: one fulfillmentCreate may not span two.
  it('is one fulfillment per location: two after a unit moved to a second warehouse, one after a split at the same one', async () => {
    const second = sim.state.addLocation('Second warehouse');
    const moved = await order(3);
    const move = await sim.graphql(MOVE, { id: moved.foId, to: `gid://shopify/Location/${second.id}`, lines: [{ id: moved.foLineId, quantity: 1 }] });
    expect(move.body.data.fulfillmentOrderMove.userErrors).toEqual([]);
    expect((await connector.pushFulfillment(shipment(moved, 3, 'TWO-PLACES'))).alreadyDone).toBe(false);
    expect(shipped(moved.externalId)).toEqual([[sim.state.primaryLocationId, 2], [second.id, 1]].sort());
    expect((await connector.pushFulfillment(shipment(moved, 3, 'TWO-PLACES'))).alreadyDone).toBe(true);

    const split = await order(3);
    const res = await sim.graphql(SPLIT, { splits: [{ fulfillmentOrderId: split.foId, fulfillmentOrderLineItems: [{ id: split.foLineId, quantity: 1 }] }] });
    expect(res.body.data.fulfillmentOrderSplit.userErrors).toEqual([]);
    expect((await connector.pushFulfillment(shipment(split, 3, 'ONE-PLACE'))).alreadyDone).toBe(false);
    expect(shipped(split.externalId)).toEqual([[sim.state.primaryLocationId, 3]]);
  }, 30_000);
});
