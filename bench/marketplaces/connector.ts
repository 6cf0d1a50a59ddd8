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

/**
 * One timed pull from the start: every order must come (none set aside, each
 * once); returns the seconds it took and the order lines it carried.
 */
export async function timedFullPull(connector: Connector, kind: string, count: number): Promise<{ seconds: number; items: number }> {
  const started = performance.now();
  const seen = new Set<string>();
  let items = 0;
  for await (const page of connector.pullOrders(null)) {
    if (page.rejected?.length) throw new Error(`${kind} pull rejected ${page.rejected.length} orders: ${page.rejected[0]!.reason}`);
    for (const o of page.orders) {
      seen.add(o.externalId);
      items += o.lines.length;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  if (seen.size !== count) throw new Error(`pulled ${seen.size} of ${count} orders`);
  return { seconds, items };
}
