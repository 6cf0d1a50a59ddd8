/**
 * Replays every request recorded from a real WooCommerce 7.9 against the
 * simulator: same status, same body shape (ids, dates and counts aside), and
 * the exact error bodies.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WooCommerceRestApiModule from '@woocommerce/woocommerce-rest-api';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../../../connectors/woocommerce/simulator/index.ts';

const WooCommerceRestApi: typeof WooCommerceRestApiModule =
  (WooCommerceRestApiModule as unknown as { default?: typeof WooCommerceRestApiModule }).default ?? WooCommerceRestApiModule;

interface Case {
  request: { method: string; path: string; query: Record<string, unknown> | null; body: unknown };
  response: { status: number; headers: Record<string, string>; body: unknown };
}
const capture = JSON.parse(
  readFileSync(new URL('../../../../shared/fixtures/woocommerce/captures/rest-v3.json', import.meta.url), 'utf8'),
) as { cases: Record<string, Case> };

/** Differences in shape: keys, value types, array emptiness. */
function shapeDiff(expected: unknown, actual: unknown, path = '$', out: string[] = []): string[] {
  const type = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (type(expected) !== type(actual)) {
    out.push(`${path}: expected ${type(expected)}, got ${type(actual)}`);
    return out;
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (/related_ids$/.test(path)) return out;
    if ((expected.length === 0) !== (actual.length === 0)) out.push(`${path}: expected ${expected.length} items, got ${actual.length}`);
    for (let i = 0; i < Math.min(expected.length, actual.length); i++) shapeDiff(expected[i], actual[i], `${path}[${i}]`, out);
  } else if (expected && typeof expected === 'object') {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    for (const k of Object.keys(e)) {
      if (!(k in a)) out.push(`${path}.${k}: missing`);
      else shapeDiff(e[k], a[k], `${path}.${k}`, out);
    }
    for (const k of Object.keys(a)) if (!(k in e)) out.push(`${path}.${k}: unexpected`);
  }
  return out;
}

let sim: WooCommerceSimulator;
let api: InstanceType<typeof WooCommerceRestApiModule>;
const ids = new Map<number, number>(); // recorded id -> simulator id
const mapId = (id: number): number => ids.get(id) ?? id;

function mapBody(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => mapBody(v, key));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapBody(v, k)]));
  }
  if (typeof value === 'number' && ['id', 'product_id', 'variation_id'].includes(key)) return mapId(value);
  return value;
}

async function send(c: Case['request'], client = api) {
  const path = c.path
    .replace('/wp-json/wc/v3/', '')
    .split('/')
    .map((seg) => (/^\d+$/.test(seg) ? String(mapId(Number(seg))) : seg))
    .join('/');
  const query = (c.query ?? {}) as Record<string, unknown>;
  const m = c.method.toLowerCase() as 'get' | 'post' | 'put';
  const res = (m === 'get' ? await client.get(path, query) : await client[m](path, mapBody(c.body), query)) as {
    status: number;
    data: unknown;
    headers: Record<string, string>;
  };
  return res;
}

async function replay(name: string): Promise<{ status: number; data: unknown; headers: Record<string, string> }> {
  const c = capture.cases[name]!;
  const res = await send(c.request);
  expect(res.status, name).toBe(c.response.status);
  expect(shapeDiff(c.response.body, res.data), name).toEqual([]);
  if (c.response.status >= 400) {
    // Error bodies are fixed texts: they must match exactly.
    expect(res.data, name).toEqual(c.response.body);
  }
  for (const h of ['x-wp-total', 'x-wp-totalpages', 'content-type', 'allow']) {
    if (h in c.response.headers) expect(res.headers[h], `${name} ${h}`).toBeDefined();
  }
  return res;
}

const learn = (recorded: number, actual: unknown) => ids.set(recorded, (actual as { id: number }).id);

beforeAll(async () => {
  sim = await startWooCommerceSimulator({});
  const { credentials } = sim.channelConfig();
  api = new WooCommerceRestApi({
    url: sim.url,
    consumerKey: String(credentials.consumerKey),
    consumerSecret: String(credentials.consumerSecret),
    version: 'wc/v3',
    axiosConfig: { validateStatus: () => true },
  });
});
afterAll(() => sim.close());

