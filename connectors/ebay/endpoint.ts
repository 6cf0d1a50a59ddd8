/**
 * What eBay's notifications need beyond the Connector contract, kept here until
 * the contract is reshaped into roles (a "notifications source" role would own
 * these). The HTTP route and the webhooks job use them when a connector has them
 * (`hasNotificationEndpoint`), and `parseWebhook` otherwise.
 *
 * Why not `parseWebhook`: it is pure and synchronous, and an eBay delivery can
 * only be verified with a public key fetched by id (cached, but fetched once).
 */
import type { Connector, ParsedWebhook, WebhookRequest } from '../types.ts';

/** What the route stores in the inbox for a verified delivery. */
export interface AcceptedDelivery {
  /** eBay's notificationId: the same across redeliveries (publishAttemptCount grows). */
  deliveryKey: string;
  topic: string;
}

export interface NotificationEndpoint {
  /**
   * The answer to eBay's endpoint validation, `GET <endpoint>?challenge_code=...`:
   * `{challengeResponse}` for JSON with status 200. `endpoint` is this channel's
   * webhook URL as channelsync registers it (PUBLIC_URL/webhooks/<channel id>),
   * unless the channel's settings name another.
   */
  answerChallenge(challengeCode: string, endpoint: string): { challengeResponse: string };
  /**
   * At the HTTP route: verify the signature (fetching the key by id, cached) and
   * say what to store. Throws `WebhookRejectedError` (4xx) for anything unverified,
   * `RetryableError` when the key cannot be fetched now (the route answers 5xx, eBay
   * redelivers).
   */
  acceptWebhook(request: WebhookRequest): Promise<AcceptedDelivery>;
  /**
   * In the webhooks job, for a stored delivery: verify again (the key is cached)
   * and act on it. An order topic is a hint: the order is fetched from the API and
   * returned as an `order` event (`ignored` when eBay no longer shows it). An
   * AUTHORIZATION_REVOCATION pauses the channel and is returned as `ignored` with
   * what a person must do.
   */
  resolveWebhook(request: WebhookRequest): Promise<ParsedWebhook>;
}

export function hasNotificationEndpoint(connector: Connector): connector is Connector & NotificationEndpoint {
  const c = connector as Partial<NotificationEndpoint>;
  return typeof c.answerChallenge === 'function' && typeof c.acceptWebhook === 'function' && typeof c.resolveWebhook === 'function';
}

/**
 * Lines a person should read about a channel on the dashboard (a pause and what to
 * do, the day's remaining quota). Read from shared state only, never a call to the
 * channel while the page renders.
 */
export interface ChannelNotices {
  notices(): Promise<string[]>;
}

export function hasNotices(connector: Connector): connector is Connector & ChannelNotices {
  return typeof (connector as Partial<ChannelNotices>).notices === 'function';
}
