/**
 * getOrders as specs/sell_fulfillment_v1_oas3.json describes it (`paths./order.get`):
 * the filter grammar and its errors, creationdate winning over lastmodifieddate,
 * orderIds overriding everything, limit/offset bounds, `next`/`prev` only when
 * such pages exist, and cancelRequests always empty in the list.
 */
import { EbaySimError, type SimOrder } from './state.ts';

const MAX_LIMIT = 200;
const DEFAULT_LIMIT = 50;
const MAX_ORDER_IDS = 50;
const DAY_MS = 86_400_000;

/** The spec's x-response-codes of getOrders, with their placeholders. */
const err = {
  name: (f: string) => new EbaySimError(400, 30700, `Invalid filter name: ${f}`),
  value: (v: string, f: string) => new EbaySimError(400, 30800, `Invalid filter value ${v} for filter ${f}`),
  date: () => new EbaySimError(400, 30810, 'Invalid date format'),
  noStart: () => new EbaySimError(400, 30820, 'Start date is missing'),
  order: () => new EbaySimError(400, 30840, 'Start date should be before end date'),
  future: () => new EbaySimError(400, 30850, "Start and end dates can't be in the future"),
  ids: () => new EbaySimError(400, 30900, 'Exceeded maximum number of order IDs (the current limit is 50)'),
  offset: (v: string) => new EbaySimError(400, 31000, `Invalid offset: ${v}`),
  limit: (v: string) => new EbaySimError(400, 31100, `Invalid limit: ${v}`),
};

interface Range {
  from: number;
  to: number | null;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

function parseDate(s: string): number {
  if (!ISO.test(s)) throw err.date();
  const t = Date.parse(s);
  if (!Number.isFinite(t)) throw err.date();
  return t;
}

function parseRange(field: string, value: string, now: number): Range {
  const m = /^\[(.*)\.\.(.*)\]$/.exec(value);
  if (!m) throw err.value(value, field);
  if (!m[1]) throw err.noStart();
  const from = parseDate(m[1]);
  const to = m[2] ? parseDate(m[2]) : null;
  if (from > now || (to !== null && to > now)) throw err.future();
  if (to !== null && from > to) throw err.order();
  return { from, to };
}

export interface OrderQuery {
  /** The raw query string (before decoding), to check the filter's characters were encoded. */
  rawQuery: string;
  params: URLSearchParams;
  now: Date;
  /** How the list is sorted; see `ListOrder`. Default `creation-desc`. */
  listOrder?: ListOrder;
}

/**
 * The spec names no sort order for getOrders, so a connector must be right under any.
 * `creation-desc` (the default: newest first, id as tie-break) moves nothing when an
 * order changes; `modified-asc` is the worst case for offset paging, which tests pick:
 * an order changed mid-walk jumps to the end, and every order after it moves back one
 * place, so a walk that goes on at the next offset skips one.
 */
export type ListOrder = 'creation-desc' | 'modified-asc';

export interface OrderPage {
  href: string;
  total: number;
  limit: number;
  offset: number;
  orders: unknown[];
  next?: string;
  prev?: string;
}

/** List form of an order: cancelRequests "returned but always empty" (CancelStatus.cancelRequests). */
export function listForm(o: SimOrder): unknown {
  return { ...o, cancelStatus: { ...o.cancelStatus, cancelRequests: [] } };
}

export function searchOrders(orders: Iterable<SimOrder>, q: OrderQuery, baseHref: string): OrderPage {
  const now = q.now.getTime();
  const ids = q.params.get('orderIds');
  if (ids !== null) {
    // "all other query parameters will be ignored"
    const wanted = ids.split(',').map((s) => s.trim()).filter(Boolean);
    if (wanted.length > MAX_ORDER_IDS) throw err.ids();
    const byId = new Map([...orders].map((o) => [o.orderId, o]));
    const found = wanted.map((id) => byId.get(id)).filter((o): o is SimOrder => !!o);
    return { href: `${baseHref}?orderIds=${encodeURIComponent(ids)}`, total: found.length, limit: found.length, offset: 0, orders: found.map(listForm) };
  }
  const limitRaw = q.params.get('limit');
  const offsetRaw = q.params.get('offset');
  const limit = limitRaw === null ? DEFAULT_LIMIT : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw err.limit(limitRaw ?? '');
  const offset = offsetRaw === null ? 0 : Number(offsetRaw);
  if (!Number.isInteger(offset) || offset < 0) throw err.offset(offsetRaw ?? '');

  let created: Range | null = null;
  let modified: Range | null = null;
  let status: string[] | null = null;
  const filter = q.params.get('filter');
  if (filter !== null && filter !== '') {
    // "[ ] { | }" must arrive percent-encoded (hendt/ebay-api#145: sent raw, eBay refuses the value).
    const rawFilter = /(?:^|&)filter=([^&]*)/.exec(q.rawQuery)?.[1] ?? '';
    for (const criterion of filter.split(',')) {
      const colon = criterion.indexOf(':');
      const name = colon < 0 ? criterion : criterion.slice(0, colon);
      const value = colon < 0 ? '' : criterion.slice(colon + 1);
      if (/[[\]{}|]/.test(rawFilter)) throw err.value(value, name);
      if (name === 'creationdate') created = parseRange(name, value, now);
      else if (name === 'lastmodifieddate') modified = parseRange(name, value, now);
      else if (name === 'orderfulfillmentstatus') {
        if (value !== '{NOT_STARTED|IN_PROGRESS}' && value !== '{FULFILLED|IN_PROGRESS}') throw err.value(value, name);
        status = value.slice(1, -1).split('|');
      } else throw err.name(name);
    }
  }
  // "If creationdate and lastmodifieddate are both included, only creationdate is used."
  if (created) modified = null;
  // No date filter: orders created in the last 90 days.
  if (!created && !modified) created = { from: now - 90 * DAY_MS, to: null };
  const twoYears = now - 730 * DAY_MS;
  const inRange = (t: string, r: Range | null) => !r || (Date.parse(t) >= r.from && (r.to === null || Date.parse(t) <= r.to));
  const matching = [...orders]
    .filter((o) => Date.parse(o.creationDate) >= twoYears)
    .filter((o) => inRange(o.creationDate, created) && inRange(o.lastModifiedDate, modified))
    .filter((o) => !status || status.includes(o.orderFulfillmentStatus))
    .sort(
      q.listOrder === 'modified-asc'
        ? (a, b) => a.lastModifiedDate.localeCompare(b.lastModifiedDate) || a.orderId.localeCompare(b.orderId)
        : (a, b) => b.creationDate.localeCompare(a.creationDate) || b.orderId.localeCompare(a.orderId),
    );
  const page = matching.slice(offset, offset + limit);
  const link = (off: number) => {
    const p = new URLSearchParams(q.params);
    p.set('limit', String(limit));
    p.set('offset', String(off));
    return `${baseHref}?${p.toString()}`;
  };
  return {
    href: link(offset),
    total: matching.length,
    limit,
    offset,
    orders: page.map(listForm),
    ...(offset + limit < matching.length ? { next: link(offset + limit) } : {}),
    ...(offset > 0 ? { prev: link(Math.max(0, offset - limit)) } : {}),
  };
}
