/**
 * Which mode a process runs in, decided once at start:
 *
 * - **services**: Postgres and Redis, named by DATABASE_URL and REDIS_URL or
 *   found on their default local ports. Production.
 * - **embedded**: neither variable is set and nothing answers on the default
 *   ports (or `--embedded` was given). Postgres runs in-process (PGlite, data in
 *   a folder) and the queues live in it: nothing to install but Node.js. For
 *   trying channelsync and for small single-process use.
 *
 * The caller loads its config from `runtime.env` (in embedded mode
 * DATABASE_URL points at the in-process server) and hands `runtime.embedded`
 * to `createApp`/`startDaemon`, which then use Postgres for the queues too.
 */
import { relative } from 'node:path';
import { loadConfig } from '../config.ts';
import { ConfigError } from '../domain/errors.ts';
import { answers } from '../net.ts';
import type { EmbeddedPostgres } from './postgres.ts';
import type { SchedulerLog } from './session-scheduler.ts';

/** Where embedded data lives unless told otherwise. */
export const DEFAULT_DATA_DIR = '.channelsync/data';

export interface Runtime {
  mode: 'services' | 'embedded';
  /** Why this mode, for the start-up line. */
  reason: string;
  /** The environment to load the config from. */
  env: Record<string, string | undefined>;
  /** The in-process Postgres, in embedded mode. */
  embedded?: EmbeddedPostgres;
}

export interface RuntimeOptions {
  /** `--embedded`: run embedded whatever answers. */
  embedded?: boolean;
  /** Embedded data folder; default `.channelsync/data`. */
  dataDir?: string;
  /** How long a default port may take to accept a connection; default 1 s. */
  probeTimeoutMs?: number;
  log?: SchedulerLog;
  /** The addresses probed when the variables are unset; default the config's defaults (tests point them at closed ports). */
  probe?: { databaseUrl: string; redisUrl: string };
}

export async function resolveRuntime(env: Record<string, string | undefined>, options: RuntimeOptions = {}): Promise<Runtime> {
  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
  const set = (name: string) => Boolean(env[name]);
  if (env.CHANNELSYNC_EMBEDDED_URL) return attached(env, env.CHANNELSYNC_EMBEDDED_URL);
  if (options.embedded) return embedded(env, dataDir, '--embedded was given', options);
  if (set('DATABASE_URL') || set('REDIS_URL')) {
    const named = ['DATABASE_URL', 'REDIS_URL'].filter(set).join(' and ');
    return { mode: 'services', reason: `${named} ${named.includes(' and ') ? 'are' : 'is'} set`, env };
  }
  // Defaults come from the config, so a probe checks exactly what services mode would use.
  const probe = options.probe ?? loadConfig(env);
  const pgAt = hostPort(probe.databaseUrl, 5432);
  const redisAt = hostPort(probe.redisUrl, 6379);
  const timeout = options.probeTimeoutMs ?? 1_000;
  const [pgUp, redisUp] = await Promise.all([answers(pgAt, timeout), answers(redisAt, timeout)]);
  if (pgUp && redisUp) return { mode: 'services', reason: `Postgres answers on ${pgAt.label} and Redis on ${redisAt.label}`, env };
  if (!pgUp && !redisUp) {
    return embedded(env, dataDir, `DATABASE_URL and REDIS_URL are not set and nothing answers on ${pgAt.label} or ${redisAt.label}`, options);
  }
  const [up, down] = pgUp ? [`Postgres answers on ${pgAt.label}`, `Redis does not on ${redisAt.label}`] : [`Redis answers on ${redisAt.label}`, `Postgres does not on ${pgAt.label}`];
  throw new ConfigError(`${up} but ${down}: start it, set DATABASE_URL and REDIS_URL, or run embedded with --embedded`);
}

/** The start-up lines: which mode, why, and in embedded mode what it is for and how to leave it. */
export function describeRuntime(runtime: Runtime): string[] {
  if (runtime.mode === 'services') return [`channelsync: using Postgres and Redis (${runtime.reason})`];
  const dir = runtime.embedded?.dataDir;
  const shown = dir && !relative(process.cwd(), dir).startsWith('..') ? relative(process.cwd(), dir) : dir;
  const where = shown ? `data in ${shown}` : 'data in memory';
  return [
    `channelsync: running embedded (${runtime.reason}): Postgres in this process (PGlite, ${where}), queues in that Postgres, no Redis.`,
    'channelsync: embedded mode is for trying channelsync and for small single-process use. To move to Postgres and Redis: ' +
      'set DATABASE_URL and REDIS_URL, run "channelsync migrate", then start as before.',
  ];
}

async function embedded(env: Record<string, string | undefined>, dataDir: string, reason: string, options: RuntimeOptions): Promise<Runtime> {
  // PGlite loads only when embedded mode is chosen.
  const { startEmbeddedPostgres } = await import('./postgres.ts');
  const server = await startEmbeddedPostgres({ dataDir, log: options.log });
  return { mode: 'embedded', reason, env: { ...env, DATABASE_URL: server.url }, embedded: server };
}

/**
 * `CHANNELSYNC_EMBEDDED_URL`: the embedded Postgres another process serves
 * (the running demo writes it to .channelsync/demo.env). Queues are in that
 * Postgres as for any embedded run; that process owns the data and closes it.
 */
function attached(env: Record<string, string | undefined>, url: string): Runtime {
  const server: EmbeddedPostgres = {
    url,
    dataDir: null,
    dump: () => Promise.reject(new Error('the embedded Postgres belongs to another process: dump it there')),
    close: async () => {},
  };
  return { mode: 'embedded', reason: 'CHANNELSYNC_EMBEDDED_URL names the embedded Postgres another process serves', env: { ...env, DATABASE_URL: url }, embedded: server };
}

function hostPort(url: string, defaultPort: number): { host: string; port: number; label: string } {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(u.port) || defaultPort;
  return { host, port, label: `${u.hostname || host}:${port}` };
}

