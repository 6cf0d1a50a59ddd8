/**
 * The simulator's dynamic answers, one function per operation, checked the
 * way the models say Amazon checks them (parameter descriptions, `required`,
 * `minItems`/`maxItems`, enums). Where a check has a captured Amazon answer
 * (errors.json) that answer is used word for word; other refusals use the
 * generic InvalidInput body Amazon sends and name the problem in `details`.
 */
import { randomUUID } from 'node:crypto';
import { HttpAnswer, MSG, amazonError, invalidInput } from './answers.ts';
import type { AmazonSimServer, Request } from './server.ts';
import { SIM_MARKETPLACE, type SimListing, type SimOrder } from './state.ts';
import { addMoney, mulMoney } from '../../../src/domain/money.ts';

const TWO_MINUTES = 120_000;
const notFound = () => amazonError(404, 'NotFound', 'The resource specified does not exist.');
const listingsBadRequest = (details: string) => amazonError(400, 'BAD_REQUEST', 'Invalid input', details);
const list = (q: URLSearchParams, name: string): string[] | null => (q.has(name) ? q.get(name)!.split(',').filter(Boolean) : null);
const isDate = (v: string) => /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v));
const money = (currency: string, amount: string) => ({ CurrencyCode: currency, Amount: amount });

export async function operate(sim: AmazonSimServer, req: Request): Promise<HttpAnswer> {
  switch (req.op) {
    case 'getOrders':
      return getOrders(sim, req);
    case 'getOrder': {
      const order = sim.order(req.params.orderId!);
      if (!order) return notFound();
      const denied = rdtRefusal(req);
      if (denied) return denied;
      return new HttpAnswer(200, { payload: orderV0(order, req) });
    }
    case 'getOrderItems': {
      const order = sim.order(req.params.orderId!);
      if (!order) return notFound();
      return new HttpAnswer(200, { payload: { AmazonOrderId: order.AmazonOrderId, OrderItems: order.items.map((i) => itemV0(order, i)) } });
    }
    case 'getOrderAddress':
    case 'getOrderBuyerInfo': {
      const order = sim.order(req.params.orderId!);
      if (!order) return notFound();
      const full = orderV0(order, req);
      return new HttpAnswer(200, {
        payload: req.op === 'getOrderAddress' ? { AmazonOrderId: order.AmazonOrderId, ShippingAddress: full.ShippingAddress } : { AmazonOrderId: order.AmazonOrderId, ...(full.BuyerInfo ?? {}) },
      });
    }
    case 'getOrderV2026':
      return getOrder2026(sim, req);
    case 'confirmShipment':
      return confirmShipment(sim, req);
    case 'createRestrictedDataToken':
      return createRdt(sim, req);
    case 'createFeedDocument': {
      const body = req.body as { contentType?: unknown } | null;
      if (!body || typeof body.contentType !== 'string' || !body.contentType) return invalidInput('contentType is required.');
      const id = `amzn1.tortuga.4.na.${randomUUID()}`;
      sim.state.documents.set(id, { feedDocumentId: id, contentType: body.contentType, content: null });
      return new HttpAnswer(201, { feedDocumentId: id, url: `${sim.url}/documents/${id}` });
    }
    case 'createFeed':
      return createFeed(sim, req);
    case 'getFeed': {
      const feed = sim.state.feeds.get(req.params.feedId!);
      return feed ? new HttpAnswer(200, feedView(feed)) : notFound();
    }
    case 'cancelFeed': {
      const feed = sim.state.feeds.get(req.params.feedId!);
      if (!feed) return notFound();
      // The model: "Only feeds with processingStatus=IN_QUEUE can be cancelled."
      if (feed.processingStatus !== 'IN_QUEUE') return invalidInput(`Feed ${feed.feedId} is ${feed.processingStatus}: only feeds IN_QUEUE can be cancelled.`);
      feed.processingStatus = 'CANCELLED';
      return new HttpAnswer(200, null);
    }
    case 'getFeedDocument': {
      const doc = sim.state.documents.get(req.params.feedDocumentId!);
      return doc ? new HttpAnswer(200, { feedDocumentId: doc.feedDocumentId, url: `${sim.url}/documents/${doc.feedDocumentId}` }) : notFound();
    }
    case 'searchListingsItems':
      return searchListings(sim, req);
    case 'getListingsItem': {
      const denied = sellerRefusal(sim, req);
      if (denied) return denied;
      const listing = sim.state.listings.get(req.params.sku!);
      return listing ? new HttpAnswer(200, listingItem(listing, list(req.query, 'includedData') ?? ['summaries'])) : notFound();
    }
    case 'patchListingsItem':
      return patchListing(sim, req);
  }
}

