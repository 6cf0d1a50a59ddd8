/**
 * Saving orders: `upsertOrders` (newer-wins rule, lines, flags) against the
 * baseline of plain multi-row INSERTs of the same rows into the same tables,
 * in the same run on the same database.
 */
import { sql } from 'kysely';
import { createDb } from '../src/db/index.ts';
import { upsertOrders } from '../src/db/orders.ts';
import { createTestDatabase } from '../test/helpers/services.ts';
import { order, line } from '../test/helpers/orders.ts';
import type { BenchResult } from './types.ts';

const ORDERS = 10_000;
const PAGE = 100;

export default async function run(): Promise<BenchResult[]> {
  const database = await createTestDatabase();
  const db = createDb(database.url);
  try {
    const { id: channelId } = await db.insertInto('channels').values({ kind: 'bench', name: 'bench', credentials_encrypted: 'x' }).returning('id').executeTakeFirstOrThrow();
    const orders = Array.from({ length: ORDERS }, (_, i) =>
      order({ externalId: `o${i}`, orderNumber: `#${i}`, lines: [line({ externalId: `o${i}-1` }), line({ externalId: `o${i}-2`, sku: 'CAP' })] }),
    );

    // Baseline: the same rows, plain INSERTs (no conflict handling, no lines bookkeeping).
    const baselineStart = performance.now();
    for (let i = 0; i < ORDERS; i += PAGE) {
      const page = orders.slice(i, i + PAGE);
      await db.transaction().execute(async (trx) => {
        const ids = await trx
          .insertInto('orders')
          .values(page.map((o) => ({
            channel_id: channelId, external_id: `base-${o.externalId}`, order_number: o.orderNumber, channel_state: o.channelState,
            financial_status: o.financialStatus, fulfillment_status: o.fulfillmentStatus, currency: o.currency, presentment_currency: null,
            subtotal: o.totals.subtotal, shipping: o.totals.shipping, tax: o.totals.tax, discount: o.totals.discount, total: o.totals.total,
            customer_email: null, customer_name: null, customer: JSON.stringify(o.customer), billing_address: null, shipping_address: null,
            placed_at: o.placedAt, channel_updated_at: o.updatedAt, cancelled_at: null, closed_at: null, raw: JSON.stringify(o.raw),
          })))
          .returning('id')
          .execute();
        await trx
          .insertInto('order_lines')
          .values(page.flatMap((o, k) => o.lines.map((l) => ({
            order_id: ids[k]!.id, external_id: l.externalId, sku: l.sku, title: l.title, quantity: l.quantity, unit_price: l.unitPrice, tax: l.tax,
          }))))
          .execute();
      });
    }
    const baselineMs = performance.now() - baselineStart;

    const start = performance.now();
    for (let i = 0; i < ORDERS; i += PAGE) {
      await db.transaction().execute((trx) => upsertOrders(trx, channelId, orders.slice(i, i + PAGE)));
    }
    const upsertMs = performance.now() - start;

    // Replaying the same pages (an overlapping poll) must change nothing and should be cheaper still.
    const replayStart = performance.now();
    for (let i = 0; i < ORDERS; i += PAGE) {
      await db.transaction().execute((trx) => upsertOrders(trx, channelId, orders.slice(i, i + PAGE)));
    }
    const replayMs = performance.now() - replayStart;
    await sql`SELECT 1`.execute(db);

    return [
      { name: `upsert ${ORDERS} orders (pages of ${PAGE})`, value: upsertMs, baseline: baselineMs, unit: 'ms', note: 'baseline: plain INSERTs of the same rows; target ratio <= 2' },
      { name: `replay the same ${ORDERS} orders (all stale)`, value: replayMs, baseline: baselineMs, unit: 'ms', note: 'baseline: plain INSERTs; target ratio <= 1' },
    ];
  } finally {
    await db.destroy();
    await database.drop();
  }
}
