/**
 * GraphQL views over the shop's records.
 *
 * graphql-js' default resolver reads a property or calls a method
 * `(args, ctx, info)`, so each view is a small object whose getters compute
 * derived fields lazily: a page of 50 orders only pays for what the query
 * selects. Field names are the Admin API's (2026-07).
 */
import type { Address, Customer, Fulfillment, FulfillmentHold, FulfillmentOrder, InventoryItem, LineItem, Location, Order, Product, Variant } from '../state.ts';
import { HOLD_LIMIT, mergeable, type ShopState } from '../state.ts';
import { ShopifyResolverError } from '../errors.ts';
import { gid, isoSeconds, money, parseGid } from '../ids.ts';
import { connection, moneyBag, type ConnectionArgs } from './context.ts';
import { netPaymentCents, refundView, transactionView } from './after-sales.ts';

const sales = (o: Order) => (o.transactions ?? []).reduce((n, x) => n + (x.kind === 'SALE' ? x.amountCents : 0), 0);

const iso = (ms: number | null) => (ms === null ? null : isoSeconds(ms));

/** https://shopify.dev/docs/api/admin-graphql/latest/objects/MailingAddress */
export function addressView(a: Address | null) {
  if (!a) return null;
  const name = [a.firstName, a.lastName].filter(Boolean).join(' ') || null;
  return {
    ...a,
    name,
    countryCodeV2: a.countryCode,
    formatted: [a.address1, a.address2, a.city, a.zip, a.country].filter(Boolean),
    formattedArea: [a.city, a.province, a.country].filter(Boolean).join(', ') || null,
  };
}

/** https://shopify.dev/docs/api/admin-graphql/latest/objects/Customer */
export function customerView(c: Customer) {
  return {
    __typename: 'Customer',
    id: gid('Customer', c.id),
    legacyResourceId: String(c.id),
    email: c.email,
    firstName: c.firstName,
    lastName: c.lastName,
    displayName: [c.firstName, c.lastName].filter(Boolean).join(' ') || c.email || '',
    phone: c.phone,
    defaultEmailAddress: c.email ? { emailAddress: c.email } : null,
  };
}

/** https://shopify.dev/docs/api/admin-graphql/latest/objects/Location */
export function locationView(state: ShopState, l: Location) {
  return {
    __typename: 'Location',
    id: gid('Location', l.id),
    legacyResourceId: String(l.id),
    name: l.name,
    isActive: true,
    // The simulator's locations are the merchant's own, never a fulfillment service's.
    isFulfillmentService: false,
    fulfillsOnlineOrders: true,
    hasActiveInventory: true,
    shipsInventory: true,
    activatable: true,
    deactivatable: l.id !== state.primaryLocationId,
    deletable: false,
    isPrimary: l.id === state.primaryLocationId,
    address: { address1: null, city: null, countryCode: 'US', country: 'United States', zip: null, province: null, provinceCode: null, phone: null, formatted: [] },
    inventoryLevel: ({ inventoryItemId }: { inventoryItemId: string }) => {
      const item = state.inventoryItems.get(parseGid(inventoryItemId, 'InventoryItem') ?? -1);
      return item && item.levels.has(l.id) ? inventoryLevelView(state, item, l.id) : null;
    },
  };
}

/** https://shopify.dev/docs/api/admin-graphql/latest/objects/InventoryLevel */
export function inventoryLevelView(state: ShopState, item: InventoryItem, locationId: number) {
  const level = item.levels.get(locationId)!;
  const loc = state.locations.get(locationId)!;
  return {
    __typename: 'InventoryLevel',
    id: `gid://shopify/InventoryLevel/${locationId}?inventory_item_id=${item.id}`,
    canDeactivate: true,
    // A level exists while it stocks the item (deactivated levels are removed).
    isActive: true,
    createdAt: iso(item.createdAt),
    updatedAt: iso(level.updatedAt ?? item.updatedAt),
    get location() { return locationView(state, loc); },
    get item() { return inventoryItemView(state, item); },
    quantities: ({ names }: { names: string[] }) =>
      names.map((name) => ({
        name,
        quantity: quantityOf(level, name),
        // Shopify stamps only quantities that were set directly.
        updatedAt: name === 'available' ? iso(level.updatedAt) : null,
      })),
  };
}

