/**
 * `channelsync simulate` as a person uses it: start a simulator, paste the
 * command it prints, pull its orders.
 */
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { BIN, runCli } from '../helpers/cli.ts';

const exec = promisify(execFile);
let t: TestApp;
const children: Array<ReturnType<typeof spawn>> = [];

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await t?.close();
});

function startSimulator(kind: string, args: string[], cwd: string): Promise<string> {
  const child = spawn(process.execPath, [BIN, 'simulate', kind, ...args], { cwd, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' } });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n  channelsync channels add') && out.endsWith('\n')) resolve(out);
    });
    child.on('exit', (code) => reject(new Error(`simulator exited ${code}: ${out}`)));
    setTimeout(() => reject(new Error(`no instructions in 20 s: ${out}`)), 20_000);
  });
}

describe('channelsync simulate', () => {
  it.each(['shopify', 'woocommerce'])('prints a channels add command that works as pasted (%s)', async (kind) => {
    const cwd = mkdtempSync(`${tmpdir()}/cs-sim-`);
    const printed = await startSimulator(kind, ['--orders', '7'], cwd);
    const command = printed.split('\n').find((l) => l.trim().startsWith('channelsync channels add'))!.trim();
    // The person pastes it into a shell, in the folder the simulator ran in.
    const { stdout } = await exec('bash', ['-c', command.replace(/^channelsync/, `"${process.execPath}" "${BIN}"`)], { cwd, env: { PATH: process.env.PATH ?? '', ...t.env } });
    expect(stdout).toMatch(new RegExp(`added channel \\d+ \\(${kind} "sim-${kind}"\\)`));
    const sync = await runCli(['sync', `sim-${kind}`], t.env, 60_000);
    expect(sync.stderr).toBe('');
    expect(sync.stdout).toMatch(/7 new, 0 updated/);
  });

  it('prints its connection as one JSON line for scripts', async () => {
    const child = spawn(process.execPath, [BIN, 'simulate', 'woocommerce', '--json', '--latency', '5'], { env: { PATH: process.env.PATH ?? '' } });
    children.push(child);
    const line = await new Promise<string>((resolve) => child.stdout.once('data', (d) => resolve(String(d))));
    const parsed = JSON.parse(line);
    expect(parsed).toMatchObject({ kind: 'woocommerce', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    expect(Object.keys(parsed.credentials).sort()).toEqual(['consumerKey', 'consumerSecret', 'webhookSecret']);
  });
});
