/**
 * The after-sales routes refuse what they cannot do with a clear 4xx, and
 * change nothing when they do: unknown order or return (404), bad input (400),
 * a channel that cannot cancel or refund, or a shipped order (409).
 * What they do when they can is in test/fulfilment/after-sales.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { adminServer } from '../helpers/admin-server.ts';
import { line, order } from '../helpers/orders.ts';
import { syncOrders } from '../../jobs/sync-orders.ts';
import { addFakeChannel } from './fake-channel.ts';
import { shipOrder } from './seed.ts';

const s = adminServer('after-sales-api-token-0123456789');
const api = (opts: InjectOptions) => s.server.inject({ ...opts, headers: { ...s.auth, ...(opts.headers ?? {}) } });

let seeded = 0;
async function seed(): Promise<{ open: number; shipped: number }> {
  const fake = await addFakeChannel(s.t.app, `after-sales ${++seeded}`);
  await s.t.app.db.insertInto('skus').values({ sku: 'API-MUG' }).onConflict((oc) => oc.column('sku').doNothing()).execute();
  fake.state.orders = [
    order({ externalId: `open-${fake.channelId}`, orderNumber: `#O${fake.channelId}`, lines: [line({ sku: 'API-MUG', externalId: 'o1', quantity: 1 })] }),
    order({ externalId: `shipped-${fake.channelId}`, orderNumber: `#S${fake.channelId}`, lines: [line({ sku: 'API-MUG', externalId: 's1', quantity: 2 })] }),
  ];
  await syncOrders(s.t.app, fake.channelId);
  const id = async (ext: string) => (await s.t.app.db.selectFrom('orders').select('id').where('external_id', '=', ext).executeTakeFirstOrThrow()).id;
  const shipped = await id(`shipped-${fake.channelId}`);
  await shipOrder(s.t.app, shipped);
  return { open: await id(`open-${fake.channelId}`), shipped };
}

describe('after-sales admin routes', () => {
  it('cancel: 404 unknown, 400 bad body, 409 on a channel that cannot cancel, and nothing changes', async () => {
    const { open } = await seed();
    expect((await api({ method: 'POST', url: '/api/orders/999999999/cancel', payload: {} })).statusCode).toBe(404);
    const bad = await api({ method: 'POST', url: `/api/orders/${open}/cancel`, payload: { reason: 5 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(/reason/);
    const refused = await api({ method: 'POST', url: `/api/orders/${open}/cancel`, payload: { reason: 'customer asked' } });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatch(/cannot cancel orders through channelsync/);
    const row = await s.t.app.db.selectFrom('orders').select('state').where('id', '=', open).executeTakeFirstOrThrow();
    expect(row.state).not.toBe('cancelled');
    expect(await s.t.app.db.selectFrom('channel_pushes').select('id').where('kind', '=', 'cancel').execute()).toEqual([]);
  });

  it('returns: a condition that is not one is a 400 naming the field; approve: 404 unknown, 409 on a channel that cannot refund', async () => {
    const { shipped } = await seed();
    const bad = await api({ method: 'POST', url: `/api/orders/${shipped}/returns`, payload: { lines: [{ sku: 'API-MUG', quantity: 1, condition: 'broken' }] } });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toMatch(/condition/);

    const ret = await api({ method: 'POST', url: `/api/orders/${shipped}/returns`, payload: { lines: [{ sku: 'API-MUG', quantity: 1, condition: 'discard' }] } });
    expect(ret.statusCode).toBe(201);
    expect(ret.json().lines).toEqual([expect.objectContaining({ quantity: 1, condition: 'discard', restock: false })]);

    expect((await api({ method: 'POST', url: '/api/returns/999999999/approve', payload: {} })).statusCode).toBe(404);
    expect((await api({ method: 'POST', url: `/api/returns/${ret.json().returnId}/approve`, payload: { refundShipping: 'yes' } })).statusCode).toBe(400);
    const refused = await api({ method: 'POST', url: `/api/returns/${ret.json().returnId}/approve`, payload: {} });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatch(/cannot refund through channelsync/);
    expect(await s.t.app.db.selectFrom('refunds').select('id').where('return_id', '=', ret.json().returnId).execute()).toEqual([]);
  });
});
