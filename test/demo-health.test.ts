/**
 * The demo stays a believable shop, measured at ten times real speed (about
 * ten minutes of trading in a minute of wall time): orders keep shipping in
 * every window, stock that runs out comes back from the supplier and the
 * backorders waiting for it ship, backorders stay bounded, the dashboard's
 * stock cards say so, no job fails, and a restarted demo keeps every order
 * and never reuses an order id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { runDemo, type DemoOptions } from '../src/demo.ts';
import type { Database } from '../src/db/schema.ts';
import { createTestDatabase, REDIS_URL, testPrefix, type TestDatabase } from './helpers/services.ts';

type Started = Parameters<NonNullable<DemoOptions['onStarted']>>[0];

let stateDir: string;
let database: TestDatabase;
let redis: ReturnType<typeof testPrefix>;
let base: Omit<DemoOptions, 'ordersPerMinute' | 'durationMs' | 'onStarted'>;
beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'cs-demo-health-'));
  database = await createTestDatabase();
  redis = testPrefix();
  const env = { PATH: process.env.PATH, DATABASE_URL: database.url, REDIS_URL, QUEUE_PREFIX: redis.prefix, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' };
  // Outage bursts off: here every failure is a bug, and a burst could still outlast a push's attempts at this speed.
  base = { stateDir, env, speed: 10, faults: false };
});
afterAll(async () => {
  await redis?.cleanup();
  await database?.drop();
  rmSync(stateDir, { recursive: true, force: true });
});

interface Sample {
  at: number;
  orders: number;
  shipped: number;
  backordered: number;
}

async function sample(db: Kysely<Database>): Promise<Sample> {
  const { rows } = await sql<{ orders: number; shipped: number; backordered: number }>`
    SELECT count(*)::int AS orders, count(*) FILTER (WHERE state IN ('shipped', 'delivered'))::int AS shipped,
      count(*) FILTER (WHERE state = 'backordered')::int AS backordered FROM orders`.execute(db);
  return { at: Date.now(), ...rows[0]! };
}

async function failures(db: Kysely<Database>): Promise<string[]> {
  const rows = await db.selectFrom('job_failures').select(['queue', 'job_id', 'error']).execute();
  return rows.map((r) => `${r.queue} ${r.job_id}: ${r.error}`);
}

async function orderRows(db: Kysely<Database>) {
  return db.selectFrom('orders').select(['channel_id', 'external_id', 'order_number', 'placed_at']).execute();
}

describe('the demo at DEMO_SPEED=10', () => {
  it('keeps shipping, refills stock through the supplier, stays bounded, fails nothing, and keeps its orders across a restart', async () => {
    const samples: Sample[] = [];
    let backlog: { status: number; body: { backorderedOrders: number; stockOuts: unknown[]; purchaseOrders: { draft: number; sent: number } } } | undefined;
    let end: { failed: string[]; refilled: number; received: number; before: Awaited<ReturnType<typeof orderRows>> } | undefined;
    const firstRunMs = 50_000;
    await runDemo({
      ...base,
      ordersPerMinute: 12, // 2 orders a second at speed 10
      durationMs: firstRunMs,
      onStarted: (s: Started) => {
        const db = s.daemon.app.db;
        const timer = setInterval(() => void sample(db).then((x) => samples.push(x)), 5_000);
        timer.unref();
        // Shortly before the demo stops by itself (its database closes with it).
        setTimeout(() => {
          clearInterval(timer);
          void (async () => {
            const res = await fetch(`${s.daemon.url}/api/stock/backlog`, { headers: { authorization: `Bearer ${s.daemon.app.config.adminToken}` } });
            backlog = { status: res.status, body: (await res.json()) as NonNullable<typeof backlog>['body'] };
            const refilled = await sql<{ n: number }>`
              SELECT count(DISTINCT h.order_id)::int AS n FROM order_history h JOIN orders o ON o.id = h.order_id
              WHERE h.from_state = 'backordered' AND o.state IN ('shipped', 'delivered')`.execute(db);
            const received = await db.selectFrom('purchase_orders').select(sql<number>`count(*)::int`.as('n')).where('status', '=', 'received').executeTakeFirstOrThrow();
            end = { failed: await failures(db), refilled: refilled.rows[0]!.n, received: received.n, before: await orderRows(db) };
          })();
        }, firstRunMs - 4_000).unref();
      },
    });

    expect(end).toBeDefined();
    // Every 10 s window after the first (stock imported, first orders pulled) ships more orders.
    const windows = samples.filter((_, i) => i % 2 === 0);
    const shippedPerWindow = windows.slice(1).map((w, i) => w.shipped - windows[i]!.shipped);
    expect(shippedPerWindow.length).toBeGreaterThanOrEqual(4);
    for (const n of shippedPerWindow.slice(1)) expect(n).toBeGreaterThan(0);
    // Stock ran out (T-shirts L start at 3) and came back: purchase orders received, backorders shipped.
    expect(end!.received).toBeGreaterThan(0);
    expect(end!.refilled).toBeGreaterThan(0);
    // Bounded: at most the orders of one supplier round trip (sent after 3 s, delivered 12 s later, at 2 orders/s) wait.
    const worst = Math.max(...samples.map((x) => x.backordered));
    expect(worst).toBeLessThanOrEqual(2 * (3 + 12));
    expect(backlog?.status).toBe(200);
    expect(backlog!.body.backorderedOrders).toBeGreaterThanOrEqual(0);
    expect(end!.failed).toEqual([]);
    const last = samples.at(-1)!;
    expect(last.shipped).toBeGreaterThan(last.orders / 2);

    // A restart: the simulators come back with their stores, so every old order is kept as it was and new ones get new ids.
    const before = end!.before;
    let after: { rows: Awaited<ReturnType<typeof orderRows>>; failed: string[] } | undefined;
    await runDemo({
      ...base,
      ordersPerMinute: 12,
      durationMs: 16_000,
      onStarted: (s: Started) => {
        setTimeout(() => void (async () => (after = { rows: await orderRows(s.daemon.app.db), failed: await failures(s.daemon.app.db) }))(), 12_000).unref();
      },
    });
    expect(after).toBeDefined();
    const key = (r: { channel_id: number; external_id: string }) => `${r.channel_id}/${r.external_id}`;
    const now = new Map(after!.rows.map((r) => [key(r), r]));
    for (const old of before) {
      const kept = now.get(key(old));
      expect(kept, `order ${key(old)} is still there`).toBeDefined();
      // Not overwritten by an unrelated new order under the same id.
      expect(kept!.placed_at.getTime()).toBe(old.placed_at.getTime());
      expect(kept!.order_number).toBe(old.order_number);
    }
    const fresh = after!.rows.filter((r) => !before.some((b) => key(b) === key(r)));
    expect(fresh.length).toBeGreaterThan(5);
    const oldNumbers = new Set(before.map((b) => `${b.channel_id}/${b.order_number}`));
    for (const r of fresh) expect(oldNumbers.has(`${r.channel_id}/${r.order_number}`)).toBe(false);
    expect(after!.failed).toEqual([]);
  }, 150_000);
});
