/**
 * Listings and seller-fulfilled (MFN) stock on Amazon.
 *
 * Reading: searchListingsItems (by SKU, 20 a call) with `fulfillmentAvailability`;
 * the `DEFAULT` channel is the seller's own stock (AFN/FBA stock is Amazon's
 * and read-only: `getInventorySummaries`, not used here).
 * https://developer-docs.amazon.com/sp-api/docs/listings-items-api-v2021-08-01-reference#searchlistingsitems
 *
 * Writing, decided by the documented rate limits (rate-limits.ts):
 * - patchListingsItem: 5 req/s, burst 5, one SKU a call, answered at once
 *   (ACCEPTED / INVALID). A batch of n SKUs takes about n / 5 s.
 * - JSON_LISTINGS_FEED: createFeed 0.0083 req/s (one feed per two minutes,
 *   burst 15) but up to 25,000 SKUs a feed, processed later (minutes; field
 *   reports of feeds IN_PROGRESS for an hour, models#4823).
 * Below `FEED_THRESHOLD` SKUs the patches finish well inside a job's run and
 * keep the bucket free for the next urgent change (the last unit sold
 * elsewhere); from it on, one feed carries the batch and its push rows wait
 * for the processing report (`AsyncStockSink`: `src/stock/push.ts`).
 *
 * `ListingRef` on Amazon: `productExternalId` is the ASIN, `variantExternalId`
 * the listing's product type (patches and feed messages must name it).
 */
import { z } from 'zod';
import { PermanentError, RetryableError } from '../../src/domain/errors.ts';
import type { SharedKV } from '../../src/queue/shared-state.ts';
import type { ChannelListing, ListingRef, StockPush, StockPushResult, StockReading, StockSubmission, StockSubmissionState } from '../types.ts';
import { AmazonRequestError, type AmazonClient } from './client.ts';

/** Batches of at least this many SKUs go through a JSON_LISTINGS_FEED. */
export const FEED_THRESHOLD = 50;
/** The listings feed schema's `messages.maxItems`. */
export const FEED_MAX_MESSAGES = 25_000;
/** How soon a pending feed is asked about again. */
export const FEED_POLL_MS = 30_000;
/** Product type sent when a listing's is unknown (Amazon's generic type for offer-only updates). */
export const DEFAULT_PRODUCT_TYPE = 'PRODUCT';
const SEARCH_PAGE = 20;

const itemSchema = z.looseObject({
  sku: z.string(),
  summaries: z.array(z.looseObject({ asin: z.string().nullish(), productType: z.string().nullish(), itemName: z.string().nullish() })).nullish(),
  fulfillmentAvailability: z.array(z.looseObject({ fulfillmentChannelCode: z.string(), quantity: z.number().int().nullish() })).nullish(),
});
const searchSchema = z.looseObject({
  numberOfResults: z.number(),
  items: z.array(itemSchema),
  pagination: z.looseObject({ nextToken: z.string().nullish() }).nullish(),
});
const submissionSchema = z.looseObject({
  sku: z.string().nullish(),
  status: z.enum(['ACCEPTED', 'INVALID', 'VALID']),
  issues: z.array(z.looseObject({ code: z.string().nullish(), message: z.string(), severity: z.string().nullish() })).nullish(),
});
const feedDocumentSchema = z.looseObject({ feedDocumentId: z.string(), url: z.string() });
const feedSchema = z.looseObject({
  feedId: z.string(),
  processingStatus: z.enum(['CANCELLED', 'DONE', 'FATAL', 'IN_PROGRESS', 'IN_QUEUE']),
  resultFeedDocumentId: z.string().nullish(),
});
const documentSchema = z.looseObject({ feedDocumentId: z.string(), url: z.string(), compressionAlgorithm: z.string().nullish() });
const reportSchema = z.looseObject({
  issues: z.array(z.looseObject({ messageId: z.number().nullish(), sku: z.string().nullish(), code: z.string().nullish(), severity: z.string(), message: z.string() })).default([]),
  summary: z.looseObject({ messagesProcessed: z.number().nullish() }).nullish(),
});
const handleSchema = z.object({ feedId: z.string(), skus: z.array(z.string()) });

export interface StockOptions {
  client: AmazonClient;
  kv: SharedKV;
  sellerId: string;
  marketplaceIds: readonly string[];
  /** How soon a pending feed is asked about again. Default FEED_POLL_MS. */
  pollMs?: number;
}

type Item = z.infer<typeof itemSchema>;

function toListing(item: Item): ChannelListing {
  const summary = item.summaries?.[0];
  return {
    sku: item.sku,
    productExternalId: summary?.asin ?? null,
    variantExternalId: summary?.productType ?? null,
    inventoryItemExternalId: null,
    title: summary?.itemName ?? item.sku,
    available: mfnQuantity(item),
  };
}

