/**
 * The numbers behind the dashboard and GET /api/channels, straight from
 * Postgres (the truth) and BullMQ's counts. Each query reads indexed columns
 * and a bounded time range, so the dashboard stays fast as orders grow.
 */
import { pauseAdvice } from '../../db/channels.ts';
import { sql } from 'kysely';
import type { App } from '../../app.ts';
import { readDrift } from '../metrics.ts';
import { failureCounts } from '../../queue/failures.ts';
import { QUEUE_NAMES } from '../../queue/queues.ts';
import { OPEN_CANCEL_REQUEST } from './order-list.ts';

/** Order states that mean "received but not yet all shipped". */
export const IN_FULFILMENT_STATES = ['received', 'allocated', 'backordered', 'partially_shipped', 'on_hold', 'needs_attention'] as const;

export interface ChannelHealth {
  id: number;
  name: string;
  kind: string;
  enabled: boolean;
  /** Last time a sync page was saved; null before the first sync. */
  lastSyncedAt: string | null;
  /** Seconds since `lastSyncedAt`; null before the first sync. */
  syncLagSeconds: number | null;
  lastSyncError: string | null;
  ordersToday: number;
  ordersInFulfilment: number;
  pendingPushes: number;
  failedPushes: number;
  /** SKUs whose stock on the channel differs from the ledger (last reconcile); null until stock reconciliation runs. */
  stockDriftSkus: number | null;
  /**
   * `failing`: the last sync failed. `degraded`: it syncs, but pushes failed
   * for good or the sync lags more than `LAG_INTERVALS` sync intervals.
   */
  health: 'ok' | 'degraded' | 'failing' | 'disabled' | 'paused' | 'never synced';
  /** Set while the channel is paused until a person reconnects it: why, and the command that ends it. */
  paused: string | null;
  /** Why the health is not `ok`, in words a person can act on; empty when ok. */
  reasons: string[];
}

/** A channel lags when its last saved sync is older than this many sync intervals (plus a minute for a slow page). */
export const LAG_INTERVALS = 3;

