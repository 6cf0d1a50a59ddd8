import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { adjustStock, ensureLocation, levelsOutOfLedger, movementFor, recordMovements, type Movement } from '../../src/stock/ledger.ts';
import { explainSku } from '../../src/stock/explain.ts';
import { MemoryChannel, addMemoryChannel } from './memory-channel.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

async function sku(code: string): Promise<number> {
  const row = await t.app.db.insertInto('skus').values({ sku: code }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

describe('stock ledger', () => {
  it('keeps every level equal to the sum of its movements after a mixed, concurrent workload', async () => {
    const db = t.app.db;
    const locations = [await ensureLocation(db, 'MAIN'), await ensureLocation(db, 'OVERFLOW')];
    const skus = await Promise.all(['MIX-1', 'MIX-2', 'MIX-3', 'MIX-4'].map(sku));
    // Deterministic pseudo-random workload, so a failure can be replayed.
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const expected = new Map<string, { onHand: number; reserved: number }>();
    const key = (s: number, l: number) => `${s}/${l}`;
    const batches: Movement[][] = [];
    for (let b = 0; b < 40; b++) {
      const batch: Movement[] = [];
      // Batches land in any order, so a batch only releases or ships what it reserved itself.
      const ownReserved = new Map<string, number>();
      for (let i = 0; i < 10; i++) {
        const s = skus[rnd(skus.length)]!;
        const l = locations[rnd(locations.length)]!;
        const cur = expected.get(key(s, l)) ?? { onHand: 0, reserved: 0 };
        const qty = 1 + rnd(5);
        const choice = rnd(6);
        let m: Movement;
        const mine = ownReserved.get(key(s, l)) ?? 0;
        if (choice === 0 || cur.onHand - cur.reserved < qty) m = movementFor.receipt(s, l, qty + 5, `po:${b}`);
        else if (choice === 1) m = movementFor.reservation(s, l, qty, `order:${b}-${i}`);
        else if (choice === 2 && mine >= qty) m = movementFor.release(s, l, qty, `order:${b}-${i}`);
        else if (choice === 3 && mine >= qty) m = movementFor.shipment(s, l, qty, `shipment:${b}-${i}`);
        else if (choice === 4) m = movementFor.returnRestock(s, l, qty, `return:${b}-${i}`);
        else m = movementFor.damage(s, l, 1, `damage:${b}-${i}`);
        cur.onHand += m.onHand ?? 0;
        cur.reserved += m.reserved ?? 0;
        ownReserved.set(key(s, l), mine + (m.reserved ?? 0));
        expected.set(key(s, l), cur);
        batch.push(m);
      }
      batches.push(batch);
    }
    // Batches run concurrently (each in its own statement), as several workers would.
    await Promise.all(batches.map((b) => recordMovements(db, b)));
    // Concurrent counts of the same shelf: both land, the last count wins, and the ledger still adds up.
    const [s0, l0] = [skus[0]!, locations[0]!];
    await Promise.all([
      adjustStock(db, { skuId: s0, locationId: l0, mode: 'count', quantity: 500, reason: 'count', reference: 'count:a' }),
      adjustStock(db, { skuId: s0, locationId: l0, mode: 'count', quantity: 500, reason: 'count', reference: 'count:b' }),
    ]);
    expected.set(key(s0, l0), { onHand: 500, reserved: expected.get(key(s0, l0))?.reserved ?? 0 });

    expect(await levelsOutOfLedger(db)).toEqual([]);
    const levels = await db.selectFrom('stock_levels').selectAll().execute();
    const actual = new Map(levels.map((l) => [key(l.sku_id, l.location_id), { onHand: l.on_hand, reserved: l.reserved }]));
    for (const [k, v] of expected) expect(actual.get(k), k).toEqual(v);
    // Appending is the only way to change it.
    await expect(sql`UPDATE stock_movements SET on_hand_delta = 0`.execute(db)).rejects.toThrow(/append-only/);
  });

  it('explains a level movement by movement, with running totals', async () => {
    const db = t.app.db;
    const main = await ensureLocation(db, 'MAIN');
    const s = await sku('EXPLAIN-1');
    await recordMovements(db, [
      movementFor.receipt(s, main, 10, 'po:7'),
      movementFor.reservation(s, main, 3, 'order:1'),
      movementFor.shipment(s, main, 2, 'shipment:1'),
      movementFor.release(s, main, 1, 'order:1'),
    ]);
    const { delta } = await adjustStock(db, { skuId: s, locationId: main, mode: 'count', quantity: 7, reason: 'count', reference: 'count:1' });
    expect(delta).toBe(-1);
    const e = await explainSku(db, s);
    expect(e.movements.map((m) => [m.reason, m.reference, m.onHand, m.reserved])).toEqual([
      ['receipt', 'po:7', 10, 0],
      ['reservation', 'order:1', 10, 3],
      ['shipment', 'shipment:1', 8, 1],
      ['release', 'order:1', 8, 0],
      ['count', 'count:1', 7, 0],
    ]);
    expect(e.levels).toEqual([{ skuId: s, sku: 'EXPLAIN-1', location: 'MAIN', onHand: 7, reserved: 0, available: 7 }]);
  });

  it('shows each channel its rules: locations, buffer, share, maximum', async () => {
    const db = t.app.db;
    const [a, b] = [await ensureLocation(db, 'RULE-A'), await ensureLocation(db, 'RULE-B')];
    const s = await sku('RULE-1');
    await recordMovements(db, [movementFor.receipt(s, a, 20, 'po:1'), movementFor.receipt(s, b, 11, 'po:2'), movementFor.reservation(s, a, 1, 'o:1')]);
    const channel = await addMemoryChannel(t.app, new MemoryChannel('rules-shop'));
    await db.insertInto('channel_listings').values({ channel_id: channel, sku_id: s }).execute();
    const shown = async () =>
      (await db.selectFrom('channel_stock_expected').select('expected').where('channel_id', '=', channel).where('sku_id', '=', s).executeTakeFirstOrThrow()).expected;
    expect(await shown()).toBe(30); // 20 + 11 - 1
    await db.insertInto('stock_rules').values({ channel_id: channel, sku_id: null, buffer: 4, share_percent: 50 }).execute();
    expect(await shown()).toBe(13); // floor((30 - 4) * 50%)
    await db.insertInto('stock_rules').values({ channel_id: channel, sku_id: s, max_shown: 10, location_ids: [b] }).execute();
    expect(await shown()).toBe(3); // listing rule: only RULE-B (11), channel buffer and share still apply: floor(7 * 50%)
    await db.updateTable('stock_rules').set({ buffer: 0, share_percent: 100 }).where('sku_id', 'is', null).execute();
    expect(await shown()).toBe(10); // 11 capped at 10
    await recordMovements(db, [movementFor.damage(s, b, 11, 'damage:1')]);
    expect(await shown()).toBe(0);
    await recordMovements(db, [movementFor.reservation(s, b, 0 + 0, 'noop')]); // nothing to book: skipped
    await recordMovements(db, [{ skuId: s, locationId: b, onHand: -2, reason: 'adjustment', reference: 'oversold' }]);
    expect(await shown()).toBe(0); // never negative
  });
});
