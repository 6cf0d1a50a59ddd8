/**
 * The seller's data in the eBay simulator and the rules eBay's specs set on it
 * (../shared/fixtures/ebay/README.md "What a faithful simulator must enforce").
 * Shapes are the specs' (`Order`, `LineItem`, `ShippingFulfillment`,
 * `InventoryItemWithSkuLocaleGroupid`, `EbayOfferDetailsWithAll`); errors are
 * `EbaySimError`s with the spec's error ids and messages.
 */
export interface Amount {
  value: string;
  currency: string;
}

export interface SimLineItem {
  lineItemId: string;
  legacyItemId: string;
  legacyVariationId?: string;
  sku: string;
  title: string;
  quantity: number;
  lineItemCost: Amount;
  total: Amount;
  lineItemFulfillmentStatus: 'NOT_STARTED' | 'IN_PROGRESS' | 'FULFILLED';
  listingMarketplaceId: string;
  soldFormat: 'FIXED_PRICE';
  /** Line-level refunds (issueRefund with refundItems): LineItemRefund. */
  refunds?: Array<{ refundId: string; amount: Amount; refundDate?: string }>;
}

export interface SimCancelRequest {
  cancelRequestId: string;
  cancelInitiator: 'BUYER' | 'SELLER';
  cancelReason: string;
  cancelRequestState: 'REQUESTED' | 'COMPLETED' | 'REJECTED';
  cancelRequestedDate: string;
  cancelCompletedDate?: string;
}

export interface SimOrder {
  orderId: string;
  creationDate: string;
  lastModifiedDate: string;
  orderFulfillmentStatus: 'NOT_STARTED' | 'IN_PROGRESS' | 'FULFILLED';
  orderPaymentStatus: 'PENDING' | 'PAID' | 'PARTIALLY_REFUNDED' | 'FULLY_REFUNDED';
  sellerId: string;
  buyer: { username: string; buyerRegistrationAddress?: { email?: string; fullName?: string } };
  buyerCheckoutNotes?: string;
  pricingSummary: { priceSubtotal: Amount; deliveryCost: Amount; tax?: Amount; total: Amount };
  /** PaymentSummary: the buyer's payment and the order-level refunds (OrderRefund), always returned. */
  paymentSummary: {
    payments: Array<{ paymentMethod: 'EBAY'; paymentStatus: 'PAID' | 'PENDING'; amount: Amount; paymentDate?: string }>;
    refunds: Array<{ refundId: string; refundStatus: 'PENDING' | 'REFUNDED' | 'FAILED'; amount: Amount; refundDate?: string; refundReferenceId?: string }>;
    totalDueSeller: Amount;
  };
  cancelStatus: { cancelState: 'NONE_REQUESTED' | 'IN_PROGRESS' | 'CANCELED'; cancelRequests: SimCancelRequest[]; cancelledDate?: string };
  lineItems: SimLineItem[];
  fulfillmentHrefs: string[];
  salesRecordReference: string;
}

export interface SimFulfillment {
  fulfillmentId: string;
  lineItems: Array<{ lineItemId: string; quantity: number }>;
  shipmentTrackingNumber?: string;
  shippingCarrierCode?: string;
  shippedDate: string;
}

export interface SimInventoryItem {
  sku: string;
  locale: string;
  product: { title: string };
  condition: 'NEW';
  availability: { shipToLocationAvailability: { quantity: number } };
}

export interface SimOffer {
  offerId: string;
  sku: string;
  marketplaceId: string;
  format: 'FIXED_PRICE';
  availableQuantity: number;
  pricingSummary: { price: Amount };
  status: 'PUBLISHED' | 'UNPUBLISHED';
  listing: { listingId: string; listingStatus: 'ACTIVE' };
  categoryId: string;
}

/** An eBay error as the REST APIs answer it: `{errors:[{errorId, domain, category, message}]}`. */
export class EbaySimError extends Error {
  constructor(
    readonly status: number,
    readonly errorId: number,
    message: string,
    readonly domain = 'API_FULFILLMENT',
    readonly category: 'REQUEST' | 'APPLICATION' | 'BUSINESS' = 'REQUEST',
    readonly longMessage?: string,
    readonly parameters?: Array<{ name: string; value: string }>,
  ) {
    super(message);
  }

