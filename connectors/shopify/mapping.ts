/**
 * Shopify payloads -> the unified order model. Pure functions: every payload
 * is parsed with a zod schema at the boundary (a wrong shape fails loudly
 * with the path of the field), then mapped.
 *
 * Two shapes arrive: GraphQL orders (pull, fetch, bulk) selected by
 * `documents.ts`, and REST-shaped webhook bodies (snake_case, numeric ids).
 * Both map to the same unified values; REST ids become GIDs so that a webhook
 * and a poll of the same order agree on `externalId`.
 */
import { z } from 'zod';
import { addMoney, fromUnits, money, mulMoney, toUnits } from '../../src/domain/money.ts';
import { currencyCode, dateTimeText, decimalAmount, lineQuantity } from '../values.ts';
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

// ---------------------------------------------------------------- GraphQL

// Checked here, so a bad amount or time is a parse error naming its field, never an exception in the mapping.
const amount = decimalAmount;
const moneyBag = z.object({ shopMoney: z.object({ amount, currencyCode: z.string().optional() }) });
const idRef = z.object({ id: z.string() });

const gqlAddress = z.object({
  name: z.string().nullish(),
  company: z.string().nullish(),
  address1: z.string().nullish(),
  address2: z.string().nullish(),
  city: z.string().nullish(),
  province: z.string().nullish(),
  provinceCode: z.string().nullish(),
  zip: z.string().nullish(),
  country: z.string().nullish(),
  countryCodeV2: z.string().nullish(),
  phone: z.string().nullish(),
});

export const gqlLineItemSchema = z.object({
  id: z.string(),
  name: z.string(),
  sku: z.string().nullish(),
  quantity: lineQuantity,
  currentQuantity: lineQuantity,
  unfulfilledQuantity: lineQuantity,
  originalUnitPriceSet: moneyBag,
  taxLines: z.array(z.object({ priceSet: moneyBag })),
  discountAllocations: z.array(z.object({ allocatedAmountSet: moneyBag })),
  product: idRef.nullish(),
  variant: z.object({ id: z.string(), inventoryItem: idRef.nullish() }).nullish(),
});
export type GqlLineItem = z.infer<typeof gqlLineItemSchema>;

const pageInfo = z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullish() });

/** An order as `OrderFields` selects it, without its line items. */
export const gqlOrderHeadSchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: dateTimeText,
  updatedAt: dateTimeText,
  cancelledAt: dateTimeText.nullish(),
  closed: z.boolean(),
  closedAt: dateTimeText.nullish(),
  displayFinancialStatus: z.string().nullish(),
  displayFulfillmentStatus: z.string(),
  currencyCode: currencyCode,
  presentmentCurrencyCode: currencyCode,
  email: z.string().nullish(),
  phone: z.string().nullish(),
  currentShippingPriceSet: moneyBag,
  currentTotalTaxSet: moneyBag,
  currentTotalDiscountsSet: moneyBag,
  currentTotalPriceSet: moneyBag,
  customer: z
    .object({ id: z.string(), firstName: z.string().nullish(), lastName: z.string().nullish() })
    .nullish(),
  billingAddress: gqlAddress.nullish(),
  shippingAddress: gqlAddress.nullish(),
});

/** An order from `ORDERS_PAGE_QUERY` / `ORDER_QUERY`: the head plus its first page of lines. */
export const gqlOrderSchema = gqlOrderHeadSchema.extend({
  lineItems: z.object({ nodes: z.array(gqlLineItemSchema), pageInfo }),
});
export type GqlOrder = z.infer<typeof gqlOrderSchema>;
export type GqlOrderHead = z.infer<typeof gqlOrderHeadSchema>;

export const gqlOrdersPageSchema = z.object({
  orders: z.object({ nodes: z.array(z.unknown()), pageInfo }),
});

export const gqlLineItemsPageSchema = z.object({
  order: z
    .object({ id: z.string(), lineItems: z.object({ nodes: z.array(gqlLineItemSchema), pageInfo }) })
    .nullable(),
});

