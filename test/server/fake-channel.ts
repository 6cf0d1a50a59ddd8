/**
 * A stand-in channel for the operations tests when no connector simulator is
 * registered (or to drive failures exactly): orders to pull, pushes that fail
 * while `failing` is set, fulfilments recorded for the test to check.
 * Registered in the process's connector map under kind `ops-fake`.
 */
import { z } from 'zod';
import type { App } from '../../src/app.ts';
import { addChannel } from '../../src/db/channels.ts';
import { RetryableError } from '../../src/domain/errors.ts';
import type { UnifiedOrder } from '../../src/domain/order.ts';
import { connectorFactories } from '../../connectors/index.ts';
import type { Connector, ConnectorFactory, FulfillmentPush } from '../../connectors/types.ts';

export const FAKE_KIND = 'ops-fake';

export interface FakeChannelState {
  orders: UnifiedOrder[];
  failing: boolean;
  fulfillments: FulfillmentPush[];
}

const states = new Map<string, FakeChannelState>();

const factory: ConnectorFactory<{ key: string }, Record<string, never>> = {
  kind: FAKE_KIND,
  displayName: 'Fake (tests)',
  settingsSchema: z.object({ key: z.string() }),
  credentialsSchema: z.object({}),
  create(ctx): Connector {
    const state = () => states.get(ctx.channel.settings.key)!;
    return {
      kind: FAKE_KIND,
      capabilities: { webhooks: false, backfill: false, cancel: false, refund: false },
      async verify() {
        return { store: ctx.channel.settings.key, detail: `fake channel ${ctx.channel.settings.key}` };
      },
      async *pullOrders() {
        yield { orders: state().orders, cursor: String(state().orders.length) };
      },
      async fetchOrder(externalId) {
        return state().orders.find((o) => o.externalId === externalId) ?? null;
      },
      parseWebhook() {
        return { deliveryKey: 'x', topic: 'none', event: { type: 'ignored', reason: 'fake' } };
      },
      fulfilmentKeeps: { trackingUrl: 'as-sent' },
      async pushFulfillment(push) {
        if (state().failing) throw new RetryableError('fake channel answered 503 Service Unavailable');
        state().fulfillments.push(push);
        return { externalRef: `fake-fulfillment-${push.shipmentId}`, alreadyDone: false };
      },
      async *listListings() {},
      async readStock() {
        return [];
      },
      async pushStock(levels) {
        return levels.map((l) => ({ sku: l.listing.sku, ok: true }));
      },
      async close() {},
    };
  },
  async simulate() {
    throw new Error('the fake channel has no simulator');
  },
};

(connectorFactories as Map<string, ConnectorFactory>).set(FAKE_KIND, factory);

/** A channel row of the fake kind, and the state behind it. */
export async function addFakeChannel(app: App, name: string): Promise<{ channelId: number; state: FakeChannelState }> {
  const key = `${name}-${Math.random().toString(36).slice(2)}`;
  const state: FakeChannelState = { orders: [], failing: false, fulfillments: [] };
  states.set(key, state);
  const channelId = await addChannel(app.db, app.config.secretKey!, { kind: FAKE_KIND, name, settings: { key }, credentials: {} });
  return { channelId, state };
}
