/**
 * A merchant's first day: a live store is connected, its listings imported and
 * reconciled. Without stock in channelsync nothing on the store may go down;
 * with --import-stock the store's quantities become the opening stock.
 * Through the CLI commands (in process) against both channel simulators.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { runInProcess } from '../helpers/in-process-cli.ts';
import { connectorFactory } from '../../connectors/index.ts';
import type { ChannelSimulator } from '../../connectors/types.ts';
import { addChannel } from '../../src/db/channels.ts';
import { requireSecretKey } from '../../src/config.ts';
import { registerStockCommands } from '../../src/stock/cli.ts';
import { runPush } from '../../jobs/channel-push.ts';

const KINDS = ['shopify', 'woocommerce'] as const;
const STORE = [
  { sku: 'FD-MUG', stock: 12 },
  { sku: 'FD-CAP', stock: 3 },
  { sku: 'FD-TEE', stock: 0 },
];

let t: TestApp;
const sims = {} as Record<(typeof KINDS)[number], ChannelSimulator>;
const ids = {} as Record<(typeof KINDS)[number], number>;
const cli = (...args: string[]) => runInProcess(t.app, registerStockCommands, ...args);

/** What each store shows for every SKU it lists (its own seed included). */
async function storeStock(kind: (typeof KINDS)[number]): Promise<Map<string, number | null>> {
  const skus = await t.app.db.selectFrom('channel_listings').innerJoin('skus', 'skus.id', 'channel_listings.sku_id')
    .select('skus.sku').where('channel_id', '=', ids[kind]).execute();
  return new Map(await Promise.all(skus.map(async ({ sku }) => [sku, await sims[kind].stockOf(sku)] as const)));
}

beforeAll(async () => {
  t = await createTestApp();
  for (const kind of KINDS) {
    sims[kind] = await connectorFactory(kind).simulate({ log: pino({ level: 'silent' }), rateLimit: { restoreRate: 1_000_000, bucketSize: 1_000_000 } });
    for (const p of STORE) await sims[kind].createProduct({ sku: p.sku, title: p.sku, price: '9.00', stock: p.stock });
    const { settings, credentials } = sims[kind].channelConfig();
    ids[kind] = await addChannel(t.app.db, requireSecretKey(t.app.config), { kind, name: `live-${kind}`, settings, credentials });
  }
}, 60_000);
afterAll(async () => {
  await t?.close();
  await Promise.all(Object.values(sims).map((s) => s.close()));
});

describe('connecting a live store', () => {
  it('imports listings without stock and then reconciles without lowering anything on the stores', async () => {
    const before = { shopify: new Map(), woocommerce: new Map() } as Record<(typeof KINDS)[number], Map<string, number | null>>;
    for (const kind of KINDS) {
      const r = await cli('listings', 'sync', String(ids[kind]));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/stock was not imported: \d+ listed SKUs have no stock in channelsync, so nothing is pushed/);
      before[kind] = await storeStock(kind);
      expect(before[kind].get('FD-MUG')).toBe(12);
    }
    // What the daemon does after any change (here a rule that touches every listing), and the scheduled reconcile.
    await sql`INSERT INTO stock_rules (channel_id, buffer) VALUES (${ids.shopify}, 0)`.execute(t.app.db);
    await sql`DELETE FROM stock_rules`.execute(t.app.db);
    expect(await t.app.db.selectFrom('channel_pushes').select('id').execute()).toEqual([]);
    const r = await cli('reconcile', '--now');
    expect(r.code, r.stderr).toBe(0);
    for (const kind of KINDS) {
      expect(r.stdout).toMatch(new RegExp(`channel ${ids[kind]}: ${before[kind].size} listings, 0 drifted, 0 corrected, ${before[kind].size} not initialised`));
      expect(await storeStock(kind), kind).toEqual(before[kind]);
    }
    // A stock push owed from before (an older version, a rule change) completes without sending anything.
    const [left] = await t.app.db.insertInto('channel_pushes').values({ channel_id: ids.shopify, kind: 'stock', target: 'FD-MUG' }).returning('id').execute();
    expect(await runPush(t.app, { pushId: left!.id })).toEqual({ outcome: 'done' });
    expect(await sims.shopify.stockOf('FD-MUG')).toBe(12);
    const drift = await cli('stock', 'drift');
    expect(drift.stdout).toContain('no drift recorded');
    expect(drift.stdout).toMatch(/\d+ listings not initialised/);
    expect((await cli('stock', 'show')).stdout).toContain('no stock recorded yet');
  });

  it('with --import-stock, shows the store\'s quantities as stock and reconciles to no drift', async () => {
    const shopify = await cli('listings', 'sync', String(ids.shopify), '--import-stock');
    expect(shopify.code, shopify.stderr).toBe(0);
    // No location existed yet: the default one is created and named.
    expect(shopify.stdout).toContain('created the default location "MAIN"');
    expect(shopify.stdout).toMatch(/opening stock: \d+ SKUs set to the channel's quantity at MAIN/);
    expect(shopify.stdout).not.toContain('stock was not imported');

    // The same SKUs on WooCommerce already have stock now (from Shopify): kept, not booked twice.
    const woo = await cli('listings', 'sync', String(ids.woocommerce), '--import-stock');
    expect(woo.stdout).toMatch(/3 already had stock in channelsync/);

    const show = await cli('stock', 'show', ...STORE.map((p) => p.sku));
    for (const p of STORE) expect(show.stdout).toMatch(new RegExp(`^${p.sku}\\s+MAIN\\s+${p.stock}\\s+0\\s+${p.stock}$`, 'm'));
    const movements = await t.app.db.selectFrom('stock_movements').select(['reason']).distinct().execute();
    expect(movements).toEqual([{ reason: 'opening_balance' }]);

    const before = { shopify: await storeStock('shopify'), woocommerce: await storeStock('woocommerce') };
    const r = await cli('reconcile', '--now');
    for (const kind of KINDS) expect(await storeStock(kind), kind).toEqual(before[kind]);
    expect(r.stdout).toMatch(new RegExp(`channel ${ids.shopify}: \\d+ listings, 0 drifted, 0 corrected \\(`));
  });
});