/** The RDT sent names this path (and method) with at least one data element: restricted fields are shown. */
function piiFor(req: Request, element: string): boolean {
  return (req.rdt ?? []).some((r) => r.method === 'GET' && r.path === req.path && (!r.dataElements || r.dataElements.includes(element)));
}

/** An RDT only opens the resources it was minted for. */
function rdtRefusal(req: Request): HttpAnswer | null {
  if (!req.rdt) return null;
  if (req.rdt.some((r) => r.path === req.path)) return null;
  return amazonError(403, 'Unauthorized', MSG.denied, 'The access token you provided is revoked, malformed or invalid.', { 'x-amzn-ErrorType': 'AccessDeniedException' });
}

function sellerRefusal(sim: AmazonSimServer, req: Request): HttpAnswer | null {
  return req.params.sellerId === sim.sellerId() ? null : amazonError(403, 'Unauthorized', MSG.denied, '', { 'x-amzn-ErrorType': 'AccessDeniedException' });
}

function totals(order: SimOrder): string {
  return addMoney('0', ...order.items.map((i) => mulMoney(i.unitPrice, i.QuantityOrdered)));
}

/** An order as Orders v0 shows it; name and street lines only with an RDT for this path. */
function orderV0(order: SimOrder, req: Request) {
  const shipped = order.items.reduce((n, i) => n + i.QuantityShipped, 0);
  const ordered = order.items.reduce((n, i) => n + i.QuantityOrdered, 0);
  const address = piiFor(req, 'shippingAddress')
    ? { ...order.address }
    : // errors.json `pii-not-returned-without-rdt`: Name empty, no street lines.
      { StateOrRegion: order.address.StateOrRegion, PostalCode: order.address.PostalCode, City: order.address.City, CountryCode: order.address.CountryCode, Name: '' };
  return {
    AmazonOrderId: order.AmazonOrderId,
    PurchaseDate: order.PurchaseDate,
    LastUpdateDate: order.LastUpdateDate,
    OrderStatus: order.OrderStatus,
    FulfillmentChannel: order.FulfillmentChannel,
    SalesChannel: 'Amazon.com',
    ShipServiceLevel: 'Std US D2D Dom',
    // Pending orders carry no total yet (payment not authorised).
    ...(order.OrderStatus === 'Pending' ? {} : { OrderTotal: money(order.currency, totals(order)) }),
    NumberOfItemsShipped: shipped,
    NumberOfItemsUnshipped: order.OrderStatus === 'Canceled' ? 0 : ordered - shipped,
    PaymentMethod: 'Other',
    PaymentMethodDetails: ['Standard'],
    IsReplacementOrder: false,
    MarketplaceId: SIM_MARKETPLACE,
    ShipmentServiceLevelCategory: 'Standard',
    OrderType: 'StandardOrder',
    EarliestShipDate: order.PurchaseDate,
    LatestShipDate: new Date(Date.parse(order.PurchaseDate) + 2 * 86_400_000).toISOString(),
    IsBusinessOrder: false,
    IsPrime: false,
    IsGlobalExpressEnabled: false,
    IsPremiumOrder: false,
    IsSoldByAB: false,
    IsIBA: false,
    IsISPU: false,
    IsAccessPointOrder: false,
    ShippingAddress: address,
    ...(piiFor(req, 'buyerInfo') ? { BuyerInfo: { BuyerEmail: order.buyerEmail, BuyerName: order.buyerName } } : {}),
    AutomatedShippingSettings: { HasAutomatedShippingSettings: false },
  };
}