/** `ORDER_REFUNDS_QUERY` (https://shopify.dev/docs/api/admin-graphql/2026-07/objects/Refund). */
export const gqlOrderRefundsSchema = z.object({
  order: z
    .object({
      id: z.string(),
      refunds: z.array(
        z.object({
          id: z.string(),
          createdAt: dateTimeText,
          note: z.string().nullish(),
          totalRefundedSet: moneyBag,
          refundShippingLines: z.object({ nodes: z.array(z.object({ subtotalAmountSet: moneyBag })) }),
          refundLineItems: z.object({
            nodes: z.array(z.object({ quantity: lineQuantity, restockType: z.string(), lineItem: idRef, subtotalSet: moneyBag })),
            pageInfo: z.object({ hasNextPage: z.boolean() }),
          }),
        }),
      ),
    })
    .nullable(),
});
export type GqlRefund = NonNullable<z.infer<typeof gqlOrderRefundsSchema>['order']>['refunds'][number];

/**
 * Shopify refunds in the unified shape. `restockType` NO_RESTOCK leaves the
 * units out of stock; RETURN, CANCEL and LEGACY_RESTOCK put them back.
 *
 * A line's money is its share of what the refund gave back less shipping,
 * split by the order lines' price x refunded units (`lines`; a line not
 * among them weighs its `subtotalSet`). Not `subtotalSet` itself: that is the
 * value of the units, not money refunded (a refund of 0.00 that restocks shows
 * the full price, community.shopify.dev/t/25825), and Shopify answered 0.0 for
 * the NO_RESTOCK line of a refund of a whole order that gave 10.00 back for it
 * (`2025-01_orders_refund-create-full-parity.json`). So a refund's lines and
 * shipping add up to its amount; taxes ride with the lines.
 */
export function mapGraphqlRefunds(refunds: readonly GqlRefund[], lines: ReadonlyArray<Pick<UnifiedOrderLine, 'externalId' | 'unitPrice'>> = []): UnifiedRefund[] {
  const unitPrice = new Map(lines.map((l) => [l.externalId, l.unitPrice]));
  return refunds.map((r) => {
    const shipping = addMoney('0', ...r.refundShippingLines.nodes.map((n) => n.subtotalAmountSet.shopMoney.amount));
    const nodes = r.refundLineItems.nodes;
    const forLines = toUnits(r.totalRefundedSet.shopMoney.amount) - toUnits(shipping);
    const weights = nodes.map((n) => {
      const price = unitPrice.get(n.lineItem.id);
      return price !== undefined ? toUnits(mulMoney(price, n.quantity)) : toUnits(n.subtotalSet.shopMoney.amount);
    });
    const amounts = shareOut(forLines > 0n ? forLines : 0n, weights.some((w) => w > 0n) ? weights : nodes.map((n) => BigInt(n.quantity)));
    return {
      externalId: r.id,
      createdAt: date(r.createdAt),
      amount: money(r.totalRefundedSet.shopMoney.amount),
      shipping,
      note: r.note ?? null,
      lines: nodes.map((n, i) => ({
        lineExternalId: n.lineItem.id,
        quantity: n.quantity,
        amount: fromUnits(amounts[i]!),
        restock: n.restockType !== 'NO_RESTOCK',
      })),
    };
  });
}

/** `total` (money units) split by `weights` to the cent; the cents left over go to the last line. */
function shareOut(total: bigint, weights: readonly bigint[]): bigint[] {
  const sum = weights.reduce((a, b) => a + b, 0n);
  if (weights.length === 0) return [];
  if (sum === 0n) return weights.map((_, i) => (i === weights.length - 1 ? total : 0n));
  const cent = toUnits('0.01');
  const shares = weights.map((w) => ((total * w) / sum / cent) * cent);
  shares[shares.length - 1]! += total - shares.reduce((a, b) => a + b, 0n);
  return shares;
}

/**
 * Maps a GraphQL order head and ALL its line items (the caller follows
 * `lineItems.pageInfo` first). `raw` keeps the payload as received.
 */
