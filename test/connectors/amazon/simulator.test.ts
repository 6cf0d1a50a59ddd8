/**
 * The live simulator refuses what Amazon refuses, in Amazon's words
 * (fixtures/amazon/errors.json and the models' rules), and processes feeds later.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAmazonSimulator, type AmazonSimulator } from '../../../connectors/amazon/simulator/index.ts';

const errors = (JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../../../shared/fixtures/amazon/errors.json'), 'utf8')) as { entries: Array<{ id: string; body?: unknown; rawBody?: string }> }).entries;
const captured = (id: string) => {
  const e = errors.find((x) => x.id === id)!;
  return e.body ?? JSON.parse(e.rawBody!);
};

let sim: AmazonSimulator;
let token: string;
const MKT = 'ATVPDKIKX0DER';

async function call(method: string, p: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${sim.url}${p}`, {
    method,
    headers: { 'x-amz-access-token': token, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

beforeAll(async () => {
  sim = await startAmazonSimulator({ limits: { getOrderAddress: { rate: 0.001, burst: 2 } }, feedDelayMs: 50 });
  await sim.createProduct({ sku: 'SIM-MUG', title: 'Mug', price: '12.50', stock: 10 });
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

describe('Login with Amazon', () => {
  it('refuses a revoked refresh token with invalid_grant', async () => {
    const { credentials } = sim.channelConfig();
    const res = await fetch(`${sim.url}/auth/o2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'Atzr|revoked', client_id: credentials.clientId, client_secret: credentials.clientSecret }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(captured('lwa-invalid-grant-refresh-token'));
  });

  it('refuses a call without a token as MissingAuthenticationToken', async () => {
    const res = await fetch(`${sim.url}/orders/v0/orders/1`);
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(((await res.json()) as { errors: Array<{ code: string }> }).errors[0]!.code).toBe('MissingAuthenticationToken');
  });
});

describe('getOrders rules', () => {
  it('refuses a LastUpdatedBefore closer than two minutes with the captured InvalidInput', async () => {
    const before = new Date(Date.now() - 5_000).toISOString();
    const res = await call('GET', `/orders/v0/orders?MarketplaceIds=${MKT}&LastUpdatedAfter=2020-01-01T00:00:00Z&LastUpdatedBefore=${before}`);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(captured('400-invalid-input-createdbefore-too-recent'));
    expect(res.headers.get('x-amzn-ratelimit-limit')).toBe('0.0167');
  });

  it('refuses mixing the Created and LastUpdated cursors, a missing cursor and a page over 100', async () => {
    for (const q of [
      `MarketplaceIds=${MKT}&CreatedAfter=2020-01-01T00:00:00Z&LastUpdatedAfter=2020-01-01T00:00:00Z`,
      `MarketplaceIds=${MKT}`,
      `MarketplaceIds=${MKT}&LastUpdatedAfter=2020-01-01T00:00:00Z&MaxResultsPerPage=101`,
      `LastUpdatedAfter=2020-01-01T00:00:00Z`,
    ]) {
      const res = await call('GET', `/orders/v0/orders?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.errors[0].code, q).toBe('InvalidInput');
    }
  });

  it('pages with NextToken and the same filters, and refuses a token sent with other filters', async () => {
    for (let i = 0; i < 3; i++) await sim.createOrder({ lines: [{ sku: 'SIM-MUG', quantity: 1 }] });
    const q = `MarketplaceIds=${MKT}&LastUpdatedAfter=2020-01-01T00:00:00Z&MaxResultsPerPage=2`;
    const first = await call('GET', `/orders/v0/orders?${q}`);
    expect(first.body.payload.Orders).toHaveLength(2);
    const next = first.body.payload.NextToken as string;
    expect(next).toBeTruthy();
    const second = await call('GET', `/orders/v0/orders?${q}&NextToken=${encodeURIComponent(next)}`);
    expect(second.body.payload.Orders.length).toBeGreaterThanOrEqual(1);
    const ids = [...first.body.payload.Orders, ...second.body.payload.Orders].map((o: { AmazonOrderId: string }) => o.AmazonOrderId);
    expect(new Set(ids).size).toBe(ids.length);
    const other = await call('GET', `/orders/v0/orders?MarketplaceIds=${MKT}&LastUpdatedAfter=2021-01-01T00:00:00Z&MaxResultsPerPage=2&NextToken=${encodeURIComponent(next)}`);
    expect(other.status).toBe(400);
  });

  it('shows the buyer name and street only with a Restricted Data Token for that path', async () => {
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'SIM-MUG', quantity: 1 }], email: 'ada@example.com' });
    const plain = await call('GET', `/orders/v0/orders/${externalId}`);
    expect(plain.body.payload.ShippingAddress).toEqual({ StateOrRegion: 'WA', PostalCode: '98109', City: 'Seattle', CountryCode: 'US', Name: '' });
    expect(plain.body.payload.BuyerInfo).toBeUndefined();
    const rdt = await call('POST', '/tokens/2021-03-01/restrictedDataToken', { restrictedResources: [{ method: 'GET', path: `/orders/v0/orders/${externalId}`, dataElements: ['buyerInfo', 'shippingAddress'] }] });
    expect(rdt.body.restrictedDataToken).toMatch(/^Atz\.sprdt\|/);
    const full = await fetch(`${sim.url}/orders/v0/orders/${externalId}`, { headers: { 'x-amz-access-token': rdt.body.restrictedDataToken } });
    const payload = ((await full.json()) as { payload: { ShippingAddress: { AddressLine1: string }; BuyerInfo: { BuyerEmail: string } } }).payload;
    expect(payload.ShippingAddress.AddressLine1).toBe('410 Terry Ave N');
    expect(payload.BuyerInfo.BuyerEmail).toBe('ada@example.com');
  });
});

it('throttles per operation: 429 QuotaExceeded without x-amzn-RateLimit-Limit once the burst is spent', async () => {
  const { externalId } = await sim.createOrder({ lines: [{ sku: 'SIM-MUG', quantity: 1 }] });
  const answers = [];
  for (let i = 0; i < 3; i++) answers.push(await call('GET', `/orders/v0/orders/${externalId}/address`));
  expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
  expect(answers[0]!.headers.get('x-amzn-ratelimit-limit')).toBe('0.001');
  expect(answers[2]!.headers.get('x-amzn-ratelimit-limit')).toBeNull();
  expect(answers[2]!.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException');
  expect(answers[2]!.body).toEqual(captured('429-quota-exceeded-with-details'));
  // Another operation has its own bucket.
  expect((await call('GET', `/orders/v0/orders/${externalId}/orderItems`)).status).toBe(200);
});

describe('confirmShipment', () => {
  const detail = (orderItemId: string, over: Record<string, unknown> = {}) => ({
    marketplaceId: MKT,
    packageDetail: { packageReferenceId: '1', carrierCode: 'UPS', trackingNumber: '1Z1', shipDate: new Date().toISOString(), orderItems: [{ orderItemId, quantity: 1 }], ...over },
  });

  it('confirms with a 204 and no body, then refuses the same package again', async () => {
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'SIM-MUG', quantity: 1 }] });
    const items = await call('GET', `/orders/v0/orders/${externalId}/orderItems`);
    const itemId = items.body.payload.OrderItems[0].OrderItemId as string;
    const ok = await call('POST', `/orders/v0/orders/${externalId}/shipmentConfirmation`, detail(itemId));
    expect(ok.status).toBe(204);
    expect(ok.body).toBeNull();
    expect((await call('POST', `/orders/v0/orders/${externalId}/shipmentConfirmation`, detail(itemId))).status).toBe(400);
    expect(await sim.fulfillments(externalId)).toHaveLength(1);
  });

  it('refuses what the model and the captured 400s refuse', async () => {
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'SIM-MUG', quantity: 1 }] });
    const itemId = (await call('GET', `/orders/v0/orders/${externalId}/orderItems`)).body.payload.OrderItems[0].OrderItemId as string;
    const url = `/orders/v0/orders/${externalId}/shipmentConfirmation`;
    expect((await call('POST', url, detail(itemId, { packageReferenceId: 'PKG-1' }))).body).toEqual(captured('400-confirmShipment-packageReferenceId'));
    expect((await call('POST', url, detail('999')))).toMatchObject({ status: 400, body: captured('400-confirmShipment-orderItemId') });
    expect((await call('POST', url, detail(itemId, { shipDate: '02/21/2022' }))).body).toEqual(captured('model-confirmShipment-400'));
    expect((await call('POST', url, detail(itemId, { carrierCode: 'Other' }))).status).toBe(400);
    expect((await call('POST', url, detail(itemId, { trackingNumber: undefined }))).status).toBe(400);
    expect(await sim.fulfillments(externalId)).toHaveLength(0);
  });
});

describe('feeds', () => {
  async function submit(document: unknown): Promise<string> {
    const doc = await call('POST', '/feeds/2021-06-30/documents', { contentType: 'application/json; charset=UTF-8' });
    expect(doc.status).toBe(201);
    const put = await fetch(doc.body.url, { method: 'PUT', headers: { 'content-type': 'application/json; charset=UTF-8' }, body: JSON.stringify(document) });
    expect(put.status).toBe(200);
    const feed = await call('POST', '/feeds/2021-06-30/feeds', { feedType: 'JSON_LISTINGS_FEED', marketplaceIds: [MKT], inputFeedDocumentId: doc.body.feedDocumentId });
    expect(feed.status).toBe(202);
    return feed.body.feedId as string;
  }
  async function finished(feedId: string) {
    for (let i = 0; i < 100; i++) {
      const feed = await call('GET', `/feeds/2021-06-30/feeds/${feedId}`);
      if (['DONE', 'FATAL', 'CANCELLED'].includes(feed.body.processingStatus)) return feed.body;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('feed never finished');
  }

  it('processes a listings feed later, applies quantities and reports per message', async () => {
    const feedId = await submit({
      header: { sellerId: 'A2SIMSELLER0001', version: '2.0' },
      messages: [
        { messageId: 1, sku: 'SIM-MUG', operationType: 'PATCH', productType: 'PRODUCT', patches: [{ op: 'replace', path: '/attributes/fulfillment_availability', value: [{ fulfillment_channel_code: 'DEFAULT', quantity: 4 }] }] },
        { messageId: 2, sku: 'NO-SUCH-SKU', operationType: 'PATCH', productType: 'PRODUCT', patches: [{ op: 'replace', path: '/attributes/fulfillment_availability', value: [{ fulfillment_channel_code: 'DEFAULT', quantity: 1 }] }] },
      ],
    });
    expect((await call('GET', `/feeds/2021-06-30/feeds/${feedId}`)).body.processingStatus).toBe('IN_QUEUE');
    const feed = await finished(feedId);
    expect(feed.processingStatus).toBe('DONE');
    expect(await sim.stockOf('SIM-MUG')).toBe(4);
    const doc = await call('GET', `/feeds/2021-06-30/documents/${feed.resultFeedDocumentId}`);
    const report = (await (await fetch(doc.body.url)).json()) as { summary: unknown; issues: Array<{ messageId: number; severity: string }> };
    expect(report.summary).toMatchObject({ messagesProcessed: 2, messagesAccepted: 1, messagesInvalid: 1 });
    expect(report.issues).toEqual([expect.objectContaining({ messageId: 2, sku: 'NO-SUCH-SKU', severity: 'ERROR' })]);
  });

  it('ends a document of the wrong version FATAL, and cancels only feeds IN_QUEUE', async () => {
    const bad = await submit({ header: { sellerId: 'A2SIMSELLER0001', version: '1.0' }, messages: [] });
    expect((await call('DELETE', `/feeds/2021-06-30/feeds/${bad}`)).status).toBe(200);
    expect((await finished(bad)).processingStatus).toBe('CANCELLED');
    const fatal = await submit({ header: { sellerId: 'A2SIMSELLER0001', version: '1.0' }, messages: [] });
    expect((await finished(fatal)).processingStatus).toBe('FATAL');
    expect((await call('DELETE', `/feeds/2021-06-30/feeds/${fatal}`)).status).toBe(400);
  });

  it('refuses a feed for more than 25 marketplaces', async () => {
    const res = await call('POST', '/feeds/2021-06-30/feeds', { feedType: 'JSON_LISTINGS_FEED', marketplaceIds: Array.from({ length: 26 }, (_, i) => `M${i}`), inputFeedDocumentId: 'x' });
    expect(res.status).toBe(400);
  });
});

it('patchListingsItem validates in VALIDATION_PREVIEW without saving, and refuses an empty patch list', async () => {
  const patch = { productType: 'PRODUCT', patches: [{ op: 'replace', path: '/attributes/fulfillment_availability', value: [{ fulfillment_channel_code: 'DEFAULT', quantity: 9 }] }] };
  const before = await sim.stockOf('SIM-MUG');
  const preview = await call('PATCH', `/listings/2021-08-01/items/A2SIMSELLER0001/SIM-MUG?marketplaceIds=${MKT}&mode=VALIDATION_PREVIEW`, patch);
  expect(preview.body.status).toBe('VALID');
  expect(await sim.stockOf('SIM-MUG')).toBe(before);
  expect((await call('PATCH', `/listings/2021-08-01/items/A2SIMSELLER0001/SIM-MUG?marketplaceIds=${MKT}`, { ...patch, patches: [] })).status).toBe(400);
  const saved = await call('PATCH', `/listings/2021-08-01/items/A2SIMSELLER0001/SIM-MUG?marketplaceIds=${MKT}`, patch);
  expect(saved.body.status).toBe('ACCEPTED');
  expect(await sim.stockOf('SIM-MUG')).toBe(9);
});
