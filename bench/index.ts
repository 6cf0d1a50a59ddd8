/**
 * `npm run bench`: every benchmark prints its figure as a ratio against a
 * baseline measured in the same run (machines differ; ratios travel).
 * `npm run bench -- upsert` runs the named ones only.
 */
import type { Bench, BenchResult } from './types.ts';

const BENCHES: Record<string, () => Promise<{ default: Bench }>> = {
  upsert: () => import('./upsert.ts'),
  'shopify-pull': () => import('./shopify-pull.ts'),
  'shopify-push': () => import('./shopify-push.ts'),
  'woocommerce-pull': () => import('./woocommerce-pull.ts'),
  reconcile: () => import('./reconcile.ts'),
  cli: () => import('./cli.ts'),
  console: () => import('./console.ts'),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !(w in BENCHES));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${Object.keys(BENCHES).join(', ')})`);
  process.exit(2);
}

const rows: Array<BenchResult & { bench: string }> = [];
for (const [name, load] of Object.entries(BENCHES)) {
  if (wanted.length && !wanted.includes(name)) continue;
  const started = performance.now();
  const results = await (await load()).default();
  for (const r of results) {
    rows.push({ ...r, bench: name });
    console.log(
      `${name.padEnd(12)} ${r.name.padEnd(52)} ${fmt(r.value)} ${r.unit} vs ${fmt(r.baseline)} ${r.unit}  ratio ${r.baseline === 0 ? (r.value === 0 ? 'n/a (both 0)' : 'n/a') : (r.value / r.baseline).toFixed(3)}  (${r.note})`,
    );
  }
  console.log(`${name.padEnd(12)} took ${((performance.now() - started) / 1000).toFixed(1)} s, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
}
process.exit(0);

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(2);
}
