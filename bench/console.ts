/**
 * The operations console at scale: each page's median answer time through the
 * HTTP server (`inject`, so no network noise) with BENCH_CONSOLE_ORDERS orders
 * (default 100,000, 5,000 with --quick; two lines each, half of them shipped
 * with tracking, some failed pushes). Absolute (target: every page under
 * 200 ms); GET /healthz in the same run is printed beside each for scale.
 *
 * Rows are made by SQL (generate_series), not by the sync path: this measures
 * reading, and 100,000 orders load in seconds.
 */
import { sql } from 'kysely';
import { buildServer } from '../src/server/index.ts';
import { createTestApp } from '../test/helpers/app.ts';
import { absolute, sized } from './rows.ts';
import type { BenchContext, BenchRow, Scenario } from './types.ts';

const RUNS = 15;
const TOKEN = 'console-bench-token-0123456789abcdef';
const TARGET_MS = 200;

async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const ORDERS = sized('BENCH_CONSOLE_ORDERS', 100_000, 5_000, ctx.quick);
  ctx.progress(`seeding ${ORDERS} orders`);
  const t = await createTestApp({ ADMIN_TOKEN: TOKEN });
  const server = await buildServer(t.app);
  const db = t.app.db;
  try {
    const seed = [
      sql`INSERT INTO channels (kind, name, credentials_encrypted) VALUES ('bench', 'bench-shopify', 'x'), ('bench', 'bench-woo', 'x')`,
      sql`INSERT INTO locations (code, name, priority) VALUES ('MAIN', 'Main', 1)`,
      sql`INSERT INTO skus (sku, title) SELECT 'SKU-' || i, 'Product ' || i FROM generate_series(1, 200) i`,
      sql`INSERT INTO stock_movements (sku_id, location_id, on_hand_delta, reason, reference)
        SELECT s.id, l.id, (s.id % 7) * 10 + 1, 'adjustment', 'bench' FROM skus s CROSS JOIN locations l`,
      sql`INSERT INTO orders (channel_id, external_id, order_number, state, channel_state, financial_status, fulfillment_status, currency,
          subtotal, shipping, tax, discount, total, customer_email, customer_name, placed_at, channel_updated_at, raw)
        SELECT (SELECT min(id) FROM channels) + i % 2, 'ext-' || i, '#' || (1000 + i),
          (ARRAY['received', 'allocated', 'shipped', 'delivered', 'backordered', 'needs_attention'])[1 + i % 6],
          'open', 'paid', 'unfulfilled', 'EUR', 20, 5, 4, 0, 29, 'customer' || i || '@example.com', 'Customer ' || i,
          now() - make_interval(mins => i), now() - make_interval(mins => i), jsonb_build_object('id', i)
        FROM generate_series(1, ${ORDERS}::int) i`,
      sql`INSERT INTO order_lines (order_id, external_id, sku, sku_id, title, quantity, unit_price, tax)
        SELECT o.id, 'L' || k, s.sku, s.id, 'Product', 1, 10, 2
        FROM orders o CROSS JOIN generate_series(1, 2) k JOIN skus s ON s.sku = 'SKU-' || (1 + (o.id * k) % 200)`,
      sql`INSERT INTO fulfillments (order_id, state) SELECT id, 'shipped' FROM orders WHERE id % 2 = 0`,
      sql`INSERT INTO shipments (fulfillment_id, carrier, tracking_number, tracking_url)
        SELECT f.id, 'DHL', 'TRK' || f.order_id, 'https://track.example/TRK' || f.order_id FROM fulfillments f`,
      sql`INSERT INTO channel_pushes (channel_id, kind, target, status, last_error)
        SELECT o.channel_id, 'fulfillment', s.id::text, CASE WHEN o.id % 1000 = 0 THEN 'failed' ELSE 'done' END,
          CASE WHEN o.id % 1000 = 0 THEN 'channel answered HTTP 503' END
        FROM shipments s JOIN fulfillments f ON f.id = s.fulfillment_id JOIN orders o ON o.id = f.order_id`,
      sql`INSERT INTO order_history (order_id, fulfillment_id, actor, from_state, to_state)
        SELECT f.order_id, f.id, 'job:fulfilment', 'packed', 'shipped' FROM fulfillments f`,
      sql`ANALYZE`,
    ];
    for (const statement of seed) await statement.execute(db);

    const median = async (url: string): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const start = performance.now();
        const res = await server.inject({ url, headers: { authorization: `Bearer ${TOKEN}` } });
        times.push(performance.now() - start);
        if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}: ${res.body.slice(0, 200)}`);
      }
      return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
    };
    const baseline = await median('/healthz');
    const middle = await db.selectFrom('orders').select(['id', 'placed_at']).orderBy('placed_at', 'desc').orderBy('id', 'desc').offset(Math.floor(ORDERS / 2)).limit(1).executeTakeFirstOrThrow();
    const cursor = encodeURIComponent(`${middle.placed_at.toISOString()}_${middle.id}`);
    const shipped = await db.selectFrom('fulfillments').select('order_id').orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    const pages: Array<[string, string]> = [
      ['orders, first page', '/admin/orders'],
      [`orders, a page ${Math.floor(ORDERS / 2)} deep (keyset)`, `/admin/orders?after=${cursor}`],
      ['orders of one channel and state', `/admin/orders?channel=${(await db.selectFrom('channels').select('id').where('name', '=', 'bench-woo').executeTakeFirstOrThrow()).id}&state=backordered`],
      ['orders needing attention', '/admin/orders?attention=1'],
      ['search: order number', `/admin/orders?q=${encodeURIComponent(`#${1000 + Math.floor(ORDERS / 3)}`)}`],
      ['search: e-mail prefix', `/admin/orders?q=customer${Math.floor(ORDERS / 4)}%40`],
      ['search: SKU', '/admin/orders?q=SKU-17'],
      ['search: tracking number', `/admin/orders?q=TRK${shipped.order_id}`],
      ['one order', `/admin/orders/${shipped.order_id}`],
      ['stock', '/admin/stock'],
      ['purchase orders', '/admin/purchase-orders'],
      ['dashboard', '/admin'],
    ];
    const results: BenchRow[] = [];
    for (const [name, url] of pages) {
      const value = await median(url);
      results.push(absolute({ figure: `console page: ${name} at ${ORDERS} orders`, value, max: TARGET_MS, unit: 'ms', note: `median of ${RUNS} through inject (GET /healthz: ${baseline.toFixed(1)} ms)` }));
    }
    return results;
  } finally {
    await server.close();
    await t.close();
  }
}

const scenario: Scenario = { id: 'console-pages', run };
export default scenario;
