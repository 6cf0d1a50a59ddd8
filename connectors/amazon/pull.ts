/**
 * The incremental order pull: getOrders on `LastUpdatedAfter`, NextToken
 * paging with the same filters, then getOrderItems for each order.
 * https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference#getorders
 *
 * Window: each pull starts `overlapSeconds` (at least 120) before where the
 * last one ended and sends no `LastUpdatedBefore`: Amazon refuses a `*Before`
 * closer than two minutes to now (400 InvalidInput), and changes of the last
 * two minutes may not be visible yet, so the overlap re-reads them next time.
 * The window's end is the `LastUpdatedBefore` Amazon echoes in the answer, or
 * the time of our first call when it does not. Repeats (overlap, pages that
 * repeat) are dropped on AmazonOrderId + LastUpdateDate.
 *
 * Cursor: pages before the last carry the cursor the pull started from, so a
 * pull stopped half-way re-reads its window instead of skipping orders that a
 * later page would have held (getOrders does not promise an order of pages).
 *
 * Rate floor (default usage plans, rate-limits.ts): getOrders 0.0167/s, burst
 * 20, 100 orders a page, costs 1 call per 100 orders; getOrderItems 0.5/s,
 * burst 30, costs 1 call per order (more for orders of over 100 items). So
 * getOrderItems dominates: pulling N changed orders takes at least
 * max(0, N - 30) / 0.5 seconds (2,000 orders: about 66 minutes), whatever the
 * number of processes, since the buckets are shared. Items of an order whose
 * LastUpdateDate we have already seen are cached (`kv`, a day), so the overlap
 * costs no getOrderItems calls. The buyer PII comes with getOrders through one
 * Restricted Data Token per pull (cached for its hour), not one per order.
 */
import { z } from 'zod';
import type { OrderPage } from '../types.ts';
import type { UnifiedOrder } from '../../src/domain/order.ts';
import { PermanentError } from '../../src/domain/errors.ts';
import type { SharedKV } from '../../src/queue/shared-state.ts';
import { describeIssues } from '../values.ts';
import type { AmazonClient } from './client.ts';
import { mapOrder, orderItemSchema, orderItemsPageSchema, orderSchema, ordersPageSchema, type AmazonOrder, type AmazonOrderItem } from './mapping.ts';

const cursorSchema = z.object({ v: z.literal(1), since: z.string() });

export const ORDERS_RDT_RESOURCES = [{ method: 'GET', path: '/orders/v0/orders', dataElements: ['buyerInfo', 'shippingAddress'] }];
const ITEMS_CACHE_MS = 24 * 60 * 60 * 1000;

export interface PullOptions {
  client: AmazonClient;
  kv: SharedKV;
  sellerId: string;
  marketplaceIds: readonly string[];
  overlapSeconds: number;
  /** ISO time the first pull starts from. */
  initialSince: string;
  pageSize: number;
}

export function encodeCursor(since: Date): string {
  return JSON.stringify({ v: 1, since: since.toISOString() });
}

export function decodeCursor(cursor: string): Date {
  const parsed = cursorSchema.safeParse(safeJson(cursor));
  const since = parsed.success ? new Date(parsed.data.since) : new Date(NaN);
  if (Number.isNaN(since.getTime())) throw new PermanentError(`amazon order cursor ${cursor.slice(0, 80)} is not one this connector wrote; reset the channel's cursor`);
  return since;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** All items of one order (getOrderItems pages by NextToken too). */
export async function orderItems(client: AmazonClient, orderId: string): Promise<unknown[]> {
  const items: unknown[] = [];
  let next: string | undefined;
  do {
    // https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference#getorderitems
    const res = await client.call('getOrderItems', { params: { orderId }, query: { NextToken: next }, what: `the items of order ${orderId}` });
    const page = orderItemsPageSchema.parse(res.body);
    items.push(...page.payload.OrderItems);
    next = page.payload.NextToken || undefined;
  } while (next);
  return items;
}

/** Parses and maps one order with its items; a reason instead when either cannot be read. */
export function readOrder(raw: unknown, rawItems: unknown[]): { order: UnifiedOrder } | { reason: string } {
  const order = orderSchema.safeParse(raw);
  if (!order.success) return { reason: `order: ${describeIssues(order.error)}` };
  const items: AmazonOrderItem[] = [];
  for (const [i, item] of rawItems.entries()) {
    const parsed = orderItemSchema.safeParse(item);
    if (!parsed.success) return { reason: `item ${i}: ${describeIssues(parsed.error)}` };
    items.push(parsed.data);
  }
  try {
    return { order: mapOrder(order.data, items, { order: raw, items: rawItems }) };
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) return { reason: err.message };
    throw err;
  }
}