export async function channelHealth(app: App): Promise<ChannelHealth[]> {
  const { rows } = await sql<{
    id: number;
    name: string;
    kind: string;
    enabled: boolean;
    last_synced_at: Date | null;
    lag: number | null;
    last_error: string | null;
    orders_today: number;
    in_fulfilment: number;
    pending_pushes: number;
    failed_pushes: number;
    paused_at: Date | null;
    paused_reason: string | null;
  }>`
    SELECT c.id, c.name, c.kind, c.enabled, c.paused_at, c.paused_reason,
      sc.last_synced_at, extract(epoch FROM now() - sc.last_synced_at)::float8 AS lag, sc.last_error,
      COALESCE(o.orders_today, 0) AS orders_today, COALESCE(o.in_fulfilment, 0) AS in_fulfilment,
      COALESCE(p.pending, 0) AS pending_pushes, COALESCE(p.failed, 0) AS failed_pushes
    FROM channels c
    LEFT JOIN sync_cursors sc ON sc.channel_id = c.id AND sc.resource = 'orders'
    -- One pass over the orders and one over the open pushes, grouped by channel. A count per channel in
    -- correlated subqueries was priced at (estimated channels) x (a scan of orders): past Postgres'
    -- jit_above_cost at 100,000 orders, so every dashboard paid ~200 ms of JIT compiling (bench: console).
    LEFT JOIN (
      SELECT channel_id,
        count(*) FILTER (WHERE placed_at >= date_trunc('day', now()))::int AS orders_today,
        count(*) FILTER (WHERE state IN (${sql.join([...IN_FULFILMENT_STATES])}))::int AS in_fulfilment
      FROM orders
      WHERE placed_at >= date_trunc('day', now()) OR state IN (${sql.join([...IN_FULFILMENT_STATES])})
      GROUP BY channel_id) o ON o.channel_id = c.id
    LEFT JOIN (
      SELECT channel_id, count(*) FILTER (WHERE status = 'pending')::int AS pending, count(*) FILTER (WHERE status = 'failed')::int AS failed
      FROM channel_pushes WHERE status IN ('pending', 'failed')
      GROUP BY channel_id) p ON p.channel_id = c.id
    ORDER BY c.id`.execute(app.db);
  const drift = new Map((await readDrift(app)).map((d) => [d.channel_id, d.skus]));
  const driftKnown = drift.size > 0 || (await reconciledYet(app));
  const lagLimit = app.config.syncIntervalSeconds * LAG_INTERVALS + 60;
  return rows.map((r) => {
    const lag = r.lag === null ? null : Math.max(0, Math.round(r.lag));
    const reasons: string[] = [];
    const paused = r.paused_at ? pauseAdvice(r.id, { at: r.paused_at, reason: r.paused_reason ?? '' }) : null;
    if (r.enabled && paused) reasons.push(paused);
    if (r.enabled && r.last_error) reasons.push(`the last sync failed: ${r.last_error}`);
    if (r.enabled && lag !== null && lag > lagLimit) {
      reasons.push(`last synced ${minutes(lag)} ago, more than ${LAG_INTERVALS} sync intervals (${minutes(app.config.syncIntervalSeconds)} each)`);
    }
    if (r.failed_pushes > 0) reasons.push(`${r.failed_pushes} push${r.failed_pushes === 1 ? '' : 'es'} to the channel failed for good: retry them from the order pages`);
    const health: ChannelHealth['health'] = !r.enabled
      ? 'disabled'
      : paused
        ? 'paused'
        : r.last_error
          ? 'failing'
          : lag === null
            ? 'never synced'
            : reasons.length > 0
              ? 'degraded'
              : 'ok';
    return {
      id: r.id,
      name: r.name,
      kind: r.kind,
      enabled: r.enabled,
      lastSyncedAt: r.last_synced_at?.toISOString() ?? null,
      syncLagSeconds: lag,
      lastSyncError: r.last_error,
      ordersToday: r.orders_today,
      ordersInFulfilment: r.in_fulfilment,
      pendingPushes: r.pending_pushes,
      failedPushes: r.failed_pushes,
      stockDriftSkus: driftKnown ? (drift.get(r.id) ?? 0) : null,
      health,
      paused,
      reasons,
    };
  });
}

