/**
 * Saving channel orders. The one rule that matters: an order row only changes
 * when the incoming channel `updatedAt` is newer than the stored one, so
 * out-of-order webhooks and overlapping polls can never put stale data back.
 * The rule lives in the SQL (`ON CONFLICT ... WHERE`), so it holds across
 * processes without locks.
 *
 * An order and its lines are one write: the writing functions take a
 * transaction (`Trx`), never a pool (`Db`), so a header can never commit
 * without its lines. The header's row lock, held to the commit, also makes a
 * concurrent copy of the same order (a poll racing a webhook) wait and then
 * see the committed header and lines together.
 */
import { sql } from 'kysely';
import type { Db, Trx } from './index.ts';
import type { UnifiedOrder } from '../domain/order.ts';
import { money } from '../domain/money.ts';
import { recordChannelRefunds } from './refunds.ts';
import { clearRejectedOrders, recordRejectedOrders, type RejectedOrder, type RejectionSource } from './rejected.ts';

export type UpsertOutcome = 'inserted' | 'updated' | 'stale';

export interface UpsertResult {
  orderId: number | null;
  externalId: string;
  outcome: UpsertOutcome;
  /** SKUs whose stock the order's new refunds put back on the shelf (their pushes are owed; kick them after the commit). */
  restockedSkuIds?: number[];
}

type Executor = Db | Trx;

/**
 * Postgres takes at most 65,535 bind parameters in one statement; rows are
 * written in chunks that stay well below it (an order row has ~24 columns, a
 * line ~13), so a 6,000-line order is saved like any other.
 */
const ORDER_ROWS_PER_STATEMENT = 1_000;
const LINE_ROWS_PER_STATEMENT = 2_000;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface UpsertOptions {
  /**
   * What to do when the incoming version has the same channel `updatedAt` as
   * the stored one but different content. Some channels (WooCommerce) stamp
   * modifications to the second, so two real changes can share a time.
   * `keep` (default) keeps the stored row; `replace` takes the incoming one,
   * for data read from the channel just now (a poll or a fetch), which is
   * current at least as of its read. A poll's overlap window re-reads such
   * orders, so the store converges on the channel's latest content.
   */
  sameTimestamp?: 'keep' | 'replace';
}

/**
 * Upserts a page of orders with their lines, in the caller's transaction
 * (with the sync cursor, or the webhook delivery's status). Returns one result
 * per distinct external id.
 */
export async function upsertOrders(
  db: Trx,
  channelId: number,
  orders: UnifiedOrder[],
  options: UpsertOptions = {},
): Promise<UpsertResult[]> {
  const replaceSameTime = options.sameTimestamp === 'replace';
  if (orders.length === 0) return [];
  // One statement cannot touch a row twice: keep the newest copy of each order.
  const newest = new Map<string, UnifiedOrder>();
  for (const order of orders) {
    const seen = newest.get(order.externalId);
    if (!seen || seen.updatedAt < order.updatedAt) newest.set(order.externalId, order);
  }
  const batch = [...newest.values()];
  const skuIds = await resolveSkus(db, batch);

  const written = [];
  for (const part of chunks(batch, ORDER_ROWS_PER_STATEMENT)) written.push(...(await upsertHeaders(db, channelId, part, skuIds, replaceSameTime)));

  const byExternal = new Map(written.map((row) => [row.external_id, row]));
  const changed = batch.filter((o) => byExternal.has(o.externalId));
  await replaceLines(db, changed.map((o) => ({ orderId: byExternal.get(o.externalId)!.id, order: o, inserted: byExternal.get(o.externalId)!.inserted })), skuIds);
  await recordCancelRequests(db, changed.map((o) => ({ orderId: byExternal.get(o.externalId)!.id, request: o.cancelRequest })));
  // Refunds ride with their order, in its transaction (src/db/refunds.ts): recorded once, restocked once.
  const restocked = new Map<string, number[]>();
  for (const o of changed) {
    if (o.refunds === undefined) continue;
    const skus = await recordChannelRefunds(db, byExternal.get(o.externalId)!.id, o.currency, o.refunds);
    if (skus.length > 0) restocked.set(o.externalId, skus);
  }

  return batch.map((o) => {
    const row = byExternal.get(o.externalId);
    if (!row) return { orderId: null, externalId: o.externalId, outcome: 'stale' as const };
    const skus = restocked.get(o.externalId);
    return { orderId: row.id, externalId: o.externalId, outcome: row.inserted ? ('inserted' as const) : ('updated' as const), ...(skus ? { restockedSkuIds: skus } : {}) };
  });
}

/**
 * Postgres refused a value of the order itself: a data exception (SQLSTATE
 * class 22: out of range, bad text or encoding, such as a NUL in a string) or
 * a CHECK or NOT NULL the row breaks. Saving the same order again cannot
 * succeed. Anything else (a lost connection, a deadlock, a foreign key a
 * concurrent change broke) is not the order's fault and fails the write.
 */
