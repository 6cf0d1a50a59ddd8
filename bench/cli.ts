/**
 * CLI start-up: `channelsync --help` and `channelsync status` (against an
 * empty database, so it is nearly all start-up) as a user runs them,
 * `node bin/channelsync.js ...` after `npm ci` (which builds dist/), against
 * `node -e 0` in the same run. Median of several runs each.
 * Targets: --help well under 0.5 s; status within a second plus its I/O.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createTestDatabase, REDIS_URL } from '../test/helpers/services.ts';
import type { BenchResult } from './types.ts';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/channelsync.js');
const RUNS = 7;

function medianMs(args: string[], env: Record<string, string>): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const r = spawnSync(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
    times.push(performance.now() - started);
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

export default async function run(): Promise<BenchResult[]> {
  // What `npm ci` leaves (prepare): dist/ matching the sources.
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'ignore' });
  const database = await createTestDatabase();
  try {
    const env = { DATABASE_URL: database.url, REDIS_URL, QUEUE_PREFIX: `bench-cli-${randomBytes(4).toString('hex')}`, CHANNELSYNC_SECRET_KEY: randomBytes(32).toString('hex') };
    const node = medianMs(['-e', '0'], {});
    const help = medianMs([BIN, '--help'], {});
    const helpFromSource = medianMs([BIN, '--help'], { CHANNELSYNC_FROM_SOURCE: '1' });
    const status = medianMs([BIN, 'status'], env);
    const note = `node -e 0 = ${node.toFixed(0)} ms; median of ${RUNS}`;
    return [
      { name: '--help (ms)', value: help, baseline: node, unit: 'ms', note: `${note}; target well under 500 ms` },
      { name: '--help from the sources through tsx (ms)', value: helpFromSource, baseline: node, unit: 'ms', note: `${note}; after an edit, before npm run build` },
      { name: 'status, empty database (ms)', value: status, baseline: node, unit: 'ms', note: `${note}; target about 1 s with its I/O` },
    ];
  } finally {
    await database.drop();
  }
}
