/**
 * The key pair an eBay channel signs with: the Key Management API
 * (https://developer.ebay.com/api-docs/developer/key-management/resources/methods),
 * on eBay's apiz host, with the application token (scope api_scope).
 *
 * createSigningKey returns the private key once ("eBay does not store privateKey
 * values"), so the pair is kept with the channel's credentials, sealed in Postgres
 * (`credentials.signingKey`, through `ConnectorContext.storeCredential`). A person can
 * also put one there (`channels add` with a signingKey from createSigningKey). Without
 * one, the first refund creates an ED25519 pair (eBay's recommended cipher) and stores
 * it; two processes doing so at once both end up using the one stored first. A key past
 * its `expirationTime` (three years) is replaced the same way.
 */
import { z } from 'zod';
import { PermanentError } from '../../src/domain/errors.ts';
import type { EbayClient } from './client.ts';
import type { SigningKey } from './signing.ts';

export const signingKeySchema = z.looseObject({
  signingKeyId: z.string().min(1),
  jwe: z.string().min(1),
  privateKey: z.string().min(1),
  signingKeyCipher: z.string().default('ED25519'),
  expirationTime: z.number().optional(),
});

/** Replace a key this long before eBay says it expires. */
const EXPIRY_MARGIN_S = 7 * 86_400;

/** The Key Management API's host for a REST host: api.ebay.com -> apiz.ebay.com (sandbox likewise); a simulator serves both. */
export function keyManagementUrl(apiUrl: string): string {
  const url = new URL(apiUrl);
  if (/^api(\.sandbox)?\.ebay\.com$/.test(url.hostname)) url.hostname = `apiz.${url.hostname.slice(4)}`;
  return url.origin;
}

export interface SigningKeysOptions {
  client: EbayClient;
  apiUrl: string;
  stored: unknown;
  store?: (name: string, value: unknown, replaces?: unknown) => Promise<unknown>;
  now?: () => number;
}

export class SigningKeys {
  private current: Promise<SigningKey> | null = null;

  constructor(private readonly o: SigningKeysOptions) {}

  /** The pair to sign with now: the stored one while it is valid, else a new one, stored. */
  get(): Promise<SigningKey> {
    this.current ??= this.load().catch((err: unknown) => {
      this.current = null;
      throw err;
    });
    return this.current;
  }

  private async load(): Promise<SigningKey> {
    const stored = this.o.stored === undefined ? null : signingKeySchema.safeParse(this.o.stored);
    if (stored && !stored.success) throw new PermanentError(`the eBay channel's signingKey credential is not a key pair from createSigningKey (${stored.error.issues[0]?.message})`);
    if (stored?.success && !this.expired(stored.data)) return stored.data;
    if (!this.o.store) {
      throw new PermanentError('this eBay channel has no signing key and nowhere to keep one: add credentials.signingKey (signingKeyId, jwe, privateKey from createSigningKey)');
    }
    const created = await this.create();
    const kept = signingKeySchema.safeParse(await this.o.store('signingKey', created, this.o.stored));
    if (!kept.success) throw new PermanentError(`the signing key stored for this eBay channel cannot be read (${kept.error.issues[0]?.message})`);
    this.o.stored = kept.data;
    return kept.data;
  }

  private expired(key: SigningKey): boolean {
    const now = (this.o.now?.() ?? Date.now()) / 1000;
    return key.expirationTime !== undefined && key.expirationTime - EXPIRY_MARGIN_S <= now;
  }

  /** createSigningKey (https://developer.ebay.com/api-docs/developer/key-management/resources/signing_key/methods/createSigningKey). */
  private async create(): Promise<SigningKey> {
    const res = await this.o.client.appCall('POST', '/developer/key_management/v1/signing_key', {
      baseUrl: keyManagementUrl(this.o.apiUrl),
      body: { signingKeyCipher: 'ED25519' },
      api: 'developer.key_management',
      what: 'a signing key (createSigningKey)',
    });
    const key = signingKeySchema.safeParse(res.body);
    if (!key.success) throw new PermanentError(`eBay's createSigningKey answer has no usable key pair (${key.error.issues[0]?.message})`);
    return key.data;
  }
}
