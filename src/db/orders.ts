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
 * Orders written by one statement at most. A page travels as two JSON
 * parameters (headers, lines), so no bind-parameter limit applies; this only
 * bounds the size of one statement for very large batches (a backfill).
 */
const ORDERS_PER_STATEMENT = 1_000;

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
export function upsertOrders(db: Trx, channelId: number, orders: UnifiedOrder[], options: UpsertOptions = {}): Promise<UpsertResult[]> {
  return upsertPage(db, channelId, orders, options, null);
}

/**
 * `upsertOrders`; with `clearRejectedExcept`, the statement that writes the
 * orders also clears the `rejected_orders` record of each one it wrote,
 * except those ids (the page's own set-aside copies): one round trip less a page.
 */
async function upsertPage(
  db: Trx,
  channelId: number,
  orders: UnifiedOrder[],
  options: UpsertOptions,
  clearRejectedExcept: readonly string[] | null,
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

  const written: WrittenRow[] = [];
  for (const part of chunks(batch, ORDERS_PER_STATEMENT)) written.push(...(await writeOrders(db, channelId, part, replaceSameTime, clearRejectedExcept)));

  const byExternal = new Map(written.map((row) => [row.external_id, row]));
  const changed = batch.filter((o) => byExternal.has(o.externalId));
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
    // The whole page saves: the statement that writes it also clears the rejections of what it wrote.
    results = await upsertPage(trx, channelId, orders, options, rejected.map((r) => r.externalId));
    await sql`RELEASE SAVEPOINT cs_page`.execute(trx);
    if (rejected.length > 0) await recordRejectedOrders(trx, channelId, options.source, rejected);
    return { results, rejected };
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
  // Only after a refusal (the page was saved order by order).
  const refused = new Set(rejected.map((r) => r.externalId));
  await clearRejectedOrders(trx, channelId, results.filter((r) => r.outcome !== 'stale' && !refused.has(r.externalId)).map((r) => r.externalId));
  if (rejected.length > 0) await recordRejectedOrders(trx, channelId, options.source, rejected);
  return { results, rejected };
}

/**
 * `saveOrdersSettingAside` in a transaction of its own, with whatever else
 * belongs to the page (`alsoInTransaction`: a poll's cursor). For the common
 * page nothing is refused, so it is first written without a savepoint: begin,
 * one statement, the caller's writes, commit, the round trips of a plain
 * multi-row insert. Should Postgres refuse a value of one of its orders, that
 * transaction is rolled back whole and the page saved again in a new one by
 * `saveOrdersSettingAside` (savepoints, the refused orders set aside), so one
 * bad order still never blocks the others, and nothing of the first try stays.
 */
export async function saveOrdersInTransaction(
  db: Db,
  channelId: number,
  orders: UnifiedOrder[],
  options: UpsertOptions & { source: RejectionSource; alsoRejected?: readonly RejectedOrder[] },
  alsoInTransaction: (trx: Trx) => Promise<void>,
): Promise<SavedPage> {
  try {
    return await db.transaction().execute(async (trx) => {
      const rejected = [...(options.alsoRejected ?? [])];
      const results = await upsertPage(trx, channelId, orders, options, rejected.map((r) => r.externalId));
      if (rejected.length > 0) await recordRejectedOrders(trx, channelId, options.source, rejected);
      await alsoInTransaction(trx);
      return { results, rejected };
    });
  } catch (err) {
    if (!refusedValue(err)) throw err;
    return db.transaction().execute(async (trx) => {
      const saved = await saveOrdersSettingAside(trx, channelId, orders, options);
      await alsoInTransaction(trx);
      return saved;
    });
  }
}

/** A row the page's statement wrote (inserted, or updated because the copy was newer). */
interface WrittenRow {
  id: number;
  external_id: string;
  inserted: boolean;
}

/**
 * The columns of an order that come from the channel, with their types in the
 * page's JSON (`headerJson`); the statement's insert, its update and its
 * recordset are all read from this one list.
 */
