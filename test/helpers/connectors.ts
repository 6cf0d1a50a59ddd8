/** Builds a connector against a running simulator, with real Redis for its shared state. */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { ChannelSimulator, Connector, ConnectorFactory, SimulatorOptions } from '../../connectors/types.ts';
import { RedisRateBudget, RedisSharedKV } from '../../src/queue/shared-state.ts';
import { REDIS_URL } from './services.ts';

/** A simulator and a connector to it; `S` and `C` name a channel's own types (`ShopifySimulator`, `ShopifyConnector`). */
export interface ConnectedSimulator<S extends ChannelSimulator = ChannelSimulator, C extends Connector = Connector> {
  sim: S;
  connector: C;
  /** Closes the connector, then the simulator, and the Redis connection. */
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** The channel row's id (default 1). */
  channelId?: number;
  /**
   * Passed to the factory's `simulate` (the log is silent unless given): the common options and a
   * channel's own, e.g. Shopify's `products` and `webhookApiVersion`, eBay's `grantedScopes`.
   */
  simulator?: SimulatorOptions & Record<string, unknown>;
}

export async function connectToSimulator<S extends ChannelSimulator = ChannelSimulator, C extends Connector = Connector>(
  factory: ConnectorFactory,
  prefix: string,
  options: ConnectOptions = {},
): Promise<ConnectedSimulator<S, C>> {
  const sim = (await factory.simulate({ log: pino({ level: 'silent' }), ...options.simulator })) as S;
  const redis = new Redis(REDIS_URL);
  const { settings, credentials } = sim.channelConfig();
  const connector = factory.create({
    channel: {
      id: options.channelId ?? 1,
      kind: factory.kind,
      name: `test-${factory.kind}`,
      settings: factory.settingsSchema.parse(settings),
      credentials: factory.credentialsSchema.parse(credentials),
    },
    budget: new RedisRateBudget(redis, prefix),
    kv: new RedisSharedKV(redis, prefix),
    log: pino({ level: 'silent' }),
  }) as C;
  return {
    sim,
    connector,
    async close() {
      await connector.close();
      await sim.close();
      redis.disconnect();
    },
  };
}

export async function pullAll(connector: Connector, cursor: string | null = null) {
  const orders = [];
  let last = cursor;
  for await (const page of connector.pullOrders(cursor)) {
    orders.push(...page.orders);
    last = page.cursor;
  }
  return { orders, cursor: last };
}
