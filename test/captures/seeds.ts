/**
 * Captures whose setup ran before the recording started: the capture keeps
 * only the ids it made (its `setup` note says so). A seed rebuilds that state
 * through the simulator's own API, as the capture's setup did, and names the
 * captured ids it stands for. Keep this list short: a capture that records
 * its setup needs no seed.
 */
import { runGraphQL } from '../../connectors/shopify/simulator/graphql-endpoint.ts';
import { learnIds, type freshShop } from './replay.ts';

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

/**
 * The capture store's own catalogue variant that the fulfillment-order captures order (with
 * `inventoryBehaviour: BYPASS`, a title and a price of their own): only its id matters.
 */
const STORE_VARIANT = 'gid://shopify/ProductVariant/48540157378793';
function storeVariant(shop: Shop): Map<string, string> {
  const p = gql(shop, `mutation($product: ProductCreateInput!) { productCreate(product: $product) { product { variants(first: 1) { nodes { id } } } } }`, { product: { title: 'capture store variant' } }).productCreate.product;
  return new Map([[STORE_VARIANT, p.variants.nodes[0].id]]);
}

/** A location of the capture store other than its first (a fulfillment order moves there); locationAdd is not simulated. */
function storeLocation(shop: Shop, captured: string, name: string): Map<string, string> {
  return new Map([[captured, `gid://shopify/Location/${shop.state.addLocation(name).id}`]]);
}

/**
 * Orders made before the recording (`createdOrders`: order, fulfillment order and line ids, in
 * the order they were made). Each is rebuilt with the lines the capture's upstream read of its
 * fulfillment order recorded (one unit when none was read), and that read, run against the
 * simulator, names the simulator's ids for the captured ones.
 */
