/**
 * Orders API v0 payloads -> the unified order model. Pure: no I/O.
 *
 * Field names are the model's (`fixtures/amazon/models/ordersV0.json`,
 * definitions Order, OrderItem, Address, BuyerInfo):
 * https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference
 *
 * Decisions a newcomer needs:
 * - FBA (`FulfillmentChannel: AFN`) orders are imported so sales and money are
 *   complete, but Amazon ships them: every line is mapped as already
 *   fulfilled on the channel (`quantityFulfilledOnChannel = quantity`), so
 *   channelsync never allocates, picks or ships them, and `pushFulfillment`
 *   refuses them.
 * - `Pending` / `PendingAvailability` mean "payment not authorised": mapped to
 *   financial `pending`, which neither ships nor (see `holdsStock` in index.ts)
 *   reserves stock. `Unshipped` and later are `paid`.
 * - `ItemPrice` is the price of all units of the line ("ItemPrice is equal to
 *   the selling price of the item multiplied by the quantity ordered"): the
 *   unit price is that divided by the quantity, exact to 4 decimals (the
 *   precision of `numeric(20,4)`), rounded half up only beyond that.
 * - Buyer name and street lines are restricted data: without a Restricted
 *   Data Token they come back empty (`Name: ""`, no AddressLine*). They are
 *   mapped to null, never to "", and the order imports all the same.
 * - A buyer's cancel request (`BuyerRequestedCancel.IsBuyerRequestedCancel`)
 *   is a request, not a cancellation: `buyerCancelRequest` reports it for a
 *   person; only `OrderStatus: Canceled` cancels.
 */
import { z } from 'zod';
import type { Address, ChannelFulfillmentStatus, ChannelOrderState, FinancialStatus, UnifiedOrder, UnifiedOrderLine } from '../../src/domain/order.ts';
import { addMoney, fromUnits, money, subMoney, toUnits } from '../../src/domain/money.ts';
import { currencyCode, dateTimeText, decimalAmount, lineQuantity } from '../values.ts';

const moneySchema = z.looseObject({ CurrencyCode: currencyCode, Amount: decimalAmount.transform((v) => money(v)) });
const text = z.string().nullish();

export const addressSchema = z.looseObject({
  Name: text,
  CompanyName: text,
  AddressLine1: text,
  AddressLine2: text,
  AddressLine3: text,
  City: text,
  County: text,
  StateOrRegion: text,
  PostalCode: text,
  CountryCode: text,
  Phone: text,
});

export const orderSchema = z.looseObject({
  AmazonOrderId: z.string().min(1),
  SellerOrderId: text,
  PurchaseDate: dateTimeText,
  LastUpdateDate: dateTimeText,
  OrderStatus: z.enum(['Pending', 'Unshipped', 'PartiallyShipped', 'Shipped', 'Canceled', 'Unfulfillable', 'InvoiceUnconfirmed', 'PendingAvailability']),
  FulfillmentChannel: z.enum(['MFN', 'AFN']).nullish(),
  OrderTotal: moneySchema.nullish(),
  MarketplaceId: text,
  ShippingAddress: addressSchema.nullish(),
  BuyerInfo: z
    .looseObject({ BuyerEmail: text, BuyerName: text, BuyerCounty: text, PurchaseOrderNumber: text })
    .nullish(),
});
export type AmazonOrder = z.infer<typeof orderSchema>;

export const orderItemSchema = z.looseObject({
  ASIN: z.string(),
  SellerSKU: text,
  OrderItemId: z.string().min(1),
  Title: text,
  QuantityOrdered: lineQuantity,
  QuantityShipped: lineQuantity.nullish(),
  ItemPrice: moneySchema.nullish(),
  ShippingPrice: moneySchema.nullish(),
  ItemTax: moneySchema.nullish(),
  ShippingTax: moneySchema.nullish(),
  ShippingDiscount: moneySchema.nullish(),
  PromotionDiscount: moneySchema.nullish(),
  BuyerRequestedCancel: z.looseObject({ IsBuyerRequestedCancel: z.union([z.string(), z.boolean()]).nullish(), BuyerCancelReason: text }).nullish(),
});
export type AmazonOrderItem = z.infer<typeof orderItemSchema>;

export const ordersPageSchema = z.looseObject({
  payload: z.looseObject({
    Orders: z.array(z.unknown()),
    NextToken: text,
    LastUpdatedBefore: text,
    CreatedBefore: text,
  }),
});

export const orderItemsPageSchema = z.looseObject({
  payload: z.looseObject({ AmazonOrderId: z.string(), OrderItems: z.array(z.unknown()), NextToken: text }),
});

/** The fulfilment channel: Amazon ships AFN (FBA) orders itself. */
export function fulfilledByAmazon(order: Pick<AmazonOrder, 'FulfillmentChannel'>): boolean {
  return order.FulfillmentChannel === 'AFN';
}

function financial(status: AmazonOrder['OrderStatus']): FinancialStatus {
  switch (status) {
    case 'Pending':
    case 'PendingAvailability':
      return 'pending';
    case 'Canceled':
      return 'voided';
    case 'Unfulfillable':
      return 'unknown';
    default:
      return 'paid';
  }
}