export function mapGraphqlOrder(head: GqlOrderHead, lines: GqlLineItem[], raw: unknown = head): UnifiedOrder {
  const mappedLines = lines.map(mapGraphqlLine);
  return {
    externalId: head.id,
    orderNumber: head.name,
    channelState: orderState(head.cancelledAt ?? null, head.closed || Boolean(head.closedAt)),
    financialStatus: financialStatus(head.displayFinancialStatus ?? null),
    fulfillmentStatus: fulfillmentStatus(head.displayFulfillmentStatus),
    currency: head.currencyCode,
    presentmentCurrency: head.presentmentCurrencyCode !== head.currencyCode ? head.presentmentCurrencyCode : null,
    totals: {
      subtotal: subtotalOf(mappedLines),
      shipping: money(head.currentShippingPriceSet.shopMoney.amount),
      tax: money(head.currentTotalTaxSet.shopMoney.amount),
      discount: money(head.currentTotalDiscountsSet.shopMoney.amount),
      total: money(head.currentTotalPriceSet.shopMoney.amount),
    },
    customer: customerOf(
      head.customer?.id ?? null,
      head.email ?? null,
      head.customer?.firstName ?? null,
      head.customer?.lastName ?? null,
      head.phone ?? null,
    ),
    billingAddress: head.billingAddress ? graphqlAddress(head.billingAddress) : null,
    shippingAddress: head.shippingAddress ? graphqlAddress(head.shippingAddress) : null,
    placedAt: date(head.createdAt),
    updatedAt: date(head.updatedAt),
    cancelledAt: head.cancelledAt ? date(head.cancelledAt) : null,
    closedAt: head.closedAt ? date(head.closedAt) : null,
    lines: mappedLines,
    raw,
  };
}

export function mapGraphqlLine(line: GqlLineItem): UnifiedOrderLine {
  return {
    externalId: line.id,
    sku: line.sku ? line.sku : null,
    title: line.name,
    quantity: line.currentQuantity,
    unitPrice: money(line.originalUnitPriceSet.shopMoney.amount),
    tax: addMoney('0', ...line.taxLines.map((t) => t.priceSet.shopMoney.amount)),
    discount: addMoney('0', ...line.discountAllocations.map((d) => d.allocatedAmountSet.shopMoney.amount)),
    productExternalId: line.product?.id ?? null,
    variantExternalId: line.variant?.id ?? null,
    inventoryItemExternalId: line.variant?.inventoryItem?.id ?? null,
    quantityFulfilledOnChannel: Math.max(0, line.currentQuantity - line.unfulfilledQuantity),
  };
}

function graphqlAddress(a: z.infer<typeof gqlAddress>): Address {
  return {
    name: a.name ?? null,
    company: a.company ?? null,
    address1: a.address1 ?? null,
    address2: a.address2 ?? null,
    city: a.city ?? null,
    province: a.province ?? null,
    provinceCode: a.provinceCode ?? null,
    zip: a.zip ?? null,
    country: a.country ?? null,
    countryCode: a.countryCodeV2 ?? null,
    phone: a.phone ?? null,
  };
}

// ---------------------------------------------------------------- REST (webhooks)

/*
 * Money in REST bodies comes two ways. Since API 2019-04 (multi-currency) every
 * amount has a `*_set` with `shop_money` and `presentment_money`; older versions,
 * and subscriptions still pinned to them, send only the plain field
 * (`total_price`, `total_tax`, `total_discounts`, a line's `price`, a tax line's
 * `price`, an allocation's `amount`), which Shopify documents as shop currency.
 * https://shopify.dev/docs/api/admin-rest/latest/resources/order#resource-object
 * So each amount is read from its set when there is one (shop money) and from the
 * plain field otherwise; the two are the same value where both exist. An amount
 * with neither is refused with the field's name: mapping it to 0 would store an
 * order that looks free.
 */
const restMoneySet = z.object({ shop_money: z.object({ amount, currency_code: z.string().optional() }) });
type RestMoneySet = z.infer<typeof restMoneySet>;
const numericId = z.union([z.number(), z.string()]);
const moneySet = restMoneySet.nullish();
const plain = amount.nullish();

/** The shop-money amount of a set, else the plain field, else undefined. */
function shopAmount(set: RestMoneySet | null | undefined, plainValue: string | number | null | undefined): string | number | undefined {
  // Optional chaining throughout: refinements also see bodies whose fields failed their schema.
  return set ? set?.shop_money?.amount : (plainValue ?? undefined);
}

type Ctx = z.RefinementCtx;
function requireAmount(ctx: Ctx, found: unknown, path: Array<string | number>, what: string): void {
  if (found === undefined) ctx.addIssue({ code: 'custom', path, message: `no ${what}: the body carries neither the *_set nor the plain amount` });
}

