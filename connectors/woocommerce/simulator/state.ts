/**
 * The simulated store's data and the WooCommerce behaviour around it: shared
 * post ids, one-second modified times, stock reduced on payment and restored
 * on cancellation or restocking refunds, system notes. Serializers reproduce
 * the JSON shapes recorded from WooCommerce 7.9 (captures/rest-v3.json).
 */
import { randomBytes } from 'node:crypto';
import { addMoney, mulMoney, subMoney, toUnits, money } from '../../../src/domain/money.ts';
// The title rule is WooCommerce's own, written once (see variationTitle).
import { variationTitle } from '../mapping.ts';
import { ksesName } from './kses.ts';

export type Json = Record<string, unknown>;

/** A response body already serialised (`StoreState.orderText`): sent as is. */
export class JsonText {
  constructor(readonly text: string) {}
}

export interface Meta {
  id: number;
  key: string;
  value: string;
  display_key: string;
  display_value: string;
}

export interface SimProduct {
  id: number;
  name: string;
  slug: string;
  type: 'simple' | 'variable' | 'variation';
  parentId: number;
  sku: string;
  regularPrice: string;
  manageStock: boolean;
  stockQuantity: number | null;
  created: number;
  modified: number;
  totalSales: number;
  attributes: Json[];
  variations: number[];
}

export interface SimLine {
  id: number;
  productId: number;
  variationId: number;
  name: string;
  parentName: string | null;
  quantity: number;
  subtotal: string;
  total: string;
  price: number;
  meta: Meta[];
}

export interface SimRefund {
  id: number;
  created: number;
  amount: string;
  reason: string;
  lines: Array<{ id: number; lineId: number; quantity: number; total: string }>;
}

export interface SimNote {
  id: number;
  orderId: number;
  created: number;
  note: string;
  customerNote: boolean;
  author: string;
}

export interface SimOrder {
  id: number;
  status: string;
  currency: string;
  created: number;
  modified: number;
  paid: number | null;
  completed: number | null;
  billing: Record<string, string>;
  shipping: Record<string, string>;
  paymentMethod: string;
  paymentMethodTitle: string;
  customerId: number;
  customerNote: string;
  orderKey: string;
  lines: SimLine[];
  shippingLines: Array<{ id: number; methodId: string; methodTitle: string; total: string }>;
  refunds: SimRefund[];
}

export interface SimTracking {
  tracking_id: string;
  tracking_provider: string;
  tracking_link: string;
  tracking_number: string;
  date_shipped: string;
}

export interface SimWebhook {
  id: number;
  name: string;
  status: 'active' | 'paused' | 'disabled';
  topic: string;
  deliveryUrl: string;
  secret: string;
  created: number;
  modified: number | null;
  /** Consecutive failed deliveries (WC_Webhook failure_count); reset by a success. */
  failureCount: number;
  /** True until a ping gets a 200 (WC_Webhook pending_delivery); an update of an active webhook pings again while true. */
  pendingDelivery: boolean;
}

export const ORDER_STATUSES = [
  'auto-draft', 'pending', 'processing', 'on-hold', 'completed', 'cancelled', 'refunded', 'failed', 'checkout-draft',
] as const;
const STATUS_LABELS: Record<string, string> = {
  pending: 'Pending payment', processing: 'Processing', 'on-hold': 'On hold', completed: 'Completed',
  cancelled: 'Cancelled', refunded: 'Refunded', failed: 'Failed', 'checkout-draft': 'Draft', trash: 'Trash',
  'auto-draft': 'Draft',
};
const PAID_STATUSES = new Set(['processing', 'completed']);
const STOCK_REDUCING = new Set(['processing', 'completed', 'on-hold']);
const SYMBOLS: Record<string, string> = { USD: '$', EUR: '\u20ac', GBP: '\u00a3', JPY: '\u00a5' };

export const fmt = (seconds: number | null): string | null =>
  seconds === null ? null : new Date(seconds * 1000).toISOString().slice(0, 19);

export class WooError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly data: Json | number = { status },
  ) {
    super(message);
  }
}

export type StoreEvent = { topic: 'order.created' | 'order.updated' | 'order.deleted'; orderId: number };

/** What `StoreState.snapshot` saves: the counters and the records; indexes are rebuilt. */
export interface StoreSnapshot {
  postId: number; commentId: number; itemId: number; metaId: number; webhookId: number;
  products: Map<number, SimProduct>; orders: Map<number, SimOrder>; notes: Map<number, SimNote[]>; trackings: Map<number, SimTracking[]>;
}

