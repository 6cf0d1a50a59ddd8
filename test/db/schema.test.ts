import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createDb, migrate, type Db } from '../../src/db/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/services.ts';

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url);
});
afterAll(async () => {
  await db.destroy();
  await database.drop();
});

describe('schema', () => {
  it('migrates twice in a row without change', async () => {
    expect((await migrate(db)).applied).toEqual([]);
    expect((await migrate(db)).applied).toEqual([]);
  });

  it('has every table of the unified schema', async () => {
    const { rows } = await sql<{ table_name: string }>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`.execute(db);
    const tables = rows.map((r) => r.table_name);
    for (const t of [
      'channels', 'sync_cursors', 'orders', 'order_lines', 'skus', 'locations', 'channel_listings', 'stock_movements',
      'stock_levels', 'fulfillments', 'fulfillment_lines', 'shipments', 'shipment_lines', 'channel_pushes',
      'webhook_deliveries', 'purchase_orders', 'purchase_order_lines', 'returns', 'return_lines', 'refunds',
      'suppliers', 'order_history',
    ]) {
      expect(tables).toContain(t);
    }
  });

  it('keeps money in numeric columns, never floats', async () => {
    const { rows } = await sql<{ column_name: string; data_type: string }>`
      SELECT column_name, data_type FROM information_schema.columns
      WHERE table_name IN ('orders', 'order_lines', 'refunds') AND data_type IN ('real', 'double precision', 'numeric')`.execute(db);
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.every((r) => r.data_type === 'numeric')).toBe(true);
  });

  it('enforces one order per channel and external id, and one inbox row per delivery', async () => {
    const { id: channelId } = await db
      .insertInto('channels')
      .values({ kind: 'test', name: 'c1', credentials_encrypted: 'x' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const row = {
      channel_id: channelId, external_id: 'A', order_number: '#1', channel_state: 'open' as const, financial_status: 'paid',
      fulfillment_status: 'unfulfilled', currency: 'EUR', presentment_currency: null, subtotal: '1', shipping: '0', tax: '0',
      discount: '0', total: '1', customer_email: null, customer_name: null, customer: null, billing_address: null,
      shipping_address: null, placed_at: new Date(), channel_updated_at: new Date(), cancelled_at: null, closed_at: null, raw: '{}',
    };
    await db.insertInto('orders').values(row).execute();
    await expect(db.insertInto('orders').values(row).execute()).rejects.toThrow(/duplicate key/);
    await expect(
      db.insertInto('orders').values({ ...row, external_id: 'B', financial_status: 'rich' }).execute(),
    ).rejects.toThrow(/check constraint/);

    const delivery = { channel_id: channelId, delivery_key: 'd1', topic: 't', headers: '{}', raw_body: Buffer.from('{}') };
    await db.insertInto('webhook_deliveries').values(delivery).execute();
    await expect(db.insertInto('webhook_deliveries').values(delivery).execute()).rejects.toThrow(/duplicate key/);
  });

  it('derives stock levels from an append-only ledger', async () => {
    const { id: skuId } = await db.insertInto('skus').values({ sku: 'S1' }).returning('id').executeTakeFirstOrThrow();
    const { id: locationId } = await db.insertInto('locations').values({ code: 'L1', name: 'One' }).returning('id').executeTakeFirstOrThrow();
    const move = (on_hand_delta: number, reserved_delta: number, reason: 'receipt' | 'reservation' | 'shipment') =>
      db.insertInto('stock_movements').values({ sku_id: skuId, location_id: locationId, on_hand_delta, reserved_delta, reason, reference: 't' }).execute();
    await move(10, 0, 'receipt');
    await move(0, 3, 'reservation');
    await move(-2, -2, 'shipment');
    const level = await db.selectFrom('stock_levels').selectAll().where('sku_id', '=', skuId).executeTakeFirstOrThrow();
    expect({ onHand: level.on_hand, reserved: level.reserved }).toEqual({ onHand: 8, reserved: 1 });

    await expect(db.updateTable('stock_movements').set({ on_hand_delta: 100 }).where('sku_id', '=', skuId).execute()).rejects.toThrow(
      /append-only/,
    );
    await expect(db.deleteFrom('stock_movements').where('sku_id', '=', skuId).execute()).rejects.toThrow(/append-only/);
    // Reserving more than exists is refused by the level's check, and the movement is not recorded.
    await expect(move(0, -5, 'reservation')).rejects.toThrow(/check constraint/);
    const { count } = await db.selectFrom('stock_movements').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    expect(Number(count)).toBe(3);
  });
});
