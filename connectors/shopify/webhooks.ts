/**
 * Shopify webhook deliveries: signature check and mapping. Pure (no I/O), so
 * the HTTP route can answer within Shopify's 5 s limit and process later.
 *
 * Verification: https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-5-verify-the-webhook
 * `X-Shopify-Hmac-SHA256` is the base64 HMAC-SHA256 of the raw body, keyed
 * with the app's client secret. The comparison is constant-time.
 *
 * `@shopify/shopify-api` has `shopify.webhooks.validate`, but it is async,
 * wants the framework's raw request through a process-wide runtime adapter,
 * and the contract asks for a synchronous, pure `parseWebhook`; the check is
 * a few lines of `node:crypto`, so it lives here. The library still supplies
 * the header names.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ShopifyHeader } from '@shopify/shopify-api';
import { WebhookRejectedError } from '../../src/domain/errors.ts';
import type { ParsedWebhook, WebhookRequest } from '../types.ts';
import { mapRestOrder, restOrderSchema, toGid } from './mapping.ts';
import { describeIssues, mapOrRefuse } from '../values.ts';

/** Topics whose body is an order, mapped and upserted. */
export const ORDER_TOPICS = ['orders/create', 'orders/updated', 'orders/cancelled'] as const;

/** The same topics as `WebhookSubscriptionTopic` enum values, for registration. */
export const SUBSCRIPTION_TOPICS = ['ORDERS_CREATE', 'ORDERS_UPDATED', 'ORDERS_CANCELLED'] as const;

const header = (name: string) => name.toLowerCase();
const HMAC = header(ShopifyHeader.Hmac);
const TOPIC = header(ShopifyHeader.Topic);
const WEBHOOK_ID = header(ShopifyHeader.WebhookId);

/** The signature Shopify sends for `rawBody` (also used by tests and the simulator's callers). */
export function signWebhook(rawBody: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('base64');
}

/** Constant-time check of `X-Shopify-Hmac-SHA256`; false for a missing or malformed header. */
export function verifyWebhookSignature(rawBody: Buffer, signature: string | undefined, secret: string): boolean {
  if (!signature || !secret) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  const given = Buffer.from(signature.trim(), 'base64');
  // timingSafeEqual throws on different lengths; the length of a SHA-256 MAC is public.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Verifies and maps one delivery. Throws `WebhookRejectedError` 401 for a bad
 * or missing signature, 400 for a body or headers that are not a Shopify
 * order delivery.
 */
export function parseShopifyWebhook(request: WebhookRequest, secret: string): ParsedWebhook {
  const { rawBody, headers } = request;
  if (!verifyWebhookSignature(rawBody, headers[HMAC], secret)) {
    throw new WebhookRejectedError('Shopify webhook signature (X-Shopify-Hmac-SHA256) does not match the body', 401);
  }
  const topic = headers[TOPIC];
  const deliveryKey = headers[WEBHOOK_ID];
  if (!topic) throw new WebhookRejectedError('Shopify webhook without X-Shopify-Topic header', 400);
  if (!deliveryKey) throw new WebhookRejectedError('Shopify webhook without X-Shopify-Webhook-Id header', 400);

  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new WebhookRejectedError(`Shopify webhook ${topic} body is not JSON`, 400);
  }

  if ((ORDER_TOPICS as readonly string[]).includes(topic)) {
    const parsed = restOrderSchema.safeParse(body);
    if (!parsed.success) {
      throw new WebhookRejectedError(`Shopify webhook ${topic} body is not an order: ${describeIssues(parsed.error)}`, 400);
    }
    return { deliveryKey, topic, event: { type: 'order', order: mapOrRefuse(() => mapRestOrder(parsed.data, body), `Shopify webhook ${topic}`) } };
  }

  if (topic === 'orders/delete') {
    // The topic header is not signed: any signed order body can be replayed under it.
    // So this is only a claim, confirmed with Shopify by the job (`fetchOrder`), and it
    // carries no time (X-Shopify-Triggered-At is unsigned too).
    const id = (body as { id?: unknown } | null)?.id;
    if (!(typeof id === 'number' && Number.isSafeInteger(id) && id > 0) && !(typeof id === 'string' && /^\d{1,20}$/.test(id))) {
      throw new WebhookRejectedError('Shopify webhook orders/delete body has no order id', 400);
    }
    return { deliveryKey, topic, event: { type: 'order_deleted', externalId: toGid('Order', id) } };
  }

  return { deliveryKey, topic, event: { type: 'ignored', reason: `topic ${topic} is not one channelsync acts on` } };
}
