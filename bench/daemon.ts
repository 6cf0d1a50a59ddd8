/**
 * Real daemon processes for the benches that need them (`node
 * bin/channelsync.js start` with an environment, as a supervisor runs it),
 * and the database, Redis prefix and stores they share.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pino } from 'pino';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.ts';
import { createApp, type App } from '../src/app.ts';
import { addChannel } from '../src/db/channels.ts';
import { syncListings } from '../src/stock/listings.ts';
import { ensureLocation, recordMovements, skuIdOf } from '../src/stock/ledger.ts';
import { createTestDatabase, daemonEnv, testPrefix, type TestDatabase } from '../test/helpers/services.ts';
import { startSimulators, type SimProcess } from './sim-process.ts';

const BIN = join(import.meta.dirname, '../bin/channelsync.js');

export interface Daemon {
  child: ChildProcess;
  url: string;
  log(): string;
  stop(): Promise<void>;
}

/** Starts one daemon and resolves once it logged that it started. */
export async function startDaemon(env: Record<string, string>): Promise<Daemon> {
  // BENCH_DAEMON_PROFILE=<dir>: each daemon writes a CPU profile there when it stops (where its time went).
  const profile = process.env.BENCH_DAEMON_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_DAEMON_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, BIN, 'start'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (b) => (log = (log + b).slice(-200_000)));
  child.stderr!.on('data', (b) => (log = (log + b).slice(-200_000)));
  const deadline = Date.now() + 60_000;
  while (!log.includes('channelsync daemon started')) {
    if (child.exitCode !== null) throw new Error(`a daemon exited ${child.exitCode}:\n${log.slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`a daemon did not start within 60 s:\n${log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /"url":"(http:\/\/[^"]+)"/.exec(log)![1]!;
  return {
    child,
    url,
    log: () => log,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `check` every 100 ms until it holds, or fails after `timeoutMs` naming `what`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const SKUS = ['BN-MUG', 'BN-TEE', 'BN-CAP', 'BN-BAG'];

export interface Shop {
  database: TestDatabase;
  /** An app of the bench's own on the shared database (setup and counting; it runs no workers). */
  app: App;
  env: Record<string, string>;
  sims: SimProcess;
  /** Store name -> channel id. */
  channels: Record<string, number>;
  close(): Promise<void>;
}

/**
 * A database, a Redis prefix and `stores` WooCommerce stores (one simulator
 * process; no request budget, so the channel's rate is not what is measured),
 * each with the bench's SKUs listed and plenty of stock in the ledger.
 */
export async function openShop(stores: number, extraEnv: Record<string, string> = {}): Promise<Shop> {
  const database = await createTestDatabase();
  const redis = testPrefix();
  const env = {
    ...daemonEnv(database.url, redis.prefix),
    // info, the production default (and the level of the "daemon started" line this waits for).
    LOG_LEVEL: 'info',
    FULFILMENT_MODE: 'auto',
    CARRIER: 'simulated',
    SIMULATED_DELIVERY_SECONDS: '86400',
    RECONCILE_CRON: '0 0 1 1 *',
    SWEEP_INTERVAL_SECONDS: '5',
    SWEEP_AFTER_SECONDS: '30',
    ...extraEnv,
  };
  const app = await createApp(loadConfig({ ...env, LOG_LEVEL: 'silent' }), { log: pino({ level: 'silent' }) });
  const names = Array.from({ length: stores }, (_, i) => `woo-${i + 1}`);
  const sims = await startSimulators(names.map((name) => ({ name, kind: 'woocommerce' })));
  const channels: Record<string, number> = {};
  const main = await ensureLocation(app.db, 'MAIN');
  for (const name of names) {
    for (const sku of SKUS) await sims.call(name, 'createProduct', { sku, title: sku, price: '10.00', stock: 0 });
    const { kind, settings, credentials } = sims.stores[name]!;
    channels[name] = await addChannel(app.db, app.config.secretKey!, { kind, name, settings, credentials });
    await syncListings(app, channels[name]!);
  }
  await app.db.transaction().execute(async (trx) => {
    const movements = [];
    for (const sku of SKUS) movements.push({ skuId: await skuIdOf(trx, sku), locationId: main, onHand: 10_000_000, reason: 'adjustment' as const, reference: 'bench:seed' });
    await recordMovements(trx, movements);
  });
  return {
    database, app, env, sims, channels,
    async close() {
      sims.stop();
      await app.close();
      await redis.cleanup();
      await database.drop();
    },
  };
}

/** Fulfilment pushes done, and any push still pending or failed. */
export async function pushCounts(app: App): Promise<{ fulfilmentsDone: number; open: number; failed: number }> {
  const { rows } = await sql<{ done: number; open: number; failed: number }>`
    SELECT count(*) FILTER (WHERE kind = 'fulfillment' AND status = 'done')::int AS done,
           count(*) FILTER (WHERE status = 'pending')::int AS open,
           count(*) FILTER (WHERE status = 'failed')::int AS failed
    FROM channel_pushes`.execute(app.db);
  return { fulfilmentsDone: rows[0]!.done, open: rows[0]!.open, failed: rows[0]!.failed };
}
