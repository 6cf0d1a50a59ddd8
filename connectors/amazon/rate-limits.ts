/**
 * Amazon's default usage plans for the operations this connector calls, from
 * the "Usage Plan" table in each operation's description in Amazon's models
 * (amzn/selling-partner-api-models @ 34dc93fe, Apache-2.0; compiled in
 * `fixtures/amazon/rate-limits.json`). Copied here because the product never
 * reads the fixtures at run time; `test/connectors/amazon/rate-limits.test.ts`
 * checks every row against that table.
 *
 * Semantics: a token bucket per selling-partner account and application,
 * holding at most `burst` requests and refilling `rate` per second. Orders v0
 * is on a dynamic usage plan: the applied rate comes back in
 * `x-amzn-RateLimit-Limit`, which the client prefers when sent.
 */
export interface OperationLimit {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path template as in the model. */
  path: string;
  /** Requests per second restored. */
  rate: number;
  /** Requests the bucket holds when full. */
  burst: number;
}

export const OPERATION_LIMITS = {
  getOrders: { method: 'GET', path: '/orders/v0/orders', rate: 0.0167, burst: 20 },
  getOrder: { method: 'GET', path: '/orders/v0/orders/{orderId}', rate: 0.5, burst: 30 },
  getOrderItems: { method: 'GET', path: '/orders/v0/orders/{orderId}/orderItems', rate: 0.5, burst: 30 },
  getOrderAddress: { method: 'GET', path: '/orders/v0/orders/{orderId}/address', rate: 0.5, burst: 30 },
  getOrderBuyerInfo: { method: 'GET', path: '/orders/v0/orders/{orderId}/buyerInfo', rate: 0.5, burst: 30 },
  /** Orders API 2026-01-01 getOrder (`includedData=PACKAGES`): the packages already confirmed, for idempotent shipping. */
  getOrderV2026: { method: 'GET', path: '/orders/2026-01-01/orders/{orderId}', rate: 0.5, burst: 30 },
  confirmShipment: { method: 'POST', path: '/orders/v0/orders/{orderId}/shipmentConfirmation', rate: 2, burst: 10 },
  createRestrictedDataToken: { method: 'POST', path: '/tokens/2021-03-01/restrictedDataToken', rate: 1, burst: 10 },
  createFeedDocument: { method: 'POST', path: '/feeds/2021-06-30/documents', rate: 0.5, burst: 15 },
  createFeed: { method: 'POST', path: '/feeds/2021-06-30/feeds', rate: 0.0083, burst: 15 },
  getFeed: { method: 'GET', path: '/feeds/2021-06-30/feeds/{feedId}', rate: 2, burst: 15 },
  cancelFeed: { method: 'DELETE', path: '/feeds/2021-06-30/feeds/{feedId}', rate: 2, burst: 15 },
  getFeedDocument: { method: 'GET', path: '/feeds/2021-06-30/documents/{feedDocumentId}', rate: 0.0222, burst: 10 },
  getListingsItem: { method: 'GET', path: '/listings/2021-08-01/items/{sellerId}/{sku}', rate: 5, burst: 10 },
  patchListingsItem: { method: 'PATCH', path: '/listings/2021-08-01/items/{sellerId}/{sku}', rate: 5, burst: 5 },
  searchListingsItems: { method: 'GET', path: '/listings/2021-08-01/items/{sellerId}', rate: 5, burst: 5 },
} as const satisfies Record<string, OperationLimit>;

export type OperationName = keyof typeof OPERATION_LIMITS;