export class StoreState {
  products = new Map<number, SimProduct>();
  /** SKU -> product id, kept by createProduct/updateProduct (SKUs are unique in WooCommerce). */
  private readonly skuIndex = new Map<string, number>();
  orders = new Map<number, SimOrder>();
  notes = new Map<number, SimNote[]>();
  webhooks = new Map<number, SimWebhook>();
  trackings = new Map<number, SimTracking[]>();
  private postId = 9;
  private commentId = 0;
  private itemId = 0;
  private metaId = 0;
  private webhookId = 0;
  /** Orders sorted by (modified, id); rebuilt lazily after a change. */
  private sorted: SimOrder[] | null = null;
  /** Called after every order change (webhook delivery hooks in here). */
  onEvent: (event: StoreEvent) => void = () => {};
  /** Answer line items without their SKU (see WooSimulatorOptions.omitLineSkus). */
  omitLineSkus = false;
  /**
   * Moves on with every change the store makes to an order or a product (and
   * with every request that is not a GET, index.ts): `orderText` serves an
   * order's JSON from its cache only while this has not moved. Code that
   * changes what `orderJson` answers without a method of this class must bump it.
   */
  revision = 0;
  private readonly orderTexts = new WeakMap<SimOrder, { revision: number; baseUrl: string; omitLineSkus: boolean; text: string }>();

  constructor(
    public baseUrl: string,
    readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  nextPostId = (): number => ++this.postId;

  /**
   * The store as plain data for `connectors/simulator-file.ts`. Webhooks are
   * not kept: their URLs and secrets belong to the run that registered them
   * (the simulator registers its own again, `setWebhookUrl`); their id
   * counter is, so an id is never handed out twice.
   */
  snapshot(): StoreSnapshot {
    return {
      postId: this.postId, commentId: this.commentId, itemId: this.itemId, metaId: this.metaId, webhookId: this.webhookId,
      products: this.products, orders: this.orders, notes: this.notes, trackings: this.trackings,
    };
  }

  /**
   * Replaces this store with a snapshot. `clean` false (not written at a
   * stop): ids may have been handed out after it, so every counter moves on
   * by a margin far above what a second of the simulator can use. WordPress
   * post ids have gaps anyway (drafts, revisions, pages share the sequence).
   */
  restore(s: StoreSnapshot, clean: boolean): void {
    const margin = clean ? 0 : 100_000;
    this.postId = s.postId + margin;
    this.commentId = s.commentId + margin;
    this.itemId = s.itemId + margin;
    this.metaId = s.metaId + margin;
    this.webhookId = s.webhookId + margin;
    this.products = s.products;
    this.orders = s.orders;
    this.notes = s.notes;
    this.trackings = s.trackings;
    this.webhooks = new Map();
    this.skuIndex.clear();
    for (const p of this.products.values()) if (p.sku) this.skuIndex.set(p.sku, p.id);
    this.sorted = null;
    this.revision++;
  }
  private meta(key: string, value: string, displayKey = key, displayValue = value): Meta {
    return { id: ++this.metaId, key, value, display_key: displayKey, display_value: displayValue };
  }

  // --- products ------------------------------------------------------------

  bySku(sku: string): SimProduct | undefined {
    if (sku === '') return undefined;
    const id = this.skuIndex.get(sku);
    return id === undefined ? undefined : this.products.get(id);
  }

  createProduct(input: Json, parent?: SimProduct): SimProduct {
    const sku = typeof input.sku === 'string' ? input.sku : '';
    if (sku && this.bySku(sku)) {
      const clash = this.bySku(sku)!;
      throw new WooError(400, 'product_invalid_sku', 'Invalid or duplicated SKU.', {
        status: 400, resource_id: clash.id, unique_sku: `${sku}-1`,
      });
    }
    const now = this.now();
    const type = parent ? 'variation' : input.type === 'variable' ? 'variable' : 'simple';
    const attrs = Array.isArray(input.attributes) ? (input.attributes as Json[]) : [];
    const name = parent
      ? variationTitle(parent.name, attrs.map((a) => ({ name: String(a.name ?? ''), option: String(a.option ?? '') })))
      : ksesName(String(input.name ?? 'Product'));
    const p: SimProduct = {
      id: this.nextPostId(),
      name,
      slug: name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, ''),
      type,
      parentId: parent?.id ?? 0,
      sku,
      regularPrice: input.regular_price === undefined ? '' : money(String(input.regular_price)),
      manageStock: input.manage_stock === true,
      stockQuantity: input.manage_stock === true ? Number(input.stock_quantity ?? 0) : null,
      created: now,
      modified: now,
      totalSales: 0,
      attributes: parent
        ? attrs.map((a) => ({ id: 0, name: String(a.name ?? ''), option: String(a.option ?? '') }))
        : attrs.map((a, i) => ({
            id: 0, name: String(a.name ?? ''), position: i, visible: a.visible !== false,
            variation: a.variation === true, options: Array.isArray(a.options) ? a.options : [],
          })),
      variations: [],
    };
    this.products.set(p.id, p);
    this.revision++;
    if (sku) this.skuIndex.set(sku, p.id);
    if (parent) parent.variations.push(p.id);
    return p;
  }

