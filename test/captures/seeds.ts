/**
 * Captures whose setup ran before the recording started: the capture keeps
 * only the ids it made (its `setup` note says so). A seed rebuilds that state
 * through the simulator's own API, as the capture's setup did, and names the
 * captured ids it stands for. Keep this list short: a capture that records
 * its setup needs no seed.
 */
import { runGraphQL } from '../../connectors/shopify/simulator/graphql-endpoint.ts';
import type { freshShop } from './replay.ts';

type Shop = ReturnType<typeof freshShop>;
type Seed = (shop: Shop, capture: any) => Map<string, string>;

function gql(shop: Shop, query: string, variables: Record<string, unknown>): any {
  const out = runGraphQL({ query, variables }, shop.ctx, shop.bucket, shop.root).body as { data?: any; errors?: unknown };
  if (out.errors) throw new Error(`seed request failed: ${JSON.stringify(out.errors)}`);
  return out.data;
}

/** A tracked product with one variant and `available` units at the primary location; the captured ids it stands for. */
function stockedProduct(shop: Shop, title: string, available: number, captured: { productId: string; variantId: string; inventoryItemId: string }): Map<string, string> {
  const p = gql(shop, `mutation($product: ProductCreateInput!) { productCreate(product: $product) { product { id variants(first: 1) { nodes { id inventoryItem { id } } } } } }`, { product: { title } }).productCreate.product;
  const v = p.variants.nodes[0];
  gql(shop, `mutation($id: ID!, $variants: [ProductVariantsBulkInput!]!) { productVariantsBulkUpdate(productId: $id, variants: $variants) { userErrors { message } } }`, { id: p.id, variants: [{ id: v.id, inventoryItem: { tracked: true } }] });
  gql(shop, `mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) @idempotent(key: "seed") { userErrors { message } } }`, {
    input: { name: 'available', reason: 'correction', quantities: [{ inventoryItemId: v.inventoryItem.id, locationId: `gid://shopify/Location/${shop.state.primaryLocationId}`, quantity: available, changeFromQuantity: 0 }] },
  });
  return new Map([[captured.productId, p.id], [captured.variantId, v.id], [captured.inventoryItemId, v.inventoryItem.id]]);
}

export const SEEDS: Record<string, Seed> = {
  // Its setup is a productSet whose variables were not recorded (only ids and `available: 1`):
  // the same product, tracked, one unit at the store's location.
  '2026-04_products_inventory-reason-validation.json': (shop, capture) => stockedProduct(shop, 'inventory reason validation', capture.setup.available, capture.setup),
  // "Order and fulfillment were created live in this disposable conformance shop for HAR-232
  // before this read fixture was captured": one order of one shipped line, fulfilled once.
  '2026-04_shipping-fulfillments_fulfillment-top-level-reads.json': (shop, capture) => {
    const created = gql(shop, `mutation($order: OrderCreateOrderInput!) {
      orderCreate(order: $order) { order { id fulfillmentOrders(first: 1) { nodes { id } } } userErrors { field message } }
    }`, { order: { test: true, lineItems: [{ title: 'HAR-232 fulfillment probe', quantity: 1, priceSet: { shopMoney: { amount: '10.00', currencyCode: 'USD' } }, requiresShipping: true }] } });
    const order = created.orderCreate.order;
    const fo = order.fulfillmentOrders.nodes[0].id;
    const tracking = capture.detailRead.response.data.fulfillment.trackingInfo[0];
    const shipped = gql(shop, `mutation($fulfillment: FulfillmentInput!) {
      fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id } userErrors { field message } }
    }`, { fulfillment: { notifyCustomer: false, trackingInfo: tracking, lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: fo }] } });
    return new Map([
      [capture.setup.createdOrderId, order.id],
      [capture.setup.createdFulfillmentOrderId, fo],
      [capture.setup.createdFulfillmentId, shipped.fulfillmentCreate.fulfillment.id],
    ]);
  },
};
