/**
 * The Shopify connector: what channelsync can do with a shop, on the Admin
 * GraphQL API 2026-07. Auth, HTTP and rate limits live in `client.ts`; the
 * documents in `documents.ts`; payload mapping in `mapping.ts`.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { PermanentError, RetryableError } from '../../src/domain/errors.ts';
import type { UnifiedOrder } from '../../src/domain/order.ts';
import type {
  BackfillBatch,
  BackfillProgress,
  Capabilities,
  ChannelListing,
  Connector,
  FulfilmentKeeps,
  ConnectorContext,
  FulfillmentPush,
  ListingRef,
  OrderPage,
  ParsedWebhook,
  PushOutcome,
  StockPush,
  StockPushResult,
  StockReading,
  VerifyResult,
  WebhookRequest,
  WebhookState,
  RefundPush,
} from '../types.ts';
import { refundMarker } from '../../src/domain/order.ts';
import { addMoney, fromUnits, money, toUnits } from '../../src/domain/money.ts';
import { QueryCostExceededError, ShopifyClient } from './client.ts';
import {
  BULK_OPERATION_QUERY,
  BULK_OPERATION_RUN_QUERY,
  FULFILLMENT_CREATE_MUTATION,
  FULFILLMENT_ORDER_LOCATIONS_QUERY,
  INVENTORY_ITEMS_QUERY,
  INVENTORY_SET_QUANTITIES_MUTATION,
  LOCATIONS_QUERY,
  ORDER_FULFILLMENT_STATE_QUERY,
  ORDER_LINE_ITEMS_QUERY,
  ORDER_CANCEL_MUTATION,
  ORDER_QUERY,
  ORDER_REFUNDS_QUERY,
  ORDERS_PAGE_QUERY,
  REFUND_CREATE_MUTATION,
  REFUND_STATE_QUERY,
  PRODUCT_VARIANTS_QUERY,
  WEBHOOK_SUBSCRIPTION_CREATE_MUTATION,
  WEBHOOK_SUBSCRIPTIONS_QUERY,
  bulkOrdersQuery,
} from './documents.ts';
import {
  allocateShipment,
  alreadyFulfilled,
  FULL_STATE_LINES,
  fulfillmentOrderLocationsSchema,
  fulfillmentStateSchema,
  groupByLocation,
  locationsOf,
  stateTruncated,
  type FulfillmentState,
} from './fulfillment.ts';
import {
  gqlLineItemSchema,
  gqlLineItemsPageSchema,
  gqlOrderHeadSchema,
  gqlOrderRefundsSchema,
  gqlOrderSchema,
  gqlOrdersPageSchema,
  mapGraphqlOrder,
  mapGraphqlRefunds,
  toGid,
  type GqlLineItem,
  type GqlOrder,
} from './mapping.ts';
import { SUBSCRIPTION_TOPICS, parseShopifyWebhook } from './webhooks.ts';
import { internalHostReason } from './webhook-address.ts';
import { describeIssues } from '../values.ts';
import type { ShopifyCredentials, ShopifySettings } from './index.ts';

/** An order whose refunds the schema refuses: the pull sets the order aside (`OrderPage.rejected`). */
class UnreadableRefundsError extends PermanentError {}

const refundStateSchema = z.object({
  order: z
    .object({
      id: z.string(),
      refunds: z.array(z.object({ id: z.string(), note: z.string().nullish() })),
      transactions: z.array(
        z.object({
          id: z.string(),
          kind: z.string(),
          status: z.string(),
          gateway: z.string().nullish(),
          amountSet: z.object({ shopMoney: z.object({ amount: z.string() }) }),
          parentTransaction: z.object({ id: z.string() }).nullish(),
        }),
      ),
    })
    .nullable(),
});

/**
 * Page sizes chosen so a page stays under Shopify's 1000-point cap on one
 * query's requested cost: an order costs 14 + 12 per line item asked for, so
 * 13 orders x 5 lines requests 964 points. Orders with more lines are completed
 * with ORDER_LINE_ITEMS_QUERY (75 lines: 903 points).
 */
/** `channels add` checks the credentials with this: an object costs 1 point. */
const SHOP_QUERY = 'query ChannelsyncVerify { shop { name myshopifyDomain } }';
const ORDERS_PER_PAGE = 13;
const LINES_PER_ORDER_PAGE = 5;
const LINES_PER_PAGE = 75;
const VARIANTS_PER_PAGE = 100;
/** How long to wait before asking again when Shopify is still running an earlier cancel's job. */
const CANCEL_IN_PROGRESS_WAIT_MS = 5_000;
/** SKUs per inventoryItems search (`sku:"A" OR sku:"B" …`). */
const SKUS_PER_SEARCH = 50;
/** Shopify's limit of quantities per inventorySetQuantities call. */
const QUANTITIES_PER_SET = 250;
const STALE_RETRIES = 3;
/** Orders handed over per backfill batch. */
const BACKFILL_BATCH = 250;

/**
 * Requested cost, by Shopify's rules (objects 1, connections 2 + first x node,
 * lists priced as one element): a line item of LineItemFields costs 12, an
 * order of OrderFields 14 plus its lines. Used as the first reservation; later
 * ones use the `requestedQueryCost` Shopify reported.
 */
