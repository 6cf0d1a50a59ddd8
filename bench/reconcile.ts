/**
 * Reconcile: N SKUs (full 20,000 to stay within the bench's 20 minutes; the issue's
 * figure is BENCH_RECONCILE_SKUS=100000; quick 1,000;
 * BENCH_RECONCILE_SKUS) listed on a Shopify and a WooCommerce
 * simulator, with 1 % drift planted on each, and compare the elapsed time
 * with the least time the channels' rate limits allow.
 *
 * The Shopify shop runs at Shopify Plus's published rate (1000 points/s, the
 * plan of a shop with 100,000 SKUs; BENCH_SHOPIFY_RATE=100 for Standard, where
 * the same run takes ten times as long). The bucket holds ten seconds of it.
 *
 * Floor, not from the code measured: channels are reconciled in parallel,
 * so it is the slowest channel's rate-limit floor. Shopify's: the points of
 * the cheapest reads of every SKU's stock (./shopify-floor.ts, priced by the
 * bench's calculator on the same shop) plus one inventorySetQuantities (10)
 * per 250 corrections, less the bucket at the start, over the restore rate.
 * WooCommerce documents no request budget, so its floor is 0.
 * Target: within 20 % of the floor.
 *
 * Setup (seeding both simulators, importing the listings) runs with the
 * Shopify budget lifted, as if it had happened long before; only the
 * reconciliation is timed.
 */
import { pino } from 'pino';
import { createTestApp } from '../test/helpers/app.ts';
import { connectorFactory } from '../connectors/index.ts';
import type { ChannelSimulator } from '../connectors/types.ts';
import { addChannel } from '../src/db/channels.ts';
import { requireSecretKey } from '../src/config.ts';
import { ensureLocation } from '../src/stock/ledger.ts';
import { syncListings } from '../src/stock/listings.ts';
import { reconcile } from '../src/stock/reconcile.ts';
import type { ShopifySimulator } from '../connectors/shopify/simulator/index.ts';
import { adminSchema } from '../connectors/shopify/simulator/schema.ts';
import { cheapestStockRead, MAX_INPUT_ARRAY } from './shopify-floor.ts';
import { atMost, sized } from './rows.ts';
import type { Scenario } from './types.ts';

