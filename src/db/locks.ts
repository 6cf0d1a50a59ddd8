/**
 * "One at a time" across processes: a session advisory lock, held for as long
 * as the work runs, on a connection of its own, outside the pool. The work
 * itself uses the pool like any other code, one short transaction at a time.
 *
 * Why not a pooled connection: a sync or a reconcile holds its lock for
 * minutes while it waits on the channel. Pinning a pooled connection per
 * channel starved the pool (20 channels, a pool of 14: every query of the
 * daemon queued behind idle lock holders). A lock connection costs one
 * Postgres backend per running sync or reconcile, and nothing else.
 *
 * When the lock's connection dies (a Postgres restart), the lock is gone: the
 * error is caught (no crash) and `signal` aborts with a `RetryableError`, so
 * the work stops at its next check instead of running on unguarded.
 *
 * In embedded mode every connection shares PGlite's one session, where
 * advisory locks are re-entrant, so the same key is also guarded within the
 * process.
 */
import pg from 'pg';
import { RetryableError } from '../domain/errors.ts';

/** Advisory lock namespaces (the second key is the channel id; for `channelPush`, the push row's id). */
export const LOCKS = { syncOrders: 7_301, reconcileStock: 7_304, channelPush: 7_305 } as const;

const heldHere = new Map<string, Set<string>>();

/**
 * Runs `work` while holding lock (namespace, key) on a dedicated connection
 * to `databaseUrl`, or returns `{ locked: false }` at once when another run
 * holds it, here or elsewhere. `signal` aborts if the lock is lost.
 */
export async function withSessionLock<T>(
  databaseUrl: string,
  namespace: number,
  key: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<{ locked: true; value: T } | { locked: false }> {
  const held = heldHere.get(databaseUrl) ?? new Set<string>();
  heldHere.set(databaseUrl, held);
  const id = `${namespace}:${key}`;
  if (held.has(id)) return { locked: false };
  held.add(id);
  const lost = new AbortController();
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000, application_name: `channelsync lock ${id}` });
  // Without a listener, a server restart would crash the process with an unhandled 'error'.
  client.on('error', (err) => {
    if (!lost.signal.aborted) lost.abort(new RetryableError(`lost the database connection holding lock ${id}: ${err.message}`));
  });
  client.on('end', () => {
    if (!lost.signal.aborted) lost.abort(new RetryableError(`the database connection holding lock ${id} closed`));
  });
  try {
    await client.connect();
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [namespace, key]);
    if (!rows[0]?.locked) return { locked: false };
    try {
      return { locked: true, value: await work(lost.signal) };
    } finally {
      if (!lost.signal.aborted) await client.query('SELECT pg_advisory_unlock($1, $2)', [namespace, key]).catch(() => {});
    }
  } finally {
    held.delete(id);
    // Closing the connection releases the lock too, whatever happened above.
    lost.abort(new RetryableError(`lock ${id} released`));
    await client.end().catch(() => {});
  }
}