function itemV0(order: SimOrder, i: SimOrder['items'][number]) {
  return {
    ASIN: i.ASIN,
    OrderItemId: i.OrderItemId,
    SellerSKU: i.SellerSKU,
    Title: i.Title,
    QuantityOrdered: i.QuantityOrdered,
    QuantityShipped: i.QuantityShipped,
    ProductInfo: { NumberOfItems: '1' },
    ItemPrice: money(order.currency, mulMoney(i.unitPrice, i.QuantityOrdered)),
    ItemTax: money(order.currency, '0.00'),
    PromotionDiscount: money(order.currency, '0.00'),
    IsGift: 'false',
    ConditionId: 'New',
    ConditionSubtypeId: 'New',
    IsTransparency: false,
    SerialNumberRequired: false,
    ...(i.buyerCancelReason ? { BuyerRequestedCancel: { IsBuyerRequestedCancel: 'true', BuyerCancelReason: i.buyerCancelReason } } : {}),
  };
}

interface OrdersToken {
  after: string;
  lastUpdate: string;
  lastId: string;
  filters: string;
  bound: string;
}

/** getOrders, with the rules of ordersV0.json `paths./orders/v0/orders.get.parameters`. */
function getOrders(sim: AmazonSimServer, req: Request): HttpAnswer {
  const q = req.query;
  const marketplaces = list(q, 'MarketplaceIds');
  if (!marketplaces || marketplaces.length === 0) return invalidInput('MarketplaceIds is required.');
  if (marketplaces.length > 50) return invalidInput('MarketplaceIds accepts at most 50 values.');
  const createdAfter = q.get('CreatedAfter');
  const updatedAfter = q.get('LastUpdatedAfter');
  const createdBefore = q.get('CreatedBefore');
  const updatedBefore = q.get('LastUpdatedBefore');
  // "Either the CreatedAfter parameter or the LastUpdatedAfter parameter is required. Both cannot be empty."
  if (!createdAfter && !updatedAfter && !q.get('AmazonOrderIds')) return invalidInput('Either CreatedAfter or LastUpdatedAfter is required.');
  if ((createdAfter || createdBefore) && (updatedAfter || updatedBefore)) return invalidInput('CreatedAfter/CreatedBefore cannot be set with LastUpdatedAfter/LastUpdatedBefore.');
  for (const [name, value] of [['CreatedAfter', createdAfter], ['LastUpdatedAfter', updatedAfter], ['CreatedBefore', createdBefore], ['LastUpdatedBefore', updatedBefore]] as const) {
    if (value && !isDate(value)) return invalidInput(`${name} must be an ISO 8601 date.`);
  }
  const now = Date.now();
  for (const [before, after] of [[createdBefore, createdAfter], [updatedBefore, updatedAfter]] as const) {
    if (!before) continue;
    // The two-minute rule: errors.json `400-invalid-input-createdbefore-too-recent`, body and all.
    if (Date.parse(before) > now - TWO_MINUTES || (after && Date.parse(before) < Date.parse(after))) return invalidInput('');
  }
  const pageSize = q.has('MaxResultsPerPage') ? Number(q.get('MaxResultsPerPage')) : 100;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) return invalidInput('MaxResultsPerPage must be 1 - 100.');
  const ids = list(q, 'AmazonOrderIds');
  if (ids && ids.length > 50) return invalidInput('AmazonOrderIds accepts at most 50 values.');
  const statuses = list(q, 'OrderStatuses');
  const channels = list(q, 'FulfillmentChannels');
  const byUpdate = Boolean(updatedAfter) || !createdAfter;
  const filters = JSON.stringify([marketplaces, createdAfter, updatedAfter, createdBefore, updatedBefore, ids, statuses, channels]);

  let token: OrdersToken | null = null;
  const next = q.get('NextToken');
  if (next) {
    try {
      token = JSON.parse(Buffer.from(next, 'base64url').toString('utf8')) as OrdersToken;
    } catch {
      return invalidInput('Invalid NextToken.');
    }
    // "NextToken doesn't affect any filters that you include in your request": a token of other filters is refused.
    if (token.filters !== filters) return invalidInput('The NextToken does not belong to these filters.');
  }
  const bound = token?.bound ?? (byUpdate ? updatedBefore : createdBefore) ?? new Date(Math.max(now, sim.state.lastStamp)).toISOString();
  const after = Date.parse((byUpdate ? updatedAfter : createdAfter) ?? '1970-01-01T00:00:00Z');
  const key = (o: SimOrder) => (byUpdate ? o.LastUpdateDate : o.PurchaseDate);
  const selected = [...sim.state.orders.values()]
    .filter((o) => marketplaces.includes(SIM_MARKETPLACE))
    .filter((o) => !ids || ids.includes(o.AmazonOrderId))
    .filter((o) => !statuses || statuses.includes(o.OrderStatus))
    .filter((o) => !channels || channels.includes(o.FulfillmentChannel))
    .filter((o) => Date.parse(key(o)) >= after && key(o) <= bound)
    .sort((a, b) => (key(a) === key(b) ? a.AmazonOrderId.localeCompare(b.AmazonOrderId) : key(a) < key(b) ? -1 : 1));
  // Keyset paging: the token holds the last order handed out, so an order that changes while pages
  // are read moves behind the cursor and comes again, and none is skipped.
  const rest = token ? selected.filter((o) => key(o) > token!.lastUpdate || (key(o) === token!.lastUpdate && o.AmazonOrderId > token!.lastId)) : selected;
  const page = rest.slice(0, pageSize);
  const last = page.at(-1);
  const more = rest.length > pageSize && last;
  const payload: Record<string, unknown> = { Orders: page.map((o) => orderV0(o, req)) };
  if (more) payload.NextToken = Buffer.from(JSON.stringify({ after: String(after), lastUpdate: key(last), lastId: last.AmazonOrderId, filters, bound } satisfies OrdersToken)).toString('base64url');
  payload[byUpdate ? 'LastUpdatedBefore' : 'CreatedBefore'] = bound;
  return new HttpAnswer(200, { payload });
}

