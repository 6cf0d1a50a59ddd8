/**
 * Ingest: orders per second from an unthrottled WooCommerce simulator (its
 * own process, no latency) into Postgres, lines included, through the real
 * pull path (`syncOrders`: the connector's pages, the upsert with the
 * newer-wins rule, the cursor, the fulfilment kicks), N orders (full 10,000,
 * quick 1,000; BENCH_INGEST_ORDERS) into a new channel each run.
 *
 * Floor: the same rows (every column the product writes) saved by raw
 * multi-row `INSERT ... ON CONFLICT DO UPDATE` with `pg`, pages of 100 like
 * the pull's, one transaction a page, into a new channel each run. Both warm
 * (one unmeasured run each first), the order alternated, median of 3 each.
 * Targets: ratio >= 0.5 and >= 5,000 orders/s (on 2 cores).
 */
import pg from 'pg';
import { pino } from 'pino';
import { createTestApp } from '../test/helpers/app.ts';
import { woocommerceFactory } from '../connectors/woocommerce/index.ts';
import { addChannel } from '../src/db/channels.ts';
import { requireSecretKey } from '../src/config.ts';
import type { UnifiedOrder } from '../src/domain/order.ts';
import { syncOrders } from '../jobs/sync-orders.ts';
import { startSimulators } from './sim-process.ts';
import { memoryKV } from './memory-kv.ts';
import { atLeast, median, sized } from './rows.ts';
import type { Scenario } from './types.ts';

const PAGE = 100;

const scenario: Scenario = {
  id: 'ingest',
  async run(ctx) {
    const count = sized('BENCH_INGEST_ORDERS', 10_000, 1_000, ctx.quick);
    const sims = await startSimulators([{ name: 'woo', kind: 'woocommerce', orders: count }]);
    const t = await createTestApp();
    const raw = new pg.Pool({ connectionString: t.database.url, max: 2 });
    try {
      const store = sims.stores.woo!;
      const key = requireSecretKey(t.app.config);
      let run = 0;
      const product = async () => {
        const id = await addChannel(t.app.db, key, { kind: 'woocommerce', name: `ingest-${++run}`, settings: store.settings, credentials: store.credentials });
        const started = performance.now();
        const report = await syncOrders(t.app, id);
        const seconds = (performance.now() - started) / 1000;
        if (report.inserted !== count) throw new Error(`pulled ${report.inserted} of ${count} orders`);
        return count / seconds;
      };
      // The rows to write raw: the unified orders as the connector maps them, read once.
      // Timed too: how fast the simulator and the connector deliver alone says where the pull path's time goes.
      const readStarted = performance.now();
      const orders = await readOrders(store, count);
      const readRate = count / ((performance.now() - readStarted) / 1000);
      const baseline = async () => {
        const { rows } = await raw.query<{ id: number }>(`INSERT INTO channels (kind, name, credentials_encrypted) VALUES ('woocommerce', $1, 'x') RETURNING id`, [`raw-${++run}`]);
        const id = rows[0]!.id;
        const started = performance.now();
        for (let i = 0; i < orders.length; i += PAGE) await rawPage(raw, id, orders.slice(i, i + PAGE));
        return orders.length / ((performance.now() - started) / 1000);
      };
      ctx.progress('warming up');
      await product();
      await baseline();
      const p: number[] = [];
      const b: number[] = [];
      for (let round = 0; round < 3; round++) {
        ctx.progress(`round ${round + 1} of 3`);
        if (round % 2 === 0) {
          p.push(await product());
          b.push(await baseline());
        } else {
          b.push(await baseline());
          p.push(await product());
        }
      }
      const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
      return [
        atLeast({
          figure: `ingest ${count} orders (pull path, unthrottled simulator)`,
          value: median(p), floor: median(b), min: 0.5, absMin: 5000, unit: 'orders/s',
          floorWhat: `raw multi-row INSERT ... ON CONFLICT of the same rows with pg, pages of ${PAGE}, warm, alternated, median of 3`,
          note: `pull runs ${fmt(p)}; raw runs ${fmt(b)} orders/s; ${orders.reduce((a, o) => a + o.lines.length, 0)} lines; the connector reading the simulator alone (no saving, cold): ${readRate.toFixed(0)} orders/s`,
        }),
      ];
    } finally {
      await raw.end();
      await t.close();
      sims.stop();
    }
  },
};
export default scenario;

