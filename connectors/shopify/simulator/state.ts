/**
 * The simulated shop: everything the Admin API reads and writes, in memory.
 *
 * Records are plain objects keyed by numeric id (the number in the gid), and
 * money is kept in integer cents, so that seeding 10,000 orders takes a
 * fraction of a second. GraphQL views over them live in `resolvers/`.
 */
import { EventEmitter } from 'node:events';

export interface Location { id: number; name: string }

export interface Address {
  firstName: string | null; lastName: string | null; company: string | null;
  address1: string | null; address2: string | null; city: string | null;
  province: string | null; provinceCode: string | null; country: string | null; countryCode: string | null;
  zip: string | null; phone: string | null;
}

export interface Customer { id: number; email: string | null; firstName: string | null; lastName: string | null; phone: string | null }

export interface Product {
  id: number; title: string; handle: string; status: string; vendor: string; productType: string;
  variantIds: number[]; createdAt: number; updatedAt: number;
  /** Shopify keeps a product's tags unique and sorted. */
  tags?: string[];
}

export interface Variant {
  id: number; productId: number; title: string; sku: string | null; priceCents: number; inventoryItemId: number;
  createdAt: number; updatedAt: number;
  barcode?: string | null;
  /** DENY (default) or CONTINUE selling when out of stock. */
  inventoryPolicy?: string;
}

/**
 * Stock at one location. Shopify's `on_hand` is `available + committed`
 * here (no reserved/damaged stock is simulated): an order commits stock,
 * a fulfillment takes it off hand.
 */
export interface Level { available: number; committed: number; updatedAt: number | null }

export interface InventoryItem {
  id: number; variantId: number; sku: string | null; tracked: boolean; requiresShipping: boolean;
  levels: Map<number, Level>; createdAt: number; updatedAt: number;
}

export interface LineItem {
  id: number; sku: string | null; title: string; variantTitle: string | null; quantity: number; currentQuantity: number;
  unitCents: number; discountCents: number; taxCents: number; variantId: number | null; productId: number | null;
  taxable: boolean; requiresShipping: boolean; vendor: string | null; attributes: Array<{ key: string; value: string }>;
}

export type FinancialStatus = 'PAID' | 'PENDING' | 'AUTHORIZED' | 'PARTIALLY_PAID' | 'REFUNDED' | 'VOIDED' | 'PARTIALLY_REFUNDED';

export interface Order {
  id: number; number: number; name: string; createdAt: number; updatedAt: number; processedAt: number;
  cancelledAt: number | null; cancelReason: string | null; closedAt: number | null;
  /** The staff note orderCancel was given (`Order.cancellation.staffNote`). */
  cancelStaffNote?: string | null;
  email: string | null; phone: string | null; note: string | null; tags: string[]; currency: string; presentmentCurrency: string;
  test: boolean;
  /** null: created without a status or a payment; Shopify then reads `displayFinancialStatus: null` (captures: order-create-math-matrix pendingNoTax, orderCancel-parity, orderClose-parity). */
  financialStatus: FinancialStatus | null; lines: LineItem[];
  shippingCents: number; shippingTitle: string | null;
  shippingAddress: Address | null; billingAddress: Address | null; customerId: number | null;
  fulfillmentOrderIds: number[]; fulfillmentIds: number[];
  /** Money movements: the sale(s) at creation, then refunds against them. Absent in stores saved before refunds existed. */
  transactions?: Transaction[];
  refunds?: Refund[];
  /** `customAttributes` given at creation (note attributes). Absent in stores saved before they were kept. */
  customAttributes?: Array<{ key: string; value: string }>;
}

/** An `OrderTransaction`: a SALE when paid, a REFUND (with its parent) when money went back. */
export interface Transaction {
  id: number; kind: 'SALE' | 'REFUND'; status: 'SUCCESS'; gateway: string; amountCents: number; parentId: number | null; createdAt: number;
}

