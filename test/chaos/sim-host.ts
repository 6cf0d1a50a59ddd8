/**
 * The chaos run's stores, in a process of their own so they outlive every
 * daemon restart: two Shopify simulators and one WooCommerce simulator,
 * driven over the parent's IPC channel ({ id, store, method, args } ->
 * { id, result | error }). Started by test/chaos/chaos.test.ts with
 * `node bin/run-ts.js test/chaos/sim-host.ts`.
 */
import { pino } from 'pino';
import { connectorFactory } from '../../connectors/index.ts';
import type { ChannelSimulator } from '../../connectors/types.ts';

const STORES = { 'shop-a': 'shopify', 'shop-b': 'shopify', woo: 'woocommerce' } as const;
const sims = new Map<string, ChannelSimulator>();

for (const [name, kind] of Object.entries(STORES)) {
  // A generous Shopify bucket: the run tests faults, not the cost budget (benchmarked elsewhere).
  sims.set(name, await connectorFactory(kind).simulate({ orders: 0, rateLimit: { restoreRate: 1000, bucketSize: 2000 }, log: pino({ level: 'silent' }) }));
}

process.on('message', async (m: { id: number; store: string; method: keyof ChannelSimulator; args: unknown[] }) => {
  const sim = sims.get(m.store);
  try {
    if (!sim) throw new Error(`no store ${m.store}`);
    const fn = sim[m.method] as unknown as (...a: unknown[]) => unknown;
    const result = await fn.apply(sim, m.args);
    process.send!({ id: m.id, result: result ?? null });
  } catch (err) {
    process.send!({ id: m.id, error: (err as Error).message });
  }
});
process.on('disconnect', () => process.exit(0));

process.send!({
  ready: Object.fromEntries([...sims].map(([name, sim]) => [name, { kind: sim.kind, ...sim.channelConfig() }])),
});
