/**
 * The parent side of ./sim-host.ts: start simulators in a child process and
 * call their methods.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { SimulatorOptions } from '../connectors/types.ts';

const ROOT = join(import.meta.dirname, '..');

export interface StoreConfig {
  kind: string;
  url: string;
  settings: Record<string, unknown>;
  credentials: Record<string, unknown>;
}

export interface SimProcess {
  stores: Record<string, StoreConfig>;
  /** Calls a simulator method (or one of sim-host's extras) on the named store. */
  call<T = unknown>(store: string, method: string, ...args: unknown[]): Promise<T>;
  /** The host's process id (its memory is not the measured code's). */
  pid: number;
  stop(): void;
}

export async function startSimulators(stores: Array<{ name: string; kind: string; orders?: number; rateLimit?: SimulatorOptions['rateLimit']; options?: Record<string, unknown> }>): Promise<SimProcess> {
  // BENCH_SIM_PROFILE=<dir>: a CPU profile of the simulators' process, written when it stops (as in woocommerce-pull.ts).
  const profile = process.env.BENCH_SIM_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SIM_PROFILE}`] : [];
  const child: ChildProcess = spawn(process.execPath, ['--max-old-space-size=8192', ...profile, join(ROOT, 'bin/run-ts.js'), join(ROOT, 'bench/sim-host.ts')], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_SIM_STORES: JSON.stringify(stores) },
  });
  let next = 0;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const ready = await new Promise<Record<string, StoreConfig>>((resolve, reject) => {
    child.on('message', (m: { ready?: Record<string, StoreConfig>; id?: number; result?: unknown; error?: string }) => {
      if (m.ready) return resolve(m.ready);
      const w = waiting.get(m.id!);
      waiting.delete(m.id!);
      if (m.error !== undefined) w?.reject(new Error(m.error));
      else w?.resolve(m.result);
    });
    child.on('exit', (code) => {
      const err = new Error(`simulator host exited ${code}`);
      reject(err);
      for (const w of waiting.values()) w.reject(err);
    });
  });
  return {
    stores: ready,
    pid: child.pid!,
    call<T>(store: string, method: string, ...args: unknown[]) {
      const id = ++next;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, store, method, args });
      });
    },
    stop() {
      child.disconnect?.();
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    },
  };
}
