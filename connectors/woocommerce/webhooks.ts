/**
 * WooCommerce webhook deliveries: verification and parsing. Pure, no I/O.
 *
 * Deliveries carry X-WC-Webhook-Topic, X-WC-Webhook-Signature (base64
 * HMAC-SHA256 of the raw body with the webhook's secret) and
 * X-WC-Webhook-Delivery-ID, which WooCommerce makes from the webhook id and
 * the current second (WC_Webhook::get_new_delivery_id: `wp_hash( id . time )`):
 * copies of one delivery share it, and so does every other delivery of the
 * same webhook within that second. Only the body is signed.
 * https://woocommerce.github.io/woocommerce-rest-api-docs/#webhooks
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ZodError, z } from 'zod';
import type { ParsedWebhook, WebhookRequest } from '../types.ts';
import { WebhookRejectedError } from '../../src/domain/errors.ts';
import { mapOrder, wooOrderSchema } from './mapping.ts';
import { describeIssues, mapOrRefuse } from '../values.ts';

/** The topics channelsync subscribes to. */
export const WEBHOOK_TOPICS = ['order.created', 'order.updated', 'order.deleted'] as const;

/** base64 HMAC-SHA256 of the raw body, as WooCommerce signs it. */
export function signWebhookBody(rawBody: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('base64');
}

export function verifyWebhookSignature(rawBody: Buffer, signature: string | undefined, secret: string): boolean {
  if (!signature) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  const given = Buffer.from(signature.trim(), 'base64');
  // Compare digests, not strings: equal length is required by timingSafeEqual.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

// The ping sent when a webhook is created: form-encoded, unsigned, no topic header.
const PING = /^webhook_id=(\d+)$/;

const deletedSchema = z.looseObject({ id: z.number().int().positive() });

function bodyDigest(rawBody: Buffer): string {
  return createHash('sha256').update(rawBody).digest('hex').slice(0, 16);
}

export function parseWooWebhook(request: WebhookRequest, secret: string): ParsedWebhook {
  const { rawBody, headers } = request;
  const topic = headers['x-wc-webhook-topic']?.trim();

  if (!topic) {
    const ping = PING.exec(rawBody.toString('utf8').trim());
    if (ping && (headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      // Unsigned by WooCommerce itself; harmless, since a ping changes nothing.
      return { deliveryKey: `ping:${ping[1]}`, topic: 'ping', event: { type: 'ping' } };
    }
    throw new WebhookRejectedError('WooCommerce webhook without an X-WC-Webhook-Topic header', 400);
  }

  if (!verifyWebhookSignature(rawBody, headers['x-wc-webhook-signature'], secret)) {
    throw new WebhookRejectedError(
      `WooCommerce webhook ${topic}: X-WC-Webhook-Signature does not match the body; check the channel's webhookSecret`,
      401,
    );
  }

  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new WebhookRejectedError(`WooCommerce webhook ${topic}: body is not JSON`, 400);
  }

  try {
    switch (topic) {
      case 'order.created':
      case 'order.updated': {
        const order = wooOrderSchema.parse(body);
        // The key comes from the content, not X-WC-Webhook-Delivery-ID. Copies of
        // one delivery have the same bytes, so they are stored once either way.
        // The delivery id is not unique: the two order.updated deliveries of
        // order 23 in captures/webhooks.json (processing, then completed, in one
        // second) share it, so a key of it would drop the completed one as a
        // duplicate; and it is unsigned, so a forged copy of a real id would make
        // the inbox drop whatever genuine delivery came after it. A forged id does
        // nothing to this key. The body digest is part of it because
        // date_modified_gmt has one-second resolution: those same two changes have
        // the same date_modified_gmt and must not collapse into one.
        return {
          deliveryKey: `order:${order.id}:${order.date_modified_gmt}:${bodyDigest(rawBody)}`,
          topic,
          event: { type: 'order', order: mapOrRefuse(() => mapOrder(order, body), `WooCommerce webhook ${topic}`) },
        };
      }
      case 'order.deleted': {
        // The topic header is not signed: a signed order body replayed under it would
        // read as a deletion. So this is only a claim, confirmed with the store by the
        // job (`fetchOrder`). The body is `{id}` in every real delivery, so the key
        // takes WooCommerce's delivery id: a claim the store denied never shadows a
        // real deletion later (re-checking a retried one is harmless).
        const { id } = deletedSchema.parse(body);
        const delivery = headers['x-wc-webhook-delivery-id']?.trim() || bodyDigest(rawBody);
        return {
          deliveryKey: `order-deleted:${id}:${delivery.slice(0, 64)}`,
          topic,
          event: { type: 'order_deleted', externalId: String(id) },
        };
      }
      default:
        return {
          deliveryKey: `${topic}:${bodyDigest(rawBody)}`,
          topic,
          event: { type: 'ignored', reason: `topic ${topic} is not used by channelsync` },
        };
    }
  } catch (err) {
    if (err instanceof ZodError) {
      throw new WebhookRejectedError(`WooCommerce webhook ${topic}: unexpected body (${describeIssues(err)})`, 400);
    }
    throw err;
  }
}
