/**
 * What the connector sends that real Shopify refuses fails against the
 * simulator as it would against Shopify: with Shopify's own userErrors, so a
 * connector bug cannot pass here and fail in a shop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../../src/domain/errors.ts';
import { shopifyFactory, type ShopifyConnector } from '../../../connectors/shopify/index.ts';
import type { ShopifySimulator } from '../../../connectors/shopify/simulator/index.ts';
import { SHOP_DOMAINS } from '../../../connectors/shopify/simulator/webhook-rules.ts';
import { PLAN_LIMITS } from '../../../connectors/shopify/simulator/bucket.ts';
import { bulkOrdersQuery } from '../../../connectors/shopify/documents.ts';
import { connectToSimulator, type ConnectedSimulator } from '../../helpers/connectors.ts';
import { testPrefix } from '../../helpers/services.ts';

const keys = testPrefix();
let c: ConnectedSimulator<ShopifySimulator, ShopifyConnector>;
let sim: ShopifySimulator;
let connector: ShopifyConnector;

beforeAll(async () => {
  // Shopify's own rules for webhook addresses: no allowLocalWebhooks.
  c = await connectToSimulator(shopifyFactory, keys.prefix, { simulator: { products: 0 } });
  ({ sim, connector } = c);
});

afterAll(async () => {
  await c?.close();
  await keys.cleanup();
});

describe('the Shopify connector against what Shopify refuses', () => {
  it("fails to subscribe webhooks on the shop's own domain with Shopify's message, and subscribes nothing", async () => {
    const err = await connector.registerWebhooks(`https://${SHOP_DOMAINS[0]}/webhooks/shopify`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toContain(`Address cannot be any of the domains: ${SHOP_DOMAINS.join(', ')}`);
    expect(await connector.listWebhooks(`https://${SHOP_DOMAINS[0]}/webhooks/shopify`)).toEqual([]);
  });

  it('fails to subscribe a plain http:// address with "Address protocol http:// is not supported"', async () => {
    const err = await connector.registerWebhooks('http://hooks.example.com/webhooks/shopify').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toContain('Address protocol http:// is not supported');
  });

  it('a cancel sent again while Shopify still runs the first one\'s job is retried later, not given up; once done it is done', async () => {
    await sim.createProduct({ sku: 'CANCEL-1', title: 'Mug', price: '8.00', stock: 5 });
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'CANCEL-1', quantity: 1 }] });
    sim.state.cancelJobMs = 600_000;
    try {
      expect(await connector.cancelOrder(externalId, 'customer asked')).toMatchObject({ alreadyDone: false });
      // Shopify's answer meanwhile (recorded): "Cancellation is already in progress", field null.
      const again = await connector.cancelOrder(externalId, 'customer asked').catch((e: unknown) => e);
      expect(again).toBeInstanceOf(RetryableError);
      expect(again).not.toBeInstanceOf(PermanentError);
      expect((again as RetryableError).retryAfterMs).toBeGreaterThan(0);
    } finally {
      sim.state.cancelJobMs = 0;
    }
    // The job over, the retry finds the order cancelled: done, not a failure.
    expect(await connector.cancelOrder(externalId, 'customer asked')).toMatchObject({ alreadyDone: true });
  });

  it('reports the standard plan bucket real shops report (2000 points, 100/s)', async () => {
    const res = await sim.graphql('{ shop { name } }');
    expect(res.body.extensions.cost.throttleStatus).toMatchObject({ maximumAvailable: PLAN_LIMITS.standard.bucketSize, restoreRate: PLAN_LIMITS.standard.restoreRate });
    expect(PLAN_LIMITS.standard).toEqual({ bucketSize: 2000, restoreRate: 100 });
    sim.bucket.setPlan('plus');
    expect(sim.bucket.status()).toMatchObject({ maximumAvailable: 20_000, restoreRate: 1000 });
    sim.bucket.setPlan('standard');
  });
});

const RUN = `mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id } userErrors { field message code } } }`;

describe('the simulator refuses the bulk queries Shopify documents as refused', () => {
  const refusal = async (q: string) => (await sim.graphql(RUN, { q })).body.data.bulkOperationRunQuery;

  const invalid = (message: string) => ({ field: ['query'], message, code: 'INVALID' });

  it('without a connection (recorded message), with a top-level node, over five connections or nested three deep', async () => {
    expect((await refusal('{ shop { name } }')).userErrors).toEqual([invalid('Bulk queries must contain at least one connection.')]);
    expect((await refusal('{ node(id: "gid://shopify/Product/1") { id } }')).userErrors).toEqual([
      invalid('Bulk queries cannot contain a top level `node` field.'),
      invalid('Bulk queries must contain at least one connection.'),
    ]);
    const six = `{ products { edges { node { id ${['a', 'b', 'c', 'd', 'e'].map((k) => `${k}: variants { edges { node { id } } }`).join(' ')} } } } }`;
    expect((await refusal(six)).userErrors).toEqual([invalid('Bulk queries cannot contain more than 5 connections.')]);
    const deep = '{ products { edges { node { id variants { edges { node { id inventoryItem { inventoryLevels { edges { node { id } } } } } } } } } } }';
    expect((await refusal(deep)).userErrors).toEqual([invalid('Bulk queries cannot contain connections with a nesting depth greater than 2.')]);
    const big = `{ products { edges { node { id ${' '.repeat(65_536)} } } } }`;
    expect((await refusal(big)).userErrors[0]).toMatchObject({ field: ['query'], message: `Query is too large (${Buffer.byteLength(big)} bytes; maximum is 65535 bytes)`, code: 'INVALID' });
  });

  it("reading a connection through 'nodes', a nested connection under a node without 'id', a connection under a list, a mutation", async () => {
    const viaNodes = "All connection fields in a bulk query must select their contents using 'edges' > 'node', e.g: 'products { edges { node {'. Selecting via 'nodes' is not supported. Invalid connection fields: 'products'.";
    const noParentId = "The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. Connection fields without 'id': products.";
    expect((await refusal('{ products { nodes { id title } } }')).userErrors).toEqual([invalid(viaNodes)]);
    expect((await refusal('{ products { edges { node { title variants { edges { node { id } } } } } } }')).userErrors).toEqual([invalid(noParentId)]);
    // An aliased id is not the id: the JSONL's __parentId needs the field itself.
    expect((await refusal('{ products { edges { node { pid: id variants { edges { node { id } } } } } } }')).userErrors).toEqual([invalid(noParentId)]);
    // Every rule that applies, in Shopify's order.
    expect((await refusal('{ products { nodes { variants { edges { node { id } } } } } }')).userErrors).toEqual([invalid(viaNodes), invalid(noParentId)]);
    expect((await refusal('{ orders { edges { node { id fulfillments { events { edges { node { id } } } } } } } }')).userErrors).toEqual([
      invalid('Queries that contain a connection field within a list field are not currently supported.'),
    ]);
    expect((await refusal('')).userErrors).toEqual([invalid('Invalid bulk query: syntax error, unexpected end of file')]);
    expect((await refusal('mutation { productCreate(product: { title: "x" }) { product { id } } }')).userErrors).toEqual([
      invalid('Invalid operation type. Only `query` operations are supported.'),
    ]);
  });

  it("accepts the connector's own bulk export (edges, node ids, two connections) and an order's lines through a fragment", async () => {
    for (const since of [null, new Date('2026-01-01T00:00:00Z')]) expect((await refusal(bulkOrdersQuery(since))).userErrors).toEqual([]);
    const viaFragment = '{ orders { edges { node { ...O } } } } fragment O on Order { id lineItems { edges { node { id } } } }';
    expect((await refusal(viaFragment)).userErrors).toEqual([]);
    // Finished now, so they do not count against the five the next test runs.
    for (const op of sim.bulk.operations.values()) sim.bulk.advance(op, 'COMPLETED');
  });

  it('runs five at once and refuses the sixth, naming the five in progress', async () => {
    const ok = '{ products { edges { node { id } } } }';
    // Hold them in progress however slow the machine is.
    sim.bulk.runDelayMs = 600_000;
    const started: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await refusal(ok);
      expect(r.userErrors).toEqual([]);
      started.push(r.bulkOperation.id);
    }
    const sixth = await refusal(ok);
    expect(sixth.bulkOperation).toBeNull();
    expect(sixth.userErrors).toEqual([{ field: null, message: `A bulk query operation for this app and shop is already in progress: ${started.join(', ')}.`, code: 'OPERATION_IN_PROGRESS' }]);
    // A cancel answers CANCELING, which still counts against the five.
    const cancel = await sim.graphql(`mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { status } userErrors { message } } }`, { id: started[0] });
    expect(cancel.body.data.bulkOperationCancel).toEqual({ bulkOperation: { status: 'CANCELING' }, userErrors: [] });
  });
});

describe('the simulator refuses the stock writes and normalises the tags Shopify does', () => {
  it('refuses an inventorySetQuantities naming one item at one location twice, and sets nothing', async () => {
    await sim.createProduct({ sku: 'DUP-1', title: 'Lamp', price: '20.00', stock: 3 });
    const found = await sim.graphql('{ inventoryItems(first: 1, query: "sku:DUP-1") { nodes { id } } }');
    const item = found.body.data.inventoryItems.nodes[0].id;
    const res = await sim.graphql(
      `mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) @idempotent(key: "dup-1") { inventoryAdjustmentGroup { id } userErrors { field message code } } }`,
      { input: { name: 'available', reason: 'correction', quantities: [{ inventoryItemId: item, locationId: sim.locationId, quantity: 5, changeFromQuantity: 3 }, { inventoryItemId: item, locationId: sim.locationId, quantity: 7, changeFromQuantity: 3 }] } },
    );
    // The schema's words for NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR; the whole batch is refused.
    expect(res.body.data.inventorySetQuantities).toEqual({
      inventoryAdjustmentGroup: null,
      userErrors: [{ field: ['input', 'quantities', '1', 'inventoryItemId'], message: 'The combination of inventoryItemId and locationId must be unique.', code: 'NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR' }],
    });
    expect(await sim.stockOf('DUP-1')).toBe(3);
  });

  it('answers a product\'s tags trimmed, unique and sorted, however they were sent', async () => {
    const res = await sim.graphql(`mutation { productCreate(product: { title: "Tagged", tags: ["winter", " sale", "winter", "autumn,new"] }) { product { tags } userErrors { message } } }`);
    expect(res.body.data.productCreate).toEqual({ product: { tags: ['autumn', 'new', 'sale', 'winter'] }, userErrors: [] });
  });
});
