/**
 * Webhook subscriptions: create, update, delete, list, count, read.
 */
import { parseGid, isoSeconds } from '../ids.ts';
import { API_VERSION } from '../schema.ts';
import { compare, matches, parseSearch } from '../search.ts';
import type { WebhookSubscription } from '../webhooks.ts';
import { addressErrors, destinationOf, filterErrors, formatErrors, nameErrors, resolveNamespaces, type SubscriptionInput } from '../webhook-rules.ts';
import { connection, type ConnectionArgs, type Ctx, type UserError } from './context.ts';

function view(s: WebhookSubscription) {
  return {
    __typename: 'WebhookSubscription',
    id: `gid://shopify/WebhookSubscription/${s.id}`,
    legacyResourceId: String(s.id),
    topic: s.topic,
    format: s.format,
    includeFields: s.includeFields,
    metafieldNamespaces: s.metafieldNamespaces,
    metafields: s.metafields ?? [],
    name: s.name ?? null,
    filter: s.filter,
    uri: s.uri,
    callbackUrl: s.uri,
    createdAt: isoSeconds(s.createdAt),
    updatedAt: isoSeconds(s.updatedAt),
    endpoint: endpointOf(s.uri),
    apiVersion: { handle: s.apiVersion, displayName: s.apiVersion, supported: s.apiVersion === API_VERSION },
  };
}

/** The deprecated `endpoint` union, by destination. */
function endpointOf(uri: string) {
  const d = destinationOf(uri);
  if (d === 'pubsub') {
    const [project, topic] = uri.slice('pubsub://'.length).split(':');
    return { __typename: 'WebhookPubSubEndpoint', pubSubProject: project, pubSubTopic: topic };
  }
  if (d === 'eventbridge') return { __typename: 'WebhookEventBridgeEndpoint', arn: uri };
  return { __typename: 'WebhookHttpEndpoint', callbackUrl: uri };
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

function validate(ctx: Ctx, topic: string, input: SubscriptionInput, current: WebhookSubscription | null): UserError[] {
  const address = input.uri ?? input.callbackUrl;
  const uri = address != null || !current ? (address ?? '').trim() : current.uri;
  const errors: UserError[] = [];
  if (address != null || !current) errors.push(...addressErrors(address, ctx.webhooks.allowLocal));
  if (errors.length) return errors;
  errors.push(...formatErrors(input.format ?? current?.format, topic, destinationOf(uri)));
  errors.push(...nameErrors(input.name, (lower) => [...ctx.webhooks.subscriptions.values()].some((s) => s !== current && s.name?.toLowerCase() === lower)));
  errors.push(...filterErrors(input.filter));
  if (errors.length) return errors;
  const format = input.format ?? current?.format ?? 'JSON';
  const filter = input.filter !== undefined ? input.filter : current?.filter ?? null;
  for (const s of ctx.webhooks.subscriptions.values()) {
    if (s !== current && s.topic === topic && s.uri === uri && s.format === format && (s.filter ?? '') === (filter ?? '')) {
      return [{ field: ['webhookSubscription', 'callbackUrl'], message: 'Address for this topic has already been taken' }];
    }
  }
  return [];
}

/** https://shopify.dev/docs/api/admin-graphql/latest/mutations/webhookSubscriptionCreate */
export function webhookSubscriptionCreate(args: { topic: string; webhookSubscription: SubscriptionInput }, ctx: Ctx) {
  const input = args.webhookSubscription;
  const errors = validate(ctx, args.topic, input, null);
  if (errors.length) return { webhookSubscription: null, userErrors: errors };
  const s = ctx.webhooks.create(args.topic, {
    ...input, uri: (input.uri ?? input.callbackUrl ?? '').trim(), metafieldNamespaces: resolveNamespaces(input.metafieldNamespaces ?? []),
  });
  s.name = input.name ?? null;
  s.metafields = input.metafields ?? [];
  return { webhookSubscription: view(s), userErrors: [] };
}

/** https://shopify.dev/docs/api/admin-graphql/latest/mutations/webhookSubscriptionUpdate */
export function webhookSubscriptionUpdate(args: { id: string; webhookSubscription: SubscriptionInput }, ctx: Ctx) {
  const s = ctx.webhooks.subscriptions.get(parseGid(args.id, 'WebhookSubscription') ?? -1);
  if (!s) return { webhookSubscription: null, userErrors: [{ field: ['id'], message: 'Webhook subscription does not exist' }] };
  const input = args.webhookSubscription;
  const errors = validate(ctx, s.topic, input, s);
  if (errors.length) return { webhookSubscription: null, userErrors: errors };
  const address = input.uri ?? input.callbackUrl;
  if (address != null) s.uri = address.trim();
  if (input.format != null) s.format = input.format;
  if (input.includeFields != null) s.includeFields = input.includeFields;
  if (input.metafieldNamespaces != null) s.metafieldNamespaces = resolveNamespaces(input.metafieldNamespaces);
  if (input.metafields != null) s.metafields = input.metafields;
  if (input.filter != null) s.filter = input.filter;
  if (input.name != null) s.name = input.name;
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
