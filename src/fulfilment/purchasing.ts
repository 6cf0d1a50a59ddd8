/**
 * Purchase orders: backorders join one draft order per supplier and location
 * (one line per SKU, expected after the supplier's lead time); dropship lines
 * get a purchase order of their own, sent to the supplier at once. Receiving a
 * purchase order books the goods in and allocates waiting backorders, oldest
 * order first, in the same transaction, so no newer order can take the units
 * in between.
 */
import { sql } from 'kysely';
import type { App } from '../app.ts';
import type { Db } from '../db/index.ts';
import { ConfigError, PermanentError } from '../domain/errors.ts';
import { afterCommit, createFulfilment, settleOrderState } from './allocate.ts';
import { book, defaultLocation, lockAvailable, type Booking } from './ledger.ts';
import type { Need } from './plan.ts';
import { inTransaction, lockOrder, moveFulfilment, type By, type FulfilmentRow, type LockedOrder, type Trx } from './transitions.ts';

/** Advisory lock namespace for "receiving purchase order N": one receipt of a purchase order at a time. */
const RECEIVE_LOCK = 7_303;

/** Adds units to the draft purchase order for the SKU's supplier at this location, creating it when needed. */
export async function addToDraftPurchaseOrder(trx: Trx, skuId: number, locationId: number, quantity: number): Promise<number> {
  const po = await sql<{ id: number }>`
    INSERT INTO purchase_orders (supplier_id, location_id, kind, status, expected_at)
    SELECT s.supplier_id, ${locationId}, 'stock', 'draft',
      CASE WHEN sup.id IS NULL THEN NULL ELSE now() + make_interval(days => sup.lead_time_days) END
    FROM skus s LEFT JOIN suppliers sup ON sup.id = s.supplier_id WHERE s.id = ${skuId}
    ON CONFLICT ((COALESCE(supplier_id, 0)), (COALESCE(location_id, 0))) WHERE status = 'draft' AND kind = 'stock'
    DO UPDATE SET updated_at = now()
    RETURNING id`.execute(trx);
  const poId = po.rows[0]!.id;
  await sql`
    INSERT INTO purchase_order_lines (purchase_order_id, sku_id, quantity) VALUES (${poId}, ${skuId}, ${quantity})
    ON CONFLICT (purchase_order_id, sku_id) WHERE order_line_id IS NULL
    DO UPDATE SET quantity = purchase_order_lines.quantity + EXCLUDED.quantity`.execute(trx);
  return poId;
}

