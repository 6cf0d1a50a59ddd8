/**
 * The console's order list: every channel's orders, newest first (placed_at,
 * then id), keyset pages, filters and one search box. Each filter reads an
 * index of migration 0019 in page order, so a page costs the same at any
 * number of orders: no OFFSET, no count(*).
 *
 * The search box finds an order by its number (`1012` or `#1012`, prefix),
 * the customer's e-mail (prefix, any case), a SKU on one of its lines, or a
 * tracking number of one of its shipments. Those four are looked up each in
 * its own index and joined (a UNION of ids), not OR-ed over the orders table,
 * which would read every order.
 */
import { sql, type RawBuilder } from 'kysely';
import type { App } from '../../app.ts';
import type { OrderState } from '../../db/schema.ts';

/** Order states a person must look at; flagged orders, orders with a failed push and open cancel requests count too. */
export const ATTENTION_STATES: readonly OrderState[] = ['needs_attention', 'on_hold'];

/** A customer's cancel request nobody has decided on, of an order neither cancelled nor shipped (migration 0022's partial index reads it). */
export const SETTLED_REQUEST_STATES: readonly OrderState[] = ['cancelled', 'shipped', 'delivered'];
export const OPEN_CANCEL_REQUEST = sql`(o.cancel_requested_at IS NOT NULL AND o.cancel_request_dismissed_at IS NULL AND o.state NOT IN (${sql.join([...SETTLED_REQUEST_STATES])}))`;

export interface OrderListFilter {
  channelId?: number;
  state?: OrderState;
  /** Placed at or after. */
  from?: Date;
  /** Placed before. */
  to?: Date;
  q?: string;
  needsAttention?: boolean;
  /** Keyset cursor from the previous page (`nextCursor`). */
  after?: OrderCursor;
  /** Default 50. */
  limit?: number;
}

export interface OrderCursor {
  placedAt: Date;
  id: number;
}

export interface OrderListRow {
  id: number;
  order_number: string;
  channel_id: number;
  channel_name: string;
  state: OrderState;
  financial_status: string;
  currency: string;
  total: string;
  customer_name: string | null;
  customer_email: string | null;
  placed_at: Date;
  flags: string[];
  failed_pushes: number;
  cancel_requested: boolean;
}

export interface OrderListPage {
  rows: OrderListRow[];
  /** Cursor of the next page; null on the last one. */
  next: OrderCursor | null;
}

/** `2026-11-01T10:00:00.000Z_123` <-> cursor. Null for anything else (a hand-edited URL starts at the top). */
export function encodeCursor(c: OrderCursor): string {
  return `${c.placedAt.toISOString()}_${c.id}`;
}
export function decodeCursor(value: string | undefined): OrderCursor | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)_(\d{1,15})$/.exec(value ?? '');
  if (!m) return undefined;
  const placedAt = new Date(m[1]!);
  return Number.isNaN(placedAt.getTime()) ? undefined : { placedAt, id: Number(m[2]) };
}

/** The ids of the orders a search term names (number, e-mail, SKU, tracking number). */
function searchHits(q: string): RawBuilder<unknown> {
  const term = q.trim();
  const escaped = term.replace(/^#/, '').replace(/[\\%_]/g, (c) => `\\${c}`);
  return sql`
    SELECT id FROM orders WHERE order_number LIKE ${`${escaped}%`} OR order_number LIKE ${`#${escaped}%`}
    UNION SELECT id FROM orders WHERE lower(customer_email) LIKE ${`${escaped.toLowerCase()}%`}
    UNION SELECT order_id FROM order_lines WHERE sku = ${term}
    UNION SELECT f.order_id FROM shipments s JOIN fulfillments f ON f.id = s.fulfillment_id WHERE s.tracking_number = ${term}`;
}

/** Orders of the failed pushes (fulfilment pushes name a shipment; cancel and refund pushes the order's external id). */
const FAILED_PUSH_ORDERS = sql`
  SELECT f.order_id FROM channel_pushes p
    JOIN shipments s ON s.id = CASE WHEN p.target ~ '^[0-9]{1,18}$' THEN p.target::bigint END
    JOIN fulfillments f ON f.id = s.fulfillment_id
  WHERE p.status = 'failed' AND p.kind = 'fulfillment'
  UNION SELECT o.id FROM channel_pushes p JOIN orders o ON o.channel_id = p.channel_id AND o.external_id = split_part(p.target, '.', 1)
  WHERE p.status = 'failed' AND p.kind IN ('cancel', 'refund')`;

export async function listOrders(app: App, filter: OrderListFilter): Promise<OrderListPage> {
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 200);
  const where: RawBuilder<unknown>[] = [sql`true`];
  if (filter.channelId !== undefined) where.push(sql`o.channel_id = ${filter.channelId}`);
  if (filter.state) where.push(sql`o.state = ${filter.state}`);
  if (filter.from) where.push(sql`o.placed_at >= ${filter.from}`);
  if (filter.to) where.push(sql`o.placed_at < ${filter.to}`);
  if (filter.q && filter.q.trim()) where.push(sql`o.id IN (${searchHits(filter.q)})`);
  if (filter.needsAttention) {
    where.push(sql`(o.state IN (${sql.join([...ATTENTION_STATES])}) OR o.flags <> '{}' OR ${OPEN_CANCEL_REQUEST} OR o.id IN (${FAILED_PUSH_ORDERS}))`);
  }
  if (filter.after) where.push(sql`(o.placed_at, o.id) < (${filter.after.placedAt}, ${filter.after.id})`);
  const { rows } = await sql<OrderListRow>`
    SELECT o.id, o.order_number, o.channel_id, c.name AS channel_name, o.state, o.financial_status, o.currency, o.total::text AS total,
      o.customer_name, o.customer_email, o.placed_at, o.flags, ${OPEN_CANCEL_REQUEST} AS cancel_requested,
      (SELECT count(*)::int FROM channel_pushes p JOIN shipments s ON p.kind = 'fulfillment' AND p.target = s.id::text
        JOIN fulfillments f ON f.id = s.fulfillment_id WHERE f.order_id = o.id AND p.channel_id = o.channel_id AND p.status = 'failed') AS failed_pushes
    FROM orders o JOIN channels c ON c.id = o.channel_id
    WHERE ${sql.join(where, sql` AND `)}
    ORDER BY o.placed_at DESC, o.id DESC
    LIMIT ${limit + 1}`.execute(app.db);
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return { rows: page, next: more && last ? { placedAt: last.placed_at, id: last.id } : null };
}
