/**
 * Client-credentials auth against the simulator: the token is requested once,
 * cached in the shared kv for other processes, and replaced on a 401.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { RedisRateBudget, RedisSharedKV } from '../../../src/queue/shared-state.ts';
import type { ChannelSimulator } from '../../../connectors/types.ts';
import { shopifyFactory, type ShopifyConnector } from '../../../connectors/shopify/index.ts';

const PREFIX = `cs-test-shopify-auth-${randomBytes(4).toString('hex')}`;
const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const log = pino({ level: 'silent' });
let sim: ChannelSimulator;

beforeAll(async () => {
  sim = await shopifyFactory.simulate({ orders: 3, log });
}, 30_000);

afterAll(async () => {
  await sim?.close();
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

function clientCredentialsConnector(): ShopifyConnector {
  const { settings, credentials } = sim.channelConfig();
  const { clientId, clientSecret, apiSecretKey } = credentials as Record<string, string>;
  return shopifyFactory.create({
    channel: {
      id: 1,
      kind: 'shopify',
      name: 'sim',
      settings: shopifyFactory.settingsSchema.parse(settings),
      credentials: shopifyFactory.credentialsSchema.parse({ clientId, clientSecret, apiSecretKey }),
    },
    budget: new RedisRateBudget(redis, PREFIX),
    kv: new RedisSharedKV(redis, PREFIX),
    log,
  }) as ShopifyConnector;
}

it('gets a token by client credentials, shares it, and replaces a rejected one on 401', async () => {
  const first = clientCredentialsConnector();
  const pulled = [];
  for await (const page of first.pullOrders(null)) pulled.push(...page.orders);
  expect(pulled).toHaveLength(3);
  expect(first.client.stats.tokenRefreshes).toBe(1);

  // A second process finds the token in the shared kv: no new grant.
  const second = clientCredentialsConnector();
  expect(await second.fetchOrder(pulled[0]!.externalId)).not.toBeNull();
  expect(second.client.stats.tokenRefreshes).toBe(0);

  // The cached token is revoked (expired early, rotated secret...): Shopify
  // answers 401, the client fetches a new token once and the call succeeds.
  const kv = new RedisSharedKV(redis, PREFIX);
  const { settings, credentials } = sim.channelConfig();
  const key = `shopify:token:${String(settings.shopDomain)}:${String((credentials as Record<string, string>).clientId)}`;
  await kv.set(key, JSON.stringify({ value: 'shpat_revoked', expiresAt: Date.now() + 3_600_000 }), 3_600_000);
  const third = clientCredentialsConnector();
  expect((await third.fetchOrder(pulled[1]!.externalId))?.externalId).toBe(pulled[1]!.externalId);
  expect(third.client.stats.tokenRefreshes).toBe(1);
  expect(JSON.parse((await kv.get(key))!).value).not.toBe('shpat_revoked');

  for (const c of [first, second, third]) await c.close();
}, 30_000);

it('a wrong client secret is a permanent error that says what to check', async () => {
  const { settings } = sim.channelConfig();
  const c = shopifyFactory.create({
    channel: {
      id: 2,
      kind: 'shopify',
      name: 'sim',
      settings: shopifyFactory.settingsSchema.parse(settings),
      credentials: shopifyFactory.credentialsSchema.parse({ clientId: 'nope', clientSecret: 'wrong' }),
    },
    budget: new RedisRateBudget(redis, `${PREFIX}-bad`),
    kv: new RedisSharedKV(redis, `${PREFIX}-bad`),
    log,
  });
  await expect(c.fetchOrder('1')).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/clientId and clientSecret/) });
  await c.close();
}, 30_000);
