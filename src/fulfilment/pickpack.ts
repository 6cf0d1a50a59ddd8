/**
 * Pick and pack: a pick list per location that batches open fulfilments by
 * SKU, and the two steps a person (CLI, admin API) or auto mode confirms.
 */
import { sql } from 'kysely';
import type { App } from '../app.ts';
import type { Db } from '../db/index.ts';
import { IllegalTransitionError, PermanentError } from '../domain/errors.ts';
import { carrierAdapter } from './carriers/index.ts';
import type { Parcel } from './carriers/types.ts';
import { assertPayable } from './payable.ts';
import { enqueueStep, type StepOptions } from './steps.ts';
import { inTransaction, lockOrderOfFulfilment, moveFulfilment, type By, type FulfilmentRow, type LockedOrder, type Trx } from './transitions.ts';

/** Locks a fulfilment's order, then the fulfilment (the lock order every transaction keeps). */
export async function lockFulfilment(trx: Trx, fulfilmentId: number): Promise<{ order: LockedOrder; f: FulfilmentRow }> {
  const order = await lockOrderOfFulfilment(trx, fulfilmentId);
  if (!order) throw new PermanentError(`fulfilment ${fulfilmentId} does not exist`);
  const f = await trx
    .selectFrom('fulfillments')
    .select(['id', 'order_id', 'location_id', 'kind', 'state', 'purchase_order_id'])
    .where('id', '=', fulfilmentId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  return { order, f };
}

/**
 * A step refused because the order is cancelled (here or on its channel). A
 * person asking gets the error; an automatic step job treats it as nothing to
 * do, because the allocate job that the cancellation kicked owns the
 * fulfilment's fate (cancels it, puts reserved stock back, or flags a shipped one).
 */
export class OrderCancelledError extends IllegalTransitionError {}

/** Refuses work on an order a person must look at, or that is gone. */
export function assertWorkable(order: LockedOrder, step: string): void {
  if (order.state === 'cancelled' || order.channel_state === 'cancelled') {
    throw new OrderCancelledError(`cannot ${step} order ${order.order_number} (${order.id}): it is ${order.channel_state === 'cancelled' ? 'cancelled on its channel' : order.state}`);
  }
  if (order.state === 'needs_attention') {
    throw new IllegalTransitionError(`cannot ${step} order ${order.order_number} (${order.id}): it is ${order.state}`);
  }
}

/** allocated -> picking. In auto mode, packing follows. */
export async function startPicking(app: App, fulfilmentId: number, by: By, options: StepOptions = {}): Promise<void> {
  await inTransaction(app.db, async (trx) => {
    const { order, f } = await lockFulfilment(trx, fulfilmentId);
    await pickLocked(app, trx, order, f, by);
  });
  if (app.config.fulfilmentMode === 'auto' && options.enqueueNext !== false) await enqueueStep(app, 'pack', fulfilmentId);
}

async function pickLocked(app: App, trx: Trx, order: LockedOrder, f: FulfilmentRow, by: By): Promise<void> {
  assertWorkable(order, 'pick');
  // Reserved for a channel that holds stock before payment (WooCommerce on-hold): not picked until paid.
  assertPayable(order, app.config.allocateWhen, 'pick');
  await moveFulfilment(trx, f, 'picking', by);
}

// Defined with the Parcel type, so the CLI's option parsing needs no fulfilment code.
export { DEFAULT_PARCEL } from './carriers/types.ts';

/** picking -> packed, recording the parcels. In auto mode with an automatic carrier, shipping follows. */
export async function packFulfilment(app: App, fulfilmentId: number, parcels: Parcel[], by: By, options: StepOptions = {}): Promise<void> {
  assertParcels(fulfilmentId, parcels);
  await inTransaction(app.db, async (trx) => {
    const { order, f } = await lockFulfilment(trx, fulfilmentId);
    assertWorkable(order, 'pack');
    await packLocked(trx, f, parcels, by);
  });
  if (app.config.fulfilmentMode === 'auto' && options.enqueueNext !== false && carrierAdapter(app.config, app.config.carrier).automatic) {
    await enqueueStep(app, 'ship', fulfilmentId);
  }
}

function assertParcels(fulfilmentId: number, parcels: Parcel[]): void {
  if (parcels.length === 0) throw new PermanentError(`fulfilment ${fulfilmentId}: pack needs at least one parcel`);
  for (const p of parcels) {
    for (const [k, v] of Object.entries(p)) {
      if (v !== null && !(Number.isFinite(v) && v > 0)) throw new PermanentError(`fulfilment ${fulfilmentId}: parcel ${k} must be a positive number`);
    }
  }
}

const packLocked = (trx: Trx, f: FulfilmentRow, parcels: Parcel[], by: By) =>
  moveFulfilment(trx, f, 'packed', { ...by, reason: by.reason ?? `${parcels.length} parcel(s)` }, { parcels: JSON.stringify(parcels) });

/**
 * Auto mode: pick and pack one after the other under one lock, in one
 * transaction (one commit, one lock of the order and the fulfilment, instead
 * of two of each). Pack runs inside a savepoint, so a pack that fails leaves
 * the fulfilment picking, committed, exactly as two transactions did; its
 * error is returned for the caller to hand pack to its own job. A pick that
 * fails throws, and nothing is written.
 */
export async function pickAndPack(app: App, fulfilmentId: number, parcels: Parcel[], by: By): Promise<{ packError: Error | null }> {
  assertParcels(fulfilmentId, parcels);
  return inTransaction(app.db, async (trx) => {
    const { order, f } = await lockFulfilment(trx, fulfilmentId);
    await pickLocked(app, trx, order, f, by);
    // Nothing between the two can change the order: its row is locked since before the pick's checks.
    await sql`SAVEPOINT cs_pack`.execute(trx);
    try {
      await packLocked(trx, f, parcels, by);
      await sql`RELEASE SAVEPOINT cs_pack`.execute(trx);
      return { packError: null };
    } catch (err) {
      await sql`ROLLBACK TO SAVEPOINT cs_pack`.execute(trx);
      return { packError: err as Error };
    }
  });
}

export interface PickListEntry {
  location: string;
  sku: string;
  title: string;
  quantity: number;
  fulfilments: Array<{ fulfilmentId: number; orderNumber: string; quantity: number }>;
}

/**
 * What to take from the shelves: open warehouse fulfilments (allocated, or
 * being picked) batched by SKU, per location, walked in SKU order.
 */
export async function pickList(db: Db, locationId?: number): Promise<PickListEntry[]> {
  const rows = await sql<{
    location: string;
    sku: string;
    title: string;
    quantity: number;
    fulfilments: Array<{ fulfilmentId: number; orderNumber: string; quantity: number }>;
  }>`
    SELECT loc.code AS location, s.sku, max(s.title) AS title, sum(fl.quantity)::int AS quantity,
      json_agg(json_build_object('fulfilmentId', f.id, 'orderNumber', o.order_number, 'quantity', fl.quantity) ORDER BY f.id) AS fulfilments
    FROM fulfillments f
    JOIN fulfillment_lines fl ON fl.fulfillment_id = f.id
    JOIN order_lines l ON l.id = fl.order_line_id
    JOIN skus s ON s.id = l.sku_id
    JOIN orders o ON o.id = f.order_id
    JOIN locations loc ON loc.id = f.location_id
    WHERE f.kind = 'warehouse' AND f.state IN ('allocated', 'picking')
      ${locationId === undefined ? sql`` : sql`AND f.location_id = ${locationId}`}
    GROUP BY loc.code, s.sku
    ORDER BY loc.code, s.sku`.execute(db);
  return rows.rows;
}
