/**
 * Every request the connector builds and every response the simulator returns,
 * checked against eBay's own OpenAPI schemas in ../shared/fixtures/ebay/specs
 * (read there, never copied). Object schemas are closed for the check
 * (additionalProperties: false), so a field eBay does not define fails too.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ebayFactory } from '../../../connectors/ebay/index.ts';
import type { EbaySimulator } from '../../../connectors/ebay/simulator/index.ts';
import { connectToSimulator, pullAll, type ConnectedSimulator } from '../../helpers/connectors.ts';
import { testPrefix } from '../../helpers/services.ts';

const specs = new URL('../../../../shared/fixtures/ebay/specs/', import.meta.url);
const load = (name: string) => JSON.parse(readFileSync(new URL(name, specs), 'utf8'));

/** Closes every object schema that lists its properties (eBay's are open by default). */
function closed(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closed);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, closed(s)])) : closed(v);
  if (out['properties'] && out['additionalProperties'] === undefined) out['additionalProperties'] = false;
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const documents = {
  fulfillment: load('sell_fulfillment_v1_oas3.json'),
  inventory: load('sell_inventory_v1_oas3.json'),
  analytics: load('developer_analytics_v1_beta_oas3.json'),
};
for (const [id, doc] of Object.entries(documents)) ajv.addSchema({ $id: id, components: closed(doc.components) });

const validators = new Map<string, ValidateFunction>();
function schema(doc: keyof typeof documents, name: string): ValidateFunction {
  const key = `${doc}#${name}`;
  if (!validators.has(key)) {
    expect(documents[doc].components.schemas[name], `${name} in ${doc}`).toBeDefined();
    validators.set(key, ajv.compile({ $ref: `${doc}#/components/schemas/${name}` }));
  }
  return validators.get(key)!;
}