function fulfillment(order: AmazonOrder): ChannelFulfillmentStatus {
  if (fulfilledByAmazon(order)) return 'fulfilled';
  switch (order.OrderStatus) {
    case 'PartiallyShipped':
      return 'partially_fulfilled';
    case 'Shipped':
    case 'InvoiceUnconfirmed':
      return 'fulfilled';
    case 'Unfulfillable':
      return 'on_hold';
    default:
      return 'unfulfilled';
  }
}

function state(order: AmazonOrder): ChannelOrderState {
  return order.OrderStatus === 'Canceled' ? 'cancelled' : 'open';
}

const blank = (v: string | null | undefined): string | null => (v && v.trim() ? v : null);

/** An address as Amazon shows it; without an RDT the name and street are empty and stay null. */
export function mapAddress(a: z.infer<typeof addressSchema> | null | undefined): Address | null {
  if (!a) return null;
  const street2 = [a.AddressLine2, a.AddressLine3].map(blank).filter(Boolean).join(', ');
  return {
    name: blank(a.Name),
    company: blank(a.CompanyName),
    address1: blank(a.AddressLine1),
    address2: street2 || null,
    city: blank(a.City),
    province: blank(a.StateOrRegion),
    provinceCode: blank(a.StateOrRegion),
    zip: blank(a.PostalCode),
    country: null,
    countryCode: blank(a.CountryCode),
    phone: blank(a.Phone),
  };
}

/** `ItemPrice / quantity`, exact to 4 decimals, half up beyond. */
export function unitPrice(total: string, quantity: number): string {
  if (quantity <= 0) return money(total);
  const units = toUnits(total);
  const q = BigInt(quantity);
  const rounded = (units * 2n + q) / (2n * q);
  return fromUnits(rounded);
}

const amount = (m: { Amount: string } | null | undefined): string => m?.Amount ?? '0.00';

/** The buyer's cancel request on any item, for a person to decide: `{ reason }`, or null. */
export function buyerCancelRequest(items: AmazonOrderItem[]): { reason: string | null } | null {
  const item = items.find((i) => {
    const flag = i.BuyerRequestedCancel?.IsBuyerRequestedCancel;
    return flag === true || flag === 'true';
  });
  return item ? { reason: blank(item.BuyerRequestedCancel?.BuyerCancelReason) } : null;
}

/** One order and its items, both already parsed by the schemas above. */
export function mapOrder(order: AmazonOrder, items: AmazonOrderItem[], raw: unknown): UnifiedOrder {
  const afn = fulfilledByAmazon(order);
  const currency = order.OrderTotal?.CurrencyCode ?? items.find((i) => i.ItemPrice)?.ItemPrice?.CurrencyCode ?? 'USD';
  const lines: UnifiedOrderLine[] = items.map((i) => {
    const quantity = i.QuantityOrdered;
    return {
      externalId: i.OrderItemId,
      sku: blank(i.SellerSKU),
      title: i.Title ?? i.ASIN,
      quantity,
      unitPrice: unitPrice(amount(i.ItemPrice), quantity),
      tax: addMoney(amount(i.ItemTax), amount(i.ShippingTax)),
      discount: amount(i.PromotionDiscount),
      productExternalId: i.ASIN,
      variantExternalId: null,
      inventoryItemExternalId: null,
      // FBA: Amazon ships every unit, so none is left for channelsync to fulfil.
      quantityFulfilledOnChannel: afn ? quantity : Math.min(quantity, i.QuantityShipped ?? 0),
    };
  });
  const subtotal = addMoney('0', ...items.map((i) => amount(i.ItemPrice)));
  const shipping = subMoney(addMoney('0', ...items.map((i) => amount(i.ShippingPrice))), addMoney('0', ...items.map((i) => amount(i.ShippingDiscount))));
  const tax = addMoney('0', ...lines.map((l) => l.tax));
  const discount = addMoney('0', ...lines.map((l) => l.discount));
  // Pending orders carry no OrderTotal yet: the sum of the items is what the buyer owes.
  const total = order.OrderTotal ? order.OrderTotal.Amount : subMoney(addMoney(subtotal, shipping, tax), discount);
  const updatedAt = new Date(order.LastUpdateDate);
  const cancelRequest = buyerCancelRequest(items);
  const buyer = order.BuyerInfo;
  const [firstName, ...rest] = (blank(buyer?.BuyerName) ?? '').split(' ');
  return {
    externalId: order.AmazonOrderId,
    orderNumber: order.AmazonOrderId,
    channelState: state(order),
    financialStatus: financial(order.OrderStatus),
    fulfillmentStatus: fulfillment(order),
    currency: currency.toUpperCase(),
    presentmentCurrency: null,
    totals: { subtotal, shipping, tax, discount, total },
    customer: buyer
      ? { externalId: null, email: blank(buyer.BuyerEmail), firstName: firstName || null, lastName: rest.join(' ') || null, phone: null }
      : null,
    billingAddress: null,
    shippingAddress: mapAddress(order.ShippingAddress),
    placedAt: new Date(order.PurchaseDate),
    updatedAt,
    // The order says when it changed, not when it was cancelled: its last update is the best bound.
    cancelledAt: order.OrderStatus === 'Canceled' ? updatedAt : null,
    closedAt: null,
    lines,
    // Amazon gives no time of the request: the order version that carries it is the best bound.
    cancelRequest: cancelRequest ? { requestedAt: updatedAt, reason: cancelRequest.reason } : null,
    raw,
  };
}
