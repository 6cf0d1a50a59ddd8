/**
 * The running demo's environment, so that commands run beside it use the
 * demo's data: `npm run demo` writes `.channelsync/demo.env` while it runs
 * (the exact variables: database, Redis, queue prefix, secret key, or the
 * embedded Postgres it serves) and removes it when it stops. A command with
 * no DATABASE_URL and no CHANNELSYNC_SECRET_KEY of its own, run where that
 * file is, uses it if the demo that wrote it still answers, and says so.
 *
 * Light on purpose (node built-ins only): src/cli.ts imports it at start-up.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { answers as tcpAnswers, isAlive } from './net.ts';

/** Where the demo writes its environment, under its state folder (default `.channelsync`). */
export function demoEnvPath(stateDir = '.channelsync'): string {
  return join(stateDir, 'demo.env');
}

/** The variables a command needs to work on the demo's data, in file order. */
export type DemoEnv = Record<string, string>;

/** Writes the file (mode 0600: it holds the secret key); `pid` is the demo's process. */
export function writeDemoEnv(stateDir: string, vars: DemoEnv, pid = process.pid): string {
  const file = demoEnvPath(stateDir);
  const lines = [
    `# Written by the running channelsync demo (pid ${pid}); removed when it stops.`,
    '# Commands run in this folder use it by themselves; elsewhere: set -a; . <this file>; set +a',
    `CHANNELSYNC_DEMO_PID=${pid}`,
    ...Object.entries(vars).map(([k, v]) => `${k}=${shellValue(v)}`),
  ];
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return file;
}

export function removeDemoEnv(stateDir: string): void {
  rmSync(demoEnvPath(stateDir), { force: true });
}

/**
 * The environment to run a command with: `env` itself, or, when it names no
 * database and no secret key and a live demo's file is there, `env` plus the
 * demo's variables and a note for stderr.
 */
export async function withDemoEnv(
  env: Record<string, string | undefined>,
  stateDir = '.channelsync',
): Promise<{ env: Record<string, string | undefined>; note?: string }> {
  if (env.DATABASE_URL || env.CHANNELSYNC_SECRET_KEY || env.CHANNELSYNC_EMBEDDED_URL) return { env };
  const file = demoEnvPath(stateDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { env };
  }
  const vars = parseEnvFile(text);
  const pid = Number(vars.CHANNELSYNC_DEMO_PID);
  const database = vars.CHANNELSYNC_EMBEDDED_URL ?? vars.DATABASE_URL;
  // A file left by a demo that was killed: its data may be elsewhere now, so do not guess.
  if (!pid || !isAlive(pid) || !database || !(await answersAt(database))) return { env };
  const { CHANNELSYNC_DEMO_PID: _pid, ...rest } = vars;
  return { env: { ...env, ...rest }, note: `channelsync: using the running demo's data (pid ${pid}, from ${file})` };
}

/** KEY=value lines as `writeDemoEnv` writes them (values single-quoted when needed). */
export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    const raw = m[2]!;
    vars[m[1]!] = raw.startsWith("'") && raw.endsWith("'") ? raw.slice(1, -1).replace(/'\\''/g, "'") : raw;
  }
  return vars;
}

function shellValue(v: string): string {
  return /^[\w@%+=:,./-]*$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

function answersAt(url: string, timeoutMs = 1_000): Promise<boolean> {
  const u = new URL(url);
  return tcpAnswers({ host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(u.port) || 5432 }, timeoutMs);
}
