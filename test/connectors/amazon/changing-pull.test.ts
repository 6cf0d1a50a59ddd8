/**
 * Amazon orders, a tenth of them changing while the sync pulls them (a
 * buyer asks to cancel, Amazon cancels, the order is updated: each after the
 * pull read it, connectors/amazon/simulator/churn.ts). The first sync saves
 * what it read and moves its cursor; the next one, from that cursor's
 * LastUpdatedAfter window, brings every change: every row ends at the
 * version Amazon holds, and no 429 reaches the job. The simulator announces a
 * bigger usage plan than the default (x-amzn-RateLimit-Limit), as Amazon does
 * for sellers with one, and the connector paces by it: the test needs no
 * hour of getOrderItems.
 *
 * 500 orders (5 getOrders pages, 50 changes) rather than the 2,000:
 * the pull is one getOrderItems call after another, so 2,000 took a minute of
 * the suite for the same pages, saves and cursor; the size is the
 * marketplaces bench row's (`bench/marketplaces/amazon.ts`), which throws
 * unless every order ends at Amazon's version.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pino } from 'pino';
import { createTestApp, type TestApp } from '../../helpers/app.ts';
import { addChannel } from '../../../src/db/channels.ts';
import { syncOrders } from '../../../jobs/sync-orders.ts';
import { startAmazonSimulator, type AmazonSimulator } from '../../../connectors/amazon/simulator/index.ts';
import { churnWhilePulling } from '../../../connectors/amazon/simulator/churn.ts';

const ORDERS = 500;
const CHANGES = 50;

let t: TestApp;
let sim: AmazonSimulator;
let channelId: number;

beforeAll(async () => {
  t = await createTestApp();
  sim = await startAmazonSimulator({
    log: pino({ level: 'silent' }),
    // The seller's plan, announced on every answer; bursts as documented.
    limits: { getOrderItems: { rate: 1000, burst: 30 }, getOrders: { rate: 50, burst: 20 } },
  });
  for (let i = 1; i <= 3; i++) await sim.createProduct({ sku: `AMZ-CHURN-${i}`, title: `Churn item ${i}`, price: '9.99', stock: 100_000 });
  for (let i = 0; i < ORDERS; i++) await sim.createOrder({ lines: Array.from({ length: (i % 3) + 1 }, (_, j) => ({ sku: `AMZ-CHURN-${j + 1}`, quantity: 1 })) });
  const { settings, credentials } = sim.channelConfig();
  channelId = await addChannel(t.app.db, t.app.config.secretKey!, { kind: 'amazon', name: 'churn-amazon', settings: { ...settings, initialSince: '2020-01-01T00:00:00Z' }, credentials });
}, 120_000);
afterAll(async () => {
  await sim?.close();
  await t?.close();
});

const rows = async () =>
  new Map(
    (await t.app.db.selectFrom('orders').select(['external_id', 'channel_updated_at', 'channel_state', 'cancel_requested_at', 'cancel_request_reason']).where('channel_id', '=', channelId).execute()).map((r) => [r.external_id, r]),
  );

it(`ends every order at its latest version when ${CHANGES} of ${ORDERS} change while they are pulled, with no 429 reaching the job`, async () => {
  const churn = churnWhilePulling(sim, { changes: CHANGES, every: ORDERS / CHANGES });
  const first = await syncOrders(t.app, channelId);
  const duringPull = churn.made;
  const changed = await churn.finish();
  expect(first.inserted).toBe(ORDERS);
  expect(duringPull).toBeGreaterThan(0);
  expect(changed).toHaveLength(CHANGES);
  // What the first sync read of the changed orders is already stale.
  const afterFirst = await rows();
  const stale = changed.filter((id) => afterFirst.get(id)!.channel_updated_at.toISOString() !== sim.server.state.orders.get(id)!.LastUpdateDate);
  expect(stale).toHaveLength(CHANGES);

  const second = await syncOrders(t.app, channelId);
  expect(second.rejected).toBe(0);
  expect(second.updated).toBe(CHANGES);
  const latest = await rows();
  expect(latest.size).toBe(ORDERS);
  const wrong = [...sim.server.state.orders.values()].filter((o) => {
    const row = latest.get(o.AmazonOrderId);
    const requested = o.items.some((i) => i.buyerCancelReason);
    return (
      !row ||
      row.channel_updated_at.toISOString() !== o.LastUpdateDate ||
      row.channel_state !== (o.OrderStatus === 'Canceled' ? 'cancelled' : 'open') ||
      (row.cancel_requested_at !== null) !== requested ||
      (requested && row.cancel_request_reason !== 'Changed my mind')
    );
  });
  expect(wrong.map((o) => o.AmazonOrderId)).toEqual([]);
  expect([...latest.values()].filter((r) => r.channel_state === 'cancelled')).toHaveLength(Math.floor(CHANGES / 3) + (CHANGES % 3 > 2 ? 1 : 0));
  const cursor = await t.app.db.selectFrom('sync_cursors').select('last_error').where('channel_id', '=', channelId).executeTakeFirstOrThrow();
  expect(cursor.last_error).toBeNull();
}, 300_000);
