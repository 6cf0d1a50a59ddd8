/**
 * Channel simulators in a process of their own, so their JSON work does not
 * compete with the measured code for one event loop (a real shop is another
 * machine). Started by ./sim-process.ts with the stores to run in
 * BENCH_SIM_STORES (JSON: [{ name, kind, orders?, rateLimit?, options? }];
 * `options`: the kind's own simulator options, e.g. eBay's dailyCalls) and driven
 * over IPC: { id, store, method, args } -> { id, result | error }.
 */
import { pino } from 'pino';
import { connectorFactory } from '../connectors/index.ts';
import type { ChannelSimulator, SimulatorOptions } from '../connectors/types.ts';

interface StoreSpec {
  name: string;
  kind: string;
  orders?: number;
  rateLimit?: SimulatorOptions['rateLimit'];
  options?: Record<string, unknown>;
}

const specs = JSON.parse(process.env.BENCH_SIM_STORES ?? '[]') as StoreSpec[];
const sims = new Map<string, ChannelSimulator>();
for (const s of specs) {
  const options = { ...s.options, orders: s.orders ?? 0, rateLimit: s.rateLimit, allowLocalWebhooks: true, log: pino({ level: 'silent' }) };
  sims.set(s.name, await connectorFactory(s.kind).simulate(options));
}

/** Extra calls a bench needs that are not simulator methods. */
const extras: Record<string, (sim: ChannelSimulator, ...args: unknown[]) => unknown> = {
  /** Fulfillments on the channel for each of these orders: more than one for an order is work done twice. */
  fulfillmentCounts: async (sim, ids) => {
    const out: number[] = [];
    for (const id of ids as string[]) out.push((await sim.fulfillments(id)).length);
    return out;
  },
  /**
   * Creates `count` orders at `perSecond` (in ticks of 20 ms), each sending
   * its signed webhook as the store does; resolves with the seconds it took.
   */
  createOrdersPaced: async (sim, count, perSecond, input) => {
    const started = performance.now();
    for (let made = 0; made < (count as number); ) {
      const due = Math.min(count as number, Math.floor(((performance.now() - started) / 1000) * (perSecond as number)) + 1);
      const batch: Promise<unknown>[] = [];
      for (; made < due; made++) batch.push(sim.createOrder(input as never));
      await Promise.all(batch);
      await new Promise((r) => setTimeout(r, 20));
    }
    return (performance.now() - started) / 1000;
  },
  /** Webhook deliveries the store counted as failed (not a 2xx in time), as its delivery log shows. */
  failedDeliveries: (sim) => {
    const log = (sim as unknown as { deliveryLog?: Array<{ topic: string; responseCode: number | string }> }).deliveryLog ?? [];
    return log.filter((d) => d.topic !== 'ping' && !(typeof d.responseCode === 'number' && d.responseCode >= 200 && d.responseCode < 303)).length;
  },
  /**
   * The store's side of its deliveries (pings aside): each topic's round trips (p50, p99, max in ms, as
   * the store waited for them) and the failures by what the store logged (status or error message).
   */
  deliveryStats: (sim) => {
    const log = ((sim as unknown as { deliveryLog?: Array<{ topic: string; responseCode: number | string; responseMessage: string; ms?: number }> }).deliveryLog ?? []).filter((d) => d.topic !== 'ping');
    const topics: Record<string, { n: number; p50: number; p99: number; max: number }> = {};
    for (const topic of new Set(log.map((d) => d.topic))) {
      const ms = log.filter((d) => d.topic === topic).map((d) => d.ms ?? 0).sort((a, b) => a - b);
      const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!;
      topics[topic] = { n: ms.length, p50: at(0.5), p99: at(0.99), max: ms[ms.length - 1]! };
    }
    const failures: Record<string, number> = {};
    for (const d of log) {
      if (typeof d.responseCode === 'number' && d.responseCode >= 200 && d.responseCode < 303) continue;
      const why = `${d.responseCode} ${d.responseMessage}`.slice(0, 80);
      failures[why] = (failures[why] ?? 0) + 1;
    }
    return { topics, failures };
  },
  /** The requests a simulator that keeps a log (eBay's `exchanges`) answered: path and status, oldest first. */
  exchanges: (sim) => ((sim as unknown as { exchanges?: Array<{ path: string; status: number }> }).exchanges ?? []).map((e) => ({ path: e.path, status: e.status })),
  /** Creates `count` orders (one call instead of `count` IPC round trips). */
  createOrders: async (sim, count, input) => {
    const out: string[] = [];
    for (let i = 0; i < (count as number); i++) out.push((await sim.createOrder(input as never)).externalId);
    return out;
  },
};

process.on('message', async (m: { id: number; store: string; method: string; args: unknown[] }) => {
  const sim = sims.get(m.store);
  try {
    if (!sim) throw new Error(`no store ${m.store}`);
    const extra = extras[m.method];
    const fn = extra ? (...a: unknown[]) => extra(sim, ...a) : ((sim as unknown as Record<string, (...a: unknown[]) => unknown>)[m.method]?.bind(sim));
    if (!fn) throw new Error(`the ${sim.kind} simulator has no ${m.method}`);
    process.send!({ id: m.id, result: (await fn(...m.args)) ?? null });
  } catch (err) {
    process.send!({ id: m.id, error: (err as Error).message });
  }
});
process.on('disconnect', () => void Promise.all([...sims.values()].map((s) => s.close())).finally(() => process.exit(0)));

process.send!({ ready: Object.fromEntries([...sims].map(([name, sim]) => [name, { kind: sim.kind, url: sim.url, ...sim.channelConfig() }])) });
