/**
 * Orders in the REST shape that webhooks carry (2025-01+), modelled on the
 * real `orders/create` body in `fixtures/shopify/webhook-orders-create.json`.
 * REST money is fixed two decimals ("20.00"), unlike GraphQL's Decimal.
 */
import type { Address, Order, ShopState } from './state.ts';
import { gid } from './ids.ts';

const fixed = (cents: number) => (cents / 100).toFixed(2);
const restTime = (ms: number | null) => (ms === null ? null : new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', '+00:00'));

function set(cents: number, currency: string) {
  const m = { amount: fixed(cents), currency_code: currency };
  return { shop_money: m, presentment_money: { ...m } };
}

function address(a: Address | null) {
  if (!a) return null;
  return {
    first_name: a.firstName, last_name: a.lastName, name: [a.firstName, a.lastName].filter(Boolean).join(' '), company: a.company,
    address1: a.address1, address2: a.address2, city: a.city, province: a.province, province_code: a.provinceCode,
    country: a.country, country_code: a.countryCode, zip: a.zip, phone: a.phone, latitude: null, longitude: null,
  };
}

/** The REST representation of an order, as in `orders/*` webhook bodies. */
export function restOrder(state: ShopState, o: Order): Record<string, unknown> {
  const c = o.currency;
  let subtotal = 0;
  let current = 0;
  let tax = 0;
  let discounts = 0;
  for (const l of o.lines) {
    subtotal += l.unitCents * l.quantity - l.discountCents;
    current += l.quantity ? Math.round((l.unitCents * l.quantity - l.discountCents) * (l.currentQuantity / l.quantity)) : 0;
    tax += l.taxCents;
    discounts += l.discountCents;
  }
  const total = subtotal + tax + o.shippingCents;
  const currentTotal = current + tax + (o.cancelledAt ? 0 : o.shippingCents);
  const status = state.fulfillmentStatus(o);
  const customer = o.customerId === null ? undefined : state.customers.get(o.customerId);
  return {
    id: o.id,
    admin_graphql_api_id: gid('Order', o.id),
    app_id: null,
    buyer_accepts_marketing: false,
    cancel_reason: o.cancelReason?.toLowerCase() ?? null,
    cancelled_at: restTime(o.cancelledAt),
    closed_at: restTime(o.closedAt),
    confirmed: true,
    contact_email: o.email,
    created_at: restTime(o.createdAt),
    updated_at: restTime(o.updatedAt),
    processed_at: restTime(o.processedAt),
    currency: c,
    presentment_currency: o.presentmentCurrency,
    current_subtotal_price: fixed(current),
    current_subtotal_price_set: set(current, c),
    current_total_discounts: fixed(discounts),
    current_total_discounts_set: set(discounts, c),
    current_total_price: fixed(currentTotal),
    current_total_price_set: set(currentTotal, c),
    current_total_tax: fixed(tax),
    current_total_tax_set: set(tax, c),
    current_shipping_price_set: set(o.cancelledAt ? 0 : o.shippingCents, c),
    email: o.email,
    financial_status: o.financialStatus?.toLowerCase() ?? null,
    fulfillment_status: status === 'FULFILLED' ? 'fulfilled' : status === 'PARTIALLY_FULFILLED' ? 'partial' : null,
    name: o.name,
    note: o.note,
    note_attributes: [],
    number: o.number - 1000,
    order_number: o.number,
    phone: o.phone,
    source_name: 'channelsync-simulator',
    subtotal_price: fixed(subtotal),
    subtotal_price_set: set(subtotal, c),
    tags: o.tags.join(', '),
    tax_lines: [],
    taxes_included: false,
    test: o.test,
    total_discounts: fixed(discounts),
    total_discounts_set: set(discounts, c),
    total_line_items_price: fixed(o.lines.reduce((s, l) => s + l.unitCents * l.quantity, 0)),
    total_line_items_price_set: set(o.lines.reduce((s, l) => s + l.unitCents * l.quantity, 0), c),
    total_outstanding: fixed(o.financialStatus === 'PAID' ? 0 : currentTotal),
    total_price: fixed(total),
    total_price_set: set(total, c),
    total_shipping_price_set: set(o.shippingCents, c),
    total_tax: fixed(tax),
    total_tax_set: set(tax, c),
    total_weight: 0,
    billing_address: address(o.billingAddress),
    shipping_address: address(o.shippingAddress),
    customer: customer
      ? { id: customer.id, admin_graphql_api_id: gid('Customer', customer.id), email: customer.email, first_name: customer.firstName, last_name: customer.lastName, phone: customer.phone }
      : null,
    line_items: o.lines.map((l) => {
      const fulfilled = state.fulfilledQuantity(o, l.id);
      return {
        id: l.id,
        admin_graphql_api_id: gid('LineItem', l.id),
        current_quantity: l.currentQuantity,
        fulfillable_quantity: Math.max(0, l.currentQuantity - fulfilled),
        fulfillment_service: 'manual',
        fulfillment_status: fulfilled >= l.quantity ? 'fulfilled' : fulfilled > 0 ? 'partial' : null,
        gift_card: false,
        grams: 0,
        name: l.variantTitle && l.variantTitle !== 'Default Title' ? `${l.title} - ${l.variantTitle}` : l.title,
        price: fixed(l.unitCents),
        price_set: set(l.unitCents, c),
        product_exists: l.productId !== null && state.products.has(l.productId),
        product_id: l.productId,
        properties: l.attributes.map((a) => ({ name: a.key, value: a.value })),
        quantity: l.quantity,
        requires_shipping: l.requiresShipping,
        sku: l.sku ?? '',
        taxable: l.taxable,
        title: l.title,
        total_discount: fixed(l.discountCents),
        total_discount_set: set(l.discountCents, c),
        variant_id: l.variantId,
        variant_inventory_management: l.variantId === null ? null : 'shopify',
        variant_title: l.variantTitle,
        vendor: l.vendor,
        tax_lines: l.taxCents ? [{ price: fixed(l.taxCents), price_set: set(l.taxCents, c), rate: 0.1, title: 'Tax', channel_liable: false }] : [],
        duties: [],
        discount_allocations: [],
      };
    }),
    fulfillments: o.fulfillmentIds.map((id) => {
      const f = state.fulfillments.get(id)!;
      return {
        id: f.id, admin_graphql_api_id: gid('Fulfillment', f.id), created_at: restTime(f.createdAt), updated_at: restTime(f.updatedAt),
        name: f.name, order_id: o.id, status: f.status.toLowerCase(), location_id: f.locationId,
        tracking_company: f.tracking[0]?.company ?? null, tracking_number: f.tracking[0]?.number ?? null,
        tracking_numbers: f.tracking.map((t) => t.number).filter(Boolean), tracking_url: f.tracking[0]?.url ?? null,
        tracking_urls: f.tracking.map((t) => t.url).filter(Boolean),
        line_items: f.lines.map((fl) => ({ id: fl.lineItemId, quantity: fl.quantity })),
      };
    }),
    // https://shopify.dev/docs/api/admin-rest/latest/resources/refund#resource-object
    refunds: (o.refunds ?? []).map((r) => ({
      id: r.id, admin_graphql_api_id: gid('Refund', r.id), order_id: o.id, created_at: restTime(r.createdAt), processed_at: restTime(r.createdAt), note: r.note,
      refund_line_items: r.lines.map((rl) => ({
        id: rl.id, line_item_id: rl.lineItemId, quantity: rl.quantity, restock_type: rl.restockType.toLowerCase(), subtotal: fixed(rl.subtotalCents), subtotal_set: set(rl.subtotalCents, c),
      })),
      transactions: (o.transactions ?? []).filter((t) => r.transactionIds.includes(t.id)).map((t) => ({
        id: t.id, admin_graphql_api_id: gid('OrderTransaction', t.id), kind: t.kind.toLowerCase(), status: t.status.toLowerCase(), gateway: t.gateway, amount: fixed(t.amountCents), parent_id: t.parentId,
      })),
    })),
    shipping_lines: o.shippingTitle === null ? [] : [{ title: o.shippingTitle, code: o.shippingTitle, price: fixed(o.shippingCents), price_set: set(o.shippingCents, c) }],
  };
}