export function quantityOf(level: { available: number; committed: number }, name: string): number {
  switch (name) {
    case 'available': return level.available;
    case 'committed': return level.committed;
    case 'on_hand': return level.available + level.committed;
    default: return 0;
  }
}

/** https://shopify.dev/docs/api/admin-graphql/latest/objects/InventoryItem */
export function inventoryItemView(state: ShopState, item: InventoryItem) {
  return {
    __typename: 'InventoryItem',
    id: gid('InventoryItem', item.id),
    legacyResourceId: String(item.id),
    sku: item.sku,
    tracked: item.tracked,
    requiresShipping: item.requiresShipping,
    createdAt: iso(item.createdAt),
    updatedAt: iso(item.updatedAt),
    duplicateSkuCount: 0,
    measurement: { id: gid('InventoryItemMeasurement', item.id), weight: { unit: 'KILOGRAMS', value: 0 } },
    get variant() { return variantView(state, state.variants.get(item.variantId)!); },
    inventoryLevels: (args: ConnectionArgs) =>
      connection([...item.levels.keys()], args, (locId) => inventoryLevelView(state, item, locId), (locId) => ({ last_id: locId })),
    inventoryLevel: ({ locationId }: { locationId: string }) => {
      const locId = parseGid(locationId, 'Location');
      return locId !== null && item.levels.has(locId) ? inventoryLevelView(state, item, locId) : null;
    },
  };
}

/** https://shopify.dev/docs/api/admin-graphql/latest/objects/ProductVariant */
export function variantView(state: ShopState, v: Variant) {
  const item = state.inventoryItems.get(v.inventoryItemId)!;
  return {
    __typename: 'ProductVariant',
    id: gid('ProductVariant', v.id),
    legacyResourceId: String(v.id),
    title: v.title,
    sku: v.sku,
    price: money(v.priceCents),
    compareAtPrice: null,
    barcode: v.barcode ?? null,
    inventoryPolicy: v.inventoryPolicy ?? 'DENY',
    taxable: true,
    position: 1,
    availableForSale: true,
    createdAt: iso(v.createdAt),
    updatedAt: iso(v.updatedAt),
    get displayName() { return `${state.products.get(v.productId)?.title ?? ''} - ${v.title}`; },
    get inventoryQuantity() { return [...item.levels.values()].reduce((s, l) => s + l.available, 0); },
    selectedOptions: [{ name: 'Title', value: v.title }],
    get inventoryItem() { return inventoryItemView(state, item); },
    get product() { return productView(state, state.products.get(v.productId)!); },
  };
}

/** https://shopify.dev/docs/api/admin-graphql/latest/objects/Product */
export function productView(state: ShopState, p: Product) {
  const variants = () => p.variantIds.map((id) => state.variants.get(id)!);
  return {
    __typename: 'Product',
    id: gid('Product', p.id),
    legacyResourceId: String(p.id),
    title: p.title,
    handle: p.handle,
    status: p.status,
    vendor: p.vendor,
    productType: p.productType,
    tags: p.tags ?? [],
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
    get tracksInventory() { return variants().some((v) => state.inventoryItems.get(v.inventoryItemId)?.tracked); },
    get totalInventory() {
      return variants().reduce((s, v) => s + [...state.inventoryItems.get(v.inventoryItemId)!.levels.values()].reduce((a, l) => a + l.available, 0), 0);
    },
    get hasOnlyDefaultVariant() { return p.variantIds.length === 1; },
    variants: (args: ConnectionArgs) => connection(variants(), args, (v) => variantView(state, v)),
    get variantsCount() { return { count: p.variantIds.length, precision: 'EXACT' }; },
  };
}

