/**
 * Planning a shipment onto fulfillment orders, from a real order's
 * fulfillment orders (2025-01 fulfillmentCreate capture).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../../src/domain/errors.ts';
import { alreadyFulfilled, planFulfillments, type FulfillmentState } from '../../../connectors/shopify/fulfillment.ts';

const capture = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../../shared/fixtures/shopify/captures/2025-01_shipping-fulfillments_fulfillment-create-name.json', import.meta.url)), 'utf8'),
);
const order = capture.setup.orderCreate.response.data.orderCreate.order;
const LINE = 'gid://shopify/LineItem/19495367999794';

function state(extraFo: FulfillmentState['fulfillmentOrders']['nodes'] = []): FulfillmentState {
  return {
    id: order.id,
    cancelledAt: null,
    fulfillments: [],
    fulfillmentOrders: {
      nodes: [
        ...order.fulfillmentOrders.nodes.map((fo: any) => ({
          id: fo.id,
          status: fo.status,
          lineItems: { nodes: fo.lineItems.nodes, pageInfo: { hasNextPage: false } },
        })),
        ...extraFo,
      ],
      pageInfo: { hasNextPage: false },
    },
  };
}

describe('planFulfillments', () => {
  it('puts the shipped units on the open fulfillment order line (one fulfillment order: no location needed)', () => {
    expect(planFulfillments([{ lineExternalId: LINE, sku: 'X', quantity: 2 }], state())).toEqual([
      {
        locationId: null,
        lineItemsByFulfillmentOrder: [
          {
            fulfillmentOrderId: 'gid://shopify/FulfillmentOrder/9774466990386',
            fulfillmentOrderLineItems: [{ id: 'gid://shopify/FulfillmentOrderLineItem/19663777169714', quantity: 2 }],
          },
        ],
      },
    ]);
  });

  it('splits one line over two locations into two fulfillments', () => {
    const second = {
      id: 'gid://shopify/FulfillmentOrder/2',
      status: 'OPEN',
      lineItems: { nodes: [{ id: 'gid://shopify/FulfillmentOrderLineItem/9', remainingQuantity: 3, lineItem: { id: LINE } }], pageInfo: { hasNextPage: false } },
    };
    const first = order.fulfillmentOrders.nodes[0].id as string;
    const apart = new Map([[first, 'gid://shopify/Location/1'], [second.id, 'gid://shopify/Location/2']]);
    const plans = planFulfillments([{ lineExternalId: LINE, sku: 'X', quantity: 4 }], state([second]), apart);
    expect(plans.map((p) => [p.locationId, p.lineItemsByFulfillmentOrder[0]!.fulfillmentOrderLineItems[0]!.quantity])).toEqual([
      ['gid://shopify/Location/1', 2],
      ['gid://shopify/Location/2', 2],
    ]);
    // The same two fulfillment orders at one location: one create spanning both.
    const together = new Map([[first, 'gid://shopify/Location/1'], [second.id, 'gid://shopify/Location/1']]);
    const one = planFulfillments([{ lineExternalId: LINE, sku: 'X', quantity: 4 }], state([second]), together);
    expect(one.map((p) => [p.locationId, p.lineItemsByFulfillmentOrder.map((fo) => fo.fulfillmentOrderId)])).toEqual([['gid://shopify/Location/1', [first, second.id]]]);
  });

  it('refuses more units than are open, naming the line', () => {
    expect(() => planFulfillments([{ lineExternalId: LINE, sku: 'X', quantity: 3 }], state())).toThrow(PermanentError);
    expect(() => planFulfillments([{ lineExternalId: LINE, sku: 'X', quantity: 3 }], state())).toThrow(/SKU X\) has 2 of 3 units/);
  });

  it('finds what a tracking number already carries, ignoring cancelled fulfillments', () => {
    const s = state();
    const carried = (quantity: number) => ({ nodes: [{ quantity, lineItem: { id: LINE } }], pageInfo: { hasNextPage: false } });
    s.fulfillments = [
      { id: 'gid://shopify/Fulfillment/1', status: 'CANCELLED', trackingInfo: [{ company: 'UPS', number: 'T1', url: null }], fulfillmentLineItems: carried(2) },
      { id: 'gid://shopify/Fulfillment/2', status: 'SUCCESS', trackingInfo: [{ company: 'UPS', number: 'T1', url: null }], fulfillmentLineItems: carried(2) },
    ];
    expect(alreadyFulfilled(s, 'T1', [{ lineExternalId: LINE, sku: 'X', quantity: 2 }])).toEqual({ fulfillmentIds: ['gid://shopify/Fulfillment/2'], remaining: [] });
    expect(alreadyFulfilled(s, 'T2', [{ lineExternalId: LINE, sku: 'X', quantity: 2 }])).toEqual({
      fulfillmentIds: [],
      remaining: [{ lineExternalId: LINE, sku: 'X', quantity: 2 }],
    });
  });

  it('sends only the rest of a shipment when one location of it reached Shopify before a failure', () => {
    const s = state();
    const OTHER = 'gid://shopify/LineItem/2';
    s.fulfillments = [
      { id: 'gid://shopify/Fulfillment/9', status: 'SUCCESS', trackingInfo: [{ company: 'UPS', number: 'T9', url: null }], fulfillmentLineItems: { nodes: [{ quantity: 1, lineItem: { id: LINE } }], pageInfo: { hasNextPage: false } } },
    ];
    const lines = [
      { lineExternalId: LINE, sku: 'X', quantity: 1 },
      { lineExternalId: OTHER, sku: 'Y', quantity: 3 },
    ];
    expect(alreadyFulfilled(s, 'T9', lines)).toEqual({ fulfillmentIds: ['gid://shopify/Fulfillment/9'], remaining: [{ lineExternalId: OTHER, sku: 'Y', quantity: 3 }] });
  });
});