/** A `Refund` made with `refundCreate`. */
export interface Refund {
  id: number; createdAt: number; note: string | null; shippingCents: number; transactionIds: number[];
  lines: Array<{ id: number; lineItemId: number; quantity: number; restockType: 'RETURN' | 'CANCEL' | 'LEGACY_RESTOCK' | 'NO_RESTOCK'; subtotalCents: number }>;
}

export type FulfillmentOrderStatus = 'OPEN' | 'IN_PROGRESS' | 'CLOSED' | 'CANCELLED' | 'INCOMPLETE' | 'ON_HOLD' | 'SCHEDULED';

export interface FulfillmentOrder {
  id: number; orderId: number; locationId: number; status: FulfillmentOrderStatus; requestStatus: string;
  lines: Array<{ id: number; lineItemId: number; total: number; remaining: number }>;
  createdAt: number; updatedAt: number;
  /** Holds placed by staff or apps (fulfillmentOrderHold); ON_HOLD while any is left. Absent in stores saved before holds existed. */
  holds?: FulfillmentHold[];
  /** The fulfillment order a partial hold split this one from: releasing the last hold merges it back. */
  heldFrom?: number;
  /** fulfillmentOrderReportProgress put it IN_PROGRESS (undone by fulfillmentOrderOpen). */
  progressReported?: boolean;
  /** fulfillmentOrderReschedule's date (otherwise the hour it was created in) and the deadline set by fulfillmentOrdersSetFulfillmentDeadline. */
  fulfillAt?: number;
  fulfillBy?: number;
}

/** Fulfillment orders whose work is over, whatever their lines say. */
const DONE_STATUSES: ReadonlySet<FulfillmentOrderStatus> = new Set(['CLOSED', 'CANCELLED', 'INCOMPLETE']);

/** An app may keep this many holds on one fulfillment order (FULFILLMENT_ORDER_HOLD_LIMIT_REACHED). */
export const HOLD_LIMIT = 10;

/** Fulfillment orders that may be merged into one: open, of one order, at one location, no progress reported. */
export function mergeable(fo: FulfillmentOrder, others: Iterable<FulfillmentOrder>): boolean {
  if (fo.status !== 'OPEN' || fo.progressReported) return false;
  for (const o of others) if (o.id !== fo.id && o.orderId === fo.orderId && o.locationId === fo.locationId && o.status === 'OPEN' && !o.progressReported) return true;
  return false;
}

/** A `FulfillmentHold`: why a fulfillment order must not be fulfilled yet. */
export interface FulfillmentHold { id: number; handle: string; reason: string; reasonNotes: string | null }

export interface Fulfillment {
  id: number; orderId: number; name: string; status: 'SUCCESS' | 'CANCELLED'; locationId: number;
  createdAt: number; updatedAt: number; notifyCustomer: boolean;
  tracking: Array<{ company: string | null; number: string | null; url: string | null }>;
  lines: Array<{ id: number; lineItemId: number; quantity: number }>;
  fulfillmentOrderIds: number[];
  /** Carrier events (fulfillmentEventCreate), oldest first. */
  events?: Array<{
    id: number; status: string; message: string | null; happenedAt: number; createdAt: number; estimatedDeliveryAt?: number | null;
    city?: string | null; province?: string | null; country?: string | null; zip?: string | null; address1?: string | null; latitude?: number | null; longitude?: number | null;
  }>;
}

/** What changed, for webhooks: Shopify topics in REST form. */
export type OrderTopic = 'orders/create' | 'orders/updated' | 'orders/cancelled' | 'orders/fulfilled' | 'orders/paid';

/** What `ShopState.snapshot` saves: the counters and the records; indexes are rebuilt. */
export interface ShopSnapshot {
  seq: number; lastTimestamp: number; orderNumber: number; primaryLocationId: number;
  locations: Map<number, Location>; products: Map<number, Product>; variants: Map<number, Variant>;
  inventoryItems: Map<number, InventoryItem>; customers: Map<number, Customer>; orders: Map<number, Order>;
  fulfillmentOrders: Map<number, FulfillmentOrder>; fulfillments: Map<number, Fulfillment>;
}

