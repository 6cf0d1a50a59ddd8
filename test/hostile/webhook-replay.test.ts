/**
 * Replayed deliveries: channels sign the body, not the topic or the other
 * headers. A captured signed order body re-sent as a deletion, or with a
 * far-future X-Shopify-Triggered-At, must not cancel, date or freeze the
 * order: only the channel's own answer (fetchOrder) can say it is gone.
 * Real signed bodies: the recorded Shopify orders/create, the WooCommerce captures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { buildServer } from '../../src/server/index.ts';
import { processDelivery } from '../../jobs/webhooks.ts';
import { mapRestOrder, restOrderSchema } from '../../connectors/shopify/mapping.ts';
import { parseOrder } from '../../connectors/woocommerce/mapping.ts';
import { addHostileChannel, sign, SHOPIFY_ORDER_BODY, SHOPIFY_SECRET, WOO_DELIVERIES } from './channels.ts';

let t: TestApp;
let server: FastifyInstance;
beforeAll(async () => {
  t = await createTestApp();
  server = await buildServer(t.app);
});
afterAll(async () => {
  await server?.close();
  await t?.close();
});

/** Posts a delivery and, when stored, processes it as the webhooks job would. */
async function deliver(channelId: number, headers: Record<string, string>, body: Buffer | string) {
  const res = await server.inject({ method: 'POST', url: `/webhooks/${channelId}`, headers: { 'content-type': 'application/json', ...headers }, payload: body });
  expect(res.statusCode, res.body).toBe(200);
  const row = await t.app.db.selectFrom('webhook_deliveries').select('id').where('channel_id', '=', channelId).orderBy('id', 'desc').executeTakeFirstOrThrow();
  return processDelivery(t.app, { deliveryId: row.id });
}

const stored = (channelId: number, externalId: string) =>
  t.app.db.selectFrom('orders').selectAll().where('channel_id', '=', channelId).where('external_id', '=', externalId).executeTakeFirstOrThrow();

let webhookIds = 0;
const shopifyHeaders = (topic: string, body: Buffer | string, extra: Record<string, string> = {}) => ({
  'x-shopify-topic': topic,
  'x-shopify-hmac-sha256': sign(body, SHOPIFY_SECRET),
  'x-shopify-webhook-id': `replay-${++webhookIds}`,
  'x-shopify-shop-domain': 'example.myshopify.com',
  ...extra,
});

