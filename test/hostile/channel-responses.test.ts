/**
 * Hostile channel responses: what each connector parses from its channel
 * (orders pages, stock reads), taken from the simulators (built on the real
 * schema and recorded shapes) and mutated on the way in, through the real
 * client. A bad order is set aside with a readable reason while the rest of
 * its page saves and the cursor moves; a bad page or stock read fails with a
 * PermanentError naming the field; nothing crashes with a TypeError or a
 * bare ZodError, and nothing half-saves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { addChannel } from '../../src/db/channels.ts';
import { PermanentError } from '../../src/domain/errors.ts';
import { backfillOrders, syncOrders } from '../../jobs/sync-orders.ts';
import { connectorFactory } from '../../connectors/index.ts';
import type { ChannelSimulator, Connector } from '../../connectors/types.ts';
import { INVENTORY_ITEMS_QUERY, ORDERS_PAGE_QUERY } from '../../connectors/shopify/documents.ts';

type Json = any;
let t: TestApp;
const sims: ChannelSimulator[] = [];
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
  await t?.close();
});

const shared = new Map<string, Promise<{ sim: ChannelSimulator; ids: string[] }>>();
/** One simulator per kind, with three orders, started once. */
function simulatorWithOrders(kind: 'shopify' | 'woocommerce') {
  let ready = shared.get(kind);
  if (!ready) {
    ready = (async () => {
      const sim = await connectorFactory(kind).simulate({ log: pino({ level: 'silent' }) });
      sims.push(sim);
      await sim.createProduct({ sku: 'HOSTILE-1', title: 'Hostile', price: '10.00', stock: 100 });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await sim.createOrder({ lines: [{ sku: 'HOSTILE-1', quantity: 1 }] })).externalId);
      return { sim, ids };
    })();
    shared.set(kind, ready);
  }
  return ready;
}

/** A new channel (its own orders, cursor and connector) on the kind's simulator. */
async function channelWithOrders(kind: 'shopify' | 'woocommerce') {
  const { sim, ids } = await simulatorWithOrders(kind);
  const { settings, credentials } = sim.channelConfig();
  const channelId = await addChannel(t.app.db, t.app.config.secretKey!, { kind, name: `${kind}-${Math.random().toString(36).slice(2)}`, settings, credentials });
  const { connector } = await t.app.connectors.get(channelId);
  return { channelId, connector, ids };
}

const stored = async (channelId: number) =>
  (await t.app.db.selectFrom('orders').select('external_id').where('channel_id', '=', channelId).execute()).map((r) => r.external_id).sort();
const rejectedOf = (channelId: number) => t.app.db.selectFrom('rejected_orders').select(['external_id', 'reason']).where('channel_id', '=', channelId).execute();

/** Rewrites the channel's answers on their way into the connector (through its real client). */
function intercept(connector: Connector, method: 'graphql' | 'get', rewrite: (args: unknown[], result: Json) => Json) {
  const client = (connector as unknown as { client: Record<string, (...a: unknown[]) => Promise<unknown>> }).client;
  const original = client[method]!.bind(client);
  client[method] = async (...args: unknown[]) => rewrite(args, structuredClone(await original(...args)));
  return () => void (client[method] = original);
}

interface OrderCase {
  name: string;
  edit: (order: Json) => void;
  says: RegExp;
}

const SHOPIFY_ORDER_CASES: OrderCase[] = [
  { name: 'quantity 3e9', edit: (o) => (o.lineItems.nodes[0].currentQuantity = 3e9), says: /currentQuantity/ },
  { name: 'quantity -1', edit: (o) => (o.lineItems.nodes[0].quantity = -1), says: /quantity/ },
  { name: 'createdAt not a date', edit: (o) => (o.createdAt = 'not-a-date'), says: /createdAt/ },
  { name: 'tax "abc"', edit: (o) => (o.currentTotalTaxSet.shopMoney.amount = 'abc'), says: /currentTotalTaxSet/ },
  { name: 'total 1e22', edit: (o) => (o.currentTotalPriceSet.shopMoney.amount = '10000000000000000000000.0'), says: /out of range/ },
  { name: 'currency "EURO"', edit: (o) => (o.currencyCode = 'EURO'), says: /currencyCode/ },
  { name: 'lineItems missing', edit: (o) => delete o.lineItems, says: /lineItems/ },
  { name: 'closed as text', edit: (o) => (o.closed = 'no'), says: /closed/ },
];

