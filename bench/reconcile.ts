/**
 * Bench: reconcile N SKUs (default 100,000, the issue's figure;
 * BENCH_RECONCILE_SKUS overrides) listed on a Shopify and a WooCommerce
 * simulator, with 1 % drift planted on each, and compare the elapsed time
 * with the least time the channels' rate limits allow.
 *
 * The Shopify shop runs at Shopify Plus's published rate (1000 points/s, the
 * plan of a shop with 100,000 SKUs; BENCH_SHOPIFY_RATE=100 for Standard, where
 * the same run takes ten times as long). The bucket holds ten seconds of it.
 *
 * Baseline, from this run's own numbers: channels are reconciled in
 * parallel, so the floor is the slowest channel's. Shopify charges each query
 * its actual cost from a bucket that refills at restoreRate, so no client can
 * finish before (sum of actual costs - points available at the start) /
 * restoreRate. WooCommerce documents no request budget, so its floor is 0.
 * Target: within 20 % of the baseline.
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

interface ShopifySimExtras {
  bucket: { status(): { currentlyAvailable: number }; set(points: number): void; setLimits(bucketSize: number, restoreRate: number): void };
  requestLog: Array<{ at: number; actualCost: number | null; throttled: boolean }>;
}

export default async function run(): Promise<Array<{ name: string; value: number; baseline: number; unit: string; note: string }>> {
  const count = positive('BENCH_RECONCILE_SKUS', 100_000);
  const restoreRate = positive('BENCH_SHOPIFY_RATE', 1_000);
  const bucketSize = restoreRate * 10;
  const plan = restoreRate === 1000 ? 'Shopify Plus' : restoreRate === 200 ? 'Advanced Shopify' : restoreRate === 100 ? 'Shopify Standard' : 'custom';
  const log = pino({ level: 'silent' });
  const phase = phases(`reconcile ${count} SKUs`);
  const t = await createTestApp();
  const sims: ChannelSimulator[] = [];
  try {
    const shopify = await connectorFactory('shopify').simulate({ log, ...({ products: 0 } as object) });
    const woo = await connectorFactory('woocommerce').simulate({ log });
    sims.push(shopify, woo);
    const extras = shopify as unknown as ShopifySimExtras;
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
    const minimum = Math.max(0, (points - availableAtStart) / restoreRate);
    const drift = report.channels.reduce((a, c) => a + c.drift, 0);
    const corrected = report.channels.reduce((a, c) => a + c.corrected, 0);
    if (drift !== planted || corrected !== planted) throw new Error(`planted ${planted} drift, found ${drift}, corrected ${corrected}`);
    const ratio = elapsed / minimum;
    const woocommerceMs = report.channels.find((c) => c.channelId === ids[1])?.ms ?? 0;
    return [
      {
        name: `reconcile ${count} SKUs x 2 channels (1 % drift each)`,
        value: elapsed,
        baseline: minimum,
        unit: 's',
        note:
          `${plan} rate: baseline = (${points} Shopify points in ${during.length} requests - ${availableAtStart} in the bucket) / ${restoreRate} pts/s; ` +
          `${((ratio - 1) * 100).toFixed(1)} % over (target <= 20 %); ${throttled} THROTTLED answers; ` +
          `WooCommerce (no budget) took ${(woocommerceMs / 1000).toFixed(1)} s in parallel; drift ${drift}/${planted} found and corrected`,
      },
    ];
  } finally {
    await t.close();
    await Promise.all(sims.map((s) => s.close()));
  }
}

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number, got "${raw}"`);
  return n;
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
