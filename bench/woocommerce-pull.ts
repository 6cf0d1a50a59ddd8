/**
 * WooCommerce pull: N orders (full 5,000, quick 500; BENCH_WOO_ORDERS) from the
 * WooCommerce simulator with LATENCY ms added to every request (default 20;
 * BENCH_WOO_LATENCY_MS) at concurrency 4, and compare the elapsed time with
 * the ideal: ceil(pages / concurrency) sequential round trips, where one
 * round trip (a 100-order page at that latency) is measured in the same run.
 *
 * The simulator runs in a child process (`channelsync simulate --json`), as a
 * shop does: in the same process its JSON work would compete with the
 * connector's for the one event loop and the bench would measure that.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pino } from 'pino';
import type { RateBudget } from '../src/queue/shared-state.ts';
import { memoryKV } from './memory-kv.ts';
import { woocommerceFactory } from '../connectors/woocommerce/index.ts';
import { WooClient } from '../connectors/woocommerce/client.ts';
import { atMost, sized } from './rows.ts';
import type { Scenario } from './types.ts';

// The pull touches neither: no Redis needed for this bench.
const noBudget: RateBudget = { reserve: async (_key, cost) => ({ waitMs: 0, ticket: 0, cost }), waitFor: async () => 0, sync: async () => {}, refund: async () => {} };

async function run(quick: boolean) {
  const orders = sized('BENCH_WOO_ORDERS', 5000, 500, quick);
  const latencyMs = Number(process.env.BENCH_WOO_LATENCY_MS ?? 20);
  const concurrency = 4;
  const sim = await startSimulatorProcess(orders, latencyMs);
  const log = pino({ level: 'silent' });
  try {
    const config = { settings: sim.settings, credentials: sim.credentials };
    // One page round trip at this latency, median of 5.
    const client = new WooClient({ url: sim.url, consumerKey: String(sim.credentials.consumerKey), consumerSecret: String(sim.credentials.consumerSecret), log });
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await client.get('orders', { query: { per_page: 100, page: i + 1, orderby: 'modified', order: 'asc' } });
      samples.push(performance.now() - t);
    }
    await client.close();
    samples.sort((a, b) => a - b);
    const roundTrip = samples[2]!;
    const pages = Math.ceil(orders / 100);
    const ideal = Math.ceil(pages / concurrency) * roundTrip;

    const connector = woocommerceFactory.create({
      channel: {
        id: 1, kind: 'woocommerce', name: 'bench',
        settings: woocommerceFactory.settingsSchema.parse({ ...config.settings, concurrency }),
        credentials: woocommerceFactory.credentialsSchema.parse(config.credentials),
      },
      budget: noBudget,
      kv: memoryKV(),
      log,
    });
    const started = performance.now();
    const seen = new Set<string>();
    for await (const page of connector.pullOrders(null)) for (const o of page.orders) seen.add(o.externalId);
    const elapsed = performance.now() - started;
    await connector.close();
    if (seen.size !== orders) throw new Error(`pulled ${seen.size} of ${orders} orders`);
    return [
      atMost({
        figure: `woocommerce pull ${orders} orders (${latencyMs} ms latency, concurrency ${concurrency})`,
        value: elapsed / 1000, floor: ideal / 1000, max: 1.5, unit: 's',
        floorWhat: `ceil(${pages} pages / ${concurrency}) x ${roundTrip.toFixed(1)} ms, the simulator's round trip for one page measured with the client alone (median of 5)`,
        note: 'simulator in its own process',
      }),
    ];
  } finally {
    sim.stop();
  }
}

interface SimulatorProcess {
  url: string;
  settings: Record<string, unknown>;
  credentials: Record<string, unknown>;
  stop(): void;
}

async function startSimulatorProcess(orders: number, latencyMs: number): Promise<SimulatorProcess> {
  const bin = join(import.meta.dirname, '../bin/channelsync.js');
  // BENCH_SIM_PROFILE=<dir>: a CPU profile of the simulator process, written when it stops.
  const profile = process.env.BENCH_SIM_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SIM_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, bin, 'simulate', 'woocommerce', '--orders', String(orders), '--latency', String(latencyMs), '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.on('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const parsed = JSON.parse(line) as Omit<SimulatorProcess, 'stop'>;
  return { ...parsed, stop: () => child.kill('SIGTERM') };
}

const scenario: Scenario = { id: 'woocommerce-pull', run: (ctx) => run(ctx.quick) };
export default scenario;