describe('woocommerce simulator replays the recorded WooCommerce 7.9 requests', () => {
  it('products, variations and SKU lookups', async () => {
    learn(12, (await replay('productCreateSimple')).data);
    learn(13, (await replay('productCreateVariable')).data);
    learn(14, (await replay('variationCreate')).data);
    // TEE-M exists in the recording's store; create it the same way.
    const m = await api.post(`products/${mapId(13)}/variations`, {
      regular_price: '20.00', sku: 'TEE-M', manage_stock: true, stock_quantity: 5, attributes: [{ name: 'Size', option: 'M' }],
    });
    learn(15, m.data);
    await replay('productBySku');
    const variation = await replay('productBySkuVariation');
    expect((variation.data as Array<{ type: string; parent_id: number }>)[0]).toMatchObject({ type: 'variation', parent_id: mapId(13) });
    const unknown = await replay('productBySkuUnknown');
    expect(unknown.headers['x-wp-totalpages']).toBe('0');
  });

  it('orders: create, stock, pages, errors', async () => {
    // The recording's oldest order: two mugs, no shipping line.
    await api.post('orders', { status: 'processing', set_paid: true, line_items: [{ product_id: mapId(12), quantity: 2 }] });
    const created = await replay('orderCreate');
    learn(16, created.data);
    expect(created.data).toMatchObject({ status: 'processing', currency: 'EUR', total: '49.90', shipping_total: '4.90' });
    const product = await replay('productAfterOrder');
    expect(product.data).toMatchObject({ stock_quantity: 16, total_sales: 4 });
    // The recording's store holds six orders in all.
    for (let i = 0; i < 4; i++) await api.post('orders', { status: 'processing', set_paid: true, line_items: [{ product_id: mapId(12), quantity: 1 }] });
    const page1 = await replay('ordersListPage1');
    expect(page1.headers['x-wp-total']).toBe('6');
    expect(page1.headers['x-wp-totalpages']).toBe('3');
    expect(page1.headers.link).toMatch(/rel="next"$/);
    const page3 = await replay('ordersListPage3');
    expect(page3.headers.link).toMatch(/rel="prev"$/);
    await replay('ordersListPerPageTooLarge');
    await replay('ordersListBadDate');
    await replay('orderNotFound');
  });

  it('refuses a bad consumer key with the recorded body', async () => {
    const bad = new WooCommerceRestApi({
      url: sim.url, consumerKey: 'ck_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', consumerSecret: 'cs_x', version: 'wc/v3',
      axiosConfig: { validateStatus: () => true },
    });
    const c = capture.cases.orderBadAuth!;
    const res = await send(c.request, bad);
    expect(res.status).toBe(401);
    expect(res.data).toEqual(c.response.body);
  });

  it('notes, status updates and their validation', async () => {
    await replay('orderNoteCreateCustomer');
    const notes = await replay('orderNotesList');
    // Notes of the same second come in id order; the recording spans two seconds.
    expect((notes.data as Array<{ customer_note: boolean }>).map((n) => n.customer_note).sort()).toEqual([false, false, true]);
    const done = await replay('orderUpdateCompleted');
    expect(done.data).toMatchObject({ status: 'completed' });
    await replay('orderUpdateBadStatus');
  });

  it('stock batches, with per-item errors and the 100-item limit', async () => {
    const res = await replay('productsBatchStock');
    expect((res.data as { update: Array<{ stock_quantity?: number }> }).update[0]!.stock_quantity).toBe(40);
    await replay('productsBatchTooMany');
    await replay('variationsBatchStock');
    expect(await sim.stockOf('TEE-S')).toBe(9);
    expect(await sim.stockOf('TEE-M')).toBe(0);
  });

  it('refunds with restock, a refund too large, cancellation restock', async () => {
    const order = await api.post('orders', { status: 'processing', set_paid: true, line_items: [{ product_id: mapId(12), quantity: 3 }] });
    learn(21, order.data);
    learn(9, (order.data as { line_items: Array<{ id: number }> }).line_items[0]);
    const before = await sim.stockOf('MUG-BLUE-2');
    await replay('refundCreateRestock');
    expect(await sim.stockOf('MUG-BLUE-2')).toBe(before! + 1);
    await replay('refundTooLarge');
    const after = await replay('orderAfterRefund');
    expect(after.data).toMatchObject({ total: '37.50', refunds: [{ reason: 'Damaged', total: '-12.50' }] });
    await replay('orderCancel');
    expect(await sim.stockOf('MUG-BLUE-2')).toBe(before! + 3);
    await replay('productAfterCancel');
  });

  it('validates date parameters as WordPress 6.1 does, refusing the epoch itself', async () => {
    // The recorded 400 for modified_after, with the value WordPress 6.1 refuses
    // although it is well-formed: rest_parse_date() returns 0, read as false.
    const badDate = capture.cases.ordersListBadDate!.response.body;
    const refused = ['1970-01-01T00:00:00', '1970-01-01T00:00:00Z', '1970-01-01T01:00:00+01:00', '2026-11-26T01:28:53z',
      '2026-11-26T01:28:53+0100', '2026-11-26', '2026-13-01T00:00:00', '2026-11-32T00:00:00', '2026-11-26T25:00:00',
      '2026-11-26T01:60:00', '2026-11-26T01:28:53+25:00', '2026-11-26T01:28:53-01:60', '2026-11-26T01:28:53\n\n'];
    for (const value of refused) {
      const res = await send({ method: 'GET', path: '/wp-json/wc/v3/orders', query: { modified_after: value }, body: null });
      expect([value, res.status, res.data]).toEqual([value, 400, badDate]);
    }
    const accepted = ['1970-01-01T00:00:01', '1969-12-31T23:59:59', '2026-11-26T01:28:53', '2026-11-26 01:28:53',
      '2026-11-26T01:28:53.5Z', '2026-11-26T01:28:53-05:00', '2026-11-26T01:28:53+01', '2026-02-31T24:00:60',
      '2026-11-26T01:28:53\n'];
    for (const value of accepted) {
      const res = await send({ method: 'GET', path: '/wp-json/wc/v3/orders', query: { modified_after: value }, body: null });
      expect([value, res.status]).toEqual([value, 200]);
    }
  });

  it('names every invalid parameter in one 400, in the route\'s order, as WP_REST_Request::has_valid_params does', async () => {
    const recorded = capture.cases.ordersListBadDate!.response.body as { data: { params: Record<string, string>; details: Record<string, unknown> } };
    const dateError = { message: recorded.data.params.modified_after, detail: recorded.data.details.modified_after };
    const res = await send({ method: 'GET', path: '/wp-json/wc/v3/orders', query: { modified_after: 'yesterday', after: 'soon', per_page: 101 }, body: null });
    expect(res.status).toBe(400);
    const body = res.data as { code: string; message: string; data: { status: number; params: Record<string, string>; details: Record<string, unknown> } };
    expect(body.message).toBe('Invalid parameter(s): per_page, after, modified_after');
    expect(body.code).toBe('rest_invalid_param');
    expect(Object.keys(body.data.params)).toEqual(['per_page', 'after', 'modified_after']);
    expect(body.data.params.after).toBe(dateError.message);
    expect(body.data.details.modified_after).toEqual(dateError.detail);
    // The per_page refusal is the recorded one.
    const perPage = capture.cases.ordersListPerPageTooLarge!.response.body as { data: { params: Record<string, string> } };
    expect(body.data.params.per_page).toBe(perPage.data.params.per_page);
  });

  it('answers orders with the bytes it serialises, after every kind of change (its JSON cache)', async () => {
    const { credentials } = sim.channelConfig();
    const raw = new WooCommerceRestApi({
      url: sim.url, consumerKey: String(credentials.consumerKey), consumerSecret: String(credentials.consumerSecret), version: 'wc/v3',
      axiosConfig: { validateStatus: () => true, transformResponse: [(d: unknown) => d] },
    });
    await sim.createProduct({ sku: 'CACHE-1', title: 'Cup', price: '4.00', stock: 9 });
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'CACHE-1', quantity: 1 }] });
    const o = sim.state.orders.get(Number(externalId))!;
    const listed = () => sim.state.ordersByModified().filter((x) => !['trash', 'checkout-draft', 'auto-draft'].includes(x.status));
    const check = async () => {
      const list = (await raw.get('orders', { orderby: 'modified', order: 'asc', per_page: 100 })) as { data: string };
      expect(list.data).toBe(JSON.stringify(listed().map((x) => sim.state.orderJson(x))));
      const one = (await raw.get(`orders/${externalId}`)) as { data: string };
      expect(one.data).toBe(JSON.stringify(sim.state.orderJson(o)));
      return list.data;
    };
    await check();
    await check(); // from the cache
    const changes: Array<() => unknown> = [
      () => sim.state.updateProduct(sim.state.bySku('CACHE-1')!, { sku: 'CACHE-2' }),
      () => sim.state.touchOrder(o),
      () => sim.state.createRefund(o, { amount: '1.00', line_items: [{ id: o.lines[0]!.id, quantity: 1, refund_total: '1.00', restock_item: true }] }),
      () => raw.put(`orders/${externalId}`, { customer_note: 'changed' }),
      () => sim.state.setStatus(o, 'completed'),
    ];
    for (const change of changes) {
      await change();
      await check();
    }
    expect(await check()).toContain('"sku":"CACHE-2"');
  });

  it('refuses Basic auth over plain HTTP, as WooCommerce does', async () => {
    const res = await fetch(`${sim.url}/wp-json/wc/v3/orders`, {
      headers: { authorization: `Basic ${Buffer.from(`${sim.consumerKey}:${sim.consumerSecret}`).toString('base64')}` },
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'woocommerce_rest_cannot_view' });
  });
});