const restAddress = z.object({
  name: z.string().nullish(),
  first_name: z.string().nullish(),
  last_name: z.string().nullish(),
  company: z.string().nullish(),
  address1: z.string().nullish(),
  address2: z.string().nullish(),
  city: z.string().nullish(),
  province: z.string().nullish(),
  province_code: z.string().nullish(),
  zip: z.string().nullish(),
  country: z.string().nullish(),
  country_code: z.string().nullish(),
  phone: z.string().nullish(),
});

const restTaxLine = z
  .object({ price_set: moneySet, price: plain })
  .superRefine((t, ctx) => requireAmount(ctx, shopAmount(t.price_set, t.price), ['price'], 'price_set or price'));
const restDiscountAllocation = z
  .object({ amount_set: moneySet, amount: plain })
  .superRefine((d, ctx) => requireAmount(ctx, shopAmount(d.amount_set, d.amount), ['amount'], 'amount_set or amount'));

const restLineItem = z
  .object({
    id: numericId,
    admin_graphql_api_id: z.string().optional(),
    name: z.string().nullish(),
    title: z.string().nullish(),
    sku: z.string().nullish(),
    quantity: lineQuantity,
    current_quantity: lineQuantity.optional(),
    fulfillable_quantity: lineQuantity.nullish(),
    fulfillment_status: z.string().nullish(),
    price_set: moneySet,
    price: plain,
    tax_lines: z.array(restTaxLine).default([]),
    discount_allocations: z.array(restDiscountAllocation).default([]),
    product_id: numericId.nullish(),
    variant_id: numericId.nullish(),
  })
  .superRefine((l, ctx) => requireAmount(ctx, shopAmount(l.price_set, l.price), ['price'], 'price_set or price (the unit price)'));

const restShippingLine = z
  .object({ price_set: moneySet, price: plain })
  .superRefine((s, ctx) => requireAmount(ctx, shopAmount(s.price_set, s.price), ['price'], 'price_set or price'));

const restOrderFields = z.object({
  id: numericId,
  admin_graphql_api_id: z.string().optional(),
  name: z.string(),
  created_at: dateTimeText,
  updated_at: dateTimeText,
  cancelled_at: dateTimeText.nullish(),
  closed_at: dateTimeText.nullish(),
  financial_status: z.string().nullish(),
  fulfillment_status: z.string().nullish(),
  currency: currencyCode,
  presentment_currency: currencyCode.nullish(),
  email: z.string().nullish(),
  phone: z.string().nullish(),
  current_shipping_price_set: moneySet,
  total_shipping_price_set: moneySet,
  current_total_tax_set: moneySet,
  current_total_tax: plain,
  total_tax_set: moneySet,
  total_tax: plain,
  current_total_discounts_set: moneySet,
  current_total_discounts: plain,
  total_discounts_set: moneySet,
  total_discounts: plain,
  current_total_price_set: moneySet,
  current_total_price: plain,
  total_price_set: moneySet,
  total_price: plain,
  /** Only read for the shipping total when the body has no shipping `*_set` (before 2019-04). */
  shipping_lines: z.array(restShippingLine).nullish(),
  customer: z
    .object({
      id: numericId,
      admin_graphql_api_id: z.string().optional(),
      email: z.string().nullish(),
      first_name: z.string().nullish(),
      last_name: z.string().nullish(),
      phone: z.string().nullish(),
    })
    .nullish(),
  billing_address: restAddress.nullish(),
  shipping_address: restAddress.nullish(),
  line_items: z.array(restLineItem),
  // Read for whether there are any: their lines are read from GraphQL (ORDER_REFUNDS_QUERY).
  refunds: z.array(z.unknown()).nullish(),
});

/** The REST order body of `orders/create`, `orders/updated`, `orders/cancelled` webhooks. */
export const restOrderSchema = restOrderFields.superRefine((o, ctx) => {
  const t = restTotals(o);
  requireAmount(ctx, t.total, ['total_price'], 'current_total_price_set, total_price_set, current_total_price or total_price');
  requireAmount(ctx, t.tax, ['total_tax'], 'current_total_tax_set, total_tax_set, current_total_tax or total_tax');
  requireAmount(ctx, t.discount, ['total_discounts'], 'current_total_discounts_set, total_discounts_set, current_total_discounts or total_discounts');
  requireAmount(ctx, t.shipping, ['shipping_lines'], 'current_shipping_price_set, total_shipping_price_set or shipping_lines');
});
export type RestOrder = z.infer<typeof restOrderSchema>;