function status2026(order: SimOrder): string {
  return { Pending: 'PENDING', Unshipped: 'UNSHIPPED', PartiallyShipped: 'PARTIALLY_SHIPPED', Shipped: 'SHIPPED', Canceled: 'CANCELLED' }[order.OrderStatus];
}

function getOrder2026(sim: AmazonSimServer, req: Request): HttpAnswer {
  const order = sim.order(req.params.orderId!);
  if (!order) return notFound();
  const included = list(req.query, 'includedData') ?? [];
  const known = ['BUYER', 'RECIPIENT', 'PROCEEDS', 'EXPENSE', 'PROMOTION', 'CANCELLATION', 'FULFILLMENT', 'PACKAGES', 'TAX', 'PAYMENT', 'FULFILLMENT_ORDERS'];
  const unknown = included.find((d) => !known.includes(d));
  if (unknown) return invalidInput(`includedData value ${unknown} is not one of ${known.join(', ')}.`);
  const body: Record<string, unknown> = {
    orderId: order.AmazonOrderId,
    createdTime: order.PurchaseDate,
    lastUpdatedTime: order.LastUpdateDate,
    salesChannel: { channelName: 'AMAZON', marketplaceId: SIM_MARKETPLACE, marketplaceName: 'Amazon.com' },
    orderItems: order.items.map((i) => ({ orderItemId: i.OrderItemId, quantityOrdered: i.QuantityOrdered, product: { asin: i.ASIN, title: i.Title, sellerSku: i.SellerSKU } })),
  };
  if (included.includes('FULFILLMENT')) body.fulfillment = { fulfillmentStatus: status2026(order), fulfilledBy: order.FulfillmentChannel === 'AFN' ? 'AMAZON' : 'MERCHANT', fulfillmentServiceLevel: 'STANDARD' };
  // "Only available for merchant-fulfilled (FBM) orders."
  if (included.includes('PACKAGES') && order.FulfillmentChannel === 'MFN') {
    body.packages = order.packages.map((p) => ({
      packageReferenceId: p.packageReferenceId,
      createdTime: p.shipDate,
      packageStatus: { status: 'SHIPPED' },
      carrier: p.carrierName ?? p.carrierCode,
      shipTime: p.shipDate,
      ...(p.shippingMethod ? { shippingService: p.shippingMethod } : {}),
      trackingNumber: p.trackingNumber,
      packageItems: p.items,
    }));
  }
  return new HttpAnswer(200, { order: body });
}

