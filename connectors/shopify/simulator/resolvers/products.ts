/**
 * Products and variants, so tests and the demo set up a catalogue through
 * the real API: `productCreate`, `productVariantsBulkCreate`,
 * `productVariantsBulkUpdate`, `products`, `product`, `productVariant(s)`.
 */
import { parseGid, toCents } from '../ids.ts';
import { compareText, compareWords, matches, parseSearch, type FieldMatcher } from '../search.ts';
import type { Product, ShopState, Variant } from '../state.ts';
import { connection, type ConnectionArgs, type Ctx, type UserError } from './context.ts';
import { productView, variantView } from './views.ts';

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/products */
export function products(args: ConnectionArgs & { query?: string | null }, ctx: Ctx) {
  return connection(matchingProducts(args.query, ctx), args, (p) => productView(ctx.state, p));
}

function countMatching(query: string | null | undefined, ctx: Ctx): number {
  return matchingProducts(query, ctx).length;
}

function matchingProducts(query: string | null | undefined, ctx: Ctx): Product[] {
  const q = parseSearch(query);
  // Matchers are built once per request, not per product (a catalogue can hold 100,000).
  const fields: Record<string, FieldMatcher<Product>> = {
    title: (x, t) => compareText(x.title, t),
    sku: (x, t) => x.variantIds.some((id) => compareText(ctx.state.variants.get(id)?.sku, t)),
    status: (x, t) => compareText(x.status, t),
    tag: (x, t) => (x.tags ?? []).some((tag) => compareText(tag, t)),
    // Free text: Shopify matches a word of the title (or the whole title), or a tag.
    default: (x, t) => compareText(x.title, t) || compareWords(x.title, t) || (x.tags ?? []).some((tag) => compareText(tag, t)),
  };
  const all = [...ctx.state.products.values()];
  return q.length === 0 ? all : all.filter((p) => matches(p, q, fields));
}

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/product */
export function product(args: { id: string }, ctx: Ctx) {
  const p = ctx.state.products.get(parseGid(args.id, 'Product') ?? -1);
  return p ? productView(ctx.state, p) : null;
}

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/productVariant */
export function productVariant(args: { id: string }, ctx: Ctx) {
  const v = ctx.state.variants.get(parseGid(args.id, 'ProductVariant') ?? -1);
  return v ? variantView(ctx.state, v) : null;
}

const variantFilters: Record<string, FieldMatcher<Variant>> = {
  sku: (x, t) => compareText(x.sku, t),
  default: (x, t) => compareText(x.sku, t),
};

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/productVariants */
export function productVariants(args: ConnectionArgs & { query?: string | null }, ctx: Ctx) {
  const q = parseSearch(args.query);
  const all = [...ctx.state.variants.values()];
  const list = q.length === 0 ? all : all.filter((v) => matches(v, q, variantFilters));
  return connection(list, args, (v) => variantView(ctx.state, v));
}

interface ProductInput { title?: string | null; vendor?: string | null; status?: string | null; productType?: string | null; tags?: string[] | string | null }

/** Shopify's tag list: split on commas, trimmed, unique, sorted (recorded: productCreate answers tags sorted). */
export function normalizeTags(tags: string[] | string | null | undefined): string[] {
  const list = (Array.isArray(tags) ? tags : (tags ?? '').split(',')).flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
  return [...new Set(list)].sort((a, b) => a.localeCompare(b));
}

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/productsCount */
export function productsCount(args: { query?: string | null; limit?: number | null }, ctx: Ctx) {
  const n = countMatching(args.query, ctx);
  if (args.limit != null && n > args.limit) return { count: args.limit, precision: 'AT_LEAST' };
  return { count: n, precision: 'EXACT' };
}

/** https://shopify.dev/docs/api/admin-graphql/latest/mutations/productDelete */
export function productDelete(args: { input: { id: string } }, ctx: Ctx) {
  const p = ctx.state.products.get(parseGid(args.input.id, 'Product') ?? -1);
  if (!p) return { deletedProductId: null, productDeleteOperation: null, shop: { id: 'gid://shopify/Shop/1' }, userErrors: [{ field: ['id'], message: 'Product does not exist' }] };
  ctx.state.removeProduct(p);
  return { deletedProductId: args.input.id, productDeleteOperation: null, shop: { id: 'gid://shopify/Shop/1' }, userErrors: [] };
}

/**
 * https://shopify.dev/docs/api/admin-graphql/latest/mutations/productCreate
 * Like Shopify, a new product has one "Default Title" variant, untracked, priced 0.
 */
export function productCreate(args: { product?: ProductInput | null; input?: ProductInput | null }, ctx: Ctx) {
  const input = args.product ?? args.input ?? {};
  if (!input.title?.trim()) return { product: null, userErrors: [{ field: ['title'], message: "Title can't be blank" }] };
  const p = ctx.state.addProduct({
    title: input.title, vendor: input.vendor ?? undefined, status: input.status ?? 'ACTIVE', productType: input.productType ?? undefined,
    variants: [{ sku: null, priceCents: 0, tracked: false }],
  });
  p.tags = normalizeTags(input.tags);
  return { product: productView(ctx.state, p), userErrors: [], shop: { id: 'gid://shopify/Shop/1', name: ctx.state.shopName } };
}

