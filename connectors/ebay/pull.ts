/**
 * Orders in: getOrders over a `lastmodifieddate` window
 * (https://developer.ebay.com/api-docs/sell/fulfillment/resources/order/methods/getOrders).
 *
 * The filter is `lastmodifieddate:[cursor - OVERLAP..]`, open-ended: eBay refuses
 * an end in the future (30850) by its own clock, which ours need not match, and the
 * spec gives no freshness guarantee for lastModifiedDate, so each pull re-reads the
 * last OVERLAP (newer-wins upserts make that free). `creationdate` is never sent
 * with it (eBay would silently use only creationdate). The next cursor is the
 * newest lastModifiedDate read: eBay's clock, never ours.
 *
 * Offset paging walks a set that changes while it is read, and the spec names no
 * sort order. If eBay sorts by lastModifiedDate, an order changed mid-walk jumps to
 * the end and every order after it moves back one place: the walk, going on at the
 * next offset, skips one, with `total` unchanged. So a walk counts as settled only
 * when `total` is the same on its first and last page and either no order it read
 * was modified after it began (eBay's clock: the first page's `Date` header), or it
 * read nothing an earlier walk had not (whatever moved, nothing new appeared). Until
 * then the window is walked again; orders are de-duplicated on orderId +
 * lastModifiedDate across walks. The cursor moves only after a settled walk; each
 * page before carries the old cursor, so a crash mid-pull repeats the window. After
 * MAX_WALKS unsettled walks the cursor stays and the next pull tries again.
 *
 * A page that has `next` is followed by the next offset in any case, so that request
 * is sent before the page is mapped and handed on: it travels while this page is
 * mapped and the caller saves it (no extra call: the last page, without `next`, asks
 * for nothing). The pull waits until it has left (its quota debit is a Redis round
 * trip): mapping 200 orders holds the event loop, and a request started but not yet
 * sent would only leave after it.
 *
 * getOrders' cancelRequests are always empty: an order whose cancelState is not
 * NONE_REQUESTED is read again with getOrder, which fills them.
 */
import { PermanentError } from '../../src/domain/errors.ts';
import type { OrderPage } from '../types.ts';
import type { UnifiedOrder } from '../../src/domain/order.ts';
import type { EbayClient } from './client.ts';
import { mapOrder } from './mapping.ts';

/** An order eBay sent that the mapping refuses: set aside in a pull, permanent for a fetch. */
export class EbayOrderUnreadable extends PermanentError {
  override readonly code = 'EBAY_ORDER_UNREADABLE';
  constructor(
    message: string,
    readonly raw: unknown,
  ) {
    super(message);
  }
}

/** Re-read this much before the cursor on every pull. */
export const OVERLAP_MS = 10 * 60 * 1000;
/** getOrders' maximum page (more fails with 31100). */
export const PAGE_LIMIT = 200;
/** Longest the pull waits for the next page's request to leave before it maps the page in hand. */
const LEAVE_WAIT_MS = 100;
/** Walks of one window before the pull gives up moving the cursor this time. */
const MAX_WALKS = 5;

interface Collection {
  total: number;
  orders?: unknown[];
  next?: string;
}

interface Cursor {
  /** lastModifiedDate the next window starts from (before the overlap). */
  since: string;
}

export function parseCursor(cursor: string | null, initialSince: string | undefined, now: Date): Date {
  if (cursor) {
    const parsed = JSON.parse(cursor) as Cursor;
    return new Date(parsed.since);
  }
  // No cursor: the setting, else eBay's own default reach (orders of the last 90 days).
  return initialSince ? new Date(initialSince) : new Date(now.getTime() - 90 * 86_400_000);
}

