/**
 * Ship and deliver. Shipping one fulfilment, in one transaction: the
 * shipment and its lines, the stock leaving (movement `shipment`: on hand -n,
 * reserved -n), the order lines' shipped counters, the state moves, and the
 * outbox row that owes the order's channel a fulfilment push (the stock pushes
 * are owed by the movements' trigger, in the same transaction). The jobs are
 * kicked after commit; if the process dies in between, the sweeper finds the
 * pending rows. One shipment per fulfilment (unique index), so a repeated ship
 * returns the shipment that exists and kicks the same push (one row, one job id).
 */
import { sql } from 'kysely';
import type { App } from '../app.ts';
import { ConfigError, PermanentError, RetryableError } from '../domain/errors.ts';
import { enqueuePush, kickStockPushes, owePush, type OwedPush } from '../outbox/index.ts';
import { kickMessages, oweDeliveryMessages } from '../notify/outbox.ts';
import { settleOrderState } from './allocate.ts';
import { carrierAdapter } from './carriers/index.ts';
import type { Label, ManualTracking, Parcel } from './carriers/types.ts';
import type { LabelSource } from './label.ts';
import { book, type Booking } from './ledger.ts';
import { assertWorkable, DEFAULT_PARCEL, lockFulfilment } from './pickpack.ts';
import { enqueueStep } from './steps.ts';
import { inTransaction, moveFulfilment, type By } from './transitions.ts';
import type { FulfillmentState } from '../db/schema.ts';

export interface ShipInput {
  /** Carrier adapter name; default the `CARRIER` setting (dropship: always manual, the supplier's tracking). */
  adapter?: string;
  /** Carrier and tracking typed by a person (manual adapter, dropship). */
  manual?: ManualTracking;
}

export interface ShipResult {
  shipmentId: number;
  /** False when the fulfilment had shipped already (nothing new was created). */
  created: boolean;
  label: Label;
}