async function readOrders(store: { settings: Record<string, unknown>; credentials: Record<string, unknown> }, count: number): Promise<UnifiedOrder[]> {
  const connector = woocommerceFactory.create({
    channel: { id: 0, kind: 'woocommerce', name: 'read', settings: woocommerceFactory.settingsSchema.parse(store.settings), credentials: woocommerceFactory.credentialsSchema.parse(store.credentials) },
    budget: { reserve: async (_k, cost) => ({ waitMs: 0, ticket: 0, cost }), waitFor: async () => 0, sync: async () => {}, refund: async () => {} },
    kv: memoryKV(),
    log: pino({ level: 'silent' }),
  });
  const out: UnifiedOrder[] = [];
  for await (const page of connector.pullOrders(null)) out.push(...page.orders);
  await connector.close();
  if (out.length !== count) throw new Error(`read ${out.length} of ${count} orders`);
  return out;
}

const ORDER_COLUMNS = [
  'channel_id', 'external_id', 'order_number', 'channel_state', 'financial_status', 'fulfillment_status', 'currency', 'presentment_currency',
  'subtotal', 'shipping', 'tax', 'discount', 'total', 'customer_email', 'customer_name', 'customer', 'billing_address', 'shipping_address',
  'placed_at', 'channel_updated_at', 'cancelled_at', 'closed_at', 'flags', 'raw',
];
const LINE_COLUMNS = [
  'order_id', 'external_id', 'sku', 'title', 'quantity', 'unit_price', 'tax', 'discount', 'quantity_fulfilled_on_channel',
  'product_external_id', 'variant_external_id', 'inventory_item_external_id',
];

function values(rows: unknown[][]): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const text = rows.map((r) => `(${r.map((v) => `$${params.push(v)}`).join(', ')})`).join(', ');
  return { text, params };
}

/** One page, the plain way: headers, then lines, each one multi-row statement, in one transaction. */
async function rawPage(pool: pg.Pool, channelId: number, page: UnifiedOrder[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const headers = values(page.map((o) => [
      channelId, o.externalId, o.orderNumber, o.channelState, o.financialStatus, o.fulfillmentStatus, o.currency, o.presentmentCurrency,
      o.totals.subtotal, o.totals.shipping, o.totals.tax, o.totals.discount, o.totals.total, o.customer?.email ?? null,
      [o.customer?.firstName, o.customer?.lastName].filter(Boolean).join(' ') || null, JSON.stringify(o.customer),
      JSON.stringify(o.billingAddress), JSON.stringify(o.shippingAddress), o.placedAt, o.updatedAt, o.cancelledAt, o.closedAt, [], JSON.stringify(o.raw ?? null),
    ]));
    const { rows } = await client.query<{ id: number; external_id: string }>(
      `INSERT INTO orders (${ORDER_COLUMNS.join(', ')}) VALUES ${headers.text}
       ON CONFLICT (channel_id, external_id) DO UPDATE SET raw = excluded.raw, channel_updated_at = excluded.channel_updated_at
       RETURNING id, external_id`,
      headers.params,
    );
    const ids = new Map(rows.map((r) => [r.external_id, r.id]));
    const lines = values(page.flatMap((o) => o.lines.map((l) => [
      ids.get(o.externalId), l.externalId, l.sku, l.title, l.quantity, l.unitPrice, l.tax, l.discount, l.quantityFulfilledOnChannel,
      l.productExternalId, l.variantExternalId, l.inventoryItemExternalId,
    ])));
    if (lines.params.length) {
      await client.query(
        `INSERT INTO order_lines (${LINE_COLUMNS.join(', ')}) VALUES ${lines.text}
         ON CONFLICT (order_id, external_id) DO UPDATE SET quantity = excluded.quantity`,
        lines.params,
      );
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}
