/**
 * eBay Notification API deliveries: signature verification, the endpoint's
 * challenge, and what each topic means to channelsync.
 *
 * A delivery is `POST` JSON `{metadata:{topic, schemaVersion, deprecated},
 * notification:{notificationId, eventDate, publishDate, publishAttemptCount, data}}`
 * with header `X-EBAY-SIGNATURE`: Base64 of JSON `{alg: "ecdsa", kid, signature, digest}`.
 * The key is fetched by `kid` from getPublicKey
 * (https://developer.ebay.com/api-docs/commerce/notification/resources/public_key/methods/getPublicKey)
 * and cached about an hour, as eBay asks (one fetch per delivery would spend the
 * Notification API's daily quota). `signature` is a Base64 DER ECDSA (P-256)
 * signature over the raw body bytes, with the hash the key response names in
 * `digest` (SHA1 in eBay's SDK test data; not hard-coded). Never verify a
 * re-serialised body: only the bytes eBay sent verify (eBay's .NET SDK issue #2).
 *
 * Unlike the Connector's `parseWebhook`, this needs I/O (the key), so it is
 * async; see `NotificationEndpoint` in ../types.ts for how the HTTP route and
 * the webhooks job reach it.
 */
import { createHash, createPublicKey, timingSafeEqual, verify } from 'node:crypto';
import { z } from 'zod';
import { WebhookRejectedError } from '../../src/domain/errors.ts';
import type { SharedKV } from '../../src/queue/shared-state.ts';

/** The header eBay signs deliveries with (lower-cased, as the route hands headers over). */
export const SIGNATURE_HEADER = 'x-ebay-signature';

const signatureHeaderSchema = z.object({
  alg: z.string(),
  kid: z.string().min(1),
  signature: z.string().min(1),
  digest: z.string().optional(),
});
export type SignatureHeader = z.infer<typeof signatureHeaderSchema>;

/** getPublicKey's answer (`PublicKey` in commerce_notification_v1.5.1_oas3.yaml). */
export const publicKeySchema = z.object({
  algorithm: z.string(),
  digest: z.string(),
  key: z.string().min(1),
});
export type PublicKey = z.infer<typeof publicKeySchema>;

/** Where keys come from: eBay's getPublicKey (the client), null when eBay has no key of that id. */
export interface PublicKeySource {
  getPublicKey(kid: string): Promise<PublicKey | null>;
}

/** Decodes `X-EBAY-SIGNATURE`; a header that is not Base64 JSON of that shape is refused with 401. */
export function decodeSignatureHeader(value: string | undefined): SignatureHeader {
  if (!value) throw new WebhookRejectedError(`no ${SIGNATURE_HEADER} header: eBay signs every notification`, 401);
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    throw new WebhookRejectedError(`${SIGNATURE_HEADER} is not Base64-encoded JSON`, 401);
  }
  const parsed = signatureHeaderSchema.safeParse(decoded);
  if (!parsed.success) throw new WebhookRejectedError(`${SIGNATURE_HEADER} lacks alg, kid or signature`, 401);
  if (parsed.data.alg.toLowerCase() !== 'ecdsa') throw new WebhookRejectedError(`${SIGNATURE_HEADER} names algorithm "${parsed.data.alg}"; eBay signs with ecdsa`, 401);
  return parsed.data;
}

/**
 * eBay sends the PEM body on one line between the BEGIN and END markers; OpenSSL
 * wants the markers on lines of their own (the SDK's `formatKey` does the same).
 */
export function pemOf(key: string): string {
  const m = /-----BEGIN PUBLIC KEY-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END PUBLIC KEY-----/.exec(key);
  if (!m) return key;
  return `-----BEGIN PUBLIC KEY-----\n${m[1]!.replace(/\s+/g, '')}\n-----END PUBLIC KEY-----\n`;
}

/** The hash named by eBay (`SHA1`, `SHA256`) as Node names it; null for one we do not know. */
function nodeHash(digest: string): string | null {
  const name = digest.toUpperCase().replace(/-/g, '');
  return ({ SHA1: 'sha1', SHA256: 'sha256', SHA384: 'sha384', SHA512: 'sha512' } as Record<string, string>)[name] ?? null;
}

/** True when `signature` verifies over exactly `rawBody` with `key`. No exceptions: a bad key or signature is false. */
export function verifySignature(rawBody: Buffer, header: SignatureHeader, key: PublicKey): boolean {
  if (key.algorithm.toUpperCase() !== 'ECDSA') return false;
  const hash = nodeHash(key.digest);
  if (!hash) return false;
  try {
    return verify(hash, rawBody, { key: createPublicKey(pemOf(key.key)), dsaEncoding: 'der' }, Buffer.from(header.signature, 'base64'));
  } catch {
    return false;
  }
}

/** Default life of a cached key: eBay recommends caching "about an hour". */
export const PUBLIC_KEY_TTL_MS = 60 * 60 * 1000;

/**
 * Keys cached in the shared KV, so every process (the route and the webhooks
 * job, on any machine) fetches one key once an hour. A key id eBay does not
 * know is not cached: the next delivery asks again.
 */