function mfnQuantity(item: Item): number | null {
  const own = item.fulfillmentAvailability?.find((f) => f.fulfillmentChannelCode === 'DEFAULT');
  return own?.quantity ?? null;
}

/**
 * Every listing, 20 a page. searchListingsItems pages through at most 1,000
 * SKUs (the model's note); a larger catalogue needs the listings report,
 * which this connector does not read yet (docs/connectors/amazon.md).
 */
export async function* listListings(options: StockOptions): AsyncIterable<ChannelListing[]> {
  let pageToken: string | undefined;
  do {
    const res = await options.client.call('searchListingsItems', {
      params: { sellerId: options.sellerId },
      query: { marketplaceIds: [...options.marketplaceIds], includedData: ['summaries', 'fulfillmentAvailability'], pageSize: SEARCH_PAGE, pageToken },
      what: 'the listings',
    });
    const page = searchSchema.parse(res.body);
    yield page.items.map(toListing);
    pageToken = page.pagination?.nextToken ?? undefined;
  } while (pageToken);
}

export async function readStock(options: StockOptions, listings: ListingRef[]): Promise<StockReading[]> {
  const readings: StockReading[] = [];
  for (let i = 0; i < listings.length; i += SEARCH_PAGE) {
    const skus = listings.slice(i, i + SEARCH_PAGE).map((l) => l.sku);
    const res = await options.client.call('searchListingsItems', {
      params: { sellerId: options.sellerId },
      query: { marketplaceIds: [...options.marketplaceIds], identifiersType: 'SKU', identifiers: skus, includedData: ['fulfillmentAvailability'], pageSize: SEARCH_PAGE },
      what: `the stock of ${skus.length} SKUs`,
    });
    const found = new Map(searchSchema.parse(res.body).items.map((item) => [item.sku, item]));
    for (const sku of skus) {
      const item = found.get(sku);
      readings.push({ sku, available: item ? mfnQuantity(item) : null });
    }
  }
  return readings;
}

function availabilityPatch(available: number) {
  return [{ op: 'replace', path: '/attributes/fulfillment_availability', value: [{ fulfillment_channel_code: 'DEFAULT', quantity: available }] }];
}

/** One patchListingsItem per SKU: each answers for itself. */
export async function patchStock(options: StockOptions, levels: StockPush[]): Promise<StockPushResult[]> {
  const results: StockPushResult[] = [];
  for (const level of levels) {
    const sku = level.listing.sku;
    try {
      // https://developer-docs.amazon.com/sp-api/docs/listings-items-api-v2021-08-01-reference#patchlistingsitem
      const res = await options.client.call('patchListingsItem', {
        params: { sellerId: options.sellerId, sku },
        query: { marketplaceIds: [...options.marketplaceIds] },
        body: { productType: level.listing.variantExternalId ?? DEFAULT_PRODUCT_TYPE, patches: availabilityPatch(level.available) },
        what: `the stock of ${sku}`,
      });
      const answer = submissionSchema.parse(res.body);
      if (answer.status === 'ACCEPTED') results.push({ sku, ok: true });
      else {
        const issue = answer.issues?.find((i) => i.severity === 'ERROR') ?? answer.issues?.[0];
        results.push({ sku, ok: false, error: `Amazon found the update INVALID${issue ? `: ${issue.code ?? ''} ${issue.message}` : ''}` });
      }
    } catch (err) {
      if (err instanceof RetryableError) results.push({ sku, ok: false, error: err.message, retryable: true, retryAfterMs: err.retryAfterMs });
      else if (err instanceof PermanentError) results.push({ sku, ok: false, error: err.message });
      else throw err;
    }
  }
  return results;
}

/** The JSON_LISTINGS_FEED document for these levels (listings-feed-schema-v2). */
export function feedDocument(sellerId: string, levels: StockPush[]): unknown {
  return {
    header: { sellerId, version: '2.0', issueLocale: 'en_US' },
    messages: levels.map((level, i) => ({
      messageId: i + 1,
      sku: level.listing.sku,
      operationType: 'PATCH',
      productType: level.listing.variantExternalId ?? DEFAULT_PRODUCT_TYPE,
      patches: availabilityPatch(level.available),
    })),
  };
}

/**
 * createFeedDocument -> upload -> createFeed. One feed in flight per seller
 * (feeds of one seller are processed in turn, and a stuck one holds the rest
 * back, models#2633): while one is, this answers "later".
 * https://developer-docs.amazon.com/sp-api/docs/feeds-api-v2021-06-30-use-case-guide
 */
