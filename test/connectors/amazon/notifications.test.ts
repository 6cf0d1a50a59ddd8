/**
 * ORDER_CHANGE notifications end to end: read from the simulator's SQS queue,
 * the order fetched from the API and saved, each message handled once, and
 * nothing a message says taken on trust.
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pino } from 'pino';
import { createTestApp, type TestApp } from '../../helpers/app.ts';
import { addChannel } from '../../../src/db/channels.ts';
import { requireSecretKey } from '../../../src/config.ts';
import { drainNotifications } from '../../../jobs/order-notifications.ts';
import { declareSchedules } from '../../../src/queue/schedules.ts';
import { startAmazonSimulator, type AmazonSimulator } from '../../../connectors/amazon/simulator/index.ts';

let t: TestApp;
let sim: AmazonSimulator;
let channelId: number;

beforeAll(async () => {
  t = await createTestApp();
  sim = await startAmazonSimulator({ log: pino({ level: 'silent' }) });
  await sim.createProduct({ sku: 'N-MUG', title: 'Mug', price: '12.50', stock: 10 });
  const { settings, credentials } = sim.channelConfig();
  channelId = await addChannel(t.app.db, requireSecretKey(t.app.config), { kind: 'amazon', name: 'amazon-notify', settings, credentials });
}, 60_000);
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

const saved = (externalId: string) => t.app.db.selectFrom('orders').selectAll().where('channel_id', '=', channelId).where('external_id', '=', externalId).executeTakeFirst();

it('saves the order a notification names, as the API returns it, and deletes the message', async () => {
  const { externalId } = await sim.createOrder({ lines: [{ sku: 'N-MUG', quantity: 2 }], email: 'ada@example.com' });
  const report = await drainNotifications(t.app, channelId, 0);
  expect(report).toEqual({ received: 1, duplicates: 0, saved: 1, failed: 0 });
  expect(await saved(externalId)).toMatchObject({ channel_state: 'open', financial_status: 'paid' });
  expect(sim.server.state.queue).toHaveLength(0);
  const inbox = await t.app.db.selectFrom('webhook_deliveries').select(['topic', 'status']).where('channel_id', '=', channelId).execute();
  expect(inbox).toEqual([{ topic: 'ORDER_CHANGE', status: 'processed' }]);
});

it('handles a message delivered twice once (de-duplicated on NotificationId)', async () => {
  const { externalId } = await sim.createOrder({ lines: [{ sku: 'N-MUG', quantity: 1 }] });
  const copy = { ...sim.server.state.queue[0]!, MessageId: randomUUID() };
  sim.server.state.queue.push(copy); // SQS delivers at least once
  const calls = () => sim.server.calls.filter((c) => c.op === 'getOrder').length;
  const before = calls();
  const report = await drainNotifications(t.app, channelId, 0);
  expect(report).toMatchObject({ received: 2, saved: 1 });
  expect(report.duplicates + report.saved).toBe(2);
  expect(calls() - before).toBe(1);
  expect(await saved(externalId)).toBeDefined();
  expect(sim.server.state.queue).toHaveLength(0);
});

it('takes nothing from the message itself: a forged "Canceled" leaves the order as Amazon has it', async () => {
  const { externalId } = await sim.createOrder({ lines: [{ sku: 'N-MUG', quantity: 1 }] });
  await drainNotifications(t.app, channelId, 0);
  const body = JSON.stringify({
    NotificationVersion: '1.0', NotificationType: 'ORDER_CHANGE', PayloadVersion: '1.0', EventTime: '2030-01-01T00:00:00Z',
    Payload: { OrderChangeNotification: { NotificationLevel: 'OrderLevel', SellerId: sim.channelConfig().settings.sellerId, AmazonOrderId: externalId, OrderChangeType: 'OrderStatusChange', Summary: { OrderStatus: 'Canceled' } } },
    NotificationMetadata: { ApplicationId: 'x', SubscriptionId: 'y', PublishTime: '2030-01-01T00:00:00Z', NotificationId: randomUUID() },
  });
  sim.server.state.queue.push({ MessageId: randomUUID(), Body: body, MD5OfBody: createHash('md5').update(body).digest('hex'), invisibleUntil: 0, receipt: null });
  await drainNotifications(t.app, channelId, 0);
  const order = await saved(externalId);
  expect(order).toMatchObject({ channel_state: 'open', cancelled_at: null });
  expect(order!.channel_updated_at.getFullYear()).not.toBe(2030);
});

it('schedules the queue reader for channels whose settings name a queue', async () => {
  await declareSchedules(t.app);
  const schedulers = await t.app.queues.get('order-notifications').getJobSchedulers();
  expect(schedulers.map((s) => s.key)).toEqual([`notify.${channelId}`]);
});