function refusedValue(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code === '23514' || code === '23502');
}

/** What `saveOrdersSettingAside` saved and what it set aside. */
export interface SavedPage {
  results: UpsertResult[];
  /** Orders that could not be saved, recorded in `rejected_orders`, with the caller's own. */
  rejected: RejectedOrder[];
}

/**
 * Saves a page like `upsertOrders`, but an order the database refuses is set
 * aside instead of failing the page: the page is tried in one go; on a refused
 * value it is rolled back to a savepoint and saved one order at a time, each
 * in its own savepoint, and the refused ones are recorded in `rejected_orders`
 * (with `alsoRejected`, the orders the connector could not read), all in the
 * caller's transaction. So the cursor saved with the page moves past them
 * visibly, and one bad order never blocks the others. Orders that save clear
 * their earlier rejection.
 */
export async function saveOrdersSettingAside(
  trx: Trx,
  channelId: number,
  orders: UnifiedOrder[],
  options: UpsertOptions & { source: RejectionSource; alsoRejected?: readonly RejectedOrder[] },
): Promise<SavedPage> {
  const rejected: RejectedOrder[] = [...(options.alsoRejected ?? [])];
  let results: UpsertResult[];
  await sql`SAVEPOINT cs_page`.execute(trx);
  try {
    results = await upsertOrders(trx, channelId, orders, options);
    await sql`RELEASE SAVEPOINT cs_page`.execute(trx);
  } catch (err) {
    if (!refusedValue(err)) throw err;
    await sql`ROLLBACK TO SAVEPOINT cs_page`.execute(trx);
    results = [];
    for (const order of orders) {
      await sql`SAVEPOINT cs_order`.execute(trx);
      try {
        results.push(...(await upsertOrders(trx, channelId, [order], options)));
        await sql`RELEASE SAVEPOINT cs_order`.execute(trx);
      } catch (orderErr) {
        if (!refusedValue(orderErr)) throw orderErr;
        await sql`ROLLBACK TO SAVEPOINT cs_order`.execute(trx);
        rejected.push({ externalId: order.externalId, reason: `the database refused the order: ${orderErr.message}`, raw: order.raw });
      }
    }
    // A page can carry two copies of one order: keep one result per order, as upsertOrders does.
    results = [...new Map(results.map((r) => [r.externalId, r])).values()];
  }
  const refused = new Set(rejected.map((r) => r.externalId));
  await clearRejectedOrders(trx, channelId, results.filter((r) => r.outcome !== 'stale' && !refused.has(r.externalId)).map((r) => r.externalId));
  if (rejected.length > 0) await recordRejectedOrders(trx, channelId, options.source, rejected);
  return { results, rejected };
}

async function upsertHeaders(db: Trx, channelId: number, batch: UnifiedOrder[], skuIds: Map<string, number>, replaceSameTime: boolean) {
  return db
    .insertInto('orders')
    .values(batch.map((o) => orderRow(channelId, o, skuIds)))
    .onConflict((oc) =>
      oc
        .columns(['channel_id', 'external_id'])
        .doUpdateSet((eb) => ({
          order_number: eb.ref('excluded.order_number'),
          channel_state: eb.ref('excluded.channel_state'),
          financial_status: eb.ref('excluded.financial_status'),
          fulfillment_status: eb.ref('excluded.fulfillment_status'),
          currency: eb.ref('excluded.currency'),
          presentment_currency: eb.ref('excluded.presentment_currency'),
          subtotal: eb.ref('excluded.subtotal'),
          shipping: eb.ref('excluded.shipping'),
          tax: eb.ref('excluded.tax'),
          discount: eb.ref('excluded.discount'),
          total: eb.ref('excluded.total'),
          customer_email: eb.ref('excluded.customer_email'),
          customer_name: eb.ref('excluded.customer_name'),
          customer: eb.ref('excluded.customer'),
          billing_address: eb.ref('excluded.billing_address'),
          shipping_address: eb.ref('excluded.shipping_address'),
          placed_at: eb.ref('excluded.placed_at'),
          channel_updated_at: eb.ref('excluded.channel_updated_at'),
          cancelled_at: eb.ref('excluded.cancelled_at'),
          closed_at: eb.ref('excluded.closed_at'),
          raw: eb.ref('excluded.raw'),
          // SKU flags follow the incoming lines; flags other modules set are kept.
          flags: sql<string[]>`ARRAY(SELECT f FROM unnest(orders.flags) f WHERE f NOT IN ('missing_sku', 'unknown_sku')) || excluded.flags`,
          updated_at: sql`now()`,
        }))
        .where((eb) =>
          eb.and([
            // Gone on the channel: any copy is from before the deletion.
            sql<boolean>`NOT (${DELETED_ON_CHANNEL} = ANY(orders.flags))`,
            eb.or([
              eb('orders.channel_updated_at', '<', eb.ref('excluded.channel_updated_at')),
              eb.and([
                eb.lit(replaceSameTime),
                eb('orders.channel_updated_at', '=', eb.ref('excluded.channel_updated_at')),
                eb('orders.raw', 'is distinct from', eb.ref('excluded.raw')),
              ]),
            ]),
          ]),
        ),
    )
    .returning(['id', 'external_id', sql<boolean>`(xmax = 0)`.as('inserted')])
    .execute();
}

