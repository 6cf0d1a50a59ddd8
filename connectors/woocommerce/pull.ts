/**
 * The order scan behind `pullOrders`: every order modified since the cursor,
 * exactly once at its latest version, even while orders change under it.
 *
 * WooCommerce lists orders by `modified` with one-second resolution and pages
 * by offset. Paging by number while orders change is unsafe: an order modified
 * mid-scan jumps to the end, everything behind it shifts one place forward,
 * and the order at the next page boundary is never seen. So each range is read
 * by keyset instead: ask for "modified at or after T" (page 1 only), move T to
 * the last modified time seen, dedupe by id. A second holding a full page of
 * orders (bulk edits) is paged by number and re-read until the count matches.
 *
 * For speed the range since the cursor is split into `concurrency` slices at
 * rank-based split points, scanned in parallel and yielded in order. Each
 * split is read as a full page at that rank (`offset`), which is also its
 * slice's first page: a page of a list sorted by modified time holds every
 * order between its first and last second, so the slice reads on by keyset
 * from its last second, as after any other page. Orders modified during the
 * scan land after its start time and are read by a final catch-up scan.
 *
 * https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-orders
 */
import type { WooClient } from './client.ts';
import { dateToGmt } from './mapping.ts';
import { PermanentError } from '../../src/domain/errors.ts';

export const PER_PAGE = 100;
const MAX_CLUSTER_PASSES = 5;

export interface RawOrder {
  id: number;
  date_modified_gmt: string;
  [key: string]: unknown;
}

export interface ScanPage {
  orders: RawOrder[];
  /** Every order modified before this second has been yielded (in this or an earlier page). */
  progress: number;
  /**
   * Entries of the list without a numeric id or a readable `date_modified_gmt`: the scan
   * cannot place them in time, so they are handed over to be set aside, never dropped silently.
   */
  unreadable: Array<{ raw: unknown; reason: string }>;
}

/** Epoch seconds of a `*_gmt` value. */
export const gmtSeconds = (value: string): number => Date.parse(`${value}Z`) / 1000;
const gmt = (seconds: number): string => dateToGmt(new Date(seconds * 1000));

interface ListResult {
  orders: RawOrder[];
  /** Entries the page held, readable or not: a full page says the list goes on. */
  entries: number;
  total: number;
  totalPages: number;
  serverTime: number | null;
}

/** A small async queue: producers push pages, the consumer reads them in order. */
class PageQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private done = false;
  private error: unknown = null;
  private wake: (() => void) | null = null;

  push(item: T): void {
    this.items.push(item);
    this.notify();
  }
  end(error?: unknown): void {
    this.done = true;
    if (error !== undefined) this.error = error;
    this.notify();
  }
  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.items.length) {
        yield this.items.shift()!;
        continue;
      }
      if (this.error) throw this.error;
      if (this.done) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

export class OrderScan {
  /** id -> modified second of the version already yielded. */
  private readonly seen = new Map<number, number>();
  /** Unreadable entries not yet handed over, and those already seen (a list is read more than once). */
  private unreadable: Array<{ raw: unknown; reason: string }> = [];
  private readonly unreadableSeen = new Set<string>();
  /** Set when the consumer stops early: producers stop at their next request. */
  private stopped = false;

  constructor(
    private readonly client: WooClient,
    private readonly concurrency: number,
  ) {}

