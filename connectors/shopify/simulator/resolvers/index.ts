/**
 * The root value: every Query and Mutation field the simulator implements.
 * Fields not listed resolve to null (or a non-null error), like an
 * unimplemented corner of the API would be noticed in a test.
 */
import { gidType, parseGid } from '../ids.ts';
import type { Ctx } from './context.ts';
import * as orders from './orders.ts';
import * as afterSales from './after-sales.ts';
import * as products from './products.ts';
import * as fulfillment from './fulfillment.ts';
import * as fulfillmentOrders from './fulfillment-orders.ts';
import * as inventory from './inventory.ts';
import * as webhooks from './webhooks.ts';
import { customerView } from './views.ts';

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/node */
function node(args: { id: string }, ctx: Ctx): unknown {
  const type = gidType(args.id);
  switch (type) {
    case 'Order': return orders.order(args, ctx);
    case 'Product': return products.product(args, ctx);
    case 'ProductVariant': return products.productVariant(args, ctx);
    case 'InventoryItem': return inventory.inventoryItem(args, ctx);
    case 'InventoryLevel': return inventory.inventoryLevel(args, ctx);
    case 'Location': return inventory.location(args, ctx);
    case 'FulfillmentOrder': return fulfillment.fulfillmentOrder(args, ctx);
    case 'Fulfillment': return fulfillment.fulfillment(args, ctx);
    case 'WebhookSubscription': return webhooks.webhookSubscription(args, ctx);
    case 'BulkOperation': return bulkOperation(args, ctx);
    case 'Customer': {
      const c = ctx.state.customers.get(parseGid(args.id, 'Customer') ?? -1);
      return c ? customerView(c) : null;
    }
    default: return null;
  }
}

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/bulkOperation */
function bulkOperation(args: { id: string }, ctx: Ctx) {
  const op = ctx.bulk.operations.get(parseGid(args.id, 'BulkOperation') ?? -1);
  return op ? ctx.bulk.view(op, ctx.baseUrl) : null;
}

/** Build the root value; graphql-js calls each with (args, ctx, info). */
export function rootValue(): Record<string, unknown> {
  return {
    // Queries
    orders: orders.orders,
    order: orders.order,
    ordersCount: orders.ordersCount,
    products: products.products,
    product: products.product,
    productVariant: products.productVariant,
    productVariants: products.productVariants,
    productsCount: products.productsCount,
    fulfillmentOrder: fulfillment.fulfillmentOrder,
    fulfillmentOrders: fulfillment.fulfillmentOrders,
    fulfillment: fulfillment.fulfillment,
    manualHoldsFulfillmentOrders: fulfillment.manualHoldsFulfillmentOrders,
    inventoryItems: inventory.inventoryItems,
    inventoryItem: inventory.inventoryItem,
    inventoryLevel: inventory.inventoryLevel,
    locations: inventory.locations,
    location: inventory.location,
    webhookSubscriptions: webhooks.webhookSubscriptions,
    webhookSubscriptionsCount: webhooks.webhookSubscriptionsCount,
    webhookSubscription: webhooks.webhookSubscription,
    node,
    nodes: (args: { ids: string[] }, ctx: Ctx) => args.ids.map((id) => node({ id }, ctx)),
    bulkOperation,
    /** https://shopify.dev/docs/api/admin-graphql/latest/queries/currentBulkOperation */
    currentBulkOperation: (_: unknown, ctx: Ctx) => {
      const op = ctx.bulk.currentOperation();
      return op ? ctx.bulk.view(op, ctx.baseUrl) : null;
    },
    shop: (_: unknown, ctx: Ctx) => ({
      id: 'gid://shopify/Shop/1', name: ctx.state.shopName, currencyCode: ctx.state.currency, myshopifyDomain: 'channelsync-simulator.myshopify.com',
      ianaTimezone: 'UTC', timezoneAbbreviation: 'UTC', email: 'shop@example.com',
    }),
    // Mutations
    orderCreate: orders.orderCreate,
    orderCancel: afterSales.orderCancel,
    refundCreate: afterSales.refundCreate,
    productCreate: products.productCreate,
    productDelete: products.productDelete,
    productVariantsBulkCreate: products.productVariantsBulkCreate,
    productVariantsBulkUpdate: products.productVariantsBulkUpdate,
    fulfillmentCreate: fulfillment.fulfillmentCreate,
    fulfillmentCancel: fulfillment.fulfillmentCancel,
    fulfillmentTrackingInfoUpdate: fulfillment.fulfillmentTrackingInfoUpdate,
    fulfillmentEventCreate: fulfillment.fulfillmentEventCreate,
    // What staff and other apps do to fulfillment orders (channelsync never sends these).
    fulfillmentOrderHold: fulfillmentOrders.fulfillmentOrderHold,
    fulfillmentOrderReleaseHold: fulfillmentOrders.fulfillmentOrderReleaseHold,
    fulfillmentOrderMove: fulfillmentOrders.fulfillmentOrderMove,
    fulfillmentOrderSplit: fulfillmentOrders.fulfillmentOrderSplit,
    fulfillmentOrderCancel: fulfillmentOrders.fulfillmentOrderCancel,
    fulfillmentOrderReportProgress: fulfillmentOrders.fulfillmentOrderReportProgress,
    fulfillmentOrderOpen: fulfillmentOrders.fulfillmentOrderOpen,
    fulfillmentOrderClose: fulfillmentOrders.fulfillmentOrderClose,
    fulfillmentOrderMerge: fulfillmentOrders.fulfillmentOrderMerge,
    fulfillmentOrderReschedule: fulfillmentOrders.fulfillmentOrderReschedule,
    fulfillmentOrdersReroute: fulfillmentOrders.fulfillmentOrdersReroute,
    fulfillmentOrdersSetFulfillmentDeadline: fulfillmentOrders.fulfillmentOrdersSetFulfillmentDeadline,
    fulfillmentOrderLineItemsPreparedForPickup: fulfillmentOrders.fulfillmentOrderLineItemsPreparedForPickup,
    inventorySetQuantities: inventory.inventorySetQuantities,
    webhookSubscriptionCreate: webhooks.webhookSubscriptionCreate,
    webhookSubscriptionUpdate: webhooks.webhookSubscriptionUpdate,
    webhookSubscriptionDelete: webhooks.webhookSubscriptionDelete,
    /** https://shopify.dev/docs/api/admin-graphql/latest/mutations/bulkOperationRunQuery */
    bulkOperationRunQuery: (args: { query: string }, ctx: Ctx) => {
      const { op, userErrors } = ctx.bulk.run(args.query);
      return { bulkOperation: op ? ctx.bulk.view(op, ctx.baseUrl) : null, userErrors };
    },
    /** https://shopify.dev/docs/api/admin-graphql/latest/mutations/bulkOperationCancel */
    bulkOperationCancel: (args: { id: string }, ctx: Ctx) => {
      const op = ctx.bulk.operations.get(parseGid(args.id, 'BulkOperation') ?? -1);
      if (!op) return { bulkOperation: null, userErrors: [{ field: ['id'], message: 'Bulk operation does not exist' }] };
      const userErrors = ctx.bulk.cancel(op);
      return { bulkOperation: ctx.bulk.view(op, ctx.baseUrl), userErrors };
    },
  };
}
