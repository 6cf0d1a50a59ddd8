/**
 * Warehouse returns: goods a customer sent back, booked in against the lines
 * that were shipped, each unit with its condition:
 * - `restock`: back on the shelf it left from (a `return_restock` movement,
 *   on hand +1, at the location of the line's most recent warehouse shipment);
 * - `damaged`: came back but cannot be sold: booked in and written off at
 *   once (`return_restock` +1 then `damage` -1, both `return:<id>`), so the
 *   ledger shows the unit back and why it is not sellable, and available
 *   stock does not change;
 * - `discard`: recorded on the return only (thrown away, kept by the
 *   customer): no movement.
 * The return, its lines, the movements and the order's history commit
 * together; channels are told about the new stock after the commit.
 * Approving a return refunds it on the channel: `approveReturn` (refunds.ts).
 */
import type { App } from '../app.ts';
import { ConfigError, PermanentError } from '../domain/errors.ts';
import { recordMovements, movementFor } from '../stock/ledger.ts';
import { kickStockPushes } from '../outbox/index.ts';
import { inTransaction, lockOrder, type By, type Trx } from './transitions.ts';
import type { ReturnCondition } from '../db/schema.ts';

/**
 * One line of a return: an order line by id, or by SKU (spread over the order's lines of that SKU),
 * with the units' condition (default: `restock` when the return restocks, else `discard`). The same
 * line may come twice with different conditions (one restocked, one damaged).
 */
export type ReturnLineInput = ({ sku: string; orderLineId?: undefined } | { orderLineId: number; sku?: undefined }) & { quantity: number; condition?: ReturnCondition };

export interface ReturnOptions {
  /** The condition of lines that name none: true `restock`, false `discard`. */
  restock: boolean;
  reason?: string | null;
  /** The caller's own reference (an RMA number): the same reference twice records one return. */
  reference?: string | null;
}

export interface ReturnResult {
  returnId: number;
  orderId: number;
  /** False when a return with this reference existed already (nothing was changed). */
  created: boolean;
  status: 'received' | 'restocked';
  reference: string | null;
  lines: Array<{ orderLineId: number; sku: string | null; quantity: number; restock: boolean; condition: ReturnCondition; locationId: number | null }>;
}

interface LineFacts {
  id: number;
  sku: string | null;
  sku_id: number | null;
  shipped: number;
  returned: number;
  /** Location of the line's most recent warehouse shipment (null: only a supplier shipped it). */
  location_id: number | null;
}

/**
 * Records a return of shipped goods. Refuses (and records nothing) when a
 * line is not on the order (ConfigError) or more would be returned than was
 * shipped and not yet returned (PermanentError).
 */