/** Emits `order` (topic, order) whenever an order is created or changes. */
export class ShopState extends EventEmitter<{ order: [OrderTopic, Order] }> {
  readonly shopName = 'channelsync-simulator';
  readonly currency = 'USD';
  private seq = 1_000_000;
  private lastTimestamp = 0;
  private orderNumber = 1000;
  /**
   * How long Shopify's cancel job runs after `orderCancel` answers; a second
   * cancel meanwhile is refused with "Cancellation is already in progress".
   * The job's real duration is not recorded, so 0 (off) unless a test sets it.
   */
  cancelJobMs = 0;

  readonly locations = new Map<number, Location>();
  readonly products = new Map<number, Product>();
  readonly variants = new Map<number, Variant>();
  readonly inventoryItems = new Map<number, InventoryItem>();
  readonly inventoryBySku = new Map<string, number>();
  readonly customers = new Map<number, Customer>();
  readonly orders = new Map<number, Order>();
  readonly lineItemOrder = new Map<number, number>();
  readonly fulfillmentOrders = new Map<number, FulfillmentOrder>();
  readonly fulfillmentOrderLineOwner = new Map<number, number>();
  readonly fulfillments = new Map<number, Fulfillment>();
  /** Set by the constructor; `restore` replaces it with the saved shop's. */
  primaryLocationId: number;
  /**
   * Inventory items whose stock moves by one unit (alternately down and up) just
   * before every `inventorySetQuantities` that touches them: each compare-and-set
   * then finds `changeFromQuantity` stale, as on a till that sells as fast as it is set.
   */
  readonly contended = new Map<number, number>();

  constructor(private readonly clock: () => number = Date.now) {
    super();
    this.primaryLocationId = this.addLocation('Shop location').id;
  }

  /**
   * The shop as plain data (Maps included) for `connectors/simulator-file.ts`.
   * Not kept: `contended` (a test switch) and anything outside the state
   * (tokens, webhook subscriptions, bulk operations, idempotency keys).
   */
  snapshot(): ShopSnapshot {
    return {
      seq: this.seq, lastTimestamp: this.lastTimestamp, orderNumber: this.orderNumber, primaryLocationId: this.primaryLocationId,
      locations: this.locations, products: this.products, variants: this.variants, inventoryItems: this.inventoryItems,
      customers: this.customers, orders: this.orders, fulfillmentOrders: this.fulfillmentOrders, fulfillments: this.fulfillments,
    };
  }

  /**
   * Replaces this shop with a snapshot. `clean` false (the snapshot was not
   * written at a stop): ids and order numbers may have been handed out after
   * it, so the counters move on by a margin far above what a second of the
   * simulator can use, and no id is ever handed out twice. Shopify's ids have
   * gaps anyway; an order number gap is what a deleted draft leaves too.
   */
  restore(s: ShopSnapshot, clean: boolean): void {
    this.seq = s.seq + (clean ? 0 : 1_000_000);
    this.orderNumber = s.orderNumber + (clean ? 0 : 10_000);
    this.lastTimestamp = s.lastTimestamp;
    this.primaryLocationId = s.primaryLocationId;
    const fill = <K, V>(target: Map<K, V>, from: Map<K, V>) => {
      target.clear();
      for (const [k, v] of from) target.set(k, v);
    };
    fill(this.locations, s.locations);
    fill(this.products, s.products);
    fill(this.variants, s.variants);
    fill(this.inventoryItems, s.inventoryItems);
    fill(this.customers, s.customers);
    fill(this.orders, s.orders);
    fill(this.fulfillmentOrders, s.fulfillmentOrders);
    fill(this.fulfillments, s.fulfillments);
    // The indexes point at the restored objects, so they are rebuilt, not saved.
    this.inventoryBySku.clear();
    for (const item of this.inventoryItems.values()) if (item.sku) this.inventoryBySku.set(item.sku, item.id);
    this.customersByEmail.clear();
    for (const c of this.customers.values()) if (c.email) this.customersByEmail.set(c.email, c);
    this.lineItemOrder.clear();
    for (const o of this.orders.values()) for (const l of o.lines) this.lineItemOrder.set(l.id, o.id);
    this.fulfillmentOrderLineOwner.clear();
    for (const fo of this.fulfillmentOrders.values()) for (const l of fo.lines) this.fulfillmentOrderLineOwner.set(l.id, fo.id);
    this.contended.clear();
  }

