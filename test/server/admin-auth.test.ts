/**
 * The admin surface never opens without credentials: every route under
 * /admin and /api (as registered, so routes added later are covered too)
 * answers 401 without credentials or with wrong ones, and the queue UI does
 * not render. Login, sessions, rate limiting and constant-time checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { buildServer } from '../../src/server/index.ts';
import { registeredRoutes } from '../../src/server/admin/routes.ts';
import { PUBLIC_ADMIN_ROUTES } from '../../src/server/admin/index.ts';
import { AdminAuthenticator, safeEqual } from '../../src/server/admin/credentials.ts';
import { SESSION_COOKIE } from '../../src/server/admin/auth.ts';

const TOKEN = 'test-admin-token-0123456789abcdef';
const USER = { name: 'ops', password: 'correct horse battery' };
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

let ipCounter = 0;
/** A fresh client address, so the failed-login limit of one test does not leak into another. */
const freshIp = () => `10.1.${Math.floor(++ipCounter / 250)}.${ipCounter % 250}`;

function concrete(url: string): string {
  return url.replace(/:queueName/g, 'channel-push').replace(/:[A-Za-z]+/g, '1').replace(/\*$/, 'index.js');
}

describe('admin routes with credentials configured', () => {
  let t: TestApp;
  let server: FastifyInstance;

  beforeAll(async () => {
    t = await createTestApp({ ADMIN_TOKEN: TOKEN, ADMIN_USER: USER.name, ADMIN_PASSWORD: USER.password });
    server = await buildServer(t.app);
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  const protectedRoutes = () =>
    registeredRoutes(server).filter((r) => /^\/(admin|api)(\/|$)/.test(r.url) && !PUBLIC_ADMIN_ROUTES.has(`${r.method} ${r.url}`));

  it('registers the dashboard, the API and the queue UI behind auth', () => {
    const urls = protectedRoutes().map((r) => `${r.method} ${r.url}`);
    for (const expected of ['GET /admin', 'GET /api/orders', 'GET /api/orders/:id', 'POST /api/pushes/:id/retry', 'GET /admin/queues', 'PUT /admin/queues/api/queues/:queueName/:jobId/retry',
      'GET /admin/orders', 'GET /admin/orders/:id', 'POST /admin/orders/:id/pushes/:child/retry', 'POST /admin/orders/:id/cancel', 'GET /admin/stock', 'GET /admin/purchase-orders', 'POST /admin/purchase-orders/:id/receive']) {
      expect(urls).toContain(expected);
    }
    expect(urls.length).toBeGreaterThan(30);
  });

  it('answers 401 on every admin route without credentials, and the queue UI does not render', async () => {
    const routes = protectedRoutes();
    for (const route of routes) {
      for (const accept of ['application/json', 'text/html']) {
        const res = await server.inject({ method: route.method as 'GET', url: concrete(route.url), headers: { accept }, remoteAddress: freshIp() });
        expect(res.statusCode, `${route.method} ${route.url}`).toBe(401);
        expect(res.body).not.toMatch(/static\/js\/main|__UI_CONFIG__|bull-board/i);
      }
    }
  });

  it('answers 401 on every admin route with a wrong token, wrong Basic credentials or a forged session', async () => {
    const forged = `${Date.now() + 3600_000}.abc.${'A'.repeat(43)}`;
    for (const route of protectedRoutes()) {
      for (const headers of [
        { authorization: `Bearer ${TOKEN.slice(0, -1)}x` },
        { authorization: basic(USER.name, 'wrong password!') },
        { cookie: `${SESSION_COOKIE}=${forged}` },
      ]) {
        const res = await server.inject({ method: route.method as 'GET', url: concrete(route.url), headers, remoteAddress: freshIp() });
        expect(res.statusCode, `${route.method} ${route.url} ${Object.keys(headers)[0]}`).toBe(401);
      }
    }
  });

  it('opens with the bearer token, with Basic user and password, and renders the queue UI', async () => {
    const ip = freshIp();
    const bearer = await server.inject({ url: '/api/orders', headers: { authorization: `Bearer ${TOKEN}` }, remoteAddress: ip });
    expect(bearer.statusCode).toBe(200);
    expect(bearer.json()).toEqual({ items: [], next: null });
    const viaBasic = await server.inject({ url: '/admin', headers: { authorization: basic(USER.name, USER.password) }, remoteAddress: ip });
    expect(viaBasic.statusCode).toBe(200);
    expect(viaBasic.body).toContain('orders-per-hour');
    const ui = await server.inject({ url: '/admin/queues', headers: { authorization: `Bearer ${TOKEN}` }, remoteAddress: ip });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toMatch(/static\/js\/main/);
    const queues = await server.inject({ url: '/admin/queues/api/queues', headers: { authorization: `Bearer ${TOKEN}` }, remoteAddress: ip });
    expect(queues.json().queues.map((q: { name: string }) => q.name).sort()).toEqual(t.app.queues.all().map((q) => q.name).sort());
  });

  it('shows a login form to browsers, sets an HttpOnly SameSite cookie on login, and the cookie opens the admin', async () => {
    const ip = freshIp();
    const challenge = await server.inject({ url: '/admin', headers: { accept: 'text/html' }, remoteAddress: ip });
    expect(challenge.statusCode).toBe(401);
    expect(challenge.body).toContain('action="/admin/login"');

    const wrong = await server.inject({ method: 'POST', url: '/admin/login', payload: 'token=nope', headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: ip });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();

    const login = await server.inject({
      method: 'POST',
      url: '/admin/login',
      payload: new URLSearchParams({ token: TOKEN, next: '/admin/queues' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      remoteAddress: ip,
    });
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/admin/queues');
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const cookie = setCookie.split(';')[0]!;
    const page = await server.inject({ url: '/admin', headers: { cookie }, remoteAddress: ip });
    expect(page.statusCode).toBe(200);

    // A state change with the cookie from another site is refused.
    const csrf = await server.inject({ method: 'POST', url: '/api/pushes/retry-failed', headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/json' }, payload: '{}', remoteAddress: ip });
    expect(csrf.statusCode).toBe(403);
    const sameSite = await server.inject({ method: 'POST', url: '/api/pushes/retry-failed', headers: { cookie, origin: 'http://localhost:3000', host: 'localhost:3000', 'content-type': 'application/json' }, payload: '{}', remoteAddress: ip });
    expect(sameSite.statusCode).toBe(202);

    // User and password work in the form too; `next` cannot leave the admin.
    const byUser = await server.inject({
      method: 'POST',
      url: '/admin/login',
      payload: new URLSearchParams({ user: USER.name, password: USER.password, next: '//evil.example/' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      remoteAddress: ip,
    });
    expect(byUser.statusCode).toBe(303);
    expect(byUser.headers.location).toBe('/admin');

    const logout = await server.inject({ url: '/admin/logout', headers: { cookie }, remoteAddress: ip });
    expect(String(logout.headers['set-cookie'])).toMatch(/Max-Age=0/);
    // Logging out revokes the session: a copy of the cookie (another tab, a stolen one) no longer opens anything.
    const copied = await server.inject({ url: '/api/orders', headers: { cookie }, remoteAddress: ip });
    expect(copied.statusCode).toBe(401);
    // Other sessions stay signed in.
    const other = String(byUser.headers['set-cookie']).split(';')[0]!;
    expect((await server.inject({ url: '/api/orders', headers: { cookie: other }, remoteAddress: ip })).statusCode).toBe(200);
  });

  it('rate-limits failed logins per address: after 10 failures even the right token is refused with 429', async () => {
    const ip = freshIp();
    for (let i = 0; i < 10; i++) {
      const res = await server.inject({ method: 'POST', url: '/admin/login', payload: `token=guess${i}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: ip });
      expect(res.statusCode).toBe(401);
    }
    const blockedForm = await server.inject({ method: 'POST', url: '/admin/login', payload: `token=${TOKEN}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: ip });
    expect(blockedForm.statusCode).toBe(429);
    expect(Number(blockedForm.headers['retry-after'])).toBeGreaterThan(0);
    const blockedHeader = await server.inject({ url: '/api/orders', headers: { authorization: `Bearer ${TOKEN}` }, remoteAddress: ip });
    expect(blockedHeader.statusCode).toBe(429);
    // Another address is not affected.
    const other = await server.inject({ url: '/api/orders', headers: { authorization: `Bearer ${TOKEN}` }, remoteAddress: freshIp() });
    expect(other.statusCode).toBe(200);
  });
});

describe('behind a reverse proxy (TRUST_PROXY)', () => {
  it("limits failed logins per client from the proxy's X-Forwarded-For, and believes only the configured proxy", async () => {
    const t = await createTestApp({ ADMIN_TOKEN: TOKEN, TRUST_PROXY: '10.9.0.1' });
    const server = await buildServer(t.app);
    try {
      const viaProxy = (client: string, token: string, proxy = '10.9.0.1') =>
        server.inject({ url: '/api/orders', headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': client }, remoteAddress: proxy });
      for (let i = 0; i < 10; i++) await viaProxy('203.0.113.7', `guess-${i}`);
      expect((await viaProxy('203.0.113.7', TOKEN)).statusCode).toBe(429);
      // Another client behind the same proxy is not locked out.
      expect((await viaProxy('203.0.113.8', TOKEN)).statusCode).toBe(200);
      // A client that is not the proxy cannot pick its address with the header.
      for (let i = 0; i < 10; i++) await viaProxy(`198.51.100.${i}`, `guess-${i}`, '192.0.2.50');
      expect((await viaProxy('198.51.100.99', TOKEN, '192.0.2.50')).statusCode).toBe(429);
    } finally {
      await server.close();
      await t.close();
    }
  });
});

describe('admin routes with no credentials configured', () => {
  it('are off (404) and the log says how to turn them on', async () => {
    const t = await createTestApp();
    const lines: string[] = [];
    t.app.log = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, cb) => void (lines.push(String(chunk)), cb()) }));
    const server = await buildServer(t.app);
    try {
      for (const url of ['/admin', '/admin/queues', '/api/orders', '/admin/login']) {
        const res = await server.inject({ url, headers: { authorization: 'Bearer anything-at-all-here' } });
        expect(res.statusCode, url).toBe(404);
      }
      expect(lines.join('')).toMatch(/set ADMIN_TOKEN .*or ADMIN_USER and ADMIN_PASSWORD/);
    } finally {
      await server.close();
      await t.close();
    }
  });
});

describe('/metrics with METRICS_TOKEN', () => {
  it('wants the metrics token, and the admin token is not it', async () => {
    const t = await createTestApp({ METRICS_TOKEN: 'metrics-token-0123456789', ADMIN_TOKEN: TOKEN });
    const server = await buildServer(t.app);
    try {
      expect((await server.inject({ url: '/metrics' })).statusCode).toBe(401);
      expect((await server.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(401);
      const ok = await server.inject({ url: '/metrics', headers: { authorization: 'Bearer metrics-token-0123456789' } });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toContain('channelsync_process_cpu_user_seconds_total');
    } finally {
      await server.close();
      await t.close();
    }
  });
});

describe('credentials', () => {
  it('compares in constant time, including different lengths', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', 'x')).toBe(false);
  });

  it('signs sessions with a key derived from the credentials: changing them signs everyone out', () => {
    const a = new AdminAuthenticator({ token: TOKEN, user: null }, null);
    const session = a.issueSession();
    expect(a.verifySession(session)).toBe(true);
    expect(a.verifySession(session, Date.now() + 13 * 3600_000)).toBe(false);
    expect(new AdminAuthenticator({ token: `${TOKEN}2`, user: null }, null).verifySession(session)).toBe(false);
    expect(a.checkHeader(`Bearer ${TOKEN}`)).toBe('ok');
    expect(a.checkHeader(basic('ops', 'x'))).toBe('wrong');
    expect(a.checkHeader(undefined)).toBe('none');
  });
});