/** https://shopify.dev/docs/api/admin-graphql/latest/objects/LineItem */
export function lineItemView(state: ShopState, o: Order, l: LineItem) {
  const bag = (cents: number) => moneyBag(cents, o.currency);
  const fulfilled = () => state.fulfilledQuantity(o, l.id);
  const unitDiscount = l.quantity ? Math.round(l.discountCents / l.quantity) : 0;
  return {
    __typename: 'LineItem',
    id: gid('LineItem', l.id),
    sku: l.sku,
    title: l.title,
    variantTitle: l.variantTitle,
    name: l.variantTitle && l.variantTitle !== 'Default Title' ? `${l.title} - ${l.variantTitle}` : l.title,
    vendor: l.vendor,
    quantity: l.quantity,
    currentQuantity: l.currentQuantity,
    get unfulfilledQuantity() { return Math.max(0, l.currentQuantity - fulfilled()); },
    // Units on a held fulfillment order cannot be fulfilled until the hold is released.
    get fulfillableQuantity() { return Math.max(0, l.currentQuantity - fulfilled() - state.heldQuantity(o, l.id)); },
    nonFulfillableQuantity: 0,
    refundableQuantity: l.currentQuantity,
    taxable: l.taxable,
    requiresShipping: l.requiresShipping,
    isGiftCard: false,
    merchantEditable: true,
    restockable: true,
    customAttributes: l.attributes,
    discountAllocations: l.discountCents ? [{ allocatedAmountSet: bag(l.discountCents) }] : [],
    duties: [],
    originalUnitPriceSet: bag(l.unitCents),
    discountedUnitPriceSet: bag(l.unitCents - unitDiscount),
    discountedUnitPriceAfterAllDiscountsSet: bag(l.unitCents - unitDiscount),
    originalTotalSet: bag(l.unitCents * l.quantity),
    discountedTotalSet: bag(l.unitCents * l.quantity - l.discountCents),
    totalDiscountSet: bag(l.discountCents),
    get unfulfilledOriginalTotalSet() { return bag(l.unitCents * Math.max(0, l.currentQuantity - fulfilled())); },
    get unfulfilledDiscountedTotalSet() { return bag((l.unitCents - unitDiscount) * Math.max(0, l.currentQuantity - fulfilled())); },
    taxLines: () => (l.taxCents ? [{ title: 'Tax', rate: 0.1, ratePercentage: 10, priceSet: bag(l.taxCents), channelLiable: false }] : []),
    get variant() {
      const v = l.variantId === null ? undefined : state.variants.get(l.variantId);
      return v ? variantView(state, v) : null;
    },
    get product() {
      const p = l.productId === null ? undefined : state.products.get(l.productId);
      return p ? productView(state, p) : l.productId !== null ? { __typename: 'Product', id: gid('Product', l.productId) } : null;
    },
  };
}

function orderTotals(o: Order) {
  let subtotal = 0;
  let current = 0;
  let discounts = 0;
  let tax = 0;
  let currentTax = 0;
  let qty = 0;
  let currentQty = 0;
  for (const l of o.lines) {
    subtotal += l.unitCents * l.quantity - l.discountCents;
    const share = l.quantity ? l.currentQuantity / l.quantity : 0;
    current += Math.round((l.unitCents * l.quantity - l.discountCents) * share);
    discounts += l.discountCents;
    tax += l.taxCents;
    currentTax += Math.round(l.taxCents * share);
    qty += l.quantity;
    currentQty += l.currentQuantity;
  }
  const shipping = o.cancelledAt ? 0 : o.shippingCents;
  return { subtotal, current, discounts, tax, currentTax, qty, currentQty, shipping, total: subtotal + tax + o.shippingCents, currentTotal: current + currentTax + shipping };
}