  /** A fresh id, increasing across every type like Shopify's. */
  nextId(): number {
    this.seq += 1 + Math.floor(Math.random() * 3);
    return this.seq;
  }

  /**
   * Now, strictly increasing: two changes in the same millisecond still get
   * different `updatedAt`, so "newer wins" and cursors stay deterministic.
   */
  now(): number {
    const t = Math.max(this.clock(), this.lastTimestamp + 1);
    this.lastTimestamp = t;
    return t;
  }

  /** The next move of a contended item: -1, +1, -1, … */
  contend(itemId: number): number {
    const moves = (this.contended.get(itemId) ?? 0) + 1;
    this.contended.set(itemId, moves);
    return moves % 2 === 1 ? -1 : 1;
  }

  addLocation(name: string): Location {
    const loc = { id: this.nextId(), name };
    this.locations.set(loc.id, loc);
    return loc;
  }

  nextOrderNumber(): number {
    this.orderNumber += 1;
    return this.orderNumber;
  }

  private readonly customersByEmail = new Map<string, Customer>();

  /** The customer with this email, created when new (orderCreate's `toUpsert`). */
  addCustomer(email: string | null, firstName: string | null, lastName: string | null): Customer {
    const known = email ? this.customersByEmail.get(email) : undefined;
    if (known) return known;
    const c: Customer = { id: this.nextId(), email, firstName, lastName, phone: null };
    this.customers.set(c.id, c);
    if (email) this.customersByEmail.set(email, c);
    return c;
  }

  /** Seeding: no lookup of an existing customer by email (emails are unique there). */
  addCustomerFast(email: string, firstName: string, lastName: string): Customer {
    const c: Customer = { id: this.nextId(), email, firstName, lastName, phone: null };
    this.customers.set(c.id, c);
    this.customersByEmail.set(email, c);
    return c;
  }

  /** Create a product with variants; each variant gets an inventory item stocked at the primary location. */
  addProduct(input: {
    title: string; vendor?: string; status?: string; productType?: string;
    variants: Array<{ title?: string; sku: string | null; priceCents: number; stock?: number; tracked?: boolean }>;
  }): Product {
    const t = this.now();
    const product: Product = {
      id: this.nextId(), title: input.title, handle: handleize(input.title), status: input.status ?? 'ACTIVE',
      vendor: input.vendor ?? this.shopName, productType: input.productType ?? '', variantIds: [], createdAt: t, updatedAt: t,
    };
    this.products.set(product.id, product);
    for (const v of input.variants) this.addVariant(product, v);
    return product;
  }

  /** Remove a product with its variants and their inventory items. */
  removeProduct(product: Product): void {
    for (const id of product.variantIds) {
      const v = this.variants.get(id);
      if (!v) continue;
      if (v.sku && this.inventoryBySku.get(v.sku) === v.inventoryItemId) this.inventoryBySku.delete(v.sku);
      this.inventoryItems.delete(v.inventoryItemId);
      this.variants.delete(id);
    }
    this.products.delete(product.id);
  }

