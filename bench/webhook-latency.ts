/**
 * Webhook latency: signed WooCommerce `order.created` deliveries at 200 a
 * second (full 30 s, quick 2 s; BENCH_WEBHOOK_SECONDS, BENCH_WEBHOOK_RATE),
 * sent by the simulator as the store sends them (its own process) to one
 * running daemon, and the time from accepted (`received_at`, the inbox row
 * written before the 2xx) to committed (`processed_at`, the order saved),
 * read from Postgres. Absolute figures, no floor (noted as such);
 * target p99 < 250 ms, and no delivery the store had to count as failed.
 */
import { sql } from 'kysely';
import { openShop, startDaemon, until, SKUS } from './daemon.ts';
import { absolute, sized } from './rows.ts';
import type { Scenario } from './types.ts';

const scenario: Scenario = {
  id: 'webhooks',
  async run(ctx) {
    const seconds = sized('BENCH_WEBHOOK_SECONDS', 30, 2, ctx.quick);
    const rate = sized('BENCH_WEBHOOK_RATE', 200, 200, ctx.quick);
    const count = seconds * rate;
    const shop = await openShop(1, { SYNC_INTERVAL_SECONDS: '3600' });
    const daemon = await startDaemon(shop.env);
    try {
      const channelId = shop.channels['woo-1']!;
      await shop.sims.call('woo-1', 'setWebhookUrl', `${daemon.url}/webhooks/${channelId}`);
      const db = shop.app.db;
      const pinged = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_deliveries WHERE topic = 'ping' AND status <> 'pending'`.execute(db)).rows[0]!.n;
      await until('the webhook pings', async () => (await pinged()) >= 1, 30_000);
      ctx.progress(`${count} deliveries at ${rate}/s`);
      const sent = await shop.sims.call<number>('woo-1', 'createOrdersPaced', count, rate, { lines: [{ sku: SKUS[0], quantity: 1 }], paid: true });
      // Done when every order is saved, or when the deliveries stopped coming (a store gives up on a
      // receiver that does not answer within 5 s, and disables the webhook after 5 failures in a row).
      const saved = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM orders`.execute(db)).rows[0]!.n;
      // The creates only: the store also sends order.updated for every order the fulfilment pushes
      // complete, for as long as fulfilment runs behind, which is not what this scenario measures.
      const received = async () => (await sql<{ n: number; pending: number }>`SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'pending')::int AS pending FROM webhook_deliveries WHERE topic = 'order.created'`.execute(db)).rows[0]!;
      let last = -1;
      let still = 0;
      await until(`${count} orders saved from their deliveries`, async () => {
        const r = await received();
        if (r.pending > 0) return false;
        if ((await saved()) >= count) return true;
        still = r.n === last ? still + 1 : 0;
        last = r.n;
        return still >= 50; // 5 s without a new delivery and nothing pending
      }, 600_000);
      const failedDeliveries = await shop.sims.call<number>('woo-1', 'failedDeliveries');
      // The store's side: how long it waited for each answer, and what it logged for the failures.
      const store = await shop.sims.call<{ topics: Record<string, { n: number; p50: number; p99: number; max: number }>; failures: Record<string, number> }>('woo-1', 'deliveryStats');
      const waited = Object.entries(store.topics).map(([t, s]) => `${t} ${s.n}: p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms, max ${s.max.toFixed(0)} ms`).join('; ');
      const why = Object.entries(store.failures).map(([w, n]) => `${n} x ${w}`).join('; ') || 'none';
      const { rows } = await sql<{ p50: number; p99: number; max: number; failed: number; orders: number; inserts: number; saves: number; deliveries: number }>`
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - received_at)) * 1000 AS p50,
               percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - received_at)) * 1000 AS p99,
               max(extract(epoch FROM processed_at - received_at)) * 1000 AS max,
               count(*) FILTER (WHERE status = 'failed')::int AS failed,
               (SELECT count(*)::int FROM orders) AS orders,
               -- Rows of one INSERT share its received_at, rows of one batch its processed_at (now() is the
               -- transaction's start): how many writes the accepts and the saves took, whatever the load.
               count(DISTINCT received_at)::int AS inserts, count(DISTINCT processed_at)::int AS saves, count(*)::int AS deliveries
        FROM webhook_deliveries WHERE topic = 'order.created'`.execute(db);
      const r = rows[0]!;
      const note = `${count} orders made in ${sent.toFixed(1)} s (${(count / sent).toFixed(0)}/s achieved), ${r.orders} saved, ${r.failed} deliveries failed in the daemon; max ${Number(r.max).toFixed(0)} ms; ${r.deliveries} order.created deliveries stored by ${r.inserts} INSERTs, saved by ${r.saves} transactions`;
      return [
        { ...absolute({ figure: `webhook accepted -> committed p50 at ${rate}/s`, value: Number(r.p50), max: 0, unit: 'ms', note }), target: 'none (the p99 is the target)', met: null },
        absolute({ figure: `webhook accepted -> committed p99 at ${rate}/s`, value: Number(r.p99), max: 250, unit: 'ms', note: 'from Postgres: processed_at - received_at' }),
        absolute({
          figure: 'webhook deliveries the store counted as failed', value: failedDeliveries, max: 0, unit: 'count', targetText: '0',
          note: `not answered with a 2xx within WooCommerce's 5 s; the order then arrives by the next poll only. The store waited: ${waited}. Failures: ${why}`,
        }),
      ];
    } finally {
      await daemon.stop();
      await shop.close();
    }
  },
};
export default scenario;
