/**
 * What the capture-replay harness (test/captures/) does not assert about
 * `refundCreate` and `orderCancel`: it replays every request of the refund and
 * cancel captures as recorded (user errors, refunds, the orders read after).
 * Kept here: how the connector reads a refund back (its own document and
 * mapping, which no capture holds), and the refusal of an order cancelled
 * already, recorded only in a cleanup capture whose orders the harness cannot
 * rebuild (order-management-cleanup is out of its scope).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startShopifySimulator, type ShopifySimulator } from '../../../connectors/shopify/simulator/index.ts';
import { ORDER_REFUNDS_QUERY } from '../../../connectors/shopify/documents.ts';
import { gqlOrderRefundsSchema, mapGraphqlRefunds } from '../../../connectors/shopify/mapping.ts';

const CAPTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures/shopify/captures');
const load = (name: string): any => JSON.parse(readFileSync(path.join(CAPTURES, name), 'utf8'));
const document = (name: string) => readFileSync(path.join(CAPTURES, 'documents', name), 'utf8');

const ORDER_CREATE = `mutation ($order: OrderCreateOrderInput!) {
  orderCreate(order: $order) { order { id lineItems(first: 5) { nodes { id } } transactions { id } } userErrors { field message } }
}`;

let sim: ShopifySimulator;

/** An order like the capture's: custom lines at a price, shipping, and one sale through `gateway`. */
async function order(lines: Array<{ quantity: number; price: string }>, opts: { shipping?: string; paid: string; gateway: string }) {
  const res = await sim.graphql(ORDER_CREATE, {
    order: {
      lineItems: lines.map((l, i) => ({ title: `line ${i}`, quantity: l.quantity, priceSet: { shopMoney: { amount: l.price, currencyCode: 'USD' } } })),
      shippingLines: opts.shipping ? [{ title: 'Standard', priceSet: { shopMoney: { amount: opts.shipping, currencyCode: 'USD' } } }] : [],
      transactions: [{ kind: 'SALE', status: 'SUCCESS', gateway: opts.gateway, amountSet: { shopMoney: { amount: opts.paid, currencyCode: 'USD' } } }],
    },
  });
  const o = res.body.data.orderCreate.order;
  return { id: o.id as string, lines: o.lineItems.nodes.map((n: { id: string }) => n.id) as string[], sale: o.transactions[0].id as string };
}

/** The captured variables with the capture's ids swapped for the simulator's. */
function remap<T>(vars: T, ids: Record<string, string>): T {
  return JSON.parse(JSON.stringify(vars), (_k, v) => (typeof v === 'string' && v in ids ? ids[v] : v)) as T;
}

beforeAll(async () => {
  sim = await startShopifySimulator({ port: 0, products: 1, rateLimit: { restoreRate: 100000, bucketSize: 100000 } });
});
afterAll(async () => {
  await sim.close();
});

