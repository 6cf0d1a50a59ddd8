/**
 * Scale-out: ingest and fulfilment with 1, 2 and 4 daemon processes (quick:
 * 1 and 2) on one Postgres and one Redis, N orders over 4 WooCommerce stores
 * (full 200, quick 60; BENCH_SCALE_ORDERS), see ./fleet.ts.
 *
 * Floor: the same run with one process. Targets: no loss of throughput
 * (ratio >= 1 for more processes), and none of the work done twice: every
 * order has exactly one fulfillment on its channel, counted by the
 * simulators themselves (an absolute count, target 0).
 * On a 2-core machine more processes cannot add CPU; the ratio then shows
 * what the coordination (locks, Redis) costs.
 */
import { runFleet, type FleetRun } from './fleet.ts';
import { absolute, atLeast, sized } from './rows.ts';
import type { BenchRow, Scenario } from './types.ts';

const STORES = 4;

const scenario: Scenario = {
  id: 'scale-out',
  async run(ctx) {
    const orders = sized('BENCH_SCALE_ORDERS', 200, 60, ctx.quick);
    const counts = ctx.quick ? [1, 2] : [1, 2, 4];
    const runs: FleetRun[] = [];
    for (const daemons of counts) runs.push(await runFleet(ctx, { daemons, stores: STORES, orders, timeoutMs: 15 * 60_000 }));
    const one = runs[0]!;
    const rows: BenchRow[] = [];
    for (const r of runs.slice(1)) {
      rows.push(atLeast({
        figure: `ingest ${r.orders} orders from ${STORES} stores, ${r.daemons} daemons`,
        value: r.orders / r.ingestSeconds, floor: one.orders / one.ingestSeconds, min: 1, unit: 'orders/s',
        floorWhat: `1 daemon: ${one.ingestSeconds.toFixed(1)} s`, note: `${r.ingestSeconds.toFixed(1)} s`,
      }));
      rows.push(atLeast({
        figure: `fulfilment ${r.orders} orders, ${r.daemons} daemons`,
        value: r.orders / r.doneSeconds, floor: one.orders / one.doneSeconds, min: 1, unit: 'orders/s',
        floorWhat: `1 daemon: ${one.doneSeconds.toFixed(1)} s`, note: `${r.doneSeconds.toFixed(1)} s; ${r.commitsPerOrder.toFixed(0)} Postgres commits an order`,
      }));
    }
    const twice = runs.reduce((a, r) => a + r.duplicates, 0);
    const missing = runs.reduce((a, r) => a + r.missing, 0);
    rows.push(absolute({
      figure: `fulfillments made twice, over ${runs.length} runs`, value: twice, max: 0, unit: 'count',
      targetText: '0', note: `per run: ${runs.map((r) => `${r.daemons} daemon(s) ${r.duplicates}`).join(', ')}; orders left unfulfilled: ${missing}`,
    }));
    return rows;
  },
};
export default scenario;
