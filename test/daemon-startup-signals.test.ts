/**
 * A supervisor may stop the daemon at any moment, also while it starts:
 * SIGTERM right after spawn, while modules load, during migrations, just
 * before it listens, or once it runs, always exits 0, and leaves no process
 * behind (`node bin/channelsync.js start` is the daemon itself: no child).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from './helpers/cli.ts';
import { PG_URL, daemonEnv, testPrefix } from './helpers/services.ts';

const redis = testPrefix();
const databases: string[] = [];

afterAll(async () => {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  for (const name of databases) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await client.end();
  await redis.cleanup();
});

/**
 * Output that marks the moment to signal; null: as soon as the process runs
 * its first lines (bin/channelsync.js), while the modules load. Before node
 * runs any JavaScript (~50 ms after exec) no handler can exist yet.
 */
const MOMENTS: Array<[string, string | null]> = [
  ['right after spawn', null],
  ['once the modules are loaded, before connecting', 'channelsync: using Postgres and Redis'],
  ['during migrations (the database was just created)', '"created database"'],
  ['after migrations, before the workers start and it listens', '"applied migrations"'],
  ['once it runs', 'channelsync daemon started'],
];

describe('SIGTERM during start-up', () => {
  it.each(MOMENTS)('%s: exits 0, nothing left running', async (_moment, marker) => {
    // A database that does not exist yet: start-up creates it and runs every migration.
    const database = `cs_test_start_${randomBytes(5).toString('hex')}`;
    databases.push(database);
    const url = new URL(PG_URL);
    url.pathname = `/${database}`;
    const child = spawn(process.execPath, [BIN, 'start'], {
      env: { PATH: process.env.PATH ?? '', ...daemonEnv(url.toString(), redis.prefix) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      if (marker) {
        await new Promise<void>((resolve, reject) => {
          const onData = (d: Buffer) => {
            output += d;
            if (output.includes(marker)) resolve();
          };
          child.stdout.on('data', onData);
          child.stderr.on('data', onData);
          child.on('exit', () => reject(new Error(`exited before "${marker}":\n${output}`)));
        });
        // The daemon is this one process: a supervisor's signal reaches all of it.
        expect(childrenOf(child.pid!)).toEqual([]);
      } else {
        await catchesSigterm(child.pid!);
      }
      child.kill('SIGTERM');
      const result = await exited;
      expect({ ...result, output: result.code === 0 ? '' : output }).toEqual({ code: 0, signal: null, output: '' });
      expect(childrenOf(child.pid!)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

/**
 * Waits for the first line bin/channelsync.js runs for `start`: its early
 * signal handlers, set together with the process title (Linux /proc).
 */
async function catchesSigterm(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('channelsync daemon')) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error('the process never set its title');
}

function childrenOf(pid: number): string[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return []; // ps exits 1 when there are none
  }
}
