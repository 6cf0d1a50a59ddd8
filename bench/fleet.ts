/**
 * Orders through real daemons: N paid orders waiting on WooCommerce
 * simulators, K daemon processes started on one Postgres and one Redis
 * (auto fulfilment, the simulated carrier), timed from the first daemon
 * up (the others start meanwhile, as in a rolling deploy) to every order in Postgres (ingest) and to every fulfilment push
 * done with nothing pending (fulfilment). Then the channels are asked how
 * many fulfillments each order got: more than one is work done twice.
 * Shared by ./fulfilment.ts and ./scale-out.ts.
 */
import { sql } from 'kysely';
import { openShop, pushCounts, SKUS, startDaemon, until, type Daemon } from './daemon.ts';
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
    let duplicates = 0;
    let missing = 0;
    for (const [name, list] of Object.entries(ids)) {
      for (const n of await shop.sims.call<number[]>(name, 'fulfillmentCounts', list)) {
        if (n > 1) duplicates += n - 1;
        if (n === 0) missing++;
      }
    }
    return { orders: total, daemons: opts.daemons, ingestSeconds, doneSeconds, duplicates, missing, commitsPerOrder };
  } finally {
    await Promise.all(daemons.map((d) => d.stop()));
    await shop.close();
  }
}
