/**
 * One order that cannot be saved never blocks the others: it is set aside
 * in rejected_orders with its reason, the rest of its page saves, the cursor
 * moves on, a person sees it (admin API, `channelsync status`), and a later
 * good copy of the order clears it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminServer } from '../helpers/admin-server.ts';
import { line, order } from '../helpers/orders.ts';
import { syncOrders } from '../../jobs/sync-orders.ts';
import { processDelivery } from '../../jobs/webhooks.ts';
import { addFakeChannel } from '../server/fake-channel.ts';
import { addHostileChannel, sign, SHOPIFY_ORDER_BODY, SHOPIFY_SECRET } from './channels.ts';

const TOKEN = 'rejected-orders-token-0123456789';
const admin = adminServer(TOKEN);

const api = (url: string) => admin.server.inject({ url, headers: { authorization: `Bearer ${TOKEN}` } });
const storedIds = async (channelId: number) =>
  (await admin.t.app.db.selectFrom('orders').select('external_id').where('channel_id', '=', channelId).orderBy('external_id').execute()).map((r) => r.external_id);

describe('a poll page with orders the database refuses', () => {
  it('saves the rest, records the bad ones with their reason, moves the cursor, and clears them once fixed', async () => {
    const { channelId, state } = await addFakeChannel(admin.t.app, 'bad-page');
    const at = new Date('2026-11-20T10:00:00Z');
    state.orders = [
      order({ externalId: 'A', updatedAt: at }),
      order({ externalId: 'HUGE-QTY', updatedAt: at, lines: [line({ quantity: 3e9 })], raw: { id: 'HUGE-QTY' } }),
      order({ externalId: 'HUGE-TAX', updatedAt: at, totals: { subtotal: '1.00', shipping: '0.00', tax: '10000000000000000000000.00', discount: '0.00', total: '1.00' } }),
      order({ externalId: 'NUL', updatedAt: at, orderNumber: '#1\u0000', raw: { note: 'a\u0000b' } }),
      order({ externalId: 'C', updatedAt: at }),
    ];
    const report = await syncOrders(admin.t.app, channelId);
    expect(report).toMatchObject({ inserted: 2, rejected: 3 });
    expect(await storedIds(channelId)).toEqual(['A', 'C']);
    // The cursor moved past the page (the fake channel's cursor is the order count), with no error.
    const cursor = await admin.t.app.db.selectFrom('sync_cursors').selectAll().where('channel_id', '=', channelId).executeTakeFirstOrThrow();
    expect(cursor).toMatchObject({ cursor: '5', last_error: null });

    const list = await api(`/api/rejected-orders?channel=${channelId}`);
    expect(list.statusCode).toBe(200);
    const items = list.json().items as Array<{ id: number; external_id: string; reason: string; source: string }>;
    expect(items.map((i) => i.external_id).sort()).toEqual(['HUGE-QTY', 'HUGE-TAX', 'NUL']);
    expect(items.find((i) => i.external_id === 'HUGE-QTY')!.reason).toMatch(/out of range for type integer/);
    expect(items.find((i) => i.external_id === 'HUGE-TAX')!.reason).toMatch(/numeric field overflow/);
    expect(items.every((i) => i.source === 'poll')).toBe(true);
    const one = await api(`/api/rejected-orders/${items.find((i) => i.external_id === 'NUL')!.id}`);
    expect(one.json().raw).toEqual({ note: 'a\u0000b' });

    // The same page again (an overlap window): counted, not duplicated.
    await syncOrders(admin.t.app, channelId);
    const again = await admin.t.app.db.selectFrom('rejected_orders').select(['external_id', 'occurrences']).where('channel_id', '=', channelId).execute();
    expect(again).toHaveLength(3);
    expect(again.every((r) => r.occurrences === 2)).toBe(true);

    // Fixed on the channel: the next pull saves it and the rejection goes.
    state.orders = [order({ externalId: 'HUGE-QTY', updatedAt: new Date('2026-11-20T11:00:00Z'), lines: [line({ quantity: 3 })] })];
    expect(await syncOrders(admin.t.app, channelId)).toMatchObject({ inserted: 1, rejected: 0 });
    const left = await admin.t.app.db.selectFrom('rejected_orders').select('external_id').where('channel_id', '=', channelId).execute();
    expect(left.map((r) => r.external_id).sort()).toEqual(['HUGE-TAX', 'NUL']);
  });
});

describe('a webhook whose order the database refuses', () => {
  it('is accepted once, then set aside with its reason: the delivery fails, nothing is half-saved', async () => {
    const { channelId, answers } = await addHostileChannel(admin.t.app, 'shopify');
    // A signed body with a NUL in a text field: valid JSON, valid order, but Postgres cannot store it.
    const body = JSON.stringify({ ...JSON.parse(SHOPIFY_ORDER_BODY.toString()), name: '#1001\u0000' });
    answers.set('gid://shopify/Order/6198432301356', null);
    const res = await admin.server.inject({
      method: 'POST',
      url: `/webhooks/${channelId}`,
      headers: { 'content-type': 'application/json', 'x-shopify-topic': 'orders/create', 'x-shopify-webhook-id': 'nul-1', 'x-shopify-hmac-sha256': sign(body, SHOPIFY_SECRET) },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    const delivery = await admin.t.app.db.selectFrom('webhook_deliveries').select('id').where('channel_id', '=', channelId).executeTakeFirstOrThrow();
    const result = await processDelivery(admin.t.app, { deliveryId: delivery.id });
    expect(result.outcome).toMatch(/^rejected: /);
    const after = await admin.t.app.db.selectFrom('webhook_deliveries').select(['status', 'error']).where('id', '=', delivery.id).executeTakeFirstOrThrow();
    expect(after.status).toBe('failed');
    expect(after.error).toMatch(/database refused/);
    expect(await storedIds(channelId)).toEqual([]);
    const rejected = await admin.t.app.db.selectFrom('rejected_orders').select(['external_id', 'source']).where('channel_id', '=', channelId).execute();
    expect(rejected).toEqual([{ external_id: 'gid://shopify/Order/6198432301356', source: 'webhook' }]);
  });
});
