/**
 * Registers a channel's webhooks at PUBLIC_URL and checks that the channel
 * can deliver there, saying plainly what to change when it cannot.
 *
 * A store refuses or drops deliveries silently: a stock WordPress will not
 * send to a private host or to a port other than 80/443/8080 (the request
 * fails inside WordPress with "A valid URL was not provided."), and
 * WooCommerce disables a webhook after repeated failures; Shopify refuses
 * http:// and internal addresses when the subscription is made. So:
 *
 * - WooCommerce sends a ping (`webhook_id=<id>`) when a webhook is created;
 *   the HTTP route records it (`webhook_deliveries`, topic `ping`). Missing
 *   pings are asked for once more (`Connector.pingWebhooks`), then the check
 *   fails naming the WordPress rule PUBLIC_URL breaks, if any.
 * - Shopify has no test delivery: the check is that Shopify accepted every
 *   subscription (its userErrors otherwise) and that channelsync's own
 *   webhook route for the channel answers at PUBLIC_URL (an unsigned probe,
 *   refused with 401; from this machine, which proves the address serves
 *   this channelsync, not that Shopify can reach it).
 */
import type { App } from '../app.ts';
import type { WebhookState } from '../../connectors/types.ts';
import { ConfigError, PermanentError, RetryableError } from '../domain/errors.ts';

/** Options of `checkChannelWebhooks`. */
export interface WebhookCheckOptions {
  /**
   * How long to wait for each round of pings to be recorded, in ms. Default
   * 1000: WooCommerce pings before it answers the create (or update) call, and
   * channelsync records the ping before it answers the ping, so it is there
   * already unless the store is slow.
   */
  waitMs?: number;
  /** Timeout of the probe of PUBLIC_URL/webhooks/<id> from this machine, in ms. Default 3000. */
  probeTimeoutMs?: number;
}

/** What `checkChannelWebhooks` found. */
export interface WebhookCheck {
  /** The address the webhooks call: PUBLIC_URL/webhooks/<channel id>. */
  url: string;
  /** The webhooks' ids on the channel. */
  registered: string[];
  /** The channel's rules the address breaks (from `Connector.checkWebhookAddress`). */
  problems: string[];
  /** Ids whose test delivery reached channelsync; null for channels without one (Shopify). */
  pinged: string[] | null;
  /** Whether channelsync's webhook route for this channel answered at PUBLIC_URL from this machine, and what it said. */
  reachable: { ok: boolean; detail: string };
  /** True when deliveries are known to reach channelsync (WooCommerce) or were accepted and PUBLIC_URL serves channelsync (Shopify). */
  ok: boolean;
  /** The report, one line each; when not ok, the last ones say what to change. */
  lines: string[];
}

const PUBLIC_URL_RULE =
  'PUBLIC_URL must be the public https:// address of this channelsync (port 443, or 80/8080), reachable from the store; not localhost, not a private address';

/**
 * Registers (safe to repeat) and checks the webhooks of `channelId`. Throws
 * `ConfigError` when the channel refused the subscriptions (with its words and
 * the rule broken), `RetryableError` when the store could not be reached;
 * otherwise returns the check, `ok` or not.
 */
