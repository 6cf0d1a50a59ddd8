/**
 * Importing a channel's products and variants as listings of SKUs
 * (`channelsync listings sync <channel>`). A SKU seen for the first time is
 * created; order lines imported earlier with that SKU are linked to it, and
 * their orders lose the `unknown_sku` flag.
 *
 * Stock: linking a listing says nothing about how many units exist, and
 * channelsync never pushes to a SKU it has not been told the stock of (see
 * `stockInitialised`). With `importStock`, each SKU that has no movement yet
 * gets the quantity the channel shows as an `opening_balance` movement at the
 * default location, in the same transaction as its page of listings. A SKU
 * that already has movements (set by hand, or imported from another channel
 * first) keeps them: the ledger, not this channel, is the truth from then on.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { App } from '../app.ts';
import type { ChannelListing } from '../../connectors/types.ts';
import { defaultLocation } from '../fulfilment/ledger.ts';
import { ensureDefaultLocation } from '../locations/index.ts';
import { PermanentError } from '../domain/errors.ts';
import { stockInitialised } from './ledger.ts';
import { kickStockPushes } from '../outbox/index.ts';

export interface ListingSyncReport {
  /** Listings with a SKU read from the channel. */
  listings: number;
  /** Products/variants without a SKU (cannot be linked; give them one on the channel). */
  withoutSku: number;
  skusCreated: number;
  /** Listings that are new for this channel. */
  linked: number;
  /** Order lines linked to a SKU they named but channelsync did not know. */
  orderLinesLinked: number;
  /** SKUs given the channel's quantity as opening balance (`importStock` only). */
  stockImported: number;
  /** SKUs whose stock channelsync already knew, left as they were (`importStock` only). */
  stockKept: number;
  /** Listings the channel tracks no stock for: nothing to import (`importStock` only). */
  stockUntracked: number;
  /** This channel's listings whose SKU still has no stock in channelsync: never pushed until set. */
  notInitialised: number;
  /** Code of the location opening balances went to (created now when there was none). */
  location?: { code: string; created: boolean };
}

export interface ListingSyncOptions {
  /** Take the channel's quantities as opening stock for SKUs with none yet. Default false. */
  importStock?: boolean;
  /** Recorded on opening-balance movements. Default `system`. */
  actor?: string;
  onPage?: (report: ListingSyncReport) => void;
}

export async function syncListings(app: App, channelId: number, options: ListingSyncOptions = {}): Promise<ListingSyncReport> {
  const { connector } = await app.connectors.get(channelId);
  const report: ListingSyncReport = {
    listings: 0, withoutSku: 0, skusCreated: 0, linked: 0, orderLinesLinked: 0, stockImported: 0, stockKept: 0, stockUntracked: 0, notInitialised: 0,
  };
  let locationId: number | null = null;
  if (options.importStock) {
    const created = await ensureDefaultLocation(app.db);
    locationId = await app.db.transaction().execute((trx) => defaultLocation(trx));
    if (locationId === null) throw new PermanentError('no active location to book opening stock at: activate one with "channelsync locations update <code> --activate"');
    const loc = await app.db.selectFrom('locations').select('code').where('id', '=', locationId).executeTakeFirstOrThrow();
    report.location = { code: loc.code, created: created !== null };
  }
  for await (const page of connector.listListings()) {
    const bySku = new Map<string, (typeof page)[number]>();
    for (const l of page) {
      if (!l.sku || !l.sku.trim()) report.withoutSku += 1;
      else bySku.set(l.sku.trim(), l);
    }
    const items = [...bySku.entries()];
    if (items.length === 0) continue;
    const skus = items.map(([sku]) => sku);
    let openedSkuIds: number[] = [];
    // One transaction per page: its SKUs, listings and opening balances commit together.
    await app.db.transaction().execute(async (trx) => {
      const created = await sql<{ id: number }>`
        INSERT INTO skus (sku, title)
        SELECT * FROM unnest(${skus}::text[], ${items.map(([, l]) => l.title ?? '')}::text[])
        ON CONFLICT (sku) DO NOTHING RETURNING id`.execute(trx);
      const linked = await sql<{ inserted: boolean }>`
        INSERT INTO channel_listings (channel_id, sku_id, product_external_id, variant_external_id, inventory_item_external_id)
        SELECT ${channelId}::bigint, s.id, u.product, u.variant, u.item
        FROM unnest(${skus}::text[], ${items.map(([, l]) => l.productExternalId)}::text[],
          ${items.map(([, l]) => l.variantExternalId)}::text[], ${items.map(([, l]) => l.inventoryItemExternalId)}::text[])
          AS u(sku, product, variant, item)
        JOIN skus s ON s.sku = u.sku
        ON CONFLICT (channel_id, sku_id) DO UPDATE SET
          product_external_id = EXCLUDED.product_external_id,
          variant_external_id = EXCLUDED.variant_external_id,
          inventory_item_external_id = EXCLUDED.inventory_item_external_id
        RETURNING (xmax = 0) AS inserted`.execute(trx);
      if (locationId !== null) {
        const opened = await bookOpeningBalances(trx, channelId, locationId, items, options.actor ?? 'system');
        openedSkuIds = opened.skuIds;
        report.stockImported += opened.skuIds.length;
        report.stockKept += opened.kept;
        report.stockUntracked += opened.untracked;
      }
      report.listings += items.length;
      report.skusCreated += created.rows.length;
      report.linked += linked.rows.filter((r) => r.inserted).length;
    });
    // Other channels listing these SKUs are now owed their number (this one already shows it).
    await kickStockPushes(app, openedSkuIds);
    options.onPage?.({ ...report });
  }
  report.orderLinesLinked = await linkOrderLines(app);
  report.notInitialised = await notInitialisedListings(app.db, channelId);
  return report;
}

