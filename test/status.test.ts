/**
 * `channelsync status` is a table a person reads: per channel its kind,
 * whether it is enabled, when it last synced and how long ago, its orders,
 * pending and failed pushes, and its last error (cut short in the table, in
 * full below it); no raw cursor JSON.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ago, statusLines } from '../src/status.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { runCli } from './helpers/cli.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('channelsync status', () => {
  it('prints one aligned row per channel, with how long ago and pending/failed pushes', async () => {
    const db = t.app.db;
    const [shop, woo] = await db
      .insertInto('channels')
      .values([
        { kind: 'shopify', name: 'main-shop', credentials_encrypted: 'x' },
        { kind: 'woocommerce', name: 'outlet', credentials_encrypted: 'x', enabled: false },
      ])
      .returning('id')
      .execute();
    const longError = 'Shopify answered 401 Unauthorized: [API] Invalid API key or access token (unrecognized login or wrong password)';
    await db
      .insertInto('sync_cursors')
      .values({ channel_id: shop!.id, resource: 'orders', cursor: '{"updatedAtMin":"2026-11-30T10:00:00Z","afterId":"gid://shopify/Order/42"}', last_synced_at: sql<Date>`now() - interval '5 minutes'`, last_error: longError })
      .execute();
    await db
      .insertInto('channel_pushes')
      .values([
        { channel_id: shop!.id, kind: 'stock', target: 'MUG', status: 'pending' },
        { channel_id: shop!.id, kind: 'stock', target: 'CAP', status: 'pending' },
        { channel_id: shop!.id, kind: 'fulfillment', target: '7', status: 'failed' },
        { channel_id: shop!.id, kind: 'stock', target: 'TEE', status: 'done' },
      ])
      .execute();
    await db
      .insertInto('rejected_orders')
      .values([
        { channel_id: shop!.id, external_id: 'gid://shopify/Order/1', source: 'poll', reason: 'quantity out of range', raw: '{}' },
        { channel_id: shop!.id, external_id: 'gid://shopify/Order/2', source: 'webhook', reason: 'quantity out of range', raw: '{}' },
      ])
      .execute();

    const { code, stdout, stderr } = await runCli(['status'], t.env);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^id\s+channel\s+kind\s+enabled\s+last synced \(UTC\)\s+ago\s+orders\s+pushes pending\/failed\s+failed webhooks\s+rejected orders\s+last error$/);
    const shopRow = lines.find((l) => l.includes('main-shop'))!;
    expect(shopRow).toMatch(/main-shop\s+shopify\s+yes\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+5 min ago\s+0\s+2\/1\s+0\s+2\s+Shopify answered 401 Unauthorized/);
    const wooRow = lines.find((l) => l.includes('outlet'))!;
    expect(wooRow).toMatch(/outlet\s+woocommerce\s+no\s+never\s+-\s+0\s+0\/0\s+0\s+0\s+-$/);
    // Columns line up: every row's "ago" starts where the header's does.
    const col = lines[0]!.indexOf('ago');
    expect(shopRow.slice(col).startsWith('5 min ago')).toBe(true);
    expect(wooRow.slice(col).startsWith('-')).toBe(true);
    // The full error is there once, below the table; the cursor is not printed at all.
    expect(stdout).toContain(`main-shop: ${longError}`);
    expect(stdout).not.toContain('updatedAtMin');
    expect(stdout).toMatch(/failed jobs \(for good, waiting for a person\): sync-orders 0/);
  });

  it('says how long ago in the unit a person would', () => {
    const now = new Date('2026-12-01T12:00:00Z');
    const before = (s: number) => new Date(now.getTime() - s * 1000);
    expect([null, before(2), before(42), before(300), before(3 * 3600), before(3 * 86_400)].map((d) => ago(d, now))).toEqual(['-', 'just now', '42 s ago', '5 min ago', '3 h ago', '3 d ago']);
    expect(statusLines([], now)[0]).toMatch(/^no channels yet/);
  });
});
