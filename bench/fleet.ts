/**
 * Orders through real daemons: N paid orders waiting on WooCommerce
 * simulators, K daemon processes started on one Postgres and one Redis
 * (auto fulfilment, the simulated carrier), timed from the first daemon
 * up (the others start meanwhile, as in a rolling deploy) to every order in Postgres (ingest) and to every fulfilment push
 * done with nothing pending (fulfilment). Then the channels are asked how
 * many fulfillments each order got: more than one is work done twice.
 * Shared by ./fulfilment.ts and ./scale-out.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openShop, pushCounts, SKUS, startDaemon, until, type Daemon, type Shop } from './daemon.ts';
import type { BenchContext } from './types.ts';

export interface FleetRun {
  orders: number;
  daemons: number;
  ingestSeconds: number;
  doneSeconds: number;
  /** Orders with more than one fulfillment on their channel (extra fulfillments counted). */
  duplicates: number;
  /** Orders with no fulfillment on their channel at the end. */
  missing: number;
  /** Postgres transactions committed in the database during the run, per order (where the time goes). */
  commitsPerOrder: number;
}

async function commits(db: import('../src/db/index.ts').Db): Promise<number> {
  const { rows } = await sql<{ n: string }>`SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()`.execute(db);
  return Number(rows[0]!.n);
}

