/**
 * Every request the connector builds and every response the simulator returns,
 * checked against eBay's own OpenAPI schemas in ../shared/fixtures/ebay/specs
 * (read there, never copied). Object schemas are closed for the check
 * (additionalProperties: false), so a field eBay does not define fails too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ebayFactory } from '../../../connectors/ebay/index.ts';
import type { EbaySimulator } from '../../../connectors/ebay/simulator/index.ts';
import { connectToSimulator, pullAll, type ConnectedSimulator } from '../../helpers/connectors.ts';
import { testPrefix } from '../../helpers/services.ts';
import { expectExchangesValid, expectValid, type CallSchema } from './spec-schemas.ts';

/** Which schema each answered call must match: [method, path pattern, status, document, schema for the request, schema for the response]. */
const CALLS: CallSchema[] = [
  ['GET', /^\/sell\/fulfillment\/v1\/order$/, 'fulfillment', null, 'OrderSearchPagedCollection'],
  ['GET', /^\/sell\/fulfillment\/v1\/order\/[^/]+$/, 'fulfillment', null, 'Order'],
  ['GET', /^\/sell\/fulfillment\/v1\/order\/[^/]+\/shipping_fulfillment$/, 'fulfillment', null, 'ShippingFulfillmentPagedCollection'],
  ['POST', /^\/sell\/fulfillment\/v1\/order\/[^/]+\/shipping_fulfillment$/, 'fulfillment', 'ShippingFulfillmentDetails', null],
  ['GET', /^\/sell\/inventory\/v1\/inventory_item$/, 'inventory', null, 'InventoryItems'],
  ['GET', /^\/sell\/inventory\/v1\/offer$/, 'inventory', null, 'Offers'],
  ['POST', /^\/sell\/inventory\/v1\/bulk_update_price_quantity$/, 'inventory', 'BulkPriceQuantity', 'BulkPriceQuantityResponse'],
  ['GET', /^\/developer\/analytics\/v1_beta\/user_rate_limit\/$/, 'analytics', null, 'RateLimitsResponse'],
  ['GET', /^\/developer\/analytics\/v1_beta\/rate_limit\/$/, 'analytics', null, 'RateLimitsResponse'],
  ['GET', /^\/commerce\/notification\/v1\/subscription$/, 'notification', null, 'SubscriptionSearchResponse'],
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

  it('every exchange of a connect check, a pull, a shipment, a stock push and the dashboard\'s quota reads validates', async () => {
    await c.connector.verify();
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
    // The dashboard's quota line: getUserRateLimits and getRateLimits, read in the background.
    await c.connector.notices!();
    await expect.poll(() => c.connector.notices!(), { timeout: 10_000 }).toEqual([expect.stringMatching(/this seller: .*\| the app/)]);

    const checked = expectExchangesValid(sim.exchanges, CALLS);
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