const LINE_COST = 12;
/** ORDER_REFUNDS_QUERY's requested cost by the published rules (134 points: the simulator's calculation). */
const REFUNDS_COST = 134;
function orderCost(lines: number): number {
  return 14 + lines * LINE_COST;
}
/**
 * ORDER_FULFILLMENT_STATE_QUERY's requested cost by the same rules: the order
 * 1, a fulfillment 4 + 2 a line, the fulfillment orders 2 + 5 x (3 + 2 a line).
 */
function stateCost(sizes: { fulfilledLines: number; openLines: number }): number {
  return 1 + (4 + 2 * sizes.fulfilledLines) + (2 + 5 * (3 + 2 * sizes.openLines));
}

const cursorSchema = z.object({ v: z.literal(1), updatedAtMin: z.string() });

/** The pull cursor: the newest `updatedAt` seen; the next pull starts `overlapSeconds` before it. */
export function encodeCursor(updatedAtMin: Date): string {
  return JSON.stringify({ v: 1, updatedAtMin: updatedAtMin.toISOString() });
}

export class ShopifyConnector implements Connector {
  readonly kind = 'shopify';
  readonly capabilities: Capabilities = { webhooks: true, backfill: true, cancel: true, refund: true };
  /** FulfillmentCreate's trackingInfo.url. */
  readonly fulfilmentKeeps: FulfilmentKeeps = { trackingUrl: 'as-sent' };
  readonly client: ShopifyClient;
  private locationId: string | null;
  private readonly webhookSecret: string;

  constructor(private readonly ctx: ConnectorContext<ShopifySettings, ShopifyCredentials>) {
    const { settings, credentials } = ctx.channel;
    this.client = new ShopifyClient({
      shopDomain: settings.shopDomain,
      apiVersion: settings.apiVersion,
      caCertificate: settings.caCertificate,
      auth:
        'accessToken' in credentials
          ? { accessToken: credentials.accessToken }
          : { clientId: credentials.clientId, clientSecret: credentials.clientSecret },
      budget: ctx.budget,
      kv: ctx.kv,
      log: ctx.log,
      requestTimeoutMs: settings.requestTimeoutMs,
      recordCall: ctx.recordCall,
    });
    this.locationId = settings.locationId ? toGid('Location', settings.locationId) : null;
    this.webhookSecret =
      credentials.apiSecretKey ?? ('clientSecret' in credentials ? credentials.clientSecret : '');
  }

  // ------------------------------------------------------------ orders

  async *pullOrders(cursor: string | null): AsyncIterable<OrderPage> {
    const { overlapSeconds, initialSince } = this.ctx.channel.settings;
    let highWater: Date | null = null;
    if (cursor) {
      const parsed = cursorSchema.safeParse(safeJson(cursor));
      if (!parsed.success) throw new PermanentError(`Shopify pull cursor is not one this connector wrote: ${cursor}`);
      highWater = new Date(parsed.data.updatedAtMin);
    }
    // Orders committed late carry an updated_at a little in the past: start
    // the window overlapSeconds before the newest change already seen.
    const since = highWater ? new Date(highWater.getTime() - overlapSeconds * 1000) : initialSince ? new Date(initialSince) : null;
    const query = since ? `updated_at:>='${since.toISOString()}'` : null;

    let after: string | null = null;
    let first = ORDERS_PER_PAGE;
    for (;;) {
      let data: unknown;
      try {
        data = await this.client.graphql(
          ORDERS_PAGE_QUERY,
          { first, after, query, lineFirst: LINES_PER_ORDER_PAGE },
          { estimate: 2 + first * orderCost(LINES_PER_ORDER_PAGE) },
        );
      } catch (err) {
        // Another plan's cost rules: ask for fewer orders per page.
        if (err instanceof QueryCostExceededError && first > 1) {
          first = Math.max(1, Math.floor(first / 2));
          continue;
        }
        throw err;
      }
      const page = parse(gqlOrdersPageSchema, data, 'orders page');
      const orders: UnifiedOrder[] = [];
      // An order the schema refuses is set aside with the page (the job records it with its
      // reason), never failing the pull: the rest of the page and the pages after it still land.
      const rejected: NonNullable<OrderPage['rejected']> = [];
      for (const node of page.orders.nodes) {
        const parsed = gqlOrderSchema.safeParse(node);
        if (!parsed.success) {
          // Its own updatedAt never moves the cursor: an unreadable order may carry any date.
          const head = node as { id?: unknown } | null;
          rejected.push({ externalId: typeof head?.id === 'string' ? head.id : '(unknown)', reason: `Shopify sent an order channelsync cannot read: ${describeIssues(parsed.error)}`, raw: node });
          continue;
        }
        let order: UnifiedOrder;
        try {
          order = await this.complete(parsed.data);
        } catch (err) {
          // Its refunds are unreadable: set aside like an unreadable order, the page goes on.
          if (!(err instanceof UnreadableRefundsError)) throw err;
          rejected.push({ externalId: parsed.data.id, reason: err.message, raw: node });
          continue;
        }
        orders.push(order);
        if (!highWater || order.updatedAt > highWater) highWater = order.updatedAt;
      }
      if ((orders.length > 0 || rejected.length > 0) && highWater) yield { orders, rejected, cursor: encodeCursor(highWater) };
      if (!page.orders.pageInfo.hasNextPage || !page.orders.pageInfo.endCursor) return;
      after = page.orders.pageInfo.endCursor;
    }
  }

