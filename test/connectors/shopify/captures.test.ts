/**
 * Replays the real Shopify captures (../shared/fixtures/shopify/captures)
 * against the simulator: same setup through the API, same documents and
 * variables (captured ids swapped for the simulator's), and the same
 * response shape, userErrors and top-level errors. Ids, timestamps, cursors,
 * order numbers and costs are normalized away.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startShopifySimulator, type ShopifySimulator } from '../../../connectors/shopify/simulator/index.ts';
import { rootValue } from '../../../connectors/shopify/simulator/resolvers/index.ts';

const CAPTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures/shopify/captures');
const load = (name: string): any => JSON.parse(readFileSync(path.join(CAPTURES, name), 'utf8'));
const document = (p: string) => readFileSync(path.join(CAPTURES, 'documents', path.basename(p)), 'utf8');

/**
 * Captured cases not replayed here, and why. Everything else in the capture
 * files is replayed below.
 */
export const OUT_OF_SCOPE: Record<string, string> = {
  '2026-04_orders_orderCancel-parity.json': 'after-sales (cancellation) belongs to the after-sales work',
  '2026-04_orders_refund-create-transactions-validation.json': 'after-sales (refunds) belongs to the after-sales work',
  '2026-04_shipping-fulfillments_fulfillment-order-lifecycle.json': 'fulfillment order holds, moves, reschedules, reroutes, splits and merges are not simulated',
  '2026-04_orders_fulfillment-state-preconditions.json': 'fulfillmentCancel, fulfillmentTrackingInfoUpdate and fulfillmentEventCreate are not simulated',
  '2025-01_products_inventory-quantity-roots-parity.json': 'API 2025-01 shapes (ignoreCompareQuantity, compareQuantity) that 2026-07 rejects; inventoryMoveQuantities is not simulated',
  '2026-04_products_inventory-quantity-contracts-2026-04.json#adjust/setOnHand/move': 'inventoryAdjustQuantities, inventorySetOnHandQuantities (deprecated) and inventoryMoveQuantities are not simulated; the inventorySetQuantities cases are replayed',
  '2026-04_orders_fulfillment-create-multi-group.json#split/move cases': 'laterNonPositive, laterMissingLine, laterOverQuantity, validMultiGroup and the differentLocation cases need fulfillmentOrderSplit/Move; the unknown and different-order cases are replayed',
  '2026-04_orders_order-catalog-count-read.json': 'reads the capture store’s own pre-existing order catalogue (tags, names, counts) which the simulator does not reproduce',
  '2026-04_shipping-fulfillments_fulfillment-top-level-reads.json#assignedFulfillmentOrdersAccess': 'assignedFulfillmentOrders answers for fulfillment-service apps only (the capture is its "api_client is not associated with any fulfillment service" error) and fulfillment services are not simulated; detailRead, catalogRead, rootIntrospection and upstreamCalls[0] are replayed',
  '2026-04_shipping-fulfillments_fulfillment-top-level-reads.json#upstreamCalls[1-3]': 'later recordings of catalogRead against the capture store’s own accumulated catalogue (fulfillment orders closed by moves and splits, a REJECTED fulfillment-service request) which the simulator does not reproduce; catalogRead itself is replayed',
  '2026-04_webhooks_webhook-subscription-conformance.json#validation branches': 'filter/updateValidation/validation branches need Shopify’s filter-syntax checks, not simulated; lifecycle, filter default, catalog and GraphQL validation are replayed',
};

