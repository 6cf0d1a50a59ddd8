/**
 * eBay's signed notification samples (../shared/fixtures/ebay/notifications) verify
 * or are refused exactly as the fixtures' README says, over the raw body bytes only;
 * keys are cached in the shared KV; the endpoint challenge matches eBay's SDK.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cachedKeys,
  challengeResponse,
  decodeSignatureHeader,
  meaningOf,
  verifyNotification,
  type PublicKey,
  type PublicKeySource,
} from '../../../connectors/ebay/notifications.ts';
import { WebhookRejectedError } from '../../../src/domain/errors.ts';
import { RedisSharedKV } from '../../../src/queue/shared-state.ts';
import { REDIS_URL, testPrefix } from '../../helpers/services.ts';

const dir = new URL('../../../../shared/fixtures/ebay/notifications/', import.meta.url);
const read = (name: string) => JSON.parse(readFileSync(new URL(name, dir), 'utf8'));

interface SdkCase {
  signature: string;
  message: unknown;
  response: PublicKey | null;
  public_key: string;
}
const sdk: Record<'VALID' | 'INVALID' | 'SIGNATURE_MISMATCH' | 'ERROR', SdkCase> = read('signed-messages.nodejs-sdk-test.json');
const derived = read('signed-messages.verification.json').cases;

/** eBay's getPublicKey as the SDK test sets it up: the case's key under the case's key id only. */
function keysOf(c: SdkCase): PublicKeySource & { calls: number } {
  return {
    calls: 0,
    async getPublicKey(kid) {
      this.calls++;
      return kid === c.public_key ? c.response : null;
    },
  };
}

/** The exact bytes eBay signed: the compact serialisation, as the README's derived file records. */
const compact = (name: keyof typeof sdk) => Buffer.from(derived[name].signedPayload as string, 'utf8');

async function refusal(p: Promise<unknown>): Promise<WebhookRejectedError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebhookRejectedError);
  return err as WebhookRejectedError;
}

