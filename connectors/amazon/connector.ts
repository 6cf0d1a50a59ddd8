/**
 * What channelsync can do with an Amazon seller account: a small facade over
 * the files that do it (pull.ts, fulfillment.ts, stock.ts, notifications.ts);
 * auth, pacing and errors live in client.ts, payload mapping in mapping.ts.
 *
 * Roles (connectors/types.ts): orders source, fulfilment sink, listings,
 * stock (patches) and async stock (feeds), and a notification queue when the
 * channel names one. No webhooks: Amazon delivers through SQS. No cancel
 * through channelsync: seller cancellations are an order-acknowledgement feed
 * this connector does not send yet (docs/connectors/amazon.md).
 */
import type {
  Capabilities,
  ChannelListing,
  Connector,
  FulfilmentKeeps,
  ConnectorContext,
  FulfillmentPush,
  ListingRef,
  OrderPage,
  PushOutcome,
  QueuedNotification,
  StockPush,
  StockPushResult,
  StockReading,
  StockSubmission,
  StockSubmissionState,
  VerifyResult,
} from '../types.ts';
import type { UnifiedOrder } from '../../src/domain/order.ts';
import { PermanentError } from '../../src/domain/errors.ts';
import { AmazonClient, AmazonNotFoundError } from './client.ts';
import { confirmShipment } from './fulfillment.ts';
import { orderSchema } from './mapping.ts';
import { NotificationQueue } from './notifications.ts';
import { cachedItems, pullOrders, readOrder } from './pull.ts';
import { FEED_THRESHOLD, feedState, listListings, patchStock, readStock, submitFeed, type StockOptions } from './stock.ts';
import { z } from 'zod';
import { regionEndpoint, type AmazonCredentials, type AmazonSettings } from './index.ts';

const DEFAULT_INITIAL_DAYS = 30;

export class AmazonConnector implements Connector {
  readonly kind = 'amazon';
  readonly capabilities: Capabilities = { webhooks: false, backfill: false, cancel: false, refund: false };
  /** ConfirmShipment takes no URL: Amazon shows its own link for the carrier. */
  readonly fulfilmentKeeps: FulfilmentKeeps = { trackingUrl: 'from-carrier' };
  readonly asyncStockThreshold = FEED_THRESHOLD;
  readonly asyncStockPollMs: number;
  private readonly client: AmazonClient;
  private readonly stock: StockOptions;
  private readonly queue: NotificationQueue | null;
  private readonly settings: AmazonSettings;

  constructor(private readonly ctx: ConnectorContext<AmazonSettings, AmazonCredentials>) {
    const { settings, credentials } = ctx.channel;
    this.settings = settings;
    this.client = new AmazonClient({
      endpoint: settings.endpoint ?? regionEndpoint(settings.region),
      tokenUrl: settings.tokenUrl,
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      refreshToken: credentials.refreshToken,
      sellerId: settings.sellerId,
      budget: ctx.budget,
      kv: ctx.kv,
      log: ctx.log,
      recordCall: ctx.recordCall,
      timeoutMs: settings.timeoutMs,
    });
    this.asyncStockPollMs = settings.feedPollSeconds * 1000;
    this.stock = { client: this.client, kv: ctx.kv, sellerId: settings.sellerId, marketplaceIds: settings.marketplaceIds, pollMs: this.asyncStockPollMs };
    this.queue = settings.sqsQueueUrl
      ? new NotificationQueue({
          queueUrl: settings.sqsQueueUrl,
          region: settings.sqsRegion ?? /^https:\/\/sqs\.([a-z0-9-]+)\./.exec(settings.sqsQueueUrl)![1]!,
          endpoint: settings.sqsEndpoint,
          credentials:
            credentials.awsAccessKeyId && credentials.awsSecretAccessKey
              ? { accessKeyId: credentials.awsAccessKeyId, secretAccessKey: credentials.awsSecretAccessKey }
              : undefined,
          sellerId: settings.sellerId,
          log: ctx.log,
        })
      : null;
    if (!this.queue) {
      // No queue configured: the role is absent, and polling alone keeps orders in step.
      this.pollNotifications = undefined;
      this.ackNotifications = undefined;
    }
  }

  async verify(): Promise<VerifyResult> {
    // One cheap call that needs the LWA exchange, the seller id and the marketplace to be right.
    for await (const page of listListings(this.stock)) {
      return { store: `Amazon seller ${this.settings.sellerId}`, detail: `${page.length ? 'listings readable' : 'no listings yet'} in ${this.settings.marketplaceIds.join(', ')}` };
    }
    return { store: `Amazon seller ${this.settings.sellerId}`, detail: 'no listings yet' };
  }

  pullOrders(cursor: string | null): AsyncIterable<OrderPage> {
    const initial = this.settings.initialSince ?? new Date(Date.now() - DEFAULT_INITIAL_DAYS * 86_400_000).toISOString();
    return pullOrders(
      {
        client: this.client,
        kv: this.ctx.kv,
        sellerId: this.settings.sellerId,
        marketplaceIds: this.settings.marketplaceIds,
        overlapSeconds: this.settings.overlapSeconds,
        initialSince: initial,
        pageSize: 100,
      },
      cursor,
    );
  }

  async fetchOrder(externalId: string): Promise<UnifiedOrder | null> {
    const restricted = [{ method: 'GET', path: `/orders/v0/orders/${externalId}`, dataElements: ['buyerInfo', 'shippingAddress'] }];
    let body: unknown;
    try {
      // https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference#getorder
      body = (await this.client.call('getOrder', { params: { orderId: externalId }, restricted, what: `order ${externalId}` })).body;
    } catch (err) {
      if (err instanceof AmazonNotFoundError) return null;
      throw err;
    }
    const raw = z.looseObject({ payload: z.unknown() }).parse(body).payload;
    const head = orderSchema.pick({ AmazonOrderId: true, LastUpdateDate: true }).safeParse(raw);
    if (!head.success) throw new PermanentError(`Amazon order ${externalId} cannot be read: ${head.error.issues[0]?.message}`);
    const items = await cachedItems({ client: this.client, kv: this.ctx.kv, sellerId: this.settings.sellerId }, head.data);
    const read = readOrder(raw, items);
    if ('reason' in read) throw new PermanentError(`Amazon order ${externalId} cannot be read: ${read.reason}`);
    return read.order;
  }

  pushFulfillment(push: FulfillmentPush): Promise<PushOutcome> {
    return confirmShipment({ client: this.client, marketplaceId: this.settings.marketplaceIds[0]! }, push);
  }

  listListings(): AsyncIterable<ChannelListing[]> {
    return listListings(this.stock);
  }

  readStock(listings: ListingRef[]): Promise<StockReading[]> {
    return readStock(this.stock, listings);
  }

  pushStock(levels: StockPush[]): Promise<StockPushResult[]> {
    return patchStock(this.stock, levels);
  }

  submitStock(levels: StockPush[]): Promise<StockSubmission> {
    return submitFeed(this.stock, levels);
  }

  stockSubmission(handle: string): Promise<StockSubmissionState> {
    return feedState(this.stock, handle);
  }

  pollNotifications? = (waitSeconds: number): Promise<QueuedNotification[]> => this.queue!.poll(waitSeconds);

  ackNotifications? = (receipts: string[]): Promise<void> => this.queue!.ack(receipts);

  async close(): Promise<void> {
    this.queue?.close();
    await this.client.close();
  }
}
