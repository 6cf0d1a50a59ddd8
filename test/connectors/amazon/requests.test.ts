/**
 * Every request the connector builds validates against Amazon's models: query
 * parameters by name, `required`, `maxItems`, enums and ranges from each
 * operation's parameters; bodies against the operation's body schema
 * (Swagger 2.0 definitions, checked with ajv); the uploaded feed document
 * against listings-feed-schema-v2.json. The requests are the ones the
 * simulator received during a full cycle: pull, fetch, ship, listings, stock
 * (patches and a feed).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { amazonFactory } from '../../../connectors/amazon/index.ts';
import { OPERATION_LIMITS, type OperationName } from '../../../connectors/amazon/rate-limits.ts';
import { startAmazonSimulator, type AmazonSimulator } from '../../../connectors/amazon/simulator/index.ts';
import type { Connector } from '../../../connectors/types.ts';
import { RedisRateBudget, RedisSharedKV } from '../../../src/queue/shared-state.ts';
import { REDIS_URL, testPrefix } from '../../helpers/services.ts';
import { pullAll } from '../../helpers/connectors.ts';

const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
const FIXTURES = path.resolve(import.meta.dirname, '../../../../shared/fixtures/amazon');
const MODEL_OF: Record<string, string> = { orders: 'ordersV0.json', orders2026: 'orders_2026-01-01.json', feeds: 'feeds_2021-06-30.json', listings: 'listingsItems_2021-08-01.json', tokens: 'tokens_2021-03-01.json' };
const model = (op: OperationName) => {
  const p = OPERATION_LIMITS[op].path;
  const file = p.startsWith('/orders/2026') ? MODEL_OF.orders2026! : p.startsWith('/orders') ? MODEL_OF.orders! : p.startsWith('/feeds') ? MODEL_OF.feeds! : p.startsWith('/listings') ? MODEL_OF.listings! : MODEL_OF.tokens!;
  return JSON.parse(readFileSync(path.join(FIXTURES, 'models', file), 'utf8')) as {
    definitions: Record<string, unknown>;
    paths: Record<string, Record<string, { parameters: Array<Record<string, any>> }>>;
  };
};

const prefix = testPrefix();
const redis = new Redis(REDIS_URL);
let sim: AmazonSimulator;
let connector: Connector;
const uploads: string[] = [];

beforeAll(async () => {
  sim = await startAmazonSimulator({ log: pino({ level: 'silent' }), feedDelayMs: 20 });
  const { settings, credentials } = sim.channelConfig();
  connector = amazonFactory.create({
    channel: { id: 1, kind: 'amazon', name: 'requests', settings: amazonFactory.settingsSchema.parse(settings), credentials: amazonFactory.credentialsSchema.parse(credentials) },
    budget: new RedisRateBudget(redis, prefix.prefix),
    kv: new RedisSharedKV(redis, prefix.prefix),
    log: pino({ level: 'silent' }),
  });
  for (const sku of ['RQ-MUG', 'RQ-CAP', 'RQ-TEE']) await sim.createProduct({ sku, title: sku, price: '9.99', stock: 10 });
  const { externalId } = await sim.createOrder({ lines: [{ sku: 'RQ-MUG', quantity: 2 }, { sku: 'RQ-CAP', quantity: 1 }] });
  await pullAll(connector);
  const order = (await connector.fetchOrder(externalId))!;
  const lines = order.lines.map((l) => ({ lineExternalId: l.externalId, sku: l.sku, quantity: l.quantity }));
  for (const carrier of ['UPS', 'Speedy Couriers']) {
    await connector.pushFulfillment({ orderExternalId: externalId, shipmentId: carrier === 'UPS' ? 1 : 2, lines: carrier === 'UPS' ? lines.slice(0, 1) : lines.slice(1), carrier, service: 'Ground', trackingNumber: 'T1', trackingUrl: null, notifyCustomer: true, completesOrder: false });
  }
  const listings = [];
  for await (const page of connector.listListings()) listings.push(...page);
  await connector.readStock(listings);
  await connector.pushStock(listings.slice(0, 1).map((listing) => ({ listing, available: 3, intent: 't' })));
  const original = sim.server.state.documents;
  const submission = await connector.submitStock!(listings.map((listing, i) => ({ listing, available: i, intent: `t${i}` })));
  for (let i = 0; i < 100 && !(await connector.stockSubmission!(submission.handle)).done; i++) await new Promise((r) => setTimeout(r, 20));
  for (const doc of original.values()) if (doc.content && doc.contentType.startsWith('application/json; charset')) uploads.push(doc.content);
}, 60_000);
afterAll(async () => {
  await connector?.close();
  await sim?.close();
  redis.disconnect();
  await prefix.cleanup();
});

it('covers every operation of the cycle', () => {
  const ops = new Set(sim.server.calls.map((c) => c.op));
  for (const op of ['getOrders', 'getOrderItems', 'getOrder', 'getOrderV2026', 'confirmShipment', 'createRestrictedDataToken', 'searchListingsItems', 'patchListingsItem', 'createFeedDocument', 'createFeed', 'getFeed', 'getFeedDocument']) {
    expect(ops, op).toContain(op);
  }
  expect(sim.server.calls.every((c) => c.status < 400)).toBe(true);
});

it('sends only query parameters the model defines, within their limits', () => {
  for (const call of sim.server.calls) {
    const op = call.op as OperationName;
    const spec = OPERATION_LIMITS[op];
    const params = model(op).paths[spec.path]![spec.method.toLowerCase()]!.parameters;
    const query = params.filter((p) => p.in === 'query');
    for (const [name, value] of Object.entries(call.query)) {
      const p = query.find((q) => q.name === name);
      expect(p, `${op}: ${name} is not a query parameter of the model`).toBeDefined();
      if (p!.type === 'array') {
        const items = value.split(',');
        if (p!.maxItems) expect(items.length, `${op}.${name}`).toBeLessThanOrEqual(p!.maxItems);
        if (p!.items?.enum) for (const v of items) expect(p!.items.enum, `${op}.${name}`).toContain(v);
      }
      if (p!.type === 'integer') {
        expect(Number.isInteger(Number(value)), `${op}.${name}`).toBe(true);
        if (p!.maximum !== undefined) expect(Number(value)).toBeLessThanOrEqual(p!.maximum);
        if (p!.minimum !== undefined) expect(Number(value)).toBeGreaterThanOrEqual(p!.minimum);
      }
      if (p!.enum) expect(p!.enum, `${op}.${name}`).toContain(value);
    }
    for (const p of query.filter((q) => q.required)) expect(call.query, `${op} needs ${p.name}`).toHaveProperty(p.name);
  }
});

it('sends bodies that validate against the model', () => {
  let checked = 0;
  for (const call of sim.server.calls) {
    const op = call.op as OperationName;
    const spec = OPERATION_LIMITS[op];
    const m = model(op);
    const body = m.paths[spec.path]![spec.method.toLowerCase()]!.parameters.find((p) => p.in === 'body');
    if (!body) {
      expect(call.body, `${op} takes no body`).toBeNull();
      continue;
    }
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile({ ...body.schema, definitions: m.definitions });
    const ok = validate(call.body);
    expect(ok, `${op}: ${JSON.stringify(validate.errors)}`).toBe(true);
    checked++;
  }
  expect(checked).toBeGreaterThanOrEqual(6);
});

it('uploads a feed document that validates against listings-feed-schema-v2', () => {
  expect(uploads).toHaveLength(1);
  const schema = JSON.parse(readFileSync(path.join(FIXTURES, 'schemas/feeds/listings-feed-schema-v2.json'), 'utf8'));
  const message = JSON.parse(readFileSync(path.join(FIXTURES, 'schemas/feeds/listings-feed-message-schema-v2.json'), 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const doc = JSON.parse(uploads[0]!) as { messages: unknown[] };
  expect(ajv.validate(schema, doc), JSON.stringify(ajv.errors)).toBe(true);
  for (const m of doc.messages) expect(ajv.validate(message, m), JSON.stringify(ajv.errors)).toBe(true);
});
