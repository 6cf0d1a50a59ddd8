/**
 * A webhook's order is one write: header and lines commit together with the
 * delivery's status. Seen from outside, an order is never saved without its
 * lines (a line the database refuses rolls the whole delivery back), and
 * another connection never reads a new header over old lines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { processDelivery } from '../../jobs/webhooks.ts';
import type { TestApp } from '../helpers/app.ts';
import { openWebhookInbox, type WebhookInbox } from '../helpers/webhook-inbox.ts';

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

/** The real orders/create body, with SKUs on its lines and the given changes, stored in the inbox as the route would. */
function deliver(id: number, updatedAt: string, quantities: number[]): Promise<number> {
  return inbox.deliver({
    orderId: id,
    updatedAt,
    topic: 'orders/updated',
    line: (l, i) => ({ ...l, sku: `ATOM-${i}`, quantity: quantities[i] ?? 1, current_quantity: quantities[i] ?? 1, fulfillable_quantity: quantities[i] ?? 1 }),
  });
}

async function stored(externalId: string) {
  const order = await t.app.db.selectFrom('orders').select(['id', 'channel_updated_at']).where('channel_id', '=', channelId).where('external_id', '=', externalId).executeTakeFirst();
  const lines = order ? await t.app.db.selectFrom('order_lines').select('quantity').where('order_id', '=', order.id).orderBy('external_id').execute() : [];
  return { order, quantities: lines.map((l) => l.quantity) };
}

describe('webhook deliveries are saved in one transaction', () => {
  it('saves nothing, and leaves the delivery pending, when a line cannot be stored', async () => {
    // 3e9 units overflow the quantity column: the line insert fails after the header was written.
    const id = await deliver(9_000_001, '2026-11-20T10:00:00Z', [3_000_000_000, 1, 1, 1]);
    await expect(processDelivery(t.app, { deliveryId: id })).rejects.toThrow();
    expect((await stored('gid://shopify/Order/9000001')).order).toBeUndefined();
    const delivery = await t.app.db.selectFrom('webhook_deliveries').select('status').where('id', '=', id).executeTakeFirstOrThrow();
    expect(delivery.status).toBe('pending');
  });

  it('never shows another connection a new header over the old lines', async () => {
    const ext = 'gid://shopify/Order/9000002';
    await processDelivery(t.app, { deliveryId: await deliver(9_000_002, '2026-11-20T10:00:00Z', [1, 1, 1, 1]) });
    expect((await stored(ext)).quantities).toEqual([1, 1, 1, 1]);

    // A second connection blocks writes to order_lines, so the webhook stops between its header and its lines.
    const blocker = new pg.Client({ connectionString: t.database.url });
    const reader = new pg.Client({ connectionString: t.database.url });
    await Promise.all([blocker.connect(), reader.connect()]);
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE order_lines IN SHARE MODE');
      const running = processDelivery(t.app, { deliveryId: await deliver(9_000_002, '2026-11-20T11:00:00Z', [2, 2, 2, 2]) });
      // Wait until the webhook's writer is queued behind the lock.
      for (let i = 0; ; i++) {
        // A lock on order_lines asked for and not granted (the statement's text may be longer than
        // pg_stat_activity keeps: the order and its lines are one statement).
        const { rows } = await reader.query(`SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'order_lines'::regclass AND NOT granted`);
        if (rows[0].n > 0) break;
        if (i > 200) throw new Error('the webhook never reached its line write');
        await new Promise((r) => setTimeout(r, 25));
      }
      const { rows } = await reader.query(`SELECT channel_updated_at FROM orders WHERE channel_id = $1 AND external_id = $2`, [channelId, ext]);
      // What a reader sees mid-write is the old order, whole: not the new header.
      expect(new Date(rows[0].channel_updated_at).toISOString()).toBe('2026-11-20T10:00:00.000Z');
      await blocker.query('COMMIT');
      await running;
    } finally {
      await blocker.query('ROLLBACK').catch(() => {});
      await Promise.all([blocker.end(), reader.end()]);
    }
    const after = await stored(ext);
    expect(after.order?.channel_updated_at.toISOString()).toBe('2026-11-20T11:00:00.000Z');
    expect(after.quantities).toEqual([2, 2, 2, 2]);
  });
});