/** confirmShipment: definitions.ConfirmShipmentRequest / PackageDetail, and the captured 400s. */
function confirmShipment(sim: AmazonSimServer, req: Request): HttpAnswer {
  const order = sim.order(req.params.orderId!);
  if (!order) return notFound();
  const body = req.body as { marketplaceId?: unknown; packageDetail?: Record<string, unknown> } | null;
  if (!body || typeof body.marketplaceId !== 'string' || !body.packageDetail || typeof body.packageDetail !== 'object') {
    return invalidInput('marketplaceId and packageDetail are required.');
  }
  if (body.marketplaceId !== SIM_MARKETPLACE) return invalidInput(`MarketplaceId ${body.marketplaceId} is not the marketplace of this order.`);
  const p = body.packageDetail;
  for (const field of ['packageReferenceId', 'carrierCode', 'trackingNumber', 'shipDate', 'orderItems']) {
    if (p[field] === undefined || p[field] === null || p[field] === '') return invalidInput(`${field} is required.`);
  }
  // errors.json `400-confirmShipment-packageReferenceId`.
  if (typeof p.packageReferenceId !== 'string' || !/^[1-9]\d*$/.test(p.packageReferenceId)) {
    return amazonError(400, 'InvalidInput', 'PackageReferenceId: is invalid, must be a positive numeric value.');
  }
  // The model's sandbox case: a shipDate that is not ISO 8601 ("02/21/2022") -> {"code":"Invalid Input","message":"Invalid Input"}.
  if (typeof p.shipDate !== 'string' || !isDate(p.shipDate)) return new HttpAnswer(400, { errors: [{ code: 'Invalid Input', message: 'Invalid Input' }] });
  if (p.carrierCode === 'Other' && (typeof p.carrierName !== 'string' || !p.carrierName)) return invalidInput('carrierName is required when carrierCode is "Other".');
  if (!Array.isArray(p.orderItems) || p.orderItems.length === 0) {
    // errors.json `400-confirmShipment-orderItemId` (orderItems sent as an object).
    return amazonError(400, 'InvalidInput', 'OrderItemId  is invalid, please obtain the value through the getOrderItems API or Manage Orders page');
  }
  if (order.FulfillmentChannel === 'AFN') return invalidInput('This order is fulfilled by Amazon.');
  if (order.OrderStatus === 'Canceled' || order.OrderStatus === 'Pending') return invalidInput(`The order is ${order.OrderStatus} and cannot be shipped.`);
  if (order.packages.some((pk) => pk.packageReferenceId === p.packageReferenceId)) return invalidInput(`Package ${p.packageReferenceId} was already confirmed for this order.`);
  const lines: Array<{ orderItemId: string; quantity: number }> = [];
  for (const entry of p.orderItems as Array<{ orderItemId?: unknown; quantity?: unknown }>) {
    const item = order.items.find((i) => i.OrderItemId === entry?.orderItemId);
    if (!item) return amazonError(400, 'InvalidInput', 'OrderItemId  is invalid, please obtain the value through the getOrderItems API or Manage Orders page');
    if (!Number.isInteger(entry.quantity) || (entry.quantity as number) < 1 || (entry.quantity as number) > item.QuantityOrdered - item.QuantityShipped) {
      return invalidInput(`Quantity ${String(entry.quantity)} for OrderItemId ${item.OrderItemId} is more than is left to ship.`);
    }
    lines.push({ orderItemId: item.OrderItemId, quantity: entry.quantity as number });
  }
  for (const line of lines) order.items.find((i) => i.OrderItemId === line.orderItemId)!.QuantityShipped += line.quantity;
  order.packages.push({
    packageReferenceId: p.packageReferenceId,
    carrierCode: String(p.carrierCode),
    carrierName: typeof p.carrierName === 'string' ? p.carrierName : null,
    shippingMethod: typeof p.shippingMethod === 'string' ? p.shippingMethod : null,
    trackingNumber: String(p.trackingNumber),
    shipDate: p.shipDate,
    items: lines,
  });
  order.OrderStatus = order.items.every((i) => i.QuantityShipped >= i.QuantityOrdered) ? 'Shipped' : 'PartiallyShipped';
  sim.state.touch(order);
  return new HttpAnswer(204, null);
}

