/**
 * Channels for the hostile-input tests: the real Shopify and WooCommerce
 * connectors (their own webhook verification and mapping), with what the
 * channel answers to `fetchOrder` set by the test, so a test can say "the
 * store still has this order" or "the store says it is gone" for the real
 * recorded order ids of the fixtures, which no simulator holds.
 */
import { readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import type { App } from '../../src/app.ts';
import { addChannel } from '../../src/db/channels.ts';
import type { UnifiedOrder } from '../../src/domain/order.ts';
import { connectorFactories, connectorFactory } from '../../connectors/index.ts';
import type { ConnectorFactory } from '../../connectors/types.ts';

export const SHOPIFY_ORDER_BODY = readFileSync(new URL('../../../shared/fixtures/shopify/webhook-orders-create.json', import.meta.url));

interface WooCapture {
  webhookSecret: string;
  deliveries: Array<{ headers: Record<string, string>; rawBody: string; signatureMatches: boolean }>;
}
export const WOO_CAPTURE: WooCapture = JSON.parse(
  readFileSync(new URL('../../../shared/fixtures/woocommerce/captures/webhooks.json', import.meta.url), 'utf8'),
);
/** The real signed order deliveries (created: processing; updated: processing, then completed). */
export const WOO_DELIVERIES = WOO_CAPTURE.deliveries.filter((d) => d.signatureMatches);

export const SHOPIFY_SECRET = 'shpss_hostile_test_secret';

/** What the channel answers per external id: the order as it is now, or null (gone). */
export type ChannelAnswers = Map<string, UnifiedOrder | null>;

const answers = new Map<number, ChannelAnswers>();

function wrap(kind: 'shopify' | 'woocommerce'): ConnectorFactory {
  const real = connectorFactory(kind);
  return {
    ...real,
    kind: `hostile-${kind}`,
    create(ctx) {
      const connector = real.create(ctx);
      connector.fetchOrder = async (externalId) => {
        const known = answers.get(ctx.channel.id);
        if (!known?.has(externalId)) throw new Error(`test channel ${ctx.channel.id} was not told about order ${externalId}`);
        return known.get(externalId) ?? null;
      };
      return connector;
    },
  };
}
for (const kind of ['shopify', 'woocommerce'] as const) (connectorFactories as Map<string, ConnectorFactory>).set(`hostile-${kind}`, wrap(kind));

/** A channel of the real connector kind whose `fetchOrder` answers from `answers`. */
export async function addHostileChannel(app: App, kind: 'shopify' | 'woocommerce'): Promise<{ channelId: number; answers: ChannelAnswers }> {
  const config =
    kind === 'shopify'
      ? { settings: { shopDomain: '127.0.0.1:9' }, credentials: { accessToken: 'shpat_x', apiSecretKey: SHOPIFY_SECRET } }
      : { settings: { url: 'http://127.0.0.1:9' }, credentials: { consumerKey: 'ck_x', consumerSecret: 'cs_x', webhookSecret: WOO_CAPTURE.webhookSecret } };
  const channelId = await addChannel(app.db, app.config.secretKey!, { kind: `hostile-${kind}`, name: `hostile-${kind}-${Math.random().toString(36).slice(2)}`, ...config });
  const own: ChannelAnswers = new Map();
  answers.set(channelId, own);
  return { channelId, answers: own };
}

/** base64 HMAC-SHA256 of the body, as both channels sign. */
export function sign(body: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}