/** https://shopify.dev/docs/api/admin-graphql/latest/objects/Order */
export function orderView(state: ShopState, o: Order) {
  const bag = (cents: number) => moneyBag(cents, o.currency);
  let totals: ReturnType<typeof orderTotals> | undefined;
  const t = () => (totals ??= orderTotals(o));
  const paid = () => o.financialStatus === 'PAID' || o.financialStatus === 'PARTIALLY_REFUNDED';
  return {
    __typename: 'Order',
    id: gid('Order', o.id),
    legacyResourceId: String(o.id),
    name: o.name,
    number: o.number,
    email: o.email,
    phone: o.phone,
    note: o.note,
    tags: o.tags,
    test: o.test,
    createdAt: iso(o.createdAt),
    updatedAt: iso(o.updatedAt),
    processedAt: iso(o.processedAt),
    cancelledAt: iso(o.cancelledAt),
    cancelReason: o.cancelReason,
    cancellation: o.cancelledAt === null ? null : { staffNote: o.cancelStaffNote ?? null },
    closedAt: iso(o.closedAt),
    closed: o.closedAt !== null,
    customAttributes: o.customAttributes ?? [],
    confirmed: true,
    edited: false,
    currencyCode: o.currency,
    presentmentCurrencyCode: o.presentmentCurrency,
    taxesIncluded: false,
    taxExempt: false,
    estimatedTaxes: false,
    dutiesIncluded: false,
    customerAcceptsMarketing: false,
    sourceName: 'channelsync-simulator',
    displayFinancialStatus: o.financialStatus,
    get displayFulfillmentStatus() { return state.fulfillmentStatus(o); },
    get fullyPaid() { return paid(); },
    get unpaid() { return o.financialStatus === 'PENDING'; },
    get fulfillable() { return !o.cancelledAt && state.fulfillmentStatus(o) !== 'FULFILLED'; },
    get requiresShipping() { return o.lines.some((l) => l.requiresShipping); },
    get subtotalLineItemsQuantity() { return t().qty; },
    get currentSubtotalLineItemsQuantity() { return t().currentQty; },
    get subtotalPriceSet() { return bag(t().subtotal); },
    get currentSubtotalPriceSet() { return bag(t().current); },
    get totalDiscountsSet() { return bag(t().discounts); },
    get currentTotalDiscountsSet() { return bag(t().discounts); },
    get totalShippingPriceSet() { return bag(o.shippingCents); },
    get currentShippingPriceSet() { return bag(t().shipping); },
    get totalTaxSet() { return bag(t().tax); },
    get currentTotalTaxSet() { return bag(t().currentTax); },
    get totalPriceSet() { return bag(t().total); },
    get originalTotalPriceSet() { return bag(t().total); },
    get currentTotalPriceSet() { return bag(t().currentTotal); },
    get totalReceivedSet() { return bag(o.transactions ? sales(o) : paid() ? t().total : 0); },
    get netPaymentSet() { return bag(o.transactions ? netPaymentCents(o) : paid() ? t().total : 0); },
    get totalOutstandingSet() { return bag(paid() ? 0 : t().currentTotal); },
    get totalRefundedSet() { return bag(o.transactions ? sales(o) - netPaymentCents(o) : 0); },
    get totalCapturableSet() { return bag(0); },
    get totalTipReceivedSet() { return bag(0); },
    get taxLines() { return t().tax ? [{ title: 'Tax', rate: 0.1, ratePercentage: 10, priceSet: bag(t().tax), channelLiable: false }] : []; },
    get shippingLine() {
      return o.shippingTitle === null ? null : { title: o.shippingTitle, code: o.shippingTitle, originalPriceSet: bag(o.shippingCents), discountedPriceSet: bag(o.shippingCents) };
    },
    // The one shipping line the simulator keeps per order, as a connection.
    shippingLines: (args: ConnectionArgs) =>
      connection(o.shippingTitle === null ? [] : [o], args, () => ({
        id: gid('ShippingLine', o.id), title: o.shippingTitle, code: o.shippingTitle, originalPriceSet: bag(o.shippingCents), discountedPriceSet: bag(o.shippingCents),
      })),
    shippingAddress: addressView(o.shippingAddress),
    billingAddress: addressView(o.billingAddress),
    get customer() {
      const c = o.customerId === null ? undefined : state.customers.get(o.customerId);
      return c ? customerView(c) : null;
    },
    lineItems: (args: ConnectionArgs) => connection(o.lines, args, (l) => lineItemView(state, o, l)),
    fulfillmentOrders: (args: ConnectionArgs & { displayable?: boolean | null }) => {
      let fos = o.fulfillmentOrderIds.map((id) => state.fulfillmentOrders.get(id)!);
      // `displayable` hides cancelled/incomplete fulfillment orders, like the Shopify admin.
      if (args.displayable) fos = fos.filter((fo) => fo.status !== 'CANCELLED' && fo.status !== 'INCOMPLETE');
      return connection(fos, args, (fo) => fulfillmentOrderView(state, fo));
    },
    fulfillments: ({ first }: { first?: number | null }) =>
      o.fulfillmentIds.slice(0, first ?? undefined).map((id) => fulfillmentView(state, state.fulfillments.get(id)!)),
    get fulfillmentsCount() { return { count: o.fulfillmentIds.length, precision: 'EXACT' }; },
    transactions: ({ first }: { first?: number | null }) => (o.transactions ?? []).slice(0, first ?? undefined).map((x) => transactionView(o, x)),
    refunds: ({ first }: { first?: number | null }) => (o.refunds ?? []).slice(0, first ?? undefined).map((r) => refundView(state, o, r)),
    // The gateways the order was paid through, once each (["manual"]; [] for an order never paid).
    get paymentGatewayNames() { return [...new Set((o.transactions ?? []).filter((x) => x.kind === 'SALE').map((x) => x.gateway))]; },
    // No Returns in the simulator (channelsync's after-sales is refunds): every order has none.
    returns: (args: ConnectionArgs) => connection([], args, () => ({})),
  };
}

