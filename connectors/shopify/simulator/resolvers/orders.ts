/**
 * Orders: `orders`, `order`, `ordersCount`, `orderCreate` (`orderCancel` and `refundCreate`: after-sales.ts).
 */

import type { Address, FinancialStatus, LineItem, Order, ShopState, Transaction } from '../state.ts';
import { emptyAddress } from '../state.ts';
import { normalizeTags } from './products.ts';
import { parseGid, toCents } from '../ids.ts';
import { compare, compareText, compareTime, matches, parseSearch, type FieldMatcher } from '../search.ts';
import { sortedConnection, type ConnectionArgs, type Ctx, type UserError } from './context.ts';
import { orderView } from './views.ts';

type SortKey = 'UPDATED_AT' | 'CREATED_AT' | 'ID' | 'PROCESSED_AT' | 'ORDER_NUMBER';

const sortValue: Record<SortKey, (o: Order) => number> = {
  UPDATED_AT: (o) => o.updatedAt,
  CREATED_AT: (o) => o.createdAt,
  PROCESSED_AT: (o) => o.processedAt,
  ORDER_NUMBER: (o) => o.number,
  ID: (o) => o.id,
};

/** Search fields of `orders(query:)`: https://shopify.dev/docs/api/admin-graphql/latest/queries/orders#argument-query */
function orderFilters(state: ShopState): Record<string, FieldMatcher<Order>> {
  return {
    updated_at: (o, t) => compareTime(o.updatedAt, t),
    created_at: (o, t) => compareTime(o.createdAt, t),
    processed_at: (o, t) => compareTime(o.processedAt, t),
    id: (o, t) => compare(o.id, Number(t.value), t.op),
    name: (o, t) => compareText(o.name.replace(/^#/, ''), { ...t, value: t.value.replace(/^#/, '') }),
    email: (o, t) => compareText(o.email, t),
    tag: (o, t) => o.tags.some((x) => compareText(x, t)),
    sku: (o, t) => o.lines.some((l) => compareText(l.sku, t)),
    test: (o, t) => String(o.test) === t.value,
    financial_status: (o, t) => o.financialStatus?.toLowerCase() === t.value.toLowerCase(),
    fulfillment_status: (o, t) => {
      const s = state.fulfillmentStatus(o).toLowerCase();
      const v = t.value.toLowerCase();
      if (v === 'shipped') return s === 'fulfilled';
      if (v === 'unshipped') return s === 'unfulfilled';
      return s === v;
    },
    status: (o, t) => {
      const v = t.value.toLowerCase();
      if (v === 'open') return o.closedAt === null && o.cancelledAt === null;
      if (v === 'closed') return o.closedAt !== null;
      if (v === 'cancelled') return o.cancelledAt !== null;
      return v === 'any';
    },
    default: (o, t) => compareText(o.name.replace(/^#/, ''), { ...t, value: t.value.replace(/^#/, '') }) || compareText(o.email, t),
  };
}

function filterOrders(state: ShopState, query: string | null | undefined): Order[] {
  const q = parseSearch(query);
  const fields = orderFilters(state);
  const out: Order[] = [];
  for (const o of state.orders.values()) if (matches(o, q, fields)) out.push(o);
  return out;
}

/**
 * https://shopify.dev/docs/api/admin-graphql/latest/queries/orders
 * Sorted by the sort key then id, so equal timestamps page deterministically;
 * the cursor holds both (`last_id`, `last_value`), like Shopify's.
 */
export function orders(args: ConnectionArgs & { sortKey?: SortKey | null; query?: string | null }, ctx: Ctx) {
  const key = (args.sortKey && args.sortKey in sortValue ? args.sortKey : 'ID') as SortKey;
  return sortedConnection(filterOrders(ctx.state, args.query), args, (o) => orderView(ctx.state, o), sortValue[key]);
}

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/order */
export function order(args: { id: string }, ctx: Ctx) {
  const o = ctx.state.orders.get(parseGid(args.id, 'Order') ?? -1);
  return o ? orderView(ctx.state, o) : null;
}

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/ordersCount */
export function ordersCount(args: { query?: string | null; limit?: number | null }, ctx: Ctx) {
  const n = filterOrders(ctx.state, args.query).length;
  const limit = args.limit === undefined ? 10000 : args.limit;
  if (limit !== null && n > limit) return { count: limit, precision: 'AT_LEAST' };
  return { count: n, precision: 'EXACT' };
}

interface MoneyBagInput { shopMoney?: { amount: string | number; currencyCode: string } }
interface AddressInput { firstName?: string; lastName?: string; company?: string; address1?: string; address2?: string; city?: string; province?: string; provinceCode?: string; country?: string; countryCode?: string; zip?: string; phone?: string }
interface OrderCreateInput {
  customAttributes?: Array<{ key: string; value: string }> | null;
  email?: string | null; phone?: string | null; note?: string | null; tags?: string[] | null; test?: boolean | null; currency?: string | null;
  financialStatus?: string | null; processedAt?: string | null; name?: string | null;
  shippingAddress?: AddressInput | null; billingAddress?: AddressInput | null;
  customer?: { toUpsert?: { email?: string; firstName?: string; lastName?: string }; toAssociate?: { id: string } } | null;
  lineItems?: Array<{
    variantId?: string | null; productId?: string | null; quantity: number; title?: string | null; sku?: string | null; vendor?: string | null;
    variantTitle?: string | null; priceSet?: MoneyBagInput | null; requiresShipping?: boolean | null; taxable?: boolean | null;
    properties?: Array<{ name: string; value: string }> | null; taxLines?: Array<{ priceSet?: MoneyBagInput }> | null;
  }> | null;
  shippingLines?: Array<{ title?: string; priceSet?: MoneyBagInput }> | null;
  transactions?: Array<{ kind?: string; status?: string; gateway?: string; amountSet: MoneyBagInput }> | null;
}

function address(a: AddressInput | null | undefined): Address | null {
  if (!a) return null;
  return { ...emptyAddress(), ...a, countryCode: a.countryCode ?? null, provinceCode: a.provinceCode ?? null } as Address;
}

/** Build an order from `OrderCreateOrderInput`; returns userErrors instead when it is invalid. */
export function buildOrder(state: ShopState, input: OrderCreateInput): Order | UserError[] {
  const lines: LineItem[] = [];
  const errors: UserError[] = [];
  (input.lineItems ?? []).forEach((li, i) => {
    const variantId = li.variantId ? parseGid(li.variantId, 'ProductVariant') : null;
    const variant = variantId === null ? undefined : state.variants.get(variantId);
    if (li.variantId && !variant) {
      errors.push({ field: ['order', 'lineItems', String(i), 'variantId'], message: 'invalid', code: 'INVALID' });
      return;
    }
    const product = variant ? state.products.get(variant.productId) : undefined;
    if (!variant && !li.title) {
      errors.push({ field: ['order', 'lineItems', String(i), 'title'], message: "can't be blank", code: 'BLANK' });
      return;
    }
    const unitCents = li.priceSet?.shopMoney ? toCents(li.priceSet.shopMoney.amount) : variant?.priceCents ?? 0;
    lines.push({
      id: state.nextId(),
      sku: li.sku ?? variant?.sku ?? null,
      title: li.title ?? product?.title ?? '',
      variantTitle: li.variantTitle ?? variant?.title ?? null,
      quantity: li.quantity,
      currentQuantity: li.quantity,
      unitCents,
      discountCents: 0,
      taxCents: (li.taxLines ?? []).reduce((s, t) => s + toCents(t.priceSet?.shopMoney?.amount), 0),
      variantId: variant?.id ?? null,
      productId: variant?.productId ?? (li.productId ? parseGid(li.productId, 'Product') : null),
      taxable: li.taxable ?? true,
      requiresShipping: li.requiresShipping ?? true,
      vendor: li.vendor ?? product?.vendor ?? null,
      attributes: (li.properties ?? []).map((p) => ({ key: p.name, value: p.value })),
    });
  });
  if (errors.length) return errors;
  if (lines.length === 0) return [{ field: ['order', 'lineItems'], message: 'Line items must have at least one line item', code: 'INVALID' }];
  const t = input.processedAt ? Math.min(Date.parse(input.processedAt), state.now()) : state.now();
  const created = state.now();
  const shippingCents = (input.shippingLines ?? []).reduce((s, l) => s + toCents(l.priceSet?.shopMoney?.amount), 0);
  const total = lines.reduce((s, l) => s + l.unitCents * l.quantity + l.taxCents, 0) + shippingCents;
  const paidCents = (input.transactions ?? [])
    .filter((x) => (x.kind ?? 'SALE') === 'SALE' && (x.status ?? 'SUCCESS') === 'SUCCESS')
    .reduce((s, x) => s + toCents(x.amountSet.shopMoney?.amount), 0);
  // Neither a status nor a payment: Shopify leaves the status unset (null, the balance outstanding),
  // as recorded in order-create-math-matrix's pendingNoTax case. A free order is paid.
  const financialStatus: FinancialStatus | null = input.financialStatus
    ? (input.financialStatus as FinancialStatus)
    : paidCents > 0 ? (paidCents >= total ? 'PAID' : 'PARTIALLY_PAID') : total === 0 ? 'PAID' : null;
  const upsert = input.customer?.toUpsert;
  const customer = upsert?.email || input.email ? state.addCustomer(upsert?.email ?? input.email ?? null, upsert?.firstName ?? input.shippingAddress?.firstName ?? null, upsert?.lastName ?? input.shippingAddress?.lastName ?? null) : null;
  const number = state.nextOrderNumber();
  return {
    id: state.nextId(), number, name: input.name ?? `#${number}`, createdAt: created, updatedAt: created, processedAt: t,
    cancelledAt: null, cancelReason: null, closedAt: null,
    email: input.email ?? upsert?.email ?? null, phone: input.phone ?? null, note: input.note ?? null, tags: normalizeTags(input.tags),
    currency: input.currency ?? state.currency, presentmentCurrency: input.currency ?? state.currency, test: input.test ?? false,
    financialStatus, lines, shippingCents, shippingTitle: input.shippingLines?.[0]?.title ?? null,
    shippingAddress: address(input.shippingAddress), billingAddress: address(input.billingAddress ?? input.shippingAddress),
    customerId: customer?.id ?? null, fulfillmentOrderIds: [], fulfillmentIds: [],
    transactions: saleTransactions(state, input, financialStatus, total, created),
    refunds: [],
    customAttributes: (input.customAttributes ?? []).map((a) => ({ key: a.key, value: a.value })),
  };
}

/**
 * The sales of a new order: the transactions given (SALE, SUCCESS), or for an
 * order created paid without any, one manual sale of its total, as Shopify
 * records an order created with `financialStatus: PAID`.
 */
function saleTransactions(state: ShopState, input: OrderCreateInput, status: FinancialStatus | null, totalCents: number, at: number): Transaction[] {
  const given = (input.transactions ?? []).filter((x) => (x.kind ?? 'SALE') === 'SALE' && (x.status ?? 'SUCCESS') === 'SUCCESS');
  const sales = given.length
    ? given.map((x) => ({ gateway: x.gateway ?? 'manual', amountCents: toCents(x.amountSet.shopMoney?.amount) }))
    : status === 'PAID' && totalCents > 0 ? [{ gateway: 'manual', amountCents: totalCents }] : [];
  return sales.map((x) => ({ id: state.nextId(), kind: 'SALE' as const, status: 'SUCCESS' as const, gateway: x.gateway, amountCents: x.amountCents, parentId: null, createdAt: at }));
}

/** https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderCreate */
export function orderCreate(args: { order: OrderCreateInput; options?: { inventoryBehaviour?: string | null } | null }, ctx: Ctx) {
  const built = buildOrder(ctx.state, args.order);
  if (Array.isArray(built)) return { order: null, userErrors: built };
  // BYPASS is Shopify's default: stock only moves when asked to.
  const behaviour = args.options?.inventoryBehaviour ?? 'BYPASS';
  if (behaviour !== 'BYPASS') {
    for (const l of built.lines) if (l.variantId !== null) ctx.state.adjustAvailable(ctx.state.variants.get(l.variantId)?.inventoryItemId, -l.quantity);
  }
  ctx.state.insertOrder(built);
  return { order: orderView(ctx.state, built), userErrors: [] };
}