export async function recordReturn(app: App, orderId: number, lines: ReturnLineInput[], opts: ReturnOptions, by: By): Promise<ReturnResult> {
  if (lines.length === 0) throw new ConfigError('a return needs at least one line');
  for (const l of lines) {
    const what = l.sku !== undefined ? `SKU ${l.sku}` : `order line ${l.orderLineId}`;
    if (!Number.isInteger(l.quantity) || l.quantity <= 0) throw new ConfigError(`${what}: quantity must be a whole number above 0, got ${l.quantity}`);
  }
  const reference = opts.reference?.trim() || null;

  let result: ReturnResult;
  let restockedSkus: number[] = [];
  try {
    result = await inTransaction(app.db, async (trx) => {
      restockedSkus = [];
      const order = await lockOrder(trx, orderId);
      if (reference) {
        const existing = await existingReturn(trx, reference);
        if (existing) return sameOrder(existing, orderId);
      }
      const facts = await lineFacts(trx, orderId);
      const fallback: ReturnCondition = opts.restock ? 'restock' : 'discard';
      const booked = assign(order.order_number, facts, lines.map((l) => ({ ...l, condition: l.condition ?? fallback })));
      for (const b of booked) {
        if (b.condition === 'discard') continue;
        const f = b.line;
        if (f.sku_id === null) throw new ConfigError(`order line ${f.id} has no known SKU to book in as ${b.condition}: record it as discard (--no-restock, restock: false)`);
        if (f.location_id === null) {
          throw new ConfigError(`order line ${f.id} (${f.sku}) was shipped by a supplier, not from a location: record it as discard (--no-restock, restock: false)`);
        }
      }
      const status = booked.some((b) => b.condition === 'restock') ? 'restocked' : 'received';
      const ret = await trx
        .insertInto('returns')
        .values({ order_id: orderId, status, reason: opts.reason ?? null, reference })
        .returning('id')
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('return_lines')
        .values(booked.map((b) => ({ return_id: ret.id, order_line_id: b.line.id, quantity: b.quantity, restock: b.condition === 'restock', condition: b.condition })))
        .execute();
      const moved = booked.filter((b) => b.condition !== 'discard');
      restockedSkus = [...new Set(moved.map((b) => b.line.sku_id!))];
      await recordMovements(
        trx,
        moved.flatMap((b) => {
          const reference = `return:${ret.id}`;
          const back = { ...movementFor.returnRestock(b.line.sku_id!, b.line.location_id!, b.quantity, reference), note: `order ${orderId}`, actor: by.actor };
          if (b.condition === 'restock') return [back];
          return [back, { ...movementFor.damage(b.line.sku_id!, b.line.location_id!, b.quantity, reference), note: `order ${orderId}: returned damaged`, actor: by.actor }];
        }),
      );
      const summary = booked.map((b) => `${b.quantity} x ${b.line.sku ?? `line ${b.line.id}`}${b.condition === 'restock' ? '' : ` (${b.condition})`}`).join(', ');
      // The order's state does not change: the row says what came back, and why.
      await trx
        .insertInto('order_history')
        .values({
          order_id: orderId,
          fulfillment_id: null,
          actor: by.actor,
          from_state: order.state,
          to_state: order.state,
          reason: `return ${ret.id}${reference ? ` (${reference})` : ''} ${status}: ${summary}${by.reason ? `; ${by.reason}` : ''}`,
        })
        .execute();
      return {
        returnId: ret.id,
        orderId,
        created: true,
        status,
        reference,
        lines: booked.map((b) => ({
          orderLineId: b.line.id,
          sku: b.line.sku,
          quantity: b.quantity,
          restock: b.condition === 'restock',
          condition: b.condition,
          locationId: b.condition === 'discard' ? null : b.line.location_id,
        })),
      } satisfies ReturnResult;
    });
  } catch (err) {
    // The same reference sent twice at once: the other request's return committed first.
    if (reference && (err as { code?: string }).code === '23505' && (err as { constraint?: string }).constraint === 'returns_reference_key') {
      const existing = await existingReturn(app.db, reference);
      if (existing) return sameOrder(existing, orderId);
    }
    throw err;
  }

  if (result.created) await kickStockPushes(app, restockedSkus);
  return result;
}

function sameOrder(existing: ReturnResult, orderId: number): ReturnResult {
  if (existing.orderId !== orderId) {
    throw new ConfigError(`reference "${existing.reference}" is already used by return ${existing.returnId} of order ${existing.orderId}`);
  }
  return existing;
}

async function existingReturn(db: Trx | App['db'], reference: string): Promise<ReturnResult | null> {
  const ret = await db.selectFrom('returns').select(['id', 'order_id', 'status', 'reference']).where('reference', '=', reference).executeTakeFirst();
  if (!ret) return null;
  const lines = await db
    .selectFrom('return_lines')
    .innerJoin('order_lines', 'order_lines.id', 'return_lines.order_line_id')
    .select(['return_lines.order_line_id', 'order_lines.sku', 'return_lines.quantity', 'return_lines.restock', 'return_lines.condition'])
    .where('return_lines.return_id', '=', ret.id)
    .orderBy('return_lines.id')
    .execute();
  return {
    returnId: ret.id,
    orderId: ret.order_id,
    created: false,
    status: ret.status === 'restocked' ? 'restocked' : 'received',
    reference: ret.reference,
    lines: lines.map((l) => ({ orderLineId: l.order_line_id, sku: l.sku, quantity: l.quantity, restock: l.restock, condition: l.condition, locationId: null })),
  };
}

