/**
 * Shopify pull: N orders (full 400, about 2 minutes; quick 150 at 1,000 points/s; BENCH_SHOPIFY_ORDERS=10000
 * for the issue's figure, about an hour at this rate) through the
 * connector's `pullOrders`, from the simulator at Shopify's standard plan,
 * passed explicitly: 100 points/s, a 2,000-point bucket (what the real
 * development store answered in the shared captures' throttleStatus).
 *
 * Two figures, two floors that do not come from the connector:
 * - time, against the bucket floor for the points it spent: (points the
 *   simulator charged - the bucket at the start) / restore rate;
 * - points per order, against the cheapest document that fetches the unified
 *   order's fields (./shopify-floor.ts), priced by the published rules by
 *   the bench's own calculator on the answers of the same shop.
 * Targets: within 10 % of the time floor, within 1.5x of the cheapest points.
 */
import { pino } from 'pino';
import { shopifyFactory } from '../connectors/shopify/index.ts';
import type { ShopifySimulator } from '../connectors/shopify/simulator/index.ts';
import { adminSchema } from '../connectors/shopify/simulator/schema.ts';
import { benchShopifyConnector } from './shopify-connector.ts';
import { cheapestPull } from './shopify-floor.ts';
import { atMost, sized } from './rows.ts';
import type { Scenario } from './types.ts';

/** Shopify's standard plan (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits). */
export const STANDARD = { restoreRate: 100, bucketSize: 2000 };
/**
 * `--quick` only: ten times the rate, so that a small run still spends more
 * than the bucket holds and the time floor means something (Shopify Plus's rate).
 */
export const QUICK = { restoreRate: 1000, bucketSize: 2000 };

const scenario: Scenario = {
  id: 'shopify-pull',
  async run(ctx) {
    const count = sized('BENCH_SHOPIFY_ORDERS', 400, 150, ctx.quick);
    const plan = ctx.quick ? QUICK : STANDARD;
    const log = pino({ level: 'silent' });
    const sim = (await shopifyFactory.simulate({ orders: count, rateLimit: plan, log })) as ShopifySimulator;
    const { connector, close } = benchShopifyConnector(sim, log, 'pull');
    try {
      // The floor's own reads must not drain the bucket the measured pull starts with.
      sim.bucket.setLimits(1e9, 1e9);
      const cheapest = await cheapestPull(sim, adminSchema());
      sim.bucket.setLimits(plan.bucketSize, plan.restoreRate);
      sim.bucket.set(plan.bucketSize);
      const firstRequest = sim.requestLog.length;
      ctx.progress(`pulling ${count} orders at ${plan.restoreRate} points/s`);
      const started = performance.now();
      let orders = 0;
      for await (const page of connector.pullOrders(null)) orders += page.orders.length;
      const seconds = (performance.now() - started) / 1000;
      if (orders !== count) throw new Error(`pulled ${orders} of ${count} orders`);
      const during = sim.requestLog.slice(firstRequest);
      const points = during.reduce((a, r) => a + (r.throttled ? 0 : (r.actualCost ?? 0)), 0);
      const throttled = during.filter((r) => r.throttled).length;
      const floor = Math.max(0, (points - plan.bucketSize) / plan.restoreRate);
      return [
        atMost({
          figure: `shopify pull ${count} orders at ${plan.restoreRate} points/s`,
          value: seconds, floor, max: 1.1, unit: 's',
          floorWhat: `(${points} points charged - ${plan.bucketSize} in the bucket) / ${plan.restoreRate} points/s`,
          note: `${during.length} requests, ${throttled} THROTTLED answers waited out`,
        }),
        atMost({
          figure: 'shopify pull points per order',
          value: points / count, floor: cheapest.pointsPerOrder, max: 1.5, unit: 'points',
          floorWhat: `cheapest document by the published cost rules (${cheapest.pageSize} orders a page, lines first ${cheapest.lineFirst}): ${cheapest.points} points for ${cheapest.orders} orders`,
        }),
      ];
    } finally {
      await close();
    }
  },
};
export default scenario;
