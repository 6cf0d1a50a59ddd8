/** Orders v0 payloads from Amazon's own models (fixtures/amazon/examples) mapped to the unified model. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buyerCancelRequest, orderItemSchema, orderSchema, unitPrice } from '../../../connectors/amazon/mapping.ts';
import { readOrder } from '../../../connectors/amazon/pull.ts';

const EXAMPLES = path.resolve(import.meta.dirname, '../../../../shared/fixtures/amazon/examples/ordersV0.json');
const ERRORS = path.resolve(import.meta.dirname, '../../../../shared/fixtures/amazon/errors.json');
const ops = (JSON.parse(readFileSync(EXAMPLES, 'utf8')) as { operations: Array<{ operationId: string; cases: Array<{ status: number; kind: string; request?: { parameters: Record<string, { value?: unknown }> }; response: any }> }> }).operations;
const cases = (op: string) => ops.find((o) => o.operationId === op)!.cases;
const staticCase = (op: string, param: string, value: string) => cases(op).find((c) => c.request?.parameters[param]?.value === value)!;

const listOrders = staticCase('getOrders', 'CreatedAfter', 'TEST_CASE_200').response.payload.Orders as unknown[];
const items200 = staticCase('getOrderItems', 'orderId', 'TEST_CASE_200').response.payload.OrderItems as unknown[];

function read(order: unknown, items: unknown[]) {
  const result = readOrder(order, items);
  if ('reason' in result) throw new Error(result.reason);
  return result.order;
}

describe('Amazon order mapping (sandbox payloads)', () => {
  it('maps an unshipped MFN order with exact money and its SKU', () => {
    const order = read(listOrders[0], items200);
    expect(order).toMatchObject({
      externalId: '902-1845936-5435065',
      orderNumber: '902-1845936-5435065',
      channelState: 'open',
      financialStatus: 'paid',
      fulfillmentStatus: 'unfulfilled',
      currency: 'USD',
      totals: { subtotal: '10.00', tax: '1.01', shipping: '0.00', discount: '0.00', total: '11.01' },
    });
    expect(order.lines).toEqual([
      expect.objectContaining({ externalId: '05015851154158', sku: 'NABetaASINB00551Q3CS', quantity: 1, unitPrice: '10.00', tax: '1.01', quantityFulfilledOnChannel: 0, productExternalId: 'B00551Q3CS' }),
    ]);
    expect(order.updatedAt.toISOString()).toBe('1970-01-19T03:58:32.000Z');
  });

  it('reports a buyer cancel request without cancelling the order', () => {
    const order = read(listOrders[0], items200);
    expect(order.channelState).toBe('open');
    expect(buyerCancelRequest(items200.map((i) => orderItemSchema.parse(i)))).toEqual({ reason: 'Found cheaper somewhere else.' });
    // On the unified order, for a person: dated by the order version that carries it (Amazon gives no time of its own).
    expect(order.cancelRequest).toEqual({ requestedAt: order.updatedAt, reason: 'Found cheaper somewhere else.' });
    const withoutRequest = items200.map((i) => ({ ...(i as object), BuyerRequestedCancel: { IsBuyerRequestedCancel: 'false', BuyerCancelReason: '' } }));
    expect(read(listOrders[0], withoutRequest).cancelRequest).toBeNull();
  });

  it('records an FBA order with every unit fulfilled by Amazon, nothing left for us to ship', () => {
    const fba = staticCase('getOrder', 'orderId', 'TEST_CASE_IBA_200').response.payload;
    expect(fba.FulfillmentChannel).toBe('AFN');
    const order = read(fba, items200);
    expect(order.fulfillmentStatus).toBe('fulfilled');
    expect(order.currency).toBe('EUR');
    expect(order.totals.total).toBe('100.00');
    for (const line of order.lines) expect(line.quantityFulfilledOnChannel).toBe(line.quantity);
  });

  it('maps a Pending order (no OrderTotal yet) as pending payment, with the buyer and address it carries', () => {
    const pending = cases('getOrder').find((c) => c.kind === 'responses.examples')!.response.payload;
    expect(pending.OrderStatus).toBe('Pending');
    expect(pending.OrderTotal).toBeUndefined();
    const order = read(pending, items200);
    expect(order.financialStatus).toBe('pending');
    expect(order.totals.total).toBe('11.01'); // 10.00 + 1.01 tax, summed from the items
    expect(order.customer).toMatchObject({ email: 'user@example.com', firstName: 'John', lastName: 'Doe' });
    expect(order.shippingAddress).toMatchObject({ name: 'Michigan address', address1: '1 Cross St.', city: 'Canton', zip: '48817', countryCode: 'US' });
  });

  it('divides ItemPrice (all units) into an exact unit price', () => {
    const jp = cases('getOrderItems').find((c) => c.kind === 'responses.examples')!.response.payload.OrderItems as unknown[];
    const order = read({ ...(listOrders[0] as object), OrderTotal: { CurrencyCode: 'JPY', Amount: '61.89' } }, jp);
    const two = order.lines.find((l) => l.quantity === 2)!;
    expect(two.unitPrice).toBe('8.975'); // ItemPrice 17.95 for 2 units
    expect(order.totals.subtotal).toBe('43.94');
    expect(order.totals.shipping).toBe('1.26');
    expect(unitPrice('10.00', 3)).toBe('3.3333');
  });

  it('maps an address read without a Restricted Data Token to nulls, not empty strings', () => {
    const errors = JSON.parse(readFileSync(ERRORS, 'utf8')) as { entries: Array<{ id: string; body?: any }> };
    const address = errors.entries.find((e) => e.id === 'pii-not-returned-without-rdt')!.body.payload.ShippingAddress;
    const order = read({ ...(listOrders[0] as object), ShippingAddress: address }, items200);
    expect(order.shippingAddress).toEqual({
      name: null, company: null, address1: null, address2: null, city: 'Roma', province: 'RM', provinceCode: 'RM', zip: '00197', country: null, countryCode: 'IT', phone: null,
    });
    expect(order.customer).toBeNull();
  });

  it('sets aside an order it cannot read, with the reason', () => {
    const bad = { ...(listOrders[0] as object), OrderTotal: { CurrencyCode: 'USD', Amount: 'eleven' } };
    expect(readOrder(bad, items200)).toEqual({ reason: expect.stringMatching(/^order: OrderTotal\.Amount: expected a decimal amount/) });
    expect(readOrder(listOrders[0], [{ ...(items200[0] as object), QuantityOrdered: -1 }])).toEqual({ reason: expect.stringMatching(/^item 0: QuantityOrdered/) });
    expect(orderSchema.safeParse({ AmazonOrderId: 'x' }).success).toBe(false);
  });
});
