/**
 * Listings and stock through the Inventory API. A SKU is an inventory item; it is
 * listed through offers (one per marketplace and format), and an offer's
 * `availableQuantity` is what buyers see (it overrides the item's quantity).
 *
 * ListingRef for eBay: `inventoryItemExternalId` = SKU, `variantExternalId` = the
 * offer id, `productExternalId` = the listing id (the legacy ItemID on order lines).
 *
 * Writes: bulkUpdatePriceQuantity, one SKU per call with up to 25 of its offers
 * (the spec's two texts disagree on "offers of one SKU" and "inventory items"; one
 * SKU per call satisfies both), the item's ship-to-home quantity set with it so the
 * two never disagree. eBay lets a listing be revised 250 times a calendar day; the
 * count is kept per offer and day in the shared KV, and a SKU that would pass it is
 * not sent: its result says so and asks to retry after the day ends.
 */
import type { SharedKV } from '../../src/queue/shared-state.ts';
import type { ChannelListing, ListingRef, StockPush, StockPushResult, StockReading } from '../types.ts';
import { EbayRequestError, type EbayClient } from './client.ts';

/** Most offers in one bulkUpdatePriceQuantity call. */
export const MAX_OFFERS_PER_CALL = 25;
/** Revisions of one listing per calendar day. */
export const DAILY_REVISIONS = 250;
const PAGE = 100;

interface Offer {
  offerId: string;
  sku: string;
  availableQuantity?: number;
  status?: string;
  listing?: { listingId?: string };
}

async function offersOf(client: EbayClient, sku: string): Promise<Offer[]> {
  try {
    // getOffers (https://developer.ebay.com/api-docs/sell/inventory/resources/offer/methods/getOffers)
    const res = await client.call<{ offers?: Offer[] }>('GET', '/sell/inventory/v1/offer', { query: { sku }, api: 'sell.inventory', what: `offers of ${sku}` });
    return res.body.offers ?? [];
  } catch (err) {
    if (err instanceof EbayRequestError && err.status === 404) return [];
    throw err;
  }
}

/** getInventoryItems, whose `offset` is a page number, then each SKU's offers. */
export async function* listListings(client: EbayClient): AsyncIterable<ChannelListing[]> {
  for (let page = 0; ; page++) {
    const res = await client.call<{ inventoryItems?: Array<{ sku: string; product?: { title?: string }; availability?: { shipToLocationAvailability?: { quantity?: number } } }>; next?: string }>(
      'GET',
      '/sell/inventory/v1/inventory_item',
      { query: { limit: PAGE, offset: page }, api: 'sell.inventory', what: 'inventory items' },
    );
    const listings: ChannelListing[] = [];
    for (const item of res.body.inventoryItems ?? []) {
      const offers = (await offersOf(client, item.sku)).filter((o) => o.status !== 'UNPUBLISHED');
      const offer = offers[0];
      listings.push({
        sku: item.sku,
        productExternalId: offer?.listing?.listingId ?? null,
        variantExternalId: offer?.offerId ?? null,
        inventoryItemExternalId: item.sku,
        title: item.product?.title ?? item.sku,
        available: offer?.availableQuantity ?? item.availability?.shipToLocationAvailability?.quantity ?? null,
      });
    }
    if (listings.length) yield listings;
    if (!res.body.next) return;
  }
}

export async function readStock(client: EbayClient, listings: ListingRef[]): Promise<StockReading[]> {
  const out: StockReading[] = [];
  for (const l of listings) {
    const offers = await offersOf(client, l.sku);
    const offer = offers.find((o) => o.offerId === l.variantExternalId) ?? offers[0];
    out.push({ sku: l.sku, available: offer?.availableQuantity ?? null });
  }
  return out;
}

const today = (now: Date) => now.toISOString().slice(0, 10);
const msToNextDay = (now: Date) => Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - now.getTime();

export async function pushStock(client: EbayClient, kv: SharedKV, channelId: number, levels: StockPush[]): Promise<StockPushResult[]> {
  const results: StockPushResult[] = [];
  for (const level of levels) {
    const sku = level.listing.sku;
    const now = new Date();
    const offers = (await offersOf(client, sku)).filter((o) => o.status !== 'UNPUBLISHED').slice(0, MAX_OFFERS_PER_CALL);
    if (!offers.length) {
      results.push({ sku, ok: false, error: `eBay has no published offer for SKU ${sku} (unpublished offers are set with updateOffer)` });
      continue;
    }
    // Each offer's revision of today is counted before the call, atomically: two workers pushing one
    // SKU at once each get their own count, so together they never pass eBay's daily cap. A count
    // past the cap is given back and the push waits for midnight. A call that then fails keeps its
    // count: eBay may have applied it, and undercounting is what would break the cap.
    const ttl = msToNextDay(now) + 3600_000;
    const counts = await Promise.all(offers.map((o) => kv.incr(revisionKey(channelId, o.offerId, now), 1, ttl)));
    if (counts.some((n) => n > DAILY_REVISIONS)) {
      await Promise.all(offers.map((o) => kv.incr(revisionKey(channelId, o.offerId, now), -1, ttl)));
      results.push({
        sku,
        ok: false,
        retryable: true,
        retryAfterMs: msToNextDay(now),
        error: `eBay allows ${DAILY_REVISIONS} revisions of a listing per calendar day and SKU ${sku} has used them today: it is set to ${level.available} after midnight (UTC)`,
      });
      continue;
    }
    // bulkUpdatePriceQuantity (https://developer.ebay.com/api-docs/sell/inventory/resources/offer/methods/bulkUpdatePriceQuantity)
    const res = await client.call<{ responses?: Array<{ statusCode: number; sku?: string; offerId?: string; errors?: Array<{ errorId: number; message?: string }> }> }>(
      'POST',
      '/sell/inventory/v1/bulk_update_price_quantity',
      {
        body: {
          requests: [{ sku, shipToLocationAvailability: { quantity: level.available }, offers: offers.map((o) => ({ offerId: o.offerId, availableQuantity: level.available })) }],
        },
        api: 'sell.inventory',
        what: `stock of ${sku}`,
      },
    );
    const failed = (res.body.responses ?? []).filter((r) => r.statusCode >= 300);
    if (!failed.length) results.push({ sku, ok: true });
    else {
      const retryable = failed.every((r) => r.statusCode >= 500);
      results.push({ sku, ok: false, retryable, error: failed.map((r) => `${r.offerId ? `offer ${r.offerId}: ` : ''}${(r.errors ?? []).map((e) => `${e.errorId} ${e.message ?? ''}`.trim()).join('; ')}`).join('; ') });
    }
  }
  return results;
}

function revisionKey(channelId: number, offerId: string, now: Date): string {
  return `ebay:${channelId}:revisions:${offerId}:${today(now)}`;
}
