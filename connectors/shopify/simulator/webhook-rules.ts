/**
 * What `webhookSubscriptionCreate`/`Update` refuse, with Shopify's own
 * `userErrors` (field and message), as recorded in the real captures
 * (../shared/fixtures/shopify/captures/2026-04_webhooks_*.json, e.g.
 * `webhook-subscription-cloud-uri-validation`, `-topic-format-name-validation`,
 * `-address-byte-size-validation`, `-filter-byte-size-validation`,
 * `-filter-mixed-term`, `-uri-whitespace`, `-conformance`).
 *
 * Docs: https://shopify.dev/docs/api/admin-graphql/latest/mutations/webhookSubscriptionCreate
 *       https://shopify.dev/docs/apps/build/webhooks/customize/filters
 *
 * A refused request changes nothing: every rule is checked before anything
 * is written.
 */
import type { UserError } from './resolvers/context.ts';
import { internalHostReason } from '../webhook-address.ts';

/** The app's API client id as Shopify knows it (`$app:` namespaces, EventBridge ARNs). */
export const SIMULATOR_API_CLIENT_ID = '5870143489';

/** The shop's own domains, which Shopify refuses as a webhook address. */
export const SHOP_DOMAINS = ['channelsync-simulator.myshopify.com', 'channelsync-simulator.account.myshopify.com'];

const MAX_BYTES = 65535;
const ADDRESS: string[] = ['webhookSubscription', 'callbackUrl'];

/** Google's rules for a project id (6–30 lowercase letters, digits, hyphens; a letter first, no hyphen last). */
const GCP_PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
/** Google's rules for a topic id (3–255 chars, a letter first, letters, digits, `-_.~+%`, not `goog…`). */
const GCP_TOPIC = /^(?!goog)[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;
const EVENTBRIDGE_ARN = /^arn:aws:events:[a-z0-9-]+::event-source\/aws\.partner\/shopify\.com\/(\d+)\/[^/]+$/;

/**
 * Topics Shopify delivers as JSON only: the recorded `RETURNS_APPROVE` with
 * format XML answers "Format 'xml' is invalid for this webhook topic.
 * Allowed formats: json"; the returns topics came after XML was frozen.
 */
const JSON_ONLY_TOPIC = /^(RETURNS_|REVERSE_)/;

export interface SubscriptionInput {
  uri?: string | null;
  callbackUrl?: string | null;
  format?: string | null;
  includeFields?: string[] | null;
  metafieldNamespaces?: string[] | null;
  metafields?: Array<{ namespace: string; key: string }> | null;
  filter?: string | null;
  name?: string | null;
}

/** The kind of destination an address names. */
export type Destination = 'http' | 'pubsub' | 'eventbridge';

export function destinationOf(uri: string): Destination {
  if (uri.startsWith('pubsub://')) return 'pubsub';
  if (uri.startsWith('arn:')) return 'eventbridge';
  return 'http';
}

/** Shopify's errors for one address (empty when it takes it). */
export function addressErrors(raw: string | null | undefined, allowLocal: boolean): UserError[] {
  const uri = (raw ?? '').trim();
  const err = (...messages: string[]) => messages.map((message) => ({ field: ADDRESS, message }));
  if (!uri) return err("Address can't be blank");
  if (Buffer.byteLength(uri) > MAX_BYTES) return err('Address is too big (maximum is 64 KB)');
  if (uri.startsWith('pubsub://')) {
    const m = /^pubsub:\/\/([^:]*):(.*)$/.exec(uri);
    if (!m || !m[2]) return err('Address protocol pubsub:// is not supported', 'Address is not a valid GCP pub/sub format. Format should be pubsub://project:topic');
    if (!GCP_PROJECT.test(m[1]!)) return err('Address is invalid', 'Address is not a valid GCP project id.');
    if (!GCP_TOPIC.test(m[2])) return err('Address is invalid', 'Address is not a valid GCP topic id.');
    return [];
  }
  if (uri.startsWith('arn:')) {
    const m = EVENTBRIDGE_ARN.exec(uri);
    if (!m) return err('Address is invalid', 'Address is not a valid AWS ARN');
    if (m[1] !== SIMULATOR_API_CLIENT_ID) return err('Address is invalid', `Address is an AWS ARN and includes api_client_id '${m[1]}' instead of '${SIMULATOR_API_CLIENT_ID}'`);
    return [];
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1]?.toLowerCase();
  if (scheme === 'kafka') return err('Address protocol kafka:// is not supported', 'Address is not a valid kafka topic');
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return err('Address is invalid');
  }
  if (u.protocol === 'http:' && allowLocal) return [];
  if (u.protocol !== 'https:') return err(`Address protocol ${u.protocol}// is not supported`);
  if (allowLocal) return [];
  // Shopify refuses the shop's own domains (craftcms/shopify#193 records the message).
  if (SHOP_DOMAINS.includes(u.hostname.toLowerCase())) return err(`Address cannot be any of the domains: ${SHOP_DOMAINS.join(', ')}`);
  // An internal host: Shopify cannot reach it (Shopify/shopify-api-js#194).
  if (internalHostReason(u.hostname)) return err('Address is invalid');
  return [];
}

