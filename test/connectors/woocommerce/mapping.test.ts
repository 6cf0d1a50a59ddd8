import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseOrder, wooOrderSchema, mapOrder, mapRefunds, wooRefundSchema } from '../../../connectors/woocommerce/mapping.ts';
import { plainOrder, readOrder } from '../../../connectors/woocommerce/order-reader.ts';

const FIXTURES = new URL('../../../../shared/fixtures/woocommerce/', import.meta.url);
const load = (name: string): unknown => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8'));

describe('woocommerce mapping: the REST API reference examples', () => {
  it('maps order 727 (order-retrieve.sample.json) exactly', () => {
    const lookup = (k: { productId: number; variationId: number }) => (k.productId === 93 ? 'WOO-SINGLE-1' : null);
    const order = parseOrder(load('order-retrieve.sample.json'), lookup);
    expect({ ...order, raw: undefined }).toEqual({
      externalId: '727',
      orderNumber: '#727',
      channelState: 'open',
      financialStatus: 'paid',
      fulfillmentStatus: 'unfulfilled',
      currency: 'USD',
      presentmentCurrency: null,
      totals: { subtotal: '18.00', shipping: '10.00', tax: '1.35', discount: '0.00', total: '29.35' },
      customer: { externalId: null, email: 'john.doe@example.com', firstName: 'John', lastName: 'Doe', phone: '(555) 555-5555' },
      billingAddress: {
        name: 'John Doe', company: null, address1: '969 Market', address2: null, city: 'San Francisco',
        province: null, provinceCode: 'CA', zip: '94103', country: null, countryCode: 'US', phone: '(555) 555-5555',
      },
      shippingAddress: {
        name: 'John Doe', company: null, address1: '969 Market', address2: null, city: 'San Francisco',
        province: null, provinceCode: 'CA', zip: '94103', country: null, countryCode: 'US', phone: null,
      },
      placedAt: new Date('2017-03-22T19:28:02Z'),
      updatedAt: new Date('2017-03-22T19:28:08Z'),
      cancelledAt: null,
      closedAt: null,
      lines: [
        {
          externalId: '315', sku: 'WOO-SINGLE-1', title: 'Woo Single #1', quantity: 2, unitPrice: '3.00',
          tax: '0.45', discount: '0.00', productExternalId: '93', variantExternalId: null,
          inventoryItemExternalId: null, quantityFulfilledOnChannel: 0,
        },
        {
          externalId: '316', sku: 'Bar3', title: 'Ship Your Idea \u2013 Color: Black, Size: M Test', quantity: 1,
          unitPrice: '12.00', tax: '0.90', discount: '0.00', productExternalId: '22', variantExternalId: '23',
          inventoryItemExternalId: null, quantityFulfilledOnChannel: 0,
        },
      ],
      // No refunds on the order: none to record.
      refunds: [],
      raw: undefined,
    });
    expect(order.raw).toEqual(load('order-retrieve.sample.json'));
  });

  it('maps the orders list example, including a completed order with two refunds', () => {
    const [first, second] = (load('orders-list.sample.json') as unknown[]).map((o) => parseOrder(o));
    expect(first!.lines[0]!.sku).toBeNull(); // no SKU and no lookup: flagged, never dropped
    expect(second).toMatchObject({
      externalId: '723',
      orderNumber: '#723',
      channelState: 'closed',
      financialStatus: 'partially_refunded',
      fulfillmentStatus: 'fulfilled',
      totals: { subtotal: '29.00', shipping: '10.00', tax: '0.00', discount: '0.00', total: '39.00' },
      placedAt: new Date('2017-03-21T19:16:00Z'),
      updatedAt: new Date('2017-03-21T19:54:51Z'),
      closedAt: new Date('2017-03-21T19:54:51Z'),
      cancelledAt: null,
    });
    expect(second!.lines.map((l) => [l.externalId, l.quantity, l.unitPrice, l.quantityFulfilledOnChannel])).toEqual([
      ['311', 1, '9.00', 1],
      ['313', 1, '20.00', 1],
    ]);
  });

  it('maps every WooCommerce status', () => {
    const base = wooOrderSchema.parse(load('order-retrieve.sample.json'));
    const cases: Array<[string, string, string, string]> = [
      ['pending', 'open', 'pending', 'unfulfilled'],
      ['processing', 'open', 'paid', 'unfulfilled'],
      ['on-hold', 'open', 'pending', 'on_hold'],
      ['completed', 'closed', 'paid', 'fulfilled'],
      ['cancelled', 'cancelled', 'voided', 'unfulfilled'],
      ['refunded', 'closed', 'refunded', 'unknown'],
      ['failed', 'open', 'failed', 'unfulfilled'],
      ['trash', 'cancelled', 'unknown', 'unknown'],
      ['checkout-draft', 'open', 'pending', 'unfulfilled'],
    ];
    for (const [status, state, financial, fulfillment] of cases) {
      const o = mapOrder({ ...base, status });
      expect([status, o.channelState, o.financialStatus, o.fulfillmentStatus]).toEqual([status, state, financial, fulfillment]);
      expect(o.cancelledAt).toEqual(state === 'cancelled' ? new Date('2017-03-22T19:28:08Z') : null);
    }
    const fullyRefunded = mapOrder({ ...base, refunds: [{ id: 1, total: '-29.35' }] });
    expect(fullyRefunded.financialStatus).toBe('refunded');
  });

  it('keeps money exact and applies line discounts', () => {
    const base = wooOrderSchema.parse(load('order-retrieve.sample.json'));
    const o = mapOrder({
      ...base,
      line_items: [{ ...base.line_items[0]!, quantity: 3, subtotal: '10.00', total: '9.10', total_tax: '0.3333' }],
    });
    expect(o.lines[0]).toMatchObject({ unitPrice: '3.3333', discount: '0.90', tax: '0.3333' });
  });
});