/**
 * The header amounts of a REST body as sent, undefined where the body has none.
 * `current_*` (after edits, refunds and removals) wins over the original
 * `total_*`; within each, the set's shop money wins over the plain field.
 * Shipping has no plain total: before 2019-04 it is the shipping lines' prices,
 * whose sum is what `total_shipping_price_set` holds (before discounts). No
 * arithmetic here: the schema's refinement calls it on values not yet checked.
 */
function restTotals(o: z.infer<typeof restOrderFields>) {
  const set = o.current_shipping_price_set ?? o.total_shipping_price_set;
  const lines = Array.isArray(o.shipping_lines) ? o.shipping_lines.map((s) => (s && typeof s === 'object' ? shopAmount(s.price_set, s.price) : undefined)) : undefined;
  const shipping = set?.shop_money?.amount !== undefined ? [set.shop_money.amount] : lines?.every((a) => a !== undefined) ? (lines as Array<string | number>) : undefined;
  return {
    total: shopAmount(o.current_total_price_set, o.current_total_price) ?? shopAmount(o.total_price_set, o.total_price),
    tax: shopAmount(o.current_total_tax_set, o.current_total_tax) ?? shopAmount(o.total_tax_set, o.total_tax),
    discount: shopAmount(o.current_total_discounts_set, o.current_total_discounts) ?? shopAmount(o.total_discounts_set, o.total_discounts),
    shipping,
  };
}

/** Maps a parsed REST order body (webhook). */
export function mapRestOrder(body: RestOrder, raw: unknown = body): UnifiedOrder {
  const lines = body.line_items.map(mapRestLine);
  const totals = restTotals(body);
  const customer = body.customer;
  return {
    externalId: body.admin_graphql_api_id ?? toGid('Order', body.id),
    orderNumber: body.name,
    channelState: orderState(body.cancelled_at ?? null, Boolean(body.closed_at)),
    financialStatus: financialStatus(body.financial_status ?? null),
    fulfillmentStatus: restFulfillmentStatus(body.fulfillment_status ?? null),
    currency: body.currency,
    presentmentCurrency:
      body.presentment_currency && body.presentment_currency !== body.currency ? body.presentment_currency : null,
    totals: {
      subtotal: subtotalOf(lines),
      // The schema refuses a body without them; `required` keeps an unchecked body's missing amount from reading as 0.
      shipping: addMoney('0', ...required(totals.shipping, 'shipping')),
      tax: money(required(totals.tax, 'total_tax')),
      discount: money(required(totals.discount, 'total_discounts')),
      total: money(required(totals.total, 'total_price')),
    },
    customer: customerOf(
      customer ? (customer.admin_graphql_api_id ?? toGid('Customer', customer.id)) : null,
      body.email ?? customer?.email ?? null,
      customer?.first_name ?? null,
      customer?.last_name ?? null,
      body.phone ?? customer?.phone ?? null,
    ),
    billingAddress: body.billing_address ? restAddressOf(body.billing_address) : null,
    shippingAddress: body.shipping_address ? restAddressOf(body.shipping_address) : null,
    placedAt: date(body.created_at),
    updatedAt: date(body.updated_at),
    cancelledAt: body.cancelled_at ? date(body.cancelled_at) : null,
    closedAt: body.closed_at ? date(body.closed_at) : null,
    lines,
    // None: nothing to record. Some: not read from the body; the webhook job asks for the order (fetchOrder).
    ...(body.refunds && body.refunds.length === 0 ? { refunds: [] } : {}),
    raw,
  };
}

function required<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new TypeError(`no amount for ${field}`);
  return value;
}

