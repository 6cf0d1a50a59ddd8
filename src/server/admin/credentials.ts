/**
 * Admin credentials: constant-time checks and signed session cookies.
 *
 * Sessions are stateless (`<expires>.<nonce>.<hmac>`), so any daemon replica
 * accepts a cookie another one issued. The signing key is derived from the
 * configured credentials and the secret key: changing ADMIN_TOKEN or
 * ADMIN_PASSWORD signs every existing session out.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets in constant time. Both sides are hashed first, so
 * neither the content nor the length of the expected value leaks through timing.
 */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

export interface AdminCredentials {
  token: string | null;
  user: { name: string; password: string } | null;
}

export type CredentialCheck = 'ok' | 'wrong' | 'none';

export class AdminAuthenticator {
  private readonly sessionKey: Buffer;

  constructor(
    readonly credentials: AdminCredentials,
    secretKey: Buffer | null,
    /** Session lifetime; default 12 hours. */
    readonly sessionMs = 12 * 3600_000,
  ) {
    this.sessionKey = createHash('sha256')
      .update('channelsync admin session v1\0')
      .update(credentials.token ?? '')
      .update('\0')
      .update(credentials.user ? `${credentials.user.name}\0${credentials.user.password}` : '')
      .update('\0')
      .update(secretKey ?? Buffer.alloc(0))
      .digest();
  }

  /** Checks an `Authorization` header value: `Bearer <ADMIN_TOKEN>` or `Basic <user:password>`. */
  checkHeader(header: string | undefined): CredentialCheck {
    if (!header) return 'none';
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (scheme === 'bearer') return this.checkToken(value) ? 'ok' : 'wrong';
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return 'wrong';
      return this.checkUser(decoded.slice(0, colon), decoded.slice(colon + 1)) ? 'ok' : 'wrong';
    }
    return 'wrong';
  }

  checkToken(token: string): boolean {
    // Always compare, even with no token configured, so the answer takes the same time.
    const ok = safeEqual(token, this.credentials.token ?? randomBytes(24).toString('hex'));
    return ok && this.credentials.token !== null;
  }

  checkUser(name: string, password: string): boolean {
    const user = this.credentials.user;
    const nameOk = safeEqual(name, user?.name ?? '\0');
    const passwordOk = safeEqual(password, user?.password ?? randomBytes(24).toString('hex'));
    return nameOk && passwordOk && user !== null;
  }

  issueSession(now = Date.now()): string {
    const body = `${now + this.sessionMs}.${randomBytes(12).toString('base64url')}`;
    return `${body}.${this.sign(body)}`;
  }

  verifySession(cookie: string | undefined, now = Date.now()): boolean {
    return this.session(cookie, now) !== null;
  }

  /** The session a cookie carries (its random id and expiry), or null when forged or expired. */
  session(cookie: string | undefined, now = Date.now()): { id: string; expires: number } | null {
    if (!cookie) return null;
    const last = cookie.lastIndexOf('.');
    if (last < 0) return null;
    const body = cookie.slice(0, last);
    if (!safeEqual(cookie.slice(last + 1), this.sign(body))) return null;
    const [expiresText, id] = body.split('.');
    const expires = Number(expiresText);
    return Number.isFinite(expires) && expires > now && id ? { id, expires } : null;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.sessionKey).update(body).digest('base64url');
  }
}

/**
 * Reads one cookie from a Cookie header. A value that is not valid
 * percent-encoding (`%E0%A4%A`) throws an error with `statusCode` 400, which
 * fastify's and the API's error handlers answer as a 400 naming the cookie:
 * the client sent it, so it is never a 500.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        throw Object.assign(new Error(`malformed cookie ${name}: log in again at /admin/login`), { statusCode: 400 });
      }
    }
  }
  return undefined;
}
