/**
 * A Shopify connector pointed at a simulator, with its budget in Redis under
 * a prefix of its own, as the daemon would build it (shared by the Shopify
 * benches). `close` releases the connector and the simulator and removes the keys.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RedisRateBudget, RedisSharedKV } from '../src/queue/shared-state.ts';
import { shopifyFactory, type ShopifyConnector } from '../connectors/shopify/index.ts';
import type { ChannelSimulator } from '../connectors/types.ts';

export interface BenchShopify {
  connector: ShopifyConnector;
  redis: Redis;
  /** Key prefix of this run's budget and kv in Redis. */
  prefix: string;
  close(): Promise<void>;
}

export function benchShopifyConnector(sim: ChannelSimulator, log: Logger, name: string): BenchShopify {
  const prefix = `cs-bench-${name}-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const config = sim.channelConfig();
  const connector = shopifyFactory.create({
    channel: {
      id: 1,
      kind: 'shopify',
      name: 'bench',
      settings: shopifyFactory.settingsSchema.parse(config.settings),
      credentials: shopifyFactory.credentialsSchema.parse(config.credentials),
    },
    budget: new RedisRateBudget(redis, prefix),
    kv: new RedisSharedKV(redis, prefix),
    log,
  }) as ShopifyConnector;
  return {
    connector,
    redis,
    prefix,
    async close() {
      await connector.close();
      await sim.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    },
  };
}
