/**
 * Console: the operations console's order list and order page at N orders
 * (full 100,000, quick 5,000; BENCH_CONSOLE_ORDERS), over real HTTP to the
 * daemon's server. Absolute figures (no floor), median of 20 requests each;
 * target < 200 ms.
 *
 * Measured today: the dashboard (`/admin`) and the admin API the console
 * reads (`/api/orders` first page, a page deep in the list, a search, and
 * `/api/orders/:id`). The console's own order pages come with branch
 * `console`, as `bench/console.ts` exporting a `Scenario` (its rows are
 * appended here, on the same seeded database passed in BENCH_CONSOLE_URL);
 * until that file exists the row says "not built".
 *
 * Orders are seeded with SQL (two lines each), not through the pull: the
 * figure is reading, not writing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { createTestApp } from '../test/helpers/app.ts';
import { buildServer } from '../src/server/index.ts';
import { absolute, median, notMeasured, sized } from './rows.ts';
import type { BenchRow, Scenario } from './types.ts';

const TOKEN = 'bench-console-token-0123456789';
const REQUESTS = 20;
const TARGET_MS = 200;

const scenario: Scenario = {
  id: 'console',
  async run(ctx) {
    const count = sized('BENCH_CONSOLE_ORDERS', 100_000, 5_000, ctx.quick);
    const t = await createTestApp({ ADMIN_TOKEN: TOKEN });
    const server = await buildServer(t.app);
    try {
      ctx.progress(`seeding ${count} orders`);
      const { id: channelId } = await t.app.db.insertInto('channels').values({ kind: 'woocommerce', name: 'console-bench', credentials_encrypted: 'x' }).returning('id').executeTakeFirstOrThrow();
      for (let from = 1; from <= count; from += 20_000) {
        const to = Math.min(count, from + 19_999);
        await sql`
          WITH o AS (
            INSERT INTO orders (channel_id, external_id, order_number, channel_state, financial_status, fulfillment_status, currency,
                                subtotal, shipping, tax, discount, total, customer_email, customer_name, placed_at, channel_updated_at, raw)
            SELECT ${channelId}, 'c' || g, '#' || (1000 + g), 'open', 'paid', 'unfulfilled', 'EUR', 20, 5, 2, 0, 27,
                   'buyer' || g || '@example.com', 'Buyer ' || g, now() - (g || ' minutes')::interval, now() - (g || ' minutes')::interval,
                   jsonb_build_object('id', g)
            FROM generate_series(${from}::int, ${to}::int) g
            RETURNING id, external_id)
          INSERT INTO order_lines (order_id, external_id, sku, title, quantity, unit_price, tax, discount)
          SELECT o.id, o.external_id || '-' || k, 'SKU-' || k, 'Item ' || k, 1, 10, 1, 0 FROM o, generate_series(1, 2) k`.execute(t.app.db);
      }
      await sql`ANALYZE orders`.execute(t.app.db);
      await sql`ANALYZE order_lines`.execute(t.app.db);
      const url = await server.listen({ port: 0, host: '127.0.0.1' });
      const ids = await t.app.db.selectFrom('orders').select('id').orderBy('id').execute();
      const mid = ids[Math.floor(ids.length / 2)]!.id;
      const get = async (path: string) => {
        const times: number[] = [];
        for (let i = 0; i < REQUESTS; i++) {
          const started = performance.now();
          const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
          await res.arrayBuffer();
          times.push(performance.now() - started);
          if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
        }
        return { median: median(times), max: Math.max(...times) };
      };
      const rows: BenchRow[] = [];
      const measure = async (figure: string, path: string) => {
        const r = await get(path);
        rows.push(absolute({ figure: `${figure} at ${count} orders`, value: r.median, max: TARGET_MS, unit: 'ms', note: `GET ${path.replace(/\d{3,}/g, ':id')}, median of ${REQUESTS} (slowest ${r.max.toFixed(0)} ms)` }));
      };
      await measure('dashboard', '/admin');
      await measure('order list, first page', '/api/orders');
      await measure('order list, a page in the middle', `/api/orders?before=${mid}`);
      await measure('order search by e-mail prefix', '/api/orders?q=buyer4242');
      await measure('one order', `/api/orders/${mid}`);
      return rows;
    } finally {
      await server.close();
      await t.close();
    }
  },
};
export default scenario;
