/**
 * `channels add` checks the store before saving: one read call against the
 * simulators, which refuse bad credentials as the real channels do. A refused
 * key exits 2 with the channel's words and saves nothing; --no-verify skips
 * the call; --help lists every kind's settings and credentials.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { runInProcess } from './helpers/in-process-cli.ts';
import { connectorFactory } from '../connectors/index.ts';
import type { ChannelSimulator } from '../connectors/types.ts';
import { registerChannelAddCommand } from '../src/channels/add.ts';
import { runCli } from './helpers/cli.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let t: TestApp;
const sims = {} as Record<'shopify' | 'woocommerce', ChannelSimulator>;
const add = (...args: string[]) => runInProcess(t.app, (p, withApp) => registerChannelAddCommand(p.command('channels'), withApp), 'channels', 'add', ...args);
const channelNames = async () => (await t.app.db.selectFrom('channels').select('name').orderBy('id').execute()).map((c) => c.name);

/** `-s k=v -c k=v` for a simulator, with `override` replacing some credentials. */
function flags(sim: ChannelSimulator, override: Record<string, string> = {}): string[] {
  const { settings, credentials } = sim.channelConfig();
  return [
    ...Object.entries(settings).flatMap(([k, v]) => ['-s', `${k}=${String(v)}`]),
    ...Object.entries({ ...credentials, ...override }).flatMap(([k, v]) => ['-c', `${k}=${String(v)}`]),
  ];
}

beforeAll(async () => {
  t = await createTestApp();
  for (const kind of ['shopify', 'woocommerce'] as const) sims[kind] = await connectorFactory(kind).simulate({ log: pino({ level: 'silent' }) });
}, 30_000);
afterAll(async () => {
  await t?.close();
  await Promise.all(Object.values(sims).map((s) => s.close()));
});

