/**
 * Memory: peak RSS of `channelsync backfill` (its own process, as a user
 * runs it) importing N orders from the Shopify simulator's bulk export, for
 * a small and a large N (full 10,000 and 100,000, about 4 minutes at
 * ~600 orders/s; the 100,000 and 1,000,000 take half an hour:
 * BENCH_MEMORY_ORDERS=100000,1000000; quick 500 and 2,500). The peak is the kernel's
 * high-water mark (VmHWM in /proc/<pid>/status), sampled until the process
 * exits. The simulator runs in a process of its own, so its memory is not
 * counted. Targets: each peak < 300 MB (absolute), and flat: the large
 * peak within 10 % of the small one (ratio against the small run's peak).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.ts';
import { createApp } from '../src/app.ts';
import { addChannel } from '../src/db/channels.ts';
import { createTestDatabase, daemonEnv, testPrefix } from '../test/helpers/services.ts';
import { startSimulators } from './sim-process.ts';
import { absolute, atMost } from './rows.ts';
import type { Scenario } from './types.ts';

const BIN = join(import.meta.dirname, '../bin/channelsync.js');
const LIMIT_MB = 300;

/** Peak RSS in MB of one backfill of `orders` orders, and how long it took. */
async function backfillPeak(orders: number): Promise<{ peakMb: number; seconds: number; saved: number }> {
  const sims = await startSimulators([{ name: 'shop', kind: 'shopify', orders, rateLimit: { restoreRate: 1000, bucketSize: 20_000 } }]);
  const database = await createTestDatabase();
  const redis = testPrefix();
  const env = { ...daemonEnv(database.url, redis.prefix), CHANNELSYNC_SECRET_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'warn' };
  const app = await createApp(loadConfig({ ...env, LOG_LEVEL: 'silent' }), { log: pino({ level: 'silent' }) });
  try {
    const { kind, settings, credentials } = sims.stores.shop!;
    await addChannel(app.db, app.config.secretKey!, { kind, name: 'shop', settings, credentials });
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, 'backfill', 'shop', '--since', '2000-01-01'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (b) => (stderr = (stderr + b).slice(-5000)));
    let peakKb = 0;
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        // Gone already: the last sample stands.
      }
    };
    const timer = setInterval(sample, 100);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearInterval(timer);
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`backfill exited ${code}: ${stderr}`);
    const saved = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM orders`.execute(app.db)).rows[0]!.n;
    if (saved !== orders) throw new Error(`backfill saved ${saved} of ${orders} orders`);
    return { peakMb: peakKb / 1024, seconds, saved };
  } finally {
    await app.close();
    await redis.cleanup();
    await database.drop();
    sims.stop();
  }
}

const scenario: Scenario = {
  id: 'memory',
  async run(ctx) {
    const [small, large] = (process.env.BENCH_MEMORY_ORDERS ?? (ctx.quick ? '500,2500' : '10000,100000')).split(',').map(Number) as [number, number];
    if (!(small > 0 && large > small)) throw new Error('BENCH_MEMORY_ORDERS must be two counts, small,large');
    ctx.progress(`backfill of ${small} orders`);
    const a = await backfillPeak(small);
    ctx.progress(`backfill of ${large} orders`);
    const b = await backfillPeak(large);
    const note = (r: typeof a) => `${r.saved} orders saved in ${r.seconds.toFixed(0)} s (${(r.saved / r.seconds).toFixed(0)} orders/s); VmHWM of the backfill process`;
    return [
      absolute({ figure: `backfill ${small} orders, peak RSS`, value: a.peakMb, max: LIMIT_MB, unit: 'MB', note: note(a) }),
      absolute({ figure: `backfill ${large} orders, peak RSS`, value: b.peakMb, max: LIMIT_MB, unit: 'MB', note: note(b) }),
      atMost({ figure: `peak RSS flat from ${small} to ${large} orders`, value: b.peakMb, floor: a.peakMb, max: 1.1, unit: 'MB', floorWhat: `the ${small}-order backfill's peak` }),
    ];
  },
};
export default scenario;
