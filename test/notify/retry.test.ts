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