async function run(quick: boolean) {
  const count = sized('BENCH_RECONCILE_SKUS', 20_000, 1_000, quick);
  // --quick: the standard plan (100 points/s, bucket 2,000, as the captures show), so a small run still empties the bucket.
  const restoreRate = sized('BENCH_SHOPIFY_RATE', 1_000, 100, quick);
  const bucketSize = quick ? 2_000 : restoreRate * 10;
  const plan = restoreRate === 1000 ? 'Shopify Plus' : restoreRate === 200 ? 'Advanced Shopify' : restoreRate === 100 ? 'Shopify Standard' : 'custom';
  const log = pino({ level: 'silent' });
  const phase = phases(`reconcile ${count} SKUs`);
  const t = await createTestApp();
  const sims: ChannelSimulator[] = [];
  try {
    const shopify = await connectorFactory('shopify').simulate({ log, ...({ products: 0 } as object) });
    const woo = await connectorFactory('woocommerce').simulate({ log });
    sims.push(shopify, woo);
    const extras = shopify as ShopifySimulator;
    extras.bucket.setLimits(1e9, 1e9);
    const sku = (i: number) => `B-${String(i).padStart(6, '0')}`;
    const truth = (i: number) => (i * 7) % 11;
    const ids: number[] = [];
    for (const sim of [shopify, woo]) {
      const { settings, credentials } = sim.channelConfig();
      ids.push(await addChannel(t.app.db, requireSecretKey(t.app.config), { kind: sim.kind, name: `bench-${sim.kind}`, settings, credentials }));
      for (let i = 0; i < count; i++) await sim.createProduct({ sku: sku(i), title: `Bench ${i}`, price: '9.90', stock: truth(i) });
    }
    phase('seeded both simulators');
    await Promise.all(ids.map((id) => syncListings(t.app, id)));
    phase('imported the listings');
    const location = await ensureLocation(t.app.db, 'MAIN');
    const skus = await t.app.db.selectFrom('skus').select(['id', 'sku']).execute();
    // Opening balances (a zero one too), as `listings sync --import-stock` books them: every SKU is initialised.
    const rows = skus.map((s) => ({ sku_id: s.id, location_id: location, on_hand_delta: truth(Number(s.sku.slice(2))), reason: 'opening_balance' as const, reference: 'bench' }));
    for (let i = 0; i < rows.length; i += 5_000) await t.app.db.insertInto('stock_movements').values(rows.slice(i, i + 5_000)).execute();
    // The stores show these numbers already: the pushes the movements owed count as made.
    await t.app.db.updateTable('channel_pushes').set({ status: 'done' }).where('kind', '=', 'stock').execute();
    let planted = 0;
    for (let i = 0; i < count; i += 100) {
      await shopify.setStock(sku(i), truth(i) + 1);
      await woo.setStock(sku((i + 50) % count), truth((i + 50) % count) + 2);
      planted += 2;
    }
    phase('booked the stock and planted the drift');

    const cheapest = await cheapestStockRead(extras, adminSchema());
    if (cheapest.items < count) throw new Error(`the minimal stock read saw ${cheapest.items} of ${count} SKUs`);
    // Start from a full bucket at the plan's limits, as a scheduled run after a quiet period would.
    extras.bucket.setLimits(bucketSize, restoreRate);
    extras.bucket.set(bucketSize);
    const availableAtStart = extras.bucket.status().currentlyAvailable;
    const firstRequest = extras.requestLog.length;
    const started = performance.now();
    const report = await reconcile(t.app, { slot: 'bench' });
    const elapsed = (performance.now() - started) / 1000;
    phase('reconciled');
    const during = extras.requestLog.slice(firstRequest);
    const points = during.reduce((a, r) => a + (r.throttled ? 0 : (r.actualCost ?? 0)), 0);
    const throttled = during.filter((r) => r.throttled).length;
    const drift = report.channels.reduce((a, c) => a + c.drift, 0);
    const corrected = report.channels.reduce((a, c) => a + c.corrected, 0);
    if (drift !== planted || corrected !== planted) throw new Error(`planted ${planted} drift, found ${drift}, corrected ${corrected}`);
    const shopifyCorrections = planted / 2;
    const floorPoints = cheapest.points + Math.ceil(shopifyCorrections / MAX_INPUT_ARRAY) * 10;
    const floor = Math.max(0, (floorPoints - availableAtStart) / restoreRate);
    const woocommerceMs = report.channels.find((c) => c.channelId === ids[1])?.ms ?? 0;
    return [
      atMost({
        figure: `reconcile ${count} SKUs x 2 channels (1 % drift each), ${plan}`,
        value: elapsed, floor, max: 1.2, unit: 's',
        floorWhat: `Shopify (the slower channel): (${cheapest.points} points for the cheapest reads + ${Math.ceil(shopifyCorrections / MAX_INPUT_ARRAY)} x 10 for the corrections - ${availableAtStart} in the bucket) / ${restoreRate} points/s; WooCommerce has no documented budget (0)`,
        note: `the reconciliation spent ${points} Shopify points in ${during.length} requests, ${throttled} THROTTLED; WooCommerce took ${(woocommerceMs / 1000).toFixed(1)} s in parallel; drift ${drift}/${planted} found and corrected`,
      }),
    ];
  } finally {
    await t.close();
    await Promise.all(sims.map((s) => s.close()));
  }
}

/** Prints each setup step's time to stderr, so a long run shows where it is. */
function phases(label: string): (step: string) => void {
  let last = performance.now();
  return (step) => {
    const now = performance.now();
    process.stderr.write(`${label}: ${step} in ${((now - last) / 1000).toFixed(1)} s\n`);
    last = now;
  };
}

const scenario: Scenario = { id: 'reconcile', run: (ctx) => run(ctx.quick) };
export default scenario;