function createdOrders(shop: Shop, capture: any): Map<string, string> {
  const ids = new Map<string, string>();
  const reads = new Map<string, any>();
  for (const call of capture?.upstreamCalls ?? []) {
    const fo = call?.response?.body?.data?.node ?? call?.response?.body?.data?.fulfillmentOrder;
    if (fo?.lineItems?.nodes?.length && !reads.has(fo.id)) reads.set(fo.id, call);
  }
  for (const [name, made] of Object.entries<any>(capture?.createdOrders ?? {})) {
    const call = reads.get(made.fulfillmentOrderId);
    const recorded = call ? (call.response.body.data.node ?? call.response.body.data.fulfillmentOrder) : null;
    const lines = recorded?.lineItems.nodes.map((n: any) => ({ title: n.lineItem.title, quantity: n.lineItem.quantity })) ?? [{ title: `${name} (lines not recorded)`, quantity: 1 }];
    const created = gql(shop, `mutation($order: OrderCreateOrderInput!) { orderCreate(order: $order) { order { id fulfillmentOrders(first: 1) { nodes { id lineItems(first: 1) { nodes { id } } } } } } }`, {
      order: { test: true, lineItems: lines.map((l: any) => ({ ...l, priceSet: { shopMoney: { amount: '10.00', currencyCode: 'USD' } }, requiresShipping: true })) },
    }).orderCreate.order;
    const fo = created.fulfillmentOrders.nodes[0];
    ids.set(made.id, created.id).set(made.fulfillmentOrderId, fo.id).set(made.fulfillmentOrderLineItemId, fo.lineItems.nodes[0].id);
    if (call) learnIds(call.response.body.data, (runGraphQL({ query: call.query, variables: { ...call.variables, id: fo.id } }, shop.ctx, shop.bucket, shop.root).body as { data?: unknown }).data, ids);
  }
  // learnIds also pairs the numeric forms; search queries (`id:9877970616626`) need them for every id.
  for (const [k, v] of [...ids]) ids.set(k.replace(/^gid:\/\/shopify\/\w+\//, ''), v.replace(/^gid:\/\/shopify\/\w+\//, ''));
  return ids;
}

const FO_CAPTURE = '2026-04_shipping-fulfillments_fulfillment-order-';

export const SEEDS: Record<string, Seed> = {
  [`${FO_CAPTURE}hold-validation.json`]: storeVariant,
  [`${FO_CAPTURE}hold-multi-line.json`]: storeVariant,
  [`${FO_CAPTURE}release-hold-selective.json`]: storeVariant,
  [`${FO_CAPTURE}open-report-progress-preconditions.json`]: storeVariant,
  [`${FO_CAPTURE}merge-validation.json`]: storeVariant,
  [`${FO_CAPTURE}batch-atomicity.json`]: storeVariant,
  [`${FO_CAPTURE}move-validation.json`]: (shop) => new Map([...storeVariant(shop), ...storeLocation(shop, 'gid://shopify/Location/106318430514', 'Shop location')]),
  [`${FO_CAPTURE}move-multi-line.json`]: (shop) => new Map([...storeVariant(shop), ...storeLocation(shop, 'gid://shopify/Location/106318430514', 'Shop location')]),
  [`${FO_CAPTURE}lifecycle.json`]: (shop) => new Map([...storeVariant(shop), ...storeLocation(shop, 'gid://shopify/Location/112829759794', 'HAR-571 transfer destination')]),
  // Its fulfillment service's location is where the move goes (the service itself is not simulated).
  [`${FO_CAPTURE}mixed-catalog-lifecycle.json`]: (shop, capture) => new Map([...createdOrders(shop, capture), ...storeLocation(shop, capture.service.locationId, 'Hermes mixed catalog service')]),
  '2026-04_orders_fulfillment-create-multi-group.json': (shop) => storeLocation(shop, 'gid://shopify/Location/113884102962', 'HAR-2332 Probe Destination'),
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

/** The first `shopMoney.amount` under a recorded money bag (`totalPriceSet`, `originalUnitPriceSet`). */
const amountOf = (bag: any): string | undefined => bag?.shopMoney?.amount;

/**
 * Orders the capture store held before the capture, as the capture's own
 * upstream reads recorded them (`upstreamCalls`: the read of the order its
 * requests name, made before the first of them). Each is rebuilt through the
 * simulator's API: orderCreate with its lines, shipping and sales, then its
 * earlier refunds with refundCreate; then the same read runs against the
 * simulator and the two answers, side by side, name the simulator's ids for
 * the captured ones (order, lines, transactions, fulfillment orders).
 *
 * What a read does not say is taken from what it does: a line without a
 * recorded unit price costs the order's total less shipping, over its
 * quantity (only for an order of one line). An order read with no sales
 * and no financial status (Shopify's null) is created with neither.
 */
export function hydrateOrders(shop: Shop, capture: any, learn: (captured: unknown, simulated: unknown, ids: Map<string, string>) => void): Map<string, string> {
  const ids = new Map<string, string>();
  for (const call of capture?.upstreamCalls ?? []) {
    const recorded = call?.response?.body?.data?.order;
    if (!recorded?.id || ids.has(recorded.id) || typeof call.query !== 'string') continue;
    try {
      hydrateOrder(shop, call, recorded, ids, learn);
    } catch {
      // A read that does not say enough to rebuild its order (no prices, several refunds): the order
      // stays unknown and the requests that name it answer as for an unknown order, visibly.
    }
  }
  return ids;
}

function hydrateOrder(shop: Shop, call: any, recorded: any, ids: Map<string, string>, learn: (captured: unknown, simulated: unknown, ids: Map<string, string>) => void): void {
  {
    const currency = [recorded.totalPriceSet, recorded.currentTotalPriceSet, recorded.totalReceivedSet].find((b) => b?.shopMoney)?.shopMoney.currencyCode;
    // A line a recorded fulfillment order holds requires shipping (orderCreate's default is false).
    const shipped = new Set<string>((recorded.fulfillmentOrders?.nodes ?? []).flatMap((fo: any) => fo.lineItems.nodes.map((n: any) => n.lineItem.id)));
    const recordedLines: any[] = recorded.lineItems?.nodes
      ?? (recorded.fulfillmentOrders?.nodes ?? []).flatMap((fo: any) => fo.lineItems.nodes.map((n: any) => n.lineItem));
    // A read that names no line (orderCancel-parity's reads only totals and state) is rebuilt as one
    // line of the order's total: no request of the capture reads the lines.
    if (recordedLines.length === 0 && amountOf(recorded.currentTotalPriceSet ?? recorded.totalPriceSet)) recordedLines.push({ id: null, title: `${recorded.name ?? 'order'} (lines not recorded)`, quantity: 1 });
    if (recordedLines.length === 0) return;
    const shipping: string[] = (recorded.shippingLines?.nodes ?? []).map((s: any) => amountOf(s.originalPriceSet)).filter(Boolean);
    const shippingCents = shipping.reduce((n, a) => n + Math.round(Number(a) * 100), 0);
    const total = amountOf(recorded.totalPriceSet) ?? amountOf(recorded.currentTotalPriceSet);
    // (for the rebuilt line of an order read without lines, too)
    const unitPrice = (l: any): string => {
      const given = amountOf(l.originalUnitPriceSet);
      if (given) return given;
      if (recordedLines.length !== 1 || total === undefined) throw new Error(`hydrating ${recorded.id}: line ${l.id} has no recorded price`);
      return ((Math.round(Number(total) * 100) - shippingCents) / l.quantity / 100).toFixed(2);
    };
    const sales = (recorded.transactions ?? []).filter((t: any) => t.kind === 'SALE' && t.status === 'SUCCESS');
    const money = (amount: string) => ({ shopMoney: { amount, currencyCode: currency } });
    const created = gql(shop, `mutation($order: OrderCreateOrderInput!) {
      orderCreate(order: $order) { order { id lineItems(first: 50) { nodes { id } } transactions { id } } userErrors { field message } }
    }`, {
      order: {
        currency,
        lineItems: recordedLines.map((l) => ({ title: l.title, quantity: l.quantity, priceSet: money(unitPrice(l)), ...(shipped.has(l.id) ? { requiresShipping: true } : {}) })),
        shippingLines: shipping.map((amount) => ({ title: 'Shipping', priceSet: money(amount) })),
        transactions: sales.map((t: any) => ({ kind: 'SALE', status: 'SUCCESS', gateway: t.gateway, amountSet: money(amountOf(t.amountSet)!) })),
      },
    }).orderCreate;
    if (!created.order) throw new Error(`hydrating ${recorded.id}: ${JSON.stringify(created.userErrors)}`);
    const order = created.order;
    // Earlier refunds: the units a line lost (quantity - currentQuantity) and the money of the REFUND
    // transactions, against the first sale. One recorded refund is rebuilt; more would be a guess.
    const refunds: any[] = recorded.refunds ?? [];
    if (refunds.length > 1) throw new Error(`hydrating ${recorded.id}: ${refunds.length} earlier refunds, only one can be rebuilt from the read`);
    for (const r of refunds) {
      const refunded = (recorded.transactions ?? []).filter((t: any) => t.kind === 'REFUND' && t.status === 'SUCCESS');
      const answer = gql(shop, `mutation($input: RefundInput!) { refundCreate(input: $input) { refund { id } userErrors { field message } } }`, {
        input: {
          orderId: order.id, note: r.note, notify: false,
          refundLineItems: recordedLines
            .map((l, i) => ({ lineItemId: order.lineItems.nodes[i].id, quantity: l.quantity - (l.currentQuantity ?? l.quantity), restockType: 'NO_RESTOCK' }))
            .filter((x) => x.quantity > 0),
          transactions: refunded.map((t: any) => ({ kind: 'REFUND', gateway: t.gateway, amount: amountOf(t.amountSet), orderId: order.id, parentId: order.transactions[0]?.id })),
        },
      }).refundCreate;
      if (!answer.refund) throw new Error(`hydrating ${recorded.id}: earlier refund refused: ${JSON.stringify(answer.userErrors)}`);
    }
    ids.set(recorded.id, order.id);
    const read = runGraphQL({ query: call.query, variables: { ...call.variables, id: order.id } }, shop.ctx, shop.bucket, shop.root).body as { data?: any };
    learn(call.response.body.data, read.data, ids);
  }
}
