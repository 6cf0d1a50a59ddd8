/**
 * Who may use the admin UI and API. Three ways in, all checked in constant time:
 * - `Authorization: Bearer <ADMIN_TOKEN>` (scripts, curl);
 * - `Authorization: Basic` with ADMIN_USER and ADMIN_PASSWORD;
 * - the login form at /admin/login (token, or user and password), which sets
 *   an HttpOnly, SameSite=Strict session cookie.
 * Wrong credentials count against the client IP (see `login-limiter.ts`;
 * behind a reverse proxy, set TRUST_PROXY so that is the client's address).
 * Logging out revokes the session everywhere, not only in that browser: its
 * id is kept in the shared store until the cookie would have expired.
 * Requests authenticated by cookie that change something must come from our
 * own pages (Origin check), on top of SameSite, against cross-site requests.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../app.ts';
import { AdminAuthenticator, readCookie } from './credentials.ts';
import { FallbackLoginLimiter, MemoryLoginLimiter, RedisLoginLimiter, type LoginLimiter, type LoginLimits } from './login-limiter.ts';
import { RedisSharedKV, type SharedKV } from '../../queue/shared-state.ts';
import { REQUEST_REDIS_TIMEOUT_MS, withTimeout } from '../../queue/connection.ts';
import { esc, page } from './html.ts';

export const SESSION_COOKIE = 'channelsync_admin';

export interface AdminAuth {
  authenticator: AdminAuthenticator;
  limiter: LoginLimiter;
  /** The live (signed, unexpired, not logged out) session a cookie carries, or null. */
  session(cookie: string | undefined): Promise<{ id: string; expires: number } | null>;
  /** Log a session out on every daemon sharing this store. */
  revoke(session: { id: string; expires: number }): Promise<void>;
  /** onRequest hook for every protected route. */
  require(request: FastifyRequest, reply: FastifyReply): Promise<void>;
}

/** The admin auth for this app, or null when no credentials are configured (admin routes stay off). */
export function createAdminAuth(app: App, limits?: LoginLimits): AdminAuth | null {
  const { adminToken, adminUser } = app.config;
  if (!adminToken && !adminUser) return null;
  const authenticator = new AdminAuthenticator({ token: adminToken, user: adminUser }, app.config.secretKey);
  // Embedded mode has no Redis and runs one process: the window can live in memory there.
  // With Redis, on the request-path connection (fails fast), falling back to this process's own
  // window while Redis does not answer (see FallbackLoginLimiter for why neither open nor closed).
  const requestRedis = app.backend.requestRedis;
  const limiter: LoginLimiter = requestRedis
    ? new FallbackLoginLimiter(new RedisLoginLimiter(requestRedis, app.config.queuePrefix, limits), REQUEST_REDIS_TIMEOUT_MS, (err) =>
        app.log.warn({ err: err.message }, 'admin login limiter: Redis does not answer; counting failures in this process until it does'),
      )
    : new MemoryLoginLimiter(limits);

  // Revocations live in the shared store (the same keys as app.kv), read on the fast connection. While
  // Redis does not answer, a session counts as live unless this process revoked it: admins can still
  // use the console during an outage; a logout then holds on this replica until Redis is back.
  const revocations: SharedKV = requestRedis ? new RedisSharedKV(requestRedis, app.config.queuePrefix) : app.kv;
  const revokedHere = new Map<string, number>();
  const revokedKey = (id: string) => `admin-session-revoked:${id}`;
  async function session(cookie: string | undefined): Promise<{ id: string; expires: number } | null> {
    const s = authenticator.session(cookie);
    if (!s) return null;
    if ((revokedHere.get(s.id) ?? 0) > Date.now()) return null;
    const revoked = await withTimeout(revocations.get(revokedKey(s.id)), REQUEST_REDIS_TIMEOUT_MS, 'redis').catch((err: Error) => {
      app.log.warn({ err: err.message }, 'admin session: revocations unreadable; trusting the signed cookie');
      return null;
    });
    return revoked === null ? s : null;
  }
  async function revoke(s: { id: string; expires: number }): Promise<void> {
    revokedHere.set(s.id, s.expires);
    for (const [id, until] of revokedHere) if (until <= Date.now()) revokedHere.delete(id);
    await withTimeout(revocations.set(revokedKey(s.id), '1', Math.max(1, s.expires - Date.now())), REQUEST_REDIS_TIMEOUT_MS, 'redis').catch((err: Error) => {
      app.log.warn({ err: err.message }, 'admin logout: Redis does not answer; the session is revoked on this process only');
    });
  }

  async function require(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (await session(readCookie(request.headers.cookie, SESSION_COOKIE))) {
      if (!sameOrigin(request)) {
        return void reply.code(403).send({ error: 'cross-site request refused: use the admin pages or an Authorization header' });
      }
      return;
    }
    const header = request.headers.authorization;
    if (header) {
      const wait = await limiter.blockedFor(request.ip);
      if (wait > 0) return void tooMany(reply, wait);
      const check = authenticator.checkHeader(header);
      if (check === 'ok') return;
      const blocked = await limiter.fail(request.ip);
      request.log.warn({ ip: request.ip, url: request.url }, 'admin: wrong credentials');
      if (blocked > 0) return void tooMany(reply, blocked);
    }
    return void unauthorized(request, reply, header ? 'wrong credentials' : null);
  }

  return { authenticator, limiter, session, revoke, require };
}

