/**
 * Postgres ending a connection the pool has lent out (a server restart or
 * failover sends every backend "terminating connection due to administrator
 * command") fails the statement that uses it, not the process. Found by the
 * chaos run: a Postgres restart killed a daemon with an unhandled 'error'
 * event from a pg client in the middle of a transaction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pg from 'pg';
import { createDb, type Db } from '../src/db/index.ts';
import { createTestDatabase, type TestDatabase } from './helpers/services.ts';

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { max: 2 });
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

describe('a pooled connection ended by the server mid-transaction', () => {
  it('fails that transaction, keeps the process, and the pool serves the next one', async () => {
    const killer = new pg.Client({ connectionString: database.url });
    await killer.connect();
    try {
      const attempt = db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
        // Between two statements, the client is lent out and not querying: the error arrives on the client itself.
        await killer.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        await new Promise((r) => setTimeout(r, 300));
        await sql`SELECT 1`.execute(trx);
      });
      await expect(attempt).rejects.toThrow();
    } finally {
      await killer.end();
    }
    // Vitest fails the file on an unhandled 'error' event; getting here with a working pool is the point.
    const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(db);
    expect(rows[0]!.one).toBe(1);
  });
});