describe('woocommerce mapping: refunds as recorded from WooCommerce 7.9', () => {
  const cases = (load('captures/rest-v3.json') as { cases: Record<string, { response: { body: unknown } }> }).cases;

  it('maps a restocking refund with its line, amount and reason, and takes its units off the line', () => {
    const order = wooOrderSchema.parse(cases.orderAfterRefund!.response.body);
    const refund = wooRefundSchema.parse(cases.refundCreateRestock!.response.body);
    const { quantities, refunds } = mapRefunds(order, [refund]);
    expect(refunds).toEqual([
      {
        externalId: '22',
        createdAt: new Date('2026-11-26T01:28:57Z'),
        amount: '12.50',
        shipping: '0.00',
        note: 'Damaged',
        // The order line's `_restock_refunded_items` says the unit went back in stock.
        lines: [{ lineExternalId: '9', quantity: 1, amount: '12.50', restock: true }],
      },
    ]);
    const mapped = mapOrder(order, order, undefined, quantities, refunds);
    expect(mapped.lines[0]).toMatchObject({ externalId: '9', quantity: 2 });
    expect(mapped.refunds).toEqual(refunds);
  });
});

describe('woocommerce order reader: the schema, without zod on the plain case', () => {
  const cases = (load('captures/rest-v3.json') as { cases: Record<string, { response: { body: unknown } }> }).cases;
  const real: unknown[] = [load('order-retrieve.sample.json'), ...(load('orders-list.sample.json') as unknown[])];
  for (const c of Object.values(cases)) {
    for (const o of [c.response.body].flat() as Array<Record<string, unknown> | null>) if (o?.line_items && o.date_modified_gmt) real.push(o);
  }
  /** Same keys and values as zod's output (their order differs: nothing reads it). */
  const same = (a: unknown, b: unknown, what = '') => {
    if (!isDeepStrictEqual(a, b)) expect(a, what).toStrictEqual(b);
  };

  it('reads every real payload itself, exactly as the schema does', () => {
    expect(real.length).toBeGreaterThan(8);
    for (const raw of real) same(plainOrder(raw), wooOrderSchema.parse(raw));
  });

  it('leaves every broken or unusual variant to zod, or agrees with it', () => {
    const odd: unknown[] = [undefined, null, '', ' 12.3 ', '12.34500', '1e3', 0, -1, 1.5, 2 ** 53, 1e20, true, [], {}, '2017-02-30T10:00:00', '2016-02-29T00:00:00', '1900-02-29T00:00:00', '2017-03-22T24:00:00', '2017-03-22T23:59:60', 'usd'];
    const mutate = (raw: Record<string, unknown>, path: Array<string | number>, value: unknown): unknown => {
      const copy = structuredClone(raw) as Record<string | number, unknown>;
      let at = copy;
      for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
      const last = path[path.length - 1]!;
      if (value === undefined && path.length % 2 === 1) delete at[last];
      else at[last] = value;
      return copy;
    };
    let fast = 0;
    let checked = 0;
    // The reference example, and a recorded order with a refund.
    const samples = [real[0], real.find((o) => ((o as { refunds?: unknown[] }).refunds ?? []).length > 0)] as Array<Record<string, unknown>>;
    expect(samples[1]).toBeDefined();
    for (const raw of samples) {
      const paths: Array<Array<string | number>> = [];
      for (const k of Object.keys(wooOrderSchema.shape)) paths.push([k]);
      for (const a of ['billing', 'shipping']) if (raw[a]) for (const k of Object.keys(raw[a] as object).concat('email', 'phone')) paths.push([a, k]);
      (raw.line_items as unknown[]).forEach((_, i) => ['id', 'name', 'product_id', 'variation_id', 'quantity', 'subtotal', 'total', 'total_tax', 'sku', 'price'].forEach((k) => paths.push(['line_items', i, k])));
      ((raw.refunds as unknown[] | undefined) ?? []).forEach((_, i) => ['id', 'total'].forEach((k) => paths.push(['refunds', i, k])));
      paths.push(['line_items', 0]);
      for (const path of paths) {
        for (const value of odd) {
          const variant = mutate(raw, path, value);
          const zod = wooOrderSchema.safeParse(variant);
          const mine = plainOrder(variant);
          const what = `${path.join('.')} = ${String(value)}`;
          checked++;
          if (mine !== undefined) {
            fast++;
            expect(zod.success, what).toBe(true);
            same(mine, zod.data, what);
          }
          const read = readOrder(variant);
          expect(read.success, what).toBe(zod.success);
          if (read.success) same(read.data, zod.data, what);
          else if (!isDeepStrictEqual(read.error.issues, zod.error!.issues)) expect(read.error.issues, what).toEqual(zod.error!.issues);
        }
      }
    }
    // A key JSON.parse makes own but an assignment would turn into the prototype.
    const proto = JSON.parse(JSON.stringify(samples[0]).replace('{', '{"__proto__":{"id":1},'));
    expect(plainOrder(proto)).toBeUndefined();
    // Both branches ran: most variants the fast path took, the rest zod judged.
    expect(fast).toBeGreaterThan(checked / 4);
    expect(fast).toBeLessThan(checked);
  });
});
