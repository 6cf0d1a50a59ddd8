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