describe('refundCreate as captured', () => {
  it('a partial refund of one line (restocked on return) and part of the shipping, and how the connector reads it back (2025-01)', async () => {
    const c = load('2025-01_orders_refund-create-partial-shipping-restock-parity.json');
    // The capture's order: 2 x 10.00 and 5.00 shipping, 25.00 paid.
    const o = await order([{ quantity: 2, price: '10.00' }], { shipping: '5.00', paid: '25.00', gateway: 'manual' });
    const ids = {
      'gid://shopify/Order/8838022037810': o.id,
      'gid://shopify/LineItem/19495196164402': o.lines[0]!,
      'gid://shopify/OrderTransaction/10572748128562': o.sale,
      'gid://shopify/Location/112829759794': sim.locationId,
    };
    const res = await sim.graphql(document('refundCreate-partial-shipping-restock-parity.graphql'), remap(c.variables, ids));
    const got = res.body.data.refundCreate;
    const captured = c.mutation.response.data.refundCreate;
    expect(got.userErrors).toEqual(captured.userErrors);
    const shape = (r: any) => ({
      note: r.note,
      total: r.totalRefundedSet.shopMoney.amount,
      // (The document does not select `restocked`, which the recorded answer shows.)
      lines: r.refundLineItems.nodes.map((n: any) => [n.quantity, n.restockType, n.subtotalSet.shopMoney.amount]),
      transactions: r.transactions.nodes.map((t: any) => [t.kind, t.status, t.gateway, t.amountSet.shopMoney.amount]),
    });
    expect(shape(got.refund)).toEqual(shape(captured.refund));
    expect(got.order.displayFinancialStatus).toBe(captured.order.displayFinancialStatus);
    expect(got.order.totalRefundedSet.shopMoney.amount).toBe(captured.order.totalRefundedSet.shopMoney.amount);

    // What the connector reads for the order, mapped: the money, the shipping part, the restocked line.
    const read = await sim.graphql(ORDER_REFUNDS_QUERY, { id: o.id });
    expect(read.body.errors).toBeUndefined();
    const refunds = mapGraphqlRefunds(gqlOrderRefundsSchema.parse(read.body.data).order!.refunds);
    expect(refunds).toEqual([
      { externalId: got.refund.id, createdAt: expect.any(Date), amount: '15.00', shipping: '5.00', note: 'partial line item and shipping refund', lines: [{ lineExternalId: o.lines[0], quantity: 1, amount: '10.00', restock: true }] },
    ]);
  });

  it('a refund of the whole order (NO_RESTOCK, full shipping): subtotalSet 0.0 as recorded, yet the connector records the 10.00 given back for the line (2025-01)', async () => {
    const c = load('2025-01_orders_refund-create-full-parity.json');
    // The capture's order: 1 x 10.00 and 5.00 shipping, 15.00 paid.
    const o = await order([{ quantity: 1, price: '10.00' }], { shipping: '5.00', paid: '15.00', gateway: 'manual' });
    const ids = {
      'gid://shopify/Order/8838022103346': o.id,
      'gid://shopify/LineItem/19495196295474': o.lines[0]!,
      'gid://shopify/OrderTransaction/10572748226866': o.sale,
    };
    const res = await sim.graphql(document('refundCreate-partial-shipping-restock-parity.graphql'), remap(c.variables, ids));
    const got = res.body.data.refundCreate;
    const captured = c.mutation.response.data.refundCreate;
    expect(got.userErrors).toEqual([]);
    const lines = (r: any) => r.refundLineItems.nodes.map((n: any) => [n.quantity, n.restockType, n.subtotalSet.shopMoney.amount]);
    expect(lines(got.refund)).toEqual(lines(captured.refund));
    expect(got.order.displayFinancialStatus).toBe('REFUNDED');

    const read = await sim.graphql(ORDER_REFUNDS_QUERY, { id: o.id });
    const orderLines = [{ externalId: o.lines[0]!, unitPrice: '10.00' }];
    for (const known of [orderLines, []]) {
      const [refund] = mapGraphqlRefunds(gqlOrderRefundsSchema.parse(read.body.data).order!.refunds, known);
      expect(refund).toMatchObject({ amount: '15.00', shipping: '5.00', lines: [{ lineExternalId: o.lines[0], quantity: 1, amount: '10.00', restock: false }] });
    }
  });

  it("splits a refund's line money by the order lines' prices, cent for cent", () => {
    const bag = (amount: string) => ({ shopMoney: { amount } });
    const refund = {
      id: 'gid://shopify/Refund/1', createdAt: '2026-06-22T23:01:18Z', note: null, totalRefundedSet: bag('35.00'),
      refundShippingLines: { nodes: [{ subtotalAmountSet: bag('5.00') }] },
      refundLineItems: {
        nodes: [
          { quantity: 1, restockType: 'NO_RESTOCK', lineItem: { id: 'a' }, subtotalSet: bag('0.0') },
          { quantity: 2, restockType: 'RETURN', lineItem: { id: 'b' }, subtotalSet: bag('20.0') },
        ],
        pageInfo: { hasNextPage: false },
      },
    };
    const orderLines = [{ externalId: 'a', unitPrice: '10.00' }, { externalId: 'b', unitPrice: '10.00' }];
    const [mapped] = mapGraphqlRefunds([refund], orderLines);
    expect(mapped!.lines.map((l) => [l.lineExternalId, l.amount, l.restock])).toEqual([['a', '10.00', false], ['b', '20.00', true]]);
    // A third of 10.00 each: 3.33, 3.33 and the cent left over, 3.34.
    const thirds = mapGraphqlRefunds([{ ...refund, totalRefundedSet: bag('10.00'), refundShippingLines: { nodes: [] }, refundLineItems: { ...refund.refundLineItems, nodes: [0, 1, 2].map((i) => ({ quantity: 1, restockType: 'NO_RESTOCK', lineItem: { id: `l${i}` }, subtotalSet: bag('1.00') })) } }]);
    expect(thirds[0]!.lines.map((l) => l.amount)).toEqual(['3.33', '3.33', '3.34']);
  });
});

describe('orderCancel as captured', () => {
  it('refuses an order cancelled already, and one with fulfillments (2026-04, 2025-01)', async () => {
    const cleanup = load('2026-04_orders_order-management-cleanup.json').cleanup['order:gid://shopify/Order/8733114532146'];
    const o = await order([{ quantity: 1, price: '10.00' }], { paid: '10.00', gateway: 'manual' });
    await sim.graphql(document('orderCancel-parity.graphql'), { orderId: o.id, restock: false, reason: 'OTHER', notifyCustomer: false });
    const again = await sim.graphql(cleanup.query, { ...cleanup.variables, orderId: o.id });
    expect(again.body.data.orderCancel).toEqual(cleanup.response.data.orderCancel);

    const name = load('2025-01_shipping-fulfillments_fulfillment-create-name.json');
    const shipped = await sim.graphql(name.setup.orderCreate.query, name.setup.orderCreate.variables);
    const shippedId = shipped.body.data.orderCreate.order.id;
    const fo = await sim.graphql(`query ($id: ID!) { order(id: $id) { fulfillmentOrders(first: 1) { nodes { id } } } }`, { id: shippedId });
    const created = await sim.graphql(name.firstFulfillmentCreate.query, {
      fulfillment: { lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: fo.body.data.order.fulfillmentOrders.nodes[0].id }], notifyCustomer: false },
    });
    expect(created.body.data.fulfillmentCreate.userErrors).toEqual([]);
    const step = name.cleanup[name.orderId].cancel;
    const refused = await sim.graphql(step.query, { ...step.variables, orderId: shippedId });
    expect(refused.body.data.orderCancel).toEqual(step.response.data.orderCancel);
  });
});
