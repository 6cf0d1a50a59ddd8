/**
 * Webhook subscriptions: create, update, delete, list, count, read.
 */
import { parseGid, isoSeconds } from '../ids.ts';
import { compare, matches, parseSearch } from '../search.ts';
import type { WebhookSubscription } from '../webhooks.ts';
import { shopifyAddressError } from '../../webhook-address.ts';
import { connection, type ConnectionArgs, type Ctx } from './context.ts';

function view(s: WebhookSubscription) {
  return {
    __typename: 'WebhookSubscription',
    id: `gid://shopify/WebhookSubscription/${s.id}`,
    legacyResourceId: String(s.id),
    topic: s.topic,
    format: s.format,
    includeFields: s.includeFields,
    metafieldNamespaces: s.metafieldNamespaces,
    filter: s.filter,
    uri: s.uri,
    callbackUrl: s.uri,
    createdAt: isoSeconds(s.createdAt),
    updatedAt: isoSeconds(s.updatedAt),
    endpoint: { __typename: 'WebhookHttpEndpoint', callbackUrl: s.uri },
    apiVersion: { handle: '2026-07', displayName: '2026-07', supported: true },
  };
}

function filtered(ctx: Ctx, query: string | null | undefined, topics?: string[] | null): WebhookSubscription[] {
  const q = parseSearch(query);
  return [...ctx.webhooks.subscriptions.values()].filter(
    (s) => (!topics?.length || topics.includes(s.topic)) && matches(s, q, { id: (x, t) => compare(x.id, Number(t.value), t.op), topic: (x, t) => x.topic.toLowerCase() === t.value.toLowerCase() }),
  );
}

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/webhookSubscriptions */
export function webhookSubscriptions(args: ConnectionArgs & { query?: string | null; topics?: string[] | null }, ctx: Ctx) {
  return connection(filtered(ctx, args.query, args.topics), args, view);
}

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/webhookSubscriptionsCount */
export function webhookSubscriptionsCount(args: { query?: string | null; limit?: number | null }, ctx: Ctx) {
  const n = filtered(ctx, args.query).length;
  if (args.limit != null && n > args.limit) return { count: args.limit, precision: 'AT_LEAST' };
  return { count: n, precision: 'EXACT' };
}

/** https://shopify.dev/docs/api/admin-graphql/latest/queries/webhookSubscription */
export function webhookSubscription(args: { id: string }, ctx: Ctx) {
  const s = ctx.webhooks.subscriptions.get(parseGid(args.id, 'WebhookSubscription') ?? -1);
  return s ? view(s) : null;
}

interface SubscriptionInput { uri?: string | null; callbackUrl?: string | null; format?: string | null; includeFields?: string[] | null; metafieldNamespaces?: string[] | null; filter?: string | null }

function invalidUri(input: SubscriptionInput, ctx: Ctx): string | null {
  return shopifyAddressError(input.uri ?? input.callbackUrl, ctx.webhooks.allowLocal);
}

/** https://shopify.dev/docs/api/admin-graphql/latest/mutations/webhookSubscriptionCreate */
export function webhookSubscriptionCreate(args: { topic: string; webhookSubscription: SubscriptionInput }, ctx: Ctx) {
  const bad = invalidUri(args.webhookSubscription, ctx);
  if (bad) return { webhookSubscription: null, userErrors: [{ field: ['webhookSubscription', 'callbackUrl'], message: bad }] };
  const uri = args.webhookSubscription.uri ?? args.webhookSubscription.callbackUrl;
  for (const s of ctx.webhooks.subscriptions.values()) {
    if (s.topic === args.topic && s.uri === uri && (s.filter ?? '') === (args.webhookSubscription.filter ?? '')) {
      return { webhookSubscription: null, userErrors: [{ field: ['webhookSubscription', 'callbackUrl'], message: 'Address for this topic has already been taken' }] };
    }
  }
  return { webhookSubscription: view(ctx.webhooks.create(args.topic, args.webhookSubscription)), userErrors: [] };
}

/** https://shopify.dev/docs/api/admin-graphql/latest/mutations/webhookSubscriptionUpdate */
export function webhookSubscriptionUpdate(args: { id: string; webhookSubscription: SubscriptionInput }, ctx: Ctx) {
  const s = ctx.webhooks.subscriptions.get(parseGid(args.id, 'WebhookSubscription') ?? -1);
  if (!s) return { webhookSubscription: null, userErrors: [{ field: ['id'], message: 'Webhook subscription does not exist' }] };
  const input = args.webhookSubscription;
  if (input.uri !== undefined || input.callbackUrl !== undefined) {
    const bad = invalidUri(input, ctx);
    if (bad) return { webhookSubscription: null, userErrors: [{ field: ['webhookSubscription', 'callbackUrl'], message: bad }] };
    s.uri = (input.uri ?? input.callbackUrl)!;
  }
  if (input.format != null) s.format = input.format;
  if (input.includeFields != null) s.includeFields = input.includeFields;
  if (input.metafieldNamespaces != null) s.metafieldNamespaces = input.metafieldNamespaces;
  if (input.filter != null) s.filter = input.filter;
  s.updatedAt = ctx.state.now();
  return { webhookSubscription: view(s), userErrors: [] };
}

/** https://shopify.dev/docs/api/admin-graphql/latest/mutations/webhookSubscriptionDelete */
export function webhookSubscriptionDelete(args: { id: string }, ctx: Ctx) {
  const id = parseGid(args.id, 'WebhookSubscription') ?? -1;
  if (!ctx.webhooks.subscriptions.delete(id)) {
    return { deletedWebhookSubscriptionId: null, userErrors: [{ field: ['id'], message: 'Webhook subscription does not exist' }] };
  }
  return { deletedWebhookSubscriptionId: args.id, userErrors: [] };
}
