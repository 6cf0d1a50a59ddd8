/**
 * Every benchmark scenario (issue #18's table), in the order the table shows
 * them: id -> its module, loaded only when it runs. Plain map: no discovery.
 * The console's own pages and each marketplace connector plug in below
 * these (bench/console-scenario.ts, bench/marketplaces.ts), not here.
 */
import type { Scenario } from './types.ts';

export const SCENARIOS: Record<string, () => Promise<{ default: Scenario }>> = {
  ingest: () => import('./ingest.ts'),
  'shopify-pull': () => import('./shopify-pull.ts'),
  'shopify-push': () => import('./shopify-push.ts'),
  'woocommerce-pull': () => import('./woocommerce-pull.ts'),
  marketplaces: () => import('./marketplaces.ts'),
  fulfilment: () => import('./fulfilment.ts'),
  reconcile: () => import('./reconcile.ts'),
  webhooks: () => import('./webhook-latency.ts'),
  memory: () => import('./memory.ts'),
  cli: () => import('./cli.ts'),
  console: () => import('./console-scenario.ts'),
  'console-pages': () => import('./console.ts'),
  'scale-out': () => import('./scale-out.ts'),
};
