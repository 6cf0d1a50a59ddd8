/**
 * A message the SMTP server refuses for good, through the real workers: the
 * notify job gives up at once (no retries), the message is failed and listed
 * in /api/failed-jobs; the sweeper leaves it alone; a person's retry there
 * reopens it and it is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/index.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/workers.ts';
import { JOBS } from '../../jobs/index.ts';
import { sweep } from '../../jobs/sweeper.ts';
import { kickMessages, oweMessage } from '../../src/notify/outbox.ts';
import { createTestApp, flushQueues, type TestApp } from '../helpers/app.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { channel, placeOrder } from '../fulfilment/fixtures.ts';

const TOKEN = 'notify-retry-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
let t: TestApp;
let smtp: TestSmtp;
let server: FastifyInstance;
let workers: WorkerSet;

beforeAll(async () => {
  smtp = await startTestSmtp();
  t = await createTestApp({ SMTP_URL: smtp.url, MAIL_FROM: 'shop@shop.example', ADMIN_TOKEN: TOKEN, JOB_ATTEMPTS: '5' });
  server = await buildServer(t.app);
  workers = startWorkers(t.app, JOBS.filter((j) => j.queue === 'notify'), 2);
});
afterAll(async () => {
  await workers?.close(2_000);
  await server?.close();
  await t?.close();
  await smtp?.close();
});

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a customer message refused for good', () => {
  it('fails once, is listed for a person, is not swept, and is sent after a retry', async () => {
    const { app } = t;
    const orderId = await placeOrder(app, await channel(app, 'retry-shop'), [['RT-1', 1]]);
    await app.db.updateTable('orders').set({ customer_email: 'nobody@customer.example' }).where('id', '=', orderId).execute();
    const owed = await app.db.transaction().execute((trx) => oweMessage(trx, app.config, { orderId, kind: 'feedback' }));
    expect(owed).not.toBeNull();

    smtp.refuseNext(550, '5.1.1 <nobody@customer.example>: Recipient address rejected');
    await kickMessages(app, [owed]);
    const failed = await until('the message to fail', () => app.db.selectFrom('customer_messages').selectAll().where('id', '=', owed!.id).executeTakeFirstOrThrow(), (m) => m.status === 'failed');
    expect(failed.attempts).toBe(1);
    expect(failed.last_error).toMatch(/550.*Recipient address rejected/);

    const list = await until('the failure record', async () => (await server.inject({ method: 'GET', url: '/api/failed-jobs?queue=notify', headers: auth })).json().items as Array<{ id: number; job_id: string }>, (items) => items.length === 1);
    expect(list[0]!.job_id).toBe(`mail.feedback.${orderId}`);

    await flushQueues(app);
    const report = await sweep(app, JOBS, new Date(Date.now() + 3_600_000));
    expect(report.requeued.notify ?? 0).toBe(0);
    expect(smtp.received).toHaveLength(0);

    const retry = await server.inject({ method: 'POST', url: `/api/failed-jobs/${list[0]!.id}/retry`, headers: auth });
    expect(retry.statusCode).toBe(202);
    const sent = await until('the message to be sent', () => app.db.selectFrom('customer_messages').selectAll().where('id', '=', owed!.id).executeTakeFirstOrThrow(), (m) => m.status === 'sent');
    expect(sent.attempts).toBe(2);
    expect(smtp.received.map((m) => m.to)).toMatchObject([{ value: [{ address: 'nobody@customer.example' }] }]);
    const messages = await server.inject({ method: 'GET', url: `/api/customer-messages?order=${orderId}`, headers: auth });
    expect(messages.json().items).toEqual([expect.objectContaining({ kind: 'feedback', status: 'sent', to_address: 'nobody@customer.example' })]);
  });
});

describe('delivery confirmed by a person', () => {
  it('for a carrier that reports none, owes the feedback request like a carrier report, once', async () => {
    const { app } = t;
    const { allocateOrder } = await import('../../src/fulfilment/allocate.ts');
    const { packFulfilment, startPicking } = await import('../../src/fulfilment/pickpack.ts');
    const { shipFulfilment } = await import('../../src/fulfilment/ship.ts');
    const { location, sku, stock } = await import('../fulfilment/fixtures.ts');
    const by = { actor: 'test' };
    const loc = await location(app, 'MANUALWH', 1);
    await stock(app, await sku(app, 'MAN-1'), loc, 3);
    const orderId = await placeOrder(app, await channel(app, 'manual-carrier-shop'), [['MAN-1', 1]]);
    await app.db.updateTable('orders').set({ customer_email: 'eve@customer.example' }).where('id', '=', orderId).execute();
    await allocateOrder(app, orderId, by);
    const f = await app.db.selectFrom('fulfillments').select('id').where('order_id', '=', orderId).executeTakeFirstOrThrow();
    await startPicking(app, f.id, by);
    await packFulfilment(app, f.id, [{ weightGrams: 300, lengthCm: null, widthCm: null, heightCm: null }], by);
    const shipped = await shipFulfilment(app, f.id, { adapter: 'manual', manual: { carrier: 'FedEx', trackingNumber: '7712 3456 7890' } }, by);

    for (let i = 0; i < 2; i++) {
      const res = await server.inject({ method: 'POST', url: `/api/shipments/${shipped.shipmentId}/delivered`, headers: auth });
      expect(res.statusCode).toBe(200);
      expect(res.json().delivered_at).not.toBeNull();
    }
    expect((await app.db.selectFrom('orders').select('state').where('id', '=', orderId).executeTakeFirstOrThrow()).state).toBe('delivered');
    const owed = await app.db.selectFrom('customer_messages').select(['kind', 'status', 'due_at']).where('order_id', '=', orderId).execute();
    // No channel of kind 'test' leaves its shipping mails to channelsync: only the feedback request, due in FEEDBACK_AFTER_DAYS (7).
    expect(owed).toMatchObject([{ kind: 'feedback', status: 'pending' }]);
    expect(owed[0]!.due_at.getTime()).toBeGreaterThan(Date.now() + 6.9 * 86_400_000);
    expect((await server.inject({ method: 'POST', url: '/api/shipments/999999/delivered', headers: auth })).statusCode).toBe(404);
  });
});