export async function* pullOrders(
  client: EbayClient,
  cursor: string | null,
  options: { initialSince?: string; fetchOrder(id: string): Promise<UnifiedOrder | null>; now?: () => Date },
): AsyncIterable<OrderPage> {
  const now = options.now ?? (() => new Date());
  const since = parseCursor(cursor, options.initialSince, now());
  const from = new Date(since.getTime() - (cursor ? OVERLAP_MS : 0));
  const stay = JSON.stringify({ since: since.toISOString() } satisfies Cursor);
  const filter = `lastmodifieddate:[${from.toISOString()}..]`;
  const seen = new Set<string>();
  let newest = since.getTime();
  for (let walk = 0; walk < MAX_WALKS; walk++) {
    let offset = 0;
    let firstTotal: number | null = null;
    let lastTotal = 0;
    /** The walk's start by eBay's clock (the Date header has whole seconds: floored, so never late). */
    let began: number | null = null;
    let movedDuring = false;
    let fresh = 0;
    const page = (at: number, onSend?: () => void) =>
      client.call<Collection>('GET', '/sell/fulfillment/v1/order', {
        query: { filter, limit: PAGE_LIMIT, offset: at },
        api: 'sell.fulfillment',
        what: `orders modified since ${from.toISOString()}`,
        ...(onSend ? { onSend } : {}),
      });
    let ahead: Promise<Awaited<ReturnType<typeof page>>> | null = null;
    for (;;) {
      const res = await (ahead ?? page(offset));
      ahead = null;
      const body = res.body;
      // Asked now, the next page travels while this one is mapped and saved; a failure surfaces when awaited.
      if (body.next && (body.orders ?? []).length) {
        let sent!: () => void;
        const leaving = new Promise<void>((r) => (sent = r));
        ahead = page(offset + PAGE_LIMIT, sent);
        ahead.catch(() => {});
        // Mapping a page holds the event loop for milliseconds: the next page's quota debit (a Redis
        // round trip) and request go first, or the request would leave only once this page is mapped.
        // At most LEAVE_WAIT_MS: a request waiting for the daily quota must not hold back this page's save.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([leaving, ahead.then(() => {}, () => {}), new Promise<void>((r) => (timer = setTimeout(r, LEAVE_WAIT_MS)))]);
        clearTimeout(timer);
        await new Promise((r) => setImmediate(r));
      }
      if (firstTotal === null) {
        firstTotal = body.total;
        const date = Date.parse(res.headers.get('date') ?? '');
        began = Number.isFinite(date) ? date : null;
      }
      lastTotal = body.total;
      for (const o of body.orders ?? []) {
        const modified = Date.parse(String((o as { lastModifiedDate?: unknown }).lastModifiedDate));
        // Without eBay's clock, any order may have moved: only a walk that finds nothing new settles.
        if (began === null || !(modified < began)) movedDuring = true;
      }
      const mapped = await mapPage(body.orders ?? [], seen, options.fetchOrder);
      fresh += mapped.fresh;
      for (const o of mapped.orders) newest = Math.max(newest, o.updatedAt.getTime());
      offset += PAGE_LIMIT;
      const last = !body.next || !(body.orders ?? []).length;
      const settled = last && lastTotal === firstTotal && (!movedDuring || (walk > 0 && fresh === 0));
      yield { orders: mapped.orders, rejected: mapped.rejected, cursor: settled ? JSON.stringify({ since: new Date(newest).toISOString() } satisfies Cursor) : stay };
      if (settled) return;
      if (last) break;
    }
  }
}

/** Maps a page's orders not seen before (by orderId + lastModifiedDate); `fresh` counts them. */
async function mapPage(raw: unknown[], seen: Set<string>, fetchOrder: (id: string) => Promise<UnifiedOrder | null>): Promise<{ orders: UnifiedOrder[]; rejected: NonNullable<OrderPage['rejected']>; fresh: number }> {
  const orders: UnifiedOrder[] = [];
  const rejected: NonNullable<OrderPage['rejected']> = [];
  let fresh = 0;
  for (const item of raw) {
    const o = item as { orderId?: unknown; lastModifiedDate?: unknown; cancelStatus?: { cancelState?: unknown } };
    const id = typeof o.orderId === 'string' ? o.orderId : '';
    const key = `${id}|${String(o.lastModifiedDate)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    fresh += 1;
    try {
      const cancelState = o.cancelStatus?.cancelState;
      if (id && typeof cancelState === 'string' && cancelState !== 'NONE_REQUESTED') {
        // The list's cancelRequests are always empty: getOrder has them.
        const full = await fetchOrder(id);
        if (full) {
          orders.push(full);
          continue;
        }
      }
      orders.push(mapOrder(item));
    } catch (err) {
      if (err instanceof EbayOrderUnreadable && id) {
        rejected.push({ externalId: id, reason: err.message, raw: err.raw });
        continue;
      }
      if (!id || isChannelError(err)) throw err;
      rejected.push({ externalId: id, reason: (err as Error).message, raw: item });
    }
  }
  return { orders, rejected, fresh };
}

function isChannelError(err: unknown): boolean {
  return err instanceof Error && 'retryable' in err;
}