function expectValid(doc: keyof typeof documents, name: string, value: unknown, what: string): void {
  const validate = schema(doc, name);
  const ok = validate(value);
  expect(ok ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`), `${what} as ${name}`).toEqual([]);
}

/** Which schema each answered call must match: [method, path pattern, status, document, schema for the request, schema for the response]. */
const CALLS: Array<[string, RegExp, keyof typeof documents, string | null, string | null]> = [
  ['GET', /^\/sell\/fulfillment\/v1\/order$/, 'fulfillment', null, 'OrderSearchPagedCollection'],
  ['GET', /^\/sell\/fulfillment\/v1\/order\/[^/]+$/, 'fulfillment', null, 'Order'],
  ['GET', /^\/sell\/fulfillment\/v1\/order\/[^/]+\/shipping_fulfillment$/, 'fulfillment', null, 'ShippingFulfillmentPagedCollection'],
  ['POST', /^\/sell\/fulfillment\/v1\/order\/[^/]+\/shipping_fulfillment$/, 'fulfillment', 'ShippingFulfillmentDetails', null],
  ['GET', /^\/sell\/inventory\/v1\/inventory_item$/, 'inventory', null, 'InventoryItems'],
  ['GET', /^\/sell\/inventory\/v1\/offer$/, 'inventory', null, 'Offers'],
  ['POST', /^\/sell\/inventory\/v1\/bulk_update_price_quantity$/, 'inventory', 'BulkPriceQuantity', 'BulkPriceQuantityResponse'],
  ['GET', /^\/developer\/analytics\/v1_beta\/(user_)?rate_limit\/$/, 'analytics', null, 'RateLimitsResponse'],
];

describe('eBay requests and simulator responses against the specs', () => {
  const keys = testPrefix();
  let c: ConnectedSimulator;
  let sim: EbaySimulator;
  beforeAll(async () => {
    c = await connectToSimulator(ebayFactory, keys.prefix);
    sim = c.sim as EbaySimulator;
  });
  afterAll(async () => {
    await c?.close();
    await keys.cleanup();
  });

  it('every exchange of a pull, a shipment, a stock push and a quota read validates', async () => {
    await sim.createProduct({ sku: 'MUG', title: 'Mug', price: '12.50', stock: 50 });
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'MUG', quantity: 2 }], email: 'ada@example.com' });
    await sim.cancelOrder((await sim.createOrder({ lines: [{ sku: 'MUG', quantity: 1 }] })).externalId);
    for (const o of sim.state.orders.values()) o.lastModifiedDate = new Date(Date.parse(o.lastModifiedDate) - 5 * 60_000).toISOString();
    await pullAll(c.connector);
    const order = (await c.connector.fetchOrder(externalId))!;
    await c.connector.pushFulfillment({
      orderExternalId: externalId,
      shipmentId: 1,
      lines: order.lines.map((l) => ({ lineExternalId: l.externalId, sku: l.sku, quantity: l.quantity })),
      carrier: 'UPS',
      service: null,
      trackingNumber: '1Z999AA10123456784',
      trackingUrl: null,
      notifyCustomer: true,
      completesOrder: true,
    });
    const listings = [];
    for await (const page of c.connector.listListings()) listings.push(...page);
    await c.connector.pushStock([{ listing: listings[0]!, available: 9, intent: 't:1' }]);
    await c.connector.readStock([listings[0]!]);
    await (c.connector as unknown as { client: { liveQuota(api: string, user: boolean): Promise<unknown> } }).client.liveQuota('fulfillment', false);

    const checked = new Set<string>();
    for (const x of sim.exchanges) {
      const call = CALLS.find(([m, p]) => m === x.method && p.test(x.path));
      if (!call) continue;
      const [, , doc, requestSchema, responseSchema] = call;
      if (requestSchema && x.requestBody !== undefined) expectValid(doc, requestSchema, x.requestBody, `${x.method} ${x.path} request`);
      if (x.status >= 400) expectValid('fulfillment', 'Error', (x.responseBody as { errors: unknown[] }).errors[0], `${x.method} ${x.path} ${x.status}`);
      else if (responseSchema) expectValid(doc, responseSchema, x.responseBody, `${x.method} ${x.path} response`);
      checked.add(`${x.method} ${call[1].source}`);
    }
    // Every kind of call was made and checked.
    expect(checked.size).toBe(CALLS.length);
  });

  it('error bodies of refused requests validate as the spec Error', async () => {
    const token = await (async () => {
      const res = await fetch(`${sim.url}/identity/v1/oauth2/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${sim.clientId}:${sim.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: sim.refreshToken }).toString(),
      });
      return ((await res.json()) as { access_token: string }).access_token;
    })();
    const future = new Date(Date.now() + 86_400_000).toISOString();
    const cases: Array<[string, number, number]> = [
      [`filter=${encodeURIComponent(`lastmodifieddate:[${future}..]`)}`, 400, 30850],
      [`filter=${encodeURIComponent('orderfulfillmentstatus:{NOT_STARTED}')}`, 400, 30800],
      [`filter=${encodeURIComponent('orderstatus:{ACTIVE}')}`, 400, 30700],
      [`filter=${encodeURIComponent('creationdate:[2026-13-01..]')}`, 400, 30810],
      ['limit=201', 400, 31100],
      [`orderIds=${Array.from({ length: 51 }, (_, i) => `01-0000-${i}`).join(',')}`, 400, 30900],
    ];
    for (const [query, status, errorId] of cases) {
      const res = await fetch(`${sim.url}/sell/fulfillment/v1/order?${query}`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { errors: Array<{ errorId: number }> };
      expect([res.status, body.errors[0]!.errorId], query).toEqual([status, errorId]);
      expectValid('fulfillment', 'Error', body.errors[0], query);
    }
  });

  it('creationdate wins when both dates are given, as the spec says it silently does', async () => {
    const old = new Date(Date.now() - 30 * 86_400_000).toISOString();
    const res = await (c.connector as unknown as { client: { call<T>(m: string, p: string, r: object): Promise<{ body: T }> } }).client.call<{ total: number }>('GET', '/sell/fulfillment/v1/order', {
      query: { filter: `creationdate:[${old}..],lastmodifieddate:[${new Date(Date.now() - 1000).toISOString()}..]` },
      api: 'sell.fulfillment',
    });
    // Every order was created in the last 30 days; none modified in the last second.
    expect(res.body.total).toBe(sim.state.orders.size);
  });
});
