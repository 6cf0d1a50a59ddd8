/**
 * Channel credentials at rest: AES-256-GCM with the secret key, a fresh
 * 12-byte IV per value, and the channel id as additional authenticated data,
 * so a ciphertext copied onto another channel row fails to decrypt.
 * Format: "v1:" + base64(iv | tag | ciphertext).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ConfigError } from './domain/errors.ts';

const VERSION = 'v1';

/**
 * A key's public name: 16 hex characters of a domain-separated SHA-256, so a
 * row can say which key opens it without the database holding anything that
 * helps to guess the key.
 */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('channelsync credential key id v1\0').update(key).digest('hex').slice(0, 16);
}

/** True when `key` opens `sealed` for this `aad`. */
export function opens(key: Buffer, sealed: string, aad: string): boolean {
  try {
    decryptJson(key, sealed, aad);
    return true;
  } catch {
    return false;
  }
}

/** Seals `value` (JSON) with AES-256-GCM under `key`, bound to `aad`. */
export function encryptJson(key: Buffer, value: unknown, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
}

/** Opens what `encryptJson` sealed; a `ConfigError` when the key or `aad` is not the one it was sealed with. */
export function decryptJson<T = unknown>(key: Buffer, sealed: string, aad: string): T {
  const [version, payload] = sealed.split(':', 2);
  if (version !== VERSION || !payload) throw new ConfigError('channel credentials are in an unknown format');
  const raw = Buffer.from(payload, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(raw.subarray(12, 28));
  try {
    const plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as T;
  } catch {
    throw new ConfigError(
      'channel credentials cannot be decrypted: CHANNELSYNC_SECRET_KEY is not the key they were stored with',
    );
  }
}
