/**
 * Scale-out: ingest and fulfilment with 1, 2 and 4 daemon processes (quick:
 * 1 and 2) on one Postgres and one Redis, orders from 4 WooCommerce stores
 * whose orders share 4 SKUs (each store's orders take two, as best-sellers
 * do), see `runRunningFleet` in ./fleet.ts. The daemons are up and polling
 * before the orders appear; each phase is timed from the orders' arrival:
 * - ingest: full 2,000 orders awaiting payment (quick 400;
 *   BENCH_SCALE_INGEST_ORDERS), to every one in Postgres (~10 s: long enough
 *   to read, where 200 took 2.4 s);
 * - fulfilment: full 100 paid orders (quick 40; BENCH_SCALE_ORDERS), to every
 *   fulfilment push done (auto mode, the simulated carrier).
 *
 * Floor: the same phase with one process. Targets: no loss of throughput
 * (ratio >= 1 for more processes), and none of the work done twice: every
 * order has exactly one fulfillment on its channel, counted by the
 * simulators themselves (an absolute count over all runs, target 0).
 * Beside each figure: CPU per order of the daemons (each one's share) and of
 * the database's Postgres backends, from /proc, which the machine's load
 * does not change much: on 2 cores a CPU-bound phase cannot get faster with
 * more processes, and a rise in CPU per order is what coordination costs.
 * The stores have no request budget: WooCommerce's client limits each
 * process to 4 requests in flight per store, not the fleet, so the channel's
 * rate is not what is shared here.
 */
import { runRunningFleet, type Phase, type RunningFleetRun } from './fleet.ts';
import { absolute, atLeast, sized } from './rows.ts';
import type { BenchRow, Scenario } from './types.ts';

const STORES = 4;

const cpu = (p: Phase) =>
  `CPU an order: daemons ${p.daemonCpuMsPerOrder.toFixed(1)} ms (${p.perDaemonCpuMs.map((ms) => `${(ms / p.orders).toFixed(1)}`).join(' + ')}), Postgres ${p.postgresCpuMsPerOrder.toFixed(1)} ms; ${p.commitsPerOrder.toFixed(1)} commits`;

const scenario: Scenario = {
  id: 'scale-out',
  async run(ctx) {
    const ingestOrders = sized('BENCH_SCALE_INGEST_ORDERS', 2000, 400, ctx.quick);
    const fulfilOrders = sized('BENCH_SCALE_ORDERS', 100, 40, ctx.quick);
    const counts = ctx.quick ? [1, 2] : [1, 2, 4];
    const runs: RunningFleetRun[] = [];
    for (const daemons of counts) runs.push(await runRunningFleet(ctx, { daemons, stores: STORES, ingestOrders, fulfilOrders, timeoutMs: 10 * 60_000 }));
    const one = runs[0]!;
    const rows: BenchRow[] = [];
    for (const r of runs.slice(1)) {
      for (const [what, p, p1] of [['ingest', r.ingest, one.ingest], ['fulfilment', r.fulfilment, one.fulfilment]] as const) {
        rows.push(atLeast({
          figure: `${what} ${p.orders} orders from ${STORES} stores, ${r.daemons} daemons`,
          value: p.orders / p.seconds, floor: p1.orders / p1.seconds, min: 1, unit: 'orders/s',
          floorWhat: `1 daemon: ${p1.seconds.toFixed(1)} s; ${cpu(p1)}`,
          note: `${p.seconds.toFixed(1)} s; ${cpu(p)}`,
        }));
      }
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