export async function runFleet(ctx: BenchContext, opts: { daemons: number; stores: number; orders: number; timeoutMs: number }): Promise<FleetRun> {
  const shop = await openShop(opts.stores, { SYNC_INTERVAL_SECONDS: '5' });
  const daemons: Daemon[] = [];
  try {
    const perStore = Math.ceil(opts.orders / opts.stores);
    const ids: Record<string, string[]> = {};
    for (const [i, name] of Object.keys(shop.channels).entries()) {
      const lines = [{ sku: SKUS[i % SKUS.length]!, quantity: 1 }, { sku: SKUS[(i + 1) % SKUS.length]!, quantity: 2 }];
      ids[name] = await shop.sims.call<string[]>(name, 'createOrders', perStore, { lines, paid: true });
    }
    const total = perStore * opts.stores;
    ctx.progress(`${total} orders waiting on ${opts.stores} store(s); starting ${opts.daemons} daemon(s)`);
    // The clock starts when the first daemon is up: from then on work is being done.
    const upAt: number[] = [];
    daemons.push(...(await Promise.all(Array.from({ length: opts.daemons }, () => startDaemon(shop.env).then((d) => (upAt.push(performance.now()), d))))));
    const started = Math.min(...upAt);
    const commitsBefore = await commits(shop.app.db);
    const count = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM orders`.execute(shop.app.db)).rows[0]!.n;
    await until(`${total} orders in Postgres`, async () => (await count()) >= total, opts.timeoutMs);
    const ingestSeconds = (performance.now() - started) / 1000;
    await until(`${total} fulfilment pushes done`, async () => {
      const c = await pushCounts(shop.app);
      if (c.failed > 0) throw new Error(`${c.failed} pushes failed for good`);
      return c.fulfilmentsDone >= total && c.open === 0;
    }, opts.timeoutMs);
    const doneSeconds = (performance.now() - started) / 1000;
    // Statistics reach pg_stat_database within a second or so.
    await new Promise((r) => setTimeout(r, 1000));
    const commitsPerOrder = ((await commits(shop.app.db)) - commitsBefore) / total;
    const { duplicates, missing } = await fulfilmentsOnStores(shop, ids);
    return { orders: total, daemons: opts.daemons, ingestSeconds, doneSeconds, duplicates, missing, commitsPerOrder };
  } finally {
    await Promise.all(daemons.map((d) => d.stop()));
    await shop.close();
  }
}

/** Ingest and fulfilment figures of one fleet that was up before the orders came (`runRunningFleet`). */
export interface RunningFleetRun {
  daemons: number;
  ingest: Phase;
  fulfilment: Phase;
  /** Orders of the fulfilment phase with more than one fulfillment on their channel (extra ones counted), and with none. */
  duplicates: number;
  missing: number;
}

export interface Phase {
  orders: number;
  seconds: number;
  /** Postgres transactions committed per order, the bench's own polling taken out. */
  commitsPerOrder: number;
  /** CPU time of the daemon processes per order, each daemon's share in `perDaemonCpuMs`. */
  daemonCpuMsPerOrder: number;
  perDaemonCpuMs: number[];
  /** CPU time of the Postgres backends serving the bench's database, per order (backends that closed meanwhile are missed). */
  postgresCpuMsPerOrder: number;
}

/** User + system CPU of a process so far, in ms (Linux /proc; 0 when it is gone). */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
const CLOCK_TICKS = 100;

async function backendCpu(db: import('../src/db/index.ts').Db): Promise<Map<number, number>> {
  const { rows } = await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`.execute(db);
  return new Map(rows.map((r) => [r.pid, cpuMs(r.pid)]));
}

/**
 * Scale-out as a merchant sees it: `daemons` processes are up and polling
 * the empty stores (every 60 s, the default) before any order exists. Then,
 * timed on their own, each phase starting with a pull of every store asked
 * for at once (as `channelsync demo` does: a new order's webhook would
 * prompt the same), so a poll interval's wait is not what is measured:
 * - ingest: `ingestOrders` orders awaiting payment appear on the stores, to
 *   every one saved in Postgres (their allocation only looks: nothing is payable);
 * - fulfilment: `fulfilOrders` paid orders appear, to every fulfilment push done.
 * Timing from the orders' arrival, not from a daemon's start, keeps the
 * others' start-up (seconds of CPU each on two cores) out of both figures.
 */
export async function runRunningFleet(
  ctx: BenchContext,
  opts: { daemons: number; stores: number; ingestOrders: number; fulfilOrders: number; timeoutMs: number },
): Promise<RunningFleetRun> {
  const shop = await openShop(opts.stores, { SYNC_INTERVAL_SECONDS: '60' });
  const daemons: Daemon[] = [];
  try {
    daemons.push(...(await Promise.all(Array.from({ length: opts.daemons }, () => startDaemon(shop.env)))));
    const names = Object.keys(shop.channels);
    const pullNow = () => Promise.all(Object.values(shop.channels).map((channelId) => shop.app.queues.get('sync-orders').add('sync', { channelId })));
    // Up means polling: every store has been pulled once (empty) since the daemons started.
    await pullNow();
    await until('every store polled once', async () => {
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM sync_cursors WHERE caught_up_at IS NOT NULL`.execute(shop.app.db);
      return rows[0]!.n >= names.length;
    }, 60_000);
    let polls = 0;
    const counted = (check: () => Promise<boolean>) => () => (polls++, check());
    const phase = async (what: string, orders: number, create: () => Promise<unknown>, done: () => Promise<boolean>): Promise<Phase> => {
      ctx.progress(`${opts.daemons} daemon(s): ${what}`);
      const cpuBefore = daemons.map((d) => cpuMs(d.child.pid!));
      const pgBefore = await backendCpu(shop.app.db);
      const commitsBefore = await commits(shop.app.db);
      polls = 0;
      const started = performance.now();
      await create();
      await pullNow();
      await until(what, counted(done), opts.timeoutMs);
      const seconds = (performance.now() - started) / 1000;
      const perDaemonCpuMs = daemons.map((d, i) => cpuMs(d.child.pid!) - cpuBefore[i]!);
      let pgCpu = 0;
      for (const [pid, ms] of await backendCpu(shop.app.db)) pgCpu += ms - (pgBefore.get(pid) ?? 0);
      // Statistics reach pg_stat_database within a second or so; the wait is not timed.
      await new Promise((r) => setTimeout(r, 1000));
      // Each poll is one statement (one commit) of the bench's own, and so is each snapshot above.
      const commitsPerOrder = ((await commits(shop.app.db)) - commitsBefore - polls - 2) / orders;
      return {
        orders, seconds, commitsPerOrder, perDaemonCpuMs, postgresCpuMsPerOrder: pgCpu / orders,
        daemonCpuMsPerOrder: perDaemonCpuMs.reduce((a, b) => a + b, 0) / orders,
      };
    };
    const linesOf = (i: number) => [{ sku: SKUS[i % SKUS.length]!, quantity: 1 }, { sku: SKUS[(i + 1) % SKUS.length]!, quantity: 2 }];
    const ordersIn = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM orders`.execute(shop.app.db)).rows[0]!.n;

    const perStoreIngest = Math.ceil(opts.ingestOrders / names.length);
    const ingestTotal = perStoreIngest * names.length;
    const ingest = await phase(`${ingestTotal} orders awaiting payment into Postgres`, ingestTotal,
      () => Promise.all(names.map((name, i) => shop.sims.call(name, 'createOrders', perStoreIngest, { lines: linesOf(i), paid: false }))),
      async () => (await ordersIn()) >= ingestTotal);
    // Their allocations (a look each) finish before the next phase, untimed, so it measures only its own orders.
    await until('the ingested orders allocated', async () => {
      const c = await shop.app.queues.get('fulfilment').getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return Object.values(c).every((n) => n === 0);
    }, opts.timeoutMs);

    const perStoreFulfil = Math.ceil(opts.fulfilOrders / names.length);
    const fulfilTotal = perStoreFulfil * names.length;
    const ids: Record<string, string[]> = {};
    const fulfilment = await phase(`${fulfilTotal} paid orders to every fulfilment push done`, fulfilTotal,
      () => Promise.all(names.map(async (name, i) => (ids[name] = await shop.sims.call<string[]>(name, 'createOrders', perStoreFulfil, { lines: linesOf(i), paid: true })))),
      async () => {
        const c = await pushCounts(shop.app);
        if (c.failed > 0) throw new Error(`${c.failed} pushes failed for good`);
        return c.fulfilmentsDone >= fulfilTotal && c.open === 0;
      });

    const { duplicates, missing } = await fulfilmentsOnStores(shop, ids);
    return { daemons: opts.daemons, ingest, fulfilment, duplicates, missing };
  } finally {
    await Promise.all(daemons.map((d) => d.stop()));
    // BENCH_DAEMON_LOGS=<dir>: each daemon's log (its last 200 KB), to read what it did.
    const logs = process.env.BENCH_DAEMON_LOGS;
    if (logs) for (const [i, d] of daemons.entries()) writeFileSync(join(logs, `scale-${opts.daemons}-${i}-${d.child.pid}.log`), d.log());
    await shop.close();
  }
}

/** What the stores themselves recorded for these orders: fulfilments made more than once, and orders with none. */
async function fulfilmentsOnStores(shop: Shop, ids: Record<string, string[]>): Promise<{ duplicates: number; missing: number }> {
  let duplicates = 0;
  let missing = 0;
  for (const [name, list] of Object.entries(ids)) {
    for (const n of await shop.sims.call<number[]>(name, 'fulfillmentCounts', list)) {
      if (n > 1) duplicates += n - 1;
      if (n === 0) missing++;
    }
  }
  return { duplicates, missing };
}