/** Ids, times, cursors and order names differ by store: compare their kind only. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    // Location names are the capture store's own ("Shop location", "Storefront Enrichment …").
    const isLocation = (o: Record<string, unknown>) => typeof o.id === 'string' && o.id.startsWith('gid://shopify/Location/');
    for (const [k, v] of Object.entries(value)) {
      if (k === 'name' && (isLocation(value as Record<string, unknown>) || 'location' in value)) {
        out[k] = '<location>';
        continue;
      }
      if (k === 'extensions' && v && typeof v === 'object' && 'cost' in v) continue;
      if ((k === 'cursor' || k === 'startCursor' || k === 'endCursor') && typeof v === 'string') out[k] = '<cursor>';
      else out[k] = normalize(v);
    }
    return out;
  }
  if (typeof value === 'string') {
    return value
      .replace(/gid:\/\/shopify\/(\w+)\/\d+(\?inventory_item_id=\d+)?/g, 'gid://shopify/$1/<id>')
      .replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, '<time>')
      .replace(/#\d+/g, '#<n>')
      .replace(/\b\d{6,}\b/g, '<n>');
  }
  return value;
}

/** Learn captured→simulator ids by walking a captured and a simulated response side by side. */
function learnIds(captured: unknown, simulated: unknown, map: Map<string, string>): void {
  if (typeof captured === 'string' && typeof simulated === 'string' && captured.startsWith('gid://')) {
    map.set(captured, simulated);
    return;
  }
  if (Array.isArray(captured) && Array.isArray(simulated)) captured.forEach((c, i) => learnIds(c, simulated[i], map));
  else if (captured && simulated && typeof captured === 'object' && typeof simulated === 'object') {
    for (const [k, v] of Object.entries(captured)) learnIds(v, (simulated as Record<string, unknown>)[k], map);
  }
}

/** Swap captured ids in variables for the simulator's. */
function remap<T>(vars: T, map: Map<string, string>): T {
  return JSON.parse(JSON.stringify(vars), (_k, v) => (typeof v === 'string' && map.has(v) ? map.get(v) : v)) as T;
}

