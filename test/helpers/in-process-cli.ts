/** Runs CLI command groups in this process against a test app, capturing what they print. */
import { Command } from 'commander';
import { vi } from 'vitest';
import type { App } from '../../src/app.ts';

export type Register = (program: Command, withApp: (fn: (app: App) => Promise<void>) => Promise<void>) => void;

export async function runInProcess(app: App, register: Register, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
  register(program, (fn) => fn(app));
  let stdout = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void (stdout += `${parts.join(' ')}\n`));
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  try {
    await program.parseAsync(['node', 'channelsync', ...args]);
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    return { code: 2, stdout, stderr: `channelsync: ${(err as Error).message}\n` };
  } finally {
    log.mockRestore();
    write.mockRestore();
  }
}