  body(): { errors: unknown[] } {
    return {
      errors: [
        {
          errorId: this.errorId,
          domain: this.domain,
          category: this.category,
          message: this.message,
          ...(this.longMessage ? { longMessage: this.longMessage } : {}),
          ...(this.parameters ? { parameters: this.parameters } : {}),
        },
      ],
    };
  }
}

/** Each live listing can be revised this often per calendar day (Inventory API descriptions). */
export const DAILY_REVISIONS = 250;

export interface SellerSnapshot {
  seq: number;
  orders: SimOrder[];
  fulfillments: Array<[string, SimFulfillment[]]>;
  items: SimInventoryItem[];
  offers: SimOffer[];
  revisions: Array<[string, number]>;
}

export class SellerState {
  readonly orders = new Map<string, SimOrder>();
  readonly fulfillments = new Map<string, SimFulfillment[]>();
  readonly items = new Map<string, SimInventoryItem>();
  readonly offers = new Map<string, SimOffer>();
  /** `<listingId>|<UTC day>` -> revisions that day. */
  readonly revisions = new Map<string, number>();
  private seq = 1000;
  /** Time source, so tests can move the clock (token expiry, the calendar day). */
  now: () => Date = () => new Date();
  onOrderChange: ((order: SimOrder, created: boolean) => void) | null = null;

  constructor(
    readonly sellerId: string,
    readonly marketplaceId = 'EBAY_US',
    readonly currency = 'USD',
  ) {}

  next(): number {
    return ++this.seq;
  }

  /** Moves `lastModifiedDate` strictly forward (eBay's times have millisecond precision). */
  touch(order: SimOrder): void {
    const now = this.now().getTime();
    const last = Date.parse(order.lastModifiedDate);
    order.lastModifiedDate = new Date(Math.max(now, last + 1)).toISOString();
    this.onOrderChange?.(order, false);
  }

  createItem(sku: string, title: string, price: string, quantity: number): SimOffer {
    this.items.set(sku, { sku, locale: 'en_US', product: { title }, condition: 'NEW', availability: { shipToLocationAvailability: { quantity } } });
    const n = this.next();
    const offer: SimOffer = {
      offerId: String(5000000000 + n),
      sku,
      marketplaceId: this.marketplaceId,
      format: 'FIXED_PRICE',
      availableQuantity: quantity,
      pricingSummary: { price: { value: price, currency: this.currency } },
      status: 'PUBLISHED',
      listing: { listingId: String(110000000000 + n), listingStatus: 'ACTIVE' },
      categoryId: '9355',
    };
    this.offers.set(offer.offerId, offer);
    return offer;
  }

  offersOf(sku: string): SimOffer[] {
    return [...this.offers.values()].filter((o) => o.sku === sku);
  }

