/**
 * One conformance suite over every store behind RateBudget and SharedKV:
 * Redis, Postgres 15, and embedded PGlite (over its wire protocol).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createDb, type Db } from '../../src/db/index.ts';
import {
  awaitReservation,
  PostgresRateBudget,
  PostgresSharedKV,
  RedisRateBudget,
  RedisSharedKV,
  type RateBudget,
  type SharedKV,
} from '../../src/queue/shared-state.ts';
import { createTestDatabase, REDIS_URL, testPrefix } from '../helpers/services.ts';
import { startTestEmbeddedPostgres } from '../helpers/embedded.ts';

interface Store {
  /** Two handles, as two processes would have. */
  open(): Promise<{
    budgets: [RateBudget, RateBudget];
    /** Two more handles on the same store whose reservations lapse after `leaseMs` without a word from their holder. */
    leased(leaseMs: number): [RateBudget, RateBudget];
    kv: SharedKV;
    close(): Promise<void>;
  }>;
}

const STORES: Record<string, Store> = {
  redis: {
    async open() {
      const [a, b] = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
      const { prefix, cleanup } = testPrefix();
      return {
        budgets: [new RedisRateBudget(a, prefix), new RedisRateBudget(b, prefix)],
        leased: (leaseMs: number) => [new RedisRateBudget(a, prefix, { leaseMs }), new RedisRateBudget(b, prefix, { leaseMs })],
        kv: new RedisSharedKV(a, prefix),
        async close() {
          await cleanup();
          a.disconnect();
          b.disconnect();
        },
      };
    },
  },
  postgres: {
    async open() {
      const database = await createTestDatabase();
      return postgresStore(database.url, () => database.drop());
    },
  },
  'embedded PGlite': {
    async open() {
      const server = await startTestEmbeddedPostgres();
      return postgresStore(server.url, () => server.close());
    },
  },
};

function postgresStore(url: string, drop: () => Promise<void>) {
  const dbs: [Db, Db] = [createDb(url, { max: 3 }), createDb(url, { max: 3 })];
  return {
    budgets: [new PostgresRateBudget(dbs[0], 'p'), new PostgresRateBudget(dbs[1], 'p')] as [RateBudget, RateBudget],
    leased: (leaseMs: number) =>
      [new PostgresRateBudget(dbs[0], 'p', { leaseMs }), new PostgresRateBudget(dbs[1], 'p', { leaseMs })] as [RateBudget, RateBudget],
    kv: new PostgresSharedKV(dbs[0], 'p'),
    async close() {
      await Promise.all(dbs.map((db) => db.destroy()));
      await drop();
    },
  };
}