export async function shipFulfilment(app: App, fulfilmentId: number, input: ShipInput, by: By): Promise<ShipResult> {
  // One read before the transaction: the fulfilment, its order, its lines for the carrier, and the shipment if it shipped already.
  const head = await app.db
    .selectFrom('fulfillments')
    .innerJoin('orders', 'orders.id', 'fulfillments.order_id')
    .innerJoin('channels', 'channels.id', 'orders.channel_id')
    .leftJoin('locations', 'locations.id', 'fulfillments.location_id')
    .leftJoin('shipments', 'shipments.fulfillment_id', 'fulfillments.id')
    .select([
      'fulfillments.kind', 'fulfillments.parcels', 'orders.order_number', 'orders.shipping_address', 'channels.name as channel_name', 'locations.name as location_name',
      'shipments.id as shipment_id', 'shipments.carrier', 'shipments.service', 'shipments.tracking_number', 'shipments.tracking_url',
      sql<Array<{ sku: string | null; title: string; quantity: number }>>`COALESCE((
        SELECT json_agg(json_build_object('sku', l.sku, 'title', l.title, 'quantity', fl.quantity) ORDER BY l.id)
        FROM fulfillment_lines fl JOIN order_lines l ON l.id = fl.order_line_id WHERE fl.fulfillment_id = fulfillments.id), '[]')`.as('lines'),
    ])
    .where('fulfillments.id', '=', fulfilmentId)
    .executeTakeFirst();
  if (!head) throw new PermanentError(`fulfilment ${fulfilmentId} does not exist`);
  if (head.shipment_id !== null) {
    await kickFulfilmentPush(app, head.shipment_id);
    return {
      shipmentId: head.shipment_id,
      created: false,
      label: { carrier: head.carrier!, service: head.service, trackingNumber: head.tracking_number!, trackingUrl: head.tracking_url },
    };
  }
  const adapterName = head.kind === 'dropship' ? 'manual' : (input.adapter ?? app.config.carrier);
  const adapter = carrierAdapter(app.config, adapterName);
  const parcels = (head.parcels.length ? head.parcels : [DEFAULT_PARCEL]) as Parcel[];
  // Outside the transaction: a label API call must not hold row locks. Adapters are idempotent per fulfilment.
  const label = await adapter.createShipment({
    fulfilmentId,
    orderNumber: head.order_number,
    shipTo: head.shipping_address,
    parcels,
    lines: head.lines,
    manual: input.manual,
  });

  const shipped = await inTransaction(app.db, async (trx) => {
    const { order, f } = await lockFulfilment(trx, fulfilmentId);
    if (f.state === 'shipped' || f.state === 'delivered') return null;
    assertWorkable(order, 'ship');
    await moveFulfilment(trx, f, 'shipped', { ...by, reason: by.reason ?? `${label.carrier} ${label.trackingNumber}` });
    let shipment: { id: number; shipped_at: Date };
    try {
      shipment = await trx
        .insertInto('shipments')
        .values({
          fulfillment_id: f.id,
          carrier: label.carrier,
          service: label.service,
          tracking_number: label.trackingNumber,
          tracking_url: label.trackingUrl,
          parcels: JSON.stringify(parcels),
          adapter: adapter.name,
        })
        .returning(['id', 'shipped_at'])
        .executeTakeFirstOrThrow();
    } catch (err) {
      if ((err as { code?: string }).code === '23505' && (err as { constraint?: string }).constraint !== 'shipments_one_per_fulfillment') {
        throw new ConfigError(`tracking number ${label.trackingNumber} (${label.carrier}) is already used by another shipment`);
      }
      throw err;
    }
    // The shipment's lines are the fulfilment's, and the order lines count them fulfilled: one statement
    // for both (a fulfilment lists an order line once: unique index), which returns what leaves the shelf.
    const { rows: lines } = await sql<{ sku_id: number | null; quantity: number }>`
      WITH shipped AS (
        INSERT INTO shipment_lines (shipment_id, order_line_id, quantity)
        SELECT ${shipment.id}, order_line_id, quantity FROM fulfillment_lines WHERE fulfillment_id = ${f.id}
        RETURNING order_line_id, quantity)
      UPDATE order_lines l SET quantity_fulfilled = l.quantity_fulfilled + s.quantity
      FROM shipped s WHERE l.id = s.order_line_id
      RETURNING l.sku_id, s.quantity`.execute(trx);
    if (f.kind === 'dropship' && f.purchase_order_id !== null) {
      await trx.updateTable('purchase_orders').set({ status: 'received', updated_at: sql`now()` }).where('id', '=', f.purchase_order_id).execute();
      await trx.updateTable('purchase_order_lines').set({ quantity_received: sql`quantity` }).where('purchase_order_id', '=', f.purchase_order_id).execute();
    }
    // The outbox row commits with the shipment: the channel is owed this push even if we die right after.
    const push = await owePush(trx, { channelId: order.channel_id, kind: 'fulfillment', target: String(shipment.id), payload: { orderId: order.id } });
    await settleOrderState(trx, order, by);
    // The stock leaves last: the movement locks the SKU's level row (and its stock pushes' rows), which
    // every other order of that SKU in every daemon waits for, so it is held for this statement and the
    // commit only (`npm run bench -- scale-out`; allocate.ts does the same).
    const bookings: Booking[] = [];
    if (f.kind === 'warehouse' && f.location_id !== null) {
      for (const l of lines) {
        if (l.sku_id === null) continue;
        bookings.push({ skuId: l.sku_id, locationId: f.location_id, quantity: l.quantity, reason: 'shipment', reference: `shipment:${shipment.id}`, note: `order ${order.id}`, actor: by.actor });
      }
      await book(trx, bookings);
    }
    return { shipment, push, skuIds: [...new Set(bookings.map((b) => b.skuId))] };
  });

  if (!shipped) {
    const again = await existingShipment(app, fulfilmentId);
    if (!again) throw new RetryableError(`fulfilment ${fulfilmentId} shipped concurrently but its shipment is not visible yet`);
    await kickFulfilmentPush(app, again.shipmentId);
    return again;
  }
  const shipmentId = shipped.shipment.id;
  const labels = { orderNumber: head.order_number, channelName: head.channel_name };
  await enqueuePush(app, shipped.push, labels);
  await kickStockPushes(app, shipped.skuIds);
  await keepLabel(app, {
    id: shipmentId, carrier: label.carrier, service: label.service, tracking_number: label.trackingNumber, parcels, shipped_at: shipped.shipment.shipped_at,
    order_number: head.order_number, shipping_address: head.shipping_address, location_name: head.location_name, kind: head.kind,
  });
  if (adapter.deliveryCheckAfterMs !== undefined && adapter.trackDelivery) {
    await enqueueStep(app, 'deliver', shipmentId, Math.max(1, adapter.deliveryCheckAfterMs), labels);
  }
  return { shipmentId, created: true, label };
}

/**
 * Prints the shipment's label and keeps it with the shipment (`shipment_labels`), drawn from what the
 * shipment was just written with (the address the carrier was given). After the commit: a label that
 * fails to render must not undo a shipment, and one missing (a crash here) is rendered from the
 * shipment on first request. Loaded lazily: pdfkit and bwip-js stay out of commands that never print.
 */
async function keepLabel(app: App, source: LabelSource): Promise<void> {
  try {
    const { labelOf, storeLabel } = await import('./label.ts');
    await storeLabel(app, labelOf(source, app.config.shipFrom));
  } catch (err) {
    app.log.warn({ shipment: source.id, err: (err as Error).message }, 'could not print the shipping label now; it is printed when first asked for');
  }
}