/** https://shopify.dev/docs/api/admin-graphql/latest/objects/FulfillmentOrder */
export function fulfillmentOrderView(state: ShopState, fo: FulfillmentOrder) {
  const order = state.orders.get(fo.orderId)!;
  const loc = state.locations.get(fo.locationId)!;
  return {
    __typename: 'FulfillmentOrder',
    id: gid('FulfillmentOrder', fo.id),
    status: fo.status,
    requestStatus: fo.requestStatus,
    createdAt: iso(fo.createdAt),
    updatedAt: iso(fo.updatedAt),
    orderId: gid('Order', order.id),
    orderName: order.name,
    orderProcessedAt: iso(order.processedAt),
    // Shopify schedules a new fulfillment order for the hour it was created in (every capture: 12:21:55 → 12:00:00).
    fulfillAt: iso(fo.fulfillAt ?? Math.floor(fo.createdAt / 3_600_000) * 3_600_000),
    fulfillBy: iso(fo.fulfillBy ?? null),
    fulfillmentHolds: (fo.holds ?? []).map(fulfillmentHoldView),
    get order() { return orderView(state, order); },
    assignedLocation: {
      name: loc.name,
      address1: null, address2: null, city: null, province: null, zip: null, phone: null,
      countryCode: 'US',
      get location() { return locationView(state, loc); },
    },
    destination: order.shippingAddress ? { ...addressView(order.shippingAddress), id: gid('FulfillmentOrderDestination', fo.id), email: order.email } : null,
    deliveryMethod: { id: gid('DeliveryMethod', fo.id), methodType: 'SHIPPING' },
    get supportedActions() { return supportedActions(fo, state).map((action) => ({ action, externalUrl: null })); },
    // Requests to a fulfillment service: the simulator has none, so a fulfillment order never has any.
    merchantRequests: (args: ConnectionArgs) => connection([], args, () => ({})),
    lineItems: (args: ConnectionArgs) =>
      connection(fo.lines, args, (fl) => {
        const li = order.lines.find((x) => x.id === fl.lineItemId)!;
        const variant = li.variantId === null ? undefined : state.variants.get(li.variantId);
        return {
          __typename: 'FulfillmentOrderLineItem',
          id: gid('FulfillmentOrderLineItem', fl.id),
          totalQuantity: fl.total,
          remainingQuantity: fl.remaining,
          sku: li.sku,
          productTitle: li.title,
          variantTitle: li.variantTitle,
          vendor: li.vendor,
          requiresShipping: li.requiresShipping,
          inventoryItemId: variant ? gid('InventoryItem', variant.inventoryItemId) : null,
          warnings: [],
          get variant() { return variant ? variantView(state, variant) : null; },
          get lineItem() { return lineItemView(state, order, li); },
        };
      }),
    fulfillments: (args: ConnectionArgs) =>
      connection(
        order.fulfillmentIds.map((id) => state.fulfillments.get(id)!).filter((f) => f.fulfillmentOrderIds.includes(fo.id)),
        args,
        (f) => fulfillmentView(state, f),
      ),
  };
}