function unauthorized(request: FastifyRequest, reply: FastifyReply, problem: string | null): void {
  reply.code(401).header('www-authenticate', 'Bearer realm="channelsync admin"');
  const wantsHtml = request.method === 'GET' && (request.headers.accept ?? '').includes('text/html');
  if (wantsHtml) {
    reply.type('text/html; charset=utf-8').send(loginPage({ next: request.url, error: problem }));
  } else {
    reply.send({ error: problem ?? 'authentication required: Authorization: Bearer <ADMIN_TOKEN>, or log in at /admin/login' });
  }
}

function tooMany(reply: FastifyReply, waitMs: number): void {
  const seconds = Math.ceil(waitMs / 1000);
  reply.code(429).header('retry-after', String(seconds)).send({ error: `too many failed logins from this address: try again in ${seconds} s` });
}

/** True unless the browser says the request came from another site. */
function sameOrigin(request: FastifyRequest): boolean {
  if (['GET', 'HEAD', 'OPTIONS'].includes(request.method)) return true;
  const site = request.headers['sec-fetch-site'];
  if (site && site !== 'same-origin' && site !== 'none') return false;
  const origin = request.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/** Only local admin paths, so the login form cannot be made into an open redirect. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(admin|api)(\/|$|\?)/.test(next) && !next.startsWith('//') ? next : '/admin';
}

export function loginPage(options: { next?: string; error?: string | null; fields?: { token: boolean; user: boolean } }): string {
  const fields = options.fields ?? { token: true, user: true };
  const body = `<form class="login" method="post" action="/admin/login">
  <h1>Sign in</h1>
  ${options.error ? `<p class="error" role="alert">${esc(options.error)}</p>` : ''}
  <input type="hidden" name="next" value="${esc(safeNext(options.next))}">
  ${fields.token ? `<label>Admin token<input name="token" type="password" autocomplete="current-password" autofocus></label>` : ''}
  ${fields.token && fields.user ? '<p class="muted">or</p>' : ''}
  ${fields.user ? `<label>User<input name="user" autocomplete="username"></label><label>Password<input name="password" type="password" autocomplete="current-password"></label>` : ''}
  <button type="submit">Sign in</button>
</form>`;
  return page('Sign in', body, { nav: false });
}

/** GET/POST /admin/login and /admin/logout: the only admin routes open without credentials. */
export function loginRoutes(server: FastifyInstance, app: App, auth: AdminAuth): void {
  const fields = { token: app.config.adminToken !== null, user: app.config.adminUser !== null };
  const secure = app.config.publicUrl.startsWith('https:');

  server.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });

    scope.get<{ Querystring: { next?: string } }>('/admin/login', async (request, reply) => {
      return reply.type('text/html; charset=utf-8').send(loginPage({ next: request.query.next, fields }));
    });

    scope.post('/admin/login', async (request, reply) => {
      const form = (request.body && typeof request.body === 'object' ? request.body : {}) as Record<string, unknown>;
      const next = safeNext(form.next);
      const wait = await auth.limiter.blockedFor(request.ip);
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000);
        return reply
          .code(429)
          .header('retry-after', String(seconds))
          .type('text/html; charset=utf-8')
          .send(loginPage({ next, fields, error: `Too many failed attempts from this address. Try again in ${seconds} s.` }));
      }
      const token = typeof form.token === 'string' ? form.token : '';
      const user = typeof form.user === 'string' ? form.user : '';
      const password = typeof form.password === 'string' ? form.password : '';
      const ok = (token !== '' && auth.authenticator.checkToken(token)) || (user !== '' && auth.authenticator.checkUser(user, password));
      if (!ok) {
        await auth.limiter.fail(request.ip);
        request.log.warn({ ip: request.ip }, 'admin: failed login');
        return reply.code(401).type('text/html; charset=utf-8').send(loginPage({ next, fields, error: 'Wrong credentials.' }));
      }
      const cookie = [
        `${SESSION_COOKIE}=${encodeURIComponent(auth.authenticator.issueSession())}`,
        'Path=/',
        'HttpOnly',
        'SameSite=Strict',
        `Max-Age=${Math.floor(auth.authenticator.sessionMs / 1000)}`,
        ...(secure ? ['Secure'] : []),
      ].join('; ');
      return reply.code(303).header('set-cookie', cookie).header('location', next).send();
    });

    const logout = async (request: FastifyRequest, reply: FastifyReply) => {
      // Revoked, not only forgotten: a copy of the cookie stops working too.
      const session = await auth.session(readCookie(request.headers.cookie, SESSION_COOKIE));
      if (session) await auth.revoke(session);
      return reply.code(303).header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`).header('location', '/admin/login').send();
    };
    scope.get('/admin/logout', logout);
    scope.post('/admin/logout', logout);
  });
}