const ORDER_FIELDS = [
  ['order_number', 'text'], ['channel_state', 'text'], ['financial_status', 'text'], ['fulfillment_status', 'text'],
  ['currency', 'text'], ['presentment_currency', 'text'],
  ['subtotal', 'numeric'], ['shipping', 'numeric'], ['tax', 'numeric'], ['discount', 'numeric'], ['total', 'numeric'],
  ['customer_email', 'text'], ['customer_name', 'text'], ['customer', 'jsonb'], ['billing_address', 'jsonb'], ['shipping_address', 'jsonb'],
  ['placed_at', 'timestamptz'], ['channel_updated_at', 'timestamptz'], ['cancelled_at', 'timestamptz'], ['closed_at', 'timestamptz'],
] as const;
/** The same for a line (`lineJson`); `order_id` comes from the written order, `sku_id` from `skus`. */
const LINE_FIELDS = [
  ['external_id', 'text'], ['sku', 'text'], ['title', 'text'], ['quantity', 'integer'], ['unit_price', 'numeric'], ['tax', 'numeric'],
  ['discount', 'numeric'], ['quantity_fulfilled_on_channel', 'integer'],
  ['product_external_id', 'text'], ['variant_external_id', 'text'], ['inventory_item_external_id', 'text'],
] as const;
// Webhook bodies (Shopify's REST shape) carry no product, variant or inventory item id: keep what a poll stored.
const KEPT_WHEN_MISSING = new Set(['product_external_id', 'variant_external_id', 'inventory_item_external_id']);

const names = (fields: ReadonlyArray<readonly [string, string]>) => sql.raw(fields.map(([name]) => name).join(', '));
const record = (fields: ReadonlyArray<readonly [string, string]>) => sql.raw(fields.map(([name, type]) => `${name} ${type}`).join(', '));
const ORDER_UPDATES = sql.raw(ORDER_FIELDS.map(([name]) => `${name} = excluded.${name}`).join(', '));
const LINE_UPDATES = sql.raw(
  LINE_FIELDS.filter(([name]) => name !== 'external_id')
    .map(([name]) => (KEPT_WHEN_MISSING.has(name) ? `${name} = COALESCE(excluded.${name}, order_lines.${name})` : `${name} = excluded.${name}`))
    .join(', '),
);

/**
 * Writes a batch of orders with their lines in ONE statement, so a page is one
 * round trip to Postgres however many orders it holds (`npm run bench -- ingest`:
 * the round trips were most of a page's time on a loaded machine). The page
 * travels as two JSON parameters read by `jsonb_to_recordset`; then, in order:
 *
 * - the orders are upserted under the newer-wins rule (`ON CONFLICT ... WHERE`);
 *   only the rows it wrote are returned, and only their lines are touched, so a
 *   re-pulled unchanged order writes nothing;
 * - their lines are upserted by the channel's line id, with `sku_id` from the
 *   SKUs channelsync knows; a line an updated order no longer lists keeps its
 *   row (fulfilments may point at it) with quantity 0. Our own counters
 *   (quantity_fulfilled, quantity_refunded) are never overwritten;
 * - with `clearRejectedExcept`, the rejections of the orders written are cleared.
 *
 * Lines without a SKU, or with one channelsync does not know, are imported and
 * the order flagged (`missing_sku`, `unknown_sku`), never dropped; flags other
 * modules set are kept. A value Postgres refuses fails the whole statement, as
 * one multi-row insert did (`saveOrdersSettingAside` then goes order by order).
 */