async function existingShipment(app: App, fulfilmentId: number): Promise<ShipResult | null> {
  const s = await app.db.selectFrom('shipments').selectAll().where('fulfillment_id', '=', fulfilmentId).executeTakeFirst();
  if (!s) return null;
  return {
    shipmentId: s.id,
    created: false,
    label: { carrier: s.carrier, service: s.service, trackingNumber: s.tracking_number, trackingUrl: s.tracking_url },
  };
}

/** A repeated ship: the push was owed with the shipment; make sure its job runs (one row, one job id). */
async function kickFulfilmentPush(app: App, shipmentId: number): Promise<void> {
  const row: OwedPush | undefined = await app.db
    .selectFrom('channel_pushes')
    .innerJoin('orders', 'orders.channel_id', 'channel_pushes.channel_id')
    .innerJoin('fulfillments', 'fulfillments.order_id', 'orders.id')
    .innerJoin('shipments', 'shipments.fulfillment_id', 'fulfillments.id')
    .select(['channel_pushes.id', 'channel_pushes.channel_id', 'channel_pushes.kind', 'channel_pushes.target', 'channel_pushes.status'])
    .where('shipments.id', '=', shipmentId)
    .where('channel_pushes.kind', '=', 'fulfillment')
    .where('channel_pushes.target', '=', String(shipmentId))
    .executeTakeFirst();
  if (row) await enqueuePush(app, row);
}

/**
 * Asks the shipment's carrier whether it arrived; when it has, the
 * fulfilment (and, once everything arrived, the order) becomes delivered.
 */
export async function checkDelivery(app: App, shipmentId: number, by: By): Promise<'delivered' | 'in transit' | 'already delivered' | 'not tracked'> {
  const s = await app.db.selectFrom('shipments').select(['id', 'fulfillment_id', 'adapter', 'tracking_number', 'shipped_at', 'delivered_at']).where('id', '=', shipmentId).executeTakeFirst();
  if (!s) throw new PermanentError(`shipment ${shipmentId} does not exist`);
  if (s.delivered_at) return 'already delivered';
  const adapter = carrierAdapter(app.config, s.adapter);
  if (!adapter.trackDelivery) return 'not tracked';
  const status = await adapter.trackDelivery({ trackingNumber: s.tracking_number, shippedAt: s.shipped_at });
  if (!status.delivered) {
    throw new RetryableError(`shipment ${shipmentId} is still in transit`, status.checkAgainInMs);
  }
  await markDelivered(app, shipmentId, by);
  return 'delivered';
}

/** Records delivery (carrier report, or a person). Idempotent. */
export async function markDelivered(app: App, shipmentId: number, by: By): Promise<void> {
  const owed = await inTransaction(app.db, async (trx) => {
    const s = await trx.selectFrom('shipments').select(['fulfillment_id', 'delivered_at']).where('id', '=', shipmentId).executeTakeFirst();
    if (!s) throw new PermanentError(`shipment ${shipmentId} does not exist`);
    const { order, f } = await lockFulfilment(trx, s.fulfillment_id);
    const updated = await trx.updateTable('shipments').set({ delivered_at: sql`now()` }).where('id', '=', shipmentId).where('delivered_at', 'is', null).executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0 || f.state !== 'shipped') return [];
    await moveFulfilment(trx, f, 'delivered', by);
    await settleOrderState(trx, order, by);
    // The delivery notice and, once the whole order arrived, the feedback request commit with the delivery.
    return oweDeliveryMessages(trx, app.config, shipmentId);
  });
  await kickMessages(app, owed);
}

/**
 * A dropship supplier reports its shipment: the dropship fulfilment of that
 * purchase order ships with the supplier's carrier and tracking, and is
 * pushed to the channel like our own.
 */
export async function recordSupplierShipment(app: App, purchaseOrderId: number, tracking: ManualTracking, by: By): Promise<ShipResult> {
  const f = await app.db
    .selectFrom('fulfillments')
    .select(['id', 'state'])
    .where('purchase_order_id', '=', purchaseOrderId)
    .where('kind', '=', 'dropship')
    .orderBy('id')
    .execute();
  const live = f.find((x) => x.state !== 'cancelled');
  if (!live) throw new PermanentError(`purchase order ${purchaseOrderId} has no open dropship fulfilment`);
  return shipFulfilment(app, live.id, { adapter: 'manual', manual: tracking }, { ...by, reason: by.reason ?? `supplier shipped: ${tracking.carrier} ${tracking.trackingNumber}` });
}

/** An order's fulfilment ids in these states, oldest first. */
export async function fulfilmentsInState(app: App, orderId: number, states: FulfillmentState[]): Promise<number[]> {
  const rows = await app.db.selectFrom('fulfillments').select('id').where('order_id', '=', orderId).where('state', 'in', states).orderBy('id').execute();
  return rows.map((r) => r.id);
}
