/**
 * Feedback links: `/feedback/<order id>.<expiry>.<signature>`, no login.
 *
 * The signature is HMAC-SHA256 over the order id and the expiry (Unix
 * seconds), under a key derived from CHANNELSYNC_SECRET_KEY with HKDF (its
 * own label, so a feedback signature is never valid as anything else). So a
 * customer can rate the one order the link was made for, until it expires,
 * and changing either number breaks the signature. Rotating
 * CHANNELSYNC_SECRET_KEY (`secrets rotate`) makes links already sent stop
 * working; they are only feedback requests.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

const LABEL = 'channelsync feedback link v1';

export function feedbackKey(secretKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), LABEL, 32));
}

function signature(key: Buffer, orderId: number, expires: number): string {
  return createHmac('sha256', key).update(`fb1.${orderId}.${expires}`).digest('base64url');
}

export function signFeedbackToken(key: Buffer, orderId: number, expiresAt: Date): string {
  const expires = Math.floor(expiresAt.getTime() / 1000);
  return `${orderId}.${expires}.${signature(key, orderId, expires)}`;
}

export type TokenCheck =
  | { ok: true; orderId: number; expiresAt: Date }
  | { ok: false; reason: 'invalid' | 'expired' };

/** Checks a token's shape, signature (constant time) and expiry, in that order: an expired forgery is `invalid`. */
export function verifyFeedbackToken(key: Buffer, token: string, now = new Date()): TokenCheck {
  const m = /^([1-9]\d{0,14})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return { ok: false, reason: 'invalid' };
  const orderId = Number(m[1]);
  const expires = Number(m[2]);
  const given = Buffer.from(m[3]!, 'base64url');
  const wanted = Buffer.from(signature(key, orderId, expires), 'base64url');
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return { ok: false, reason: 'invalid' };
  if (expires * 1000 <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, orderId, expiresAt: new Date(expires * 1000) };
}
