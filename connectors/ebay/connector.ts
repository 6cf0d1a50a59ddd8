/**
 * The eBay connector: a facade over the client (auth, quotas), pull.ts (orders
 * in), fulfilment.ts (shipped back), stock.ts (listings and quantities) and
 * notifications.ts (signed deliveries).
 */
import type { Logger } from 'pino';
import { WebhookRejectedError } from '../../src/domain/errors.ts';
import type { UnifiedOrder } from '../../src/domain/order.ts';
import type {
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
  RefundPush,
  StockPush,
  StockPushResult,
  StockReading,
  VerifyResult,
  WebhookRequest,
  WebhookState,
} from '../types.ts';
import { EbayClient, EbayRequestError } from './client.ts';
import type { AcceptedDelivery, ChannelNotices, NotificationEndpoint } from '../types.ts';
import { pushFulfillment } from './fulfilment.ts';
import { refundOrder } from './refunds.ts';
import { SigningKeys } from './signing-keys.ts';
import { mapOrder } from './mapping.ts';
import { cachedKeys, challengeResponse, decodeSignatureHeader, meaningOf, SIGNATURE_HEADER, verifyNotification, type PublicKeySource } from './notifications.ts';
import { EbayOrderUnreadable, pullOrders } from './pull.ts';
import { listListings, pushStock, readStock } from './stock.ts';
import { endpointProblems, listSubscriptions, registerSubscriptions } from './subscriptions.ts';
import type { EbayCredentials, EbaySettings } from './index.ts';

/** How long the dashboard shows a quota reading before asking eBay again. */
const QUOTA_TTL_MS = 10 * 60 * 1000;

export class EbayConnector implements Connector, NotificationEndpoint, ChannelNotices {
  readonly kind = 'ebay';
  readonly capabilities: Capabilities;
  /** CreateShippingFulfillment has no URL field. */
  readonly fulfilmentKeeps: FulfilmentKeeps = { trackingUrl: 'none' };
  readonly client: EbayClient;
  private readonly signingKeys: SigningKeys;
  private readonly keys: PublicKeySource;
  private readonly log: Logger;

  constructor(private readonly ctx: ConnectorContext<EbaySettings, EbayCredentials>) {
    const { settings, credentials } = ctx.channel;
    this.log = ctx.log;
    this.client = new EbayClient({
      apiUrl: settings.apiUrl,
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      refreshToken: credentials.refreshToken,
      scopes: settings.scopes,
      channelId: ctx.channel.id,
      appDailyCalls: settings.appDailyCalls,
      userDailyCalls: settings.userDailyCalls,
      kv: ctx.kv,
      budget: ctx.budget,
      log: ctx.log,
      ...(ctx.recordCall ? { recordCall: ctx.recordCall } : {}),
      ...(ctx.pauseChannel ? { pauseChannel: ctx.pauseChannel } : {}),
    });
    this.keys = cachedKeys(ctx.kv, this.client.publicKeys);
    // issueRefund needs sell.finances: without it the role is not offered (approving a return says so at once).
    this.capabilities = { webhooks: true, backfill: false, cancel: false, refund: settings.scopes.some((s) => s.endsWith('/sell.finances')) };
    this.signingKeys = new SigningKeys({
      client: this.client,
      apiUrl: settings.apiUrl,
      stored: credentials.signingKey,
      ...(ctx.storeCredential ? { store: ctx.storeCredential } : {}),
    });
  }

  /** One getOrders of one order: proves the refresh token, the scopes and the marketplace. */
  async verify(): Promise<VerifyResult> {
    const res = await this.client.call<{ total?: number }>('GET', '/sell/fulfillment/v1/order', { query: { limit: 1 }, api: 'sell.fulfillment', what: 'the seller\'s orders' });
    // Stock needs sell.inventory: checked now, so a missing scope is said at connect time (1100).
    await this.client.call('GET', '/sell/inventory/v1/inventory_item', { query: { limit: 1 }, api: 'sell.inventory', what: 'the seller\'s inventory' });
    if (this.ctx.channel.settings.scopes.some((s) => s.endsWith('/commerce.notification.subscription'))) {
      await this.client.call('GET', '/commerce/notification/v1/subscription', { api: 'commerce.notification.subscription', what: 'the seller\'s notification subscriptions' });
    }
    return { store: `eBay ${this.ctx.channel.settings.marketplaceId}`, detail: `${res.body.total ?? 0} orders in the last 90 days; scopes ${this.ctx.channel.settings.scopes.map((s) => s.split('/').pop()).join(', ')}` };
  }

  pullOrders(cursor: string | null): AsyncIterable<OrderPage> {
    const initialSince = this.ctx.channel.settings.initialSince;
    return pullOrders(this.client, cursor, { fetchOrder: (id) => this.fetchOrder(id), ...(initialSince ? { initialSince } : {}) });
  }

  /** getOrder (https://developer.ebay.com/api-docs/sell/fulfillment/resources/order/methods/getOrder): with cancellation requests. */
  async fetchOrder(externalId: string): Promise<UnifiedOrder | null> {
    try {
      const res = await this.client.call('GET', `/sell/fulfillment/v1/order/${encodeURIComponent(externalId)}`, { api: 'sell.fulfillment', what: `order ${externalId}` });
      try {
        return mapOrder(res.body);
      } catch (err) {
        throw new EbayOrderUnreadable(`eBay order ${externalId} cannot be read: ${(err as Error).message}`, res.body);
      }
    } catch (err) {
      if (err instanceof EbayRequestError && (err.status === 404 || err.errorIds.includes(32100))) return null;
      throw err;
    }
  }