/** Listings (of one channel, or all) whose SKU has no stock movement: never pushed, not reconciled. */
export async function notInitialisedListings(db: Kysely<Database>, channelId?: number): Promise<number> {
  const { n } = await db
    .selectFrom('channel_listings as cl')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .$if(channelId !== undefined, (q) => q.where('cl.channel_id', '=', channelId!))
    .where(sql<boolean>`NOT ${stockInitialised('cl.sku_id')}`)
    .executeTakeFirstOrThrow();
  return Number(n);
}

/**
 * Books what the channel shows as the opening balance of each SKU with no
 * movement yet. The SKU rows are locked first (in id order), so two imports
 * at once (two channels listing one SKU) book one opening balance, not two.
 */
async function bookOpeningBalances(
  trx: Parameters<typeof defaultLocation>[0],
  channelId: number,
  locationId: number,
  items: Array<[string, ChannelListing]>,
  actor: string,
): Promise<{ skuIds: number[]; kept: number; untracked: number }> {
  const tracked = items.filter(([, l]) => l.available !== null);
  const untracked = items.length - tracked.length;
  if (tracked.length === 0) return { skuIds: [], kept: 0, untracked };
  await sql`
    SELECT id FROM skus WHERE sku = ANY(${tracked.map(([sku]) => sku)}::text[]) ORDER BY id FOR NO KEY UPDATE`.execute(trx);
  // A channel showing less than 0 (oversold) has no physical meaning as on hand: booked as 0, noted.
  const booked = await sql<{ sku_id: number }>`
    INSERT INTO stock_movements (sku_id, location_id, on_hand_delta, reserved_delta, reason, reference, note, actor)
    SELECT s.id, ${locationId}::bigint, GREATEST(u.qty, 0), 0, 'opening_balance', ${`listings:${channelId}`},
      'channel showed ' || u.qty, ${actor}
    FROM unnest(${tracked.map(([sku]) => sku)}::text[], ${tracked.map(([, l]) => l.available)}::int[]) AS u(sku, qty)
    JOIN skus s ON s.sku = u.sku
    WHERE NOT ${stockInitialised('s.id')}
    ORDER BY s.id
    RETURNING sku_id`.execute(trx);
  return { skuIds: booked.rows.map((r) => r.sku_id), kept: tracked.length - booked.rows.length, untracked };
}

/** Links order lines whose SKU now exists, and clears `unknown_sku` from orders with none left. */
export async function linkOrderLines(app: App): Promise<number> {
  const { rows } = await sql<{ order_id: number }>`
    UPDATE order_lines l SET sku_id = s.id FROM skus s
    WHERE l.sku_id IS NULL AND l.sku = s.sku
    RETURNING l.order_id`.execute(app.db);
  const orderIds = [...new Set(rows.map((r) => r.order_id))];
  if (orderIds.length > 0) {
    await sql`
      UPDATE orders o SET flags = array_remove(o.flags, 'unknown_sku'), updated_at = now()
      WHERE o.id = ANY(${orderIds}::bigint[]) AND 'unknown_sku' = ANY(o.flags)
        AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.sku IS NOT NULL AND l.sku_id IS NULL AND l.quantity > 0)`.execute(app.db);
  }
  return rows.length;
}