function createRdt(sim: AmazonSimServer, req: Request): HttpAnswer {
  const body = req.body as { restrictedResources?: unknown } | null;
  const resources = body?.restrictedResources;
  if (!Array.isArray(resources) || resources.length === 0 || resources.length > 50) return invalidInput('restrictedResources must hold 1 to 50 resources.');
  for (const r of resources as Array<{ method?: unknown; path?: unknown; dataElements?: unknown }>) {
    if (!r || !['GET', 'PUT', 'POST', 'DELETE'].includes(String(r.method)) || typeof r.path !== 'string' || !r.path.startsWith('/')) {
      return invalidInput('Each restricted resource needs a method (GET, PUT, POST, DELETE) and a path.');
    }
  }
  if (sim.config.denyRdt) return amazonError(403, 'Unauthorized', MSG.denied, '', { 'x-amzn-ErrorType': 'AccessDeniedException' });
  const token = sim.mintRdt(resources as NonNullable<Request['rdt']>);
  return new HttpAnswer(200, { restrictedDataToken: token, expiresIn: 3600 });
}

function createFeed(sim: AmazonSimServer, req: Request): HttpAnswer {
  const body = req.body as { feedType?: unknown; marketplaceIds?: unknown; inputFeedDocumentId?: unknown } | null;
  if (!body || typeof body.feedType !== 'string' || !body.feedType) return invalidInput('feedType is required.');
  // CreateFeedSpecification.marketplaceIds: minItems 1, maxItems 25.
  if (!Array.isArray(body.marketplaceIds) || body.marketplaceIds.length < 1 || body.marketplaceIds.length > 25) return invalidInput('marketplaceIds must hold 1 to 25 marketplaces.');
  if (typeof body.inputFeedDocumentId !== 'string' || !sim.state.documents.has(body.inputFeedDocumentId)) return invalidInput('inputFeedDocumentId is not a feed document of this seller.');
  const feedId = String(sim.state.next()).padStart(11, '5');
  sim.state.feeds.set(feedId, {
    feedId,
    feedType: body.feedType,
    marketplaceIds: body.marketplaceIds as string[],
    createdTime: new Date().toISOString(),
    processingStatus: 'IN_QUEUE',
    inputFeedDocumentId: body.inputFeedDocumentId,
  });
  sim.scheduleFeed(feedId);
  return new HttpAnswer(202, { feedId });
}

function feedView(feed: NonNullable<ReturnType<AmazonSimServer['state']['feeds']['get']>>) {
  const { inputFeedDocumentId: _input, ...view } = feed;
  return view;
}

function listingItem(listing: SimListing, included: string[]) {
  return {
    sku: listing.sku,
    ...(included.includes('summaries')
      ? {
          summaries: [
            {
              marketplaceId: SIM_MARKETPLACE,
              asin: listing.asin,
              productType: listing.productType,
              conditionType: 'new_new',
              status: ['BUYABLE', 'DISCOVERABLE'],
              itemName: listing.title,
              createdDate: listing.updatedAt,
              lastUpdatedDate: listing.updatedAt,
            },
          ],
        }
      : {}),
    ...(included.includes('fulfillmentAvailability') ? { fulfillmentAvailability: [{ fulfillmentChannelCode: 'DEFAULT', quantity: listing.quantity }] } : {}),
  };
}