/** Items of an order at this LastUpdateDate: from the cache, or one getOrderItems call (paged). */
export async function cachedItems(options: Pick<PullOptions, 'client' | 'kv' | 'sellerId'>, order: Pick<AmazonOrder, 'AmazonOrderId' | 'LastUpdateDate'>): Promise<unknown[]> {
  const key = `amazon:items:${options.sellerId}:${order.AmazonOrderId}:${order.LastUpdateDate}`;
  const cached = await options.kv.get(key);
  if (cached) return JSON.parse(cached) as unknown[];
  const items = await orderItems(options.client, order.AmazonOrderId);
  await options.kv.set(key, JSON.stringify(items), ITEMS_CACHE_MS);
  return items;
}

export async function* pullOrders(options: PullOptions, cursor: string | null): AsyncIterable<OrderPage> {
  const since = cursor ? decodeCursor(cursor) : new Date(options.initialSince);
  const from = new Date(Math.max(0, since.getTime() - (cursor ? options.overlapSeconds * 1000 : 0)));
  const startCursor = cursor ?? encodeCursor(since);
  const filters = {
    MarketplaceIds: [...options.marketplaceIds],
    LastUpdatedAfter: from.toISOString(),
    MaxResultsPerPage: options.pageSize,
  };
  const seen = new Set<string>();
  let next: string | undefined;
  let windowEnd: Date | null = null;
  const firstCall = new Date();
  do {
    // The model: NextToken "doesn't affect any filters", so the same filters go again with it.
    const res = await options.client.call('getOrders', { query: { ...filters, NextToken: next }, restricted: ORDERS_RDT_RESOURCES, what: 'the order list' });
    const page = ordersPageSchema.parse(res.body);
    if (!windowEnd) {
      const echoed = page.payload.LastUpdatedBefore ? new Date(page.payload.LastUpdatedBefore) : null;
      windowEnd = echoed && !Number.isNaN(echoed.getTime()) ? echoed : firstCall;
    }
    next = page.payload.NextToken || undefined;
    const orders: UnifiedOrder[] = [];
    const rejected: NonNullable<OrderPage['rejected']> = [];
    for (const raw of page.payload.Orders) {
      const head = orderSchema.pick({ AmazonOrderId: true, LastUpdateDate: true }).safeParse(raw);
      if (!head.success) {
        const id = (raw as { AmazonOrderId?: unknown })?.AmazonOrderId;
        rejected.push({ externalId: typeof id === 'string' && id ? id : 'unknown', reason: `order: ${describeIssues(head.error)}`, raw });
        continue;
      }
      const key = `${head.data.AmazonOrderId}@${head.data.LastUpdateDate}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const items = await cachedItems(options, head.data);
      const read = readOrder(raw, items);
      if ('order' in read) orders.push(read.order);
      else rejected.push({ externalId: head.data.AmazonOrderId, reason: read.reason, raw: { order: raw, items } });
    }
    orders.sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime());
    yield { orders, rejected, cursor: next ? startCursor : encodeCursor(windowEnd) };
  } while (next);
}
