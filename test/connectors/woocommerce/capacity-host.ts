/**
 * A WooCommerce simulator in a process of its own, for
 * simulator-capacity.test.ts: `node bin/run-ts.js <this> <statePath> <maxConcurrent> <latencyMs>`.
 * Sends `{ url, pid }` over IPC once listening; closes when the parent goes.
 */
import { startWooCommerceSimulator } from '../../../connectors/woocommerce/simulator/index.ts';

const [statePath, maxConcurrent, latencyMs] = process.argv.slice(2);
const sim = await startWooCommerceSimulator({
  statePath,
  rateLimit: { maxConcurrent: Number(maxConcurrent) },
  faults: { latencyMs: Number(latencyMs) },
});
process.send!({ url: sim.url, pid: process.pid });
process.on('disconnect', () => void sim.close().then(() => process.exit(0)));
