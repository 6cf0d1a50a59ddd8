/**
 * "One run per channel" locks live on connections of their own: twenty
 * channels syncing at once do not take the pool from everything else, and a
 * lock whose connection dies (a Postgres restart) is reported to its work,
 * not thrown at the process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pg from 'pg';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { EMBEDDED } from '../helpers/embedded.ts';
import { LOCKS, withSessionLock } from '../../src/db/locks.ts';
import { RetryableError } from '../../src/domain/errors.ts';

let t: TestApp;

beforeAll(async () => {
  // The default pool: max(10, WORKER_CONCURRENCY + 4) connections.
  t = await createTestApp({ WORKER_CONCURRENCY: '4' });
});
afterAll(() => t?.close());

/** This test's own locks (keys 1000-1019 in its own database): other test files' daemons lock channels on the same server. */
async function advisoryLocksHeld(): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND classid = ${LOCKS.syncOrders} AND objid BETWEEN 1000 AND 1019
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`.execute(t.app.db);
  return rows[0]!.n;
}

describe('session locks', () => {
  it('holds twenty channel locks at once while the pool keeps answering', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const runs = Array.from({ length: 20 }, (_, i) => withSessionLock(t.app.config.databaseUrl, LOCKS.syncOrders, 1000 + i, () => gate));
    try {
      const deadline = Date.now() + 10_000;
      while ((await advisoryLocksHeld()) < 20) {
        if (Date.now() > deadline) throw new Error(`only ${await advisoryLocksHeld()} of 20 locks taken`);
        await new Promise((r) => setTimeout(r, 50));
      }
      // Everything else still gets a connection at once: ten queries in parallel, each in well under a second.
      const started = Date.now();
      await Promise.all(Array.from({ length: 10 }, () => sql`SELECT pg_sleep(0.05)`.execute(t.app.db)));
      expect(Date.now() - started).toBeLessThan(2_000);
      // A second run for a held channel is told at once.
      expect(await withSessionLock(t.app.config.databaseUrl, LOCKS.syncOrders, 1000, async () => 'ran')).toEqual({ locked: false });
    } finally {
      release();
    }
    expect((await Promise.all(runs)).every((r) => r.locked)).toBe(true);
    expect(await advisoryLocksHeld()).toBe(0);
  });

  // Embedded PGlite is one session with no backends to kill: this one needs a real server.
  const realServer = EMBEDDED ? () => {} : it;
  realServer('tells the work when the lock connection dies, and the process lives on', async () => {
    const admin = new pg.Client({ connectionString: t.database.url });
    await admin.connect();
    try {
      const run = withSessionLock(t.app.config.databaseUrl, LOCKS.syncOrders, 2000, async (signal) => {
        // What a Postgres restart does to the lock holder's backend.
        await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = 2000`, [LOCKS.syncOrders]);
        for (let i = 0; i < 200 && !signal.aborted; i++) await new Promise((r) => setTimeout(r, 25));
        signal.throwIfAborted();
        return 'kept going without a lock';
      });
      await expect(run).rejects.toBeInstanceOf(RetryableError);
      // The key is free again for the next run.
      expect(await withSessionLock(t.app.config.databaseUrl, LOCKS.syncOrders, 2000, async () => 'ran')).toEqual({ locked: true, value: 'ran' });
    } finally {
      await admin.end();
    }
  });

  realServer('one run after another reuses a lock connection, and one that died while idle is replaced', async () => {
    const lockBackends = async () =>
      (await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'channelsync lock' ORDER BY pid`.execute(t.app.db)).rows.map((r) => r.pid);
    await withSessionLock(t.app.config.databaseUrl, LOCKS.channelPush, 3000, async () => 'first');
    const kept = await lockBackends();
    expect(kept.length).toBeGreaterThan(0);
    for (let i = 1; i <= 10; i++) expect(await withSessionLock(t.app.config.databaseUrl, LOCKS.channelPush, 3000 + i, async () => i)).toEqual({ locked: true, value: i });
    // Ten more runs, no new backend (a Postgres process forked for each, before).
    expect(await lockBackends()).toEqual(kept);

    // What a Postgres restart does to an idle one: the next run still gets its lock.
    await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'channelsync lock'`.execute(t.app.db);
    expect(await withSessionLock(t.app.config.databaseUrl, LOCKS.channelPush, 3100, async () => 'after')).toEqual({ locked: true, value: 'after' });
  });
});