/** Per order line: units shipped, units already returned, and where its last warehouse shipment left from. */
async function lineFacts(trx: Trx, orderId: number): Promise<LineFacts[]> {
  return trx
    .selectFrom('order_lines as l')
    .select((eb) => [
      'l.id',
      'l.sku',
      'l.sku_id',
      eb
        .selectFrom('shipment_lines as sl')
        .innerJoin('shipments as s', 's.id', 'sl.shipment_id')
        .innerJoin('fulfillments as f', 'f.id', 's.fulfillment_id')
        .select((e) => e.fn.coalesce(e.fn.sum<number>('sl.quantity'), e.lit(0)).as('n'))
        .whereRef('sl.order_line_id', '=', 'l.id')
        .where('f.order_id', '=', orderId)
        .$castTo<number>()
        .as('shipped'),
      eb
        .selectFrom('return_lines as rl')
        .innerJoin('returns as r', 'r.id', 'rl.return_id')
        .select((e) => e.fn.coalesce(e.fn.sum<number>('rl.quantity'), e.lit(0)).as('n'))
        .whereRef('rl.order_line_id', '=', 'l.id')
        .where('r.status', '<>', 'rejected')
        .$castTo<number>()
        .as('returned'),
      eb
        .selectFrom('shipment_lines as sl')
        .innerJoin('shipments as s', 's.id', 'sl.shipment_id')
        .innerJoin('fulfillments as f', 'f.id', 's.fulfillment_id')
        .select('f.location_id')
        .whereRef('sl.order_line_id', '=', 'l.id')
        .where('f.location_id', 'is not', null)
        .orderBy('s.shipped_at', 'desc')
        .orderBy('s.id', 'desc')
        .limit(1)
        .$castTo<number | null>()
        .as('location_id'),
    ])
    .where('l.order_id', '=', orderId)
    .orderBy('l.id')
    .execute()
    .then((rows) => rows.map((r) => ({ ...r, shipped: Number(r.shipped), returned: Number(r.returned) })));
}

/** Matches the requested lines to order lines, refusing anything not on the order or not returnable. One entry per line and condition. */
function assign(
  orderNumber: string,
  facts: LineFacts[],
  lines: Array<ReturnLineInput & { condition: ReturnCondition }>,
): Array<{ line: LineFacts; quantity: number; condition: ReturnCondition }> {
  const taken = new Map<number, number>();
  const booked = new Map<string, { line: LineFacts; quantity: number; condition: ReturnCondition }>();
  const left = (f: LineFacts) => f.shipped - f.returned - (taken.get(f.id) ?? 0);
  for (const req of lines) {
    const matches = req.sku !== undefined ? facts.filter((f) => f.sku === req.sku) : facts.filter((f) => f.id === req.orderLineId);
    const what = req.sku !== undefined ? `SKU ${req.sku}` : `order line ${req.orderLineId}`;
    if (matches.length === 0) throw new ConfigError(`${what} is not on order ${orderNumber}`);
    const returnable = matches.reduce((n, f) => n + Math.max(0, left(f)), 0);
    if (req.quantity > returnable) {
      const shipped = matches.reduce((n, f) => n + f.shipped, 0);
      const returned = matches.reduce((n, f) => n + f.returned, 0);
      throw new PermanentError(
        `${what} on order ${orderNumber}: cannot return ${req.quantity}, only ${returnable} can be (${shipped} shipped, ${returned} returned already${
          returnable < shipped - returned ? ', the rest earlier in this return' : ''
        })`,
      );
    }
    // Several lines of one SKU: fill them in line order.
    let rest = req.quantity;
    for (const f of matches) {
      const n = Math.min(rest, Math.max(0, left(f)));
      if (n > 0) {
        taken.set(f.id, (taken.get(f.id) ?? 0) + n);
        const key = `${f.id}:${req.condition}`;
        const seen = booked.get(key);
        booked.set(key, { line: f, quantity: (seen?.quantity ?? 0) + n, condition: req.condition });
      }
      rest -= n;
    }
  }
  return [...booked.values()].sort((a, b) => a.line.id - b.line.id);
}
