/**
 * Mapping replays real Shopify payloads (../shared/fixtures/shopify) into the
 * unified model and checks exact values: money as exact decimal strings,
 * REST ids as the same GIDs a GraphQL poll returns.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  gqlLineItemSchema,
  gqlOrderSchema,
  mapGraphqlOrder,
  mapRestOrder,
  restOrderSchema,
  financialStatus,
  fulfillmentStatus,
} from '../../../connectors/shopify/mapping.ts';

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/shopify/', import.meta.url));
const fixture = (name: string): any => JSON.parse(readFileSync(FIXTURES + name, 'utf8'));

describe('REST webhook body (orders/create, real delivery)', () => {
  const body = fixture('webhook-orders-create.json');
  const order = mapRestOrder(restOrderSchema.parse(body), body);

  it('maps the order header', () => {
    expect(order.externalId).toBe('gid://shopify/Order/6198432301356');
    expect(order.orderNumber).toBe('#1054');
    expect(order.channelState).toBe('open');
    expect(order.financialStatus).toBe('paid');
    expect(order.fulfillmentStatus).toBe('unfulfilled');
    expect(order.currency).toBe('HKD');
    expect(order.presentmentCurrency).toBeNull();
    expect(order.placedAt.toISOString()).toBe('2025-01-23T06:59:37.000Z');
    expect(order.updatedAt.toISOString()).toBe('2025-01-23T06:59:38.000Z');
    expect(order.cancelledAt).toBeNull();
    expect(order.closedAt).toBeNull();
    expect(order.raw).toBe(body);
  });

  it('maps totals exactly: subtotal - discount + shipping + tax = total', () => {
    expect(order.totals).toEqual({ subtotal: '399.00', shipping: '20.00', tax: '0.00', discount: '25.00', total: '394.00' });
  });

  it('maps customer and addresses, blank strings as null', () => {
    expect(order.customer).toEqual({
      externalId: 'gid://shopify/Customer/8658316394796',
      email: 'redacted@example.com',
      firstName: 'Redacted',
      lastName: null,
      phone: '+10000000000',
    });
    expect(order.shippingAddress).toEqual({
      name: 'Redacted Person',
      company: null,
      address1: null,
      address2: null,
      city: null,
      province: null,
      provinceCode: null,
      zip: null,
      country: 'Hong Kong',
      countryCode: 'HK',
      phone: '+10000000000',
    });
    expect(order.billingAddress).toEqual(order.shippingAddress);
  });

  it('maps every line with its allocated discounts, empty SKU as null', () => {
    expect(order.lines).toHaveLength(4);
    expect(order.lines[0]).toEqual({
      externalId: 'gid://shopify/LineItem/15514975502636',
      sku: null,
      title: 'aaa0103測試商品11aa',
      quantity: 1,
      unitPrice: '99.00',
      tax: '0.00',
      discount: '9.78',
      productExternalId: 'gid://shopify/Product/9782123692332',
      variantExternalId: 'gid://shopify/ProductVariant/50398373085484',
      inventoryItemExternalId: null,
      quantityFulfilledOnChannel: 0,
    });
    expect(order.lines.map((l) => [l.title, l.unitPrice, l.discount])).toEqual([
      ['aaa0103測試商品11aa', '99.00', '9.78'],
      ['Green Snowboard', '100.00', '5.08'],
      ['Orange Snowboard', '100.00', '5.07'],
      ['Red Snowboard', '100.00', '5.07'],
    ]);
  });

  it('maps a cancelled, partially fulfilled delivery', () => {
    const cancelled = {
      ...body,
      cancelled_at: '2025-01-24T10:00:00-05:00',
      fulfillment_status: 'partial',
      financial_status: 'refunded',
    };
    const o = mapRestOrder(restOrderSchema.parse(cancelled));
    expect(o.channelState).toBe('cancelled');
    expect(o.cancelledAt?.toISOString()).toBe('2025-01-24T15:00:00.000Z');
    expect(o.fulfillmentStatus).toBe('partially_fulfilled');
    expect(o.financialStatus).toBe('refunded');
  });
});

describe('GraphQL order (fields from real captures)', () => {
  // Order header as read by the 2026-04 catalog capture; line item as
  // returned by the 2025-01 orderCreate capture. Fields those captures did not
  // select are filled in below, visibly.
  const catalog = fixture('captures/2026-04_orders_order-catalog-count-read.json');
  const head = catalog.response.data.seedCatalog.nodes[0];
  const created = fixture('captures/2025-01_orders_order-create-line-item-fields.json');
  const line = created.mutation.response.data.orderCreate.order.lineItems.nodes[0];

  const payload = {
    ...head,
    cancelledAt: null,
    closed: false,
    closedAt: null,
    currencyCode: 'CAD',
    presentmentCurrencyCode: 'USD',
    phone: null,
    currentShippingPriceSet: { shopMoney: { amount: '5.0', currencyCode: 'CAD' } },
    currentTotalTaxSet: { shopMoney: { amount: '2.6', currencyCode: 'CAD' } },
    currentTotalDiscountsSet: { shopMoney: { amount: '0.0', currencyCode: 'CAD' } },
    customer: null,
    billingAddress: null,
    shippingAddress: {
      name: 'Ada Lovelace', company: null, address1: '1 Main St', address2: null, city: 'Ottawa',
      province: 'Ontario', provinceCode: 'ON', zip: 'K1A 0B1', country: 'Canada', countryCodeV2: 'CA', phone: null,
    },
    lineItems: {
      nodes: [
        {
          ...line,
          name: line.title,
          currentQuantity: 1,
          unfulfilledQuantity: 1,
          taxLines: [{ priceSet: { shopMoney: { amount: '1.56' } } }, { priceSet: { shopMoney: { amount: '1.04' } } }],
          variant: { id: 'gid://shopify/ProductVariant/1', inventoryItem: { id: 'gid://shopify/InventoryItem/2' } },
        },
      ],
      pageInfo: { hasNextPage: false, endCursor: null },
    },
  };

  it('maps header, money (Decimal "55.0" -> "55.00") and statuses', () => {
    const parsed = gqlOrderSchema.parse(payload);
    const order = mapGraphqlOrder(parsed, parsed.lineItems.nodes, payload);
    expect(order.externalId).toBe('gid://shopify/Order/8837991727410');
    expect(order.orderNumber).toBe('#1494');
    expect(order.placedAt.toISOString()).toBe('2026-06-22T22:34:00.000Z');
    expect(order.updatedAt.toISOString()).toBe('2026-06-22T22:34:02.000Z');
    expect(order.financialStatus).toBe('paid');
    expect(order.fulfillmentStatus).toBe('unfulfilled');
    expect(order.currency).toBe('CAD');
    expect(order.presentmentCurrency).toBe('USD');
    expect(order.totals).toEqual({ subtotal: '12.00', shipping: '5.00', tax: '2.60', discount: '0.00', total: '55.00' });
    expect(order.customer).toEqual({
      externalId: null,
      email: 'hermes-draft-order-complete-20260622223358@example.com',
      firstName: null,
      lastName: null,
      phone: null,
    });
    expect(order.shippingAddress?.countryCode).toBe('CA');
    expect(order.shippingAddress?.provinceCode).toBe('ON');
  });

  it('uses currentQuantity (after edits), not the ordered quantity', () => {
    const parsed = gqlOrderSchema.parse(payload);
    const [l] = mapGraphqlOrder(parsed, parsed.lineItems.nodes).lines;
    expect(l).toEqual({
      externalId: 'gid://shopify/LineItem/19312607822130',
      sku: 'LINE-FIELDS-1778207356340',
      title: 'Line item field coverage',
      quantity: 1,
      unitPrice: '12.00',
      tax: '2.60',
      discount: '0.00',
      productExternalId: 'gid://shopify/Product/9801098789170',
      variantExternalId: 'gid://shopify/ProductVariant/1',
      inventoryItemExternalId: 'gid://shopify/InventoryItem/2',
      quantityFulfilledOnChannel: 0,
    });
  });

  it('rejects a payload missing a field it must have, naming the path', () => {
    const { currentTotalPriceSet: _drop, ...rest } = payload;
    const result = gqlOrderSchema.safeParse(rest);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['currentTotalPriceSet']);
    expect(gqlLineItemSchema.safeParse({ ...payload.lineItems.nodes[0], currentQuantity: '1' }).success).toBe(false);
  });

  it('knows every status enum value of the 2026-07 schema', () => {
    for (const s of ['PENDING', 'AUTHORIZED', 'PARTIALLY_PAID', 'PARTIALLY_REFUNDED', 'VOIDED', 'PAID', 'REFUNDED', 'EXPIRED']) {
      expect(financialStatus(s)).not.toBe('unknown');
    }
    for (const s of ['UNFULFILLED', 'PARTIALLY_FULFILLED', 'FULFILLED', 'RESTOCKED', 'PENDING_FULFILLMENT', 'OPEN', 'IN_PROGRESS', 'ON_HOLD', 'SCHEDULED', 'REQUEST_DECLINED']) {
      expect(fulfillmentStatus(s)).not.toBe('unknown');
    }
    expect(financialStatus(null)).toBe('unknown');
  });
});
