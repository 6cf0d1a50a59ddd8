/**
 * Inventory: `inventoryItems`, `inventoryItem`, `inventoryLevel`, `locations`,
 * `location`, and `inventorySetQuantities` (compare-and-set, idempotent).
 */
import { Kind, valueFromAST, type GraphQLResolveInfo, type ASTNode } from 'graphql';
import { gid, isoSeconds, parseGid } from '../ids.ts';
import { compare, compareText, compareTime, matches, parseSearch, type FieldMatcher, type SearchQuery } from '../search.ts';
import type { InventoryItem } from '../state.ts';
import { ShopifyResolverError } from '../errors.ts';
import { connection, type ConnectionArgs, type Ctx, type UserError } from './context.ts';
import { inventoryItemView, inventoryLevelView, locationView, quantityOf } from './views.ts';

const itemFilters: Record<string, FieldMatcher<InventoryItem>> = {
  sku: (i, t) => compareText(i.sku, t),
  id: (i, t) => compare(i.id, Number(t.value), t.op),
  created_at: (i, t) => compareTime(i.createdAt, t),
  updated_at: (i, t) => compareTime(i.updatedAt, t),
  default: (i, t) => compareText(i.sku, t),
};

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/inventoryItems */
export function inventoryItems(args: ConnectionArgs & { query?: string | null }, ctx: Ctx) {
  const q = parseSearch(args.query);
  const skus = plainSkuTerms(q);
  const items = skus ? itemsBySku(ctx, skus) : [...ctx.state.inventoryItems.values()].filter((i) => matches(i, q, itemFilters));
  return connection(items, args, (i) => inventoryItemView(ctx.state, i));
}

/** The SKUs of `sku:A OR sku:B …` (exact, positive terms only), else null. */
function plainSkuTerms(q: SearchQuery): string[] | null {
  if (q.length === 0) return null;
  const skus: string[] = [];
  for (const group of q) {
    const t = group.length === 1 ? group[0]! : null;
    if (!t || t.field !== 'sku' || t.op !== '=' || t.negate || t.value.endsWith('*')) return null;
    skus.push(t.value);
  }
  return skus;
}

/**
 * The connector's hot path (a page of SKUs per query), answered from the SKU
 * index in id order, as the scan would. A SKU whose case differs from the
 * stored one misses the index; those few take the case-insensitive scan.
 */
function itemsBySku(ctx: Ctx, skus: string[]): InventoryItem[] {
  const found = new Map<number, InventoryItem>();
  const missed = new Set<string>();
  for (const sku of skus) {
    const id = ctx.state.inventoryBySku.get(sku);
    if (id === undefined) missed.add(sku.toLowerCase());
    else found.set(id, ctx.state.inventoryItems.get(id)!);
  }
  if (missed.size > 0) for (const i of ctx.state.inventoryItems.values()) if (i.sku && missed.has(i.sku.toLowerCase())) found.set(i.id, i);
  return [...found.values()].sort((a, b) => a.id - b.id);
}

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/inventoryItem */
export function inventoryItem(args: { id: string }, ctx: Ctx) {
  const i = ctx.state.inventoryItems.get(parseGid(args.id, 'InventoryItem') ?? -1);
  return i ? inventoryItemView(ctx.state, i) : null;
}

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/inventoryLevel */
export function inventoryLevel(args: { id: string }, ctx: Ctx) {
  const m = /^gid:\/\/shopify\/InventoryLevel\/(\d+)\?inventory_item_id=(\d+)$/.exec(args.id);
  if (!m) return null;
  const item = ctx.state.inventoryItems.get(Number(m[2]));
  return item && item.levels.has(Number(m[1])) ? inventoryLevelView(ctx.state, item, Number(m[1])) : null;
}

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/locations */
export function locations(args: ConnectionArgs & { query?: string | null }, ctx: Ctx) {
  return connection([...ctx.state.locations.values()], args, (l) => locationView(ctx.state, l));
}

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/location */
export function location(args: { id?: string | null }, ctx: Ctx) {
  const l = args.id ? ctx.state.locations.get(parseGid(args.id, 'Location') ?? -1) : ctx.state.locations.get(ctx.state.primaryLocationId);
  return l ? locationView(ctx.state, l) : null;
}

interface SetQuantitiesInput {
  name: string;
  reason: string;
  referenceDocumentUri?: string | null;
  quantities: Array<{ inventoryItemId: string; locationId: string; quantity: number; changeFromQuantity?: number | null }>;
}

const REASONS = new Set(['correction', 'cycle_count_available', 'damaged', 'movement_created', 'movement_updated', 'movement_received', 'movement_canceled', 'other', 'promotion', 'quality_control', 'received', 'reservation_created', 'reservation_deleted', 'reservation_updated', 'restock', 'safety_stock', 'shrinkage']);
const MIN = -1_000_000_000;
const MAX = 1_000_000_000;

