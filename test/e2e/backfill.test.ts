import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { connectorFactory } from '../../connectors/index.ts';
import type { ChannelSimulator } from '../../connectors/types.ts';
import { addChannel } from '../../src/db/channels.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { runCli } from '../helpers/cli.ts';

let t: TestApp;
let shopify: ChannelSimulator;
let woo: ChannelSimulator;

beforeAll(async () => {
  t = await createTestApp();
  shopify = await connectorFactory('shopify').simulate({ orders: 120, log: pino({ level: 'silent' }) });
  woo = await connectorFactory('woocommerce').simulate({ log: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await shopify?.close();
  await woo?.close();
  await t?.close();
});

describe('channelsync backfill', () => {
  it('imports a shop history through the bulk export, and again changes nothing', async () => {
    const { settings, credentials } = shopify.channelConfig();
    const id = await addChannel(t.app.db, t.app.config.secretKey!, { kind: 'shopify', name: 'history', settings, credentials });
    const first = await runCli(['backfill', 'history', '--since', '2000-01-01'], { ...t.env, LOG_LEVEL: 'warn' }, 60_000);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/backfill done in [\d.]+ s: 120 orders, 120 new, 0 updated/);
    const { n } = await t.app.db.selectFrom('orders').select((eb) => eb.fn.countAll<number>().as('n')).where('channel_id', '=', id).executeTakeFirstOrThrow();
    expect(Number(n)).toBe(120);

    const again = await runCli(['backfill', String(id), '--since', '2000-01-01'], { ...t.env, LOG_LEVEL: 'warn' }, 60_000);
    expect(again.stdout).toMatch(/120 orders, 0 new, 0 updated, 120 unchanged/);
  });

  it('says so for a channel without a bulk export, and refuses a bad date', async () => {
    const { settings, credentials } = woo.channelConfig();
    await addChannel(t.app.db, t.app.config.secretKey!, { kind: 'woocommerce', name: 'woo-history', settings, credentials });
    const none = await runCli(['backfill', 'woo-history', '--since', '2025-01-01'], t.env);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/woocommerce channels have no bulk export; "channelsync sync \d+" pulls their history/);
    const bad = await runCli(['backfill', 'woo-history', '--since', 'last tuesday'], t.env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/must be a date like 2025-01-31/);
  });
});
