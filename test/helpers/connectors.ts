/** Builds a connector against a running simulator, with real Redis for its shared state. */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { ChannelSimulator, Connector, ConnectorFactory } from '../../connectors/types.ts';
import { RedisRateBudget, RedisSharedKV } from '../../src/queue/shared-state.ts';
import { REDIS_URL } from './services.ts';

export interface ConnectedSimulator {
  sim: ChannelSimulator;
  connector: Connector;
  close(): Promise<void>;
}

export async function connectToSimulator(factory: ConnectorFactory, prefix: string, channelId = 1): Promise<ConnectedSimulator> {
  const sim = await factory.simulate({ log: pino({ level: 'silent' }) });
  const redis = new Redis(REDIS_URL);
  const { settings, credentials } = sim.channelConfig();
  const connector = factory.create({
    channel: {
      id: channelId,
      kind: factory.kind,
      name: `test-${factory.kind}`,
      settings: factory.settingsSchema.parse(settings),
      credentials: factory.credentialsSchema.parse(credentials),
    },
    budget: new RedisRateBudget(redis, prefix),
    kv: new RedisSharedKV(redis, prefix),
    log: pino({ level: 'silent' }),
  });
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
