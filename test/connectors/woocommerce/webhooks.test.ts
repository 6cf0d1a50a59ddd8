import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseWooWebhook, signWebhookBody } from '../../../connectors/woocommerce/webhooks.ts';
import { WebhookRejectedError } from '../../../src/domain/errors.ts';

const captures = JSON.parse(
  readFileSync(new URL('../../../../shared/fixtures/woocommerce/captures/webhooks.json', import.meta.url), 'utf8'),
) as {
  webhookSecret: string;
  deliveries: Array<{ headers: Record<string, string>; rawBody: string; signatureMatches: boolean }>;
};

const request = (d: { headers: Record<string, string>; rawBody: string }) => ({
  rawBody: Buffer.from(d.rawBody, 'utf8'),
  headers: d.headers as Record<string, string | undefined>,
});

describe('woocommerce webhooks: the recorded deliveries', () => {
  it('answers the unsigned pings sent when a webhook is created', () => {
    const pings = captures.deliveries.filter((d) => !d.headers['x-wc-webhook-topic']);
    expect(pings).toHaveLength(2);
    for (const ping of pings) {
      const parsed = parseWooWebhook(request(ping), captures.webhookSecret);
      expect(parsed.event).toEqual({ type: 'ping' });
    }
  });

  it('verifies and parses the signed order deliveries', () => {
    const signed = captures.deliveries.filter((d) => d.headers['x-wc-webhook-topic']);
    expect(signed).toHaveLength(3);
    const parsed = signed.map((d) => parseWooWebhook(request(d), captures.webhookSecret));
    expect(parsed.map((p) => p.topic)).toEqual(['order.created', 'order.updated', 'order.updated']);
    expect(parsed.map((p) => p.event.type === 'order' && p.event.order.financialStatus)).toEqual(['paid', 'paid', 'paid']);
    const last = parsed[2]!.event;
    expect(last.type === 'order' && [last.order.externalId, last.order.channelState, last.order.totals.total]).toEqual([
      '23', 'closed', '12.50',
    ]);
    // The same content under two topics dedupes; the completed update in the same second does not,
    // although WooCommerce gave both updates one delivery id (webhook id + second): the id cannot be the key.
    expect(signed[2]!.headers['x-wc-webhook-delivery-id']).toBe(signed[1]!.headers['x-wc-webhook-delivery-id']);
    expect(parsed[0]!.deliveryKey).toBe(parsed[1]!.deliveryKey);
    expect(parsed[2]!.deliveryKey).not.toBe(parsed[1]!.deliveryKey);
    expect(parsed[0]!.deliveryKey).toMatch(/^order:23:2026-11-26T01:29:09:/);
  });

  it('rejects a bad signature with 401 and a malformed body with 400', () => {
    const delivery = captures.deliveries.find((d) => d.headers['x-wc-webhook-topic'] === 'order.created')!;
    const tampered = { ...delivery, rawBody: delivery.rawBody.replace('"total":"12.50"', '"total":"0.01"') };
    expect(() => parseWooWebhook(request(tampered), captures.webhookSecret)).toThrow(
      expect.objectContaining({ status: 401 }) as unknown as Error,
    );
    expect(() => parseWooWebhook(request(delivery), 'wrong-secret')).toThrow(WebhookRejectedError);
    const unsigned = { ...delivery, headers: { ...delivery.headers, 'x-wc-webhook-signature': '' } };
    expect(() => parseWooWebhook(request(unsigned), captures.webhookSecret)).toThrow(
      expect.objectContaining({ status: 401 }) as unknown as Error,
    );

    const garbage = '{"id": "not a number"';
    const headers = { ...delivery.headers, 'x-wc-webhook-signature': signWebhookBody(garbage, 's') };
    expect(() => parseWooWebhook({ rawBody: Buffer.from(garbage), headers }, 's')).toThrow(
      expect.objectContaining({ status: 400 }) as unknown as Error,
    );
    const wrongShape = '{"id":"x"}';
    const h2 = { ...delivery.headers, 'x-wc-webhook-signature': signWebhookBody(wrongShape, 's') };
    expect(() => parseWooWebhook({ rawBody: Buffer.from(wrongShape), headers: h2 }, 's')).toThrow(
      expect.objectContaining({ status: 400 }) as unknown as Error,
    );
  });

  it('parses order.deleted and ignores other topics', () => {
    const body = '{"id":42}';
    const del = parseWooWebhook(
      { rawBody: Buffer.from(body), headers: { 'x-wc-webhook-topic': 'order.deleted', 'x-wc-webhook-signature': signWebhookBody(body, 's') } },
      's',
    );
    expect(del.event).toMatchObject({ type: 'order_deleted', externalId: '42' });
    const other = parseWooWebhook(
      { rawBody: Buffer.from(body), headers: { 'x-wc-webhook-topic': 'product.updated', 'x-wc-webhook-signature': signWebhookBody(body, 's') } },
      's',
    );
    expect(other.event.type).toBe('ignored');
  });
});
