/**
 * Hostile deliveries on the public webhook route, one table per channel: the
 * real recorded bodies, mutated (malformed, truncated, oversized, wrongly
 * typed, out of range) and signed with the channel's secret (a captured or
 * leaked signature), or forged. Every case gets its 4xx, the answer never
 * names an internal error, and nothing is stored (no partial write).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { buildServer } from '../../src/server/index.ts';
import { addHostileChannel, sign, SHOPIFY_ORDER_BODY, SHOPIFY_SECRET, WOO_CAPTURE, WOO_DELIVERIES } from './channels.ts';

let t: TestApp;
let server: FastifyInstance;
const channels: Record<'shopify' | 'woocommerce', number> = { shopify: 0, woocommerce: 0 };
beforeAll(async () => {
  t = await createTestApp();
  server = await buildServer(t.app);
  channels.shopify = (await addHostileChannel(t.app, 'shopify')).channelId;
  channels.woocommerce = (await addHostileChannel(t.app, 'woocommerce')).channelId;
});
afterAll(async () => {
  await server?.close();
  await t?.close();
});

type Json = Record<string, any>;
/** A deep copy of `base` changed by `edit`. */
const mutate = (base: Json, edit: (o: Json) => void): string => {
  const copy = structuredClone(base);
  edit(copy);
  return JSON.stringify(copy);
};

interface Case {
  name: string;
  body: string | Buffer;
  status: number;
  /** Headers over the signed defaults; `signature: null` sends none. */
  headers?: Record<string, string | null>;
  /** Sign with another secret (a forgery). */
  secret?: string;
  /** Words the answer must contain. */
  says?: RegExp;
}

// Words of internal errors that must never reach a sender.
const INTERNAL = /TypeError|RangeError|ZodError|SyntaxError|postgres|relation "|column "|violates|invalid input syntax|\bat .+\.ts:\d+/i;

async function run(kind: 'shopify' | 'woocommerce', c: Case, defaults: (body: string | Buffer) => Record<string, string>) {
  const secret = c.secret ?? (kind === 'shopify' ? SHOPIFY_SECRET : WOO_CAPTURE.webhookSecret);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...defaults(c.body) };
  const sigHeader = kind === 'shopify' ? 'x-shopify-hmac-sha256' : 'x-wc-webhook-signature';
  headers[sigHeader] = sign(c.body, secret);
  for (const [k, v] of Object.entries(c.headers ?? {})) {
    if (v === null) delete headers[k];
    else headers[k] = v;
  }
  const deliveries = () => t.app.db.selectFrom('webhook_deliveries').select('id').where('channel_id', '=', channels[kind]).execute();
  const before = (await deliveries()).length;
  const res = await server.inject({ method: 'POST', url: `/webhooks/${channels[kind]}`, headers, payload: c.body });
  expect(res.statusCode, `${c.name}: ${res.body}`).toBe(c.status);
  const answer = res.json() as { error?: string };
  expect(answer.error ?? '', c.name).not.toMatch(INTERNAL);
  if (c.says) expect(answer.error, c.name).toMatch(c.says);
  expect((await deliveries()).length, `${c.name} stored a delivery`).toBe(before);
}

const shopify: Json = JSON.parse(SHOPIFY_ORDER_BODY.toString());
const line0 = (o: Json) => o.line_items[0];
let ids = 0;

const SHOPIFY_CASES: Case[] = [
  { name: 'forged signature', body: SHOPIFY_ORDER_BODY, secret: 'not-the-secret', status: 401 },
  { name: 'no signature', body: SHOPIFY_ORDER_BODY, headers: { 'x-shopify-hmac-sha256': null }, status: 401 },
  { name: 'signature not base64', body: SHOPIFY_ORDER_BODY, headers: { 'x-shopify-hmac-sha256': '%%%' }, status: 401 },
  { name: 'no topic', body: SHOPIFY_ORDER_BODY, headers: { 'x-shopify-topic': null }, status: 400 },
  { name: 'no webhook id', body: SHOPIFY_ORDER_BODY, headers: { 'x-shopify-webhook-id': null }, status: 400 },
  { name: 'truncated body', body: SHOPIFY_ORDER_BODY.subarray(0, SHOPIFY_ORDER_BODY.length / 2), status: 400, says: /not JSON/ },
  { name: 'empty body', body: '', status: 400 },
  { name: 'JSON null', body: 'null', status: 400 },
  { name: 'JSON array', body: '[1,2]', status: 400 },
  { name: 'created_at not a date', body: mutate(shopify, (o) => (o.created_at = 'not-a-date')), status: 400, says: /created_at/ },
  { name: 'updated_at a number', body: mutate(shopify, (o) => (o.updated_at = 12345)), status: 400, says: /updated_at/ },
  { name: 'price "abc"', body: mutate(shopify, (o) => (line0(o).price_set.shop_money.amount = 'abc')), status: 400, says: /line_items\.0\.price_set/ },
  { name: 'total "1e5"', body: mutate(shopify, (o) => (o.current_total_price_set.shop_money.amount = '1e5')), status: 400, says: /current_total_price_set/ },
  { name: 'tax 1e22', body: mutate(shopify, (o) => (o.current_total_tax_set.shop_money.amount = '10000000000000000000000.00')), status: 400, says: /out of range/ },
  { name: 'price with 6 decimals', body: mutate(shopify, (o) => (line0(o).price_set.shop_money.amount = '1.123456')), status: 400 },
  { name: 'quantity -1', body: mutate(shopify, (o) => (line0(o).quantity = -1)), status: 400, says: /negative/ },
  { name: 'quantity 1.5', body: mutate(shopify, (o) => (line0(o).quantity = 1.5)), status: 400 },
  { name: 'quantity 3e9', body: mutate(shopify, (o) => (line0(o).quantity = 3e9)), status: 400, says: /out of range/ },
  { name: 'quantity as text', body: mutate(shopify, (o) => (line0(o).quantity = '1')), status: 400 },
  { name: 'currency "EURO"', body: mutate(shopify, (o) => (o.currency = 'EURO')), status: 400, says: /currency/ },
  { name: 'line_items an object', body: mutate(shopify, (o) => (o.line_items = { 0: line0(o) })), status: 400 },
  { name: 'no id', body: mutate(shopify, (o) => delete o.id), status: 400 },
  { name: 'orders/delete without id', body: '{}', headers: { 'x-shopify-topic': 'orders/delete' }, status: 400 },
  { name: 'orders/delete with id "abc"', body: '{"id":"abc"}', headers: { 'x-shopify-topic': 'orders/delete' }, status: 400 },
  { name: 'orders/delete with id -1', body: '{"id":-1}', headers: { 'x-shopify-topic': 'orders/delete' }, status: 400 },
  { name: 'body over 5 MB', body: mutate(shopify, (o) => (o.note = 'x'.repeat(5 * 1024 * 1024 + 1))), status: 413 },
];

