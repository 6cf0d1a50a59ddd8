/** Channel API calls are counted per channel, kind and outcome, as connectors make them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { connectorFactory } from '../../connectors/index.ts';
import type { ChannelSimulator } from '../../connectors/types.ts';
import { addChannel } from '../../src/db/channels.ts';
import { registry } from '../../src/server/metrics.ts';
import { syncOrders } from '../../jobs/sync-orders.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
const sims: ChannelSimulator[] = [];
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
  await t?.close();
});

async function calls(channelId: number, kind: string, outcome: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'channelsync_channel_api_calls_total');
  const value = (metric?.values ?? []).find((v) => v.labels.channel === String(channelId) && v.labels.kind === kind && v.labels.outcome === outcome);
  return Number(value?.value ?? 0);
}

describe('channel API call metrics', () => {
  it.each(['shopify', 'woocommerce'] as const)('counts the calls a %s sync makes', async (kind) => {
    const sim = await connectorFactory(kind).simulate({ orders: 5, log: pino({ level: 'silent' }) });
    sims.push(sim);
    const { settings, credentials } = sim.channelConfig();
    const id = await addChannel(t.app.db, t.app.config.secretKey!, { kind, name: `metrics-${kind}`, settings, credentials });
    await syncOrders(t.app, id);
    expect(await calls(id, kind, 'ok')).toBeGreaterThan(0);
    expect(await calls(id, kind, 'error')).toBe(0);

    // A shop that answers 5xx: each failed call is counted (WooCommerce's client backs off for ~20 s
    // before giving up, so the failing half runs on Shopify only).
    if (kind === 'shopify') {
      sim.setFaults({ errorRate: 1 });
      await expect(syncOrders(t.app, id)).rejects.toThrow();
      expect(await calls(id, kind, 'error')).toBeGreaterThan(0);
    }
  });
});