/**
 * True when the stored order has this exact channel time but other content:
 * a second change within the channel's timestamp resolution.
 */
export async function differsAtSameTime(db: Executor, channelId: number, order: UnifiedOrder): Promise<boolean> {
  const row = await db
    .selectFrom('orders')
    .select(sql<boolean>`raw IS DISTINCT FROM ${JSON.stringify(order.raw ?? null)}::jsonb`.as('differs'))
    .where('channel_id', '=', channelId)
    .where('external_id', '=', order.externalId)
    .where('channel_updated_at', '=', order.updatedAt)
    .executeTakeFirst();
  return row?.differs ?? false;
}

/**
 * The flag of an order the channel confirmed gone (deleted, not just
 * cancelled). Such a row is never reopened by a copy of the order sent before
 * the deletion (a delayed or replayed webhook body): nothing newer can exist.
 */
export const DELETED_ON_CHANNEL = 'deleted_on_channel';

/**
 * Marks an order as deleted on its channel: cancelled there, flagged
 * `deleted_on_channel`. Only for an order the channel itself said is gone
 * (`Connector.fetchOrder` returned null): a webhook's topic and headers are
 * not signed, so they never decide this alone. The channel's own time of the
 * order (`channel_updated_at`) is left alone, since no signed time comes with
 * a deletion; `cancelled_at` keeps a cancellation time the channel gave, else
 * now. Returns the order's id when it changed, null when unknown or already marked.
 */
export async function markOrderDeleted(db: Trx, channelId: number, externalId: string): Promise<number | null> {
  const row = await db
    .updateTable('orders')
    .set({
      channel_state: 'cancelled',
      cancelled_at: sql`COALESCE(cancelled_at, now())`,
      flags: sql`array_append(flags, ${DELETED_ON_CHANNEL})`,
      updated_at: sql`now()`,
    })
    .where('channel_id', '=', channelId)
    .where('external_id', '=', externalId)
    .where(sql<boolean>`NOT (${DELETED_ON_CHANNEL} = ANY(flags))`)
    .returning('id')
    .executeTakeFirst();
  return row?.id ?? null;
}

/** One query per page: the ids of the SKUs channelsync knows, by SKU text. */
async function resolveSkus(db: Executor, orders: UnifiedOrder[]): Promise<Map<string, number>> {
  const skus = [...new Set(orders.flatMap((o) => o.lines.map((l) => l.sku).filter((s): s is string => !!s)))];
  if (skus.length === 0) return new Map();
  const rows = await db.selectFrom('skus').select(['id', 'sku']).where('sku', '=', sql<string>`ANY(${skus}::text[])`).execute();
  return new Map(rows.map((r) => [r.sku, r.id]));
}

function orderRow(channelId: number, o: UnifiedOrder, skuIds: Map<string, number>) {
  const name = [o.customer?.firstName, o.customer?.lastName].filter(Boolean).join(' ') || null;
  // Lines without a SKU, or with one channelsync does not know, are imported and flagged, never dropped.
  const flags: string[] = [];
  const live = o.lines.filter((l) => l.quantity > 0);
  if (live.some((l) => !l.sku)) flags.push('missing_sku');
  if (live.some((l) => l.sku && !skuIds.has(l.sku))) flags.push('unknown_sku');
  return {
    channel_id: channelId,
    external_id: o.externalId,
    order_number: o.orderNumber,
    channel_state: o.channelState,
    financial_status: o.financialStatus,
    fulfillment_status: o.fulfillmentStatus,
    currency: o.currency,
    presentment_currency: o.presentmentCurrency,
    subtotal: money(o.totals.subtotal),
    shipping: money(o.totals.shipping),
    tax: money(o.totals.tax),
    discount: money(o.totals.discount),
    total: money(o.totals.total),
    customer_email: o.customer?.email ?? null,
    customer_name: name,
    customer: o.customer ? JSON.stringify(o.customer) : null,
    billing_address: o.billingAddress ? JSON.stringify(o.billingAddress) : null,
    shipping_address: o.shippingAddress ? JSON.stringify(o.shippingAddress) : null,
    placed_at: o.placedAt,
    channel_updated_at: o.updatedAt,
    cancelled_at: o.cancelledAt,
    closed_at: o.closedAt,
    flags,
    raw: JSON.stringify(o.raw ?? null),
  };
}

