/**
 * Every GraphQL document the Shopify connector sends, as named constants.
 *
 * Each one validates against the Admin API 2026-07 schema
 * (`test/connectors/shopify/documents.test.ts`). Field names come from the
 * schema file and the linked reference pages, never from memory.
 *
 * Money: only `shopMoney` is selected. Every unified amount is in the shop's
 * currency, and each extra `MoneyV2` object costs a point per bag per order.
 */

/** Order fields shared by the pull, the single fetch and (inlined) the bulk query. */
const ORDER_FIELDS = /* GraphQL */ `
  id
  name
  createdAt
  updatedAt
  cancelledAt
  closed
  closedAt
  displayFinancialStatus
  displayFulfillmentStatus
  currencyCode
  presentmentCurrencyCode
  email
  phone
  currentShippingPriceSet { shopMoney { amount currencyCode } }
  currentTotalTaxSet { shopMoney { amount currencyCode } }
  currentTotalDiscountsSet { shopMoney { amount currencyCode } }
  currentTotalPriceSet { shopMoney { amount currencyCode } }
  customer { id firstName lastName }
  billingAddress { ...MailingAddressFields }
  shippingAddress { ...MailingAddressFields }
`;

const LINE_ITEM_FIELDS = /* GraphQL */ `
  id
  name
  sku
  quantity
  currentQuantity
  unfulfilledQuantity
  originalUnitPriceSet { shopMoney { amount currencyCode } }
  taxLines { priceSet { shopMoney { amount } } }
  discountAllocations { allocatedAmountSet { shopMoney { amount } } }
  product { id }
  variant { id inventoryItem { id } }
`;

const ADDRESS_FIELDS = /* GraphQL */ `
  name
  company
  address1
  address2
  city
  province
  provinceCode
  zip
  country
  countryCodeV2
  phone
`;

const FRAGMENTS = /* GraphQL */ `
fragment MailingAddressFields on MailingAddress {${ADDRESS_FIELDS}}
fragment LineItemFields on LineItem {${LINE_ITEM_FIELDS}}
fragment OrderFields on Order {${ORDER_FIELDS}
  lineItems(first: $lineFirst) {
    nodes { ...LineItemFields }
    pageInfo { hasNextPage endCursor }
  }
}
`;

/**
 * One page of orders changed since a time, oldest change first.
 * https://shopify.dev/docs/api/admin-graphql/2026-07/queries/orders
 */
export const ORDERS_PAGE_QUERY = /* GraphQL */ `
query ChannelsyncOrdersPage($first: Int!, $after: String, $query: String, $lineFirst: Int!) {
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {
    nodes { ...OrderFields }
    pageInfo { hasNextPage endCursor }
  }
}
${FRAGMENTS}`;

/**
 * One order by its GID.
 * https://shopify.dev/docs/api/admin-graphql/2026-07/queries/order
 */
export const ORDER_QUERY = /* GraphQL */ `
query ChannelsyncOrder($id: ID!, $lineFirst: Int!) {
  order(id: $id) { ...OrderFields }
}
${FRAGMENTS}`;

/**
 * The line items of an order past its first page.
 * https://shopify.dev/docs/api/admin-graphql/2026-07/objects/Order#connections-lineItems
 */
export const ORDER_LINE_ITEMS_QUERY = /* GraphQL */ `
query ChannelsyncOrderLineItems($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    id
    lineItems(first: $first, after: $after) {
      nodes { ...LineItemFields }
      pageInfo { hasNextPage endCursor }
    }
  }
}
fragment LineItemFields on LineItem {${LINE_ITEM_FIELDS}}
`;

/**
 * Starts a bulk export; the inner query is `bulkOrdersQuery(since)`.
 * `groupObjects: true` puts each order's line items right after it in the
 * JSONL file, so the connector can stream orders out one batch at a time.
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/bulkOperationRunQuery
 */
export const BULK_OPERATION_RUN_QUERY = /* GraphQL */ `
mutation ChannelsyncBulkOrders($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: true) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}
`;

/**
 * Polls one bulk operation (`currentBulkOperation` is deprecated in 2026-07).
 * https://shopify.dev/docs/api/admin-graphql/2026-07/queries/bulkOperation
 */
export const BULK_OPERATION_QUERY = /* GraphQL */ `
query ChannelsyncBulkOperation($id: ID!) {
  bulkOperation(id: $id) {
    id
    status
    errorCode
    objectCount
    rootObjectCount
    url
    partialDataUrl
  }
}
`;

/**
 * The query a bulk operation runs: orders updated since `since`, with their
 * line items as a nested connection (one JSONL line each, `__parentId` = the
 * order). Bulk queries take no `first` and no variables, so the date is
 * written into the query string.
 * https://shopify.dev/docs/api/usage/bulk-operations/queries
 */