interface VariantInput {
  id?: string | null; price?: string | null; barcode?: string | null; inventoryPolicy?: string | null; optionValues?: Array<{ name?: string | null; optionName?: string | null }> | null;
  inventoryItem?: { sku?: string | null; tracked?: boolean | null; requiresShipping?: boolean | null } | null;
  inventoryQuantities?: Array<{ locationId: string; availableQuantity: number }> | null;
}

function applyVariant(state: ShopState, v: Variant, input: VariantInput): void {
  const item = state.inventoryItems.get(v.inventoryItemId)!;
  if (input.price != null) v.priceCents = toCents(input.price);
  if (input.barcode !== undefined) v.barcode = input.barcode;
  if (input.inventoryPolicy != null) v.inventoryPolicy = input.inventoryPolicy;
  const title = input.optionValues?.map((o) => o.name).filter(Boolean).join(' / ');
  if (title) v.title = title;
  if (input.inventoryItem) {
    if (input.inventoryItem.sku !== undefined) {
      if (v.sku) state.inventoryBySku.delete(v.sku);
      v.sku = input.inventoryItem.sku ?? null;
      item.sku = v.sku;
      if (v.sku) state.inventoryBySku.set(v.sku, item.id);
    }
    if (input.inventoryItem.tracked != null) item.tracked = input.inventoryItem.tracked;
    if (input.inventoryItem.requiresShipping != null) item.requiresShipping = input.inventoryItem.requiresShipping;
  }
  for (const q of input.inventoryQuantities ?? []) {
    const loc = parseGid(q.locationId, 'Location');
    if (loc !== null && state.locations.has(loc)) item.levels.set(loc, { available: q.availableQuantity, committed: 0, updatedAt: state.now() });
  }
  v.updatedAt = state.now();
}

/** https://shopify.dev/docs/api/admin-graphql/latest/mutations/productVariantsBulkCreate */
export function productVariantsBulkCreate(args: { productId: string; variants: VariantInput[]; strategy?: string | null }, ctx: Ctx) {
  const p = ctx.state.products.get(parseGid(args.productId, 'Product') ?? -1);
  if (!p) return { product: null, productVariants: null, userErrors: [{ field: ['productId'], message: 'Product does not exist', code: 'PRODUCT_DOES_NOT_EXIST' }] };
  const errors: UserError[] = [];
  args.variants.forEach((v, i) => {
    const sku = v.inventoryItem?.sku;
    if (sku && ctx.state.inventoryBySku.has(sku)) errors.push({ field: ['variants', String(i), 'inventoryItem', 'sku'], message: `SKU ${sku} already exists`, code: 'INVALID' });
  });
  if (errors.length) return { product: productView(ctx.state, p), productVariants: null, userErrors: errors };
  if (args.strategy === 'REMOVE_STANDALONE_VARIANT') removeStandalone(ctx.state, p);
  const created = args.variants.map((input) => {
    const v = ctx.state.addVariant(p, { sku: null, priceCents: 0, tracked: true });
    applyVariant(ctx.state, v, input);
    return v;
  });
  p.updatedAt = ctx.state.now();
  return { product: productView(ctx.state, p), productVariants: created.map((v) => variantView(ctx.state, v)), userErrors: [] };
}

function removeStandalone(state: ShopState, p: Product): void {
  if (p.variantIds.length !== 1) return;
  const v = state.variants.get(p.variantIds[0]!)!;
  if (v.title !== 'Default Title' || v.sku) return;
  state.variants.delete(v.id);
  state.inventoryItems.delete(v.inventoryItemId);
  p.variantIds = [];
}

/** https://shopify.dev/docs/api/admin-graphql/latest/mutations/productVariantsBulkUpdate */
export function productVariantsBulkUpdate(args: { productId: string; variants: VariantInput[] }, ctx: Ctx) {
  const p = ctx.state.products.get(parseGid(args.productId, 'Product') ?? -1);
  if (!p) return { product: null, productVariants: null, userErrors: [{ field: ['productId'], message: 'Product does not exist', code: 'PRODUCT_DOES_NOT_EXIST' }] };
  const errors: UserError[] = [];
  const targets: Array<[Variant, VariantInput]> = [];
  args.variants.forEach((input, i) => {
    const v = ctx.state.variants.get(parseGid(input.id, 'ProductVariant') ?? -1);
    if (!v || v.productId !== p.id) errors.push({ field: ['variants', String(i), 'id'], message: 'Product variant does not exist', code: 'PRODUCT_VARIANT_DOES_NOT_EXIST' });
    else targets.push([v, input]);
  });
  if (errors.length) return { product: productView(ctx.state, p), productVariants: null, userErrors: errors };
  for (const [v, input] of targets) applyVariant(ctx.state, v, input);
  return { product: productView(ctx.state, p), productVariants: targets.map(([v]) => variantView(ctx.state, v)), userErrors: [] };
}