/**
 * How long Shopify remembers an `@idempotent` key: 24 hours, after which the same
 * key is a new request. https://shopify.dev/docs/api/usage/implementing-idempotency
 */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

/** What a key remembers: the variables it came with, when, and what they did. */
interface RememberedRequest {
  params: string;
  at: number;
  result: { inventoryAdjustmentGroup: unknown; userErrors: UserError[] };
}

/** Per shop: the keys seen in the retention window. */
const idempotencyResults = new WeakMap<object, Map<string, RememberedRequest>>();

/**
 * The `@idempotent(key:)` directive on this field, resolved against variables.
 * Docs: https://shopify.dev/docs/api/usage/idempotent-requests
 */
export function idempotencyKey(info: GraphQLResolveInfo): string | null {
  const node = info.fieldNodes[0]!;
  const dir = node.directives?.find((d) => d.name.value === 'idempotent');
  const arg = dir?.arguments?.find((a) => a.name.value === 'key');
  if (!arg) return null;
  const v = valueFromAST(arg.value, info.schema.getType('String') as never, info.variableValues);
  return typeof v === 'string' ? v : null;
}

function variableDefinitionOf(info: GraphQLResolveInfo, argName: string): ASTNode[] {
  const arg = info.fieldNodes[0]!.arguments?.find((a) => a.name.value === argName);
  if (arg?.value.kind !== Kind.VARIABLE) return [];
  const name = arg.value.name.value;
  const def = info.operation.variableDefinitions?.find((d) => d.variable.name.value === name);
  return def ? [def] : [];
}

/**
 * https://shopify.dev/docs/api/admin-graphql/latest/mutations/inventorySetQuantities
 * Since 2026-04: `@idempotent` is required, every quantity carries
 * `changeFromQuantity` (null opts out of the check), and a mismatch is
 * `CHANGE_FROM_QUANTITY_STALE`. All quantities apply or none do.
 */
export function inventorySetQuantities(args: { input: SetQuantitiesInput }, ctx: Ctx, info: GraphQLResolveInfo) {
  const key = idempotencyKey(info);
  if (key === null) {
    throw new ShopifyResolverError('The @idempotent directive is required for this mutation but was not provided.', 'BAD_REQUEST', [info.fieldNodes[0]!]);
  }
  const { input } = args;
  if (input.quantities.some((q) => !('changeFromQuantity' in q) || q.changeFromQuantity === undefined)) {
    throw new ShopifyResolverError(
      'InventoryQuantityInput must include the following argument: changeFromQuantity.',
      'INVALID_FIELD_ARGUMENTS',
      [info.fieldNodes[0]!, ...variableDefinitionOf(info, 'input')],
    );
  }
  // Shopify's rules for a key it remembers (https://shopify.dev/docs/api/usage/implementing-idempotency
  // and the InventorySetQuantitiesUserErrorCode descriptions of the 2026-07 schema): the same
  // variables are a duplicate and get the first answer without running again, even if the
  // stock moved since; other variables are refused (IDEMPOTENCY_KEY_PARAMETER_MISMATCH); a key
  // whose first request failed must not be reused (IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED). The
  // resolver runs to completion in one turn, so IDEMPOTENCY_CONCURRENT_REQUEST cannot arise here.
  let remembered = idempotencyResults.get(ctx.state);
  if (!remembered) idempotencyResults.set(ctx.state, (remembered = new Map()));
  const now = ctx.state.now();
  for (const [k, r] of remembered) if (now - r.at >= IDEMPOTENCY_RETENTION_MS) remembered.delete(k);
  const params = JSON.stringify(input);
  const previous = remembered.get(key);
  if (previous) {
    if (previous.params !== params) {
      return { inventoryAdjustmentGroup: null, userErrors: [{ field: ['input'], message: 'The same idempotency key cannot be used with different operation parameters.', code: 'IDEMPOTENCY_KEY_PARAMETER_MISMATCH' }] };
    }
    if (previous.result.userErrors.length > 0) {
      return { inventoryAdjustmentGroup: null, userErrors: [{ field: ['input'], message: 'A previous request with this idempotency key failed. Retry with a new idempotency key.', code: 'IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED' }] };
    }
    return previous.result;
  }
  const result = applySetQuantities(input, ctx);
  remembered.set(key, { params, at: now, result });
  return result;
}