  addVariant(product: Product, v: { title?: string; sku: string | null; priceCents: number; stock?: number; tracked?: boolean }): Variant {
    const t = this.now();
    const itemId = this.nextId();
    const variant: Variant = {
      id: this.nextId(), productId: product.id, title: v.title ?? 'Default Title', sku: v.sku, priceCents: v.priceCents,
      inventoryItemId: itemId, createdAt: t, updatedAt: t,
    };
    const stock = v.stock ?? 0;
    const item: InventoryItem = {
      id: itemId, variantId: variant.id, sku: v.sku, tracked: v.tracked ?? true, requiresShipping: true,
      levels: new Map([[this.primaryLocationId, { available: stock, committed: 0, updatedAt: t }]]), createdAt: t, updatedAt: t,
    };
    this.variants.set(variant.id, variant);
    this.inventoryItems.set(item.id, item);
    if (v.sku) this.inventoryBySku.set(v.sku, item.id);
    product.variantIds.push(variant.id);
    return variant;
  }

  variantBySku(sku: string): Variant | undefined {
    const itemId = this.inventoryBySku.get(sku);
    const item = itemId === undefined ? undefined : this.inventoryItems.get(itemId);
    return item ? this.variants.get(item.variantId) : undefined;
  }

  /** Insert a built order, open one fulfillment order for its shippable lines, and announce it. */
  insertOrder(order: Order, emit = true): Order {
    this.orders.set(order.id, order);
    for (const l of order.lines) this.lineItemOrder.set(l.id, order.id);
    const lines = order.lines.filter((l) => l.requiresShipping && l.currentQuantity > 0);
    if (lines.length) {
      const fo: FulfillmentOrder = {
        id: this.nextId(), orderId: order.id, locationId: this.primaryLocationId, status: 'OPEN', requestStatus: 'UNSUBMITTED',
        lines: lines.map((l) => ({ id: this.nextId(), lineItemId: l.id, total: l.currentQuantity, remaining: l.currentQuantity })),
        createdAt: order.createdAt, updatedAt: order.createdAt,
      };
      this.fulfillmentOrders.set(fo.id, fo);
      for (const l of fo.lines) this.fulfillmentOrderLineOwner.set(l.id, fo.id);
      order.fulfillmentOrderIds.push(fo.id);
    }
    if (emit) this.emit('order', 'orders/create', order);
    return order;
  }

  /** Mark an order changed now and announce it. */
  touch(order: Order, topic: OrderTopic = 'orders/updated'): void {
    order.updatedAt = this.now();
    this.emit('order', topic, order);
  }

  /** Cancel an order: close its open fulfillment orders, zero its quantities. */
  cancel(order: Order, reason: string, restock: boolean, staffNote: string | null = null): void {
    const t = this.now();
    order.cancelledAt = t;
    order.cancelReason = reason;
    order.cancelStaffNote = staffNote;
    order.closedAt = t;
    for (const foId of order.fulfillmentOrderIds) {
      const fo = this.fulfillmentOrders.get(foId);
      if (fo && (fo.status === 'OPEN' || fo.status === 'IN_PROGRESS' || fo.status === 'SCHEDULED' || fo.status === 'ON_HOLD')) {
        fo.status = fo.lines.some((l) => l.remaining < l.total) ? 'INCOMPLETE' : 'CANCELLED';
        fo.updatedAt = t;
        for (const l of fo.lines) {
          if (restock) {
            const line = order.lines.find((x) => x.id === l.lineItemId);
            if (line?.variantId) this.adjustAvailable(this.variants.get(line.variantId)?.inventoryItemId, l.remaining);
          }
          l.remaining = 0;
        }
      }
    }
    for (const l of order.lines) l.currentQuantity = this.fulfilledQuantity(order, l.id);
    order.updatedAt = t;
    this.emit('order', 'orders/cancelled', order);
    this.emit('order', 'orders/updated', order);
  }

