/**
 * The unified order model: what every connector maps its channel's orders
 * into, and the only order shape the rest of channelsync knows.
 *
 * Money is always a decimal string ("12.30"), never a float; it is stored as
 * Postgres `numeric`. Times are `Date`s in UTC.
 */

/** Payment state as the channel reports it, in one vocabulary for all channels. */
export const FINANCIAL_STATUSES = [
  'pending',
  'authorized',
  'partially_paid',
  'paid',
  'partially_refunded',
  'refunded',
  'voided',
  'expired',
  'failed',
  'unknown',
] as const;
export type FinancialStatus = (typeof FINANCIAL_STATUSES)[number];

/** How far the channel itself considers the order shipped. */
export const CHANNEL_FULFILLMENT_STATUSES = [
  'unfulfilled',
  'partially_fulfilled',
  'fulfilled',
  'on_hold',
  'scheduled',
  'restocked',
  'unknown',
] as const;
export type ChannelFulfillmentStatus = (typeof CHANNEL_FULFILLMENT_STATUSES)[number];

/** The order's lifecycle on the channel: open, cancelled (or deleted), or closed (archived/completed). */
export const CHANNEL_ORDER_STATES = ['open', 'cancelled', 'closed'] as const;
export type ChannelOrderState = (typeof CHANNEL_ORDER_STATES)[number];

export interface Address {
  name: string | null;
  company: string | null;
  address1: string | null;
  address2: string | null;
  city: string | null;
  province: string | null;
  provinceCode: string | null;
  zip: string | null;
  country: string | null;
  countryCode: string | null;
  phone: string | null;
}

export interface Customer {
  externalId: string | null;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
}

export interface OrderTotals {
  /** Sum of line prices before order-level discounts, shipping and tax. */
  subtotal: string;
  shipping: string;
  tax: string;
  discount: string;
  total: string;
}

export interface UnifiedOrderLine {
  /** The channel's id of the line item, stable across edits. */
  externalId: string;
  /** Null when the channel has none; the line is then flagged, never dropped. */
  sku: string | null;
  title: string;
  /** Current quantity after edits and removals (a removed line has 0). */
  quantity: number;
  unitPrice: string;
  /** Total tax of the line (all units). */
  tax: string;
  /** Total discount allocated to the line (all units). */
  discount: string;
  productExternalId: string | null;
  variantExternalId: string | null;
  inventoryItemExternalId: string | null;
  /** Units the channel already reports fulfilled. */
  quantityFulfilledOnChannel: number;
}

/**
 * A refund as the channel recorded it. Line quantities are the units the
 * refund took off the order; `restock` says the channel put them back in its
 * own stock (Shopify `restockType` RETURN/CANCEL, WooCommerce's "restock
 * refunded items"), which channelsync books for units that had shipped.
 */
export interface UnifiedRefund {
  /** The channel's id of the refund: recorded once per order. */
  externalId: string;
  createdAt: Date;
  /** Money given back, all of it (lines, shipping, anything else). */
  amount: string;
  /** The part of `amount` that is shipping, when the channel says. */
  shipping: string;
  /** The channel's note or reason; a refund channelsync made carries its marker here (`refundMarker`). */
  note: string | null;
  lines: Array<{ lineExternalId: string; quantity: number; amount: string; restock: boolean }>;
}

/** The text channelsync puts in the note of a refund it makes, to find it on the channel again. */
export function refundMarker(refundId: number): string {
  return `channelsync-refund:${refundId}`;
}

/** The channelsync refund id a channel note names, if any. */
export function markedRefundId(note: string | null | undefined): number | null {
  const m = /channelsync-refund:(\d+)/.exec(note ?? '');
  return m ? Number(m[1]) : null;
}

export interface UnifiedOrder {
  /** The channel's id for the order (Shopify GID, WooCommerce numeric id as text). */
  externalId: string;
  /** The number a customer sees ("#1001"). */
  orderNumber: string;
  channelState: ChannelOrderState;
  financialStatus: FinancialStatus;
  fulfillmentStatus: ChannelFulfillmentStatus;
  /** The shop's currency: every money field is in it. */
  currency: string;
  /** The currency the customer paid in, when it differs. */
  presentmentCurrency: string | null;
  totals: OrderTotals;
  customer: Customer | null;
  billingAddress: Address | null;
  shippingAddress: Address | null;
  placedAt: Date;
  /** The channel's own last-modified time: an upsert never replaces a newer row with an older one. */
  updatedAt: Date;
  cancelledAt: Date | null;
  closedAt: Date | null;
  lines: UnifiedOrderLine[];
  /**
   * The order's refunds, when the connector read them (undefined: not read this
   * time, so nothing is concluded; an empty list: none).
   */
  refunds?: UnifiedRefund[];
  /**
   * The customer's request to cancel, when the connector reads one (Amazon's
   * `BuyerRequestedCancel`, eBay's cancellation requests): undefined, the
   * connector does not say (nothing stored changes); null, the channel shows
   * none now; else the request. It is a request for a person, never a
   * cancellation: only `channelState: 'cancelled'` cancels.
   */
  cancelRequest?: CancelRequest | null;
  /** The channel's payload as received, kept for audit and debugging. */
  raw: unknown;
}

/** A customer's cancel request as the channel shows it. */
export interface CancelRequest {
  /** When it was made, or the best bound the channel gives (the order version that first carried it). */
  requestedAt: Date;
  /** The customer's reason, as the channel gives it. */
  reason: string | null;
}