describe('Shopify orders pages with one hostile order', () => {
  for (const c of SHOPIFY_ORDER_CASES) {
    it(c.name, async () => {
      const { channelId, connector, ids } = await channelWithOrders('shopify');
      const bad = ids[1]!;
      const restore = intercept(connector, 'graphql', ([query], data) => {
        if (query === ORDERS_PAGE_QUERY) for (const node of data.orders.nodes) if (node.id === bad) c.edit(node);
        return data;
      });
      const report = await syncOrders(t.app, channelId);
      restore();
      expect(report).toMatchObject({ inserted: 2, rejected: 1 });
      expect(await stored(channelId)).toEqual([ids[0], ids[2]].sort());
      const [rejected] = await rejectedOf(channelId);
      expect(rejected!.external_id).toBe(bad);
      expect(rejected!.reason).toMatch(c.says);
      const cursor = await t.app.db.selectFrom('sync_cursors').select(['cursor', 'last_error']).where('channel_id', '=', channelId).executeTakeFirstOrThrow();
      expect(cursor.last_error).toBeNull();
    });
  }

  it.each([
    ['a page without orders', (d: Json) => ({ ...d, orders: undefined })],
    ['nodes not a list', (d: Json) => ({ ...d, orders: { ...d.orders, nodes: 'x' } })],
  ])('%s fails the sync with a readable PermanentError, saving nothing', async (_name, edit) => {
    const { channelId, connector } = await channelWithOrders('shopify');
    const restore = intercept(connector, 'graphql', ([query], data) => (query === ORDERS_PAGE_QUERY ? edit(data) : data));
    const failure = await syncOrders(t.app, channelId).catch((e: unknown) => e);
    restore();
    expect(failure).toBeInstanceOf(PermanentError);
    expect((failure as Error).message).toMatch(/^Shopify sent an unexpected orders page: orders/);
    expect(await stored(channelId)).toEqual([]);
  });

  it.each([
    ['quantity "abc"', 'abc'],
    ['quantity 1.5', 1.5],
    ['quantity 1e12', 1e12],
  ])('a stock read with %s is a readable PermanentError', async (_name, value) => {
    const { connector } = await channelWithOrders('shopify');
    intercept(connector, 'graphql', ([query], data) => {
      if (query === INVENTORY_ITEMS_QUERY) for (const n of data.inventoryItems.nodes) for (const q of n.inventoryLevel?.quantities ?? []) q.quantity = value;
      return data;
    });
    const failure = await connector.readStock([{ sku: 'HOSTILE-1', productExternalId: null, variantExternalId: null, inventoryItemExternalId: null }]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PermanentError);
    expect((failure as Error).message).toMatch(/inventory items: inventoryItems\.nodes\.0\.inventoryLevel\.quantities\.\d+\.quantity/);
  });
});

describe('Shopify bulk export (backfill) with one hostile order', () => {
  const cases: Array<[string, (record: Json, line: string) => string, RegExp]> = [
    ['createdAt not a date', (r) => JSON.stringify({ ...r, createdAt: 'not-a-date' }), /createdAt/],
    ['a line item with quantity -1', (r, line) => (r.__parentId ? JSON.stringify({ ...r, currentQuantity: -1 }) : line), /line item: currentQuantity/],
  ];
  it.each(cases)('%s: the rest saves, the bad one is set aside', async (_name, edit, says) => {
    const { channelId, connector, ids } = await channelWithOrders('shopify');
    const bad = ids[1]!;
    const client = (connector as unknown as { client: { lines(url: string): AsyncIterable<string> } }).client;
    const original = client.lines.bind(client);
    client.lines = async function* (url: string) {
      for await (const line of original(url)) {
        const record = JSON.parse(line);
        yield record.id === bad || record.__parentId === bad ? edit(record, line) : line;
      }
    };
    const report = await backfillOrders(t.app, channelId, new Date('2000-01-01'));
    client.lines = original;
    expect(report).toMatchObject({ inserted: 2, rejected: 1 });
    expect(await stored(channelId)).toEqual([ids[0], ids[2]].sort());
    const [rejected] = await rejectedOf(channelId);
    expect(rejected!.external_id).toBe(bad);
    expect(rejected!.reason).toMatch(says);
  });
});