  /** Move stock between available and committed (`delta` > 0 releases a commitment). */
  adjustAvailable(itemId: number | undefined, delta: number): void {
    const item = itemId === undefined ? undefined : this.inventoryItems.get(itemId);
    const level = item?.levels.get(this.primaryLocationId);
    if (!item || !level || !item.tracked) return;
    level.available += delta;
    level.committed = Math.max(0, level.committed - delta);
    level.updatedAt = this.now();
  }

  /** A shipment takes committed stock off hand. */
  shipCommitted(itemId: number | undefined, quantity: number): void {
    const item = itemId === undefined ? undefined : this.inventoryItems.get(itemId);
    const level = item?.levels.get(this.primaryLocationId);
    if (!item || !level || !item.tracked) return;
    level.committed = Math.max(0, level.committed - quantity);
    level.updatedAt = this.now();
  }

  /** A cancelled shipment puts its units back on hand, committed to the order again. */
  unshipCommitted(itemId: number | undefined, quantity: number): void {
    const item = itemId === undefined ? undefined : this.inventoryItems.get(itemId);
    const level = item?.levels.get(this.primaryLocationId);
    if (!item || !level || !item.tracked) return;
    level.committed += quantity;
    level.updatedAt = this.now();
  }

  fulfilledQuantity(order: Order, lineItemId: number): number {
    let q = 0;
    for (const fid of order.fulfillmentIds) {
      const f = this.fulfillments.get(fid);
      if (f?.status !== 'SUCCESS') continue;
      for (const l of f.lines) if (l.lineItemId === lineItemId) q += l.quantity;
    }
    return q;
  }

  /** Units of a line waiting on held fulfillment orders. */
  heldQuantity(order: Order, lineItemId: number): number {
    let q = 0;
    for (const id of order.fulfillmentOrderIds) {
      const fo = this.fulfillmentOrders.get(id);
      if (fo?.status !== 'ON_HOLD') continue;
      for (const l of fo.lines) if (l.lineItemId === lineItemId) q += l.remaining;
    }
    return q;
  }

  /**
   * Shopify's `displayFulfillmentStatus`, derived from fulfillment orders and fulfillments.
   * Before anything ships: ON_HOLD when every fulfillment order with work left is held,
   * IN_PROGRESS when every one has had progress reported (captures: release-hold-selective,
   * fulfillment-order-lifecycle; a partial hold leaves the order UNFULFILLED).
   */
  fulfillmentStatus(order: Order): string {
    let total = 0;
    let done = 0;
    for (const l of order.lines) {
      if (!l.requiresShipping) continue;
      total += l.quantity;
      done += this.fulfilledQuantity(order, l.id);
    }
    if (total === 0) return order.fulfillmentIds.length ? 'FULFILLED' : 'UNFULFILLED';
    if (done === 0) {
      const live = order.fulfillmentOrderIds.map((id) => this.fulfillmentOrders.get(id)).filter((fo): fo is FulfillmentOrder => !!fo && !DONE_STATUSES.has(fo.status) && fo.lines.some((l) => l.remaining > 0));
      if (live.length && live.every((fo) => fo.status === 'ON_HOLD')) return 'ON_HOLD';
      if (live.length && live.every((fo) => fo.status === 'IN_PROGRESS' && fo.progressReported)) return 'IN_PROGRESS';
      return 'UNFULFILLED';
    }
    // A closed fulfillment order can show units remaining (fulfillmentCancel leaves it so, recorded) without work left.
    const open = order.fulfillmentOrderIds.some((id) => {
      const fo = this.fulfillmentOrders.get(id);
      return fo && !DONE_STATUSES.has(fo.status) && fo.lines.some((l) => l.remaining > 0);
    });
    return open ? 'PARTIALLY_FULFILLED' : 'FULFILLED';
  }
}

export function handleize(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

export function emptyAddress(): Address {
  return { firstName: null, lastName: null, company: null, address1: null, address2: null, city: null, province: null, provinceCode: null, country: null, countryCode: null, zip: null, phone: null };
}
