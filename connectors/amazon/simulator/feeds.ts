/**
 * Processing of a JSON_LISTINGS_FEED once its turn comes: the document is
 * checked against schemas/feeds/listings-feed-schema-v2.json (header.version
 * "2.0", 1 to 25,000 messages, each message's required fields and enums), the
 * quantity of every valid `fulfillment_availability` patch is applied, and a
 * processing report in the shape of listings-feed-processing-report-schema-v2
 * becomes the feed's result document.
 *
 * Issue codes: the schemas give none for these cases; the report names the
 * problem in `message` and uses the simulator's own codes (`SIM-*`), so no
 * test can mistake them for Amazon's.
 */
import { randomUUID } from 'node:crypto';
import type { AmazonState, SimFeed } from './state.ts';

const OPERATION_TYPES = new Set(['UPDATE', 'PARTIAL_UPDATE', 'PATCH', 'DELETE']);
const PATCH_OPS = new Set(['add', 'replace', 'merge', 'delete']);

interface Issue {
  messageId?: number;
  sku?: string;
  code: string;
  severity: 'ERROR' | 'WARNING' | 'INFO';
  message: string;
}

/** The quantity a message sets for the seller's own (DEFAULT) channel, when it sets one. */
function quantityOf(message: Record<string, unknown>): number | null | 'invalid' {
  const fromValue = (value: unknown): number | null | 'invalid' => {
    if (!Array.isArray(value)) return 'invalid';
    const own = value.find((v) => (v as { fulfillment_channel_code?: unknown })?.fulfillment_channel_code === 'DEFAULT') as { quantity?: unknown } | undefined;
    if (!own) return null;
    return Number.isInteger(own.quantity) && (own.quantity as number) >= 0 ? (own.quantity as number) : 'invalid';
  };
  if (message.operationType === 'PATCH') {
    for (const p of message.patches as Array<Record<string, unknown>>) {
      if (p.path === '/attributes/fulfillment_availability' && p.op !== 'delete') return fromValue(p.value);
    }
    return null;
  }
  const attributes = message.attributes as Record<string, unknown> | undefined;
  return attributes && 'fulfillment_availability' in attributes ? fromValue(attributes.fulfillment_availability) : null;
}

function checkMessage(m: unknown): string | null {
  if (!m || typeof m !== 'object') return 'a message must be an object';
  const msg = m as Record<string, unknown>;
  if (!Number.isInteger(msg.messageId) || (msg.messageId as number) < 1) return 'messageId must be an integer of at least 1';
  if (typeof msg.sku !== 'string' || !msg.sku) return 'sku is required';
  if (typeof msg.operationType !== 'string' || !OPERATION_TYPES.has(msg.operationType)) return `operationType must be one of ${[...OPERATION_TYPES].join(', ')}`;
  if (msg.operationType !== 'DELETE' && (typeof msg.productType !== 'string' || !msg.productType)) return 'productType is required';
  if (msg.operationType === 'PATCH') {
    if (!Array.isArray(msg.patches) || msg.patches.length === 0) return 'patches must hold at least one operation';
    for (const p of msg.patches as Array<Record<string, unknown>>) {
      if (!p || typeof p.op !== 'string' || !PATCH_OPS.has(p.op)) return `patch op must be one of ${[...PATCH_OPS].join(', ')}`;
      if (typeof p.path !== 'string' || !/^\/attributes\/[^/]+$/.test(p.path)) return 'only top-level attributes can be patched (path /attributes/<name>)';
    }
  }
  if ((msg.operationType === 'UPDATE' || msg.operationType === 'PARTIAL_UPDATE') && (!msg.attributes || typeof msg.attributes !== 'object' || Object.keys(msg.attributes).length === 0)) {
    return 'attributes must hold at least one attribute';
  }
  return null;
}

export function processFeed(state: AmazonState, feed: SimFeed): void {
  if (feed.processingStatus !== 'IN_PROGRESS') return;
  const input = state.documents.get(feed.inputFeedDocumentId);
  const issues: Issue[] = [];
  let processed = 0;
  let accepted = 0;
  let fatal = false;
  let doc: { header?: Record<string, unknown>; messages?: unknown[] } | null = null;
  try {
    doc = input?.content ? JSON.parse(input.content) : null;
  } catch {
    doc = null;
  }
  if (!doc || typeof doc !== 'object') {
    fatal = true;
    issues.push({ code: 'SIM-DOCUMENT', severity: 'ERROR', message: input?.content ? 'The feed document is not valid JSON.' : 'The feed document was never uploaded.' });
  } else if (doc.header?.version !== '2.0' || typeof doc.header?.sellerId !== 'string') {
    fatal = true;
    issues.push({ code: 'SIM-HEADER', severity: 'ERROR', message: 'header.sellerId is required and header.version must be "2.0".' });
  } else if (!Array.isArray(doc.messages) || doc.messages.length < 1 || doc.messages.length > 25_000) {
    fatal = true;
    issues.push({ code: 'SIM-MESSAGES', severity: 'ERROR', message: 'messages must hold 1 to 25000 messages.' });
  } else {
    for (const m of doc.messages) {
      processed++;
      const problem = checkMessage(m);
      const msg = m as Record<string, unknown>;
      const messageId = Number.isInteger(msg?.messageId) ? (msg.messageId as number) : undefined;
      const sku = typeof msg?.sku === 'string' && msg.sku ? msg.sku : undefined;
      if (problem) {
        issues.push({ messageId, sku, code: 'SIM-INVALID', severity: 'ERROR', message: problem });
        continue;
      }
      const listing = state.listings.get(msg.sku as string);
      if (!listing && msg.operationType !== 'UPDATE') {
        issues.push({ messageId, sku, code: 'SIM-NO-LISTING', severity: 'ERROR', message: `No listing with SKU ${String(msg.sku)} exists for this seller.` });
        continue;
      }
      const quantity = quantityOf(msg);
      if (quantity === 'invalid') {
        issues.push({ messageId, sku, code: 'SIM-INVALID', severity: 'ERROR', message: 'fulfillment_availability must be a list with a whole, non-negative quantity.' });
        continue;
      }
      if (listing && msg.operationType === 'DELETE') state.listings.delete(listing.sku);
      else if (listing && quantity !== null) {
        listing.quantity = quantity;
        listing.updatedAt = state.stamp();
      }
      accepted++;
    }
  }
  const report = {
    header: { sellerId: (doc?.header?.sellerId as string) ?? '', version: '2.0', feedId: feed.feedId },
    issues,
    summary: {
      errors: issues.filter((i) => i.severity === 'ERROR').length,
      warnings: issues.filter((i) => i.severity === 'WARNING').length,
      messagesProcessed: processed,
      messagesAccepted: accepted,
      messagesInvalid: processed - accepted,
    },
  };
  const resultId = `amzn1.tortuga.4.na.${randomUUID()}`;
  state.documents.set(resultId, { feedDocumentId: resultId, contentType: 'application/json', content: JSON.stringify(report) });
  feed.resultFeedDocumentId = resultId;
  feed.processingStatus = fatal ? 'FATAL' : 'DONE';
  feed.processingEndTime = new Date().toISOString();
}
