/**
 * Marketplaces: each marketplace connector's order pull at the channel's
 * documented rates, against its rate-limit floor (target: within 10 %).
 *
 * A new connector registers its scenario here, one line in
 * MARKETPLACE_PULLS pointing at `bench/marketplaces/<kind>.ts`, which
 * exports a `MarketplacePull`: it starts the connector's simulator at the
 * documented rates (passed explicitly, never the simulator's defaults),
 * pulls, and returns the time and the floor computed from the published
 * limits (e.g. Amazon's getOrders: requests / rate after the burst), never
 * from the requests the connector happened to make.
 *
 * Any channel kind other than the storefronts (which have rows of their own)
 * without a registered scenario shows as a row that is not met, so a
 * connector cannot land without its benchmark unnoticed.
 */
import { CHANNEL_KINDS } from '../connectors/kinds.ts';
import { atMost, notMeasured } from './rows.ts';
import type { BenchContext, BenchRow, Scenario } from './types.ts';

export interface MarketplacePull {
  kind: string;
  /** The documented rates the run uses, with where they are documented ("getOrders 0.0167 req/s, burst 20: <link>"). */
  rate: string;
  run(ctx: BenchContext): Promise<MarketplacePullResult>;
}

export interface MarketplacePullResult {
  orders: number;
  seconds: number;
  floorSeconds: number;
  floorWhat: string;
  note?: string;
  /** The rates this run used when not `rate` (a quick run at scaled rates). */
  rateUsed?: string;
  /** Rows beside the time row (calls per order against the minimal calls). */
  rows?: BenchRow[];
}

/** kind -> its pull scenario. Plain map: no discovery; a connector adds one line. */
export const MARKETPLACE_PULLS: Record<string, () => Promise<{ default: MarketplacePull }>> = {
  amazon: () => import('./marketplaces/amazon.ts'),
  ebay: () => import('./marketplaces/ebay.ts'),
};

/** Kinds with their own rows elsewhere in the bench. */
const STOREFRONTS = new Set(['shopify', 'woocommerce']);

const TARGET = 'ratio <= 1.1';

const scenario: Scenario = {
  id: 'marketplaces',
  async run(ctx) {
    const kinds = CHANNEL_KINDS.filter((k) => !STOREFRONTS.has(k));
    if (kinds.length === 0 && Object.keys(MARKETPLACE_PULLS).length === 0) {
      return [notMeasured('marketplace pull at its documented rates', TARGET, 'no marketplace connector yet')];
    }
    const rows: BenchRow[] = [];
    for (const kind of new Set([...kinds, ...Object.keys(MARKETPLACE_PULLS)])) {
      const load = MARKETPLACE_PULLS[kind];
      if (!load) {
        rows.push({ ...notMeasured(`${kind} pull`, TARGET, `the ${kind} connector registers no pull scenario in bench/marketplaces.ts`), met: false });
        continue;
      }
      const bench = (await load()).default;
      const r = await bench.run(ctx);
      rows.push(atMost({
        figure: `${kind} pull ${r.orders} orders (${r.rateUsed ?? bench.rate})`,
        value: r.seconds, floor: r.floorSeconds, max: 1.1, unit: 's',
        floorWhat: r.floorWhat, note: r.note,
      }));
      rows.push(...(r.rows ?? []));
    }
    return rows;
  },
};
export default scenario;