function mapRestLine(line: z.infer<typeof restLineItem>): UnifiedOrderLine {
  const quantity = line.current_quantity ?? line.quantity;
  // REST has no unfulfilled count per line; fulfillable_quantity is what is left to ship.
  const fulfilled =
    line.fulfillment_status === 'fulfilled' ? quantity : Math.max(0, quantity - (line.fulfillable_quantity ?? quantity));
  return {
    externalId: line.admin_graphql_api_id ?? toGid('LineItem', line.id),
    sku: line.sku ? line.sku : null,
    title: line.name ?? line.title ?? '',
    quantity,
    unitPrice: money(required(shopAmount(line.price_set, line.price), 'price')),
    tax: addMoney('0', ...line.tax_lines.map((t) => required(shopAmount(t.price_set, t.price), 'tax_lines.price'))),
    discount: addMoney('0', ...line.discount_allocations.map((d) => required(shopAmount(d.amount_set, d.amount), 'discount_allocations.amount'))),
    productExternalId: line.product_id != null ? toGid('Product', line.product_id) : null,
    variantExternalId: line.variant_id != null ? toGid('ProductVariant', line.variant_id) : null,
    // The REST line item does not carry it; a poll or fetchOrder fills it in.
    inventoryItemExternalId: null,
    quantityFulfilledOnChannel: fulfilled,
  };
}

function restAddressOf(a: z.infer<typeof restAddress>): Address {
  const joined = [a.first_name, a.last_name].filter((p) => p && p.trim()).join(' ');
  return {
    name: a.name ?? (joined || null),
    company: a.company ?? null,
    address1: a.address1 || null,
    address2: a.address2 || null,
    city: a.city || null,
    province: a.province ?? null,
    provinceCode: a.province_code ?? null,
    zip: a.zip ?? null,
    country: a.country ?? null,
    countryCode: a.country_code ?? null,
    phone: a.phone ?? null,
  };
}

// ---------------------------------------------------------------- shared

/** `gid://shopify/<type>/<id>` from a REST numeric id (or a GID, returned as is). */
export function toGid(type: string, id: number | string): string {
  const text = String(id);
  return text.startsWith('gid://') ? text : `gid://shopify/${type}/${text}`;
}

function subtotalOf(lines: UnifiedOrderLine[]): string {
  // Shopify's subtotal fields are net of discounts; the unified subtotal is the
  // sum of line prices before any discount, so it is derived from the lines.
  return addMoney('0', ...lines.map((l) => mulMoney(l.unitPrice, l.quantity)));
}

function orderState(cancelledAt: string | null, closed: boolean): ChannelOrderState {
  if (cancelledAt) return 'cancelled';
  return closed ? 'closed' : 'open';
}

const FINANCIAL: Record<string, FinancialStatus> = {
  pending: 'pending',
  authorized: 'authorized',
  partially_paid: 'partially_paid',
  paid: 'paid',
  partially_refunded: 'partially_refunded',
  refunded: 'refunded',
  voided: 'voided',
  expired: 'expired',
};

/** GraphQL `OrderDisplayFinancialStatus` (PAID) or REST `financial_status` (paid). */
export function financialStatus(value: string | null): FinancialStatus {
  return (value && FINANCIAL[value.toLowerCase()]) || 'unknown';
}

/** GraphQL `OrderDisplayFulfillmentStatus`. */
export function fulfillmentStatus(value: string): ChannelFulfillmentStatus {
  switch (value) {
    case 'FULFILLED':
      return 'fulfilled';
    case 'PARTIALLY_FULFILLED':
      return 'partially_fulfilled';
    case 'RESTOCKED':
      return 'restocked';
    case 'ON_HOLD':
      return 'on_hold';
    case 'SCHEDULED':
      return 'scheduled';
    // Nothing has shipped yet in any of these: the work is open.
    case 'UNFULFILLED':
    case 'OPEN':
    case 'PENDING_FULFILLMENT':
    case 'IN_PROGRESS':
    case 'REQUEST_DECLINED':
      return 'unfulfilled';
    default:
      return 'unknown';
  }
}

/** REST `fulfillment_status`: null, "partial", "fulfilled", "restocked". */
function restFulfillmentStatus(value: string | null): ChannelFulfillmentStatus {
  switch (value) {
    case null:
      return 'unfulfilled';
    case 'partial':
      return 'partially_fulfilled';
    case 'fulfilled':
      return 'fulfilled';
    case 'restocked':
      return 'restocked';
    default:
      return 'unknown';
  }
}

function customerOf(
  externalId: string | null,
  email: string | null,
  firstName: string | null,
  lastName: string | null,
  phone: string | null,
): Customer | null {
  if (!externalId && !email && !phone) return null;
  return { externalId, email, firstName: firstName || null, lastName: lastName || null, phone };
}

function date(text: string): Date {
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new TypeError(`not a date: ${JSON.stringify(text)}`);
  return d;
}
