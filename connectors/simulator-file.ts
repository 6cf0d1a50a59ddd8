/**
 * Keeps a simulator's store in a JSON file, so a restarted demo finds the
 * same shop: its products, stock, orders and, above all, its id sequences. A
 * store that numbered orders from 1 again would hand out ids the daemon has
 * already saved, and the daemon would take a new order for an update of an
 * old, unrelated one.
 *
 * The file is written whole, to a temporary name then renamed over the old
 * one (atomic on POSIX), every `everyMs` and on close; a crash loses at most
 * the last interval. A snapshot not written by `close` is marked unclean:
 * the ids handed out after it are unknown, so the simulator that loads it
 * moves its counters past a margin (see the simulators' `restore`).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** What a simulator's snapshot is wrapped in on disk. */
export interface SimulatorFile<T> {
  /** The simulator kind that wrote it; a file of another kind is refused. */
  kind: string;
  /** Written by `close` (no id can have been handed out after it). */
  clean: boolean;
  state: T;
}

// Maps and Sets survive JSON as tagged arrays; the stores are built of them.
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Map) return { $map: [...value.entries()] };
  if (value instanceof Set) return { $set: [...value.values()] };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as { $map?: unknown[]; $set?: unknown[] };
    if (Array.isArray(v.$map) && Object.keys(v).length === 1) return new Map(v.$map as Array<[unknown, unknown]>);
    if (Array.isArray(v.$set) && Object.keys(v).length === 1) return new Set(v.$set);
  }
  return value;
}

/**
 * Reads a simulator's file: null when there is none. Throws (naming the file
 * and the way out) when it is unreadable or of another kind, rather than
 * start an empty store that would reuse ids.
 */
export function loadSimulatorFile<T>(path: string, kind: string): SimulatorFile<T> | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let parsed: SimulatorFile<T>;
  try {
    parsed = JSON.parse(text, reviver) as SimulatorFile<T>;
  } catch (err) {
    throw new Error(`simulator state ${path} is not valid JSON (${(err as Error).message}): move it away to start an empty store`);
  }
  if (parsed?.kind !== kind || typeof parsed.state !== 'object') {
    throw new Error(`simulator state ${path} is not a ${kind} store (kind ${JSON.stringify(parsed?.kind)}): move it away to start an empty store`);
  }
  return parsed;
}

/** Writes the file atomically (temporary file, then rename), mode 0600: it holds customers' addresses. */
export function saveSimulatorFile<T>(path: string, file: SimulatorFile<T>): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(file, replacer), { mode: 0o600 });
  renameSync(tmp, path);
}

/** A running persistence: saves every `everyMs` (unclean) until `close()`, which saves clean. */
export interface SimulatorPersistence {
  /** Saves now, clean (call after the server stopped taking requests). */
  close(): void;
}

/**
 * Starts saving `snapshot()` to `path` every `everyMs` (default 1 s). The
 * timer does not keep the process alive.
 */
export function persistSimulator<T>(path: string, kind: string, snapshot: () => T, everyMs = 1_000): SimulatorPersistence {
  const save = (clean: boolean) => saveSimulatorFile(path, { kind, clean, state: snapshot() });
  save(false);
  const timer = setInterval(() => {
    try {
      save(false);
    } catch {
      // A full disk or a removed folder: the next tick tries again, and close() reports it.
    }
  }, everyMs);
  timer.unref();
  let closed = false;
  return {
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      save(true);
    },
  };
}
