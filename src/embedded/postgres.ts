/**
 * An in-process Postgres (PGlite) served over the Postgres wire protocol on
 * 127.0.0.1, so Kysely, `pg`, the migrations and BullMQ's PostgreSQL backend
 * talk to it exactly as they talk to a real server.
 *
 * PGlite is a single session shared by every connection (see
 * `session-scheduler.ts` for how clients take turns). Two consequences shape
 * the rest of embedded mode:
 * - Session settings are shared: `search_path` is set once, here, to
 *   `public, bullmq` so our tables (created in `public`) and BullMQ's (in its
 *   `bullmq` schema, whose SQL uses unqualified names) both resolve. Startup
 *   options a client sends (`-c search_path=...`) are ignored by PGlite.
 * - One data folder belongs to one process: a lock file refuses a second one.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket';
import { SessionScheduler, type SchedulerLog } from './session-scheduler.ts';
import { isAlive } from '../net.ts';

/** The schemas every connection sees, in order: ours first, then BullMQ's. */
export const EMBEDDED_SEARCH_PATH = 'public, bullmq';

export interface EmbeddedPostgresOptions {
  /** Folder for the data; in memory when unset (tests). */
  dataDir?: string;
  /** Port on 127.0.0.1; default 0 (any free port). */
  port?: number;
  log?: SchedulerLog;
  /** Start from this `dumpDataDir()` tarball instead of an empty cluster (tests: a migrated template). */
  loadDataDir?: Blob;
}

export interface EmbeddedPostgres {
  /** A `postgres://` URL for `pg`, Kysely and BullMQ. */
  url: string;
  /** Absolute data folder, or null in memory. */
  dataDir: string | null;
  /** The data as a tarball (tests keep a migrated template this way). */
  dump(): Promise<Blob>;
  close(): Promise<void>;
}

export class EmbeddedDataInUseError extends Error {
  readonly code = 'EMBEDDED_DATA_IN_USE';
  constructor(dataDir: string, pid: number) {
    super(
      `the embedded database in ${dataDir} is in use by process ${pid}; ` +
        'embedded mode is for one process at a time (stop that one, or move to Postgres and Redis: set DATABASE_URL and REDIS_URL)',
    );
  }
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const dataDir = options.dataDir ? resolve(options.dataDir) : null;
  const releaseLock = dataDir ? lockDataDir(dataDir) : () => {};
  let db: PGlite | null = null;
  let server: Server | null = null;
  try {
    db = await PGlite.create({ dataDir: dataDir ?? undefined, loadDataDir: options.loadDataDir });
    await db.exec(`SET search_path TO ${EMBEDDED_SEARCH_PATH}`);
    const scheduler = new SessionScheduler(db, options.log);
    const handlers = new Set<PGLiteSocketHandler>();
    server = createServer((socket: Socket) => {
      // The handler frames messages (and answers SSL and cancel requests); the scheduler runs them.
      const handler = new PGLiteSocketHandler({ queryQueue: scheduler as never, closeOnDetach: true });
      handlers.add(handler);
      handler.addEventListener('close', () => handlers.delete(handler));
      handler.addEventListener('error', () => handlers.delete(handler));
      handler.attach(socket).catch(() => socket.destroy());
    });
    const listening = server;
    await new Promise<void>((ok, fail) => {
      listening.once('error', fail);
      listening.listen(options.port ?? 0, '127.0.0.1', () => ok());
    });
    const { port } = server.address() as { port: number };
    const pglite = db;
    let closing: Promise<void> | null = null;
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      dataDir,
      dump: () => pglite.dumpDataDir('none'),
      close() {
        closing ??= (async () => {
          await new Promise<void>((ok) => {
            listening.close(() => ok());
            for (const handler of handlers) void handler.detach(true).catch(() => {});
          });
          await pglite.close();
          releaseLock();
        })();
        return closing;
      },
    };
  } catch (err) {
    server?.close();
    await db?.close().catch(() => {});
    releaseLock();
    throw err;
  }
}

/** A pid file next to the data: two processes writing one PGlite folder would corrupt it. */
function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, '..', `${dataDir.split(/[\\/]/).pop()}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8'));
      if (pid && isAlive(pid)) throw new EmbeddedDataInUseError(dataDir, pid);
      rmSync(file, { force: true }); // left by a process that is gone
    }
  }
  throw new Error(`could not lock ${dataDir}`);
}