export async function checkChannelWebhooks(app: App, channelId: number, options: WebhookCheckOptions = {}): Promise<WebhookCheck> {
  const publicUrl = app.config.publicUrl;
  const url = `${publicUrl}/webhooks/${channelId}`;
  const { channel, connector } = await app.connectors.get(channelId);
  if (!connector.registerWebhooks) throw new ConfigError(`${channel.kind} channels have no webhook registration`);
  const [problems, reachable, before] = await Promise.all([
    connector.checkWebhookAddress?.(url) ?? Promise.resolve([]),
    probe(url, options.probeTimeoutMs ?? 3000),
    connector.listWebhooks?.(url) ?? Promise.resolve(null),
  ]);

  let registered: string[];
  try {
    registered = await connector.registerWebhooks(url);
  } catch (err) {
    if (err instanceof RetryableError) throw err;
    if (err instanceof PermanentError) {
      const why = problems.length ? `; PUBLIC_URL (${publicUrl}) breaks the channel's rule: ${problems.join('; ')}` : '';
      throw new ConfigError(`webhooks not registered: ${err.message}${why}. ${PUBLIC_URL_RULE}; then run "channelsync channels webhooks ${channelId}"`, { cause: err });
    }
    throw err;
  }

  const lines: string[] = [];
  if (before && connector.listWebhooks) {
    const after = await connector.listWebhooks(url);
    lines.push(`webhooks registered at ${url}:`, ...after.map((w) => `  ${w.id} ${w.topic}: ${describeState(w, before.find((b) => b.id === w.id))}`));
  } else {
    lines.push(`webhooks registered at ${url}: ${registered.join(', ')}`);
  }
  const reachLine = reachable.detail;
  let pinged: string[] | null = null;
  let ok: boolean;
  if (connector.pingWebhooks) {
    const waitMs = options.waitMs ?? 1000;
    pinged = await recordedPings(app, channelId, registered, waitMs);
    const missing = registered.filter((id) => !pinged!.includes(id));
    if (missing.length) {
      // Webhooks that already existed were pinged long ago, or never got through: ask again.
      await connector.pingWebhooks(missing);
      pinged = await recordedPings(app, channelId, registered, waitMs);
    }
    ok = pinged.length === registered.length;
    const notPinged = registered.filter((id) => !pinged!.includes(id));
    if (ok) {
      lines.push(`test delivery (ping) arrived at channelsync for webhooks ${registered.join(', ')}`);
      if (problems.length) lines.push(`note: a stock WordPress would refuse this address (${problems.join('; ')}); this store allows it`);
    } else {
      lines.push(`the store's test delivery (ping) did not arrive at channelsync for webhooks ${notPinged.join(', ')}`);
      lines.push(reachLine);
      if (problems.length) {
        lines.push(`PUBLIC_URL (${publicUrl}) breaks WordPress's rule for webhook addresses: ${problems.join('; ')}`);
      } else {
        lines.push(`the store could not deliver to ${url}: check that it resolves and connects to that host (DNS, firewall, TLS certificate)${reachable.ok ? '' : ' and that channelsync is running there (channelsync start)'}`);
      }
    }
  } else {
    lines.push('the channel accepted every subscription (it sends no test delivery)');
    lines.push(reachLine);
    if (problems.length) lines.push(`note: the real channel would refuse this address (${problems.join('; ')})`);
    ok = reachable.ok;
    if (!ok) lines.push(`start channelsync (channelsync start) where PUBLIC_URL points${problems.length ? '' : ', and check the channel can reach it'}`);
  }
  if (!ok) lines.push(`${PUBLIC_URL_RULE}; then run "channelsync channels webhooks ${channelId}"`);
  return { url, registered, problems, pinged, reachable, ok, lines };
}

function describeState(now: WebhookState, was: WebhookState | undefined): string {
  if (!was) return `${now.status}, new`;
  if (was.status === now.status) return now.status;
  // WC_Webhook::failed_delivery disables a webhook whose failure count passed 5.
  const why = was.status === 'disabled' ? ' (the store disables a webhook after repeated failed deliveries)' : '';
  return `${now.status}, was ${was.status}${why}`;
}

/** The registered ids whose ping is recorded, waiting up to `waitMs` for all of them. */
async function recordedPings(app: App, channelId: number, ids: string[], waitMs: number): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const rows = await app.db
      .selectFrom('webhook_deliveries')
      .select('delivery_key')
      .where('channel_id', '=', channelId)
      .where('delivery_key', 'in', ids.map((id) => `ping:${id}`))
      .execute();
    const found = ids.filter((id) => rows.some((r) => r.delivery_key === `ping:${id}`));
    if (found.length === ids.length || Date.now() >= deadline) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * POST an unsigned, empty delivery to the channel's own webhook route: the
 * channelsync serving PUBLIC_URL refuses it (400/401) with its JSON error,
 * which proves the route is there and knows the channel; nothing is stored.
 */
async function probe(url: string, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'channelsync webhook check' },
      body: '{}',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.json().catch(() => null)) as { error?: unknown } | null;
    const error = body && typeof body === 'object' && typeof body.error === 'string' ? body.error : null;
    if (error !== null && (res.status === 400 || res.status === 401)) {
      return { ok: true, detail: `channelsync's webhook route answers at ${url} (checked from this machine)` };
    }
    if (error !== null && res.status === 404) {
      return { ok: false, detail: `the channelsync at ${url} does not know this channel (${error}): does PUBLIC_URL point at a channelsync with another database?` };
    }
    return { ok: false, detail: `something other than channelsync's webhook route answers at ${url} (HTTP ${res.status})` };
  } catch (err) {
    const cause = (err as Error & { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    return { ok: false, detail: `nothing answers at ${url} from this machine (${cause}): is channelsync running (channelsync start) behind PUBLIC_URL?` };
  }
}