describe('Shopify webhook route: hostile deliveries', () => {
  for (const c of SHOPIFY_CASES) {
    it(c.name, () =>
      run('shopify', c, () => ({ 'x-shopify-topic': 'orders/updated', 'x-shopify-webhook-id': `hostile-${++ids}`, 'x-shopify-shop-domain': 'example.myshopify.com' })),
    );
  }
});

const woo: Json = JSON.parse(WOO_DELIVERIES[0]!.rawBody);
const wooLine = (o: Json) => o.line_items[0];

const WOO_CASES: Case[] = [
  { name: 'forged signature', body: WOO_DELIVERIES[0]!.rawBody, secret: 'not-the-secret', status: 401 },
  { name: 'no signature', body: WOO_DELIVERIES[0]!.rawBody, headers: { 'x-wc-webhook-signature': null }, status: 401 },
  { name: 'no topic and not a ping', body: WOO_DELIVERIES[0]!.rawBody, headers: { 'x-wc-webhook-topic': null }, status: 400 },
  { name: 'truncated body', body: WOO_DELIVERIES[0]!.rawBody.slice(0, 500), status: 400, says: /not JSON/ },
  { name: 'JSON string', body: '"order"', status: 400 },
  { name: 'quantity -1 (was clamped to 0)', body: mutate(woo, (o) => (wooLine(o).quantity = -1)), status: 400, says: /line_items\.0\.quantity/ },
  { name: 'quantity 1.5 (was cut to 1)', body: mutate(woo, (o) => (wooLine(o).quantity = 1.5)), status: 400, says: /line_items\.0\.quantity/ },
  { name: 'quantity 3e9', body: mutate(woo, (o) => (wooLine(o).quantity = 3e9)), status: 400 },
  { name: 'total "abc"', body: mutate(woo, (o) => (o.total = 'abc')), status: 400, says: /total/ },
  { name: 'total "1e5"', body: mutate(woo, (o) => (o.total = '1e5')), status: 400, says: /total/ },
  { name: 'line subtotal 1e22', body: mutate(woo, (o) => (wooLine(o).subtotal = '10000000000000000000000')), status: 400, says: /out of range/ },
  { name: 'price "abc"', body: mutate(woo, (o) => (wooLine(o).price = 'abc')), status: 400 },
  { name: 'date_modified_gmt month 13', body: mutate(woo, (o) => (o.date_modified_gmt = '2026-13-45T99:99:99')), status: 400, says: /date_modified_gmt/ },
  { name: 'date_created_gmt not a date', body: mutate(woo, (o) => (o.date_created_gmt = 'not-a-date')), status: 400 },
  { name: 'currency missing', body: mutate(woo, (o) => delete o.currency), status: 400 },
  { name: 'currency "DOLLARS"', body: mutate(woo, (o) => (o.currency = 'DOLLARS')), status: 400 },
  { name: 'id 0', body: mutate(woo, (o) => (o.id = 0)), status: 400 },
  { name: 'line_items null', body: mutate(woo, (o) => (o.line_items = null)), status: 400 },
  { name: 'order.deleted with id "x"', body: '{"id":"x"}', headers: { 'x-wc-webhook-topic': 'order.deleted' }, status: 400 },
  { name: 'order.deleted with id -5', body: '{"id":-5}', headers: { 'x-wc-webhook-topic': 'order.deleted' }, status: 400 },
  { name: 'body over 5 MB', body: mutate(woo, (o) => (o.customer_note = 'x'.repeat(5 * 1024 * 1024 + 1))), status: 413 },
];

describe('WooCommerce webhook route: hostile deliveries', () => {
  for (const c of WOO_CASES) {
    it(c.name, () => run('woocommerce', c, () => ({ 'x-wc-webhook-topic': 'order.updated', 'x-wc-webhook-delivery-id': `hostile-${++ids}` })));
  }
});

describe('webhook route: no such channel', () => {
  it.each(['0', '-1', 'abc', '1e400', '99999999999'])('/webhooks/%s is a 404', async (id) => {
    const res = await server.inject({ method: 'POST', url: `/webhooks/${id}`, headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(res.statusCode).toBe(404);
  });
});