/**
 * A customer's cancel request rides with the order version that carries it,
 * in its transaction (only versions that were written: a stale copy changes
 * nothing). The first sighting's time is kept, so a request does not look
 * new on every poll, and a person's dismissal holds while the channel still
 * shows the same request. A request the channel no longer shows (withdrawn,
 * or settled there) is cleared with its dismissal, so a new one is shown
 * again. A connector that does not read requests (`undefined`) leaves them be.
 */
async function recordCancelRequests(db: Trx, items: Array<{ orderId: number; request: UnifiedOrder['cancelRequest'] }>): Promise<void> {
  const open = items.filter((i): i is { orderId: number; request: NonNullable<UnifiedOrder['cancelRequest']> } => !!i.request);
  const none = items.filter((i) => i.request === null).map((i) => i.orderId);
  if (open.length > 0) {
    await sql`
      UPDATE orders o SET cancel_requested_at = COALESCE(o.cancel_requested_at, v.at), cancel_request_reason = COALESCE(v.reason, o.cancel_request_reason)
      FROM unnest(${open.map((i) => i.orderId)}::bigint[], ${open.map((i) => i.request.requestedAt.toISOString())}::timestamptz[], ${open.map((i) => i.request.reason)}::text[]) AS v(id, at, reason)
      WHERE o.id = v.id`.execute(db);
  }
  if (none.length > 0) {
    await sql`
      UPDATE orders SET cancel_requested_at = NULL, cancel_request_reason = NULL, cancel_request_dismissed_at = NULL, cancel_request_dismissed_by = NULL
      WHERE id = ANY(${none}::bigint[]) AND cancel_requested_at IS NOT NULL`.execute(db);
  }
}

/**
 * Lines follow their order: upserted by the channel's line id, and a line the
 * channel no longer lists keeps its row (fulfilments may point at it) with
 * quantity 0. Our own counters (quantity_fulfilled, quantity_refunded) are
 * never overwritten by the channel.
 */
async function replaceLines(
  db: Trx,
  items: Array<{ orderId: number; order: UnifiedOrder; inserted: boolean }>,
  skuIds: Map<string, number>,
): Promise<void> {
  const rows = items.flatMap(({ orderId, order }) =>
    order.lines.map((l) => ({
      order_id: orderId,
      external_id: l.externalId,
      sku: l.sku || null,
      sku_id: (l.sku && skuIds.get(l.sku)) || null,
      title: l.title,
      quantity: l.quantity,
      unit_price: money(l.unitPrice),
      tax: money(l.tax),
      discount: money(l.discount),
      quantity_fulfilled_on_channel: l.quantityFulfilledOnChannel,
      product_external_id: l.productExternalId,
      variant_external_id: l.variantExternalId,
      inventory_item_external_id: l.inventoryItemExternalId,
    })),
  );
  for (const part of chunks(rows, LINE_ROWS_PER_STATEMENT)) {
    await db
      .insertInto('order_lines')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['order_id', 'external_id']).doUpdateSet((eb) => ({
          sku: eb.ref('excluded.sku'),
          sku_id: eb.ref('excluded.sku_id'),
          title: eb.ref('excluded.title'),
          quantity: eb.ref('excluded.quantity'),
          unit_price: eb.ref('excluded.unit_price'),
          tax: eb.ref('excluded.tax'),
          discount: eb.ref('excluded.discount'),
          quantity_fulfilled_on_channel: eb.ref('excluded.quantity_fulfilled_on_channel'),
          // Webhook bodies (Shopify's REST shape) carry no inventory item id: keep what a poll stored.
          product_external_id: sql`COALESCE(excluded.product_external_id, order_lines.product_external_id)`,
          variant_external_id: sql`COALESCE(excluded.variant_external_id, order_lines.variant_external_id)`,
          inventory_item_external_id: sql`COALESCE(excluded.inventory_item_external_id, order_lines.inventory_item_external_id)`,
        })),
      )
      .execute();
  }
  // An order inserted by this statement has no lines but the ones just written: only updated
  // orders can have lines the channel dropped (a fresh page of new orders skips the round trip).
  const ids = items.filter((i) => !i.inserted).map((i) => i.orderId);
  if (ids.length === 0) return;
  const keptOrders = rows.map((r) => r.order_id);
  const keptLines = rows.map((r) => r.external_id);
  await sql`
    UPDATE order_lines SET quantity = 0
    WHERE order_id = ANY(${ids}::bigint[]) AND quantity > 0
      AND (order_id, external_id) NOT IN (SELECT * FROM unnest(${keptOrders}::bigint[], ${keptLines}::text[]))
  `.execute(db);
}
