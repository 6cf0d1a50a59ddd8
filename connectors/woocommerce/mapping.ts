/**
 * WooCommerce REST API v3 payloads -> the unified order model. Pure: no I/O.
 *
 * Field names follow the order properties of the REST API v3 reference:
 * https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties
 */
import { z } from 'zod';
import type {
  Address,
  ChannelFulfillmentStatus,
  ChannelOrderState,
  Customer,
  FinancialStatus,
  UnifiedOrder,
  UnifiedOrderLine,
  UnifiedRefund,
} from '../../src/domain/order.ts';
import { addMoney, fromUnits, money, subMoney, toUnits } from '../../src/domain/money.ts';
import { decodeEntities } from './entities.ts';
import { currencyCode, decimalAmount, lineQuantity } from '../values.ts';

export { decodeEntities };

/** Money arrives as a decimal string ("12.30"); a few plugins send numbers. Checked before it is normalised. */
const moneyField = decimalAmount.transform((v) => money(v));
/** `*_gmt` fields: "2017-03-22T19:28:08", no offset, UTC; a real date (not month 13). */
const gmtDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/, 'expected YYYY-MM-DDTHH:MM:SS')
  .refine((v) => {
    const d = new Date(`${v}Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 19) === v;
  }, 'not a real date');
const text = z.string().nullish().transform((v) => v ?? '');

const billingSchema = z.looseObject({
  first_name: text,
  last_name: text,
  company: text,
  address_1: text,
  address_2: text,
  city: text,
  state: text,
  postcode: text,
  country: text,
  email: text.optional(),
  phone: text.optional(),
});

const lineItemSchema = z.looseObject({
  id: z.number().int(),
  name: text,
  product_id: z.number().int().nullish(),
  variation_id: z.number().int().nullish(),
  // A fraction or a negative count is not an order line: refused, never rounded or clamped.
  quantity: lineQuantity,
  subtotal: moneyField,
  total: moneyField,
  total_tax: moneyField,
  sku: z.string().nullish(),
  price: z
    .union([z.number(), z.string()])
    .refine((v) => Number.isFinite(Number(v)) && Math.abs(Number(v)) < 1e16, 'expected a price')
    .nullish(),
});

export const WOO_ORDER_STATUSES = [
  'pending',
  'processing',
  'on-hold',
  'completed',
  'cancelled',
  'refunded',
  'failed',
  'trash',
  'checkout-draft',
  'auto-draft',
] as const;

export const wooOrderSchema = z.looseObject({
  id: z.number().int().positive(),
  number: z.union([z.string(), z.number()]).transform(String),
  status: z.string(),
  currency: currencyCode,
  date_created_gmt: gmtDate,
  date_modified_gmt: gmtDate,
  date_completed_gmt: gmtDate.nullish(),
  date_paid_gmt: gmtDate.nullish(),
  discount_total: moneyField,
  shipping_total: moneyField,
  total: moneyField,
  total_tax: moneyField,
  customer_id: z.number().int().nullish(),
  billing: billingSchema.nullish(),
  shipping: billingSchema.nullish(),
  line_items: z.array(lineItemSchema),
  refunds: z.array(z.looseObject({ id: z.number(), total: moneyField })).default([]),
});
export type WooOrder = z.infer<typeof wooOrderSchema>;

/** `{code, message, data: {status}}`; `data` is a bare number on a few routes (refunds). */
export const wooErrorSchema = z.looseObject({
  code: z.string(),
  message: z.string(),
  data: z.union([z.looseObject({ status: z.number().optional() }), z.number(), z.null()]).optional(),
});

/** Where a line's SKU lives when the payload has none: product, or product + variation. */
export interface ProductKey {
  productId: number;
  variationId: number;
}
export const productKey = (k: ProductKey): string => `${k.productId}:${k.variationId}`;

/** Lines whose payload carries no SKU and that can be looked up by product/variation id. */
export function linesMissingSku(order: WooOrder): ProductKey[] {
  const keys = new Map<string, ProductKey>();
  for (const line of order.line_items) {
    if (line.sku) continue;
    const k = { productId: line.product_id ?? 0, variationId: line.variation_id ?? 0 };
    if (k.productId > 0 || k.variationId > 0) keys.set(productKey(k), k);
  }
  return [...keys.values()];
}

/** `*_gmt` carries no offset and is UTC. */
export function gmtToDate(value: string): Date {
  return new Date(`${value}Z`);
}

/** Date -> the `*_gmt` form the API takes with `dates_are_gmt=true`. */
export function dateToGmt(date: Date): string {
  return date.toISOString().slice(0, 19);
}

interface StatusMapping {
  state: ChannelOrderState;
  financial: FinancialStatus;
  fulfillment: ChannelFulfillmentStatus;
}

// WooCommerce's own "is paid" statuses are processing and completed
// (wc_get_is_paid_statuses); on-hold waits for a manual payment check.
const STATUS_MAP: Record<string, StatusMapping> = {
  pending: { state: 'open', financial: 'pending', fulfillment: 'unfulfilled' },
  processing: { state: 'open', financial: 'paid', fulfillment: 'unfulfilled' },
  'on-hold': { state: 'open', financial: 'pending', fulfillment: 'on_hold' },
  completed: { state: 'closed', financial: 'paid', fulfillment: 'fulfilled' },
  cancelled: { state: 'cancelled', financial: 'voided', fulfillment: 'unfulfilled' },
  refunded: { state: 'closed', financial: 'refunded', fulfillment: 'unknown' },
  // A failed payment can still be retried by the customer: not terminal.
  failed: { state: 'open', financial: 'failed', fulfillment: 'unfulfilled' },
  trash: { state: 'cancelled', financial: 'unknown', fulfillment: 'unknown' },
  // Block checkout's draft: the customer has not placed the order yet.
  'checkout-draft': { state: 'open', financial: 'pending', fulfillment: 'unfulfilled' },
  'auto-draft': { state: 'open', financial: 'pending', fulfillment: 'unfulfilled' },
};
const UNKNOWN_STATUS: StatusMapping = { state: 'open', financial: 'unknown', fulfillment: 'unknown' };

export function mapStatus(order: Pick<WooOrder, 'status' | 'total' | 'refunds'>): StatusMapping {
  const base = STATUS_MAP[order.status] ?? UNKNOWN_STATUS;
  // A partial refund leaves the status alone; the order's `refunds` say it.
  if (base.financial === 'paid' && order.refunds.length > 0) {
    const refunded = toUnits(addMoney(...order.refunds.map((r) => r.total)));
    const abs = refunded < 0n ? -refunded : refunded;
    if (abs > 0n) {
      return { ...base, financial: abs >= toUnits(order.total) ? 'refunded' : 'partially_refunded' };
    }
  }
  return base;
}

/** One attribute of a variation, as `attributes[]` of the variations endpoint gives it. */
export interface VariationAttribute {
  name: string;
  option: string;
}

/**
 * A variation's title as WooCommerce builds it
 * (`WC_Product_Variation_Data_Store_CPT::generate_product_title`): the parent's
 * name, " - ", then the attribute values joined by ", " (`wc_get_formatted_variation`
 * flat, without names): "T-shirt - Blue, L". WooCommerce leaves the values out
 * when the variation has 3 or more attributes, or 2 or more and one of them has
 * a multi-word name (a "-" in its slug). Values left "any" ('') are skipped.
 * `parentName` is used as given: pass it decoded to get text, encoded to get
 * what the store stores.
 * https://github.com/woocommerce/woocommerce/blob/7.9.0/plugins/woocommerce/includes/data-stores/class-wc-product-variation-data-store-cpt.php
 */
export function variationTitle(parentName: string, attributes: readonly VariationAttribute[]): string {
  let include = attributes.length < 3;
  if (include && attributes.length > 1 && attributes.some((a) => /[\s-]/.test(a.name.trim()))) include = false;
  const suffix = include ? attributes.map((a) => a.option).filter((o) => o !== '').join(', ') : '';
  return suffix ? `${parentName} - ${suffix}` : parentName;
}

const orNull = (v: string | undefined): string | null => (v && v.trim() !== '' ? v.trim() : null);

function mapAddress(a: WooOrder['billing'], phone: string | undefined): Address | null {
  if (!a) return null;
  const name = [a.first_name, a.last_name].filter(Boolean).join(' ');
  const address: Address = {
    name: orNull(name),
    company: orNull(a.company),
    address1: orNull(a.address_1),
    address2: orNull(a.address_2),
    city: orNull(a.city),
    // WooCommerce stores the state code ("CA") and the ISO country code only.
    province: null,
    provinceCode: orNull(a.state),
    zip: orNull(a.postcode),
    country: null,
    countryCode: orNull(a.country),
    phone: orNull(phone),
  };
  return Object.values(address).some((v) => v !== null) ? address : null;
}

function mapCustomer(order: WooOrder): Customer | null {
  const b = order.billing;
  const customer: Customer = {
    externalId: order.customer_id && order.customer_id > 0 ? String(order.customer_id) : null,
    email: orNull(b?.email),
    firstName: orNull(b?.first_name),
    lastName: orNull(b?.last_name),
    phone: orNull(b?.phone),
  };
  return Object.values(customer).some((v) => v !== null) ? customer : null;
}

/** subtotal / quantity, exact when it divides, else rounded half-up to 4 places. */
function unitPrice(subtotal: string, quantity: number, fallback: number | string | null | undefined): string {
  if (quantity > 0) {
    const units = toUnits(subtotal);
    const q = BigInt(quantity);
    const sign = units < 0n ? -1n : 1n;
    const abs = units * sign;
    return fromUnits(sign * ((2n * abs + q) / (2n * q)));
  }
  return fallback === null || fallback === undefined ? '0.00' : money(Number(fallback).toFixed(4));
}

export type SkuLookup = (key: ProductKey) => string | null | undefined;

/**
 * Orders whose refunds are read (`orders/<id>/refunds`): any with a refund but
 * a trashed one. Refunded units come off the lines whatever the status, as
 * Shopify's `currentQuantity` does; allocation counts a shipped-then-refunded
 * unit as refunded, not as an edit after shipping (`lineCoverage`).
 */
export function needsRefundedQuantities(order: Pick<WooOrder, 'status' | 'refunds'>): boolean {
  return order.refunds.length > 0 && order.status !== 'trash';
}

/** Refunded units per order line id (`orders/<id>/refunds`). */
export type RefundedQuantities = ReadonlyMap<string, number>;

/** One entry of `GET orders/<id>/refunds` (https://woocommerce.github.io/woocommerce-rest-api-docs/#refund-properties). */
export const wooRefundSchema = z.looseObject({
  id: z.number().int().positive(),
  date_created_gmt: gmtDate,
  amount: moneyField,
  reason: z.string().nullish(),
  line_items: z
    .array(
      z.looseObject({
        quantity: z.number().int(),
        total: moneyField.default('0.00'),
        meta_data: z.array(z.looseObject({ key: z.string(), value: z.unknown() })).default([]),
      }),
    )
    .default([]),
  shipping_lines: z.array(z.looseObject({ total: moneyField.default('0.00') })).default([]),
});
export type WooRefund = z.infer<typeof wooRefundSchema>;

/**
 * The order's refunds in the unified shape, and the units they took off each
 * line. A refund names its lines by `_refunded_item_id` with a negative
 * quantity and total. WooCommerce does not say on the refund whether it
 * restocked: the order line keeps the running count in
 * `_restock_refunded_items`, which is handed to the line's refunds oldest first.
 */
export function mapRefunds(order: WooOrder, list: readonly WooRefund[]): { quantities: RefundedQuantities; refunds: UnifiedRefund[] } {
  const quantities = new Map<string, number>();
  const restockLeft = new Map<string, number>();
  for (const line of order.line_items) {
    const meta = (line as { meta_data?: Array<{ key?: unknown; value?: unknown }> }).meta_data ?? [];
    const n = Number(meta.find((m) => m.key === '_restock_refunded_items')?.value ?? 0);
    if (Number.isInteger(n) && n > 0) restockLeft.set(String(line.id), n);
  }
  const oldestFirst = [...list].sort((a, b) => a.date_created_gmt.localeCompare(b.date_created_gmt) || a.id - b.id);
  const refunds = oldestFirst.map((r): UnifiedRefund => {
    const lines: UnifiedRefund['lines'] = [];
    for (const item of r.line_items) {
      const lineId = item.meta_data.find((m) => m.key === '_refunded_item_id')?.value;
      if (lineId === undefined || lineId === null) continue;
      const key = String(lineId);
      const quantity = Math.abs(item.quantity);
      quantities.set(key, (quantities.get(key) ?? 0) + quantity);
      const restocked = Math.min(quantity, restockLeft.get(key) ?? 0);
      if (restocked > 0) restockLeft.set(key, (restockLeft.get(key) ?? 0) - restocked);
      lines.push({ lineExternalId: key, quantity, amount: money(item.total.replace(/^-/, '')), restock: restocked > 0 });
    }
    const shipping = r.shipping_lines.length ? addMoney(...r.shipping_lines.map((l) => l.total.replace(/^-/, ''))) : '0.00';
    return { externalId: String(r.id), createdAt: gmtToDate(r.date_created_gmt), amount: r.amount.replace(/^-/, ''), shipping, note: r.reason ?? null, lines };
  });
  return { quantities, refunds: refunds.reverse() };
}

function mapLine(line: WooOrder['line_items'][number], completed: boolean, lookup?: SkuLookup, refunded?: RefundedQuantities): UnifiedOrderLine {
  const productId = line.product_id && line.product_id > 0 ? line.product_id : 0;
  const variationId = line.variation_id && line.variation_id > 0 ? line.variation_id : 0;
  // Units still owed: WooCommerce keeps the ordered quantity on the line after a
  // refund, so refunded units come off here (as Shopify's currentQuantity does).
  const ordered = line.quantity;
  const quantity = Math.max(0, ordered - (refunded?.get(String(line.id)) ?? 0));
  const resolved = line.sku ? line.sku : lookup?.({ productId, variationId });
  return {
    externalId: String(line.id),
    sku: resolved ? resolved : null,
    title: decodeEntities(line.name),
    quantity,
    // subtotal covers every unit ordered, refunded ones included.
    unitPrice: unitPrice(line.subtotal, ordered, line.price),
    tax: line.total_tax,
    // subtotal is before coupons, total after: the difference is this line's discount (ex tax).
    discount: subMoney(line.subtotal, line.total),
    productExternalId: productId > 0 ? String(productId) : null,
    variantExternalId: variationId > 0 ? String(variationId) : null,
    inventoryItemExternalId: null,
    // WooCommerce has no per-line fulfilment: a completed order is fully shipped.
    quantityFulfilledOnChannel: completed ? quantity : 0,
  };
}

/**
 * Maps a validated order. `lookup` resolves the SKU of lines whose payload has
 * none (deleted products, plugins that strip it); without it they stay null.
 * `refunded` (from the order's refunds) takes refunded units off line quantities.
 */
export function mapOrder(order: WooOrder, raw: unknown = order, lookup?: SkuLookup, refunded?: RefundedQuantities, refunds?: UnifiedRefund[]): UnifiedOrder {
  const status = mapStatus(order);
  const updatedAt = gmtToDate(order.date_modified_gmt);
  const completed = order.status === 'completed';
  return {
    externalId: String(order.id),
    orderNumber: `#${order.number}`,
    channelState: status.state,
    financialStatus: status.financial,
    fulfillmentStatus: status.fulfillment,
    currency: order.currency.toUpperCase(),
    presentmentCurrency: null,
    totals: {
      subtotal: order.line_items.length ? addMoney(...order.line_items.map((l) => l.subtotal)) : '0.00',
      shipping: order.shipping_total,
      tax: order.total_tax,
      discount: order.discount_total,
      total: order.total,
    },
    customer: mapCustomer(order),
    billingAddress: mapAddress(order.billing, order.billing?.phone),
    shippingAddress: mapAddress(order.shipping, order.shipping?.phone),
    placedAt: gmtToDate(order.date_created_gmt),
    updatedAt,
    // WooCommerce keeps no cancellation time: the status change is the last modification.
    cancelledAt: status.state === 'cancelled' ? updatedAt : null,
    closedAt:
      status.state === 'closed'
        ? order.date_completed_gmt
          ? gmtToDate(order.date_completed_gmt)
          : updatedAt
        : null,
    lines: order.line_items.map((line) => mapLine(line, completed, lookup, refunded)),
    // Read only with the refunds list; an order without refunds has none to record.
    ...(refunds ? { refunds } : order.refunds.length === 0 ? { refunds: [] } : {}),
    raw,
  };
}

/** Validates at the boundary, then maps. Throws a ZodError naming the bad field. */
export function parseOrder(raw: unknown, lookup?: SkuLookup): UnifiedOrder {
  return mapOrder(wooOrderSchema.parse(raw), raw, lookup);
}