describe('captured Shopify responses replay against the simulator', () => {
  let sim: ShopifySimulator;
  const ids = new Map<string, string>();
  const replay = async (query: string, variables: Record<string, unknown>, expected: any, on: ShopifySimulator = sim) => {
    const res = await on.graphql(query, remap(variables, ids));
    expect(res.status).toBe(200);
    learnIds(expected, res.body, ids);
    expect(normalize(res.body)).toEqual(normalize(expected));
    return res.body;
  };

  beforeAll(async () => {
    sim = await startShopifySimulator({ port: 0, rateLimit: { restoreRate: 100000, bucketSize: 100000 } });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('orderCreate with line-item fields, and the read after it (2025-01)', async () => {
    const c = load('2025-01_orders_order-create-line-item-fields.json');
    const product = await sim.graphql(`mutation { productCreate(product: { title: "Line item field coverage" }) { product { id } } }`);
    ids.set('gid://shopify/Product/9801098789170', product.body.data.productCreate.product.id);
    await replay(c.document, c.variables, c.mutation.response);
    await replay(c.downstreamRead.document, c.downstreamRead.variables, c.downstreamRead.response);
  });

  it('fulfillmentCreate names fulfillments #n-F1, #n-F2 (2025-01)', async () => {
    const c = load('2025-01_shipping-fulfillments_fulfillment-create-name.json');
    await replay(c.setup.orderCreate.query, c.setup.orderCreate.variables, c.setup.orderCreate.response);
    await replay(c.firstFulfillmentCreate.query, c.firstFulfillmentCreate.variables, c.firstFulfillmentCreate.response);
    await replay(c.secondFulfillmentCreate.query, c.secondFulfillmentCreate.variables, c.secondFulfillmentCreate.response);
  });

  it('fulfillmentCreate userErrors across fulfillment order groups (2026-04)', async () => {
    const c = load('2026-04_orders_fulfillment-create-multi-group.json');
    const orderDoc = c.setup.orders.valid.query;
    for (const key of ['unknown', 'differentOrderFirst', 'differentOrderSecond']) {
      const o = c.setup.orders[key];
      await replay(o.query ?? orderDoc, o.variables, o.response);
    }
    const doc = c.setup.orders.valid.query && c.cases.unknownLater.query ? c.cases.unknownLater.query : undefined;
    const mutation = doc ?? `mutation FulfillmentCreateMultiGroup($fulfillment: FulfillmentInput!, $message: String) {
      fulfillmentCreate(fulfillment: $fulfillment, message: $message) {
        fulfillment { id status displayStatus trackingInfo { number url company } fulfillmentLineItems(first: 10) { nodes { id quantity lineItem { id title } } } }
        userErrors { field message }
      }
    }`;
    for (const key of ['unknownLater', 'differentOrderLater', 'unknownBeforeQuantity', 'differentOrderBeforeQuantity']) {
      await replay(mutation, c.cases[key].variables, c.cases[key].response);
    }
  });

  it('inventorySetQuantities contract of 2026-04: success, missing @idempotent, missing changeFromQuantity, removed fields, unknown ids', async () => {
    const c = load('2026-04_products_inventory-quantity-contracts-2026-04.json');
    const created = await sim.graphql(`mutation { productCreate(product: { title: "contracts" }) { product { id variants(first: 1) { nodes { id inventoryItem { id } } } } } }`);
    const variant = created.body.data.productCreate.product.variants.nodes[0];
    ids.set(c.setup.product.inventoryItemId, variant.inventoryItem.id);
    ids.set(c.setup.location.id, sim.locationId);
    ids.set(c.unknownIdValidation.knownLocationId, sim.locationId);
    // The capture holds responses, not this document: it is rebuilt so that
    // error locations fall where they did (`$input` at 2:41, the field at 3:5).
    const name = 'InventorySetQuantitiesContract'.slice(0, 28);
    const withKey = `#graphql
  mutation ${name}($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
    inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
      inventoryAdjustmentGroup { id createdAt reason referenceDocumentUri changes { name delta quantityAfterChange item { id } location { id name } } }
      userErrors { field message code }
    }
  }`;
    await replay(withKey, c.inventorySetQuantities.variables, c.inventorySetQuantities.response);
    const withoutKey = `#graphql
  mutation ${name}($input: InventorySetQuantitiesInput!) {
    inventorySetQuantities(input: $input) {
      inventoryAdjustmentGroup { id }
      userErrors { field message code }
    }
  }`;
    const { idempotencyKey: _unused, ...noKeyVars } = c.missingSetIdempotency.variables;
    await replay(withoutKey, noKeyVars, c.missingSetIdempotency.response);
    await replay(withKey, c.missingSetChangeFromQuantity.variables, c.missingSetChangeFromQuantity.response);
    await replay(withKey, c.legacySetShape.variables, c.legacySetShape.response);
    for (const key of ['setUnknownInventoryItem', 'setUnknownLocation']) {
      await replay(withKey, c.unknownIdValidation[key].variables, c.unknownIdValidation[key].response);
    }
  });

  it('inventorySetQuantities quantity bounds (2026-04)', async () => {
    const c = load('2026-04_products_inventorySetQuantities-quantity-bounds.json');
    for (const [, k] of Object.entries<any>(c.cases)) {
      const created = await sim.graphql(`mutation { productCreate(product: { title: "bounds" }) { product { variants(first: 1) { nodes { inventoryItem { id } } } } } }`);
      ids.set(k.setup.inventoryItemId, created.body.data.productCreate.product.variants.nodes[0].inventoryItem.id);
      ids.set(k.setup.locationId, sim.locationId);
      await replay(k.query, k.variables, k.response);
    }
  });

  it('webhook subscription lifecycle, default filter, catalog and GraphQL validation (2026-04)', async () => {
    const c = load('2026-04_webhooks_webhook-subscription-conformance.json');
    await replay(document(c.catalog.documentPath), c.catalog.variables, c.catalog.response.payload);
    for (const group of [c.lifecycle, c.filterDefault]) {
      for (const step of Object.values<any>(group).filter((x) => x?.documentPath)) await replay(document(step.documentPath), step.variables, step.response.payload);
    }
    for (const step of Object.values<any>(c.graphqlValidation)) await replay(document(step.documentPath), step.variables ?? {}, step.response.payload);
  });

  it('bulkOperationRunQuery, polled to COMPLETED, serves records of the queried shape (2026-04)', async () => {
    const c = load('2026-04_bulk-operations_bulk-operation-run-query-group-objects.json');
    const run = c.runs.runQueryGroupObjectsTrue;
    const started = await replay(run.run.query, run.run.variables, run.run.response);
    let last: any;
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 30));
      last = (await sim.graphql(run.statusPolls[0].query, { id: started.data.bulkOperationRunQuery.bulkOperation.id })).body;
      if (last.data.bulkOperation.status === 'COMPLETED') break;
    }
    const expected = run.terminalOperation;
    const actual = last.data.bulkOperation;
    expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
    expect(actual).toMatchObject({ status: 'COMPLETED', type: 'QUERY', errorCode: null, partialDataUrl: null, query: expected.query });
    const lines = (await import('../../../connectors/shopify/simulator/admin-client.ts')).simulatorRequest(actual.url, sim.caCertificate);
    const records = (await lines).text.trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(Number(actual.rootObjectCount));
    for (const r of records) expect(Object.keys(r).sort()).toEqual(Object.keys(run.result.records[0]).sort());
  });

  it('top-level fulfillment, fulfillmentOrder and fulfillmentOrders reads (2026-04)', async () => {
    const c = load('2026-04_shipping-fulfillments_fulfillment-top-level-reads.json');
    // The catalogue read lists every fulfillment order of the shop: the
    // capture's shop held just this one order, so it gets a shop of its own.
    const shop = await startShopifySimulator({ port: 0, products: 0, rateLimit: { restoreRate: 100000, bucketSize: 100000 } });
    try {
      // The capture holds no setup documents (the order and fulfillment were
      // made live before it): these rebuild that state through the API.
      const created = await shop.graphql(
        `mutation TopLevelReadsOrder($order: OrderCreateOrderInput!) {
          orderCreate(order: $order) { order { id fulfillmentOrders(first: 1) { nodes { id lineItems(first: 1) { nodes { id lineItem { id } } } } } } userErrors { field message } }
        }`,
        { order: { test: true, lineItems: [{ title: 'HAR-232 fulfillment probe', quantity: 1, priceSet: { shopMoney: { amount: '10.00', currencyCode: 'USD' } }, requiresShipping: true }] } },
      );
      const order = created.body.data.orderCreate.order;
      const fo = order.fulfillmentOrders.nodes[0];
      const shipped = await shop.graphql(
        `mutation TopLevelReadsFulfillment($fulfillment: FulfillmentInput!) {
          fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id } userErrors { field message } }
        }`,
        { fulfillment: { notifyCustomer: false, trackingInfo: { number: 'HAR232-20260425210757', url: 'https://example.com/track/HAR232-20260425210757', company: 'Hermes' }, lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: fo.id }] } },
      );
      expect(shipped.body.data.fulfillmentCreate.userErrors).toEqual([]);
      ids.set(c.setup.createdOrderId, order.id);
      ids.set(c.setup.createdFulfillmentOrderId, fo.id);
      ids.set(c.setup.createdFulfillmentId, shipped.body.data.fulfillmentCreate.fulfillment.id);
      // The file's top-level `response` is this one too.
      await replay(c.detailRead.query, c.detailRead.variables, c.detailRead.response, shop);
      // The first upstream call is the detail read again, as sent (pretty-printed).
      const [detailAsSent] = c.upstreamCalls;
      await replay(detailAsSent.query, detailAsSent.variables, detailAsSent.response.body, shop);
      await replay(c.catalogRead.query, c.catalogRead.variables, c.catalogRead.response, shop);
      // The capture's introspection of these root fields: same arguments, types and defaults.
      // The shipped schema is trimmed to the root fields the simulator resolves
      // (scripts/trim-shopify-schema.ts), so only those are compared.
      const served = new Set(Object.keys(rootValue()));
      const expected = c.rootIntrospection.filter((f: { name: string }) => served.has(f.name));
      expect(expected.length).toBeGreaterThanOrEqual(4);
      const names: string[] = expected.map((f: { name: string }) => f.name);
      const introspected = await shop.graphql(`{ __type(name: "QueryRoot") { fields { name args { name type { kind name ofType { kind name ofType { kind name } } } defaultValue } } } }`);
      expect(introspected.body.data.__type.fields.filter((f: { name: string }) => names.includes(f.name))).toEqual(expected);
    } finally {
      await shop.close();
    }
  });

  it('lists what it does not replay, with reasons', () => {
    for (const reason of Object.values(OUT_OF_SCOPE)) expect(reason.length).toBeGreaterThan(20);
  });
});
