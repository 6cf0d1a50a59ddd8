/**
 * Orders that change while they are pulled (tests and the bench): a buyer
 * asks to cancel, Amazon cancels, or the order is updated, each on an order
 * the running pull has already read, so its read copy is stale at once and
 * only a later pull (its `LastUpdatedAfter` window) can bring the latest
 * version. "Already read": getOrders lists by LastUpdateDate, oldest first,
 * and the pull asks getOrderItems for each order in that order, so after r
 * answered getOrderItems calls the r oldest orders are read. The k-th change
 * waits for r > k * every and changes the (k * every)-th oldest order, each
 * order at most once. `finish()` makes the changes still owed, so their
 * number is known before the next pull.
 */
import type { AmazonSimulator } from './index.ts';

export interface Churn {
  /** Changes made so far while the pull ran. */
  readonly made: number;
  /** Stops watching and makes the remaining changes; resolves to the ids changed. */
  finish(): Promise<string[]>;
}

export function churnWhilePulling(sim: AmazonSimulator, options: { changes: number; every: number; pollMs?: number }): Churn {
  const ids = [...sim.server.state.orders.values()].sort((a, b) => (a.LastUpdateDate < b.LastUpdateDate ? -1 : 1)).map((o) => o.AmazonOrderId);
  if (options.changes * options.every > ids.length) throw new RangeError(`${options.changes} changes every ${options.every} orders need ${options.changes * options.every} orders, the simulator has ${ids.length}`);
  const calls = sim.server.calls;
  let scanned = calls.length;
  let read = 0;
  let made = 0;
  const changed: string[] = [];
  const change = async (k: number) => {
    const id = ids[k * options.every]!;
    if (k % 3 === 0) await sim.touchOrder(id);
    else if (k % 3 === 1) await sim.requestCancel(id, 'Changed my mind');
    else await sim.cancelOrder(id);
    changed.push(id);
  };
  let busy = Promise.resolve();
  const timer = setInterval(() => {
    busy = busy.then(async () => {
      for (; scanned < calls.length; scanned++) if (calls[scanned]!.op === 'getOrderItems' && calls[scanned]!.status === 200) read++;
      while (made < options.changes && read > made * options.every) await change(made++);
    });
  }, options.pollMs ?? 5);
  return {
    get made() {
      return made;
    },
    async finish() {
      clearInterval(timer);
      await busy;
      while (made < options.changes) await change(made++);
      return changed;
    },
  };
}