/**
 * What can be done to a fulfillment order now, in Shopify's order (captures:
 * fulfillment-order-lifecycle, -hold-validation, -release-hold-selective):
 * SPLIT needs two units or more, MERGE another open one of the same order
 * at the same location, HOLD stops at the hold limit, a reported
 * progress trades MOVE for MARK_AS_OPEN, closed ones allow nothing.
 */
export function supportedActions(fo: FulfillmentOrder, state: ShopState): string[] {
  const units = fo.lines.reduce((n, l) => n + l.remaining, 0);
  const canHold = (fo.holds?.length ?? 0) < HOLD_LIMIT;
  switch (fo.status) {
    case 'OPEN':
    case 'IN_PROGRESS':
      if (fo.progressReported) return ['CREATE_FULFILLMENT', 'REPORT_PROGRESS', 'HOLD', 'MARK_AS_OPEN'];
      return ['CREATE_FULFILLMENT', 'REPORT_PROGRESS', 'MOVE', 'HOLD', ...(units > 1 ? ['SPLIT'] : []), ...(mergeable(fo, siblings(state, fo)) ? ['MERGE'] : [])];
    case 'ON_HOLD':
      return ['RELEASE_HOLD', ...(canHold ? ['HOLD'] : []), 'MOVE'];
    default:
      return [];
  }
}

const siblings = (state: ShopState, fo: FulfillmentOrder) => (state.orders.get(fo.orderId)?.fulfillmentOrderIds ?? []).map((id) => state.fulfillmentOrders.get(id)!).filter(Boolean);

/** https://shopify.dev/docs/api/admin-graphql/2026-07/objects/FulfillmentHold */
export function fulfillmentHoldView(h: FulfillmentHold) {
  return {
    __typename: 'FulfillmentHold',
    id: gid('FulfillmentHold', h.id),
    handle: h.handle,
    reason: h.reason,
    reasonNotes: h.reasonNotes,
    displayReason: HOLD_REASON_TEXT[h.reason] ?? h.reason,
    // Every hold the simulator knows was placed by the app asking (it has one app).
    heldByRequestingApp: true,
    // Shopify's answer to an app without read_apps, which channelsync's token and the capture app lack.
    get heldByApp(): never {
      throw new ShopifyResolverError('Access denied for heldByApp field. Required access: `read_apps` access scope.', 'ACCESS_DENIED', undefined, {
        documentation: 'https://shopify.dev/api/usage/access-scopes', requiredAccess: '`read_apps` access scope.',
      });
    },
  };
}