export function bulkOrdersQuery(since: Date | null): string {
  const search = since ? `updated_at:>='${since.toISOString()}'` : '';
  const fields = ORDER_FIELDS.replace(/\.\.\.MailingAddressFields/g, ADDRESS_FIELDS.trim().replace(/\s+/g, ' '));
  return /* GraphQL */ `{
  orders(sortKey: UPDATED_AT${search ? `, query: ${JSON.stringify(search)}` : ''}) {
    edges {
      node {${fields}
        lineItems {
          edges { node {${LINE_ITEM_FIELDS}} }
        }
      }
    }
  }
}`;
}

/**
 * An order's fulfillment orders (to split a shipment) and its existing
 * fulfillments with tracking (to make the push idempotent).
 *
 * Sized by the caller: `$lines` line items per fulfillment and per
 * fulfillment order. Shopify admits a query only when the bucket holds its
 * *requested* cost, and a connection is priced at `first` nodes, so a read
 * asking for 25 and 50 lines requested 583 points for an order of 3 lines
 * (charged ~14): ten pushes in flight queued behind 5,830 points of a
 * 2,000-point bucket. The connector asks first for the shipment's own number
 * of lines and reads again at full size only when a `hasNextPage` says the
 * small read did not see everything (connector.ts, `fulfillmentState`).
 *
 * Points are charged on what comes back: the order 1, each fulfillment order
 * 1 + its lines (2 + 2 a line: the line's `lineItem { id }` is the only link
 * from a fulfillment order line to the order's line, which the safety
 * checks need; `sku` and `inventoryItemId` do not tell two lines of one
 * variant apart). The assigned location (2 a fulfillment order) is not read
 * here: it only groups a shipment spread over several fulfillment orders
 * into one create per location, so it is read for those alone
 * (FULFILLMENT_ORDER_LOCATIONS_QUERY); most shipments are one fulfillment
 * order.
 * https://shopify.dev/docs/api/admin-graphql/2026-07/objects/Order#connections-fulfillmentOrders
 * https://shopify.dev/docs/api/admin-graphql/2026-07/objects/Fulfillment#field-trackingInfo
 */
export const ORDER_FULFILLMENT_STATE_QUERY = /* GraphQL */ `
query ChannelsyncOrderFulfillmentState($id: ID!, $fulfilledLines: Int!, $openLines: Int!) {
  order(id: $id) {
    id
    cancelledAt
    fulfillments(first: 10) {
      id
      status
      trackingInfo(first: 5) { company number url }
      fulfillmentLineItems(first: $fulfilledLines) {
        nodes { quantity lineItem { id } }
        pageInfo { hasNextPage }
      }
    }
    fulfillmentOrders(first: 5) {
      nodes {
        id
        status
        lineItems(first: $openLines) {
          nodes { id remainingQuantity lineItem { id } }
          pageInfo { hasNextPage }
        }
      }
      pageInfo { hasNextPage }
    }
  }
}
`;

/**
 * Where each of a shipment's fulfillment orders is assigned, read only when
 * a shipment spans more than one: one fulfillmentCreate may not span two
 * locations. 3 points a fulfillment order.
 * https://shopify.dev/docs/api/admin-graphql/2026-07/queries/nodes
 * https://shopify.dev/docs/api/admin-graphql/2026-07/objects/FulfillmentOrderAssignedLocation
 */
export const FULFILLMENT_ORDER_LOCATIONS_QUERY = /* GraphQL */ `
query ChannelsyncFulfillmentOrderLocations($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on FulfillmentOrder { id assignedLocation { location { id } } }
  }
}
`;

/**
 * Creates one fulfillment over one or more fulfillment orders. Returns only
 * the id channelsync stores: a mutation costs 10 plus the objects its payload
 * returns (the fulfillment's trackingInfo was 1 more a shipment, and
 * channelsync keeps what it sent).
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentCreate
 */
export const FULFILLMENT_CREATE_MUTATION = /* GraphQL */ `
mutation ChannelsyncFulfillmentCreate($fulfillment: FulfillmentInput!, $message: String) {
  fulfillmentCreate(fulfillment: $fulfillment, message: $message) {
    fulfillment { id }
    userErrors { field message }
  }
}
`;

/**
 * Locations, to default `locationId` when the channel settings leave it out.
 * https://shopify.dev/docs/api/admin-graphql/2026-07/queries/locations
 */
export const LOCATIONS_QUERY = /* GraphQL */ `
query ChannelsyncLocations {
  locations(first: 10) {
    nodes { id name isActive }
  }
}
`;

/**
 * Variants with their SKU, inventory item and stock at one location.
 * https://shopify.dev/docs/api/admin-graphql/2026-07/queries/productVariants
 */
export const PRODUCT_VARIANTS_QUERY = /* GraphQL */ `
query ChannelsyncProductVariants($first: Int!, $after: String, $locationId: ID!) {
  productVariants(first: $first, after: $after) {
    nodes {
      id
      sku
      displayName
      product { id }
      inventoryItem {
        id
        tracked
        inventoryLevel(locationId: $locationId) {
          quantities(names: ["available"]) { name quantity }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`;

/**
 * Inventory items by SKU (`sku:A OR sku:B`) with their level at one location.
 * https://shopify.dev/docs/api/admin-graphql/2026-07/queries/inventoryItems
 * https://shopify.dev/docs/api/admin-graphql/2026-07/objects/InventoryItem#field-inventoryLevel
 */
