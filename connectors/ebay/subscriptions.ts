/**
 * Registering for notifications with the Notification API
 * (https://developer.ebay.com/api-docs/commerce/notification/overview.html):
 * one destination per endpoint (createDestination, application token; eBay calls
 * the endpoint's challenge before it accepts it), then one subscription per topic
 * (createSubscription, the seller's token with commerce.notification.subscription).
 * Safe to repeat: an existing destination or subscription is reused.
 */
import { internalHostReason } from '../shopify/webhook-address.ts';
import type { WebhookState } from '../types.ts';
import { EbayRequestError, type EbayClient } from './client.ts';

/** Topics channelsync subscribes to, with the schema version it reads. */
export const SUBSCRIBED_TOPICS: Record<string, string> = {
  ORDER_CONFIRMATION: '1.0',
  AUTHORIZATION_REVOCATION: '1.0',
};

const API = 'commerce.notification.subscription';

interface Destination {
  destinationId: string;
  deliveryConfig?: { endpoint?: string };
}
interface Subscription {
  subscriptionId: string;
  topicId: string;
  destinationId: string;
  status: string;
}

async function destinationOf(client: EbayClient, endpoint: string): Promise<Destination | null> {
  const res = await client.appCall<{ destinations?: Destination[] }>('GET', '/commerce/notification/v1/destination', { what: 'notification destinations', api: 'commerce.notification' });
  return (res.body.destinations ?? []).find((d) => d.deliveryConfig?.endpoint === endpoint) ?? null;
}

async function subscriptions(client: EbayClient): Promise<Subscription[]> {
  const res = await client.call<{ subscriptions?: Subscription[] }>('GET', '/commerce/notification/v1/subscription', { what: 'notification subscriptions', api: API });
  return res.body.subscriptions ?? [];
}

export async function registerSubscriptions(client: EbayClient, endpoint: string, verificationToken: string | undefined): Promise<string[]> {
  if (!verificationToken) throw new EbayRequestError('this eBay channel has no verificationToken: add one (32 to 80 letters, digits, _ or -) to its credentials', 400, [195019], null);
  let destination = await destinationOf(client, endpoint);
  if (!destination) {
    await client.appCall('POST', '/commerce/notification/v1/destination', {
      body: { name: 'channelsync', status: 'ENABLED', deliveryConfig: { endpoint, verificationToken } },
      what: `the notification destination ${endpoint}`,
      api: 'commerce.notification',
    });
    destination = await destinationOf(client, endpoint);
    if (!destination) throw new EbayRequestError(`eBay created no destination for ${endpoint}`, 500, [], null);
  }
  const existing = (await subscriptions(client)).filter((s) => s.destinationId === destination!.destinationId);
  const ids: string[] = existing.map((s) => s.subscriptionId);
  for (const [topicId, schemaVersion] of Object.entries(SUBSCRIBED_TOPICS)) {
    if (existing.some((s) => s.topicId === topicId)) continue;
    const res = await client.call('POST', '/commerce/notification/v1/subscription', {
      body: { topicId, destinationId: destination.destinationId, status: 'ENABLED', payload: { format: 'JSON', deliveryProtocol: 'HTTPS', schemaVersion } },
      what: `the ${topicId} subscription`,
      api: API,
    });
    ids.push((res.headers.get('location') ?? '').split('/').pop() ?? topicId);
  }
  return ids;
}

export async function listSubscriptions(client: EbayClient, endpoint: string): Promise<WebhookState[]> {
  const destination = await destinationOf(client, endpoint);
  if (!destination) return [];
  return (await subscriptions(client))
    .filter((s) => s.destinationId === destination.destinationId)
    .map((s) => ({ id: s.subscriptionId, topic: s.topicId, status: s.status === 'ENABLED' ? 'active' : s.status.toLowerCase() }));
}

/**
 * What keeps eBay from delivering to `endpoint`: HTTPS is the only delivery
 * protocol (SubscriptionPayloadDetail.deliveryProtocol), and eBay's servers cannot
 * reach a private or loopback address.
 */
export async function endpointProblems(endpoint: string): Promise<string[]> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return [`${endpoint} is not a URL`];
  }
  const problems: string[] = [];
  if (url.protocol !== 'https:') problems.push('eBay delivers notifications over HTTPS only');
  const internal = internalHostReason(url.hostname);
  if (internal) problems.push(`${url.hostname} is ${internal}: eBay cannot reach it`);
  return problems;
}
