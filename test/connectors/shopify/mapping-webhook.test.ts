/**
 * parseWebhook on the real orders/create body: the signature decides (401),
 * the body shape decides (400), the delivery id is the dedupe key.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WebhookRejectedError } from '../../../src/domain/errors.ts';
import { parseShopifyWebhook, signWebhook } from '../../../connectors/shopify/webhooks.ts';

const raw = readFileSync(fileURLToPath(new URL('../../../../shared/fixtures/shopify/webhook-orders-create.json', import.meta.url)));
const SECRET = 'shpss_test_secret';

function headers(body: Buffer, extra: Record<string, string | undefined> = {}) {
  return {
    'x-shopify-hmac-sha256': signWebhook(body, SECRET),
    'x-shopify-topic': 'orders/create',
    'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
    'x-shopify-shop-domain': 'example.myshopify.com',
    ...extra,
  };
}

function rejection(fn: () => unknown): WebhookRejectedError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WebhookRejectedError) return err;
    throw err;
  }
  throw new Error('expected a WebhookRejectedError');
}

describe('Shopify webhook verification', () => {
  it('accepts the real body with a good signature and maps the order', () => {
    const parsed = parseShopifyWebhook({ rawBody: raw, headers: headers(raw) }, SECRET);
    expect(parsed.deliveryKey).toBe('b54557e4-bdd9-4b37-8a5f-bf7d70bcd043');
    expect(parsed.topic).toBe('orders/create');
    expect(parsed.event.type).toBe('order');
    if (parsed.event.type !== 'order') return;
    expect(parsed.event.order.orderNumber).toBe('#1054');
    expect(parsed.event.order.totals.total).toBe('394.00');
  });

  it('rejects a signature made with another secret with 401', () => {
    const err = rejection(() =>
      parseShopifyWebhook({ rawBody: raw, headers: headers(raw, { 'x-shopify-hmac-sha256': signWebhook(raw, 'other') }) }, SECRET),
    );
    expect(err.status).toBe(401);
  });

  it('rejects a body changed by one byte after signing with 401', () => {
    const tampered = Buffer.from(raw.toString('utf8').replace('"394.00"', '"1.00"'));
    const err = rejection(() => parseShopifyWebhook({ rawBody: tampered, headers: headers(raw) }, SECRET));
    expect(err.status).toBe(401);
  });

  it('rejects a missing or garbage signature with 401', () => {
    expect(rejection(() => parseShopifyWebhook({ rawBody: raw, headers: headers(raw, { 'x-shopify-hmac-sha256': undefined }) }, SECRET)).status).toBe(401);
    expect(rejection(() => parseShopifyWebhook({ rawBody: raw, headers: headers(raw, { 'x-shopify-hmac-sha256': 'abc' }) }, SECRET)).status).toBe(401);
  });

  it('rejects a signed body that is not an order with 400', () => {
    const body = Buffer.from(JSON.stringify({ id: 1, name: '#1' }));
    expect(rejection(() => parseShopifyWebhook({ rawBody: body, headers: headers(body) }, SECRET)).status).toBe(400);
    const notJson = Buffer.from('{not json');
    expect(rejection(() => parseShopifyWebhook({ rawBody: notJson, headers: headers(notJson) }, SECRET)).status).toBe(400);
  });

  it('rejects a delivery without X-Shopify-Webhook-Id with 400 (nothing to dedupe on)', () => {
    expect(rejection(() => parseShopifyWebhook({ rawBody: raw, headers: headers(raw, { 'x-shopify-webhook-id': undefined }) }, SECRET)).status).toBe(400);
  });

  it('maps orders/cancelled and ignores other verified topics', () => {
    const cancelled = parseShopifyWebhook({ rawBody: raw, headers: headers(raw, { 'x-shopify-topic': 'orders/cancelled' }) }, SECRET);
    expect(cancelled.event.type).toBe('order');
    const other = parseShopifyWebhook({ rawBody: raw, headers: headers(raw, { 'x-shopify-topic': 'products/update' }) }, SECRET);
    expect(other.event).toEqual({ type: 'ignored', reason: 'topic products/update is not one channelsync acts on' });
  });
});

/** The real body as an API version before 2019-04 sends it: every `*_set` removed (and, with `current`, the `current_*` fields too). */
function olderVersion(withCurrent: boolean): Buffer {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (!value || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !k.endsWith('_set') && (withCurrent || !k.startsWith('current_')))
        .map(([k, v]) => [k, strip(v)]),
    );
  };
  return Buffer.from(JSON.stringify(strip(JSON.parse(raw.toString('utf8')))));
}