  /**
   * Synchronous parsing cannot verify an eBay delivery (the key is fetched by id):
   * the route and job use `acceptWebhook`/`resolveWebhook`. Here a delivery is
   * refused, with a header problem named when there is one.
   */
  parseWebhook(request: WebhookRequest): ParsedWebhook {
    decodeSignatureHeader(request.headers[SIGNATURE_HEADER]);
    throw new WebhookRejectedError('eBay notifications are verified with a key fetched by id: use acceptWebhook', 401);
  }

  answerChallenge(challengeCode: string, endpoint: string): { challengeResponse: string } {
    const token = this.ctx.channel.credentials.verificationToken;
    if (!token) throw new WebhookRejectedError('this eBay channel has no verificationToken: add the one given to eBay for this destination', 404);
    return { challengeResponse: challengeResponse(challengeCode, token, this.ctx.channel.settings.notificationEndpoint ?? endpoint) };
  }

  async acceptWebhook(request: WebhookRequest): Promise<AcceptedDelivery> {
    const envelope = await verifyNotification(request.rawBody, request.headers, this.keys);
    return { deliveryKey: envelope.notification.notificationId, topic: envelope.metadata.topic };
  }

  async resolveWebhook(request: WebhookRequest): Promise<ParsedWebhook> {
    const envelope = await verifyNotification(request.rawBody, request.headers, this.keys);
    const base = { deliveryKey: envelope.notification.notificationId, topic: envelope.metadata.topic };
    const meaning = meaningOf(envelope);
    if (meaning.kind === 'order') {
      // A hint: the order as eBay has it now is what is saved.
      const order = await this.fetchOrder(meaning.orderId);
      return { ...base, event: order ? { type: 'order', order } : { type: 'ignored', reason: `eBay does not show order ${meaning.orderId}` } };
    }
    if (meaning.kind === 'revoked') {
      const reason = `the seller revoked channelsync's access on eBay (${meaning.reason}${meaning.at ? ` at ${meaning.at}` : ''}): reconnect the account`;
      await this.client.pause(reason);
      this.log.warn({ channel: this.ctx.channel.id, revokeReason: meaning.reason }, 'eBay authorisation revoked; channel paused');
      return { ...base, event: { type: 'ignored', reason: `channel paused: ${reason}` } };
    }
    return { ...base, event: { type: 'ignored', reason: meaning.reason } };
  }

  /** A Notification API destination for `callbackUrl` (challenge answered by our route) and its subscriptions. */
  registerWebhooks(callbackUrl: string): Promise<string[]> {
    return registerSubscriptions(this.client, this.ctx.channel.settings.notificationEndpoint ?? callbackUrl, this.ctx.channel.credentials.verificationToken);
  }

  listWebhooks(callbackUrl: string): Promise<WebhookState[]> {
    return listSubscriptions(this.client, this.ctx.channel.settings.notificationEndpoint ?? callbackUrl);
  }

  checkWebhookAddress(callbackUrl: string): Promise<string[]> {
    return endpointProblems(callbackUrl);
  }

  /**
   * The seller's remaining daily quota as getUserRateLimits last said (kept QUOTA_TTL_MS
   * in the KV; refreshed in the background, so the dashboard never waits on eBay). A
   * pause is not said here: the channel's row has it, and the dashboard shows it for
   * every kind.
   */
  async notices(): Promise<string[]> {
    const key = `ebay:${this.ctx.channel.id}:quota`;
    const cached = await this.ctx.kv.get(key);
    if (cached) return [cached];
    void this.refreshQuota(key).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'eBay getUserRateLimits failed'));
    return [];
  }

  /**
   * Both of eBay's daily quotas, each per API: the seller's (getUserRateLimits, user token)
   * and the application's (getRateLimits, application token), which every channel of the
   * same app shares. Either is left out when eBay does not say.
   */
  private async refreshQuota(key: string): Promise<void> {
    const said = (user: boolean) => async (api: string) => {
      const q = await this.client.liveQuota(api, user);
      return q ? `${api} ${q.remaining.toLocaleString('en-US')} of ${q.limit.toLocaleString('en-US')} calls left${q.reset ? ` (resets ${q.reset.toISOString().slice(0, 16).replace('T', ' ')} UTC)` : ''}` : null;
    };
    const apis = ['fulfillment', 'inventory'];
    const seller = (await Promise.all(apis.map(said(true)))).filter((p): p is string => p !== null);
    const app = (await Promise.all(apis.map(said(false)))).filter((p): p is string => p !== null);
    const lines = [seller.length ? `this seller: ${seller.join('; ')}` : null, app.length ? `the app (shared by its channels): ${app.join('; ')}` : null].filter(Boolean);
    if (lines.length) await this.ctx.kv.set(key, `eBay daily quota: ${lines.join(' | ')}`, QUOTA_TTL_MS);
  }

  pushFulfillment(push: FulfillmentPush): Promise<PushOutcome> {
    return pushFulfillment(this.client, push);
  }

  /** Refunder: issueRefund, signed, once however often pushed (./refunds.ts). */
  refundOrder(push: RefundPush): Promise<PushOutcome> {
    return refundOrder({ client: this.client, keys: this.signingKeys, kv: this.ctx.kv, channelId: this.ctx.channel.id }, push);
  }

  listListings(): AsyncIterable<ChannelListing[]> {
    return listListings(this.client);
  }

  readStock(listings: ListingRef[]): Promise<StockReading[]> {
    return readStock(this.client, listings);
  }

  pushStock(levels: StockPush[]): Promise<StockPushResult[]> {
    return pushStock(this.client, this.ctx.kv, this.ctx.channel.id, levels);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
