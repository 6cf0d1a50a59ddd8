/** A process-local SharedKV for benches whose connectors run without Redis (nothing is shared across processes). */
import type { SharedKV } from '../src/queue/shared-state.ts';

export function memoryKV(): SharedKV {
  const m = new Map<string, string>();
  return {
    get: async (k) => m.get(k) ?? null,
    set: async (k, v) => void m.set(k, v),
    del: async (k) => void m.delete(k),
    incr: async (k, by) => {
      const next = Number(m.get(k) ?? 0) + by;
      m.set(k, String(next));
      return next;
    },
  };
}