/** A dropship purchase order for these order lines, marked sent: the supplier ships to the customer. */
export async function addDropshipOrder(trx: Trx, supplierId: number | null, lines: Need[]): Promise<number> {
  const lead = supplierId === null ? null : await trx.selectFrom('suppliers').select('lead_time_days').where('id', '=', supplierId).executeTakeFirst();
  const po = await trx
    .insertInto('purchase_orders')
    .values({
      supplier_id: supplierId,
      location_id: null,
      kind: 'dropship',
      status: 'sent',
      expected_at: lead ? sql<Date>`now() + make_interval(days => ${lead.lead_time_days})` : null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx
    .insertInto('purchase_order_lines')
    .values(lines.map((l) => ({ purchase_order_id: po.id, sku_id: l.skuId, quantity: l.quantity, order_line_id: l.lineId })))
    .execute();
  return po.id;
}

/**
 * Sends a draft stock purchase order to its supplier: draft -> sent, with the
 * delivery date the supplier confirmed. Backorders from then on start a new
 * draft (one draft per supplier and location), so a sent order never grows.
 * `topUp` adds units per SKU id first (stock to keep on the shelf beyond what
 * the backorders need), in the same transaction. Refuses an order that is
 * not a draft (sent twice, received, cancelled): nothing changes then.
 */
export async function sendPurchaseOrder(
  app: App,
  purchaseOrderId: number,
  options: { expectedAt: Date; topUp?: ReadonlyMap<number, number> },
): Promise<void> {
  await inTransaction(app.db, async (trx) => {
    const po = await trx.selectFrom('purchase_orders').select(['id', 'kind', 'status']).where('id', '=', purchaseOrderId).forUpdate().executeTakeFirst();
    if (!po) throw new PermanentError(`purchase order ${purchaseOrderId} does not exist`);
    if (po.kind !== 'stock' || po.status !== 'draft') throw new ConfigError(`purchase order ${po.id} is a ${po.kind} order, ${po.status}: only a draft stock order can be sent`);
    for (const [skuId, quantity] of options.topUp ?? []) {
      if (!Number.isInteger(quantity) || quantity <= 0) throw new ConfigError(`cannot order ${quantity} more of SKU ${skuId}`);
      await sql`
        INSERT INTO purchase_order_lines (purchase_order_id, sku_id, quantity) VALUES (${po.id}, ${skuId}, ${quantity})
        ON CONFLICT (purchase_order_id, sku_id) WHERE order_line_id IS NULL
        DO UPDATE SET quantity = purchase_order_lines.quantity + EXCLUDED.quantity`.execute(trx);
    }
    await trx.updateTable('purchase_orders').set({ status: 'sent', expected_at: options.expectedAt, updated_at: sql`now()` }).where('id', '=', po.id).execute();
  });
}

export interface ReceiveResult {
  purchaseOrderId: number;
  /** Units booked in, per SKU. */
  received: Record<string, number>;
  /** Backordered fulfilments that got stock, oldest order first. */
  allocated: Array<{ orderId: number; fulfilmentId: number }>;
  status: 'partially_received' | 'received';
}

/**
 * Books a stock purchase order in at its location (all that is outstanding,
 * or `quantities` per SKU text) and allocates waiting backorders oldest first.
 */
export async function receivePurchaseOrder(
  app: App,
  purchaseOrderId: number,
  by: By,
  quantities?: Record<string, number>,
): Promise<ReceiveResult> {
  const result = await inTransaction(app.db, async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${RECEIVE_LOCK}, ${purchaseOrderId}::int)`.execute(trx);
    const po = await trx.selectFrom('purchase_orders').selectAll().where('id', '=', purchaseOrderId).executeTakeFirst();
    if (!po) throw new PermanentError(`purchase order ${purchaseOrderId} does not exist`);
    if (po.kind === 'dropship') {
      throw new ConfigError(`purchase order ${po.id} is a dropship order: record the supplier's tracking instead (po receive ${po.id} --carrier <name> --tracking <number>)`);
    }
    if (po.status === 'received' || po.status === 'cancelled') throw new ConfigError(`purchase order ${po.id} is ${po.status} already`);
    const lines = await trx
      .selectFrom('purchase_order_lines')
      .innerJoin('skus', 'skus.id', 'purchase_order_lines.sku_id')
      .select(['purchase_order_lines.id', 'sku_id', 'skus.sku', 'quantity', 'quantity_received'])
      .where('purchase_order_id', '=', po.id)
      .orderBy('sku_id')
      .execute();
    const incoming = new Map<number, number>();
    for (const l of lines) {
      const outstanding = l.quantity - l.quantity_received;
      const wanted = quantities ? (quantities[l.sku] ?? 0) : outstanding;
      if (wanted < 0) throw new ConfigError(`cannot receive ${wanted} of ${l.sku}`);
      if (wanted > 0) incoming.set(l.id, wanted);
    }
    if (quantities) {
      const unknown = Object.keys(quantities).filter((sku) => !lines.some((l) => l.sku === sku));
      if (unknown.length) throw new ConfigError(`purchase order ${po.id} has no line for ${unknown.join(', ')}`);
    }
    if (incoming.size === 0) throw new ConfigError(`nothing to receive on purchase order ${po.id}`);
    const locationId = po.location_id ?? (await defaultLocation(trx));
    if (locationId === null) throw new ConfigError('no active location to receive into: add a location first');

    // Waiting backorders for these SKUs at this location, oldest order first; their orders are locked first (lock order: orders, stock, purchase orders).
    const skuIds = [...new Set(lines.filter((l) => incoming.has(l.id)).map((l) => l.sku_id))];
    const waiting = await sql<{ fulfilment_id: number; order_id: number }>`
      SELECT DISTINCT f.id AS fulfilment_id, f.order_id, o.placed_at
      FROM fulfillments f JOIN fulfillment_lines fl ON fl.fulfillment_id = f.id
      JOIN order_lines l ON l.id = fl.order_line_id JOIN orders o ON o.id = f.order_id
      WHERE f.state = 'backordered' AND f.kind = 'warehouse' AND f.location_id = ${locationId}
        AND l.sku_id = ANY(${skuIds}::bigint[])
      ORDER BY o.placed_at, f.order_id, f.id`.execute(trx);
    const orders = new Map<number, LockedOrder>();
    for (const id of [...new Set(waiting.rows.map((w) => w.order_id))].sort((a, b) => a - b)) orders.set(id, await lockOrder(trx, id));

    const bookings: Booking[] = [];
    const received: Record<string, number> = {};
    for (const l of lines) {
      const qty = incoming.get(l.id);
      if (!qty) continue;
      received[l.sku] = qty;
      bookings.push({ skuId: l.sku_id, locationId, quantity: qty, reason: 'receipt', reference: `po:${po.id}`, actor: by.actor });
    }
    await book(trx, bookings);
    const shelf = new Map((await lockAvailable(trx, skuIds, locationId)).map((l) => [l.skuId, l.available]));

    const allocated: ReceiveResult['allocated'] = [];
    const reservations: Booking[] = [];
    for (const w of waiting.rows) {
      const order = orders.get(w.order_id)!;
      const f = await trx
        .selectFrom('fulfillments')
        .select(['id', 'order_id', 'location_id', 'kind', 'state', 'purchase_order_id'])
        .where('id', '=', w.fulfilment_id)
        .forUpdate()
        .executeTakeFirstOrThrow();
      if (f.state !== 'backordered' || order.state === 'cancelled' || order.state === 'needs_attention') continue;
      const taken = await takeForBackorder(trx, order, f, shelf, by);
      if (taken === null) continue;
      allocated.push({ orderId: order.id, fulfilmentId: taken.fulfilmentId });
      for (const t of taken.lines) {
        reservations.push({ skuId: t.skuId, locationId, quantity: t.quantity, reason: 'reservation', reference: `order:${order.id}`, note: `fulfilment ${taken.fulfilmentId}`, actor: by.actor });
      }
    }
    await book(trx, reservations);
    for (const order of orders.values()) await settleOrderState(trx, order, by);

    for (const [lineId, qty] of incoming) {
      await trx.updateTable('purchase_order_lines').set({ quantity_received: sql`quantity_received + ${qty}` }).where('id', '=', lineId).execute();
    }
    const open = await trx
      .selectFrom('purchase_order_lines')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('purchase_order_id', '=', po.id)
      .whereRef('quantity_received', '<', 'quantity')
      .executeTakeFirstOrThrow();
    const status = open.n === 0 ? ('received' as const) : ('partially_received' as const);
    await trx.updateTable('purchase_orders').set({ status, updated_at: sql`now()` }).where('id', '=', po.id).execute();
    return { purchaseOrderId: po.id, received, allocated, status, skuIds };
  });
  await afterCommit(app, { ready: result.allocated.map((a) => a.fulfilmentId), stockChanged: result.skuIds });
  const { skuIds: _skuIds, ...report } = result;
  return report;
}