describe('eBay notification signatures', () => {
  it('decodes the header as the README decodes it', () => {
    for (const name of Object.keys(sdk) as Array<keyof typeof sdk>) {
      expect(decodeSignatureHeader(sdk[name].signature)).toEqual(derived[name].decodedSignatureHeader);
    }
  });

  it('VALID verifies over the raw body eBay sent', async () => {
    const c = sdk.VALID;
    expect(JSON.stringify(c.message)).toBe(derived.VALID.signedPayload);
    const envelope = await verifyNotification(compact('VALID'), { 'x-ebay-signature': c.signature }, keysOf(c));
    expect(envelope.metadata.topic).toBe('MARKETPLACE_ACCOUNT_DELETION');
    expect(envelope.notification.notificationId).toBe('49feeaeb-4982-42d9-a377-9645b8479411_33f7e043-fed8-442b-9d44-791923bd9a6d');
  });

  it('INVALID, SIGNATURE_MISMATCH and ERROR are refused with 401', async () => {
    // INVALID: the VALID signature over another message; the key is looked up under its own id.
    const invalid = await refusal(verifyNotification(compact('INVALID'), { 'x-ebay-signature': sdk.INVALID.signature }, { getPublicKey: async () => sdk.INVALID.response }));
    expect(invalid.status).toBe(401);
    expect(invalid.message).toMatch(/does not match/);
    const mismatch = await refusal(
      verifyNotification(compact('SIGNATURE_MISMATCH'), { 'x-ebay-signature': sdk.SIGNATURE_MISMATCH.signature }, { getPublicKey: async () => sdk.SIGNATURE_MISMATCH.response }),
    );
    expect(mismatch.status).toBe(401);
    // ERROR: eBay has no key of that id (the SDK answers 500; nothing unverified is accepted here).
    const error = await refusal(verifyNotification(compact('ERROR'), { 'x-ebay-signature': sdk.ERROR.signature }, keysOf(sdk.ERROR)));
    expect(error.status).toBe(401);
    expect(error.message).toMatch(/no public key/);
  });

  it('a re-serialised or pretty-printed body of the VALID message fails', async () => {
    const c = sdk.VALID;
    const spaced = Buffer.from(JSON.stringify(c.message).replace(/":/g, '": ').replace(/,"/g, ', "'));
    const pretty = Buffer.from(JSON.stringify(c.message, null, 2));
    for (const body of [spaced, pretty]) {
      expect(JSON.parse(body.toString())).toEqual(c.message);
      expect((await refusal(verifyNotification(body, { 'x-ebay-signature': c.signature }, keysOf(c)))).status).toBe(401);
    }
  });

  it('the Java SDK tampered message (username changed) fails with the VALID signature', async () => {
    const tampered = Buffer.from(JSON.stringify(read('java-sdk-tampered_message.json')));
    const key: PublicKey = read('java-sdk-public_key_response.json');
    await refusal(verifyNotification(tampered, { 'x-ebay-signature': sdk.VALID.signature }, { getPublicKey: async () => key }));
    const original = Buffer.from(JSON.stringify(read('java-sdk-message.json')));
    await expect(verifyNotification(original, { 'x-ebay-signature': sdk.VALID.signature }, { getPublicKey: async () => key })).resolves.toBeTruthy();
  });

  it('refuses a delivery without a header, or with one that is not Base64 JSON', async () => {
    const body = compact('VALID');
    expect((await refusal(verifyNotification(body, {}, keysOf(sdk.VALID)))).status).toBe(401);
    expect((await refusal(verifyNotification(body, { 'x-ebay-signature': 'not base64 json' }, keysOf(sdk.VALID)))).status).toBe(401);
    const wrongAlg = Buffer.from(JSON.stringify({ ...derived.VALID.decodedSignatureHeader, alg: 'none' })).toString('base64');
    expect((await refusal(verifyNotification(body, { 'x-ebay-signature': wrongAlg }, keysOf(sdk.VALID)))).message).toMatch(/ecdsa/);
  });

  it('uses the hash the key response names, not a hard-coded one', async () => {
    const sha256Key = { ...(sdk.VALID.response as PublicKey), digest: 'SHA256' };
    await refusal(verifyNotification(compact('VALID'), { 'x-ebay-signature': sdk.VALID.signature }, { getPublicKey: async () => sha256Key }));
  });
});

describe('public key cache', () => {
  const { prefix, cleanup } = testPrefix();
  const redis = new Redis(REDIS_URL);
  afterAll(async () => {
    await cleanup();
    redis.disconnect();
  });

  it('fetches a key once for every delivery and process, and an unknown id every time', async () => {
    const source = keysOf(sdk.VALID);
    const headers = { 'x-ebay-signature': sdk.VALID.signature };
    // Two caches over one KV: two processes.
    const a = cachedKeys(new RedisSharedKV(redis, prefix), source);
    const b = cachedKeys(new RedisSharedKV(redis, prefix), source);
    await verifyNotification(compact('VALID'), headers, a);
    await verifyNotification(compact('VALID'), headers, b);
    expect(source.calls).toBe(1);
    // ERROR's source knows no key under the id it is asked for: nothing is cached, each asks again.
    const unknown = keysOf(sdk.ERROR);
    const c = cachedKeys(new RedisSharedKV(redis, prefix), unknown);
    expect(await c.getPublicKey('9936261a-7d7b-4621-a0f1-96ccb428af98')).toBeNull();
    expect(await c.getPublicKey('9936261a-7d7b-4621-a0f1-96ccb428af98')).toBeNull();
    expect(unknown.calls).toBe(2);
  });
});

describe('what a verified notification means', () => {
  const envelope = (topic: string, data: Record<string, unknown>) => ({
    metadata: { topic, schemaVersion: '1.0', deprecated: false },
    notification: { notificationId: 'n-1', data },
  });

  it('an order topic is a hint naming the order to fetch; without an order id it is refused', () => {
    expect(meaningOf(envelope('ORDER_CONFIRMATION', { orderId: '12-34567-89012' }))).toEqual({ kind: 'order', orderId: '12-34567-89012' });
    expect(() => meaningOf(envelope('ITEM_MARKED_SHIPPED', {}))).toThrow(WebhookRejectedError);
  });

  it('AUTHORIZATION_REVOCATION carries the reason and date of its contract', () => {
    expect(meaningOf(envelope('AUTHORIZATION_REVOCATION', { revokeReason: 'REVOKED_BY_USER', revocationDate: '2026-11-30T10:00:00.000Z' }))).toEqual({
      kind: 'revoked',
      reason: 'REVOKED_BY_USER',
      at: '2026-11-30T10:00:00.000Z',
    });
    expect(meaningOf(envelope('MARKETPLACE_ACCOUNT_DELETION', {})).kind).toBe('ignored');
  });
});

describe('endpoint challenge', () => {
  it('is hex SHA-256 of challengeCode + verificationToken + endpoint', () => {
    // Computed independently: printf '%s' 'a8628072-3d33-45ee-9004-bee86830a22d''71745723-d031-455c-bfa5-f90d11b4f20a''https://example.com/webhooks/1' | sha256sum
    expect(challengeResponse('a8628072-3d33-45ee-9004-bee86830a22d', '71745723-d031-455c-bfa5-f90d11b4f20a', 'https://example.com/webhooks/1')).toBe(
      EXPECTED_CHALLENGE,
    );
  });
});
const EXPECTED_CHALLENGE = 'c5750383103cb05f7b2e6156731cd7d986b7bc1184cdd5795b8ff553ca1a594a';