function searchListings(sim: AmazonSimServer, req: Request): HttpAnswer {
  const denied = sellerRefusal(sim, req);
  if (denied) return denied;
  const q = req.query;
  const marketplaces = list(q, 'marketplaceIds');
  if (!marketplaces?.length) return listingsBadRequest('marketplaceIds is required.');
  const identifiers = list(q, 'identifiers');
  if (identifiers && !q.get('identifiersType')) return listingsBadRequest('identifiersType is required when identifiers is provided.');
  if (identifiers && identifiers.length > 20) return listingsBadRequest('identifiers accepts at most 20 values.');
  const pageSize = q.has('pageSize') ? Number(q.get('pageSize')) : 10;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 20) return listingsBadRequest('pageSize must be 1 - 20.');
  const included = list(q, 'includedData') ?? ['summaries'];
  const all = [...sim.state.listings.values()].filter((l) => !identifiers || identifiers.includes(l.sku)).sort((a, b) => a.sku.localeCompare(b.sku));
  const start = q.get('pageToken') ? Number(Buffer.from(q.get('pageToken')!, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0) return listingsBadRequest('pageToken is invalid.');
  // "The maximum number of items (SKUs) that can be returned and paged through is 1000."
  const reachable = all.slice(0, 1000);
  const page = reachable.slice(start, start + pageSize);
  const next = start + pageSize < reachable.length ? Buffer.from(String(start + pageSize)).toString('base64url') : null;
  return new HttpAnswer(200, { numberOfResults: all.length, ...(next ? { pagination: { nextToken: next } } : {}), items: page.map((l) => listingItem(l, included)) });
}

/** patchListingsItem: definitions.ListingsItemPatchRequest and PatchOperation. */
function patchListing(sim: AmazonSimServer, req: Request): HttpAnswer {
  const denied = sellerRefusal(sim, req);
  if (denied) return denied;
  if (!list(req.query, 'marketplaceIds')?.length) return listingsBadRequest('marketplaceIds is required.');
  const body = req.body as { productType?: unknown; patches?: unknown } | null;
  if (!body || typeof body.productType !== 'string' || !body.productType) return listingsBadRequest('productType is required.');
  if (!Array.isArray(body.patches) || body.patches.length === 0) return listingsBadRequest('patches must hold at least one operation.');
  for (const p of body.patches as Array<{ op?: unknown; path?: unknown }>) {
    if (!['add', 'replace', 'merge', 'delete'].includes(String(p?.op))) return listingsBadRequest('op must be one of add, replace, merge, delete.');
    if (typeof p.path !== 'string' || !/^\/attributes\/[^/]+$/.test(p.path)) return listingsBadRequest('Only top-level attributes can be patched.');
  }
  const sku = req.params.sku!;
  const listing = sim.state.listings.get(sku);
  const submissionId = randomUUID().replace(/-/g, '');
  if (!listing) {
    return new HttpAnswer(200, { sku, status: 'INVALID', submissionId, issues: [{ code: 'SIM-NO-LISTING', message: `No listing with SKU ${sku} exists for this seller.`, severity: 'ERROR', attributeNames: [] }] });
  }
  let quantity: number | null = null;
  for (const p of body.patches as Array<{ op: string; path: string; value?: unknown }>) {
    if (p.path !== '/attributes/fulfillment_availability' || p.op === 'delete') continue;
    const own = Array.isArray(p.value) ? (p.value as Array<{ fulfillment_channel_code?: unknown; quantity?: unknown }>).find((v) => v?.fulfillment_channel_code === 'DEFAULT') : undefined;
    if (!own || !Number.isInteger(own.quantity) || (own.quantity as number) < 0) {
      return new HttpAnswer(200, { sku, status: 'INVALID', submissionId, issues: [{ code: 'SIM-INVALID', message: 'fulfillment_availability needs a DEFAULT entry with a whole, non-negative quantity.', severity: 'ERROR', attributeNames: ['fulfillment_availability'] }] });
    }
    quantity = own.quantity as number;
  }
  // "VALID: Only returned when the mode is VALIDATION_PREVIEW" -- and nothing is saved then.
  if (req.query.get('mode') === 'VALIDATION_PREVIEW') return new HttpAnswer(200, { sku, status: 'VALID', submissionId, issues: [] });
  if (quantity !== null) {
    listing.quantity = quantity;
    listing.updatedAt = sim.state.stamp();
  }
  return new HttpAnswer(200, { sku, status: 'ACCEPTED', submissionId, issues: [] });
}
