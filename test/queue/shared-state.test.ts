import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RedisRateBudget, RedisSharedKV } from '../../src/queue/shared-state.ts';
import { REDIS_URL, testPrefix } from '../helpers/services.ts';

const redis = new Redis(REDIS_URL);
const { prefix, cleanup } = testPrefix();
afterAll(async () => {
  await cleanup();
  redis.disconnect();
});

describe('shared rate budget', () => {
  const limits = { capacity: 100, refillPerSecond: 50 };

  it('lets a full bucket spend at once, then queues callers behind each other', async () => {
    const budget = new RedisRateBudget(redis, prefix);
    expect((await budget.reserve('shop-a', 100, limits)).waitMs).toBe(0);
    // Two processes asking at the same moment are given increasing waits, never the same slot.
    const waits = (await Promise.all([budget.reserve('shop-a', 50, limits), new RedisRateBudget(new Redis(REDIS_URL), prefix).reserve('shop-a', 50, limits)])).map((r) => r.waitMs);
    waits.sort((a, b) => a - b);
    expect(waits[0]).toBeGreaterThan(900);
    expect(waits[0]).toBeLessThanOrEqual(1000);
    expect(waits[1]).toBeGreaterThan(1900);
    expect(waits[1]).toBeLessThanOrEqual(2000);
  });

  it('never shows more than the channel reported, and refunds unspent points', async () => {
    const budget = new RedisRateBudget(redis, prefix);
    await budget.sync('shop-b', 10, limits);
    expect((await budget.reserve('shop-b', 10, limits)).waitMs).toBe(0);
    const wait = (await budget.reserve('shop-b', 20, limits)).waitMs;
    expect(wait).toBeGreaterThan(300);
    await budget.refund('shop-b', 20, limits);
    // Without the refund this point would wait behind 20 others (~420 ms).
    expect((await budget.reserve('shop-b', 1, limits)).waitMs).toBeLessThan(50);
  });

  it('refuses nonsense limits', async () => {
    const budget = new RedisRateBudget(redis, prefix);
    await expect(budget.reserve('x', 1, { capacity: 0, refillPerSecond: 1 })).rejects.toThrow(/must be positive/);
  });
});

describe('shared kv', () => {
  it('keeps a value until its ttl', async () => {
    const kv = new RedisSharedKV(redis, prefix);
    await kv.set('token', 'abc', 200);
    expect(await kv.get('token')).toBe('abc');
    await new Promise((r) => setTimeout(r, 300));
    expect(await kv.get('token')).toBeNull();
  });
});
