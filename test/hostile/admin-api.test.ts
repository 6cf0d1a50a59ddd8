/**
 * Hostile input on the admin API, driven by docs/openapi.json: every
 * documented parameter of every route gets each hostile value, every route
 * with a body gets each hostile body, and the session cookie is mangled. The
 * answer is a 2xx or a clean 4xx, never a 500, and never the driver's words.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminServer } from '../helpers/admin-server.ts';
import { OPENAPI_PATH } from '../../src/server/admin/api/index.ts';
import { SESSION_COOKIE } from '../../src/server/admin/auth.ts';

const TOKEN = 'hostile-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

const admin = adminServer(TOKEN);

/** Query and path values, already URL-encoded as a client would send them. */
const VALUES = ['%00', 'a%00b', '99999999999', '-99999999999', '99999999999999999999999', '1e400', 'NaN', 'abc', '-1', '0', '1.5', "'%3B%20DROP%20TABLE%20orders%3B--", 'x'.repeat(3000), '%E0%A4%A', '2026-13-45', '%F0%9F%92%A9'];
const BODIES = ['{', 'null', '[]', '"text"', '{"a":"\\u0000"}', '{"quantity":99999999999,"lines":[{"sku":"\\u0000","quantity":3000000000}]}', JSON.stringify({ lines: Array(5).fill({ sku: 'A', quantity: -1 }) })];
const INTERNAL = /TypeError|RangeError|ZodError|SyntaxError|postgres|relation "|column "|violates|invalid input syntax|out of range for type|\bat .+\.ts:\d+/i;

interface Operation {
  method: string;
  path: string;
  params: Array<{ name: string; in: string }>;
  body: boolean;
}
const spec = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }>; requestBody?: unknown }>> };
const OPERATIONS: Operation[] = Object.entries(spec.paths).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, params: op.parameters ?? [], body: op.requestBody !== undefined })),
);
const fill = (path: string, value = '1') => path.replace(/\{[^}]+\}/g, value);

async function expectClean(method: string, url: string, payload?: string, headers: Record<string, string> = auth) {
  const res = await admin.server.inject({ method: method as 'GET', url, headers: { ...headers, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) }, payload });
  expect(res.statusCode, `${method} ${url.slice(0, 200)} -> ${res.body.slice(0, 300)}`).toBeLessThan(500);
  expect(res.body, `${method} ${url.slice(0, 200)}`).not.toMatch(INTERNAL);
  return res;
}

describe('admin API: hostile parameters, from the OpenAPI file', () => {
  for (const op of OPERATIONS) {
    if (op.params.length === 0) continue;
    it(`${op.method} ${op.path}`, async () => {
      for (const param of op.params) {
        for (const value of VALUES) {
          const url = param.in === 'path' ? fill(op.path.replace(`{${param.name}}`, value)) : `${fill(op.path)}?${param.name}=${value}`;
          await expectClean(op.method, url, op.body ? '{}' : undefined);
        }
      }
    });
  }
});

describe('admin API: hostile bodies', () => {
  for (const op of OPERATIONS.filter((o) => o.body)) {
    it(`${op.method} ${op.path}`, async () => {
      for (const body of BODIES) await expectClean(op.method, fill(op.path), body);
    });
  }
});

describe('admin API: the probe findings', () => {
  it.each([
    ['/api/stock/levels?below=99999999999', /below/],
    ['/api/stock/levels?sku=%00', /NUL/],
    ['/api/stock/movements?reference=%00', /NUL/],
    ['/api/orders?q=%00', /NUL/],
  ])('%s is a 400 naming the field', async (url, says) => {
    const res = await expectClean('GET', url);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(says);
  });

  it.each(['%E0%A4%A', '%', 'abc', '.', `${'9'.repeat(400)}.x.y`, '%00'])('a malformed session cookie (%s) is a 4xx, on the API and the pages', async (cookie) => {
    for (const url of ['/api/orders', '/admin']) {
      const res = await expectClean('GET', url, undefined, { cookie: `${SESSION_COOKIE}=${cookie}` });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
    }
    const bad = await expectClean('GET', '/api/orders', undefined, { cookie: `${SESSION_COOKIE}=%E0%A4%A` });
    expect(bad.statusCode).toBe(400);
  });

  it.each(['Bearer', 'Bearer ', 'Basic', 'Basic %%%', 'Basic ' + Buffer.from('no-colon').toString('base64'), 'Digest x', 'x'.repeat(8000)])('Authorization %j is a 401', async (header) => {
    const res = await expectClean('GET', '/api/orders', undefined, { authorization: header.slice(0, 8000) });
    expect(res.statusCode).toBe(401);
  });

  it.each([
    'token=%00',
    'token=' + 'x'.repeat(15_000),
    'user=%E0%A4%A&password=x',
    'next=%00&token=nope',
    'token=a&token=b',
    '%%%',
    '',
  ])('the login form %j is refused cleanly', async (form) => {
    const res = await admin.server.inject({ method: 'POST', url: '/admin/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form.slice(0, 16_000), remoteAddress: `10.9.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}` });
    expect(res.statusCode, res.body.slice(0, 200)).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.body).not.toMatch(INTERNAL);
  });
});