/**
 * `FulfillmentHold.displayReason`: the two recorded (OTHER, AWAITING_RETURN_ITEMS); the others from
 * the FulfillmentHoldReason enum's descriptions in the 2026-07 schema.
 */
const HOLD_REASON_TEXT: Record<string, string> = {
  OTHER: 'Other',
  AWAITING_RETURN_ITEMS: 'Exchange items awaiting return delivery',
};

/** https://shopify.dev/docs/api/admin-graphql/2026-07/objects/FulfillmentEvent */
export function fulfillmentEventView(e: NonNullable<Fulfillment['events']>[number]) {
  return {
    __typename: 'FulfillmentEvent', id: gid('FulfillmentEvent', e.id), status: e.status, message: e.message,
    happenedAt: iso(e.happenedAt), createdAt: iso(e.createdAt), estimatedDeliveryAt: iso(e.estimatedDeliveryAt ?? null),
    city: e.city ?? null, province: e.province ?? null, country: e.country ?? null, zip: e.zip ?? null, address1: e.address1 ?? null,
    latitude: e.latitude ?? null, longitude: e.longitude ?? null,
  };
}

/** https://shopify.dev/docs/api/admin-graphql/latest/objects/Fulfillment */
export function fulfillmentView(state: ShopState, f: Fulfillment) {
  const order = state.orders.get(f.orderId)!;
  return {
    __typename: 'Fulfillment',
    id: gid('Fulfillment', f.id),
    legacyResourceId: String(f.id),
    name: f.name,
    status: f.status,
    // A live fulfillment shows its latest carrier event (IN_TRANSIT, DELIVERED, …), a cancelled one CANCELED.
    displayStatus: f.status === 'SUCCESS' ? (f.events?.at(-1)?.status ?? 'FULFILLED') : 'CANCELED',
    createdAt: iso(f.createdAt),
    updatedAt: iso(f.updatedAt),
    // From the carrier events (fulfillmentEventCreate): when it was first in transit, delivered, and the latest estimate.
    deliveredAt: iso(f.events?.find((e) => e.status === 'DELIVERED')?.happenedAt ?? null),
    inTransitAt: iso(f.events?.find((e) => e.status === 'IN_TRANSIT')?.happenedAt ?? null),
    estimatedDeliveryAt: iso(f.events?.findLast((e) => e.estimatedDeliveryAt != null)?.estimatedDeliveryAt ?? null),
    requiresShipping: true,
    totalQuantity: f.lines.reduce((s, l) => s + l.quantity, 0),
    // The merchant fulfils it (no fulfillment services are simulated): Shopify's manual service, as recorded.
    get service() {
      return { id: 'gid://shopify/FulfillmentService/manual', handle: 'manual', serviceName: 'Manual', trackingSupport: false, type: 'MANUAL', get location() { return locationView(state, state.locations.get(f.locationId)!); } };
    },
    originAddress: null,
    events: (args: ConnectionArgs) => connection(f.events ?? [], args, fulfillmentEventView),
    trackingInfo: ({ first }: { first?: number | null }) => f.tracking.slice(0, first ?? undefined),
    get location() { return locationView(state, state.locations.get(f.locationId)!); },
    get order() { return orderView(state, order); },
    fulfillmentLineItems: (args: ConnectionArgs) =>
      connection(f.lines, args, (fl) => {
        const li = order.lines.find((x) => x.id === fl.lineItemId)!;
        return {
          id: gid('FulfillmentLineItem', fl.id),
          quantity: fl.quantity,
          originalTotalSet: moneyBag(li.unitCents * fl.quantity, order.currency),
          discountedTotalSet: moneyBag(li.unitCents * fl.quantity, order.currency),
          get lineItem() { return lineItemView(state, order, li); },
        };
      }),
    fulfillmentOrders: (args: ConnectionArgs) =>
      connection(f.fulfillmentOrderIds.map((id) => state.fulfillmentOrders.get(id)!), args, (fo) => fulfillmentOrderView(state, fo)),
  };
}
