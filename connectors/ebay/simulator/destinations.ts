/**
 * The Notification API's destinations and subscriptions
 * (commerce_notification_v1.5.1_oas3.yaml: createDestination, getDestinations,
 * createSubscription, getSubscriptions), with the spec's 195xxx errors. A
 * destination is created only when its endpoint answers the challenge.
 */
import { randomBytes } from 'node:crypto';
import { challengeResponse } from '../notifications.ts';
import { EbaySimError } from './state.ts';

export interface SimDestination {
  destinationId: string;
  name: string;
  status: 'ENABLED' | 'DISABLED';
  deliveryConfig: { endpoint: string; verificationToken: string };
}

export interface SimSubscription {
  subscriptionId: string;
  topicId: string;
  destinationId: string;
  status: 'ENABLED' | 'DISABLED';
  creationDate: string;
  payload: { format: 'JSON'; deliveryProtocol: 'HTTPS'; schemaVersion: string };
}

/** Topics the simulator knows, with the schema version it delivers. */
export const SIM_TOPICS: Record<string, string> = {
  ORDER_CONFIRMATION: '1.0',
  ITEM_MARKED_SHIPPED: '1.0',
  AUTHORIZATION_REVOCATION: '1.0',
  MARKETPLACE_ACCOUNT_DELETION: '1.0',
};

const err = (errorId: number, message: string, status = 400) => new EbaySimError(status, errorId, message, 'API_NOTIFICATION');

export class NotificationConfig {
  readonly destinations = new Map<string, SimDestination>();
  readonly subscriptions = new Map<string, SimSubscription>();
  /** Why eBay would not take this endpoint (none: any endpoint, for tests and the demo). */
  endpointCheck: ((endpoint: string) => Promise<string[]>) | null = null;

  async createDestination(body: unknown): Promise<SimDestination> {
    const b = (body ?? {}) as { name?: string; status?: string; deliveryConfig?: { endpoint?: string; verificationToken?: string } };
    if (typeof b.name === 'string' && (b.name.length > 64 || /[<>]/.test(b.name))) throw err(195016, 'Invalid name. Markups or lengths greater than 64 not supported');
    if (b.status !== 'ENABLED' && b.status !== 'DISABLED') throw err(195018, 'Invalid or missing destination status. Supported values:[ENABLED,DISABLED]');
    const endpoint = b.deliveryConfig?.endpoint;
    const token = b.deliveryConfig?.verificationToken;
    if (!token) throw err(195019, 'Invalid or missing verification token for this endpoint.');
    if (!endpoint) throw err(195017, 'Invalid or missing endpoint.');
    const problems = this.endpointCheck ? await this.endpointCheck(endpoint) : [];
    if (problems.length) throw err(195017, `Invalid or missing endpoint. ${problems.join('; ')}`);
    if ([...this.destinations.values()].some((d) => d.deliveryConfig.endpoint === endpoint)) throw err(195021, 'Destination exists for this endpoint');
    if (!(await answersChallenge(endpoint, token))) throw err(195020, 'Challenge verification failed for requested endpoint');
    const d: SimDestination = { destinationId: randomBytes(8).toString('hex'), name: b.name ?? '', status: b.status, deliveryConfig: { endpoint, verificationToken: token } };
    this.destinations.set(d.destinationId, d);
    return d;
  }

  createSubscription(body: unknown, now: Date): SimSubscription {
    const b = (body ?? {}) as { topicId?: string; destinationId?: string; status?: string; payload?: { format?: string; deliveryProtocol?: string; schemaVersion?: string } };
    if (!b.topicId || !(b.topicId in SIM_TOPICS)) throw err(195027, 'Invalid or missing topic id.');
    if (!b.destinationId || !this.destinations.has(b.destinationId)) throw err(195007, 'Invalid or missing destination id.');
    if (b.status !== 'ENABLED' && b.status !== 'DISABLED') throw err(195006, 'Invalid or missing subscription status.');
    if (b.payload?.schemaVersion !== SIM_TOPICS[b.topicId]) throw err(195008, 'Invalid or missing schema version. Please refer to /topic/{topic_id} for supported schema versions.');
    if (b.payload?.format !== 'JSON') throw err(195009, 'Specified format is not supported for the topic.');
    if (b.payload?.deliveryProtocol !== 'HTTPS') throw err(195010, 'Invalid or missing protocol');
    if ([...this.subscriptions.values()].some((s) => s.topicId === b.topicId && s.destinationId === b.destinationId)) throw err(195012, 'Subscription already exists', 409);
    if (b.status === 'ENABLED' && this.destinations.get(b.destinationId)!.status !== 'ENABLED') throw err(195015, 'The subscription cannot be enabled since the destination is not enabled.');
    const s: SimSubscription = {
      subscriptionId: randomBytes(8).toString('hex'),
      topicId: b.topicId,
      destinationId: b.destinationId,
      status: b.status,
      creationDate: now.toISOString(),
      payload: { format: 'JSON', deliveryProtocol: 'HTTPS', schemaVersion: b.payload.schemaVersion! },
    };
    this.subscriptions.set(s.subscriptionId, s);
    return s;
  }

  /** Endpoints of enabled subscriptions to `topic` on enabled destinations. */
  endpointsFor(topic: string): string[] {
    return [...this.subscriptions.values()]
      .filter((s) => s.topicId === topic && s.status === 'ENABLED')
      .map((s) => this.destinations.get(s.destinationId))
      .filter((d): d is SimDestination => d?.status === 'ENABLED')
      .map((d) => d.deliveryConfig.endpoint);
  }
}

/** eBay's check before it registers an endpoint: GET <endpoint>?challenge_code=..., answer compared. */
export async function answersChallenge(endpoint: string, verificationToken: string): Promise<boolean> {
  const code = randomBytes(16).toString('hex');
  const res = await fetch(`${endpoint}${endpoint.includes('?') ? '&' : '?'}challenge_code=${code}`).catch(() => null);
  const body = res?.ok ? ((await res.json().catch(() => null)) as { challengeResponse?: string } | null) : null;
  return body?.challengeResponse === challengeResponse(code, verificationToken, endpoint);
}