describe('channels add', () => {
  it('refuses a wrong Shopify token with Shopify\'s words and saves nothing', async () => {
    const r = await add('shopify', 'bad-shop', ...flags(sims.shopify, { accessToken: 'shpat_wrong' }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/channel not added: the store refused .*HTTP 401.*Invalid API key or access token/);
    expect(await channelNames()).toEqual([]);
  });

  it('refuses a wrong WooCommerce secret with WooCommerce\'s words and saves nothing', async () => {
    const r = await add('woocommerce', 'bad-woo', ...flags(sims.woocommerce, { consumerSecret: 'cs_wrong' }));
    expect(r.code).toBe(2);
    // Over http:// WooCommerce checks an OAuth 1.0a signature: a wrong secret is a signature that does not match.
    expect(r.stderr).toMatch(/channel not added: .*401 woocommerce_rest_authentication_error: Invalid signature - provided signature does not match/);
    expect(await channelNames()).toEqual([]);
  });

  it('saves a channel the store accepts, and says what it read', async () => {
    const shop = await add('shopify', 'good-shop', ...flags(sims.shopify));
    expect(shop.code, shop.stderr).toBe(0);
    expect(shop.stdout).toMatch(/verified: connected to Shopify shop ".+"/);
    expect(shop.stdout).toMatch(/added channel \d+ \(shopify "good-shop"\)\n/);
    const woo = await add('woocommerce', 'good-woo', ...flags(sims.woocommerce));
    expect(woo.code, woo.stderr).toBe(0);
    expect(woo.stdout).toMatch(/verified: connected to WooCommerce at http/);
    expect(await channelNames()).toEqual(['good-shop', 'good-woo']);
  });

  it('adds an Amazon seller account from -s flags (marketplaceIds as a list), refusing a revoked refresh token, with no webhook URL to set', async () => {
    const amazon = await connectorFactory('amazon').simulate({ log: pino({ level: 'silent' }) });
    try {
      const revoked = await add('amazon', 'bad-amazon', ...flags(amazon, { refreshToken: 'Atzr|revoked' }));
      expect(revoked.code).toBe(2);
      expect(revoked.stderr).toMatch(/channel not added: the store refused .*invalid_grant.*authorize the app again/);
      const r = await add('amazon', 'good-amazon', ...flags(amazon));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/verified: no listings yet in ATVPDKIKX0DER/);
      expect(r.stdout).not.toContain('webhook URL');
      const shop = await add('shopify', 'shop-with-hooks', '--no-verify', ...flags(sims.shopify));
      expect(shop.stdout).toContain('webhook URL');
    } finally {
      await amazon.close();
    }
  });

  it('adds an eBay seller account, naming a bad marketplace, an unknown setting, a missing credential and a refused refresh token', async () => {
    const ebay = await connectorFactory('ebay').simulate({ log: pino({ level: 'silent' }) });
    try {
      const badMarket = await add('ebay', 'bad-ebay', ...flags(ebay), '-s', 'marketplaceId=US');
      expect(badMarket.code).toBe(2);
      expect(badMarket.stderr).toMatch(/settings for ebay: marketplaceId: expected an eBay marketplace id such as EBAY_US/);
      const unknown = await add('ebay', 'bad-ebay', ...flags(ebay), '-s', 'region=eu');
      expect(unknown.stderr).toMatch(/settings for ebay: .*region/);
      const half = await add('ebay', 'bad-ebay', '-s', `apiUrl=${ebay.url}`, '-c', 'clientId=a', '-c', 'clientSecret=b');
      expect(half.stderr).toMatch(/credentials for ebay: missing refreshToken/);
      const revoked = await add('ebay', 'bad-ebay', ...flags(ebay, { refreshToken: 'v^1.1#revoked' }));
      expect(revoked.code).toBe(2);
      expect(revoked.stderr).toMatch(/channel not added: the store refused .*invalid_grant.*reconnect the account/);
      // Scopes as one comma-separated -s value.
      const scopes = ['sell.fulfillment', 'sell.inventory', 'commerce.notification.subscription'].map((x) => `https://api.ebay.com/oauth/api_scope/${x}`).join(',');
      const r = await add('ebay', 'good-ebay', ...flags(ebay), '-s', `scopes=${scopes}`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/verified: \d+ orders in the last 90 days; scopes sell.fulfillment, sell.inventory, commerce.notification.subscription/);
      expect(r.stdout).toContain('webhook URL');
      expect(await channelNames()).toContain('good-ebay');
      expect(await channelNames()).not.toContain('bad-ebay');
    } finally {
      await ebay.close();
    }
  });

  it('with --no-verify saves without asking the store', async () => {
    const r = await add('woocommerce', 'unchecked-woo', '--no-verify', ...flags(sims.woocommerce, { consumerSecret: 'cs_wrong' }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('not verified against the store');
    expect(r.stdout).not.toContain('verified:');
    expect(await channelNames()).toContain('unchecked-woo');
  });

  it('names a missing setting or credential, and lists them all in --help', async () => {
    const noDomain = await add('shopify', 'x', '-c', 'accessToken=a', '-c', 'apiSecretKey=b');
    expect(noDomain.stderr).toMatch(/settings for shopify: missing shopDomain/);
    const half = await add('shopify', 'x', '-s', 'shopDomain=a.myshopify.com', '-c', 'accessToken=a');
    expect(half.stderr).toMatch(/credentials for shopify: missing apiSecretKey \(give accessToken and apiSecretKey, or clientId and clientSecret\)/);
    const woo = await add('woocommerce', 'x', '-s', 'url=https://shop.example', '-c', 'consumerKey=ck');
    expect(woo.stderr).toMatch(/credentials for woocommerce: missing consumerSecret, webhookSecret/);

    const help = await add('--help');
    expect(help.stdout).toContain('--no-verify');
    expect(help.stdout).toMatch(/shopify \(Shopify\)\n\s+settings:\s+shopDomain \(required\), apiVersion \(default \d{4}-\d{2}\)/);
    expect(help.stdout).toMatch(/credentials: accessToken \(required\), apiSecretKey \(required\)\n\s+or clientId \(required\), clientSecret \(required\)/);
    expect(help.stdout).toMatch(/woocommerce \(WooCommerce\)\n\s+settings:\s+url \(required\)/);
    expect(help.stdout).toMatch(/consumerKey \(required\), consumerSecret \(required\), webhookSecret \(required\)/);
    expect(await channelNames()).not.toContain('x');
  });
});

describe('channels add, credentials kept out of ps and shell history', () => {
  const settingsFlags = (sim: ChannelSimulator) => Object.entries(sim.channelConfig().settings).flatMap(([k, v]) => ['-s', `${k}=${String(v)}`]);

  it('reads them from a JSON file (--credentials-file), through the real command line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-creds-'));
    const file = join(dir, 'woo.json');
    writeFileSync(file, JSON.stringify(sims.woocommerce.channelConfig().credentials), { mode: 0o600 });
    const args = ['channels', 'add', 'woocommerce', 'file-woo', ...settingsFlags(sims.woocommerce), '--credentials-file', file];
    const r = await runCli(args, t.env);
    expect(r.code, r.stderr).toBe(0);
    // Verified against the store: the secret arrived, and it was never on the command line.
    expect(r.stdout).toMatch(/verified: connected to WooCommerce/);
    expect(args.join(' ')).not.toContain(String(sims.woocommerce.channelConfig().credentials.consumerSecret));
    expect(await channelNames()).toContain('file-woo');
  }, 60_000);

  it('reads them from standard input as key=value lines (--credentials-stdin)', async () => {
    const lines = Object.entries(sims.shopify.channelConfig().credentials).map(([k, v]) => `${k}=${String(v)}`).join('\n');
    const r = await runCli(['channels', 'add', 'shopify', 'stdin-shop', ...settingsFlags(sims.shopify), '--credentials-stdin'], t.env, 60_000, `# from a vault\n${lines}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/verified: connected to Shopify shop/);
    expect(await channelNames()).toContain('stdin-shop');
  }, 60_000);

  it('refuses an unreadable or malformed source clearly, without echoing it, and saves nothing', async () => {
    const missing = await add('woocommerce', 'bad-file', ...settingsFlags(sims.woocommerce), '--credentials-file', '/nonexistent/creds.json');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read --credentials-file \/nonexistent\/creds\.json: ENOENT/);
    const dir = mkdtempSync(join(tmpdir(), 'cs-creds-'));
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"consumerKey": "ck_secret_value", ');
    const broken = await add('woocommerce', 'bad-json', ...settingsFlags(sims.woocommerce), '--credentials-file', file);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/not valid JSON/);
    expect(broken.stderr).not.toContain('ck_secret_value');
    expect(await channelNames()).not.toContain('bad-file');
    expect(await channelNames()).not.toContain('bad-json');
  });
});
