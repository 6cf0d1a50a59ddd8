/**
 * eBay `Order` (specs/sell_fulfillment_v1_oas3.json components.schemas.Order) into
 * the unified order. Pure functions over a schema-checked payload.
 *
 * Money: every `Amount` is `{value, currency}` and, when eBay converted it,
 * `convertedFromValue`/`convertedFromCurrency`: `value` is then in the seller's
 * (marketplace's) currency and `convertedFrom*` is what the buyer saw. So the
 * order's currency is `pricingSummary.total.currency` and the presentment
 * currency is `convertedFromCurrency` when it differs. Amounts are decimal
 * strings, kept exact (src/domain/money.ts); an amount in another currency than
 * the order's is refused rather than added up.
 */
import { z } from 'zod';
import type { ChannelFulfillmentStatus, FinancialStatus, UnifiedOrder, UnifiedOrderLine } from '../../src/domain/order.ts';
import { addMoney, money, subMoney } from '../../src/domain/money.ts';
import { currencyCode, dateTimeText, decimalAmount, lineQuantity } from '../values.ts';

const amount = z.object({
  value: decimalAmount,
  currency: currencyCode,
  convertedFromValue: decimalAmount.optional(),
  convertedFromCurrency: currencyCode.optional(),
});
type Amount = z.infer<typeof amount>;

const lineItem = z.object({
  lineItemId: z.string().min(1),
  legacyItemId: z.string().optional(),
  legacyVariationId: z.string().optional(),
  sku: z.string().optional(),
  title: z.string().optional(),
  quantity: lineQuantity,
  lineItemCost: amount,
  discountedLineItemCost: amount.optional(),
  total: amount.optional(),
  taxes: z.array(z.object({ amount: amount.optional() })).optional(),
  appliedPromotions: z.array(z.object({ discountAmount: amount.optional() })).optional(),
  lineItemFulfillmentStatus: z.string().optional(),
});

const address = z
  .object({
    fullName: z.string().optional(),
    email: z.string().optional(),
    primaryPhone: z.object({ phoneNumber: z.string().optional() }).optional(),
    contactAddress: z
      .object({
        addressLine1: z.string().optional(),
        addressLine2: z.string().optional(),
        city: z.string().optional(),
        stateOrProvince: z.string().optional(),
        postalCode: z.string().optional(),
        countryCode: z.string().optional(),
      })
      .optional(),
  })
  .optional();

export const ebayOrderSchema = z.object({
  orderId: z.string().min(1),
  creationDate: dateTimeText,
  lastModifiedDate: dateTimeText,
  orderFulfillmentStatus: z.string(),
  orderPaymentStatus: z.string().optional(),
  buyer: z.object({ username: z.string().optional(), buyerRegistrationAddress: address }).optional(),
  pricingSummary: z.object({
    priceSubtotal: amount.optional(),
    deliveryCost: amount.optional(),
    priceDiscount: amount.optional(),
    tax: amount.optional(),
    total: amount,
  }),
  cancelStatus: z
    .object({
      cancelState: z.string().optional(),
      cancelledDate: dateTimeText.optional(),
      cancelRequests: z.array(z.object({ cancelRequestState: z.string().optional(), cancelCompletedDate: z.string().optional() })).optional(),
    })
    .optional(),
  fulfillmentStartInstructions: z
    .array(z.object({ shippingStep: z.object({ shipTo: address }).optional() }))
    .optional(),
  lineItems: z.array(lineItem),
});
export type EbayOrder = z.infer<typeof ebayOrderSchema>;

/** orderPaymentStatus (OrderPaymentStatusEnum) in the unified vocabulary. */
const FINANCIAL: Record<string, FinancialStatus> = {
  PAID: 'paid',
  PENDING: 'pending',
  FAILED: 'failed',
  PARTIALLY_REFUNDED: 'partially_refunded',
  FULLY_REFUNDED: 'refunded',
};

/** orderFulfillmentStatus (OrderFulfillmentStatus). */
const FULFILLMENT: Record<string, ChannelFulfillmentStatus> = {
  NOT_STARTED: 'unfulfilled',
  IN_PROGRESS: 'partially_fulfilled',
  FULFILLED: 'fulfilled',
};

/** An amount in the order's currency, exact; another currency is a payload we refuse to add up. */
function inCurrency(a: Amount | undefined, currency: string, where: string): string {
  if (!a) return '0.00';
  if (a.currency.toUpperCase() !== currency) throw new Error(`${where} is in ${a.currency}, the order in ${currency}`);
  return money(a.value);
}

