/**
 * Commands run beside a running demo see the demo's data: `channelsync
 * status` in the demo's folder, with nothing set, lists the demo's channels
 * (not "no channels yet") and says on stderr that it uses the demo; once the
 * demo stops, the file is gone and commands no longer use it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo, type DemoOptions } from '../src/demo.ts';
import { demoEnvPath, parseEnvFile, withDemoEnv } from '../src/demo-env.ts';
import { BIN, type CliResult } from './helpers/cli.ts';
import { createTestDatabase, REDIS_URL, testPrefix, type TestDatabase } from './helpers/services.ts';

type Started = Parameters<NonNullable<DemoOptions['onStarted']>>[0];

let folder: string;
let database: TestDatabase;
const redis = testPrefix();

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'cs-demo-env-'));
  database = await createTestDatabase();
});
afterAll(async () => {
  rmSync(folder, { recursive: true, force: true });
  await database?.drop();
  await redis.cleanup();
});

/** `channelsync <args>` in `cwd`, with nothing but PATH set, as a person in a second terminal. */
function cliIn(cwd: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the CLI beside a running demo', () => {
  it('uses the demo\'s database and key, says so, and stops using them when the demo stops', async () => {
    const stateDir = join(folder, '.channelsync');
    const env = { PATH: process.env.PATH, DATABASE_URL: database.url, REDIS_URL, QUEUE_PREFIX: redis.prefix, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' };
    let started: Started | undefined;
    const printed: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void printed.push(a.join(' '));
    let running: Promise<void>;
    try {
      running = runDemo({ ordersPerMinute: 0, stateDir, env, onStarted: (s) => (started = s) });
      while (!started) await new Promise((r) => setTimeout(r, 50));
    } finally {
      console.log = log;
    }

    // The demo printed the exact environment, with the key named by its file.
    const exported = printed.find((l) => l.trim().startsWith('export '))!;
    expect(exported).toContain(`DATABASE_URL=${database.url}`);
    expect(exported).toContain(`CHANNELSYNC_SECRET_KEY="$(cat ${join(stateDir, 'demo.key')})"`);
    const vars = parseEnvFile(readFileSync(demoEnvPath(stateDir), 'utf8'));
    expect(vars).toMatchObject({ DATABASE_URL: database.url, REDIS_URL, QUEUE_PREFIX: redis.prefix, CHANNELSYNC_SECRET_KEY: readFileSync(join(stateDir, 'demo.key'), 'utf8').trim() });

    const beside = await cliIn(folder, ['status']);
    expect(beside.stderr).toMatch(/using the running demo's data \(pid \d+/);
    expect(beside.stdout).toMatch(/demo-shopify/);
    expect(beside.stdout).toMatch(/demo-woocommerce/);
    expect(beside.code).toBe(0);

    started!.stop();
    await running!;
    expect(existsSync(demoEnvPath(stateDir))).toBe(false);
  });

  it('ignores a file left by a demo that is gone, and never overrides what is set', async () => {
    const stateDir = join(folder, 'stale');
    mkdirSync(stateDir);
    // pid 2^22 + 1 is above Linux's pid_max default range: no such process.
    writeFileSync(demoEnvPath(stateDir), `CHANNELSYNC_DEMO_PID=4194305\nDATABASE_URL=${database.url}\nCHANNELSYNC_SECRET_KEY=abc\n`);
    expect((await withDemoEnv({}, stateDir)).note).toBeUndefined();
    writeFileSync(demoEnvPath(stateDir), `CHANNELSYNC_DEMO_PID=${process.pid}\nDATABASE_URL=${database.url}\nCHANNELSYNC_SECRET_KEY=abc\n`);
    expect((await withDemoEnv({}, stateDir)).env.DATABASE_URL).toBe(database.url);
    expect((await withDemoEnv({ DATABASE_URL: 'postgres://mine/db' }, stateDir)).env.DATABASE_URL).toBe('postgres://mine/db');
  });
});