  updateProduct(p: SimProduct, input: Json): SimProduct {
    if (typeof input.sku === 'string' && input.sku !== p.sku) {
      if (input.sku && this.bySku(input.sku)) throw new WooError(400, 'product_invalid_sku', 'Invalid or duplicated SKU.');
      if (p.sku) this.skuIndex.delete(p.sku);
      p.sku = input.sku;
      if (p.sku) this.skuIndex.set(p.sku, p.id);
    }
    if (typeof input.name === 'string') p.name = ksesName(input.name);
    if (input.regular_price !== undefined) p.regularPrice = money(String(input.regular_price));
    if (typeof input.manage_stock === 'boolean') {
      p.manageStock = input.manage_stock;
      if (!p.manageStock) p.stockQuantity = null;
      else p.stockQuantity ??= 0;
    }
    // stock_quantity only sticks when stock is managed, as in WooCommerce.
    if (input.stock_quantity !== undefined && p.manageStock) p.stockQuantity = Math.trunc(Number(input.stock_quantity));
    p.modified = this.now();
    // An order line answers with its product's current SKU.
    this.revision++;
    return p;
  }

  stockStatus(p: SimProduct): string {
    if (p.type === 'variable') {
      const any = p.variations.some((v) => {
        const pv = this.products.get(v);
        return pv && this.stockStatus(pv) === 'instock';
      });
      return any ? 'instock' : 'outofstock';
    }
    return !p.manageStock || (p.stockQuantity ?? 0) > 0 ? 'instock' : 'outofstock';
  }

  price(p: SimProduct): string {
    return p.regularPrice;
  }

  productJson(p: SimProduct, edit = false): Json {
    const base = this.baseUrl;
    const variation = p.type === 'variation';
    const parent = variation ? this.products.get(p.parentId) : undefined;
    const price = this.price(p);
    const priceHtml = price
      ? `<span class="woocommerce-Price-amount amount"><bdi><span class="woocommerce-Price-currencySymbol">&#36;</span>${price}</bdi></span>`
      : '';
    const json: Json = {
      id: p.id,
      name: p.name,
      slug: p.slug,
      permalink: variation ? `${base}/product/${parent?.slug}/?${this.attrQuery(p)}` : `${base}/product/${p.slug}/`,
      date_created: fmt(p.created),
      date_created_gmt: fmt(p.created),
      date_modified: fmt(p.modified),
      date_modified_gmt: fmt(p.modified),
      type: p.type,
      status: 'publish',
      featured: false,
      catalog_visibility: 'visible',
      description: '',
      short_description: '',
      sku: p.sku,
      price,
      regular_price: p.regularPrice,
      sale_price: '',
      date_on_sale_from: null,
      date_on_sale_from_gmt: null,
      date_on_sale_to: null,
      date_on_sale_to_gmt: null,
      on_sale: false,
      purchasable: p.type !== 'variable' && price !== '',
      total_sales: variation ? String(p.totalSales) : p.totalSales,
      virtual: false,
      downloadable: false,
      downloads: [],
      download_limit: -1,
      download_expiry: -1,
      external_url: '',
      button_text: '',
      tax_status: 'taxable',
      tax_class: '',
      manage_stock: p.manageStock,
      stock_quantity: p.stockQuantity,
      backorders: 'no',
      backorders_allowed: false,
      backordered: false,
      low_stock_amount: null,
      sold_individually: false,
      weight: '',
      dimensions: { length: '', width: '', height: '' },
      shipping_required: true,
      shipping_taxable: true,
      shipping_class: '',
      shipping_class_id: 0,
      reviews_allowed: !variation,
      average_rating: edit ? '0' : '0.00',
      rating_count: 0,
      upsell_ids: [],
      cross_sell_ids: [],
      parent_id: p.parentId,
      purchase_note: '',
      categories: variation ? [] : [{ id: 15, name: 'Uncategorized', slug: 'uncategorized' }],
      tags: [],
      images: [],
      attributes: p.attributes,
      default_attributes: [],
      variations: p.variations,
      grouped_products: [],
      menu_order: 0,
      price_html: priceHtml,
      related_ids: [],
      meta_data: [],
      stock_status: this.stockStatus(p),
      has_options: p.type === 'variable',
    };
    if (edit) {
      json.permalink_template = `${base}/product/%pagename%/`;
      json.generated_slug = p.slug;
    }
    json._links = {
      self: [{ href: `${base}/wp-json/wc/v3/products/${p.id}` }],
      collection: [{ href: `${base}/wp-json/wc/v3/products` }],
      ...(variation ? { up: [{ href: `${base}/wp-json/wc/v3/products/${p.parentId}` }] } : {}),
    };
    return json;
  }