export async function submitFeed(options: StockOptions, levels: StockPush[]): Promise<StockSubmission> {
  if (levels.length === 0 || levels.length > FEED_MAX_MESSAGES) throw new PermanentError(`a listings feed holds 1 to ${FEED_MAX_MESSAGES} SKUs, not ${levels.length}`);
  const inFlight = `amazon:feed-in-flight:${options.sellerId}`;
  const current = await options.kv.get(inFlight);
  if (current) throw new RetryableError(`Amazon feed ${current} of seller ${options.sellerId} is still being processed; the next one waits for it`, options.pollMs ?? FEED_POLL_MS);
  const contentType = 'application/json; charset=UTF-8';
  const doc = await options.client.call('createFeedDocument', { body: { contentType }, what: 'a feed document' });
  const { feedDocumentId, url } = feedDocumentSchema.parse(doc.body);
  await options.client.upload(url, contentType, JSON.stringify(feedDocument(options.sellerId, levels)));
  const feed = await options.client.call('createFeed', {
    body: { feedType: 'JSON_LISTINGS_FEED', marketplaceIds: [...options.marketplaceIds].slice(0, 25), inputFeedDocumentId: feedDocumentId },
    what: 'a listings feed',
  });
  const { feedId } = z.looseObject({ feedId: z.string() }).parse(feed.body);
  // A crash after this leaves the marker to expire: at worst one poll interval of waiting too long.
  await options.kv.set(inFlight, feedId, 2 * 60 * 60_000);
  const skus = levels.map((l) => l.listing.sku);
  return { handle: JSON.stringify({ feedId, skus }), skus };
}

/** getFeed; once DONE, the processing report mapped to one result per SKU. */
export async function feedState(options: StockOptions, handle: string): Promise<StockSubmissionState> {
  const parsed = handleSchema.safeParse(JSON.parse(handle));
  if (!parsed.success) throw new PermanentError(`not an Amazon feed handle: ${handle.slice(0, 80)}`);
  const { feedId, skus } = parsed.data;
  const res = await options.client.call('getFeed', { params: { feedId }, what: `feed ${feedId}` });
  const feed = feedSchema.parse(res.body);
  if (feed.processingStatus === 'IN_QUEUE' || feed.processingStatus === 'IN_PROGRESS') return { done: false, checkAfterMs: options.pollMs ?? FEED_POLL_MS };
  await options.kv.del(`amazon:feed-in-flight:${options.sellerId}`);
  if (feed.processingStatus === 'CANCELLED') {
    return { done: true, results: skus.map((sku) => ({ sku, ok: false, error: `feed ${feedId} was cancelled`, retryable: true })) };
  }
  let report: z.infer<typeof reportSchema> | null = null;
  if (feed.resultFeedDocumentId) {
    try {
      const doc = await options.client.call('getFeedDocument', { params: { feedDocumentId: feed.resultFeedDocumentId }, what: `the report of feed ${feedId}` });
      const { url, compressionAlgorithm } = documentSchema.parse(doc.body);
      if (compressionAlgorithm) throw new PermanentError(`feed ${feedId}: a ${compressionAlgorithm}-compressed report is not read by this connector`);
      report = reportSchema.parse(JSON.parse(await options.client.download(url)));
    } catch (err) {
      if (!(err instanceof AmazonRequestError) && !(err instanceof z.ZodError) && !(err instanceof SyntaxError)) throw err;
    }
  }
  if (feed.processingStatus === 'FATAL' || !report) {
    // FATAL: nothing of the feed was applied. Sending the same numbers again can work (a fresh feed).
    return { done: true, results: skus.map((sku) => ({ sku, ok: false, error: `feed ${feedId} ended ${feed.processingStatus} without a readable report`, retryable: true })) };
  }
  // Messages were numbered 1..n in SKU order; an ERROR issue fails that message, warnings do not.
  // An ERROR without a messageId is about the document itself (its format): every message failed.
  const errors = new Map<number, string>();
  let documentError: string | null = null;
  for (const issue of report.issues) {
    if (issue.severity !== 'ERROR') continue;
    const text = `${issue.code ?? ''} ${issue.message}`.trim();
    if (issue.messageId == null) documentError ??= text;
    else if (!errors.has(issue.messageId)) errors.set(issue.messageId, text);
  }
  if (documentError) return { done: true, results: skus.map((sku) => ({ sku, ok: false, error: `Amazon feed ${feedId} was refused: ${documentError}` })) };
  return {
    done: true,
    results: skus.map((sku, i) => {
      const error = errors.get(i + 1);
      return error ? { sku, ok: false, error: `Amazon feed ${feedId}: ${error}` } : { sku, ok: true };
    }),
  };
}
