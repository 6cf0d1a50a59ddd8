/**
 * The cheapest Shopify documents that fetch what channelsync needs, written
 * here independently of the connector's, and what they cost on a given shop
 * by the published rules (./shopify-cost.ts). They are the floors the
 * Shopify pull and push benches compare the connector's points with.
 *
 * Each document validates against the Admin API 2026-07 schema
 * (test/bench/shopify-floor.test.ts). Choices, so nobody re-derives them:
 * - only non-deprecated fields (the scalar `totalPrice` and friends would be
 *   cheaper, but a connector must not build on fields Shopify is removing);
 * - money in `shopMoney` only (every unified amount is in the shop's currency);
 * - the subtotal is summed from the lines (0 points) instead of read (2);
 * - line discounts through `discountAllocations` (a list: nothing when a line
 *   has none) rather than `totalDiscountSet` (2 points always);
 * - the lines connection is sized to the largest order of the shop, so no
 *   order needs a second request; the page as large as the 1000-point
 *   requested-cost cap allows.
 */
import type { GraphQLSchema } from 'graphql';
import type { ShopifySimulator } from '../connectors/shopify/simulator/index.ts';
import { MAX_REQUESTED_COST, queryCost } from './shopify-cost.ts';

/**
 * Every field the unified order (src/domain/order.ts) is built from.
 * https://shopify.dev/docs/api/admin-graphql/2026-07/queries/orders
 */