  private attrQuery(p: SimProduct): string {
    return p.attributes.map((a) => `attribute_${String(a.name).toLowerCase()}=${String(a.option)}`).join('&');
  }

  /** A variation under /products/<id>/variations: its own, shorter shape. */
  variationJson(p: SimProduct): Json {
    const base = this.baseUrl;
    const parent = this.products.get(p.parentId);
    return {
      id: p.id,
      date_created: fmt(p.created),
      date_created_gmt: fmt(p.created),
      date_modified: fmt(p.modified),
      date_modified_gmt: fmt(p.modified),
      description: '',
      permalink: `${base}/product/${parent?.slug}/?${this.attrQuery(p)}`,
      sku: p.sku,
      price: this.price(p),
      regular_price: p.regularPrice,
      sale_price: '',
      date_on_sale_from: null,
      date_on_sale_from_gmt: null,
      date_on_sale_to: null,
      date_on_sale_to_gmt: null,
      on_sale: false,
      status: 'publish',
      purchasable: p.regularPrice !== '',
      virtual: false,
      downloadable: false,
      downloads: [],
      download_limit: -1,
      download_expiry: -1,
      tax_status: 'taxable',
      tax_class: '',
      manage_stock: p.manageStock,
      stock_quantity: p.stockQuantity,
      stock_status: this.stockStatus(p),
      backorders: 'no',
      backorders_allowed: false,
      backordered: false,
      low_stock_amount: null,
      weight: '',
      dimensions: { length: '', width: '', height: '' },
      shipping_class: '',
      shipping_class_id: 0,
      image: null,
      attributes: p.attributes,
      menu_order: 0,
      meta_data: [],
      _links: {
        self: [{ href: `${base}/wp-json/wc/v3/products/${p.parentId}/variations/${p.id}` }],
        collection: [{ href: `${base}/wp-json/wc/v3/products/${p.parentId}/variations` }],
        up: [{ href: `${base}/wp-json/wc/v3/products/${p.parentId}` }],
      },
    };
  }

  // --- orders --------------------------------------------------------------

  ordersByModified(): SimOrder[] {
    this.sorted ??= [...this.orders.values()].sort((a, b) => a.modified - b.modified || a.id - b.id);
    return this.sorted;
  }

  private touched(o: SimOrder, at = this.now()): void {
    o.modified = at;
    this.sorted = null;
    this.revision++;
  }

  addNote(orderId: number, note: string, customerNote: boolean, author = 'WooCommerce', at = this.now()): SimNote {
    const n: SimNote = { id: ++this.commentId, orderId, created: at, note, customerNote, author };
    const list = this.notes.get(orderId) ?? [];
    list.push(n);
    this.notes.set(orderId, list);
    return n;
  }

