/**
 * The Shopify simulator takes only the subscription addresses real Shopify
 * takes, answering with Shopify's userErrors (captured:
 * 2026-04_webhooks_webhook-subscription-conformance.json), unless started with
 * `allowLocalWebhooks` for tests and the demo.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startShopifySimulator, type ShopifySimulator } from '../../../connectors/shopify/simulator/index.ts';

const CREATE = `mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) { webhookSubscription { id } userErrors { field message } }
}`;

let strict: ShopifySimulator;
let local: ShopifySimulator;
beforeAll(async () => {
  [strict, local] = await Promise.all([startShopifySimulator({ products: 0 }), startShopifySimulator({ products: 0, allowLocalWebhooks: true })]);
});
afterAll(async () => {
  await Promise.all([strict?.close(), local?.close()]);
});

async function create(sim: ShopifySimulator, uri: string) {
  const r = await sim.graphql(CREATE, { topic: 'ORDERS_CREATE', sub: { uri, format: 'JSON' } });
  return r.body.data.webhookSubscriptionCreate as { webhookSubscription: { id: string } | null; userErrors: Array<{ field: string[]; message: string }> };
}

describe('Shopify simulator webhook addresses', () => {
  it("refuses http:// and internal hosts with Shopify's words", async () => {
    expect((await create(strict, 'http://hooks.example.com/w')).userErrors).toEqual([
      { field: ['webhookSubscription', 'callbackUrl'], message: 'Address protocol http:// is not supported' },
    ]);
    for (const uri of ['https://127.0.0.1:3000/webhooks/1', 'https://localhost/webhooks/1', 'https://192.168.1.10/webhooks/1']) {
      const r = await create(strict, uri);
      expect(r.webhookSubscription, uri).toBeNull();
      expect(r.userErrors[0]?.message).toBe('Address is invalid');
    }
    expect((await create(strict, 'https://hooks.example.com/webhooks/1')).webhookSubscription).not.toBeNull();
  });

  it('with allowLocalWebhooks takes http://127.0.0.1, for tests and the demo', async () => {
    expect((await create(local, 'http://127.0.0.1:3000/webhooks/1')).userErrors).toEqual([]);
  });
});