export function cachedKeys(kv: SharedKV, source: PublicKeySource, ttlMs = PUBLIC_KEY_TTL_MS): PublicKeySource {
  return {
    async getPublicKey(kid) {
      const cacheKey = `ebay:public-key:${kid}`;
      const hit = await kv.get(cacheKey);
      if (hit) {
        const parsed = publicKeySchema.safeParse(JSON.parse(hit));
        if (parsed.success) return parsed.data;
      }
      const key = await source.getPublicKey(kid);
      if (key) await kv.set(cacheKey, JSON.stringify(key), ttlMs);
      return key;
    },
  };
}

const envelopeSchema = z.object({
  metadata: z.object({ topic: z.string().min(1), schemaVersion: z.string().nullable().optional(), deprecated: z.boolean().optional() }),
  notification: z.object({
    notificationId: z.string().min(1),
    eventDate: z.string().optional(),
    publishDate: z.string().optional(),
    publishAttemptCount: z.number().optional(),
    data: z.record(z.string(), z.unknown()).nullable().optional(),
  }),
});
export type NotificationEnvelope = z.infer<typeof envelopeSchema>;

/**
 * Verifies a delivery and parses its envelope. Refusals (all 401, since nothing
 * unverified is read): no or malformed header, a key id eBay does not know
 * (eBay's SDK answers 500 there, which makes eBay retry a delivery no retry can
 * fix), a signature that does not verify over the raw body. A key that cannot
 * be fetched now (eBay down, quota) surfaces as the source's RetryableError:
 * the route answers 5xx and eBay delivers again.
 */
export async function verifyNotification(rawBody: Buffer, headers: Record<string, string | undefined>, keys: PublicKeySource): Promise<NotificationEnvelope> {
  const header = decodeSignatureHeader(headers[SIGNATURE_HEADER]);
  const key = await keys.getPublicKey(header.kid);
  if (!key) throw new WebhookRejectedError(`eBay has no public key "${header.kid}": the delivery cannot be verified`, 401);
  if (!verifySignature(rawBody, header, key)) throw new WebhookRejectedError('the X-EBAY-SIGNATURE signature does not match the body', 401);
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new WebhookRejectedError('the notification body is not JSON', 400);
  }
  const parsed = envelopeSchema.safeParse(body);
  if (!parsed.success) throw new WebhookRejectedError(`the notification lacks ${parsed.error.issues[0]?.path.join('.') || 'its envelope'}`, 400);
  return parsed.data;
}

/** Topics channelsync acts on; any other verified topic is acknowledged and ignored. */
export type NotificationMeaning =
  /** The order changed (or was created): fetch it from the API; the notification is only a hint. */
  | { kind: 'order'; orderId: string }
  /** The seller revoked channelsync's access (REVOKED_BY_APP, REVOKED_BY_USER, REVOKED_BY_EBAY, PASSWORD_CHANGE). */
  | { kind: 'revoked'; reason: string; at: string | null }
  | { kind: 'ignored'; reason: string };

/**
 * Order topics (Notification API 1.6.6+: ORDER_CONFIRMATION, ITEM_MARKED_SHIPPED).
 * Their `data` contract is not in ../shared (README "Not found"); eBay's release
 * notes say they carry the order id, read here as `data.orderId`. A delivery of
 * such a topic without it is refused (400), never guessed at.
 */
export const ORDER_TOPICS: ReadonlySet<string> = new Set(['ORDER_CONFIRMATION', 'ITEM_MARKED_SHIPPED']);

export function meaningOf(envelope: NotificationEnvelope): NotificationMeaning {
  const topic = envelope.metadata.topic;
  const data = envelope.notification.data ?? {};
  if (ORDER_TOPICS.has(topic)) {
    const orderId = data['orderId'];
    if (typeof orderId !== 'string' || !orderId) throw new WebhookRejectedError(`${topic} notification without data.orderId`, 400);
    return { kind: 'order', orderId };
  }
  if (topic === 'AUTHORIZATION_REVOCATION') {
    // authorization_revocation.asyncapi.yaml: data.revokeReason, data.revocationDate.
    const reason = typeof data['revokeReason'] === 'string' ? data['revokeReason'] : 'UNKNOWN';
    const at = typeof data['revocationDate'] === 'string' ? data['revocationDate'] : null;
    return { kind: 'revoked', reason, at };
  }
  if (topic === 'MARKETPLACE_ACCOUNT_DELETION') {
    return { kind: 'ignored', reason: 'MARKETPLACE_ACCOUNT_DELETION: channelsync keeps no eBay account data beyond orders' };
  }
  return { kind: 'ignored', reason: `topic ${topic} is not one channelsync acts on` };
}

/**
 * The endpoint validation answer (createDestination; eBay SDK lib/validator.js
 * generateChallengeResponse): hex SHA-256 of challengeCode + verificationToken +
 * endpoint, where endpoint is the URL exactly as registered with eBay.
 */
export function challengeResponse(challengeCode: string, verificationToken: string, endpoint: string): string {
  return createHash('sha256').update(challengeCode).update(verificationToken).update(endpoint).digest('hex');
}

/** Constant-time comparison of two hex strings (tests, the simulator checking an endpoint's answer). */
export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