function mapLine(li: z.infer<typeof lineItem>, currency: string): UnifiedOrderLine {
  const lineTotal = inCurrency(li.lineItemCost, currency, `line ${li.lineItemId} lineItemCost`);
  const discount = (li.appliedPromotions ?? []).reduce((sum, p) => addMoney(sum, inCurrency(p.discountAmount, currency, `line ${li.lineItemId} discount`)), '0.00');
  const tax = (li.taxes ?? []).reduce((sum, t) => addMoney(sum, inCurrency(t.amount, currency, `line ${li.lineItemId} tax`)), '0.00');
  // lineItemCost is the price of all units ("the selling price of the line item times quantity").
  const unitPrice = li.quantity > 0 ? divideExact(lineTotal, li.quantity) : lineTotal;
  return {
    externalId: li.lineItemId,
    sku: li.sku?.trim() ? li.sku : null,
    title: li.title ?? '',
    quantity: li.quantity,
    unitPrice,
    tax,
    discount,
    // legacyItemId is the listing (the Trading API's ItemID), legacyVariationId its variation.
    productExternalId: li.legacyItemId ?? null,
    variantExternalId: li.legacyVariationId ?? null,
    inventoryItemExternalId: li.sku?.trim() ? li.sku : null,
    quantityFulfilledOnChannel: li.lineItemFulfillmentStatus === 'FULFILLED' ? li.quantity : 0,
  };
}

/** `total / quantity` when it divides exactly in money's 4 decimals; otherwise the error names the line. */
function divideExact(total: string, quantity: number): string {
  const [whole, frac = ''] = total.replace('-', '').split('.');
  const units = BigInt(whole!) * 10000n + BigInt((frac + '0000').slice(0, 4));
  if (units % BigInt(quantity) !== 0n) throw new Error(`line total ${total} does not divide into ${quantity} equal unit prices`);
  const per = units / BigInt(quantity);
  return money(`${total.startsWith('-') ? '-' : ''}${per / 10000n}.${String(per % 10000n).padStart(4, '0')}`);
}

function mapAddress(a: NonNullable<z.infer<typeof address>> | undefined): UnifiedOrder['shippingAddress'] {
  if (!a) return null;
  const c = a.contactAddress ?? {};
  return {
    name: a.fullName ?? null,
    company: null,
    address1: c.addressLine1 ?? null,
    address2: c.addressLine2 ?? null,
    city: c.city ?? null,
    province: c.stateOrProvince ?? null,
    provinceCode: c.stateOrProvince ?? null,
    zip: c.postalCode ?? null,
    country: null,
    countryCode: c.countryCode ?? null,
    phone: a.primaryPhone?.phoneNumber ?? null,
  };
}

/** Maps a checked eBay order. Throws (with the field) on amounts that cannot be read exactly. */
export function mapOrder(raw: unknown): UnifiedOrder {
  const o = ebayOrderSchema.parse(raw);
  const total = o.pricingSummary.total;
  const currency = total.currency.toUpperCase();
  const presentment = total.convertedFromCurrency && total.convertedFromCurrency.toUpperCase() !== currency ? total.convertedFromCurrency.toUpperCase() : null;
  const lines = o.lineItems.map((li) => mapLine(li, currency));
  const cancelled = o.cancelStatus?.cancelState === 'CANCELED';
  const reg = o.buyer?.buyerRegistrationAddress;
  const [firstName, ...rest] = (reg?.fullName ?? '').split(' ').filter(Boolean);
  const shipTo = o.fulfillmentStartInstructions?.[0]?.shippingStep?.shipTo;
  return {
    externalId: o.orderId,
    orderNumber: o.orderId,
    channelState: cancelled ? 'cancelled' : 'open',
    financialStatus: FINANCIAL[o.orderPaymentStatus ?? ''] ?? 'unknown',
    fulfillmentStatus: FULFILLMENT[o.orderFulfillmentStatus] ?? 'unknown',
    currency,
    presentmentCurrency: presentment,
    totals: {
      subtotal: inCurrency(o.pricingSummary.priceSubtotal, currency, 'priceSubtotal'),
      shipping: inCurrency(o.pricingSummary.deliveryCost, currency, 'deliveryCost'),
      tax: inCurrency(o.pricingSummary.tax, currency, 'tax'),
      // priceDiscount is negative on eBay ("a negative value"): the unified discount is positive.
      discount: subMoney('0', inCurrency(o.pricingSummary.priceDiscount, currency, 'priceDiscount')).replace(/^-?/, ''),
      total: inCurrency(total, currency, 'total'),
    },
    customer: o.buyer
      ? { externalId: o.buyer.username ?? null, email: reg?.email ?? null, firstName: firstName ?? null, lastName: rest.join(' ') || null, phone: reg?.primaryPhone?.phoneNumber ?? null }
      : null,
    billingAddress: mapAddress(reg),
    shippingAddress: mapAddress(shipTo),
    placedAt: new Date(o.creationDate),
    updatedAt: new Date(o.lastModifiedDate),
    cancelledAt: cancelled ? new Date(o.cancelStatus?.cancelledDate ?? o.lastModifiedDate) : null,
    closedAt: null,
    lines,
    raw,
  };
}