/**
 * Gives a backordered fulfilment what the shelf has. All of it: the
 * fulfilment itself becomes allocated. Part of it: the covered part is split
 * off as a new allocated fulfilment and the rest keeps waiting.
 */
async function takeForBackorder(
  trx: Trx,
  order: LockedOrder,
  f: FulfilmentRow,
  shelf: Map<number, number>,
  by: By,
): Promise<{ fulfilmentId: number; lines: Need[] } | null> {
  const lines = await trx
    .selectFrom('fulfillment_lines')
    .innerJoin('order_lines', 'order_lines.id', 'fulfillment_lines.order_line_id')
    .select(['fulfillment_lines.id', 'order_line_id', 'order_lines.sku_id', 'fulfillment_lines.quantity'])
    .where('fulfillment_id', '=', f.id)
    .orderBy('order_line_id')
    .execute();
  const taken: Need[] = [];
  let whole = true;
  for (const l of lines) {
    const have = l.sku_id === null ? 0 : Math.max(0, shelf.get(l.sku_id) ?? 0);
    const qty = Math.min(have, l.quantity);
    if (qty < l.quantity) whole = false;
    if (qty > 0) {
      taken.push({ lineId: l.order_line_id, skuId: l.sku_id!, quantity: qty });
      shelf.set(l.sku_id!, have - qty);
    }
  }
  if (taken.length === 0) return null;
  const reason = `stock received: purchase order receipt at location ${f.location_id}`;
  if (whole) {
    await moveFulfilment(trx, f, 'allocated', { ...by, reason });
    return { fulfilmentId: f.id, lines: taken };
  }
  for (const t of taken) {
    const line = lines.find((l) => l.order_line_id === t.lineId)!;
    if (t.quantity === line.quantity) await trx.deleteFrom('fulfillment_lines').where('id', '=', line.id).execute();
    else await trx.updateTable('fulfillment_lines').set({ quantity: line.quantity - t.quantity }).where('id', '=', line.id).execute();
  }
  const part = await createFulfilment(trx, order, { kind: 'warehouse', state: 'allocated', locationId: f.location_id, purchaseOrderId: null, lines: taken }, {
    ...by,
    reason: `${reason}: part of backordered fulfilment ${f.id}`,
  });
  return { fulfilmentId: part.id, lines: taken };
}

