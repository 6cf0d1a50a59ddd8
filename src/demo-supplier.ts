/**
 * The demo's supplier (and the merchant's buyer): without one, backorders
 * pile up in draft purchase orders that nobody sends, stock never comes back
 * and, a few minutes in, nothing ships. Every tick it
 * - sends each draft stock purchase order that has waited `sendAfterMs`
 *   (the buyer's review), topped up per SKU with `topUp` units to keep on the
 *   shelf, the supplier confirming delivery `leadTimeMs` later;
 * - receives each sent order once its delivery date has passed, through
 *   `receivePurchaseOrder`, the function behind `channelsync po receive`:
 *   the goods are booked in and waiting backorders allocated, oldest first.
 * It only ever works on purchase orders, through the same domain functions a
 * person uses, so what the demo shows is what the product does.
 */
import { sql } from 'kysely';
import type { App } from './app.ts';
import { receivePurchaseOrder, sendPurchaseOrder } from './fulfilment/purchasing.ts';

export interface DemoSupplierOptions {
  /** How long a draft waits before it is sent. */
  sendAfterMs: number;
  /** From sending to delivery. */
  leadTimeMs: number;
  /** Extra units ordered per SKU on each purchase order (by SKU text); default 0. */
  topUp?: (sku: string) => number;
  /** Time between two looks at the purchase orders; default 1 s. */
  tickMs?: number;
  /** Told of each send and receipt (the demo's status line, tests). */
  onEvent?(event: { kind: 'sent' | 'received'; purchaseOrderId: number; backordersAllocated?: number }): void;
  /** Told of a failed tick (the next tick tries again). */
  onError?(err: Error): void;
}

export interface DemoSupplier {
  /** One pass now: sends and receives what is due. */
  tick(): Promise<void>;
  /** Stops the timer and waits for a pass under way. */
  stop(): Promise<void>;
}

/** Starts the supplier's loop; `stop()` before the app closes. */
export function startDemoSupplier(app: App, options: DemoSupplierOptions): DemoSupplier {
  const by = { actor: 'demo:supplier' };
  let running: Promise<void> | null = null;
  let stopped = false;

  const pass = async () => {
    const drafts = await app.db
      .selectFrom('purchase_orders')
      .select('id')
      .where('kind', '=', 'stock')
      .where('status', '=', 'draft')
      .where('created_at', '<=', sql<Date>`now() - make_interval(secs => ${options.sendAfterMs / 1000})`)
      .orderBy('id')
      .execute();
    for (const { id } of drafts) {
      if (stopped) return;
      const topUp = new Map<number, number>();
      if (options.topUp) {
        const lines = await app.db
          .selectFrom('purchase_order_lines')
          .innerJoin('skus', 'skus.id', 'purchase_order_lines.sku_id')
          .select(['skus.id', 'skus.sku'])
          .where('purchase_order_id', '=', id)
          .execute();
        for (const l of lines) {
          const extra = options.topUp(l.sku);
          if (extra > 0) topUp.set(l.id, extra);
        }
      }
      await sendPurchaseOrder(app, id, { expectedAt: new Date(Date.now() + options.leadTimeMs), topUp });
      options.onEvent?.({ kind: 'sent', purchaseOrderId: id });
    }
    const due = await app.db
      .selectFrom('purchase_orders')
      .select('id')
      .where('kind', '=', 'stock')
      .where('status', 'in', ['sent', 'partially_received'])
      .where('expected_at', '<=', new Date())
      .orderBy('id')
      .execute();
    for (const { id } of due) {
      if (stopped) return;
      const r = await receivePurchaseOrder(app, id, by);
      options.onEvent?.({ kind: 'received', purchaseOrderId: id, backordersAllocated: r.allocated.length });
    }
  };

  const tick = (): Promise<void> => {
    // One pass at a time: a slow pass is not overtaken by the next tick.
    running ??= pass()
      .catch((err: Error) => options.onError?.(err))
      .finally(() => (running = null));
    return running;
  };
  const timer = setInterval(() => void tick(), options.tickMs ?? 1_000);
  timer.unref();

  return {
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
