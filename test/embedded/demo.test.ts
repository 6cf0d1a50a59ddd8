/**
 * The README's `npm run demo` on a machine without Postgres or Redis: the
 * service ports are closed, so the demo runs embedded; orders from every
 * simulator reach Postgres, ship, and show tracking on the simulator, through
 * a fault burst; a second start finds the data kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { demoTimings, runDemo, type DemoOptions } from '../../src/demo.ts';
import { connectorFactories } from '../../connectors/index.ts';
import { QUEUE_NAMES } from '../../src/queue/queues.ts';
import { closedServices } from '../helpers/ports.ts';

type Started = Parameters<NonNullable<DemoOptions['onStarted']>>[0];

let stateDir: string;
let options: Omit<DemoOptions, 'ordersPerMinute' | 'durationMs'>;
beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'cs-demo-'));
  // No DATABASE_URL or REDIS_URL, and nothing on the ports probed: what a fresh machine looks like.
  const env = { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' };
  const probe = await closedServices();
  options = { stateDir, env, probe };
});
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

async function counts(started: Started) {
  const { rows } = await sql<{ channel: number; orders: number; shipped: number }>`
    SELECT o.channel_id AS channel, count(DISTINCT o.id)::int AS orders,
      count(DISTINCT o.id) FILTER (WHERE s.tracking_number IS NOT NULL)::int AS shipped
    FROM orders o LEFT JOIN fulfillments f ON f.order_id = o.id LEFT JOIN shipments s ON s.fulfillment_id = f.id
    GROUP BY 1 ORDER BY 1`.execute(started.daemon.app.db);
  return rows;
}

describe('the demo, embedded', () => {
  it('runs with orders from every simulator shipped and tracked through a fault burst, and keeps them across a restart', async () => {
    let first: Started | undefined;
    let seen: Awaited<ReturnType<typeof counts>> = [];
    let tracked = 0;
    // Three times real time, so the first fault burst is over within seconds, not a minute; ten orders a
    // minute per store at speed 1 (thirty at this speed), however many stores the registry has (the stream takes turns).
    const speed = 3;
    const { bursts } = demoTimings(speed);
    let startedAt = 0;
    const running = runDemo({
      ...options, speed, ordersPerMinute: 10 * connectorFactories.size, durationMs: 170_000,
      // The bursts start with it.
      onStarted: (s) => ((first = s), (startedAt = Date.now())),
    });
    try {
      // Look inside once every store has orders shipped and the burst has passed (a busy machine starts
      // the demo slowly), then stop it. Postgres only until then: a simulator in its burst answers nothing.
      const deadline = Date.now() + 150_000;
      for (;;) {
        await new Promise((r) => setTimeout(r, 1_000));
        if (!first) continue;
        seen = await counts(first);
        const everyStore = seen.length === connectorFactories.size && seen.every((r) => r.orders > 5 && r.shipped > 0);
        if ((everyStore && Date.now() - startedAt > bursts.firstAfterMs + bursts.burstMs) || Date.now() > deadline) break;
      }
      expect(first).toBeDefined();
      // A shipment's push comes after it: read the simulators (the burst is over) until one shows its tracking.
      while (tracked === 0 && Date.now() < deadline) {
        for (const { sim, channelId } of first!.sims) {
          const shipped = await sql<{ external_id: string }>`
            SELECT o.external_id FROM orders o JOIN fulfillments f ON f.order_id = o.id JOIN shipments s ON s.fulfillment_id = f.id
            WHERE o.channel_id = ${channelId} AND s.tracking_number IS NOT NULL LIMIT 3`.execute(first!.daemon.app.db);
          for (const { external_id } of shipped.rows) {
            const fulfillments = await sim.fulfillments(external_id);
            if (fulfillments.some((f) => f.trackingNumber)) tracked += 1;
          }
        }
        if (tracked === 0) await new Promise((r) => setTimeout(r, 1_000));
      }
      expect(first!.daemon.app.backend.kind).toBe('postgres');
    } finally {
      first?.stop();
      await running;
    }

    expect(seen).toHaveLength(connectorFactories.size);
    for (const row of seen) {
      expect(row.orders).toBeGreaterThan(5);
      expect(row.shipped).toBeGreaterThan(0);
    }
    expect(tracked).toBeGreaterThan(0);
    const before = seen.reduce((n, r) => n + r.orders, 0);

    let second: Started | undefined;
    let after = 0;
    const restartedAt = Date.now();
    const failedSinceRestart: string[] = [];
    await runDemo({
      ...options,
      ordersPerMinute: 0,
      durationMs: 8_000,
      onStarted: (s) => {
        second = s;
        void counts(s).then((rows) => (after = rows.reduce((n, r) => n + r.orders, 0)));
        // Jobs left from the first run (its simulators are gone) run against the new ones: none fails.
        setTimeout(() => {
          void Promise.all(
            QUEUE_NAMES.map(async (name) => {
              for (const job of await s.daemon.app.queues.get(name).getJobs(['failed'])) {
                if ((job.finishedOn ?? 0) >= restartedAt) failedSinceRestart.push(`${name} ${job.id}: ${job.failedReason}`);
              }
            }),
          );
        }, 6_000);
      },
    });
    expect(second).toBeDefined();
    expect(after).toBeGreaterThanOrEqual(before);
    expect(failedSinceRestart).toEqual([]);
  }, 180_000);
});