  async verify(): Promise<VerifyResult> {
    // https://shopify.dev/docs/api/admin-graphql/2026-07/queries/shop
    const data = await this.client.graphql<{ shop: { name: string; myshopifyDomain?: string } }>(SHOP_QUERY, {}, { estimate: 1 });
    return { store: data.shop.name, detail: `connected to Shopify shop "${data.shop.name}"${data.shop.myshopifyDomain ? ` (${data.shop.myshopifyDomain})` : ''}` };
  }

  async fetchOrder(externalId: string): Promise<UnifiedOrder | null> {
    // https://shopify.dev/docs/api/admin-graphql/2026-07/queries/order
    const data = await this.client.graphql<{ order: unknown }>(
      ORDER_QUERY,
      { id: toGid('Order', externalId), lineFirst: LINES_PER_ORDER_PAGE },
      { estimate: orderCost(LINES_PER_ORDER_PAGE) },
    );
    if (data.order == null) return null;
    return this.complete(parse(gqlOrderSchema, data.order, 'order'));
  }

  /** Reads the rest of an order's line items when its first page was not all of them. */
  private async complete(order: GqlOrder): Promise<UnifiedOrder> {
    const lines: GqlLineItem[] = [...order.lineItems.nodes];
    let pageInfo = order.lineItems.pageInfo;
    while (pageInfo.hasNextPage && pageInfo.endCursor) {
      // https://shopify.dev/docs/api/admin-graphql/2026-07/objects/Order#connections-lineItems
      const data = await this.client.graphql(
        ORDER_LINE_ITEMS_QUERY,
        { id: order.id, first: LINES_PER_PAGE, after: pageInfo.endCursor },
        { estimate: 3 + LINES_PER_PAGE * LINE_COST },
      );
      const page = parse(gqlLineItemsPageSchema, data, 'order line items');
      if (!page.order) break; // deleted meanwhile: map what was read
      lines.push(...page.order.lineItems.nodes);
      pageInfo = page.order.lineItems.pageInfo;
    }
    const { lineItems: _lines, ...head } = order;
    const mapped = mapGraphqlOrder(head, lines, order);
    // Refunds only for orders Shopify shows refunded: a refund that gave no money back (a restock
    // alone) is not seen. Bulk exports (backfill) do not read refunds at all.
    if (mapped.financialStatus === 'partially_refunded' || mapped.financialStatus === 'refunded') {
      // https://shopify.dev/docs/api/admin-graphql/2026-07/objects/Order#field-Order.fields.refunds
      const data = gqlOrderRefundsSchema.safeParse(await this.client.graphql(ORDER_REFUNDS_QUERY, { id: order.id }, { estimate: REFUNDS_COST }));
      if (!data.success) throw new UnreadableRefundsError(`Shopify sent refunds of order ${order.id} channelsync cannot read: ${describeIssues(data.error)}`);
      mapped.refunds = mapGraphqlRefunds(data.data.order?.refunds ?? [], mapped.lines);
    } else {
      mapped.refunds = [];
    }
    return mapped;
  }

