/**
 * "One at a time" across processes: a session advisory lock held on one pooled
 * connection for as long as the work runs (released when it ends, or when the
 * process dies and its connection closes). In embedded mode every connection
 * shares PGlite's one session, where advisory locks are re-entrant, so the
 * same key is also guarded within the process.
 */
import { sql } from 'kysely';
import type { Db } from './index.ts';

/** Advisory lock namespaces (the second key is the channel id). */
export const LOCKS = { syncOrders: 7_301, reconcileStock: 7_304 } as const;

const heldHere = new WeakMap<Db, Set<string>>();

/**
 * Runs `work` on a connection holding lock (namespace, key), or returns
 * `{ locked: false }` at once when another run holds it, here or elsewhere.
 */
export async function withSessionLock<T>(
  db: Db,
  namespace: number,
  key: number,
  work: (conn: Db) => Promise<T>,
): Promise<{ locked: true; value: T } | { locked: false }> {
  const held = heldHere.get(db) ?? new Set<string>();
  heldHere.set(db, held);
  const id = `${namespace}:${key}`;
  if (held.has(id)) return { locked: false };
  held.add(id);
  try {
    return await db.connection().execute(async (conn) => {
      const { rows } = await sql<{ locked: boolean }>`SELECT pg_try_advisory_lock(${namespace}, ${key}) AS locked`.execute(conn);
      if (!rows[0]?.locked) return { locked: false as const };
      try {
        return { locked: true as const, value: await work(conn) };
      } finally {
        await sql`SELECT pg_advisory_unlock(${namespace}, ${key})`.execute(conn);
      }
    });
  } finally {
    held.delete(id);
  }
}
