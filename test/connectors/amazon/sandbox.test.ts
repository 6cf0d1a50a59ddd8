/**
 * Amazon's static sandbox, replayed: every `x-amzn-api-sandbox` static
 * request/response pair of the models in fixtures/amazon/examples gets
 * exactly its status and body from the simulator in sandbox mode, and a
 * request matching no case gets Amazon's "Could not match input arguments".
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAmazonSimulator, type AmazonSimulator } from '../../../connectors/amazon/simulator/index.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../../shared/fixtures/amazon/examples');
const COPIES = path.resolve(import.meta.dirname, '../../../connectors/amazon/simulator/sandbox');

interface Case {
  status: number;
  kind: string;
  request?: { parameters: Record<string, { value?: unknown }> };
  response: unknown;
}
interface Operation {
  operationId: string;
  method: string;
  path: string;
  cases: Case[];
}

const files = readdirSync(COPIES).filter((f) => f.endsWith('.json'));
const pairs = files.flatMap((file) =>
  (JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')) as { operations: Operation[] }).operations.flatMap((op) =>
    op.cases.filter((c) => c.kind === 'x-amzn-api-sandbox.static').map((c, i) => ({ name: `${file} ${op.operationId} #${i} (${c.status})`, op, c })),
  ),
);

let sim: AmazonSimulator;
let token: string;

beforeAll(async () => {
  sim = await startAmazonSimulator({ sandbox: true });
  const { credentials } = sim.channelConfig();
  const res = await fetch(`${sim.url}/auth/o2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.refreshToken, client_id: credentials.clientId, client_secret: credentials.clientSecret }),
  });
  token = ((await res.json()) as { access_token: string }).access_token;
});
afterAll(async () => {
  await sim?.close();
});

function requestFor(op: Operation, c: Case): { url: string; init: RequestInit } {
  const params = c.request?.parameters ?? {};
  const names = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const value = (name: string) => (params[name] && 'value' in params[name]! ? params[name]!.value : undefined);
  const filled = op.path.replace(/\{(\w+)\}/g, (_, n: string) => encodeURIComponent(String(value(n) ?? `any-${n}`)));
  const query = new URLSearchParams();
  for (const [name, p] of Object.entries(params)) {
    if (name === 'body' || names.includes(name) || !p || !('value' in p)) continue;
    query.set(name, Array.isArray(p.value) ? p.value.join(',') : String(p.value));
  }
  const body = value('body');
  return {
    url: `${sim.url}${filled}${query.size ? `?${query}` : ''}`,
    init: {
      method: op.method,
      headers: { 'x-amz-access-token': token, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    },
  };
}

it('keeps byte-equal copies of the fixtures it answers from', () => {
  for (const file of files) expect(readFileSync(path.join(COPIES, file), 'utf8'), file).toBe(readFileSync(path.join(FIXTURES, file), 'utf8'));
  expect(pairs.length).toBeGreaterThan(60);
});

describe('every static sandbox pair replays equal', () => {
  it.each(pairs)('$name', async ({ op, c }) => {
    const { url, init } = requestFor(op, c);
    const res = await fetch(url, init);
    const text = await res.text();
    expect(res.status).toBe(c.status);
    if (c.status === 204 || c.response === null) expect(text).toBe('');
    else expect(JSON.parse(text)).toEqual(c.response);
    expect(res.headers.get('x-amzn-requestid')).toBeTruthy();
  });
});

it('answers a request that matches no case as the sandbox does', async () => {
  const res = await fetch(`${sim.url}/orders/v0/orders?CreatedAfter=2024-01-01T00:00:00Z&MarketplaceIds=ATVPDKIKX0DER`, { headers: { 'x-amz-access-token': token } });
  expect(res.status).toBe(400);
  expect(await res.json()).toEqual({ errors: [{ code: 'InvalidInput', message: 'Could not match input arguments', details: '' }] });
});