for (const [name, store] of Object.entries(STORES)) {
  describe(`shared state on ${name}`, () => {
    const limits = { capacity: 100, refillPerSecond: 50 };
    let opened: Awaited<ReturnType<Store['open']>>;
    beforeAll(async () => {
      opened = await store.open();
    });
    afterAll(() => opened?.close());

    it('lets a full bucket spend at once, then queues callers behind each other', async () => {
      const [budget, other] = opened.budgets;
      const started = Date.now();
      expect((await budget.reserve('shop-a', 100, limits)).waitMs).toBe(0);
      const waits = (await Promise.all([budget.reserve('shop-a', 50, limits), other.reserve('shop-a', 50, limits)])).map((r) => r.waitMs);
      // The bucket refills while the calls run: allow for the time they took.
      const slack = Date.now() - started;
      waits.sort((a, b) => a - b);
      expect(waits[0]).toBeGreaterThan(1000 - slack);
      expect(waits[0]).toBeLessThanOrEqual(1000);
      expect(waits[1]).toBeGreaterThan(2000 - slack);
      expect(waits[1]).toBeLessThanOrEqual(2000);
      expect(waits[1]! - waits[0]!).toBeGreaterThan(1000 - slack);
    });

    it('never shows more than the channel reported, and refunds unspent points', async () => {
      const [budget] = opened.budgets;
      await budget.sync('shop-b', 10, limits);
      expect((await budget.reserve('shop-b', 10, limits)).waitMs).toBe(0);
      expect((await budget.reserve('shop-b', 20, limits)).waitMs).toBeGreaterThan(300);
      await budget.refund('shop-b', 20, limits);
      expect((await budget.reserve('shop-b', 1, limits)).waitMs).toBeLessThan(50);
    });

    it('lets a waiting caller go as soon as a refund covers its ticket, in turn', async () => {
      const [budget, other] = opened.budgets;
      await budget.reserve('shop-t', 100, limits);
      const first = await budget.reserve('shop-t', 50, limits);
      const second = await other.reserve('shop-t', 50, limits);
      const reservedAt = Date.now();
      expect(first.waitMs).toBeGreaterThan(800);
      expect(second.waitMs).toBeGreaterThan(1800);
      // The first query cost 40 of the 100 it asked for: 60 come back.
      await budget.refund('shop-t', 60, limits);
      expect(await other.waitFor('shop-t', first, limits)).toBe(0);
      const left = await budget.waitFor('shop-t', second, limits);
      // The refill goes on in real time while these calls run (slowly on PGlite under load): allow for it.
      expect(left).toBeGreaterThan(700 - Math.max(0, Date.now() - reservedAt - 100));
      expect(left).toBeLessThanOrEqual(second.waitMs - 1000);
      // awaitReservation re-checks, so it returns once covered rather than after the wait it was first given.
      await budget.refund('shop-t', 50, limits);
      const started = Date.now();
      await awaitReservation(budget, 'shop-t', second, limits, 50);
      expect(Date.now() - started).toBeLessThan(200);
    });

    it('debits exactly once per call under concurrency', async () => {
      const [a, b] = opened.budgets;
      const started = Date.now();
      const calls = Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).reserve('shop-c', 5, limits));
      const waits = (await Promise.all(calls)).map((r) => r.waitMs).sort((x, y) => x - y);
      const refilled = ((Date.now() - started) / 1000) * limits.refillPerSecond;
      // 200 points asked of a full bucket of 100: the last caller waits for the other 100 (2 s), less what refilled meanwhile.
      const free = waits.filter((w) => w === 0).length;
      expect(free).toBeGreaterThanOrEqual(20);
      expect(free).toBeLessThanOrEqual(20 + Math.ceil(refilled / 5));
      expect(waits.at(-1)).toBeGreaterThanOrEqual(2000 - (refilled / limits.refillPerSecond) * 1000 - 100);
      expect(waits.at(-1)).toBeLessThanOrEqual(2000);
      // Every wait is distinct: no two callers were given the same slot.
      expect(new Set(waits.filter((w) => w > 0)).size).toBe(waits.filter((w) => w > 0).length);
    });

    it('heals within the lease when a holder dies with reservations waiting, while traffic goes on', async () => {
      const leaseMs = 600;
      const [live, dying] = opened.leased(leaseMs);
      // The dying process drains the bucket and queues 400 points behind it, then is SIGKILLed: it never polls, sends or refunds again.
      await dying.reserve('shop-k', 100, limits);
      expect((await dying.reserve('shop-k', 400, limits)).waitMs).toBeGreaterThan(7000);
      // Shopify never saw those 400 points: its own bucket (modelled here) has only the first 100 and the live calls.
      const shopify = { level: 0, at: Date.now() };
      const shopifyAvailable = (spend = 0) => {
        shopify.level = Math.min(limits.capacity, shopify.level + ((Date.now() - shopify.at) / 1000) * limits.refillPerSecond) - spend;
        shopify.at = Date.now();
        return shopify.level;
      };
      // A live client keeps sending 10-point calls, each aligning the bucket with what Shopify reports afterwards.
      const started = Date.now();
      const deadline = started + leaseMs + 1000;
      const sent: number[] = [];
      while (Date.now() < deadline) {
        const reservation = await live.reserve('shop-k', 10, limits);
        let wait = reservation.waitMs;
        while (wait > 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, Math.min(wait, 50)));
          wait = await live.waitFor('shop-k', reservation, limits);
        }
        if (wait > 0) break;
        await live.sync('shop-k', shopifyAvailable(10), limits);
        sent.push(Date.now() - started);
      }
      // Without healing the first live call waits out the dead 400 points (8 s) and nothing is sent.
      expect(sent.length).toBeGreaterThanOrEqual(3);
      expect(sent[0]).toBeLessThan(leaseMs + 500);
      // Once traffic pauses, the bucket shows what Shopify reports again: a call goes at once.
      await new Promise((r) => setTimeout(r, 500));
      await live.sync('shop-k', shopifyAvailable(), limits);
      expect((await live.reserve('shop-k', 10, limits)).waitMs).toBe(0);
    });

    it('refuses nonsense limits', async () => {
      await expect(opened.budgets[0].reserve('x', 1, { capacity: 0, refillPerSecond: 1 })).rejects.toThrow(/must be positive/);
    });

    it('keeps a value until its ttl, and deletes it', async () => {
      const { kv } = opened;
      await kv.set('token', 'abc', 300);
      expect(await kv.get('token')).toBe('abc');
      await kv.set('token', 'def', 300);
      expect(await kv.get('token')).toBe('def');
      await new Promise((r) => setTimeout(r, 400));
      expect(await kv.get('token')).toBeNull();
      await kv.set('other', 'x', 10_000);
      await kv.del('other');
      expect(await kv.get('other')).toBeNull();
    });

    it('counts every increment of workers racing on one counter, until its ttl', async () => {
      const { kv } = opened;
      const values = await Promise.all(Array.from({ length: 20 }, () => kv.incr('revisions', 1, 400)));
      // Each caller saw its own next value: none were written twice.
      expect([...values].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(await kv.incr('revisions', -1, 400)).toBe(19);
      await new Promise((r) => setTimeout(r, 500));
      expect(await kv.incr('revisions', 1, 400)).toBe(1);
    });
  });
}
