/**
 * What the fulfilment queue still owes, as Postgres sees it: the sweeper asks
 * this for work whose job was lost (a Redis flush, a crash after a commit).
 * Domain code: the job module only hands the answer to the sweeper.
 */
import { sql } from 'kysely';
import type { App } from '../app.ts';
import type { PendingJob } from '../queue/job.ts';
import { carrierAdapter, carrierAdapters } from './carriers/index.ts';
import { OPEN_STATES, SHIPPED_STATES } from './states.ts';
import { stepJobId, type FulfilmentJobData } from './steps.ts';
import { holdsStockSql, payableStatuses } from './payable.ts';

/** True when the fulfilment is of this kind and in this state now. */
export async function inState(app: App, fulfilmentId: number, state: string, kind: string): Promise<boolean> {
  const f = await app.db.selectFrom('fulfillments').select(['state', 'kind']).where('id', '=', fulfilmentId).executeTakeFirst();
  return f?.state === state && f.kind === kind;
}

/** Steps Postgres says are unfinished and untouched since `before`. */
export async function pendingSteps(app: App, before: Date): Promise<Array<PendingJob<FulfilmentJobData>>> {
  const pending: Array<PendingJob<FulfilmentJobData>> = [];
  const add = (step: FulfilmentJobData['step'], id: number) => pending.push({ jobId: stepJobId(step, id), data: { step, id } });

  // Orders whose fulfilments do not match them: payable and owed units, over-promised after an edit, or cancelled on the channel.
  const orders = await sql<{ id: number }>`
    SELECT o.id FROM orders o
    WHERE o.updated_at < ${before} AND o.state NOT IN ('cancelled', 'needs_attention')
      AND (o.channel_state = 'cancelled'
        OR (o.state NOT IN ('on_hold', 'delivered') AND EXISTS (
          SELECT 1 FROM order_lines l
          LEFT JOIN LATERAL (
            SELECT COALESCE(sum(fl.quantity) FILTER (WHERE f.state = ANY(${SHIPPED_STATES})), 0) AS shipped,
                   COALESCE(sum(fl.quantity) FILTER (WHERE f.state = ANY(${OPEN_STATES})), 0) AS open
            FROM fulfillment_lines fl JOIN fulfillments f ON f.id = fl.fulfillment_id WHERE fl.order_line_id = l.id
          ) c ON true
          WHERE l.order_id = o.id AND l.sku_id IS NOT NULL
            AND l.quantity <> GREATEST(c.shipped, l.quantity_fulfilled_on_channel) + c.open
            AND ((o.channel_state = 'open' AND (o.financial_status = ANY(${payableStatuses(app.config.allocateWhen)}::text[])
              OR EXISTS (SELECT 1 FROM channels ch WHERE ch.id = o.channel_id AND ${holdsStockSql()})))
              OR c.shipped + c.open > 0))))
    ORDER BY o.placed_at, o.id
    LIMIT 10000`.execute(app.db);
  for (const o of orders.rows) add('allocate', o.id);

  if (app.config.fulfilmentMode === 'auto') {
    const automatic = carrierAdapter(app.config, app.config.carrier).automatic;
    const steps = await app.db
      .selectFrom('fulfillments')
      .innerJoin('orders', 'orders.id', 'fulfillments.order_id')
      .select(['fulfillments.id', 'fulfillments.state'])
      .where('fulfillments.kind', '=', 'warehouse')
      .where('fulfillments.state', 'in', automatic ? ['allocated', 'picking', 'packed'] : ['allocated', 'picking'])
      // Reserved while the channel holds stock but not paid: picked once paid (the allocate job says so).
      .where((eb) => eb.or([eb('fulfillments.state', '<>', 'allocated'), eb('orders.financial_status', 'in', payableStatuses(app.config.allocateWhen))]))
      .where('fulfillments.updated_at', '<', before)
      .orderBy('fulfillments.id')
      .limit(10_000)
      .execute();
    for (const f of steps) add(f.state === 'allocated' ? 'pick' : f.state === 'picking' ? 'pack' : 'ship', f.id);
  }

  // Shipments a carrier reports delivery for, once they are due.
  const tracked = [...carrierAdapters(app.config).values()].filter((a) => a.trackDelivery && a.deliveryCheckAfterMs !== undefined);
  for (const adapter of tracked) {
    const due = new Date(before.getTime() - adapter.deliveryCheckAfterMs!);
    const shipments = await app.db
      .selectFrom('shipments')
      .select('id')
      .where('adapter', '=', adapter.name)
      .where('delivered_at', 'is', null)
      .where('shipped_at', '<', due)
      .orderBy('id')
      .limit(10_000)
      .execute();
    for (const s of shipments) add('deliver', s.id);
  }
  return pending;
}