  /** Creates an order like POST /orders does. `at` backdates seeded orders; `silent` skips webhooks. */
  createOrder(input: Json, opts: { at?: number; silent?: boolean } = {}): SimOrder {
    const at = opts.at ?? this.now();
    const status = typeof input.status === 'string' ? input.status : 'pending';
    if (!(ORDER_STATUSES as readonly string[]).includes(status)) throw invalidEnum('status', ORDER_STATUSES);
    const lines: SimLine[] = [];
    for (const raw of (Array.isArray(input.line_items) ? input.line_items : []) as Json[]) {
      const variationId = Number(raw.variation_id ?? 0);
      const product = this.products.get(variationId || Number(raw.product_id ?? 0)) ??
        (typeof raw.sku === 'string' ? this.bySku(raw.sku) : undefined);
      if (!product) {
        throw new WooError(400, 'woocommerce_rest_invalid_product_id', 'Product ID provided is invalid.');
      }
      const quantity = Math.trunc(Number(raw.quantity ?? 1));
      const unit = this.price(product) || '0.00';
      const subtotal = raw.subtotal !== undefined ? money(String(raw.subtotal)) : mulMoney(unit, quantity);
      const parent = product.type === 'variation' ? this.products.get(product.parentId) : undefined;
      const meta = product.type === 'variation'
        ? product.attributes.map((a) => this.meta(String(a.name).toLowerCase(), String(a.option), String(a.name), String(a.option)))
        : [];
      lines.push({
        id: ++this.itemId,
        productId: parent ? parent.id : product.id,
        variationId: parent ? product.id : 0,
        name: product.name,
        parentName: parent ? parent.name : null,
        quantity,
        subtotal,
        total: raw.total !== undefined ? money(String(raw.total)) : subtotal,
        price: Number(unit),
        meta,
      });
    }
    const shippingLines = ((Array.isArray(input.shipping_lines) ? input.shipping_lines : []) as Json[]).map((s) => ({
      id: ++this.itemId,
      methodId: String(s.method_id ?? ''),
      methodTitle: String(s.method_title ?? ''),
      total: money(String(s.total ?? '0')),
    }));
    const address = (a: unknown, withEmail: boolean): Record<string, string> => {
      const src = (a ?? {}) as Record<string, unknown>;
      const keys = ['first_name', 'last_name', 'company', 'address_1', 'address_2', 'city', 'state', 'postcode', 'country'];
      const out: Record<string, string> = {};
      for (const k of keys) out[k] = String(src[k] ?? '');
      if (withEmail) out.email = String(src.email ?? '');
      out.phone = String(src.phone ?? '');
      return out;
    };
    const o: SimOrder = {
      id: this.nextPostId(),
      status: 'pending',
      currency: typeof input.currency === 'string' ? input.currency : 'USD',
      created: at,
      modified: at,
      paid: null,
      completed: null,
      billing: address(input.billing, true),
      shipping: address(input.shipping, false),
      paymentMethod: String(input.payment_method ?? ''),
      paymentMethodTitle: String(input.payment_method_title ?? ''),
      customerId: Number(input.customer_id ?? 0),
      customerNote: String(input.customer_note ?? ''),
      orderKey: `wc_order_${randomBytes(10).toString('base64url').replace(/[-_]/g, 'x').slice(0, 13)}`,
      lines,
      shippingLines,
      refunds: [],
    };
    this.orders.set(o.id, o);
    this.sorted = null;
    this.revision++;
    if (input.set_paid === true) o.paid = at;
    if (status !== 'pending') this.setStatus(o, status, at, true);
    if (!opts.silent) this.onEvent({ topic: 'order.created', orderId: o.id });
    return o;
  }

  private orderTotal(o: SimOrder): string {
    return addMoney('0', ...o.lines.map((l) => l.total), ...o.shippingLines.map((s) => s.total));
  }

  private refundedTotal(o: SimOrder): string {
    return addMoney('0', ...o.refunds.map((r) => r.amount));
  }

  /** Status change with WooCommerce's side effects: stock, paid/completed dates, a system note. */
  setStatus(o: SimOrder, status: string, at = this.now(), silent = false): void {
    if (o.status === status) return;
    const from = o.status;
    if (STOCK_REDUCING.has(status) && !o.lines.some((l) => l.meta.some((m) => m.key === '_reduced_stock'))) {
      const changes: string[] = [];
      for (const line of o.lines) {
        const p = this.products.get(line.variationId || line.productId);
        if (!p) continue;
        p.totalSales += line.quantity;
        const parent = p.type === 'variation' ? this.products.get(p.parentId) : undefined;
        if (parent) parent.totalSales += line.quantity;
        if (!p.manageStock) continue;
        const before = p.stockQuantity ?? 0;
        p.stockQuantity = before - line.quantity;
        p.modified = at;
        line.meta.push(this.meta('_reduced_stock', String(line.quantity)));
        changes.push(`${p.name} (${p.sku}) ${before}&rarr;${p.stockQuantity}`);
      }
      if (changes.length) this.addNote(o.id, `Stock levels reduced: ${changes.join(', ')}`, false, 'WooCommerce', at);
    }
    if (status === 'cancelled') this.restock(o, at);
    if (PAID_STATUSES.has(status) && o.paid === null) o.paid = at;
    if (status === 'completed') o.completed = at;
    o.status = status;
    this.addNote(o.id, `Order status changed from ${STATUS_LABELS[from] ?? from} to ${STATUS_LABELS[status] ?? status}.`, false, 'WooCommerce', at);
    this.touched(o, at);
    if (!silent) this.onEvent({ topic: 'order.updated', orderId: o.id });
  }

