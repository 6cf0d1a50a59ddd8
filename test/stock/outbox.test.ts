/**
 * A stock change and the pushes it owes commit together: the outbox rows are
 * written in the change's own transaction, so a crash right after the commit
 * (nothing after it runs) still leaves every channel owed its push, and a
 * rolled-back change owes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { book } from '../../src/fulfilment/ledger.ts';
import { ensureLocation, movementFor, recordMovements } from '../../src/stock/ledger.ts';
import { MemoryChannel, addMemoryChannel } from './memory-channel.ts';

let t: TestApp;
let location: number;
let shops: number[];

beforeAll(async () => {
  t = await createTestApp();
  location = await ensureLocation(t.app.db, 'MAIN');
  shops = [await addMemoryChannel(t.app, new MemoryChannel('a')), await addMemoryChannel(t.app, new MemoryChannel('b'))];
});
afterAll(() => t?.close());

async function listedSku(code: string): Promise<number> {
  const { id } = await t.app.db.insertInto('skus').values({ sku: code }).returning('id').executeTakeFirstOrThrow();
  await t.app.db.insertInto('channel_listings').values(shops.map((c) => ({ channel_id: c, sku_id: id }))).execute();
  return id;
}

async function owed(code: string): Promise<Array<{ channel_id: number; status: string }>> {
  return t.app.db.selectFrom('channel_pushes').select(['channel_id', 'status']).where('kind', '=', 'stock').where('target', '=', code).orderBy('channel_id').execute();
}

describe('stock outbox', () => {
  it('owes every listing channel a push in the transaction that books the movement, with nothing run after the commit', async () => {
    const id = await listedSku('OUT-1');
    // What allocation does inside its transaction; the process "dies" right after the commit.
    await t.app.db.transaction().execute((trx) =>
      book(trx, [{ skuId: id, locationId: location, quantity: 2, reason: 'reservation', reference: 'order:1', actor: 'test' }]),
    );
    expect(await owed('OUT-1')).toEqual(shops.map((c) => ({ channel_id: c, status: 'pending' })));
  });

  it('owes nothing when the change is rolled back', async () => {
    const id = await listedSku('OUT-2');
    await expect(
      t.app.db.transaction().execute(async (trx) => {
        await recordMovements(trx, [movementFor.receipt(id, location, 5, 'po:1')]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await owed('OUT-2')).toEqual([]);
  });

  it('re-owes a push that was done when the stock changes again, and a rule change owes its channel only', async () => {
    const id = await listedSku('OUT-3');
    await recordMovements(t.app.db, [movementFor.receipt(id, location, 5, 'po:2')]);
    await t.app.db.updateTable('channel_pushes').set({ status: 'done' }).where('target', '=', 'OUT-3').execute();
    await sql`INSERT INTO stock_rules (channel_id, sku_id, buffer) VALUES (${shops[0]!}, ${id}, 1)`.execute(t.app.db);
    expect(await owed('OUT-3')).toEqual([
      { channel_id: shops[0]!, status: 'pending' },
      { channel_id: shops[1]!, status: 'done' },
    ]);
    await recordMovements(t.app.db, [movementFor.damage(id, location, 1, 'count:1')]);
    expect((await owed('OUT-3')).map((p) => p.status)).toEqual(['pending', 'pending']);
  });

  it('owes pushes for what a location holds when it is switched off', async () => {
    const id = await listedSku('OUT-4');
    const other = await ensureLocation(t.app.db, 'SIDE');
    await recordMovements(t.app.db, [movementFor.receipt(id, other, 3, 'po:3')]);
    await t.app.db.updateTable('channel_pushes').set({ status: 'done' }).where('target', '=', 'OUT-4').execute();
    await t.app.db.updateTable('locations').set({ active: false }).where('id', '=', other).execute();
    expect((await owed('OUT-4')).map((p) => p.status)).toEqual(['pending', 'pending']);
  });
});
