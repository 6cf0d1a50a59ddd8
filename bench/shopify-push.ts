/**
 * Shopify push: mark N orders shipped (200; BENCH_SHOPIFY_PUSHES; --quick 100
 * at 1,000 points/s) through the connector's `pushFulfillment`, ten in
 * flight as the channel-push workers run them, at the standard plan passed
 * explicitly (100 points/s, bucket 2,000).
 *
 * The size is one where even the cheapest documents (14 points a shipment)
 * spend the full bucket (2,800 points at 200): the time floor below is the
 * bucket's, and at 100 shipments of ~20 points it was 0.06 s, a floor that
 * measured nothing (the run was its round trips).
 *
 * Floors that do not come from the connector:
 * - time: (points the simulator charged - the bucket at the start) / restore rate;
 * - points per shipment: the cheapest read of the state a push must check
 *   plus one fulfillmentCreate (./shopify-floor.ts), priced by the bench's
 *   own calculator on the same orders before they ship.
 * The connector also waits until the bucket holds each query's *requested*
 * cost; that is its choice of document, and shows as time above the floor.
 * Targets: within 10 % of the time floor, within 1.5x of the cheapest points.
 */
import { pino } from 'pino';
import { shopifyFactory } from '../connectors/shopify/index.ts';
import type { ShopifySimulator } from '../connectors/shopify/simulator/index.ts';
import { adminSchema } from '../connectors/shopify/simulator/schema.ts';
import type { UnifiedOrder } from '../src/domain/order.ts';
import { benchShopifyConnector } from './shopify-connector.ts';
import { cheapestFulfillment } from './shopify-floor.ts';
import { QUICK, STANDARD } from './shopify-pull.ts';
import { atMost, sized } from './rows.ts';
import type { Scenario } from './types.ts';

const IN_FLIGHT = 10;

const scenario: Scenario = {
  id: 'shopify-push',
  async run(ctx) {
    const count = sized('BENCH_SHOPIFY_PUSHES', 200, 100, ctx.quick);
    const plan = ctx.quick ? QUICK : STANDARD;
    const log = pino({ level: 'silent' });
    const sim = (await shopifyFactory.simulate({ orders: count, rateLimit: plan, log })) as ShopifySimulator;
    const { connector, redis, prefix, close } = benchShopifyConnector(sim, log, 'push');
    try {
      // Setup with the budget lifted: the orders to ship, and the floor priced on them before they ship.
      sim.bucket.setLimits(1e9, 1e9);
      const orders: UnifiedOrder[] = [];
      for await (const page of connector.pullOrders(null)) orders.push(...page.orders);
      const cheapest = await cheapestFulfillment(sim, adminSchema(), orders.map((o) => o.externalId));

      // The standard plan, from a full bucket that the client knows is full.
      sim.bucket.setLimits(plan.bucketSize, plan.restoreRate);
      const keys = await redis.keys(`${prefix}:budget:*`);
      if (keys.length) await redis.del(...keys);
      await connector.client.graphql('{ shop { name } }');
      sim.bucket.set(plan.bucketSize);
      const firstRequest = sim.requestLog.length;
      ctx.progress(`pushing ${count} shipments at ${plan.restoreRate} points/s`);
      const started = performance.now();
      let next = 0;
      let created = 0;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < orders.length) {
            const i = next++;
            const order = orders[i]!;
            const outcome = await connector.pushFulfillment({
              orderExternalId: order.externalId,
              shipmentId: i + 1,
              lines: order.lines.map((l) => ({ lineExternalId: l.externalId, sku: l.sku, quantity: l.quantity })),
              carrier: 'UPS',
              service: null,
              trackingNumber: `1Z${order.externalId.replace(/\D/g, '').padStart(16, '0')}`,
              trackingUrl: null,
              notifyCustomer: false,
              completesOrder: true,
            });
            if (!outcome.alreadyDone) created++;
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      if (created !== count) throw new Error(`pushed ${count} shipments, ${created} created`);
      const during = sim.requestLog.slice(firstRequest);
      const points = during.reduce((a, r) => a + (r.throttled ? 0 : (r.actualCost ?? 0)), 0);
      const requested = during.reduce((a, r) => Math.max(a, r.requestedCost ?? 0), 0);
      const throttled = during.filter((r) => r.throttled).length;
      const floor = Math.max(0, (points - plan.bucketSize) / plan.restoreRate);
      return [
        atMost({
          figure: `shopify push ${count} shipments at ${plan.restoreRate} points/s, ${IN_FLIGHT} in flight`,
          value: seconds, floor, max: 1.1, unit: 's',
          floorWhat: `(${points} points charged - ${plan.bucketSize} in the bucket) / ${plan.restoreRate} points/s`,
          note: `${during.length} requests, largest requested cost ${requested}, ${throttled} THROTTLED answers`,
        }),
        atMost({
          figure: 'shopify push points per shipment',
          value: points / count, floor: cheapest.pointsPerShipment, max: 1.5, unit: 'points',
          floorWhat: 'cheapest state read + fulfillmentCreate (10) by the published cost rules, on the same orders',
        }),
      ];
    } finally {
      await close();
    }
  },
};
export default scenario;