  private restock(o: SimOrder, at: number): void {
    const changes: string[] = [];
    for (const line of o.lines) {
      const reduced = line.meta.find((m) => m.key === '_reduced_stock');
      if (!reduced) continue;
      line.meta = line.meta.filter((m) => m !== reduced);
      const p = this.products.get(line.variationId || line.productId);
      if (!p?.manageStock) continue;
      const before = p.stockQuantity ?? 0;
      p.stockQuantity = before + Number(reduced.value);
      p.modified = at;
      changes.push(`${p.name} (${p.sku}) ${before}&rarr;${p.stockQuantity}`);
    }
    if (changes.length) this.addNote(o.id, `Stock levels increased: ${changes.join(', ')}`, false, 'WooCommerce', at);
  }

  updateOrder(o: SimOrder, input: Json): SimOrder {
    if (input.status !== undefined) {
      if (typeof input.status !== 'string' || !(ORDER_STATUSES as readonly string[]).includes(input.status)) {
        throw invalidEnum('status', ORDER_STATUSES);
      }
    }
    if (typeof input.customer_note === 'string') o.customerNote = input.customer_note;
    if (input.set_paid === true && o.paid === null) o.paid = this.now();
    if (typeof input.status === 'string' && input.status !== o.status) {
      this.setStatus(o, input.status);
    } else {
      this.touched(o);
      this.onEvent({ topic: 'order.updated', orderId: o.id });
    }
    return o;
  }

  trashOrder(o: SimOrder, force: boolean): Json {
    const json = this.orderJson(o);
    if (force) {
      this.orders.delete(o.id);
      this.sorted = null;
      this.revision++;
    } else {
      o.status = 'trash';
      this.touched(o);
    }
    this.onEvent({ topic: 'order.deleted', orderId: o.id });
    return force ? json : this.orderJson(o);
  }

  /** Marks the order changed (a private note), as an admin edit would. */
  touchOrder(o: SimOrder, note = 'Order edited.'): void {
    this.addNote(o.id, note, false, 'admin');
    this.touched(o);
    this.onEvent({ topic: 'order.updated', orderId: o.id });
  }

  createRefund(o: SimOrder, input: Json): SimRefund {
    const amount = money(String(input.amount ?? '0'));
    const remaining = subMoney(this.orderTotal(o), this.refundedTotal(o));
    if (toUnits(amount) <= 0n || toUnits(amount) > toUnits(remaining)) {
      throw new WooError(500, 'woocommerce_rest_cannot_create_order_refund', 'Invalid refund amount.', 500);
    }
    const at = this.now();
    const refund: SimRefund = { id: this.nextPostId(), created: at, amount, reason: String(input.reason ?? ''), lines: [] };
    for (const raw of (Array.isArray(input.line_items) ? input.line_items : []) as Json[]) {
      const line = o.lines.find((l) => l.id === Number(raw.id));
      if (!line) continue;
      const qty = Math.trunc(Number(raw.quantity ?? 0));
      refund.lines.push({ id: ++this.itemId, lineId: line.id, quantity: qty, total: money(String(raw.refund_total ?? '0')) });
      if (raw.restock_item === true && qty > 0) {
        const p = this.products.get(line.variationId || line.productId);
        if (p?.manageStock) {
          p.stockQuantity = (p.stockQuantity ?? 0) + qty;
          p.modified = at;
        }
        const reduced = line.meta.find((m) => m.key === '_reduced_stock');
        if (reduced) reduced.value = reduced.display_value = String(Math.max(0, Number(reduced.value) - qty));
        // wc_restock_refunded_items keeps one running count per line (`update_meta_data`), not one entry per refund.
        const restocked = line.meta.find((m) => m.key === '_restock_refunded_items');
        if (restocked) restocked.value = restocked.display_value = String(Number(restocked.value) + qty);
        else line.meta.push(this.meta('_restock_refunded_items', String(qty)));
      }
    }
    o.refunds.unshift(refund);
    if (toUnits(this.refundedTotal(o)) >= toUnits(this.orderTotal(o))) this.setStatus(o, 'refunded', at, true);
    this.touched(o, at);
    this.onEvent({ topic: 'order.updated', orderId: o.id });
    return refund;
  }