export const MINIMAL_ORDERS_PAGE = /* GraphQL */ `
query BenchMinimalOrders($first: Int!, $after: String, $lineFirst: Int!) {
  orders(first: $first, after: $after, sortKey: UPDATED_AT) {
    nodes {
      id name createdAt updatedAt cancelledAt closedAt
      displayFinancialStatus displayFulfillmentStatus currencyCode presentmentCurrencyCode email phone
      currentShippingPriceSet { shopMoney { amount } }
      currentTotalTaxSet { shopMoney { amount } }
      currentTotalDiscountsSet { shopMoney { amount } }
      currentTotalPriceSet { shopMoney { amount } }
      customer { id firstName lastName }
      billingAddress { name company address1 address2 city province provinceCode zip country countryCodeV2 phone }
      shippingAddress { name company address1 address2 city province provinceCode zip country countryCodeV2 phone }
      lineItems(first: $lineFirst) {
        nodes {
          id sku name currentQuantity unfulfilledQuantity
          originalUnitPriceSet { shopMoney { amount } }
          taxLines { priceSet { shopMoney { amount } } }
          discountAllocations { allocatedAmountSet { shopMoney { amount } } }
          product { id }
          variant { id inventoryItem { id } }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

/**
 * What a push must know before creating a fulfillment: is it there already
 * (tracking numbers of the order's fulfillments), and which open
 * fulfillment orders to fulfil (all their remaining lines: a shipment that
 * completes the order, as the bench's are, names no line items). Actual
 * cost counts the fulfillment orders returned, so `foFirst` (5) costs
 * nothing unless an order has that many.
 * https://shopify.dev/docs/api/admin-graphql/2026-07/objects/Order#connections-fulfillmentOrders
 */
export const MINIMAL_FULFILLMENT_READ = /* GraphQL */ `
query BenchMinimalFulfillmentState($id: ID!, $foFirst: Int!) {
  order(id: $id) {
    id cancelledAt
    fulfillments { trackingInfo { number } }
    fulfillmentOrders(first: $foFirst) { nodes { id status } }
  }
}`;

/** https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentCreate */
export const MINIMAL_FULFILLMENT_CREATE = /* GraphQL */ `
mutation BenchMinimalFulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id } userErrors { message } }
}`;

export interface PullFloor {
  orders: number;
  points: number;
  pointsPerOrder: number;
  pageSize: number;
  lineFirst: number;
}

/** Reads the whole shop with the minimal document (budget lifted) and prices every answer. */
export async function cheapestPull(sim: ShopifySimulator, schema: GraphQLSchema): Promise<PullFloor> {
  const lineFirst = Math.max(1, ...[...sim.state.orders.values()].map((o) => o.lines.length));
  const perOrder = queryCost(schema, MINIMAL_ORDERS_PAGE, { first: 1, lineFirst }) - 2;
  const first = Math.min(250, Math.floor((MAX_REQUESTED_COST - 2) / perOrder));
  let after: string | null = null;
  let points = 0;
  let orders = 0;
  for (;;) {
    const variables: Record<string, unknown> = { first, after, lineFirst };
    const { body }: { body: { data: { orders: { nodes: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }; errors?: unknown } } = await sim.graphql<{ data: { orders: { nodes: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }; errors?: unknown }>(MINIMAL_ORDERS_PAGE, variables);
    if (body.errors || !body.data) throw new Error(`the minimal orders query was refused: ${JSON.stringify(body.errors)}`);
    points += queryCost(schema, MINIMAL_ORDERS_PAGE, variables, body.data);
    orders += body.data.orders.nodes.length;
    if (!body.data.orders.pageInfo.hasNextPage) break;
    after = body.data.orders.pageInfo.endCursor;
  }
  return { orders, points, pointsPerOrder: points / orders, pageSize: first, lineFirst };
}

/** The minimal read's actual cost for each order (before it ships), plus the create's 10. */
export async function cheapestFulfillment(sim: ShopifySimulator, schema: GraphQLSchema, orderIds: string[]): Promise<{ pointsPerShipment: number }> {
  let points = 0;
  for (const id of orderIds) {
    const variables = { id, foFirst: 5 };
    const { body } = await sim.graphql<{ data: Record<string, unknown> | null; errors?: unknown }>(MINIMAL_FULFILLMENT_READ, variables);
    if (body.errors || !body.data) throw new Error(`the minimal fulfillment read was refused: ${JSON.stringify(body.errors)}`);
    points += queryCost(schema, MINIMAL_FULFILLMENT_READ, variables, body.data) + queryCost(schema, MINIMAL_FULFILLMENT_CREATE);
  }
  return { pointsPerShipment: points / orderIds.length };
}

/**
 * Every SKU's available quantity at one location, as many a page as the
 * 250-node limit allows (https://shopify.dev/docs/api/usage/limits).
 * https://shopify.dev/docs/api/admin-graphql/2026-07/queries/inventoryItems
 */
export const MINIMAL_STOCK_READ = /* GraphQL */ `
query BenchMinimalStock($first: Int!, $after: String, $locationId: ID!) {
  inventoryItems(first: $first, after: $after) {
    nodes { sku inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { quantity } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** Shopify's cap on an input array (https://shopify.dev/docs/api/usage/limits#input-limits): quantities set per inventorySetQuantities. */
export const MAX_INPUT_ARRAY = 250;

/** Reads every SKU's stock with the minimal document (budget lifted) and prices every answer. */
export async function cheapestStockRead(sim: ShopifySimulator, schema: GraphQLSchema): Promise<{ items: number; points: number }> {
  let after: string | null = null;
  let points = 0;
  let items = 0;
  for (;;) {
    const variables: Record<string, unknown> = { first: 250, after, locationId: sim.locationId };
    const { body }: { body: { data: { inventoryItems: { nodes: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }; errors?: unknown } } = await sim.graphql<{ data: { inventoryItems: { nodes: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }; errors?: unknown }>(MINIMAL_STOCK_READ, variables);
    if (body.errors || !body.data) throw new Error(`the minimal stock read was refused: ${JSON.stringify(body.errors)}`);
    points += queryCost(schema, MINIMAL_STOCK_READ, variables, body.data);
    items += body.data.inventoryItems.nodes.length;
    if (!body.data.inventoryItems.pageInfo.hasNextPage) break;
    after = body.data.inventoryItems.pageInfo.endCursor;
  }
  return { items, points };
}