export const INVENTORY_ITEMS_QUERY = /* GraphQL */ `
query ChannelsyncInventoryItems($first: Int!, $query: String!, $locationId: ID!) {
  inventoryItems(first: $first, query: $query) {
    nodes {
      id
      sku
      tracked
      inventoryLevel(locationId: $locationId) {
        quantities(names: ["available"]) { name quantity }
      }
    }
  }
}
`;

/**
 * Sets available quantities; `changeFromQuantity` (compare-and-set) and the
 * `@idempotent` key are mandatory since 2026-04.
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/inventorySetQuantities
 */
export const INVENTORY_SET_QUANTITIES_MUTATION = /* GraphQL */ `
mutation ChannelsyncInventorySetQuantities($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}
`;

/**
 * Existing webhook subscriptions, so that registering twice creates nothing.
 * https://shopify.dev/docs/api/admin-graphql/2026-07/queries/webhookSubscriptions
 */
export const WEBHOOK_SUBSCRIPTIONS_QUERY = /* GraphQL */ `
query ChannelsyncWebhookSubscriptions($first: Int!, $after: String) {
  webhookSubscriptions(first: $first, after: $after) {
    nodes { id topic uri }
    pageInfo { hasNextPage endCursor }
  }
}
`;

/**
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/webhookSubscriptionCreate
 */
export const WEBHOOK_SUBSCRIPTION_CREATE_MUTATION = /* GraphQL */ `
mutation ChannelsyncWebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
`;

/** Every operation document, by constant name (the documents test walks this). */
/**
 * An order's refunds, read for orders Shopify shows (partially) refunded.
 * Not in the page query: a list of refunds with a connection of lines per
 * order would price every page far past the 1000-point cap.
 * https://shopify.dev/docs/api/admin-graphql/2026-07/objects/Refund
 */
export const ORDER_REFUNDS_QUERY = /* GraphQL */ `
query ChannelsyncOrderRefunds($id: ID!) {
  order(id: $id) {
    id
    refunds(first: 10) {
      id
      createdAt
      note
      totalRefundedSet { shopMoney { amount } }
      refundShippingLines(first: 2) { nodes { subtotalAmountSet { shopMoney { amount } } } }
      refundLineItems(first: 30) {
        nodes { quantity restockType lineItem { id } subtotalSet { shopMoney { amount } } }
        pageInfo { hasNextPage }
      }
    }
  }
}
`;

/**
 * What a refund push checks first: the order's refunds (by the note's marker)
 * and its transactions (the sales a refund goes back through).
 * https://shopify.dev/docs/api/admin-graphql/2026-07/objects/Order#field-Order.fields.transactions
 */
export const REFUND_STATE_QUERY = /* GraphQL */ `
query ChannelsyncRefundState($id: ID!) {
  order(id: $id) {
    id
    refunds(first: 50) { id note }
    transactions(first: 20) { id kind status gateway amountSet { shopMoney { amount } } parentTransaction { id } }
  }
}
`;

/**
 * A refund of lines and shipping, with the money back through the sale.
 * The idempotency key is the refund's own (`channelsync-refund-<id>`): an HTTP
 * retry of the same call is answered from Shopify's memory.
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/refundCreate
 */
export const REFUND_CREATE_MUTATION = /* GraphQL */ `
mutation ChannelsyncRefundCreate($input: RefundInput!, $idempotencyKey: String!) {
  refundCreate(input: $input) @idempotent(key: $idempotencyKey) {
    refund { id }
    userErrors { field message }
  }
}
`;

/**
 * Cancels an order; `refundMethod` gives the money back to the original
 * payment methods (the deprecated `refund: true` is not sent).
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/orderCancel
 */
export const ORDER_CANCEL_MUTATION = /* GraphQL */ `
mutation ChannelsyncOrderCancel($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, restock: $restock, notifyCustomer: false, staffNote: $staffNote,
    refundMethod: { originalPaymentMethodsRefund: true }) {
    job { id }
    orderCancelUserErrors { field message code }
  }
}
`;

export const DOCUMENTS = {
  ORDER_REFUNDS_QUERY,
  REFUND_STATE_QUERY,
  REFUND_CREATE_MUTATION,
  ORDER_CANCEL_MUTATION,
  ORDERS_PAGE_QUERY,
  ORDER_QUERY,
  ORDER_LINE_ITEMS_QUERY,
  BULK_OPERATION_RUN_QUERY,
  BULK_OPERATION_QUERY,
  ORDER_FULFILLMENT_STATE_QUERY,
  FULFILLMENT_ORDER_LOCATIONS_QUERY,
  FULFILLMENT_CREATE_MUTATION,
  LOCATIONS_QUERY,
  PRODUCT_VARIANTS_QUERY,
  INVENTORY_ITEMS_QUERY,
  INVENTORY_SET_QUANTITIES_MUTATION,
  WEBHOOK_SUBSCRIPTIONS_QUERY,
  WEBHOOK_SUBSCRIPTION_CREATE_MUTATION,
} as const;