  lineJson(l: SimLine): Json {
    const p = this.products.get(l.variationId || l.productId);
    return {
      id: l.id,
      name: l.name,
      product_id: l.productId,
      variation_id: l.variationId,
      quantity: l.quantity,
      tax_class: '',
      subtotal: l.subtotal,
      subtotal_tax: '0.00',
      total: l.total,
      total_tax: '0.00',
      taxes: [],
      meta_data: l.meta,
      // WooCommerce reads the SKU from the product when it answers, not from the order.
      sku: this.omitLineSkus ? '' : (p?.sku ?? ''),
      price: l.price,
      image: { id: l.variationId ? 0 : '', src: '' },
      parent_name: l.parentName,
    };
  }

  /**
   * `JSON.stringify(orderJson(o))`, kept while the store does not change: a
   * pull's pages were the simulator's main CPU, and a real store's CPU is not
   * on the machine that measures the client. Same bytes as before.
   */
  orderText(o: SimOrder): string {
    const cached = this.orderTexts.get(o);
    if (cached && cached.revision === this.revision && cached.baseUrl === this.baseUrl && cached.omitLineSkus === this.omitLineSkus) return cached.text;
    const text = JSON.stringify(this.orderJson(o));
    this.orderTexts.set(o, { revision: this.revision, baseUrl: this.baseUrl, omitLineSkus: this.omitLineSkus, text });
    return text;
  }

  orderJson(o: SimOrder): Json {
    const base = this.baseUrl;
    const total = this.orderTotal(o);
    const shippingTotal = addMoney('0', ...o.shippingLines.map((s) => s.total));
    const editable = ['pending', 'on-hold', 'auto-draft'].includes(o.status);
    return {
      id: o.id,
      parent_id: 0,
      status: o.status,
      currency: o.currency,
      version: '7.9.0',
      prices_include_tax: false,
      date_created: fmt(o.created),
      date_modified: fmt(o.modified),
      discount_total: '0.00',
      discount_tax: '0.00',
      shipping_total: shippingTotal,
      shipping_tax: '0.00',
      cart_tax: '0.00',
      total,
      total_tax: '0.00',
      customer_id: o.customerId,
      order_key: o.orderKey,
      billing: o.billing,
      shipping: o.shipping,
      payment_method: o.paymentMethod,
      payment_method_title: o.paymentMethodTitle,
      transaction_id: '',
      customer_ip_address: '',
      customer_user_agent: '',
      created_via: 'rest-api',
      customer_note: o.customerNote,
      date_completed: fmt(o.completed),
      date_paid: fmt(o.paid),
      cart_hash: '',
      number: String(o.id),
      meta_data: [],
      line_items: o.lines.map((l) => this.lineJson(l)),
      tax_lines: [],
      shipping_lines: o.shippingLines.map((s) => ({
        id: s.id, method_title: s.methodTitle, method_id: s.methodId, instance_id: '', total: s.total,
        total_tax: '0.00', taxes: [], meta_data: [],
      })),
      fee_lines: [],
      coupon_lines: [],
      refunds: o.refunds.map((r) => ({ id: r.id, reason: r.reason, total: `-${r.amount}` })),
      payment_url: `${base}/checkout/order-pay/${o.id}/?pay_for_order=true&key=${o.orderKey}`,
      is_editable: editable,
      needs_payment: ['pending', 'failed'].includes(o.status) && toUnits(total) > 0n,
      needs_processing: true,
      date_created_gmt: fmt(o.created),
      date_modified_gmt: fmt(o.modified),
      date_completed_gmt: fmt(o.completed),
      date_paid_gmt: fmt(o.paid),
      currency_symbol: SYMBOLS[o.currency] ?? o.currency,
      _links: {
        self: [{ href: `${base}/wp-json/wc/v3/orders/${o.id}` }],
        collection: [{ href: `${base}/wp-json/wc/v3/orders` }],
      },
    };
  }

