/**
 * Customer e-mails end to end, against a real SMTP server in this process:
 * a shipment pushed to a channel that leaves messages to channelsync produces
 * one shipping confirmation with the tracking link (and the channel is told
 * not to notify); a channel that notifies itself gets no mail from us; the
 * delivery owes a delivery notice and a feedback request; each message is sent
 * once however often its job runs; SMTP 4xx retries, 5xx gives up for good.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedbackRequestsOf } from '../../connectors/customer-messages.ts';
import { pino } from 'pino';
import { connectorFactory } from '../../connectors/index.ts';
import type { ChannelSimulator } from '../../connectors/types.ts';
import { addChannel } from '../../src/db/channels.ts';
import { syncListings } from '../../src/stock/listings.ts';
import { syncOrders } from '../../jobs/sync-orders.ts';
import { runStep } from '../../jobs/fulfilment.ts';
import { runPush } from '../../jobs/channel-push.ts';
import { notifyJob } from '../../jobs/notify.ts';
import { JOBS } from '../../jobs/index.ts';
import { sweep } from '../../jobs/sweeper.ts';
import { sendMessage } from '../../src/notify/deliver.ts';
import { PermanentError, RetryableError } from '../../src/domain/errors.ts';
import { createTestApp, flushQueues, type TestApp } from '../helpers/app.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { location, stock } from '../fulfilment/fixtures.ts';
import type { App } from '../../src/app.ts';

let t: TestApp;
let smtp: TestSmtp;
let shopify: ChannelSimulator;
let woo: ChannelSimulator;
let locationId: number;

beforeAll(async () => {
  smtp = await startTestSmtp();
  t = await createTestApp({
    CARRIER: 'simulated',
    SIMULATED_DELIVERY_SECONDS: '0',
    SMTP_URL: smtp.url,
    MAIL_FROM: 'Test Shop <shop@shop.example>',
    FEEDBACK_AFTER_DAYS: '0',
    PUBLIC_URL: 'https://cs.shop.example',
  });
  shopify = await connectorFactory('shopify').simulate({ log: pino({ level: 'silent' }) });
  woo = await connectorFactory('woocommerce').simulate({ log: pino({ level: 'silent' }) });
  locationId = await location(t.app, 'MAILWH', 1);
});
afterAll(async () => {
  await shopify?.close();
  await woo?.close();
  await t?.close();
  await smtp?.close();
});

async function connect(app: App, sim: ChannelSimulator, kind: string, name: string, customerMessages: string, sku: string): Promise<number> {
  await sim.createProduct({ sku, title: `Mug ${sku}`, price: '5.00', stock: 10 });
  const { settings, credentials } = sim.channelConfig();
  const channelId = await addChannel(app.db, app.config.secretKey!, { kind, name, settings: { ...settings, customerMessages }, credentials });
  await syncListings(app, channelId);
  const skuId = (await app.db.selectFrom('skus').select('id').where('sku', '=', sku).executeTakeFirstOrThrow()).id;
  await stock(app, skuId, locationId, 10);
  return channelId;
}

/** An order placed on the store, pulled, and walked to shipped; returns the order, shipment and push. */
async function shipOne(app: App, sim: ChannelSimulator, channelId: number, sku: string, email: string) {
  const { externalId } = await sim.createOrder({ lines: [{ sku, quantity: 1 }], email });
  await syncOrders(app, channelId);
  const order = await app.db.selectFrom('orders').select(['id', 'order_number']).where('external_id', '=', externalId).where('channel_id', '=', channelId).executeTakeFirstOrThrow();
  await runStep(app, { step: 'allocate', id: order.id });
  const f = await app.db.selectFrom('fulfillments').select('id').where('order_id', '=', order.id).executeTakeFirstOrThrow();
  for (const step of ['pick', 'pack', 'ship'] as const) await runStep(app, { step, id: f.id });
  const shipment = await app.db.selectFrom('shipments').selectAll().where('fulfillment_id', '=', f.id).executeTakeFirstOrThrow();
  const push = await app.db.selectFrom('channel_pushes').select('id').where('kind', '=', 'fulfillment').where('target', '=', String(shipment.id)).executeTakeFirstOrThrow();
  return { externalId, order, shipment, push };
}

