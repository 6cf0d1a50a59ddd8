/**
 * Webhook deliveries are saved in batches (jobs/webhooks.ts): the job of one
 * delivery saves the other pending ones with it, in one transaction, so a
 * burst of deliveries is not a burst of transactions. A batch never takes a
 * delivery another run holds, and never two deliveries of one order (the
 * second is its own job's, and the newer copy still wins).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { processDelivery } from '../../jobs/webhooks.ts';
import type { TestApp } from '../helpers/app.ts';
import { ORDERS_CREATE as FIXTURE, openWebhookInbox, type WebhookInbox } from '../helpers/webhook-inbox.ts';

let inbox: WebhookInbox;
let t: TestApp;
let channelId: number;

beforeAll(async () => {
  inbox = await openWebhookInbox();
  t = inbox.t;
  channelId = inbox.channels[0]!.id;
});
afterAll(async () => {
  await inbox?.close();
});

/** The real orders/create body for order `id` at `updatedAt`, signed and stored in the inbox as the route would. */
const deliver = (id: number, updatedAt: string) => inbox.deliver({ orderId: id, updatedAt, line: (l, i) => ({ ...l, sku: `BATCH-${i}` }) });

const statuses = async (ids: number[]) =>
  (await t.app.db.selectFrom('webhook_deliveries').select(['id', 'status']).where('id', 'in', ids).orderBy('id').execute()).map((r) => r.status);

async function savedAt(id: number): Promise<string | undefined> {
  const o = await t.app.db.selectFrom('orders').select('channel_updated_at').where('channel_id', '=', channelId).where('external_id', '=', `gid://shopify/Order/${id}`).executeTakeFirst();
  return o?.channel_updated_at.toISOString();
}

describe('webhook deliveries in batches', () => {
  it('one job saves every pending delivery with its own; the others then find theirs processed', async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await deliver(8_100_000 + i, '2026-11-20T10:00:00Z'));
    const first = await processDelivery(t.app, { deliveryId: ids[0]! });
    expect(first.outcome).toBe('inserted');
    expect(first.ingested).toEqual([{ channelId, inserted: 5, updated: 0 }]);
    expect(await statuses(ids)).toEqual(['processed', 'processed', 'processed', 'processed', 'processed']);
    for (let i = 0; i < 5; i++) expect(await savedAt(8_100_000 + i)).toBe('2026-11-20T10:00:00.000Z');
    expect((await processDelivery(t.app, { deliveryId: ids[3]! })).outcome).toBe('already processed');
    // Each order once, with its lines.
    const lines = await t.app.db
      .selectFrom('order_lines')
      .innerJoin('orders', 'orders.id', 'order_lines.order_id')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('orders.external_id', 'in', ids.map((_, i) => `gid://shopify/Order/${8_100_000 + i}`))
      .executeTakeFirstOrThrow();
    expect(Number(lines.n)).toBe(5 * FIXTURE.line_items.length);
  });

  it('takes one delivery of an order: the second is its own job\'s, and the newer copy wins', async () => {
    const older = await deliver(8_200_000, '2026-11-20T10:00:00Z');
    const newer = await deliver(8_200_000, '2026-11-20T11:00:00Z');
    await processDelivery(t.app, { deliveryId: older });
    expect(await statuses([older, newer])).toEqual(['processed', 'pending']);
    expect(await savedAt(8_200_000)).toBe('2026-11-20T10:00:00.000Z');
    expect((await processDelivery(t.app, { deliveryId: newer })).outcome).toBe('updated');
    expect(await savedAt(8_200_000)).toBe('2026-11-20T11:00:00.000Z');
  });

  it('leaves a delivery another run holds to that run', async () => {
    const [a, b, c] = [await deliver(8_300_000, '2026-11-20T10:00:00Z'), await deliver(8_300_001, '2026-11-20T10:00:00Z'), await deliver(8_300_002, '2026-11-20T10:00:00Z')];
    const other = new pg.Client({ connectionString: t.database.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT id FROM webhook_deliveries WHERE id = $1 FOR UPDATE', [b]);
      await processDelivery(t.app, { deliveryId: a });
      expect(await statuses([a, b, c])).toEqual(['processed', 'pending', 'processed']);
      expect(await savedAt(8_300_001)).toBeUndefined();
    } finally {
      await other.query('ROLLBACK');
      await other.end();
    }
    expect((await processDelivery(t.app, { deliveryId: b })).outcome).toBe('inserted');
    expect(await savedAt(8_300_001)).toBe('2026-11-20T10:00:00.000Z');
  });
});