/** Orders whose customer asked to cancel and nobody has decided yet (migration 0022's partial index). */
export async function openCancelRequests(app: App): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM orders o WHERE ${OPEN_CANCEL_REQUEST}`.execute(app.db);
  return rows[0]?.n ?? 0;
}

/** 90 s -> "1.5 min", 7200 s -> "120 min": lag is read against intervals of minutes. */
function minutes(seconds: number): string {
  return seconds < 60 ? `${seconds} s` : `${Math.round((seconds / 60) * 10) / 10} min`;
}

/** True once a stock reconciliation has finished (so "no drift" means zero, not unknown). */
async function reconciledYet(app: App): Promise<boolean> {
  const { rows } = await sql<{ t: string | null }>`SELECT to_regclass('reconcile_runs')::text AS t`.execute(app.db);
  if (!rows[0]?.t) return false;
  const run = await sql<{ one: number }>`SELECT 1 AS one FROM reconcile_runs WHERE finished_at IS NOT NULL LIMIT 1`.execute(app.db);
  return run.rows.length > 0;
}

export interface CycleTimes {
  /** Orders placed in the window that reached the milestone. */
  count: number;
  medianSeconds: number | null;
  p90Seconds: number | null;
}

/**
 * Placed -> shipped (the last shipment of an order now shipped or delivered)
 * and placed -> delivered (the last delivery), over orders placed in the last `days`.
 */
export async function cycleTimes(app: App, days = 30): Promise<{ shipped: CycleTimes; delivered: CycleTimes }> {
  const { rows } = await sql<{ milestone: string; n: number; median: number | null; p90: number | null }>`
    WITH per_order AS (
      SELECT o.id, o.placed_at, o.state, max(s.shipped_at) AS shipped_at,
        CASE WHEN bool_and(s.delivered_at IS NOT NULL) THEN max(s.delivered_at) END AS delivered_at
      FROM orders o
      JOIN fulfillments f ON f.order_id = o.id
      JOIN shipments s ON s.fulfillment_id = f.id
      WHERE o.placed_at >= now() - make_interval(days => ${days}) AND o.state IN ('shipped', 'delivered')
      GROUP BY o.id
    ), spans AS (
      SELECT 'shipped' AS milestone, extract(epoch FROM shipped_at - placed_at) AS s FROM per_order
      UNION ALL
      SELECT 'delivered', extract(epoch FROM delivered_at - placed_at) FROM per_order WHERE delivered_at IS NOT NULL AND state = 'delivered'
    )
    SELECT milestone, count(*)::int AS n,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY s)::float8 AS median,
      percentile_cont(0.9) WITHIN GROUP (ORDER BY s)::float8 AS p90
    FROM spans GROUP BY milestone`.execute(app.db);
  const pick = (m: string): CycleTimes => {
    const r = rows.find((x) => x.milestone === m);
    return { count: r?.n ?? 0, medianSeconds: r?.median ?? null, p90Seconds: r?.p90 ?? null };
  };
  return { shipped: pick('shipped'), delivered: pick('delivered') };
}

export interface HourlySeries {
  /** Start of each hour, oldest first (24 entries). */
  hours: Date[];
  series: Array<{ channelId: number; name: string; counts: number[] }>;
}

/** Orders placed per hour per channel over the last 24 hours (the current hour last). */
export async function ordersPerHour(app: App): Promise<HourlySeries> {
  const { rows } = await sql<{ hour: Date; channel_id: number; name: string; n: number }>`
    WITH hours AS (
      SELECT generate_series(date_trunc('hour', now()) - interval '23 hours', date_trunc('hour', now()), interval '1 hour') AS hour
    ), counts AS (
      -- One range scan of the day's orders, grouped; not one probe per hour and channel (slow at 100,000 orders).
      SELECT channel_id, date_trunc('hour', placed_at) AS hour, count(*)::int AS n FROM orders
      WHERE placed_at >= date_trunc('hour', now()) - interval '23 hours' AND placed_at < date_trunc('hour', now()) + interval '1 hour'
      GROUP BY 1, 2
    )
    SELECT h.hour, c.id AS channel_id, c.name, coalesce(k.n, 0)::int AS n
    FROM hours h CROSS JOIN channels c
    LEFT JOIN counts k ON k.channel_id = c.id AND k.hour = h.hour
    ORDER BY c.id, h.hour`.execute(app.db);
  const hours: Date[] = [];
  const byChannel = new Map<number, { channelId: number; name: string; counts: number[] }>();
  for (const r of rows) {
    if (!hours.some((h) => h.getTime() === r.hour.getTime())) hours.push(r.hour);
    let s = byChannel.get(r.channel_id);
    if (!s) byChannel.set(r.channel_id, (s = { channelId: r.channel_id, name: r.name, counts: [] }));
    s.counts.push(r.n);
  }
  hours.sort((a, b) => a.getTime() - b.getTime());
  return { hours, series: [...byChannel.values()] };
}

/**
 * Jobs failed for good per queue, from `job_failures` (Postgres), not BullMQ's
 * failed counts: those vanish with a Redis flush while the work stays undone.
 */
export async function failedJobs(app: App): Promise<Array<{ queue: string; failed: number }>> {
  const counts = await failureCounts(app.db);
  return QUEUE_NAMES.map((queue) => ({ queue, failed: counts.get(queue) ?? 0 }));
}

/** One SKU with nothing left to sell (see `stockOuts`). */
export interface StockOut {
  sku: string;
  title: string;
  /** On hand less reserved over the active locations (0 or below). */
  available: number;
  /** Units on backordered fulfilments waiting for this SKU. */
  backorderedUnits: number;
  /** Units on open stock purchase orders (draft, sent, partially received). */
  onOrder: number;
  /** The soonest delivery date of a sent purchase order for it; null when none is sent. */
  nextDeliveryAt: string | null;
}

/** Orders waiting for stock, SKUs sold out, and what is on order: the dashboard's "stock" cards. */
export interface StockBacklog {
  /** Orders in the `backordered` state (every fulfilment waiting for stock). */
  backorderedOrders: number;
  /** Backordered fulfilments, including those of partly shipped orders. */
  backorderedFulfilments: number;
  stockOuts: StockOut[];
  purchaseOrders: { draft: number; sent: number };
}

/**
 * Stock-outs and backorders. A SKU counts as out of stock when it has a
 * ledger (a SKU never initialised is not "0", see design.md) and nothing is
 * available at any active location.
 */
export async function stockBacklog(app: App): Promise<StockBacklog> {
  const counts = await sql<{ orders: number; fulfilments: number; draft: number; sent: number }>`
    SELECT (SELECT count(*)::int FROM orders WHERE state = 'backordered') AS orders,
      (SELECT count(*)::int FROM fulfillments WHERE state = 'backordered') AS fulfilments,
      (SELECT count(*)::int FROM purchase_orders WHERE kind = 'stock' AND status = 'draft') AS draft,
      (SELECT count(*)::int FROM purchase_orders WHERE kind = 'stock' AND status IN ('sent', 'partially_received')) AS sent`.execute(app.db);
  const outs = await sql<{ sku: string; title: string; available: number; backordered: number; on_order: number; next_at: Date | null }>`
    WITH avail AS (
      SELECT sl.sku_id, sum(CASE WHEN l.active THEN sl.on_hand - sl.reserved ELSE 0 END)::int AS available
      FROM stock_levels sl JOIN locations l ON l.id = sl.location_id GROUP BY sl.sku_id
    )
    SELECT s.sku, s.title, a.available,
      (SELECT coalesce(sum(fl.quantity), 0)::int FROM fulfillment_lines fl JOIN fulfillments f ON f.id = fl.fulfillment_id
        JOIN order_lines ol ON ol.id = fl.order_line_id WHERE f.state = 'backordered' AND ol.sku_id = s.id) AS backordered,
      (SELECT coalesce(sum(pl.quantity - pl.quantity_received), 0)::int FROM purchase_order_lines pl JOIN purchase_orders po ON po.id = pl.purchase_order_id
        WHERE pl.sku_id = s.id AND po.kind = 'stock' AND po.status IN ('draft', 'sent', 'partially_received')) AS on_order,
      (SELECT min(po.expected_at) FROM purchase_order_lines pl JOIN purchase_orders po ON po.id = pl.purchase_order_id
        WHERE pl.sku_id = s.id AND po.kind = 'stock' AND po.status IN ('sent', 'partially_received')) AS next_at
    FROM avail a JOIN skus s ON s.id = a.sku_id
    WHERE a.available <= 0
    ORDER BY s.sku`.execute(app.db);
  const c = counts.rows[0]!;
  return {
    backorderedOrders: c.orders,
    backorderedFulfilments: c.fulfilments,
    stockOuts: outs.rows.map((r) => ({
      sku: r.sku,
      title: r.title,
      available: r.available,
      backorderedUnits: r.backordered,
      onOrder: r.on_order,
      nextDeliveryAt: r.next_at?.toISOString() ?? null,
    })),
    purchaseOrders: { draft: c.draft, sent: c.sent },
  };
}