  createOrder(lines: Array<{ sku: string; quantity: number }>, buyer = 'buyer_sim', paid = true, email?: string): SimOrder {
    const n = this.next();
    const now = this.now().toISOString();
    const orderId = `${String(n % 100).padStart(2, '0')}-${String(10000 + (n % 90000)).padStart(5, '0')}-${String(n).padStart(5, '0')}`;
    let subtotal = 0n;
    const lineItems = lines.map((l, i): SimLineItem => {
      const offer = this.offersOf(l.sku)[0];
      const item = this.items.get(l.sku);
      if (!offer || !item) throw new EbaySimError(400, 32600, `no listing with SKU ${l.sku}`);
      const cents = toCents(offer.pricingSummary.price.value) * BigInt(l.quantity);
      subtotal += cents;
      const cost = { value: fromCents(cents), currency: this.currency };
      // Stock leaves the listing at checkout, as on eBay.
      offer.availableQuantity = Math.max(0, offer.availableQuantity - l.quantity);
      item.availability.shipToLocationAvailability.quantity = Math.max(0, item.availability.shipToLocationAvailability.quantity - l.quantity);
      return {
        lineItemId: String(10000000000 + n * 10 + i),
        legacyItemId: offer.listing.listingId,
        sku: l.sku,
        title: item.product.title,
        quantity: l.quantity,
        lineItemCost: cost,
        total: cost,
        lineItemFulfillmentStatus: 'NOT_STARTED',
        listingMarketplaceId: this.marketplaceId,
        soldFormat: 'FIXED_PRICE',
      };
    });
    const zero = { value: '0.00', currency: this.currency };
    const order: SimOrder = {
      orderId,
      creationDate: now,
      lastModifiedDate: now,
      orderFulfillmentStatus: 'NOT_STARTED',
      orderPaymentStatus: paid ? 'PAID' : 'PENDING',
      sellerId: this.sellerId,
      buyer: { username: buyer, ...(email ? { buyerRegistrationAddress: { email } } : {}) },
      pricingSummary: { priceSubtotal: { value: fromCents(subtotal), currency: this.currency }, deliveryCost: zero, total: { value: fromCents(subtotal), currency: this.currency } },
      paymentSummary: {
        payments: [{ paymentMethod: 'EBAY', paymentStatus: paid ? 'PAID' : 'PENDING', amount: { value: fromCents(subtotal), currency: this.currency }, ...(paid ? { paymentDate: now } : {}) }],
        refunds: [],
        totalDueSeller: { value: fromCents(subtotal), currency: this.currency },
      },
      cancelStatus: { cancelState: 'NONE_REQUESTED', cancelRequests: [] },
      lineItems,
      fulfillmentHrefs: [],
      salesRecordReference: String(n),
    };
    this.orders.set(orderId, order);
    this.onOrderChange?.(order, true);
    return order;
  }

  /** A buyer's cancellation request, then (`complete`) the order cancelled. */
  cancel(order: SimOrder, complete = true): void {
    const now = this.now().toISOString();
    order.cancelStatus.cancelRequests.push({
      cancelRequestId: String(this.next()),
      cancelInitiator: 'BUYER',
      cancelReason: 'BUYER_CANCEL',
      cancelRequestState: complete ? 'COMPLETED' : 'REQUESTED',
      cancelRequestedDate: now,
      ...(complete ? { cancelCompletedDate: now } : {}),
    });
    order.cancelStatus.cancelState = complete ? 'CANCELED' : 'IN_PROGRESS';
    if (complete) order.cancelStatus.cancelledDate = now;
    this.touch(order);
  }

  /** Counts one revision of a listing today; false when the listing has used its 250. */
  revise(listingId: string): boolean {
    const key = `${listingId}|${this.now().toISOString().slice(0, 10)}`;
    const n = this.revisions.get(key) ?? 0;
    if (n >= DAILY_REVISIONS) return false;
    this.revisions.set(key, n + 1);
    return true;
  }

  snapshot(): SellerSnapshot {
    return {
      seq: this.seq,
      orders: [...this.orders.values()],
      fulfillments: [...this.fulfillments.entries()],
      items: [...this.items.values()],
      offers: [...this.offers.values()],
      revisions: [...this.revisions.entries()],
    };
  }

  /** Loads a snapshot; an unclean one moves the sequence past a margin (ids handed out after it are unknown). */
  restore(s: SellerSnapshot, clean: boolean): void {
    this.seq = s.seq + (clean ? 0 : 10_000);
    for (const o of s.orders) {
      // Files written before refunds were simulated have no paymentSummary.
      o.paymentSummary ??= { payments: [], refunds: [], totalDueSeller: o.pricingSummary.total };
      this.orders.set(o.orderId, o);
    }
    for (const [k, v] of s.fulfillments) this.fulfillments.set(k, v);
    for (const i of s.items) this.items.set(i.sku, i);
    for (const o of s.offers) this.offers.set(o.offerId, o);
    for (const [k, v] of s.revisions) this.revisions.set(k, v);
  }
}

export function toCents(value: string): bigint {
  const [whole, frac = ''] = value.split('.');
  return BigInt(whole!) * 100n + BigInt((frac + '00').slice(0, 2));
}

export function fromCents(cents: bigint): string {
  const sign = cents < 0n ? '-' : '';
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}