export interface PurchaseOrderSummary {
  id: number;
  kind: 'stock' | 'dropship';
  status: string;
  supplier: string | null;
  location: string | null;
  expectedAt: Date | null;
  lines: Array<{ sku: string; quantity: number; received: number }>;
}

/** Purchase orders, newest first; `status` filters (e.g. draft, or several), `limit` keeps the newest that many. */
export async function listPurchaseOrders(db: Db, status?: string | readonly string[], limit?: number): Promise<PurchaseOrderSummary[]> {
  let query = db
    .selectFrom('purchase_orders as po')
    .leftJoin('suppliers as s', 's.id', 'po.supplier_id')
    .leftJoin('locations as loc', 'loc.id', 'po.location_id')
    .select(['po.id', 'po.kind', 'po.status', 's.name as supplier', 'loc.code as location', 'po.expected_at'])
    .orderBy('po.id', 'desc');
  if (typeof status === 'string') query = query.where('po.status', '=', status as 'draft');
  else if (status) query = query.where('po.status', 'in', status as Array<'draft'>);
  if (limit !== undefined) query = query.limit(limit);
  const pos = await query.execute();
  if (pos.length === 0) return [];
  const lines = await db
    .selectFrom('purchase_order_lines as pl')
    .innerJoin('skus', 'skus.id', 'pl.sku_id')
    .select(['pl.purchase_order_id', 'skus.sku', sql<number>`sum(pl.quantity)::int`.as('quantity'), sql<number>`sum(pl.quantity_received)::int`.as('received')])
    .where('pl.purchase_order_id', 'in', pos.map((p) => p.id))
    .groupBy(['pl.purchase_order_id', 'skus.sku'])
    .orderBy('skus.sku')
    .execute();
  return pos.map((p) => ({
    id: p.id,
    kind: p.kind,
    status: p.status,
    supplier: p.supplier,
    location: p.location,
    expectedAt: p.expected_at,
    lines: lines.filter((l) => l.purchase_order_id === p.id).map((l) => ({ sku: l.sku, quantity: l.quantity, received: l.received })),
  }));
}
