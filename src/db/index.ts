/**
 * Connecting to Postgres, creating the database when missing, and running the
 * migrations. One pool per process; Kysely on top of `pg`.
 */
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, type Migration, type MigrationProvider, type Transaction } from 'kysely';
import type { Database } from './schema.ts';
import * as m0001 from './migrations/0001_initial.ts';
import * as m0002 from './migrations/0002_fulfilment.ts';
import * as m0003 from './migrations/0003_stock.ts';
import * as m0005 from './migrations/0005_shared_state.ts';
import * as m0006 from './migrations/0006_returns.ts';
import * as m0007 from './migrations/0007_budget_tickets.ts';
import * as m0008 from './migrations/0008_job_failures.ts';
import * as m0009 from './migrations/0009_stock_outbox.ts';
import * as m0010 from './migrations/0010_opening_balance.ts';
import * as m0011 from './migrations/0011_sync_caught_up.ts';
import * as m0012 from './migrations/0012_budget_leases.ts';
import * as m0013 from './migrations/0013_rejected_orders.ts';
import * as m0014 from './migrations/0014_credential_key_id.ts';
import * as m0015 from './migrations/0015_customer_messages.ts';
import * as m0017 from './migrations/0017_refunds.ts';
import * as m0019 from './migrations/0019_console_indexes.ts';
import * as m0020 from './migrations/0020_stock_submissions.ts';
import * as m0021 from './migrations/0021_channel_pause.ts';
import * as m0022 from './migrations/0022_cancel_requests.ts';

// int8 (bigint ids, counts) as JS numbers: ids stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Db = Kysely<Database>;
/** A transaction: functions that write one change and what it owes take this, never a `Db`. */
export type Trx = Transaction<Database>;

/** Migrations in order; a new file is added here (no directory scanning, so bundling and tsx agree). */
const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_fulfilment': m0002,
  '0003_stock': m0003,
  '0005_shared_state': m0005,
  '0006_returns': m0006,
  '0007_budget_tickets': m0007,
  '0008_job_failures': m0008,
  '0009_stock_outbox': m0009,
  '0010_opening_balance': m0010,
  '0011_sync_caught_up': m0011,
  '0012_budget_leases': m0012,
  '0013_rejected_orders': m0013,
  '0014_credential_key_id': m0014,
  '0015_customer_messages': m0015,
  '0017_refunds': m0017,
  '0019_console_indexes': m0019,
  '0020_stock_submissions': m0020,
  '0021_channel_pause': m0021,
  '0022_cancel_requests': m0022,
};

/** Every migration's name, in order (tests check a cached template has them all). */
export const MIGRATION_NAMES: readonly string[] = Object.keys(MIGRATIONS);

class StaticMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

export interface DbOptions {
  /** Pool size; default 10. */
  max?: number;
}

export function createDb(databaseUrl: string, options: DbOptions = {}): Db {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    // Also the longest a query waits for a free pooled connection: a burst (a reconcile's
    // channels in parallel, many jobs at once) queues here rather than failing.
    connectionTimeoutMillis: 30_000,
  });
  // An idle client losing its connection (server restart) must not crash the daemon.
  pool.on('error', () => {});
  // Nor one that is checked out between two statements (a transaction, a job between queries): pg
  // emits the server's "terminating connection" on the client itself, where the pool listens only
  // while it is idle, and an 'error' with no listener kills the process. The statement that uses the
  // client next fails (retried like any database error), and the pool drops the client on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** Creates the database named in the URL when it does not exist (needs CREATEDB on the server). */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) return false;
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    } catch (err) {
      // Another process created it between our check and our create.
      if ((err as { code?: string }).code !== '42P04') throw err;
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}

export interface MigrationReport {
  applied: string[];
}

/** Applies pending migrations; safe to run concurrently and repeatedly (Kysely takes a lock). */
export async function migrate(db: Db): Promise<MigrationReport> {
  // Issues land in any order: a migration named before an applied one still runs.
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider(), allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    const what = failed ? `migration ${failed.migrationName} failed` : 'migrations failed';
    throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
