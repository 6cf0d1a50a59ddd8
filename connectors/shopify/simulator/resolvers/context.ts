/**
 * What every resolver shares: the shop, money bags and Relay connections.
 */
import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import type { ShopState } from '../state.ts';
import type { WebhookSubscriptions } from '../webhooks.ts';
import type { BulkOperations } from '../bulk.ts';
import { money } from '../ids.ts';

/** The GraphQL context value of one request. */
export interface Ctx {
  state: ShopState;
  webhooks: WebhookSubscriptions;
  bulk: BulkOperations;
  /** Base URL of this simulator (bulk result downloads). */
  baseUrl: string;
}

export type Resolver<A = Record<string, unknown>> = (args: A, ctx: Ctx, info: GraphQLResolveInfo) => unknown;

export interface MoneyBag {
  shopMoney: { amount: string; currencyCode: string };
  presentmentMoney: { amount: string; currencyCode: string };
}

/** A MoneyBag in the shop currency (presentment is the same: no multi-currency simulated). */
export function moneyBag(cents: number, currency: string): MoneyBag {
  const m = { amount: money(cents), currencyCode: currency };
  return { shopMoney: m, presentmentMoney: { ...m } };
}

let bulkMode = false;

/** While a bulk operation runs, connections return every item (bulk queries ignore `first`). */
export function setBulkMode(on: boolean): void {
  bulkMode = on;
}

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  reverse?: boolean | null;
}

/** Shopify's opaque cursors are base64 JSON; ours hold the sort position. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64');
}

export function decodeCursor(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A connection's value; in a bulk operation its lists make their views as they are read. */
export interface Connection<V> {
  edges: Array<{ cursor: string | null; node: V }> | LazyList<{ cursor: string | null; node: V }>;
  nodes: V[] | LazyList<V>;
  pageInfo: Record<string, unknown>;
}

/**
 * A Relay connection over an already sorted list.
 * Docs: https://shopify.dev/docs/api/usage/pagination-graphql
 */
export function connection<T, V>(
  items: T[],
  args: ConnectionArgs,
  view: (item: T) => V,
  cursorKey: (item: T) => unknown = (item) => (item as { id: number }).id,
): Connection<V> {
  if (bulkMode) return bulkConnection(args.reverse ? [...items].reverse() : items, view, cursorKey);
  if (args.first == null && args.last == null) throw new GraphQLError('you must provide one of first or last');
  if ((args.first ?? 0) > 250 || (args.last ?? 0) > 250) {
    throw new GraphQLError('The maximum number of items that can be requested is 250.', { extensions: { code: 'BAD_REQUEST' } });
  }
  const list = args.reverse ? [...items].reverse() : items;
  // Most cursors are an id: compare those directly, not as JSON (a page deep in 100,000 items scans them all).
  const indexOf = (cursor: string) => {
    const key = decodeCursor(cursor);
    if (typeof key === 'number' || typeof key === 'string') return list.findIndex((x) => cursorKey(x) === key);
    const k = JSON.stringify(key);
    return list.findIndex((x) => JSON.stringify(cursorKey(x)) === k);
  };
  let start = 0;
  let end = list.length;
  if (args.after) {
    const i = indexOf(args.after);
    start = i >= 0 ? i + 1 : start;
  }
  if (args.before) {
    const i = indexOf(args.before);
    end = i >= 0 ? i : end;
  }
  let from = start;
  let to = end;
  if (args.first != null) to = Math.min(end, start + args.first);
  else if (args.last != null) from = Math.max(start, end - args.last);
  const page = list.slice(from, to);
  const edges = page.map((item) => ({ cursor: encodeCursor(cursorKey(item)), node: view(item) }));
  return {
    edges,
    nodes: edges.map((e) => e.node),
    pageInfo: {
      // Shopify counts what lies past `before` too (recorded: a `last: 1, before:`
      // page of webhookSubscriptions answers hasNextPage: true).
      hasNextPage: to < list.length,
      hasPreviousPage: from > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

/**
 * A list whose views are made when read: a bulk export reads a connection of
 * 100,000 orders a page at a time (../bulk.ts), never holding all their views.
 */
export interface LazyList<V> extends Iterable<V> {
  readonly length: number;
  slice(from: number, to: number): V[];
}

function lazyList<T, V>(items: readonly T[], make: (item: T) => V): LazyList<V> {
  return {
    length: items.length,
    slice: (from, to) => items.slice(from, to).map(make),
    *[Symbol.iterator]() {
      for (const item of items) yield make(item);
    },
  };
}

/** A bulk operation's connection: every item (bulk queries ignore `first`), views made as read. */
function bulkConnection<T, V>(list: T[], view: (item: T) => V, cursorKey: (item: T) => unknown) {
  const cursor = (item: T | undefined) => (item === undefined ? null : encodeCursor(cursorKey(item)));
  return {
    edges: lazyList(list, (item) => ({ get cursor() { return cursor(item); }, node: view(item) })),
    nodes: lazyList(list, view),
    pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: cursor(list[0]), endCursor: cursor(list.at(-1)) },
  };
}

/**
 * A Relay connection over records sorted by a key then id, with Shopify's
 * cursor (`last_id`, `last_value`). `after` is resolved by position rather
 * than identity, so a cursor stays valid when its record has since moved
 * (updated) or left the filter.
 * Docs: https://shopify.dev/docs/api/usage/pagination-graphql
 */
export function sortedConnection<T extends { id: number }, V>(
  items: T[],
  args: ConnectionArgs,
  view: (item: T) => V,
  sortValue: (item: T) => number,
  cursorValue: (item: T) => unknown = sortValue,
) {
  const list = [...items].sort((a, b) => sortValue(a) - sortValue(b) || a.id - b.id);
  const cursorKey = (item: T) => ({ last_id: item.id, last_value: cursorValue(item) });
  const c = args.after ? (decodeCursor(args.after) as { last_id?: unknown; last_value?: unknown } | undefined) : undefined;
  if (typeof c?.last_id !== 'number') return connection(list, args, view, cursorKey);
  const lastId = c.last_id;
  const lastValue = Number(c.last_value ?? 0);
  const pos = (item: T) => {
    const d = sortValue(item) - lastValue || item.id - lastId;
    return args.reverse ? -d : d;
  };
  const ordered = args.reverse ? [...list].reverse() : list;
  const rest = ordered.filter((item) => pos(item) > 0);
  const page = connection(args.reverse ? rest.reverse() : rest, { ...args, after: null }, view, cursorKey);
  page.pageInfo.hasPreviousPage = rest.length < ordered.length;
  return page;
}

/** `userErrors` entry. */
export interface UserError { field: string[] | null; message: string; code?: string }
