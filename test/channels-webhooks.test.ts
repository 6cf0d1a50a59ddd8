/**
 * Registering webhooks checks that they arrive: `channels add
 * --register-webhooks` and `channels webhooks <channel>` against both
 * simulators, with channelsync's HTTP server listening at PUBLIC_URL
 * (http://127.0.0.2:<port>, which a stock WordPress and real Shopify refuse).
 * 127.0.0.2, not 127.0.0.1: the simulated store is on 127.0.0.1, and WordPress
 * does not apply its private-host rule to the site's own host.
 */
import { createServer, type AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { runInProcess } from './helpers/in-process-cli.ts';
import { connectorFactory } from '../connectors/index.ts';
import type { ChannelSimulator } from '../connectors/types.ts';
import type { WooCommerceSimulator } from '../connectors/woocommerce/simulator/index.ts';
import { registerChannelAddCommand } from '../src/channels/add.ts';
import { registerChannelWebhooksCommand } from '../src/channels/webhooks.ts';
import { buildServer } from '../src/server/index.ts';

let t: TestApp;
let server: FastifyInstance;
let port = 0;
const HOST = '127.0.0.2';
const sims: ChannelSimulator[] = [];
const cli = (...args: string[]) =>
  runInProcess(t.app, (p, withApp) => {
    const channels = p.command('channels');
    registerChannelAddCommand(channels, withApp);
    registerChannelWebhooksCommand(channels, withApp);
  }, 'channels', ...args);

function flags(sim: ChannelSimulator): string[] {
  const { settings, credentials } = sim.channelConfig();
  return [
    ...Object.entries(settings).flatMap(([k, v]) => ['-s', `${k}=${String(v)}`]),
    ...Object.entries(credentials).flatMap(([k, v]) => ['-c', `${k}=${String(v)}`]),
  ];
}

async function simulate(kind: 'shopify' | 'woocommerce', allowLocalWebhooks: boolean) {
  const sim = await connectorFactory(kind).simulate({ allowLocalWebhooks, log: pino({ level: 'silent' }) });
  sims.push(sim);
  return sim;
}

async function listen(): Promise<void> {
  server = await buildServer(t.app);
  await server.listen({ port, host: HOST });
}

const pingsOf = async (channel: string) =>
  t.app.db.selectFrom('webhook_deliveries').innerJoin('channels', 'channels.id', 'webhook_deliveries.channel_id')
    .select('delivery_key').where('channels.name', '=', channel).where('topic', '=', 'ping').execute();

beforeAll(async () => {
  // A free port first: PUBLIC_URL is read once, when the app is made.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, HOST, r));
  port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  t = await createTestApp({ PUBLIC_URL: `http://${HOST}:${port}` });
}, 30_000);
afterAll(async () => {
  await server?.close();
  await Promise.all(sims.map((s) => s.close()));
  await t?.close();
});

describe('webhook registration checks delivery', () => {
  it('WooCommerce while channelsync is not running: says nothing answers, and the check passes once it runs', async () => {
    const sim = await simulate('woocommerce', true);
    const r = await cli('add', 'woocommerce', 'woo-early', ...flags(sim), '--register-webhooks');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/channel \d+ was added, but webhooks do not reach channelsync/);
    expect(r.stderr).toMatch(/test delivery \(ping\) did not arrive/);
    expect(r.stderr).toMatch(/nothing answers at http:\/\/127\.0\.0\.2:\d+\/webhooks\/\d+ from this machine .*channelsync start/);

    await listen();
    // The pings never got a 200, so WooCommerce pings again when the webhooks are saved.
    const again = await cli('webhooks', 'woo-early');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/test delivery \(ping\) arrived at channelsync for webhooks 1, 2, 3\n/);
    expect(again.stdout).toMatch(/note: a stock WordPress would refuse this address/);
    expect((await pingsOf('woo-early')).map((p) => p.delivery_key).sort()).toEqual(['ping:1', 'ping:2', 'ping:3']);
    expect((sim as WooCommerceSimulator).state.webhooks.size).toBe(3);
  });

  it('WooCommerce on a stock WordPress: a private PUBLIC_URL at a high port is named as the rule broken, exit 2', async () => {
    const sim = (await simulate('woocommerce', false)) as WooCommerceSimulator;
    const r = await cli('add', 'woocommerce', 'woo-stock', ...flags(sim), '--register-webhooks');
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/webhooks registered at http:\/\/127\.0\.0\.2:\d+\/webhooks\/\d+:\n  1 order\.created: active, new\n/);
    expect(r.stderr).toMatch(/test delivery \(ping\) did not arrive at channelsync for webhooks 1, 2, 3/);
    expect(r.stderr).toMatch(/channelsync's webhook route answers at http:\/\/127\.0\.0\.2:\d+\/webhooks\/\d+ \(checked from this machine\)/);
    expect(r.stderr).toMatch(/PUBLIC_URL \(http:\/\/127\.0\.0\.2:\d+\) breaks WordPress's rule for webhook addresses: the host 127\.0\.0\.2 is a private address \(127\.0\.0\.0\/8, loopback\).*; port \d+: WordPress sends webhooks only to ports 80, 443, 8080/);
    expect(r.stderr).toMatch(/PUBLIC_URL must be the public https:\/\/ address of this channelsync \(port 443, or 80\/8080\)/);
    // WordPress refused both the first pings and the ones asked for again.
    expect(sim.deliveryLog.filter((l) => l.topic === 'ping' && l.responseMessage.endsWith('A valid URL was not provided.'))).toHaveLength(6);
    expect(await pingsOf('woo-stock')).toEqual([]);
  });

  it('WooCommerce that can reach PUBLIC_URL: reports that the ping arrived', async () => {
    const sim = await simulate('woocommerce', true);
    const r = await cli('add', 'woocommerce', 'woo-good', ...flags(sim), '--register-webhooks');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/test delivery \(ping\) arrived at channelsync for webhooks 1, 2, 3/);
    expect(r.stdout).toMatch(/\n  1 order\.created: active, new\n  2 order\.updated: active, new\n  3 order\.deleted: active, new\n/);
    expect(await pingsOf('woo-good')).toHaveLength(3);

    // WooCommerce gave up on one after failed deliveries: the check turns it back on and says so.
    (sim as WooCommerceSimulator).state.webhooks.get(2)!.status = 'disabled';
    const again = await cli('webhooks', 'woo-good');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/\n  2 order\.updated: active, was disabled \(the store disables a webhook after repeated failed deliveries\)\n/);
    expect(again.stdout).toMatch(/\n  1 order\.created: active\n/);
    expect((sim as WooCommerceSimulator).state.webhooks.size).toBe(3);
  });

  it("Shopify refuses http:// with Shopify's words, and the rule is named", async () => {
    const sim = await simulate('shopify', false);
    const r = await cli('add', 'shopify', 'shop-strict', ...flags(sim), '--register-webhooks');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/channel \d+ was added, but webhooks not registered: Shopify refused the ORDERS_CREATE webhook: Address protocol http:\/\/ is not supported/);
    expect(r.stderr).toMatch(/it starts with http:\/\/: Shopify takes only https:\/\/ webhook addresses/);
    expect(r.stderr).toMatch(/the host 127\.0\.0\.2 is a loopback address: Shopify cannot reach it/);
  });

  it("Shopify that accepts the address: says so, and that channelsync's route answers at PUBLIC_URL", async () => {
    const sim = await simulate('shopify', true);
    const r = await cli('add', 'shopify', 'shop-local', ...flags(sim), '--register-webhooks');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/the channel accepted every subscription \(it sends no test delivery\)/);
    expect(r.stdout).toMatch(/channelsync's webhook route answers at http:\/\/127\.0\.0\.2:\d+\/webhooks\/\d+ \(checked from this machine\)/);
  });

  it('stores at most 100 unsigned pings per channel, so forged ones cannot fill the table', async () => {
    const channel = await t.app.db.selectFrom('channels').select('id').where('name', '=', 'woo-good').executeTakeFirstOrThrow();
    // One at a time: the cap is counted, not locked, so concurrent pings may pass it by a few.
    for (let id = 1000; id < 1110; id++) {
      const r = await fetch(`http://${HOST}:${port}/webhooks/${channel.id}`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `webhook_id=${id}`,
      });
      expect(r.status).toBe(200);
    }
    expect(await pingsOf('woo-good')).toHaveLength(100);
  });
});