describe('Shopify: a signed order body replayed under other headers', () => {
  const gid = 'gid://shopify/Order/6198432301356';
  const asCreated = mapRestOrder(restOrderSchema.parse(JSON.parse(SHOPIFY_ORDER_BODY.toString())), JSON.parse(SHOPIFY_ORDER_BODY.toString()));

  it('as orders/delete with a far-future Triggered-At changes nothing while Shopify still has the order', async () => {
    const { channelId, answers } = await addHostileChannel(t.app, 'shopify');
    answers.set(gid, asCreated);
    expect((await deliver(channelId, shopifyHeaders('orders/create', SHOPIFY_ORDER_BODY), SHOPIFY_ORDER_BODY)).outcome).toBe('inserted');
    const before = await stored(channelId, gid);

    const replay = await deliver(channelId, shopifyHeaders('orders/delete', SHOPIFY_ORDER_BODY, { 'x-shopify-triggered-at': '2099-01-01T00:00:00Z' }), SHOPIFY_ORDER_BODY);
    expect(replay.outcome).toMatch(/^not deleted/);
    // Unsigned topics do not change what the body says either.
    await deliver(channelId, shopifyHeaders('orders/cancelled', SHOPIFY_ORDER_BODY), SHOPIFY_ORDER_BODY);
    const after = await stored(channelId, gid);
    expect(after.channel_state).toBe('open');
    expect(after.cancelled_at).toBeNull();
    expect(after.channel_updated_at).toEqual(before.channel_updated_at);
    expect(after.flags).not.toContain('deleted_on_channel');

    // The next genuine change is applied, not "stale".
    const edited = { ...JSON.parse(SHOPIFY_ORDER_BODY.toString()), updated_at: '2025-01-23T03:00:00-05:00', financial_status: 'refunded' };
    const body = JSON.stringify(edited);
    // Its lines have no SKU, so the job reads the order from Shopify: say what Shopify now has.
    answers.set(gid, mapRestOrder(restOrderSchema.parse(edited), edited));
    expect((await deliver(channelId, shopifyHeaders('orders/updated', body), body)).outcome).toBe('updated');
    expect((await stored(channelId, gid)).financial_status).toBe('refunded');
  });

  it('a deletion Shopify confirms cancels the order, without a time from the headers, and no older copy reopens it', async () => {
    const { channelId, answers } = await addHostileChannel(t.app, 'shopify');
    answers.set(gid, asCreated);
    await deliver(channelId, shopifyHeaders('orders/create', SHOPIFY_ORDER_BODY), SHOPIFY_ORDER_BODY);
    const before = await stored(channelId, gid);
    answers.set(gid, null);
    const deleteBody = JSON.stringify({ id: 6198432301356 });
    expect((await deliver(channelId, shopifyHeaders('orders/delete', deleteBody, { 'x-shopify-triggered-at': '2099-01-01T00:00:00Z' }), deleteBody)).outcome).toBe('deleted');
    const deleted = await stored(channelId, gid);
    expect(deleted.channel_state).toBe('cancelled');
    expect(deleted.flags).toContain('deleted_on_channel');
    expect(deleted.channel_updated_at).toEqual(before.channel_updated_at);
    expect(deleted.cancelled_at!.getFullYear()).toBeLessThan(2099);

    const late = JSON.stringify({ ...JSON.parse(SHOPIFY_ORDER_BODY.toString()), updated_at: '2025-01-24T00:00:00-05:00' });
    expect((await deliver(channelId, shopifyHeaders('orders/updated', late), late)).outcome).toBe('stale');
    expect((await stored(channelId, gid)).channel_state).toBe('cancelled');
  });
});

describe('WooCommerce: the real signed deliveries replayed under order.deleted', () => {
  const [created, , completed] = WOO_DELIVERIES;
  const wooHeaders = (d: (typeof WOO_DELIVERIES)[number], topic = d.headers['x-wc-webhook-topic']!) => ({
    'x-wc-webhook-topic': topic,
    'x-wc-webhook-signature': d.headers['x-wc-webhook-signature']!,
    'x-wc-webhook-delivery-id': `${d.headers['x-wc-webhook-delivery-id']}-${++webhookIds}`,
  });

  it('changes nothing while the store has the order, and a later real deletion still counts', async () => {
    const { channelId, answers } = await addHostileChannel(t.app, 'woocommerce');
    answers.set('23', parseOrder(JSON.parse(created!.rawBody)));
    expect((await deliver(channelId, wooHeaders(created!), created!.rawBody)).outcome).toBe('inserted');
    const replay = await deliver(channelId, wooHeaders(created!, 'order.deleted'), created!.rawBody);
    expect(replay.outcome).toMatch(/^not deleted/);
    expect((await stored(channelId, '23')).channel_state).toBe('open');

    // The store's own later change still applies.
    answers.set('23', parseOrder(JSON.parse(completed!.rawBody)));
    await deliver(channelId, wooHeaders(completed!), completed!.rawBody);
    expect((await stored(channelId, '23')).channel_state).toBe('closed');

    // The merchant really deletes it: WooCommerce's {id} body, the store says 404.
    answers.set('23', null);
    const body = JSON.stringify({ id: 23 });
    const real = await deliver(channelId, { 'x-wc-webhook-topic': 'order.deleted', 'x-wc-webhook-signature': sign(body, 'whsec-test-3f9a'), 'x-wc-webhook-delivery-id': 'real-delete' }, body);
    expect(real.outcome).toBe('deleted');
    expect((await stored(channelId, '23')).channel_state).toBe('cancelled');
  });
});
