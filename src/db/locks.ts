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
 * Lock connections kept open between runs, per database: a fulfilment push
 * takes a lock for a second or two, and a new connection each time was a
 * new Postgres backend each time (a fork and its start-up, on every push).
 * A connection goes back only after its lock was released cleanly; past
 * IDLE_PER_DATABASE it is closed. `closeLockConnections` closes them (app.close).
 */
const IDLE_PER_DATABASE = 4;
const idle = new Map<string, pg.Client[]>();

async function lockClient(databaseUrl: string, fresh: boolean): Promise<pg.Client> {
  const reused = fresh ? undefined : idle.get(databaseUrl)?.pop();
  if (reused) return reused;
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000, application_name: 'channelsync lock' });
  // Without a listener, a server restart would crash the process with an unhandled 'error' (idle or not).
  client.on('error', () => {});
  client.on('end', () => {
    const list = idle.get(databaseUrl);
    if (list?.includes(client)) list.splice(list.indexOf(client), 1);
  });
  await client.connect();
  return client;
}

/** Closes the idle lock connections to `databaseUrl`. */
export async function closeLockConnections(databaseUrl: string): Promise<void> {
  const list = idle.get(databaseUrl) ?? [];
  idle.delete(databaseUrl);
  await Promise.all(list.map((c) => c.end().catch(() => {})));
}

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
  const onError = (err: Error) => {
    if (!lost.signal.aborted) lost.abort(new RetryableError(`lost the database connection holding lock ${id}: ${err.message}`));
  };
  const onEnd = () => {
    if (!lost.signal.aborted) lost.abort(new RetryableError(`the database connection holding lock ${id} closed`));
  };
  let client: pg.Client | null = null;
  // Whether the connection holds no lock of ours and can serve the next run.
  let clean = false;
  try {
    let rows: Array<{ locked: boolean }> = [];
    // A kept connection may have died while idle (a Postgres restart): then once more on a new one.
    for (let fresh = !idle.get(databaseUrl)?.length; ; fresh = true) {
      client = await lockClient(databaseUrl, fresh);
      try {
        ({ rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [namespace, key]));
        break;
      } catch (err) {
        await client.end().catch(() => {});
        client = null;
        if (fresh) throw err;
      }
    }
    client.on('error', onError);
    client.on('end', onEnd);
    if (!rows[0]?.locked) {
      clean = true;
      return { locked: false };
    }
    try {
      return { locked: true, value: await work(lost.signal) };
    } finally {
      if (!lost.signal.aborted) {
        const { rows: unlocked } = await client.query<{ ok: boolean }>('SELECT pg_advisory_unlock($1, $2) AS ok', [namespace, key]).catch(() => ({ rows: [] as Array<{ ok: boolean }> }));
        clean = unlocked[0]?.ok === true;
      }
    }
  } finally {
    held.delete(id);
    const lostConnection = lost.signal.aborted;
    lost.abort(new RetryableError(`lock ${id} released`));
    if (client) {
      client.off('error', onError);
      client.off('end', onEnd);
      const list = idle.get(databaseUrl) ?? [];
      if (clean && !lostConnection && list.length < IDLE_PER_DATABASE) {
        list.push(client);
        idle.set(databaseUrl, list);
      } else {
        // Closing the connection releases the lock too, whatever happened above.
        await client.end().catch(() => {});
      }
    }
  }
}