/**
 * A filter is Shopify search syntax over the payload's fields: every term
 * must name its field (`customer_id:123`); a bare word, alone or beside
 * qualified terms, is refused (recorded: "totally bogus syntax",
 * "customer_id:… bareword").
 */
export function filterErrors(filter: string | null | undefined): UserError[] {
  if (filter == null || filter === '') return [];
  if (Buffer.byteLength(filter) > MAX_BYTES) return [{ field: ['webhookSubscription'], message: 'The specified filter exceeds the maximum allowed size.' }];
  const terms = filter.replace(/[()]/g, ' ').split(/\s+/).filter((t) => t && !/^(AND|OR|NOT)$/.test(t));
  if (terms.some((t) => !/^-?[\w.]+:\S+/.test(t))) {
    return [{ field: ['webhookSubscription'], message: 'The specified filter is invalid, please ensure you specify the field(s) you wish to filter on.' }];
  }
  return [];
}

/** Name rules: 1+ characters of `[A-Za-z0-9_-]`, unique per app ignoring case. */
export function nameErrors(name: string | null | undefined, taken: (lower: string) => boolean): UserError[] {
  if (name == null) return [];
  const field = ['webhookSubscription', 'name'];
  const errors: UserError[] = [];
  // An empty name breaks both rules, and Shopify says so twice (recorded).
  if (name.length === 0) errors.push({ field, message: 'Name is too short (minimum is 1 character)' });
  if (!/^[A-Za-z0-9_-]+$/.test(name)) errors.push({ field, message: 'Name name field can only contain alphanumeric characters, underscores, and hyphens' });
  if (errors.length) return errors;
  if (taken(name.toLowerCase())) return [{ field, message: 'Name already exists, no duplicate allowed' }];
  return [];
}

/** Format rules: cloud destinations and JSON-only topics take JSON only. */
export function formatErrors(format: string | null | undefined, topic: string, destination: Destination): UserError[] {
  if (format !== 'XML') return [];
  const field = ['webhookSubscription', 'format'];
  if (destination !== 'http') return [{ field, message: "Format can only be used with format: 'json'" }];
  if (JSON_ONLY_TOPIC.test(topic)) return [{ field, message: "Format 'xml' is invalid for this webhook topic. Allowed formats: json" }];
  return [];
}

/** `$app:Settings` is stored as the app's reserved namespace `app--<api client id>--Settings`. */
export function resolveNamespaces(namespaces: string[]): string[] {
  return namespaces.map((n) => (n.startsWith('$app:') ? `app--${SIMULATOR_API_CLIENT_ID}--${n.slice(5)}` : n));
}