  /**
   * Orders modified after `fromSeconds`, as pages in ascending modified order
   * (within each slice), ending with the catch-up of changes made meanwhile.
   */
  async *scan(fromSeconds: number): AsyncGenerator<ScanPage> {
    // Page 1 of the whole range: also tells the total and the store's clock.
    const first = await this.list({ after: fromSeconds, page: 1 });
    const scanStart = first.serverTime ?? Math.floor(Date.now() / 1000);
    const splits = await this.splitPoints(fromSeconds, scanStart, first);
    const bounds = [fromSeconds, ...splits.map((s) => s.at), scanStart];
    const firstPages = [first, ...splits.map((s) => s.page)];

    const queues: Array<PageQueue<ScanPage>> = [];
    const producers: Array<Promise<void>> = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const queue = new PageQueue<ScanPage>();
      queues.push(queue);
      const lo = bounds[i]!;
      const hi = bounds[i + 1]!;
      producers.push(
        this.scanRange(lo, hi, (page) => queue.push(page), firstPages[i]).then(
          () => queue.end(),
          (err: unknown) => queue.end(err),
        ),
      );
    }
    let finished = false;
    try {
      for (const queue of queues) yield* queue;
      finished = true;
    } finally {
      if (!finished) this.stopped = true;
      await Promise.allSettled(producers);
    }
    // Orders modified while the slices were read have moved past scanStart.
    const tail = new PageQueue<ScanPage>();
    // From scanStart itself: an order changed in that very second may have
    // been missed by the last slice, which read that second before the change.
    const catchUp = this.scanRange(scanStart - 1, null, (page) => tail.push(page)).then(
      () => tail.end(),
      (err: unknown) => tail.end(err),
    );
    yield* tail;
    await catchUp;
  }

  /**
   * Rank-based split points: the modified second of the order at k/n of the
   * range, each with the page read from that order on (its slice's first page).
   */
  private async splitPoints(from: number, to: number, first: ListResult): Promise<Array<{ at: number; page: ListResult }>> {
    const slices = Math.min(this.concurrency, first.totalPages);
    if (slices < 2 || first.total <= PER_PAGE * 2) return [];
    const probes = await Promise.all(
      Array.from({ length: slices - 1 }, async (_, i) => {
        const page = await this.list({ after: from, offset: Math.floor((first.total * (i + 1)) / slices) });
        const order = page.orders[0];
        return order ? { at: gmtSeconds(order.date_modified_gmt), page } : null;
      }),
    );
    // Ascending, one per second (the later page of two that start in one second), inside the range.
    const bySecond = new Map<number, ListResult>();
    for (const p of probes) if (p && p.at > from && p.at < to) bySecond.set(p.at, p.page);
    return [...bySecond].map(([at, page]) => ({ at, page })).sort((a, b) => a.at - b.at);
  }

  /**
   * Keyset scan of lo < modified <= hi (hi null: up to now). `firstPage`, when
   * given, is a page of the list that starts at or before lo + 1 (page 1 of
   * the range, or a split's page), read instead of the first request.
   */
  private async scanRange(
    lo: number,
    hi: number | null,
    emit: (page: ScanPage) => void,
    firstPage?: ListResult,
  ): Promise<void> {
    let c = lo + 1; // next query: modified >= c
    let pending = firstPage;
    for (;;) {
      if (this.stopped) return;
      const given = pending !== undefined;
      const res =
        pending ?? (await this.list({ after: c - 1, before: hi === null ? undefined : hi + 1, page: 1 }));
      pending = undefined;
      const inRange = res.orders.filter((o) => {
        const m = gmtSeconds(o.date_modified_gmt);
        return m >= c && (hi === null || m <= hi);
      });
      this.emitNew(inRange, c, emit);
      if (res.entries < PER_PAGE) return;
      const last = res.orders[res.orders.length - 1];
      if (!last) throw new PermanentError(`WooCommerce sent a full orders page of which no entry can be read (modified after ${gmt(c - 1)})`);
      const maxM = gmtSeconds(last.date_modified_gmt);
      if (hi !== null && maxM > hi) return;
      if (maxM > c) {
        c = maxM;
        continue;
      }
      // A given page that ends before this slice's second c is past: read on from c by keyset.
      if (given && maxM <= c) continue;
      // A full page within one second: page through that second by number.
      await this.scanSecond(c, emit);
      c += 1;
      if (hi !== null && c > hi) return;
    }
  }

  /** Every order modified in second `s`, re-read until one pass sees the whole count. */
  private async scanSecond(s: number, emit: (page: ScanPage) => void): Promise<void> {
    for (let pass = 0; pass < MAX_CLUSTER_PASSES; pass++) {
      const ids = new Set<number>();
      let total = 0;
      for (let page = 1; ; page++) {
        if (this.stopped) return;
        const res = await this.list({ after: s - 1, before: s + 1, page });
        total = res.total;
        const inSecond = res.orders.filter((o) => gmtSeconds(o.date_modified_gmt) === s);
        inSecond.forEach((o) => ids.add(o.id));
        this.emitNew(inSecond, s, emit);
        if (res.entries < PER_PAGE || page >= res.totalPages) break;
      }
      // Orders that leave this second mid-pass (modified again) are read later;
      // the ones they shifted forward are caught by the next pass.
      if (ids.size >= total) return;
    }
  }

  private emitNew(orders: RawOrder[], progress: number, emit: (page: ScanPage) => void): void {
    const fresh: RawOrder[] = [];
    for (const order of orders) {
      const m = gmtSeconds(order.date_modified_gmt);
      const prev = this.seen.get(order.id);
      if (prev !== undefined && prev >= m) continue;
      this.seen.set(order.id, m);
      fresh.push(order);
    }
    const last = orders[orders.length - 1];
    emit({ orders: fresh, progress: last ? Math.max(progress, gmtSeconds(last.date_modified_gmt)) : progress, unreadable: this.unreadable.splice(0) });
  }

  private async list(q: { after: number; before?: number; page?: number; offset?: number }): Promise<ListResult> {
    // https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-orders
    const res = await this.client.get<unknown>('orders', {
      what: 'orders list',
      query: {
        // From the beginning: no lower bound. WordPress 6.1 refuses the epoch
        // itself ("Invalid date.": its date check reads timestamp 0 as false).
        modified_after: q.after > 0 ? gmt(q.after) : undefined,
        modified_before: q.before === undefined ? undefined : gmt(q.before),
        dates_are_gmt: true,
        orderby: 'modified',
        order: 'asc',
        per_page: PER_PAGE,
        // `offset` wins over `page` in WordPress; one of the two is sent.
        page: q.offset === undefined ? q.page : undefined,
        offset: q.offset,
      },
    });
    if (!Array.isArray(res.body)) throw new PermanentError('WooCommerce sent an unexpected orders list: expected a JSON array');
    const orders: RawOrder[] = [];
    for (const o of res.body as unknown[]) {
      const id = (o as RawOrder | null)?.id;
      const modified = (o as RawOrder | null)?.date_modified_gmt;
      if (typeof id === 'number' && Number.isSafeInteger(id) && typeof modified === 'string' && Number.isFinite(gmtSeconds(modified))) {
        orders.push(o as RawOrder);
        continue;
      }
      const key = JSON.stringify(o) ?? String(o);
      if (this.unreadableSeen.has(key)) continue;
      this.unreadableSeen.add(key);
      const reason = typeof id !== 'number' || !Number.isSafeInteger(id) ? 'id: expected a whole number' : 'date_modified_gmt: expected YYYY-MM-DDTHH:MM:SS';
      this.unreadable.push({ raw: o, reason: `WooCommerce sent an order channelsync cannot read: ${reason}` });
    }
    const date = res.headers['date'] ? Date.parse(res.headers['date']) : NaN;
    return {
      orders,
      entries: (res.body as unknown[]).length,
      total: Number(res.headers['x-wp-total'] ?? orders.length),
      totalPages: Number(res.headers['x-wp-totalpages'] ?? 1),
      serverTime: Number.isFinite(date) ? Math.floor(date / 1000) : null,
    };
  }
}