describe('Shopify webhook bodies of older API versions (plain amounts, no *_set)', () => {
  const parse = (body: Buffer) => parseShopifyWebhook({ rawBody: body, headers: headers(body) }, SECRET);
  const modern = parse(raw);

  it('maps the real body without its *_set fields to the same exact totals and line amounts', () => {
    for (const withCurrent of [true, false]) {
      const body = olderVersion(withCurrent);
      expect(body.toString()).not.toMatch(/_set"/);
      const parsed = parse(body);
      expect(parsed.event.type).toBe('order');
      if (parsed.event.type !== 'order' || modern.event.type !== 'order') return;
      const order = parsed.event.order;
      // total_price, total_tax, total_discounts, the shipping lines' price and each line's price.
      expect(order.totals).toEqual({ subtotal: '399.00', shipping: '20.00', tax: '0.00', discount: '25.00', total: '394.00' });
      expect(order.lines.map((l) => [l.unitPrice, l.tax, l.discount])).toEqual(modern.event.order.lines.map((l) => [l.unitPrice, l.tax, l.discount]));
      expect(order.lines[0]!.discount).toBe('9.78');
    }
  });

  it('prefers the shop money of a *_set over the plain field when a body has both', () => {
    const body = JSON.parse(raw.toString('utf8'));
    body.current_total_price = '1.00';
    body.total_price = '2.00';
    body.line_items[0].price = '3.00';
    const b = Buffer.from(JSON.stringify(body));
    const parsed = parse(b);
    expect(parsed.event.type === 'order' && [parsed.event.order.totals.total, parsed.event.order.lines[0]!.unitPrice]).toEqual(['394.00', '99.00']);
  });

  it('refuses with 400 and the field a body with neither the *_set nor the plain amount (never a total of 0)', () => {
    const noTotal = JSON.parse(olderVersion(true).toString('utf8'));
    delete noTotal.total_price;
    delete noTotal.current_total_price;
    const a = Buffer.from(JSON.stringify(noTotal));
    const err = rejection(() => parse(a));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/total_price: no current_total_price_set, total_price_set, current_total_price or total_price/);

    const noPrice = JSON.parse(olderVersion(false).toString('utf8'));
    delete noPrice.line_items[2].price;
    const b = Buffer.from(JSON.stringify(noPrice));
    expect(rejection(() => parse(b)).message).toMatch(/line_items\.2\.price: no price_set or price \(the unit price\)/);

    // A bad plain amount is a 400 naming it, never an exception (a 500) from adding up the shipping lines.
    const badShipping = JSON.parse(olderVersion(false).toString('utf8'));
    badShipping.shipping_lines[0].price = 'abc';
    const d = Buffer.from(JSON.stringify(badShipping));
    expect(rejection(() => parse(d)).message).toMatch(/shipping_lines\.0\.price: expected a decimal amount/);

    for (const broken of [{ shipping_lines: 'x' }, { shipping_lines: [null] }, { total_price_set: 'x' }, { total_price_set: { shop_money: null } }]) {
      const e = Buffer.from(JSON.stringify({ ...JSON.parse(olderVersion(false).toString('utf8')), ...broken }));
      expect(rejection(() => parse(e)).status, JSON.stringify(broken)).toBe(400);
    }

    const badPlain = JSON.parse(olderVersion(false).toString('utf8'));
    badPlain.total_tax = '1e5';
    const c = Buffer.from(JSON.stringify(badPlain));
    expect(rejection(() => parse(c)).message).toMatch(/total_tax/);
  });
});