const messagesOf = (app: App, orderId: number) =>
  app.db.selectFrom('customer_messages').selectAll().where('order_id', '=', orderId).orderBy('id').execute();

describe('customer e-mails', () => {
  let shopifyChannel: number;
  let shipped: Awaited<ReturnType<typeof shipOne>>;

  it('a pushed shipment owes one shipping confirmation with the tracking link, and the channel is told not to notify', async () => {
    const { app } = t;
    shopifyChannel = await connect(app, shopify, 'shopify', 'mail-shopify', 'channelsync', 'MAIL-MUG');
    shipped = await shipOne(app, shopify, shopifyChannel, 'MAIL-MUG', 'ada@customer.example');
    // Shipped but not pushed yet: nothing owed (the confirmation follows the push).
    expect(await messagesOf(app, shipped.order.id)).toEqual([]);

    await runPush(app, { pushId: shipped.push.id });
    const [onStore] = await shopify.fulfillments(shipped.externalId);
    expect(onStore).toMatchObject({ trackingNumber: shipped.shipment.tracking_number, customerNotified: false });
    const owed = await messagesOf(app, shipped.order.id);
    expect(owed).toMatchObject([{ kind: 'shipping', subject: String(shipped.shipment.id), status: 'pending', to_address: 'ada@customer.example' }]);

    await sendMessage(app, owed[0]!.id);
    const [mail] = await smtp.waitFor(1);
    expect(mail!.to).toMatchObject({ value: [{ address: 'ada@customer.example' }] });
    expect(mail!.from).toMatchObject({ value: [{ address: 'shop@shop.example', name: 'Test Shop' }] });
    expect(mail!.messageId).toBe(owed[0]!.message_id);
    expect(mail!.subject).toBe(`Your order ${shipped.order.order_number} has shipped`);
    expect(shipped.shipment.tracking_url).toMatch(/^https:\/\//);
    expect(mail!.text).toContain(`Tracking number: ${shipped.shipment.tracking_number}`);
    expect(mail!.text).toContain(shipped.shipment.tracking_url!);
    expect(mail!.html).toContain(`<a href="${shipped.shipment.tracking_url!.replace(/&/g, '&amp;')}">Track your parcel</a>`);
    expect(mail!.text).toContain(`1 x Mug MAIL-MUG`);
    expect((await messagesOf(app, shipped.order.id))[0]).toMatchObject({ status: 'sent', attempts: 1, smtp_response: expect.stringContaining('250') });
  });

  it('sends it once however often the push and the message run', async () => {
    const { app } = t;
    expect(await runPush(app, { pushId: shipped.push.id })).toEqual({ outcome: 'already done' });
    const [row] = await messagesOf(app, shipped.order.id);
    expect(await sendMessage(app, row!.id)).toEqual({ outcome: 'already sent' });
    // A lost job after a flush: the sweeper finds no pending message to revive.
    await flushQueues(app);
    const report = await sweep(app, JOBS, new Date(Date.now() + 3_600_000));
    expect(report.requeued.notify ?? 0).toBe(0);
    expect(smtp.received).toHaveLength(1);
  });

  it('delivery owes a delivery notice and, the order delivered, a feedback request with a signed link', async () => {
    const { app } = t;
    await runStep(app, { step: 'deliver', id: shipped.shipment.id });
    const owed = await messagesOf(app, shipped.order.id);
    expect(owed.map((m) => [m.kind, m.status])).toEqual([['shipping', 'sent'], ['delivery', 'pending'], ['feedback', 'pending']]);
    // Delivered again (a repeated carrier report): nothing more is owed.
    await runStep(app, { step: 'deliver', id: shipped.shipment.id });
    expect(await messagesOf(app, shipped.order.id)).toHaveLength(3);

    for (const m of owed.slice(1)) await sendMessage(app, m.id);
    const mails = await smtp.waitFor(3);
    expect(mails[1]!.subject).toBe(`Your order ${shipped.order.order_number} has arrived`);
    expect(mails[1]!.text).toContain(`your parcel ${shipped.shipment.tracking_number}`);
    expect(mails[2]!.subject).toBe(`How was your order ${shipped.order.order_number}?`);
    const link = /https:\/\/cs\.shop\.example\/feedback\/(\S+)/.exec(mails[2]!.text ?? '');
    expect(link?.[1]).toMatch(new RegExp(`^${shipped.order.id}\\.\\d+\\.[A-Za-z0-9_-]{43}$`));
    expect(mails[2]!.html).toContain(`href="https://cs.shop.example/feedback/${link![1]}"`);
  });

  it('a feedback request waits until it is due: the sweeper leaves it, and an early job sends nothing', async () => {
    const { app } = t;
    const later = await shipOne(app, shopify, shopifyChannel, 'MAIL-MUG', 'bo@customer.example');
    await runPush(app, { pushId: later.push.id });
    await app.db.updateTable('customer_messages').set({ status: 'sent' }).where('order_id', '=', later.order.id).execute();
    await runStep(app, { step: 'deliver', id: later.shipment.id });
    const feedback = (await messagesOf(app, later.order.id)).find((m) => m.kind === 'feedback')!;
    await app.db.updateTable('customer_messages').set({ due_at: new Date(Date.now() + 86_400_000), updated_at: new Date(Date.now() - 3_600_000) }).where('id', '=', feedback.id).execute();
    expect((await sendMessage(app, feedback.id)).outcome).toMatch(/^not due until/);
    await flushQueues(app);
    const before = smtp.received.length;
    const report = await sweep(app, JOBS, new Date(Date.now() + 60_000));
    expect(report.requeued.notify ?? 0).toBe(1); // the delivery notice, not the feedback request
    // Due now: swept.
    await app.db.updateTable('customer_messages').set({ due_at: new Date(Date.now() - 1000) }).where('id', '=', feedback.id).execute();
    const again = await sweep(app, JOBS, new Date(Date.now() + 60_000));
    expect(again.requeued.notify).toBe(1);
    expect(smtp.received.length).toBe(before);
  });

  it('a channel that notifies its customers itself gets no mail from channelsync, and is asked to notify', async () => {
    const { app } = t;
    const wooChannel = await connect(app, woo, 'woocommerce', 'mail-woo', 'channel', 'MAIL-CUP');
    const before = smtp.received.length;
    const s = await shipOne(app, woo, wooChannel, 'MAIL-CUP', 'cy@customer.example');
    await runPush(app, { pushId: s.push.id });
    const [onStore] = await woo.fulfillments(s.externalId);
    expect(onStore).toMatchObject({ trackingNumber: s.shipment.tracking_number, customerNotified: true });
    await runStep(app, { step: 'deliver', id: s.shipment.id });
    // Only the feedback request, which no channel sends.
    expect((await messagesOf(app, s.order.id)).map((m) => m.kind)).toEqual(['feedback']);
    expect(smtp.received.length).toBe(before);
  });

  it('a channel set to feedbackRequests=false gets no feedback request, and a marketplace none unless it asks', async () => {
    const { app } = t;
    const wooChannel = await connect(app, woo, 'woocommerce', 'mail-woo-nofeedback', 'channel', 'MAIL-PLATE');
    await app.db.updateTable('channels').set({ settings: JSON.stringify({ ...woo.channelConfig().settings, customerMessages: 'channel', feedbackRequests: false }) }).where('id', '=', wooChannel).execute();
    const s = await shipOne(app, woo, wooChannel, 'MAIL-PLATE', 'nofeedback@customer.example');
    await runPush(app, { pushId: s.push.id });
    await runStep(app, { step: 'deliver', id: s.shipment.id });
    expect(await messagesOf(app, s.order.id)).toEqual([]);
    // Unset: storefronts ask, marketplaces (relay addresses, review requests only through the marketplace) do not.
    expect([feedbackRequestsOf('woocommerce', {}), feedbackRequestsOf('amazon', {}), feedbackRequestsOf('amazon', { feedbackRequests: 'true' })]).toEqual([true, false, true]);
  });

  it('a WooCommerce channel left to channelsync gets a private note, not a customer note', async () => {
    const { app } = t;
    const wooChannel = await connect(app, woo, 'woocommerce', 'mail-woo-2', 'channelsync', 'MAIL-BOWL');
    const s = await shipOne(app, woo, wooChannel, 'MAIL-BOWL', 'di@customer.example');
    await runPush(app, { pushId: s.push.id });
    const [onStore] = await woo.fulfillments(s.externalId);
    expect(onStore).toMatchObject({ trackingNumber: s.shipment.tracking_number, customerNotified: false });
    expect((await messagesOf(app, s.order.id)).map((m) => m.kind)).toEqual(['shipping']);
  });

  it('SMTP 4xx is retry-later, 5xx gives up for good and marks the message failed', async () => {
    const { app } = t;
    const s = await shipOne(app, shopify, shopifyChannel, 'MAIL-MUG', 'ed@customer.example');
    await runPush(app, { pushId: s.push.id });
    const [row] = await messagesOf(app, s.order.id);
    const before = smtp.received.length;

    smtp.refuseNext(451, '4.7.1 Greylisted, try again later');
    const greylisted = await sendMessage(app, row!.id).catch((e: unknown) => e);
    expect(greylisted).toBeInstanceOf(RetryableError);
    expect(String(greylisted)).toMatch(/451/);
    expect((await messagesOf(app, s.order.id))[0]).toMatchObject({ status: 'pending', claimed_until: null, last_error: expect.stringContaining('451') });

    smtp.refuseNext(550, '5.1.1 No such user');
    const refused = await sendMessage(app, row!.id).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PermanentError);
    expect(String(refused)).toMatch(/550.*No such user/);
    await notifyJob.onFailed!(app, { messageId: row!.id }, refused as Error);
    expect((await messagesOf(app, s.order.id))[0]).toMatchObject({ status: 'failed' });
    expect(await sendMessage(app, row!.id)).toEqual({ outcome: 'already failed' });
    expect(smtp.received.length).toBe(before);
  });

  it('two runs of one message at once send it once', async () => {
    const { app } = t;
    const s = await shipOne(app, shopify, shopifyChannel, 'MAIL-MUG', 'fa@customer.example');
    await runPush(app, { pushId: s.push.id });
    const [row] = await messagesOf(app, s.order.id);
    const before = smtp.received.length;
    const runs = await Promise.allSettled([sendMessage(app, row!.id), sendMessage(app, row!.id)]);
    expect(runs.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const waited = runs.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(waited.reason).toBeInstanceOf(RetryableError);
    expect(await sendMessage(app, row!.id)).toEqual({ outcome: 'already sent' });
    await smtp.waitFor(before + 1);
    expect(smtp.received.filter((m) => m.messageId === row!.message_id)).toHaveLength(1);
  });
});

describe('a customer address the mail system cannot use', () => {
  it('gives up at once instead of retrying', async () => {
    const { app } = t;
    const s = await shipOne(app, shopify, (await app.db.selectFrom('channels').select('id').where('name', '=', 'mail-shopify').executeTakeFirstOrThrow()).id, 'MAIL-MUG', 'gi@customer.example');
    await app.db.updateTable('orders').set({ customer_email: 'not an address' }).where('id', '=', s.order.id).execute();
    await runPush(app, { pushId: s.push.id });
    const [row] = await messagesOf(app, s.order.id);
    expect(row!.to_address).toBe('not an address');
    const err = await sendMessage(app, row!.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
  });
});
