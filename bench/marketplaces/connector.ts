/**
 * A marketplace connector on its simulator, as the daemon runs it: its rate
 * budgets and shared KV (tokens) in Redis under a key prefix of its own, so a
 * run neither sees nor leaves another run's budgets. Closed and cleaned up
 * after `use`, whatever `use` does. The simulator is the caller's (in this
 * process for Amazon, in its own for eBay); the caller stops it.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { RedisRateBudget, RedisSharedKV } from '../../src/queue/shared-state.ts';
import type { Connector, ConnectorFactory } from '../../connectors/types.ts';

/** `channel`: the simulator's settings and credentials, validated by the factory's schemas. */
export async function withMarketplaceConnector<T>(
  factory: ConnectorFactory,
  channel: { settings: unknown; credentials: unknown },
  use: (connector: Connector) => Promise<T>,
): Promise<T> {
  const prefix = `cs-bench-${factory.kind}-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const connector = factory.create({
    channel: { id: 1, kind: factory.kind, name: 'bench', settings: factory.settingsSchema.parse(channel.settings), credentials: factory.credentialsSchema.parse(channel.credentials) },
    budget: new RedisRateBudget(redis, prefix),
    kv: new RedisSharedKV(redis, prefix),
    log: pino({ level: 'silent' }),
  });
  try {
    return await use(connector);
  } finally {
    await connector.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
}
