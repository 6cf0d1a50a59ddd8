/**
 * Closing a channel client ends its waits: the daemon closes connectors once
 * SHUTDOWN_TIMEOUT_SECONDS are up, and a job still sleeping out a back-off or
 * waiting for the shared Shopify budget must not hold the shutdown for the
 * rest of that wait. The wait ends with a RetryableError (the job runs again
 * on another worker).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { connectorFactory } from '../../connectors/index.ts';
import { WooClient } from '../../connectors/woocommerce/client.ts';
import { RetryableError } from '../../src/domain/errors.ts';
import { RedisRateBudget } from '../../src/queue/shared-state.ts';
import { connectToSimulator } from '../helpers/connectors.ts';
import { REDIS_URL, testPrefix } from '../helpers/services.ts';

const { prefix, cleanup } = testPrefix();
const redis = new Redis(REDIS_URL);
afterAll(async () => {
  await cleanup();
  redis.disconnect();
});

/** Settles `promise`, returning the error it rejected with (null when it resolved). */
async function settle(promise: Promise<unknown>): Promise<{ error: unknown }> {
  try {
    await promise;
    return { error: null };
  } catch (error) {
    return { error };
  }
}

describe('closing a client ends its waits', () => {
  it('WooCommerce: a request backing off after a 500 or 503 rejects at once, retryable', async () => {
    const sim = await connectorFactory('woocommerce').simulate({ log: pino({ level: 'silent' }) });
    try {
      const { settings, credentials } = sim.channelConfig();
      // First back-off 2.5-5 s: without an abortable wait the request would outlive close() by seconds.
      const client = new WooClient({ url: String(settings.url), consumerKey: String(credentials.consumerKey), consumerSecret: String(credentials.consumerSecret), baseDelayMs: 5_000, log: pino({ level: 'silent' }) });
      sim.setFaults({ errorRate: 1 });
      const request = settle(client.get('orders'));
      await new Promise((r) => setTimeout(r, 500));
      const closedAt = Date.now();
      await client.close();
      const { error } = await request;
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as Error).message).toMatch(/closed/);
      expect(Date.now() - closedAt).toBeLessThan(500);
    } finally {
      await sim.close();
    }
  });

  it('Shopify: a call waiting for the shared budget rejects at once, retryable', async () => {
    const { sim, connector, close } = await connectToSimulator(connectorFactory('shopify'), prefix);
    try {
      const { settings } = sim.channelConfig();
      // Another process has queued 5000 points on this shop: the next call waits ~40 s for its turn.
      await new RedisRateBudget(redis, prefix).reserve(`shopify:${String(settings.shopDomain)}`, 5_000, { capacity: 1000, refillPerSecond: 100 });
      const call = settle(connector.verify());
      await new Promise((r) => setTimeout(r, 300));
      const closedAt = Date.now();
      await connector.close();
      const { error } = await call;
      expect(error).toBeInstanceOf(RetryableError);
      expect(Date.now() - closedAt).toBeLessThan(500);
    } finally {
      await close();
    }
  });
});