async function writeOrders(db: Trx, channelId: number, batch: UnifiedOrder[], replaceSameTime: boolean, clearRejectedExcept: readonly string[] | null): Promise<WrittenRow[]> {
  const cleared = clearRejectedExcept
    ? sql`, cleared AS (
        DELETE FROM rejected_orders r USING written w
        WHERE r.channel_id = ${channelId} AND r.external_id = w.external_id AND NOT (r.external_id = ANY(${[...clearRejectedExcept]}::text[])))`
    : sql``;
  const { rows } = await sql<WrittenRow>`
    WITH incoming AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(batch.map(headerJson))}::jsonb)
        AS x(external_id text, ${record(ORDER_FIELDS)}, raw jsonb, missing_sku boolean, live_skus text[])
    ), incoming_lines AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(batch.flatMap(lineJson))}::jsonb)
        AS x(order_external_id text, ${record(LINE_FIELDS)})
    ), written AS (
      INSERT INTO orders AS o (channel_id, external_id, ${names(ORDER_FIELDS)}, flags, raw)
      SELECT ${channelId}, i.external_id, ${names(ORDER_FIELDS)},
        array_remove(ARRAY[
          CASE WHEN i.missing_sku THEN 'missing_sku' END,
          CASE WHEN EXISTS (SELECT 1 FROM unnest(i.live_skus) AS s(sku) WHERE NOT EXISTS (SELECT 1 FROM skus k WHERE k.sku = s.sku)) THEN 'unknown_sku' END
        ], NULL),
        -- A JSON null becomes SQL NULL in the recordset; the column holds what the channel sent, and it sent nothing.
        COALESCE(i.raw, 'null'::jsonb)
      FROM incoming i
      ON CONFLICT (channel_id, external_id) DO UPDATE SET ${ORDER_UPDATES}, raw = excluded.raw,
        flags = ARRAY(SELECT f FROM unnest(o.flags) f WHERE f NOT IN ('missing_sku', 'unknown_sku')) || excluded.flags,
        updated_at = now()
      -- Gone on the channel: any copy is from before the deletion.
      WHERE NOT (${DELETED_ON_CHANNEL} = ANY(o.flags))
        AND (o.channel_updated_at < excluded.channel_updated_at
          OR (${replaceSameTime}::boolean AND o.channel_updated_at = excluded.channel_updated_at AND o.raw IS DISTINCT FROM excluded.raw))
      RETURNING o.id, o.external_id, (o.xmax = 0) AS inserted
    ), upserted_lines AS (
      INSERT INTO order_lines (order_id, sku_id, ${names(LINE_FIELDS)})
      SELECT w.id, k.id, ${sql.raw(LINE_FIELDS.map(([name]) => `l.${name}`).join(', '))}
      FROM incoming_lines l JOIN written w ON w.external_id = l.order_external_id LEFT JOIN skus k ON k.sku = l.sku
      ON CONFLICT (order_id, external_id) DO UPDATE SET ${LINE_UPDATES}, sku_id = excluded.sku_id
    ), dropped_lines AS (
      -- Only an updated order can have lines the channel dropped; an inserted one has just these.
      UPDATE order_lines ol SET quantity = 0
      FROM written w
      WHERE ol.order_id = w.id AND NOT w.inserted AND ol.quantity > 0
        AND NOT EXISTS (SELECT 1 FROM incoming_lines l WHERE l.order_external_id = w.external_id AND l.external_id = ol.external_id)
    )${cleared}
    SELECT id, external_id, inserted FROM written`.execute(db);
  return rows;
}

/** An order's channel columns for the page's JSON (`ORDER_FIELDS`), and what its flags need. */
function headerJson(o: UnifiedOrder) {
  const live = o.lines.filter((l) => l.quantity > 0);
  return {
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
    customer_name: [o.customer?.firstName, o.customer?.lastName].filter(Boolean).join(' ') || null,
    customer: o.customer,
    billing_address: o.billingAddress,
    shipping_address: o.shippingAddress,
    placed_at: timestamp(o.placedAt),
    channel_updated_at: timestamp(o.updatedAt),
    cancelled_at: timestamp(o.cancelledAt),
    closed_at: timestamp(o.closedAt),
    raw: o.raw ?? null,
    missing_sku: live.some((l) => !l.sku),
    live_skus: live.flatMap((l) => (l.sku ? [l.sku] : [])),
  };
}

/**
 * A time for the page's JSON. An invalid Date would become JSON null, and a
 * nullable column would quietly lose it; as text Postgres refuses it (22007),
 * so the order is set aside with the reason, as a bind parameter did.
 */
function timestamp(d: Date | null): string | null {
  if (d === null) return null;
  return Number.isNaN(d.getTime()) ? `invalid date ${String(d)}` : d.toISOString();
}

/** An order's lines for the page's JSON (`LINE_FIELDS`). */
function lineJson(o: UnifiedOrder) {
  return o.lines.map((l) => ({
    order_external_id: o.externalId,
    external_id: l.externalId,
    sku: l.sku || null,
    title: l.title,
    quantity: l.quantity,
    unit_price: money(l.unitPrice),
    tax: money(l.tax),
    discount: money(l.discount),
    quantity_fulfilled_on_channel: l.quantityFulfilledOnChannel,
    product_external_id: l.productExternalId,
    variant_external_id: l.variantExternalId,
    inventory_item_external_id: l.inventoryItemExternalId,
  }));
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
