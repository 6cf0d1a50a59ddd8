/**
 * The "done when", on the demo itself (embedded, nothing else running,
 * mails to a real SMTP server in this process): every shipment pushed to the
 * store that leaves messages to channelsync produces exactly one shipping
 * e-mail with that shipment's tracking link, a store that notifies its own
 * customers gets none, and a delivered order gets one feedback request whose
 * page records a rating that the dashboard shows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { runDemo, type DemoOptions } from '../../src/demo.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { closedServices } from '../helpers/ports.ts';

type Started = Parameters<NonNullable<DemoOptions['onStarted']>>[0];
const TOKEN = 'demo-mail-admin-token-0123456789';

let stateDir: string;
let smtp: TestSmtp;
beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'cs-demo-mail-'));
  smtp = await startTestSmtp();
});
afterAll(async () => {
  await smtp?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('the demo sends customer e-mails', () => {
  it('one shipping mail per pushed shipment with its tracking link, none for a store that notifies, and a feedback request whose rating reaches the dashboard', async () => {
    const env = { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SMTP_URL: smtp.url, ADMIN_TOKEN: TOKEN, DEMO_SPEED: '10' };
    const probe = await closedServices();
    let started: Started | undefined;
    const running = runDemo({
      stateDir, env, probe, ordersPerMinute: 30, faults: false, durationMs: 170_000,
      onStarted: (s) => (started = s),
    });
    const until = async (what: string, ok: () => Promise<boolean>, ms = 60_000) => {
      const deadline = Date.now() + ms;
      while (!(await ok())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    try {
      await until('the demo to start', async () => started !== undefined);
      const { app } = started!.daemon;
      const ours = started!.sims.find((s) => s.sim.kind === 'shopify')!;
      const theirs = started!.sims.filter((s) => s.sim.kind !== 'shopify');
      // Slow on a busy machine (the Shopify simulator speaks TLS and budgets its points): wait for both kinds.
      await until(
        'a shipping mail and a feedback request',
        async () => smtp.received.some((m) => /has shipped$/.test(m.subject ?? '')) && smtp.received.some((m) => /^How was your order/.test(m.subject ?? '')),
        120_000,
      );

      // Every fulfilment push done for our store has exactly one shipping mail, with its own tracking link.
      const { rows: pushed } = await sql<{ shipment: number; tracking_number: string; tracking_url: string | null; email: string }>`
        SELECT s.id AS shipment, s.tracking_number, s.tracking_url, o.customer_email AS email
        FROM channel_pushes p JOIN shipments s ON s.id = p.target::bigint JOIN fulfillments f ON f.id = s.fulfillment_id JOIN orders o ON o.id = f.order_id
        WHERE p.kind = 'fulfillment' AND p.status = 'done' AND p.channel_id = ${ours.channelId}`.execute(app.db);
      expect(pushed.length).toBeGreaterThan(0);
      const sent = await app.db.selectFrom('customer_messages').select(['kind', 'subject', 'message_id', 'status']).where('kind', '=', 'shipping').execute();
      await until('the shipping mails', async () => smtp.received.filter((m) => /has shipped$/.test(m.subject ?? '')).length >= sent.filter((m) => m.status === 'sent').length);
      for (const p of pushed) {
        const row = sent.find((m) => m.subject === String(p.shipment));
        if (!row || row.status !== 'sent') continue; // pushed a moment ago: its mail is on its way
        const mails = smtp.received.filter((m) => m.messageId === row.message_id);
        expect(mails, `shipment ${p.shipment}`).toHaveLength(1);
        expect(mails[0]!.to).toMatchObject({ value: [{ address: p.email }] });
        expect(mails[0]!.text).toContain(p.tracking_number);
        expect(mails[0]!.text).toContain(p.tracking_url!);
      }
      // The stores that notify their own customers: no shipping or delivery mail from channelsync.
      const { rows: foreign } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM customer_messages m JOIN orders o ON o.id = m.order_id
        WHERE o.channel_id = ANY(${theirs.map((t) => t.channelId)}::bigint[]) AND m.kind IN ('shipping', 'delivery')`.execute(app.db);
      expect(foreign[0]!.n).toBe(0);
      const shippedElsewhere = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM channel_pushes WHERE kind = 'fulfillment' AND status = 'done' AND channel_id = ANY(${theirs.map((t) => t.channelId)}::bigint[])`.execute(app.db);
      expect(shippedElsewhere.rows[0]!.n).toBeGreaterThan(0);

      // One feedback request per delivered order; its link records a rating the dashboard shows.
      const feedback = smtp.received.filter((m) => /^How was your order/.test(m.subject ?? ''));
      const ids = feedback.map((m) => m.messageId);
      expect(new Set(ids).size).toBe(ids.length);
      const path = /\/feedback\/\S+/.exec(feedback[0]!.text ?? '')![0];
      const rated = await fetch(`${started!.daemon.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'rating=2&comment=Late' });
      expect(rated.status).toBe(200);
      const dashboard = await fetch(`${started!.daemon.url}/admin`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.text());
      expect(dashboard).toMatch(/id="low-ratings"><span class="muted">Low ratings to look at<\/span><b class="bad">1<\/b>/);
      expect(dashboard).toMatch(/<td class="num">2\.00 \/ 5<\/td>/);
    } finally {
      started?.stop();
      await running;
    }
  }, 240_000);
});
