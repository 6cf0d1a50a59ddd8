/**
 * Bench: mark N Shopify orders shipped (default 100; BENCH_SHOPIFY_PUSHES),
 * ten pushes in flight as the channel-push workers run them, against the
 * simulator at Shopify's standard rate (100 points/s, bucket 1000).
 *
 * Each push reads the order's fulfillment state (a query whose requested
 * cost, ~590 points, is far above what it actually costs) and then creates
 * the fulfillment. Shopify admits a query only when the bucket holds its
 * requested cost, and charges the actual cost. So request i (in arrival
 * order) cannot start before (its requested cost + the actual costs of the
 * requests before it - the points in the bucket at the start) / restore rate,
 * and the run cannot end before the largest of those, nor faster than the
 * same pushes take with no budget at all (round trips; measured first, on
 * other orders). Baseline: the larger.
 * Target: within 20 % of it.
 */
import { pino } from 'pino';
import { shopifyFactory } from '../connectors/shopify/index.ts';
import { benchShopifyConnector } from './shopify-connector.ts';
import type { ShopifySimulator } from '../connectors/shopify/simulator/index.ts';
import type { UnifiedOrder } from '../src/domain/order.ts';
import type { BenchResult } from './types.ts';

const RESTORE_RATE = 100;
const BUCKET_SIZE = 1000;
const IN_FLIGHT = 10;

export default async function run(): Promise<BenchResult[]> {
  const count = Number(process.env.BENCH_SHOPIFY_PUSHES ?? 100);
  const log = pino({ level: 'silent' });
  const sim = (await shopifyFactory.simulate({ orders: count * 2, log })) as ShopifySimulator;
  const { connector, redis, prefix, close } = benchShopifyConnector(sim, log, 'push');

  try {
    // Setup with the budget lifted: read the orders to ship.
    sim.bucket.setLimits(1e9, 1e9);
    const orders: UnifiedOrder[] = [];
    for await (const page of connector.pullOrders(null)) orders.push(...page.orders);
    const push = async (batch: UnifiedOrder[]) => {
      let next = 0;
      let created = 0;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < batch.length) {
            const order = batch[next++]!;
            const outcome = await connector.pushFulfillment({
              orderExternalId: order.externalId,
              shipmentId: next,
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
      if (created !== batch.length) throw new Error(`pushed ${batch.length} shipments, ${created} created`);
    };
    // Round trips alone: the first half, with no budget to wait for.
    const unlimitedStarted = performance.now();
    await push(orders.slice(0, count));
    const unlimited = (performance.now() - unlimitedStarted) / 1000;

    // The second half at the standard plan, from a full bucket that the client knows is full.
    sim.bucket.setLimits(BUCKET_SIZE, RESTORE_RATE);
    await redis.del(...(await redis.keys(`${prefix}:budget:*`)));
    await connector.client.graphql('{ shop { name } }');
    sim.bucket.set(BUCKET_SIZE);
    const firstRequest = sim.requestLog.length;
    const available = sim.bucket.status().currentlyAvailable;
    const started = performance.now();
    await push(orders.slice(count));
    const elapsed = (performance.now() - started) / 1000;
    const during = sim.requestLog.slice(firstRequest);
    const points = during.reduce((a, r) => a + (r.throttled ? 0 : (r.actualCost ?? 0)), 0);
    const throttled = during.filter((r) => r.throttled).length;
    let spentBefore = 0;
    let budgetFloor = Math.max(0, (points - available) / RESTORE_RATE);
    for (const r of during) {
      if (r.throttled) continue;
      budgetFloor = Math.max(budgetFloor, ((r.requestedCost ?? 0) + spentBefore - available) / RESTORE_RATE);
      spentBefore += r.actualCost ?? 0;
    }
    const minimum = Math.max(budgetFloor, unlimited);
    return [
      {
        name: `shopify push ${count} shipments, ${IN_FLIGHT} in flight`,
        value: elapsed,
        baseline: minimum,
        unit: 's',
        note:
          `baseline = max(budget: ${points} points actually spent in ${during.length} requests, ${available} in the bucket at the start, each request admitted only with its requested cost in the bucket, at ${RESTORE_RATE} pts/s = ${budgetFloor.toFixed(1)} s, ` +
          `round trips: the same pushes with no budget = ${unlimited.toFixed(1)} s); ${((elapsed / minimum - 1) * 100).toFixed(1)} % over (target <= 20 %); ${throttled} THROTTLED answers`,
      },
    ];
  } finally {
    await close();
  }
}
