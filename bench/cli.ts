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
import { atMost, sized } from './rows.ts';
import type { Scenario } from './types.ts';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/channelsync.js');

function medianMs(args: string[], env: Record<string, string>, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const r = spawnSync(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
    times.push(performance.now() - started);
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

async function run(quick: boolean) {
  const runs = sized('BENCH_CLI_RUNS', 7, 3, quick);
  // What `npm ci` leaves (prepare): dist/ matching the sources.
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'ignore' });
  const database = await createTestDatabase();
  try {
    const env = { DATABASE_URL: database.url, REDIS_URL, QUEUE_PREFIX: `bench-cli-${randomBytes(4).toString('hex')}`, CHANNELSYNC_SECRET_KEY: randomBytes(32).toString('hex') };
    const node = medianMs(['-e', '0'], {}, runs);
    const help = medianMs([BIN, '--help'], {}, runs);
    const helpFromSource = medianMs([BIN, '--help'], { CHANNELSYNC_FROM_SOURCE: '1' }, runs);
    const status = medianMs([BIN, 'status'], env, runs);
    const floorWhat = `node -e 0, median of ${runs}`;
    // Targets from the first-day issue: --help well under 0.5 s; status within a second with its I/O.
    // The ratio to `node -e 0` is shown; the targets are absolute.
    return [
      atMost({ figure: '--help start-up', value: help, floor: node, absMax: 500, unit: 'ms', floorWhat }),
      atMost({ figure: 'status start-up, empty database', value: status, floor: node, absMax: 1000, unit: 'ms', floorWhat }),
      atMost({ figure: '--help from the sources through tsx', value: helpFromSource, floor: node, unit: 'ms', floorWhat, note: 'after an edit, before npm run build' }),
    ];
  } finally {
    await database.drop();
  }
}

const scenario: Scenario = { id: 'cli', run: (ctx) => run(ctx.quick) };
export default scenario;