  async *backfill(since: Date, onProgress: (p: BackfillProgress) => void): AsyncIterable<UnifiedOrder[]> {
    // https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/bulkOperationRunQuery
    // With groupObjects, children follow their parent in the file, so the
    // stream only ever holds one batch of orders.
    const run = await this.client.graphql<{
      bulkOperationRunQuery: { bulkOperation: { id: string } | null; userErrors: Array<{ message: string }> } | null;
    }>(BULK_OPERATION_RUN_QUERY, { query: bulkOrdersQuery(since) }, { idempotent: false });
    const started = run.bulkOperationRunQuery;
    if (!started?.bulkOperation) {
      throw new PermanentError(
        `Shopify bulk export refused: ${started?.userErrors.map((e) => e.message).join('; ') || 'no bulk operation returned'}`,
      );
    }
    const operationId = started.bulkOperation.id;
    onProgress({ done: 0, total: null });

    let url: string | null = null;
    let total: number | null = null;
    for (let poll = 0; ; poll++) {
      // https://shopify.dev/docs/api/admin-graphql/2026-07/queries/bulkOperation
      const data = await this.client.graphql<{
        bulkOperation: { status: string; errorCode: string | null; rootObjectCount: string; url: string | null } | null;
      }>(BULK_OPERATION_QUERY, { id: operationId });
      const op = data.bulkOperation;
      if (!op) throw new PermanentError(`Shopify bulk operation ${operationId} disappeared`);
      if (op.status === 'COMPLETED') {
        url = op.url;
        total = Number(op.rootObjectCount);
        break;
      }
      if (op.status === 'FAILED' || op.status === 'CANCELED' || op.status === 'EXPIRED') {
        throw new PermanentError(`Shopify bulk operation ${operationId} ended ${op.status}${op.errorCode ? ` (${op.errorCode})` : ''}`);
      }
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** Math.min(poll, 5))));
    }
    onProgress({ done: 0, total });
    if (!url) return; // nothing matched

    let done = 0;
    let batch: Array<{ head: z.infer<typeof gqlOrderHeadSchema>; lines: GqlLineItem[]; raw: unknown; bad?: string }> = [];
    const byId = new Map<string, (typeof batch)[number]>();
    // Orders the file describes in a way the schema refuses: set aside with the batch, never ending the export.
    const rejected: NonNullable<BackfillBatch['rejected']> = [];
    const unreadable = (issue: string) => `Shopify's bulk export has an order channelsync cannot read: ${issue}`;
    const flush = (): BackfillBatch => {
      const good = batch.filter((o) => !o.bad);
      for (const o of batch) if (o.bad) rejected.push({ externalId: o.head.id, reason: unreadable(o.bad), raw: o.raw });
      const mapped: BackfillBatch = Object.assign(good.map((o) => mapGraphqlOrder(o.head, o.lines, o.raw)), { rejected: rejected.splice(0) });
      batch = [];
      byId.clear();
      done += mapped.length;
      return mapped;
    };
    const orphans = new Set<string>();
    const refusedHeads = new Set<string>();
    for await (const line of this.client.lines(url)) {
      let record: { id?: unknown; __parentId?: unknown };
      try {
        record = JSON.parse(line);
      } catch {
        rejected.push({ externalId: '(unknown)', reason: unreadable('a line of the file is not JSON'), raw: line.slice(0, 10_000) });
        continue;
      }
      if (typeof record?.__parentId === 'string') {
        const parent = byId.get(record.__parentId);
        if (refusedHeads.has(record.__parentId)) continue; // its order is set aside already
        if (parent) {
          const item = gqlLineItemSchema.safeParse(record);
          if (item.success) parent.lines.push(item.data);
          else parent.bad ??= `line item: ${describeIssues(item.error)}`;
        } else orphans.add(record.__parentId); // parent already handed over: refetched below
        continue;
      }
      if (batch.length >= BACKFILL_BATCH) {
        yield flush();
        onProgress({ done, total });
      }
      const head = gqlOrderHeadSchema.safeParse(record);
      if (!head.success) {
        if (typeof record?.id === 'string') refusedHeads.add(record.id);
        rejected.push({ externalId: typeof record?.id === 'string' ? record.id : '(unknown)', reason: unreadable(describeIssues(head.error)), raw: record });
        continue;
      }
      const entry = { head: head.data, lines: [], raw: record };
      batch.push(entry);
      byId.set(entry.head.id, entry);
    }
    if (batch.length > 0 || rejected.length > 0) {
      yield flush();
      onProgress({ done, total });
    }
    if (orphans.size > 0) {
      this.ctx.log.warn({ count: orphans.size }, 'shopify bulk file split orders from their lines; refetching them');
      const refetched: UnifiedOrder[] = [];
      const refused: NonNullable<BackfillBatch['rejected']> = [];
      for (const id of orphans) {
        try {
          const order = await this.fetchOrder(id);
          if (order) refetched.push(order);
        } catch (err) {
          // Unreadable as fetched too: set aside like the rest; a channel failure still ends the export.
          if (!(err instanceof PermanentError)) throw err;
          refused.push({ externalId: id, reason: err.message, raw: null });
        }
      }
      yield Object.assign(refetched, { rejected: refused });
    }
  }

  parseWebhook(request: WebhookRequest): ParsedWebhook {
    return parseShopifyWebhook(request, this.webhookSecret);
  }

  private async subscriptions(): Promise<Array<{ id: string; topic: string; uri: string }>> {
    const existing: Array<{ id: string; topic: string; uri: string }> = [];
    let after: string | null = null;
    do {
      // https://shopify.dev/docs/api/admin-graphql/2026-07/queries/webhookSubscriptions
      const data: {
        webhookSubscriptions: {
          nodes: Array<{ id: string; topic: string; uri: string }>;
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
        };
      } = await this.client.graphql(WEBHOOK_SUBSCRIPTIONS_QUERY, { first: 100, after });
      existing.push(...data.webhookSubscriptions.nodes);
      after = data.webhookSubscriptions.pageInfo.hasNextPage ? data.webhookSubscriptions.pageInfo.endCursor : null;
    } while (after);
    return existing;
  }

  async listWebhooks(callbackUrl: string): Promise<WebhookState[]> {
    // Shopify subscriptions have no state of their own: one that exists is delivered to.
    return (await this.subscriptions()).filter((s) => s.uri === callbackUrl).map((s) => ({ id: s.id, topic: s.topic, status: 'active' }));
  }

  async registerWebhooks(callbackUrl: string): Promise<string[]> {
    const existing = await this.subscriptions();
    const ids: string[] = [];
    for (const topic of SUBSCRIPTION_TOPICS) {
      const found = existing.find((s) => s.topic === topic && s.uri === callbackUrl);
      if (found) {
        ids.push(found.id);
        continue;
      }
      // https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/webhookSubscriptionCreate
      const data = await this.client.graphql<{
        webhookSubscriptionCreate: { webhookSubscription: { id: string } | null; userErrors: Array<{ message: string }> };
      }>(WEBHOOK_SUBSCRIPTION_CREATE_MUTATION, { topic, webhookSubscription: { uri: callbackUrl, format: 'JSON' } }, { idempotent: false });
      const created = data.webhookSubscriptionCreate;
      if (!created.webhookSubscription) {
        throw new PermanentError(`Shopify refused the ${topic} webhook: ${created.userErrors.map((e) => e.message).join('; ')}`);
      }
      ids.push(created.webhookSubscription.id);
    }
    return ids;
  }

  async checkWebhookAddress(callbackUrl: string): Promise<string[]> {
    let u: URL;
    try {
      u = new URL(callbackUrl);
    } catch {
      return [`${callbackUrl} is not a URL`];
    }
    const problems: string[] = [];
    if (u.protocol !== 'https:') problems.push(`it starts with ${u.protocol}//: Shopify takes only https:// webhook addresses`);
    const internal = internalHostReason(u.hostname);
    if (internal) problems.push(`the host ${u.hostname} is ${internal}: Shopify cannot reach it`);
    return problems;
  }

  // ------------------------------------------------------------ fulfilment

  async pushFulfillment(push: FulfillmentPush): Promise<PushOutcome> {
    const orderId = toGid('Order', push.orderExternalId);
    const state = await this.fulfillmentState(orderId, push.lines);
    if (!state) throw new PermanentError(`Shopify order ${orderId} does not exist (deleted?)`);

    // Safe to repeat: the tracking number is the mark of this shipment on Shopify, and the
    // units its fulfillments already carry are not sent again.
    const done = alreadyFulfilled(state, push.trackingNumber, push.lines);
    if (done.fulfillmentIds.length > 0 && done.remaining.length === 0) return { externalRef: done.fulfillmentIds[0]!, alreadyDone: true };
    if (state.cancelledAt) throw new PermanentError(`Shopify order ${orderId} is cancelled: it cannot be fulfilled`);

    const allocation = allocateShipment(done.remaining, state);
    // One fulfillment order needs no grouping; several are grouped by where Shopify assigned them.
    const locations = allocation.length > 1 ? await this.fulfillmentOrderLocations(allocation.map((a) => a.fulfillmentOrderId)) : new Map<string, string | null>();
    const plans = groupByLocation(allocation, locations);
    const created: string[] = [];
    for (const plan of plans) {
      // https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/fulfillmentCreate
      const data = await this.client.graphql<{
        fulfillmentCreate: { fulfillment: { id: string } | null; userErrors: Array<{ field: string[] | null; message: string }> } | null;
      }>(
        FULFILLMENT_CREATE_MUTATION,
        {
          fulfillment: {
            lineItemsByFulfillmentOrder: plan.lineItemsByFulfillmentOrder,
            trackingInfo: { company: push.carrier, number: push.trackingNumber, ...(push.trackingUrl ? { url: push.trackingUrl } : {}) },
            notifyCustomer: push.notifyCustomer,
          },
        },
        { idempotent: false },
      );
      const result = data.fulfillmentCreate;
      if (!result?.fulfillment) {
        throw new PermanentError(
          `Shopify refused the fulfillment of order ${orderId}: ${result?.userErrors.map((e) => e.message).join('; ') || 'no fulfillment returned'}`,
        );
      }
      created.push(result.fulfillment.id);
    }
    return { externalRef: done.fulfillmentIds[0] ?? created[0] ?? null, alreadyDone: false };
  }

  /**
   * The order's fulfillments and fulfillment orders, read first with as many
   * line items as the shipment has (its requested cost is what the shared
   * bucket must hold before Shopify runs it), then at full size when that
   * read says it saw only part of a list: a shipment whose lines are all on
   * the order's fulfillment orders, as most are, costs one small read.
   * https://shopify.dev/docs/api/admin-graphql/2026-07/objects/Order#connections-fulfillmentOrders
   */
  private async fulfillmentState(orderId: string, lines: FulfillmentPush['lines']): Promise<FulfillmentState | null> {
    const read = async (sizes: { fulfilledLines: number; openLines: number }) =>
      parse(
        fulfillmentStateSchema,
        await this.client.graphql(ORDER_FULFILLMENT_STATE_QUERY, { id: orderId, ...sizes }, { estimate: stateCost(sizes) }),
        'order fulfillment state',
      ).order;
    const n = Math.min(FULL_STATE_LINES.fulfilledLines, Math.max(1, new Set(lines.map((l) => l.lineExternalId)).size));
    const sized = await read({ fulfilledLines: n, openLines: n });
    if (!sized || !stateTruncated(sized)) return sized;
    return read(FULL_STATE_LINES);
  }

  /** Where each fulfillment order is assigned (FULFILLMENT_ORDER_LOCATIONS_QUERY: 3 points each). */
  private async fulfillmentOrderLocations(ids: string[]): Promise<Map<string, string | null>> {
    // https://shopify.dev/docs/api/admin-graphql/2026-07/queries/nodes
    const answer = parse(
      fulfillmentOrderLocationsSchema,
      await this.client.graphql(FULFILLMENT_ORDER_LOCATIONS_QUERY, { ids }, { estimate: 3 * ids.length }),
      'fulfillment order locations',
    );
    return locationsOf(answer);
  }

  // ------------------------------------------------------------ after-sales

  async cancelOrder(externalId: string, reason: string): Promise<PushOutcome> {
    const orderId = toGid('Order', externalId);
    // https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/orderCancel
    // restock: Shopify gives the units back to its own stock (the ledger's stock push re-asserts
    // channelsync's number after the cancellation either way); the money goes back to the payment methods.
    const data = await this.client.graphql<{
      orderCancel: { job: { id: string } | null; orderCancelUserErrors: Array<{ field: string[] | null; message: string; code: string | null }> } | null;
    }>(ORDER_CANCEL_MUTATION, { orderId, reason: 'OTHER', restock: true, staffNote: `channelsync: ${reason}`.slice(0, 255) }, { idempotent: false });
    const errors = data.orderCancel?.orderCancelUserErrors ?? [];
    // A cancellation that happened (by an earlier run of this push, or on the store) is done, not a failure.
    if (errors.some((e) => /already been canceled/i.test(e.message))) return { externalRef: orderId, alreadyDone: true };
    // An earlier attempt's cancel job is still running on Shopify: not a refusal. Ask again shortly;
    // by then the order reads cancelled (done) or the job failed (a refusal worth showing).
    if (errors.some((e) => /cancellation is already in progress/i.test(e.message))) {
      throw new RetryableError(`Shopify is still cancelling order ${orderId} (an earlier request's job)`, CANCEL_IN_PROGRESS_WAIT_MS);
    }
    if (errors.length > 0) throw new PermanentError(`Shopify refused to cancel order ${orderId}: ${errors.map((e) => e.message).join('; ')}`);
    return { externalRef: data.orderCancel?.job?.id ?? orderId, alreadyDone: false };
  }

  async refundOrder(push: RefundPush): Promise<PushOutcome> {
    const orderId = toGid('Order', push.orderExternalId);
    const marker = refundMarker(push.refundId);
    // Check first: a run that died after Shopify accepted finds the refund by the marker in its note.
    // https://shopify.dev/docs/api/admin-graphql/2026-07/objects/Order#field-Order.fields.refunds
    const state = parse(refundStateSchema, await this.client.graphql(REFUND_STATE_QUERY, { id: orderId }, { estimate: 6 }), 'refund state').order;
    if (!state) throw new PermanentError(`Shopify order ${orderId} does not exist (deleted?)`);
    const existing = state.refunds.find((r) => (r.note ?? '').includes(marker));
    if (existing) return { externalRef: existing.id, alreadyDone: true };

    // The money goes back through the sales it was paid with, each up to what is left of it.
    const sales = state.transactions.filter((t) => (t.kind === 'SALE' || t.kind === 'CAPTURE') && t.status === 'SUCCESS');
    const refundedOf = (id: string) =>
      state.transactions.filter((t) => t.kind === 'REFUND' && t.status === 'SUCCESS' && t.parentTransaction?.id === id).reduce((n, t) => n + toUnits(t.amountSet.shopMoney.amount), 0n);
    let left = toUnits(push.amount);
    const transactions: Array<{ orderId: string; parentId: string; gateway: string; kind: 'REFUND'; amount: string }> = [];
    for (const sale of sales) {
      if (left <= 0n) break;
      const take = [toUnits(sale.amountSet.shopMoney.amount) - refundedOf(sale.id), left].reduce((a, b) => (a < b ? a : b));
      if (take <= 0n) continue;
      transactions.push({ orderId, parentId: sale.id, gateway: sale.gateway ?? 'manual', kind: 'REFUND', amount: fromUnits(take) });
      left -= take;
    }
    if (left > 0n) {
      throw new PermanentError(`Shopify order ${orderId}: ${push.amount} ${push.currency} cannot be refunded, only ${fromUnits(toUnits(push.amount) - left)} is left of what was paid`);
    }
    // https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/refundCreate
    const data = await this.client.graphql<{ refundCreate: { refund: { id: string } | null; userErrors: Array<{ field: string[] | null; message: string }> } | null }>(
      REFUND_CREATE_MUTATION,
      {
        idempotencyKey: marker.replace(':', '-'),
        input: {
          orderId,
          note: `${push.reason} (${marker})`,
          notify: false,
          // channelsync books the units itself: Shopify is not asked to restock (the stock push sets its number).
          refundLineItems: push.lines.map((l) => ({ lineItemId: toGid('LineItem', l.lineExternalId), quantity: l.quantity, restockType: 'NO_RESTOCK' })),
          ...(toUnits(push.shipping) > 0n ? { shipping: { amount: money(push.shipping) } } : {}),
          transactions,
        },
      },
      { idempotent: false },
    );
    const result = data.refundCreate;
    if (!result?.refund) {
      throw new PermanentError(`Shopify refused the refund of order ${orderId}: ${result?.userErrors.map((e) => e.message).join('; ') || 'no refund returned'}`);
    }
    return { externalRef: result.refund.id, alreadyDone: false };
  }

  // ------------------------------------------------------------ stock

  async *listListings(): AsyncIterable<ChannelListing[]> {
    const locationId = await this.resolveLocationId();
    let after: string | null = null;
    do {
      // https://shopify.dev/docs/api/admin-graphql/2026-07/queries/productVariants
      const data: z.infer<typeof variantsPageSchema> = parse(variantsPageSchema, await this.client.graphql(PRODUCT_VARIANTS_QUERY, { first: VARIANTS_PER_PAGE, after, locationId }, { estimate: 2 + VARIANTS_PER_PAGE * 5 }), 'product variants');
      const listings: ChannelListing[] = [];
      for (const v of data.productVariants.nodes) {
        if (!v.sku) continue;
        listings.push({
          sku: v.sku,
          title: v.displayName,
          productExternalId: v.product.id,
          variantExternalId: v.id,
          inventoryItemExternalId: v.inventoryItem.id,
          available: availableOf(v.inventoryItem),
        });
      }
      if (listings.length > 0) yield listings;
      after = data.productVariants.pageInfo.hasNextPage ? (data.productVariants.pageInfo.endCursor ?? null) : null;
    } while (after);
  }

  async readStock(listings: ListingRef[]): Promise<StockReading[]> {
    const items = await this.findInventoryItems(listings);
    return listings.map((l) => {
      const item = items.get(l.sku);
      return { sku: l.sku, available: item ? item.available : null };
    });
  }

  async pushStock(levels: StockPush[]): Promise<StockPushResult[]> {
    const locationId = await this.resolveLocationId();
    const results = new Map<string, StockPushResult>();
    let pending = levels;
    for (let round = 0; pending.length > 0; round++) {
      const items = await this.findInventoryItems(pending.map((p) => p.listing));
      const toSet: Array<{ push: StockPush; itemId: string; current: number }> = [];
      for (const push of pending) {
        const sku = push.listing.sku;
        const item = items.get(sku);
        if (!item) results.set(sku, { sku, ok: false, error: `no inventory item with SKU ${sku} on Shopify` });
        else if (!item.tracked) results.set(sku, { sku, ok: false, error: `Shopify does not track stock for SKU ${sku}` });
        else if (item.available === null)
          results.set(sku, { sku, ok: false, error: `SKU ${sku} is not stocked at Shopify location ${locationId}` });
        else if (item.available === push.available) results.set(sku, { sku, ok: true });
        else toSet.push({ push, itemId: item.id, current: item.available });
      }
      const stale: StockPush[] = [];
      for (let i = 0; i < toSet.length; i += QUANTITIES_PER_SET) {
        const chunk = toSet.slice(i, i + QUANTITIES_PER_SET);
        const quantities = chunk.map((c) => ({
          inventoryItemId: c.itemId,
          locationId,
          quantity: c.push.available,
          changeFromQuantity: c.current,
        }));
        const idempotencyKey = stockIdempotencyKey(round, chunk.map((c) => c.push.intent), quantities);
        let data: { inventorySetQuantities: { userErrors: Array<{ field: string[] | null; message: string; code: string | null }> } | null };
        try {
          // https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/inventorySetQuantities
          data = await this.client.graphql(
            INVENTORY_SET_QUANTITIES_MUTATION,
            {
              input: { name: 'available', reason: 'correction', referenceDocumentUri: 'channelsync://stock-push', quantities },
              idempotencyKey,
            },
            { idempotent: true },
          );
        } catch (err) {
          // Still THROTTLED after the client's waits, or 5xx/timeouts after its retries: Shopify
          // said "later" for these SKUs. Whether it ran is unknown; the next attempt reads again.
          if (!(err instanceof RetryableError)) throw err;
          for (const c of chunk) {
            const sku = c.push.listing.sku;
            results.set(sku, { sku, ok: false, error: err.message, retryable: true, ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) });
          }
          continue;
        }
        const errors = data.inventorySetQuantities?.userErrors ?? [];
        if (errors.length === 0) {
          for (const c of chunk) results.set(c.push.listing.sku, { sku: c.push.listing.sku, ok: true });
          continue;
        }
        // The call is all-or-nothing: pin each error on its quantity, retry the rest.
        const failed = new Map<number, string>();
        let staleAll = false;
        let busy: string | null = null;
        for (const e of errors) {
          const index = e.field && e.field[0] === 'input' && e.field[1] === 'quantities' ? Number(e.field[2]) : NaN;
          if (e.code === 'CHANGE_FROM_QUANTITY_STALE') {
            if (Number.isInteger(index)) stale.push(chunk[index]!.push);
            else staleAll = true;
          } else if (e.code === 'IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED') {
            // An earlier send of this very request failed (a lost answer, then the client's
            // retry): read again; the next round's key is new.
            staleAll = true;
          } else if (e.code === 'IDEMPOTENCY_CONCURRENT_REQUEST') {
            // "This request is currently in progress, please try again."
            busy = e.message;
          } else if (Number.isInteger(index)) failed.set(index, e.message);
          else for (let k = 0; k < chunk.length; k++) failed.set(k, e.message);
        }
        chunk.forEach((c, k) => {
          const sku = c.push.listing.sku;
          const message = failed.get(k);
          if (message) results.set(sku, { sku, ok: false, error: message });
          else if (busy) results.set(sku, { sku, ok: false, error: `Shopify: ${busy}`, retryable: true });
          else if (staleAll || !stale.includes(c.push)) stale.push(c.push);
        });
      }
      pending = [...new Set(stale)].filter((p) => !results.has(p.listing.sku));
      if (round >= STALE_RETRIES && pending.length > 0) {
        // A busy store, not a refusal: the push job tries again later, when the till may be quiet.
        for (const p of pending) {
          results.set(p.listing.sku, { sku: p.listing.sku, ok: false, retryable: true, error: 'stock kept changing on Shopify while setting it; retry later' });
        }
        pending = [];
      }
    }
    return levels.map((l) => results.get(l.listing.sku) ?? { sku: l.listing.sku, ok: false, error: 'not processed' });
  }

  /** Inventory items by SKU with their available quantity at the configured location. */
  private async findInventoryItems(
    listings: ListingRef[],
  ): Promise<Map<string, { id: string; tracked: boolean; available: number | null }>> {
    const locationId = await this.resolveLocationId();
    const wanted = new Map(listings.map((l) => [l.sku, l.inventoryItemExternalId]));
    const skus = [...wanted.keys()];
    const found = new Map<string, { id: string; tracked: boolean; available: number | null }>();
    for (let i = 0; i < skus.length; i += SKUS_PER_SEARCH) {
      const chunk = skus.slice(i, i + SKUS_PER_SEARCH);
      const query = chunk.map((s) => `sku:${JSON.stringify(s)}`).join(' OR ');
      // https://shopify.dev/docs/api/admin-graphql/2026-07/queries/inventoryItems
      const data = parse(
        inventoryItemsSchema,
        await this.client.graphql(INVENTORY_ITEMS_QUERY, { first: 100, query, locationId }, { estimate: 302 }),
        'inventory items',
      );
      for (const item of data.inventoryItems.nodes) {
        if (!item.sku || !wanted.has(item.sku)) continue;
        const preferred = wanted.get(item.sku);
        const already = found.get(item.sku);
        // Several items can share a SKU: the listing's own item wins.
        if (already && (!preferred || already.id === preferred)) continue;
        found.set(item.sku, { id: item.id, tracked: item.tracked, available: availableOf(item) });
      }
    }
    return found;
  }

  private async resolveLocationId(): Promise<string> {
    if (this.locationId) return this.locationId;
    // https://shopify.dev/docs/api/admin-graphql/2026-07/queries/locations
    const data = await this.client.graphql<{ locations: { nodes: Array<{ id: string; isActive: boolean }> } }>(LOCATIONS_QUERY);
    const location = data.locations.nodes.find((l) => l.isActive);
    if (!location) throw new PermanentError('Shopify shop has no active location: set settings.locationId');
    this.locationId = location.id;
    return location.id;
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

/**
 * The `@idempotent` key of one inventorySetQuantities call: the intents its
 * quantities serve (a push row's attempt, a reconcile drift), the quantities as
 * sent (with their changeFromQuantity) and the read-and-set round within the call.
 * A retried HTTP send of the same call reuses it, so Shopify replays the first
 * answer; any new change, even to a number set before (5 -> 3 -> 5 -> 3), has a
 * new intent and so a new key, which Shopify would otherwise answer from its
 * 24-hour memory without setting anything.
 * https://shopify.dev/docs/api/usage/implementing-idempotency
 */
export function stockIdempotencyKey(round: number, intents: string[], quantities: unknown[]): string {
  return createHash('sha256').update(JSON.stringify({ round, intents, quantities })).digest('hex');
}

const levelSchema = z
  .object({ quantities: z.array(z.object({ name: z.string(), quantity: z.number().int().min(-2_147_483_648).max(2_147_483_647) })) })
  .nullish();

const variantsPageSchema = z.object({
  productVariants: z.object({
    nodes: z.array(
      z.object({
        id: z.string(),
        sku: z.string().nullish(),
        displayName: z.string(),
        product: z.object({ id: z.string() }),
        inventoryItem: z.object({ id: z.string(), tracked: z.boolean(), inventoryLevel: levelSchema }),
      }),
    ),
    pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullish() }),
  }),
});

const inventoryItemsSchema = z.object({
  inventoryItems: z.object({
    nodes: z.array(z.object({ id: z.string(), sku: z.string().nullish(), tracked: z.boolean(), inventoryLevel: levelSchema })),
  }),
});

function availableOf(item: { tracked: boolean; inventoryLevel?: z.infer<typeof levelSchema> }): number | null {
  if (!item.tracked || !item.inventoryLevel) return null;
  return item.inventoryLevel.quantities.find((q) => q.name === 'available')?.quantity ?? null;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new PermanentError(`Shopify sent an unexpected ${what}: ${describeIssues(result.error)}`);
  }
  return result.data;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
