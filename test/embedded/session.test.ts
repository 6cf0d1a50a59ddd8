/** Many `pg` clients on PGlite's one session: exchanges and transactions stay whole, NOTIFY reaches listeners. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/embedded/postgres.ts';

let server: EmbeddedPostgres;
const clients: pg.Client[] = [];
async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: server.url });
  c.on('error', () => {});
  await c.connect();
  clients.push(c);
  return c;
}

beforeAll(async () => {
  server = await startEmbeddedPostgres();
  await (await client()).query('CREATE TABLE t (id int PRIMARY KEY, v text)');
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => {})));
  await server?.close();
});

describe('embedded Postgres over the wire', () => {
  it('keeps each client’s parameterised statements apart under concurrency', async () => {
    const all = await Promise.all(Array.from({ length: 6 }, () => client()));
    let wrong = 0;
    await Promise.all(
      all.map(async (c, n) => {
        for (let i = 0; i < 100; i++) {
          // Unnamed statements with different shapes: a client binding another's statement would fail or answer wrong.
          const { rows } = i % 2
            ? await c.query('SELECT $1::text AS v, $2::int AS n', [`${n}-${i}`, i])
            : await c.query('SELECT $1::int AS n, $2::text AS v, 1 AS x', [i, `${n}-${i}`]);
          if (rows[0].v !== `${n}-${i}`) wrong += 1;
        }
      }),
    );
    expect(wrong).toBe(0);
  });

  it('runs a transaction without other clients in between, and hides it until commit', async () => {
    const [a, b] = [await client(), await client()];
    await a.query('BEGIN');
    await a.query(`INSERT INTO t VALUES (1, 'a')`);
    let seen: number | null = null;
    const reading = b.query('SELECT count(*)::int AS n FROM t').then((r) => (seen = r.rows[0].n));
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toBeNull(); // waits for the transaction to end
    await a.query('ROLLBACK');
    await reading;
    expect(seen).toBe(0);
  });

  it('rolls back the transaction of a client that disconnects in the middle', async () => {
    const [a, b] = [await client(), await client()];
    await a.query('BEGIN');
    await a.query(`INSERT INTO t VALUES (2, 'lost')`);
    (a as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const { rows } = await b.query('SELECT count(*)::int AS n FROM t WHERE id = 2');
    expect(rows[0].n).toBe(0);
  });

  it('delivers NOTIFY to the client that listens, not only to the one that notified', async () => {
    const [listener, notifier] = [await client(), await client()];
    const heard = new Promise<pg.Notification>((resolve) => listener.on('notification', resolve));
    await listener.query('LISTEN jobs');
    await notifier.query(`NOTIFY jobs, 'sync-orders'`);
    const message = await Promise.race([heard, new Promise<null>((r) => setTimeout(() => r(null), 2_000))]);
    expect(message).toMatchObject({ channel: 'jobs', payload: 'sync-orders' });
  });

  it('resolves our tables and BullMQ’s through one search path', async () => {
    const { rows } = await (await client()).query('SHOW search_path');
    expect(rows[0].search_path).toBe('public, bullmq');
  });
});
