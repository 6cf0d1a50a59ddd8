/**
 * Applying the state machines to rows. Every move is guarded by `states.ts`
 * and recorded in `order_history` (actor, from, to, reason) in the same
 * transaction. Callers hold the order's row lock (`lockOrder`), which
 * serialises all fulfilment work on one order.
 */
import { sql, type Transaction } from 'kysely';
import type { Database, FulfillmentState, OrderState } from '../db/schema.ts';
import type { Db } from '../db/index.ts';
import { PermanentError, RetryableError } from '../domain/errors.ts';
import { assertFulfilmentTransition, assertOrderTransition, type FulfilmentKind } from './states.ts';

export type Trx = Transaction<Database>;

/** Who or what moved something, and why. */
export interface By {
  /** `system`, `job:fulfilment`, `cli:<user>`, `carrier:simulated`, `supplier:<id>`... */
  actor: string;
  reason?: string | null;
}

export interface LockedOrder {
  id: number;
  channel_id: number;
  order_number: string;
  state: OrderState;
  channel_state: 'open' | 'cancelled' | 'closed';
  financial_status: string;
  flags: string[];
  placed_at: Date;
}

export interface FulfilmentRow {
  id: number;
  order_id: number;
  location_id: number | null;
  kind: FulfilmentKind;
  state: FulfillmentState;
  purchase_order_id: number | null;
}

const DEADLOCK = '40P01';
const SERIALIZATION = '40001';

/** Runs `fn` in a transaction, retrying a few times when Postgres picks it as a deadlock victim. */
export async function inTransaction<T>(db: Db, fn: (trx: Trx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(fn);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code === DEADLOCK || code === SERIALIZATION) && attempt < 5) {
        await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 50));
        continue;
      }
      if (code === DEADLOCK || code === SERIALIZATION) throw new RetryableError(`database contention: ${(err as Error).message}`, undefined, { cause: err });
      throw err;
    }
  }
}

/** Locks the order row for the rest of the transaction. Lock order everywhere: orders (by id), fulfilments, stock levels (by SKU, location), purchase orders. */
export async function lockOrder(trx: Trx, orderId: number): Promise<LockedOrder> {
  const order = await lockedOrderQuery(trx).where('id', '=', orderId).executeTakeFirst();
  if (!order) throw new PermanentError(`order ${orderId} does not exist`);
  return order;
}

/**
 * Locks the order a fulfilment belongs to, found in the same statement (one
 * round trip, not a read of the fulfilment and then the lock). `FOR UPDATE`
 * takes only the order row: the subquery's fulfilment is not locked here.
 */
export async function lockOrderOfFulfilment(trx: Trx, fulfilmentId: number): Promise<LockedOrder | undefined> {
  return lockedOrderQuery(trx)
    .where('id', '=', (eb) => eb.selectFrom('fulfillments').select('order_id').where('fulfillments.id', '=', fulfilmentId))
    .executeTakeFirst();
}

function lockedOrderQuery(trx: Trx) {
  return trx.selectFrom('orders').select(['id', 'channel_id', 'order_number', 'state', 'channel_state', 'financial_status', 'flags', 'placed_at']).forUpdate();
}

export async function orderFulfilments(trx: Trx | Db, orderId: number): Promise<FulfilmentRow[]> {
  return trx
    .selectFrom('fulfillments')
    .select(['id', 'order_id', 'location_id', 'kind', 'state', 'purchase_order_id'])
    .where('order_id', '=', orderId)
    .orderBy('id')
    .execute();
}

/** Moves an order (a no-op when it is there already). Returns whether it moved. */
export async function moveOrder(trx: Trx, order: LockedOrder, to: OrderState, by: By): Promise<boolean> {
  if (order.state === to) return false;
  assertOrderTransition(order.state, to, `order ${order.order_number} (${order.id})`);
  const moved = await trx
    .updateTable('orders')
    .set({ state: to, updated_at: sql`now()` })
    .where('id', '=', order.id)
    .where('state', '=', order.state)
    .executeTakeFirst();
  if (Number(moved.numUpdatedRows) !== 1) throw new RetryableError(`order ${order.id} changed state while moving it to ${to}`);
  await trx
    .insertInto('order_history')
    .values({ order_id: order.id, fulfillment_id: null, actor: by.actor, from_state: order.state, to_state: to, reason: by.reason ?? null })
    .execute();
  order.state = to;
  return true;
}

/** Moves a fulfilment under the guards, and records it. `also`: columns written by the same statement (pack's parcels). */
export async function moveFulfilment(trx: Trx, f: FulfilmentRow, to: FulfillmentState, by: By, also: { parcels?: string } = {}): Promise<void> {
  assertFulfilmentTransition(f.state, to, f.kind, `fulfilment ${f.id}`);
  const moved = await trx
    .updateTable('fulfillments')
    .set({ ...also, state: to, updated_at: sql`now()` })
    .where('id', '=', f.id)
    .where('state', '=', f.state)
    .executeTakeFirst();
  if (Number(moved.numUpdatedRows) !== 1) throw new RetryableError(`fulfilment ${f.id} changed state while moving it to ${to}`);
  await trx
    .insertInto('order_history')
    .values({ order_id: f.order_id, fulfillment_id: f.id, actor: by.actor, from_state: f.state, to_state: to, reason: by.reason ?? null })
    .execute();
  f.state = to;
}

/** Records a fulfilment's creation (`null -> state`). */
export async function recordCreated(trx: Trx, f: FulfilmentRow, by: By): Promise<void> {
  await trx
    .insertInto('order_history')
    .values({ order_id: f.order_id, fulfillment_id: f.id, actor: by.actor, from_state: null, to_state: f.state, reason: by.reason ?? null })
    .execute();
}

/** Adds a flag to the order (idempotent). */
export async function flagOrder(trx: Trx, orderId: number, flag: string): Promise<void> {
  await sql`UPDATE orders SET flags = array_append(array_remove(flags, ${flag}), ${flag}) WHERE id = ${orderId}`.execute(trx);
}