function applySetQuantities(input: SetQuantitiesInput, ctx: Ctx) {
  const { state } = ctx;
  const errors: UserError[] = [];
  if (input.name !== 'available' && input.name !== 'on_hand') {
    errors.push({ field: ['input', 'name'], message: "The quantity name must be either 'available' or 'on_hand'.", code: 'INVALID_NAME' });
  }
  // Recorded (2026-04_products_inventory-reason-validation.json): the message lists the valid reasons, sorted.
  if (!REASONS.has(input.reason)) errors.push({ field: ['input', 'reason'], message: `The specified reason is invalid. Valid values are: ${[...REASONS].sort().join(', ')}.`, code: 'INVALID_REASON' });
  if (input.quantities.length > 250) {
    errors.push({ field: ['input', 'quantities'], message: 'The quantities can’t exceed 250 items.', code: 'INVALID_QUANTITY_TOO_HIGH' });
  }
  const seen = new Set<string>();
  const resolved: Array<{ item: InventoryItem; locationId: number; quantity: number }> = [];
  input.quantities.forEach((q, i) => {
    const field = (f: string) => ['input', 'quantities', String(i), f];
    const item = state.inventoryItems.get(parseGid(q.inventoryItemId, 'InventoryItem') ?? -1);
    const locationId = parseGid(q.locationId, 'Location');
    if (!item) return void errors.push({ field: field('inventoryItemId'), message: 'The specified inventory item could not be found.', code: 'INVALID_INVENTORY_ITEM' });
    if (locationId === null || !state.locations.has(locationId)) return void errors.push({ field: field('locationId'), message: 'The specified location could not be found.', code: 'INVALID_LOCATION' });
    const level = item.levels.get(locationId);
    // A busy till (see `ShopState.contended`): a sale or a return lands between the caller's read and this set.
    if (level && state.contended.has(item.id)) level.available += state.contend(item.id);
    if (!level) return void errors.push({ field: field('locationId'), message: 'The specified inventory item is not stocked at the location.', code: 'ITEM_NOT_STOCKED_AT_LOCATION' });
    const pair = `${item.id}:${locationId}`;
    if (seen.has(pair)) return void errors.push({ field: field('inventoryItemId'), message: 'The combination of inventoryItemId and locationId must be unique.', code: 'NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR' });
    seen.add(pair);
    if (input.name === 'on_hand' && q.quantity < 0) return void errors.push({ field: field('quantity'), message: "The quantity can't be negative.", code: 'INVALID_QUANTITY_NEGATIVE' });
    if (q.quantity < MIN) return void errors.push({ field: field('quantity'), message: "The quantity can't be lower than -1,000,000,000.", code: 'INVALID_QUANTITY_TOO_LOW' });
    if (q.quantity > MAX) return void errors.push({ field: field('quantity'), message: "The quantity can't be higher than 1,000,000,000.", code: 'INVALID_QUANTITY_TOO_HIGH' });
    if (q.changeFromQuantity !== null && q.changeFromQuantity !== undefined && q.changeFromQuantity !== quantityOf(level, input.name)) {
      return void errors.push({ field: field('changeFromQuantity'), message: 'The changeFromQuantity value does not match persisted value.', code: 'CHANGE_FROM_QUANTITY_STALE' });
    }
    resolved.push({ item, locationId, quantity: q.quantity });
  });
  if (errors.length) return { inventoryAdjustmentGroup: null, userErrors: errors };
  const t = state.now();
  const changes: Array<{ name: string; delta: number; item: InventoryItem; locationId: number }> = [];
  for (const r of resolved) {
    const level = r.item.levels.get(r.locationId)!;
    const delta = r.quantity - quantityOf(level, input.name);
    // A quantity set to what it already is changes nothing and is not listed.
    if (delta === 0) continue;
    // Both names move available and on_hand together: nothing else is simulated.
    level.available += delta;
    level.updatedAt = t;
    r.item.updatedAt = t;
    changes.push({ name: 'available', delta, item: r.item, locationId: r.locationId }, { name: 'on_hand', delta, item: r.item, locationId: r.locationId });
  }
  // Shopify answers a set that changes nothing with no adjustment group and no
  // errors (recorded: every accepted-reason case of 2026-04_products_inventory-reason-validation.json).
  if (changes.length === 0) return { inventoryAdjustmentGroup: null, userErrors: [] };
  const group = {
    __typename: 'InventoryAdjustmentGroup',
    id: gid('InventoryAdjustmentGroup', state.nextId()),
    createdAt: isoSeconds(t),
    reason: input.reason,
    referenceDocumentUri: input.referenceDocumentUri ?? null,
    app: null,
    staffMember: null,
    changes: changes.map((c) => ({
      name: c.name,
      delta: c.delta,
      // Shopify leaves this null on set mutations (see the 2026-04 capture).
      quantityAfterChange: null,
      ledgerDocumentUri: null,
      item: inventoryItemView(state, c.item),
      location: locationView(state, state.locations.get(c.locationId)!),
    })),
  };
  return { inventoryAdjustmentGroup: group, userErrors: [] };
}