  refundJson(o: SimOrder, r: SimRefund): Json {
    const base = this.baseUrl;
    return {
      id: r.id,
      date_created: fmt(r.created),
      date_created_gmt: fmt(r.created),
      amount: r.amount,
      reason: r.reason,
      refunded_by: 1,
      refunded_payment: false,
      meta_data: [],
      line_items: r.lines.map((rl) => {
        const line = o.lines.find((l) => l.id === rl.lineId)!;
        const json = this.lineJson(line);
        return {
          ...json,
          id: rl.id,
          quantity: -rl.quantity,
          subtotal: `-${rl.total}`,
          total: `-${rl.total}`,
          meta_data: [this.meta('_refunded_item_id', String(line.id))],
        };
      }),
      shipping_lines: [],
      tax_lines: [],
      fee_lines: [],
      _links: {
        self: [{ href: `${base}/wp-json/wc/v3/orders/${o.id}/refunds/${r.id}` }],
        collection: [{ href: `${base}/wp-json/wc/v3/orders/${o.id}/refunds` }],
        up: [{ href: `${base}/wp-json/wc/v3/orders/${o.id}` }],
      },
    };
  }

  noteJson(n: SimNote): Json {
    const base = this.baseUrl;
    return {
      id: n.id,
      author: n.author,
      date_created: fmt(n.created),
      date_created_gmt: fmt(n.created),
      note: n.note,
      customer_note: n.customerNote,
      _links: {
        self: [{ href: `${base}/wp-json/wc/v3/orders/${n.orderId}/notes/${n.id}` }],
        collection: [{ href: `${base}/wp-json/wc/v3/orders/${n.orderId}/notes` }],
        up: [{ href: `${base}/wp-json/wc/v3/orders/${n.orderId}` }],
      },
    };
  }

  /** Newest first; notes of the same second by id, as WooCommerce lists them. */
  notesOf(orderId: number): SimNote[] {
    return [...(this.notes.get(orderId) ?? [])].sort((a, b) => b.created - a.created || a.id - b.id);
  }

  // --- webhooks ------------------------------------------------------------

  createWebhook(input: Json): SimWebhook {
    const now = this.now();
    const w: SimWebhook = {
      id: ++this.webhookId,
      name: String(input.name ?? `Webhook created on ${new Date().toUTCString()}`),
      status: input.status === 'paused' || input.status === 'disabled' ? input.status : 'active',
      topic: String(input.topic),
      deliveryUrl: String(input.delivery_url),
      secret: String(input.secret ?? randomBytes(16).toString('hex')),
      created: now,
      modified: null,
      failureCount: 0,
      pendingDelivery: true,
    };
    this.webhooks.set(w.id, w);
    return w;
  }

  webhookJson(w: SimWebhook): Json {
    const base = this.baseUrl;
    const [resource = '', event = ''] = w.topic.split('.');
    const hooks: Record<string, string[]> = {
      'order.created': ['woocommerce_new_order'],
      'order.updated': ['woocommerce_update_order', 'woocommerce_order_refunded'],
      'order.deleted': ['wp_trash_post'],
    };
    return {
      id: w.id,
      name: w.name,
      status: w.status,
      topic: w.topic,
      resource,
      event,
      hooks: hooks[w.topic] ?? [],
      delivery_url: w.deliveryUrl,
      date_created: fmt(w.created),
      date_created_gmt: fmt(w.created),
      date_modified: fmt(w.modified),
      date_modified_gmt: fmt(w.modified),
      _links: {
        self: [{ href: `${base}/wp-json/wc/v3/webhooks/${w.id}` }],
        collection: [{ href: `${base}/wp-json/wc/v3/webhooks` }],
      },
    };
  }
}

/** WordPress's enum validation error, as recorded. */
export function invalidEnum(param: string, values: readonly string[]): WooError {
  const list = values.length > 1 ? `${values.slice(0, -1).join(', ')}, and ${values[values.length - 1]}` : values[0];
  const message = `${param} is not one of ${list}.`;
  return invalidParam(param, 'rest_not_in_enum', message);
}

export function invalidParam(param: string, code: string, message: string): WooError {
  return new WooError(400, 'rest_invalid_param', `Invalid parameter(s): ${param}`, {
    status: 400,
    params: { [param]: message },
    details: { [param]: { code, message, data: null } },
  });
}