const WOO_ORDER_CASES: OrderCase[] = [
  { name: 'quantity -1 (was clamped)', edit: (o) => (o.line_items[0].quantity = -1), says: /line_items\.0\.quantity: a quantity cannot be negative/ },
  { name: 'quantity 1.5 (was cut)', edit: (o) => (o.line_items[0].quantity = 1.5), says: /line_items\.0\.quantity: expected a whole number/ },
  { name: 'quantity 3e9', edit: (o) => (o.line_items[0].quantity = 3e9), says: /quantity out of range/ },
  { name: 'total "abc"', edit: (o) => (o.total = 'abc'), says: /total: expected a decimal amount/ },
  { name: 'total_tax "1e5"', edit: (o) => (o.total_tax = '1e5'), says: /total_tax/ },
  { name: 'date_created_gmt month 13', edit: (o) => (o.date_created_gmt = '2026-13-01T00:00:00'), says: /date_created_gmt/ },
  { name: 'currency "X"', edit: (o) => (o.currency = 'X'), says: /currency/ },
  { name: 'line_items an object', edit: (o) => (o.line_items = { a: 1 }), says: /line_items/ },
];

describe('WooCommerce orders pages with one hostile order', () => {
  for (const c of WOO_ORDER_CASES) {
    it(c.name, async () => {
      const { channelId, connector, ids } = await channelWithOrders('woocommerce');
      const bad = Number(ids[1]);
      const restore = intercept(connector, 'get', ([path], res) => {
        if (path === 'orders' && Array.isArray(res.body)) for (const o of res.body) if (o.id === bad) c.edit(o);
        return res;
      });
      const report = await syncOrders(t.app, channelId);
      restore();
      expect(report).toMatchObject({ inserted: 2, rejected: 1 });
      expect(await stored(channelId)).toEqual([ids[0], ids[2]].sort());
      const [rejected] = await rejectedOf(channelId);
      expect(rejected!.external_id).toBe(String(bad));
      expect(rejected!.reason).toMatch(c.says);
    });
  }

  type Edit = (o: Json) => Json;
  const cases: Array<[string, Edit, (id: string) => string, RegExp]> = [
    ['date_modified_gmt "garbage"', (o) => ({ ...o, date_modified_gmt: 'garbage' }), (id) => id, /date_modified_gmt/],
    ['id as text', (o) => ({ ...o, id: 'x' }), () => 'x', /id: expected a whole number/],
    ['the entry replaced by null', () => null, () => '(unknown)', /id: expected a whole number/],
  ];
  it.each(cases)('a list entry with %s is set aside, not dropped silently', async (_name, edit, expectedId, says) => {
    const { channelId, connector, ids } = await channelWithOrders('woocommerce');
    const bad = Number(ids[1]);
    const restore = intercept(connector, 'get', ([path], res) => {
      if (path === 'orders' && Array.isArray(res.body)) res.body = res.body.map((o: Json) => (o?.id === bad ? edit(o) : o));
      return res;
    });
    const report = await syncOrders(t.app, channelId);
    restore();
    expect(report).toMatchObject({ inserted: 2, rejected: 1 });
    const [rejected] = await rejectedOf(channelId);
    expect(rejected!.external_id).toBe(expectedId(String(bad)));
    expect(rejected!.reason).toMatch(says);
  });

  it('a list that is not a list fails the sync with a readable PermanentError', async () => {
    const { channelId, connector } = await channelWithOrders('woocommerce');
    const restore = intercept(connector, 'get', ([path], res) => (path === 'orders' ? { ...res, body: { orders: res.body } } : res));
    const failure = await syncOrders(t.app, channelId).catch((e: unknown) => e);
    restore();
    expect(failure).toBeInstanceOf(PermanentError);
    expect((failure as Error).message).toMatch(/expected a JSON array/);
    expect(await stored(channelId)).toEqual([]);
  });

  it.each([
    ['stock_quantity "abc"', 'abc'],
    ['stock_quantity 1.5', 1.5],
    ['stock_quantity 1e12', 1e12],
  ])('a stock read with %s is a readable PermanentError', async (_name, value) => {
    const { connector } = await channelWithOrders('woocommerce');
    intercept(connector, 'get', ([path], res) => {
      if (path === 'products' && Array.isArray(res.body)) for (const p of res.body) p.stock_quantity = value;
      return res;
    });
    const failure = await connector.readStock([{ sku: 'HOSTILE-1', productExternalId: null, variantExternalId: null, inventoryItemExternalId: null }]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PermanentError);
    expect((failure as Error).message).toMatch(/^WooCommerce sent an unexpected products list: 0\.stock_quantity/);
  });
});
