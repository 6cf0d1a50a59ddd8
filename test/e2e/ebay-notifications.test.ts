/**
 * eBay notifications through channelsync's HTTP server and webhooks job, with the
 * eBay simulator delivering: the endpoint challenge answered (the simulator only
 * registers a destination whose answer matches), an order topic verified and
 * acted on by fetching the order, unsigned, forged and re-serialised deliveries
 * refused with 4xx and not stored, and AUTHORIZATION_REVOCATION pausing the
 * channel in Postgres: its jobs give up saying what to do, the dashboard and
 * `status` show it, and only `channels credentials` (reconnecting) resumes it.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ebayFactory } from '../../connectors/ebay/index.ts';
import type { EbaySimulator } from '../../connectors/ebay/simulator/index.ts';
import { addChannel } from '../../src/db/channels.ts';
import { registerChannelCredentialsCommand } from '../../src/channels/credentials.ts';
import { ChannelPausedError } from '../../src/domain/errors.ts';
import { declareSchedules } from '../../src/queue/schedules.ts';
import { startWorkers } from '../../src/queue/workers.ts';
import { statusLines, type ChannelStatus } from '../../src/status.ts';
import { buildServer } from '../../src/server/index.ts';
import { processDelivery } from '../../jobs/webhooks.ts';
import { syncOrdersJob } from '../../jobs/sync-orders.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { runInProcess } from '../helpers/in-process-cli.ts';
import { expectExchangesValid } from '../connectors/ebay/spec-schemas.ts';

const HOST = '127.0.0.1';
const ADMIN = 'ebay-notifications-admin-token-0123456789';
const dashboard = async () => (await server.inject({ url: '/admin', headers: { authorization: `Bearer ${ADMIN}` } })).body;
let t: TestApp;
let server: FastifyInstance;
let sim: EbaySimulator;
let channelId: number;
let hookUrl: string;

beforeAll(async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, HOST, r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  t = await createTestApp({ PUBLIC_URL: `http://${HOST}:${port}`, ADMIN_TOKEN: ADMIN });
  sim = (await ebayFactory.simulate({ log: pino({ level: 'silent' }), allowLocalWebhooks: true })) as EbaySimulator;
  await sim.createProduct({ sku: 'NOTE-MUG', title: 'Mug', price: '9.99', stock: 100 });
  const { settings, credentials } = sim.channelConfig();
  channelId = await addChannel(t.app.db, t.app.config.secretKey!, { kind: 'ebay', name: 'ebay-notes', settings, credentials });
  server = await buildServer(t.app);
  await server.listen({ port, host: HOST });
  hookUrl = `http://${HOST}:${port}/webhooks/${channelId}`;
});
afterAll(async () => {
  await sim?.close();
  await server?.close();
  await t?.close();
});

const deliveries = () => t.app.db.selectFrom('webhook_deliveries').selectAll().where('channel_id', '=', channelId).orderBy('id').execute();

async function post(body: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(hookUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return res.status;
}

describe('eBay notifications end to end', () => {
  it('registers a destination (its challenge answered by the route) and the subscriptions, once however often asked', async () => {
    const { connector } = await t.app.connectors.get(channelId);
    const ids = await connector.registerWebhooks!(hookUrl);
    expect(await connector.registerWebhooks!(hookUrl)).toEqual(ids);
    expect(sim.endpointRegistered(hookUrl)).toBe(true);
    expect((await connector.listWebhooks!(hookUrl)).map((w) => [w.topic, w.status]).sort()).toEqual([
      ['AUTHORIZATION_REVOCATION', 'active'],
      ['ORDER_CONFIRMATION', 'active'],
    ]);
    expect(await connector.checkWebhookAddress!(hookUrl)).toEqual(['eBay delivers notifications over HTTPS only', '127.0.0.1 is a loopback address: eBay cannot reach it']);
    const res = await fetch(`${hookUrl}?challenge_code=abc`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual({ challengeResponse: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await fetch(hookUrl)).status).toBe(400);
  });

  it('shows the seller\'s remaining daily quota on the dashboard, read in the background from getUserRateLimits', async () => {
    await dashboard();
    await expect
      .poll(dashboard, { timeout: 10_000 })
      .toMatch(/eBay daily quota: this seller: fulfillment [\d,]+ of 50,000 calls left \(resets [\d-]+ 00:00 UTC\); inventory [\d,]+ of 50,000 calls left [^|]*\| the app \(shared by its channels\): fulfillment [\d,]+ of 50,000/);
    // The seller's counter is the simulator's own: what eBay says, not a number channelsync made up.
    const left = Number(/this seller: fulfillment ([\d,]+) of/.exec(await dashboard())![1]!.replace(/,/g, ''));
    expect(left).toBeLessThan(50_000);
    expect(left).toBeGreaterThan(50_000 - sim.stats.calls - 1);
  });

  it('an order notification is verified, stored once and re-fetched from the API', async () => {
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'NOTE-MUG', quantity: 2 }] });
    await sim.settle();
    const rows = await deliveries();
    expect(rows.map((r) => r.topic)).toEqual(['ORDER_CONFIRMATION']);
    const outcome = await processDelivery(t.app, { deliveryId: rows[0]!.id });
    expect(outcome.outcome).toBe('inserted');
    const order = await t.app.db.selectFrom('orders').select(['total', 'external_id']).where('channel_id', '=', channelId).executeTakeFirstOrThrow();
    expect(order).toEqual({ external_id: externalId, total: '19.9800' });
  });

  it('refuses unsigned, forged and re-serialised deliveries with 401 and stores none of them', async () => {
    const before = (await deliveries()).length;
    const { body, signature } = sim.signedDelivery('ORDER_CONFIRMATION', { orderId: 'x' });
    expect(await post(body, {})).toBe(401);
    const pretty = JSON.stringify(JSON.parse(body), null, 2);
    expect(await post(pretty, { 'x-ebay-signature': signature })).toBe(401);
    const forged = body.replace('"orderId":"x"', '"orderId":"y"');
    expect(await post(forged, { 'x-ebay-signature': signature })).toBe(401);
    expect(await post(body, { 'x-ebay-signature': 'bm90IGpzb24=' })).toBe(401);
    expect((await deliveries()).length).toBe(before);
    // The genuine one is accepted, and a redelivery of it is stored once.
    expect(await post(body, { 'x-ebay-signature': signature })).toBe(200);
    expect(await post(body, { 'x-ebay-signature': signature })).toBe(200);
    expect((await deliveries()).length).toBe(before + 1);
  });

  it('AUTHORIZATION_REVOCATION pauses the channel in Postgres: jobs give up saying what to do, the dashboard and status show it', async () => {
    const { connector: before } = await t.app.connectors.get(channelId);
    sim.revoke('REVOKED_BY_USER');
    await sim.settle();
    const row = (await deliveries()).at(-1)!;
    expect(row.topic).toBe('AUTHORIZATION_REVOCATION');
    const outcome = await processDelivery(t.app, { deliveryId: row.id });
    expect(outcome.outcome).toMatch(/channel paused: .*REVOKED_BY_USER.*reconnect the account/);
    const channel = await t.app.db.selectFrom('channels').select(['paused_at', 'paused_reason']).where('id', '=', channelId).executeTakeFirstOrThrow();
    expect(channel.paused_at).toBeInstanceOf(Date);
    expect(channel.paused_reason).toMatch(/revoked channelsync's access on eBay \(REVOKED_BY_USER/);
    // The connector that learnt it sends nothing more; every other job is refused before it builds one.
    const calls = sim.stats.calls;
    await expect(before.fetchOrder('anything')).rejects.toThrow(/paused: .*reconnect the account/);
    expect(sim.stats.calls).toBe(calls);
    const advice = new RegExp(`channel ${channelId} is paused since .*REVOKED_BY_USER.*reconnect the account: channelsync channels credentials ${channelId} --credentials-stdin`);
    await expect(t.app.connectors.get(channelId)).rejects.toThrow(ChannelPausedError);
    await expect(t.app.connectors.get(channelId)).rejects.toThrow(advice);

    // A sync job through the real worker gives up at once, recorded for a person in job_failures.
    const workers = startWorkers(t.app, [syncOrdersJob], 1);
    try {
      await t.app.queues.get('sync-orders').add('sync', { channelId }, { jobId: `paused-sync-${channelId}`, attempts: 5 });
      await expect
        .poll(async () => (await t.app.db.selectFrom('job_failures').select(['error', 'attempts']).where('job_id', '=', `paused-sync-${channelId}`).executeTakeFirst()) ?? null, { timeout: 15_000 })
        .toMatchObject({ error: expect.stringMatching(advice), attempts: 1 });
    } finally {
      await workers.close(5_000);
    }
    expect(sim.stats.calls).toBe(calls);
    // Not polled while paused: its schedule is gone until the pause ends.
    await declareSchedules(t.app);
    expect((await t.app.queues.get('sync-orders').getJobSchedulers()).map((j) => j.key)).not.toContain(`sync.${channelId}`);

    // The dashboard shows the channel as paused, with what to do.
    const html = await dashboard();
    expect(html).toMatch(new RegExp(`data-channel="${channelId}">[\\s\\S]*?<span class="bad">paused</span>[\\s\\S]*?reconnect the account: channelsync channels credentials ${channelId} --credentials-stdin`));
    // And so does `channelsync status`, from the same row.
    const status = await t.app.db.selectFrom('channels').select(['id', 'name', 'kind', 'enabled', 'paused_at', 'paused_reason']).where('id', '=', channelId).executeTakeFirstOrThrow();
    const lines = statusLines([{ ...status, last_synced_at: null, last_error: null, orders: 0, pending_pushes: 0, failed_pushes: 0, failed_webhooks: 0, rejected_orders: 0 } as ChannelStatus], new Date());
    expect(lines[2]).toMatch(/ebay-notes\s+ebay\s+paused/);
    expect(lines.join('\n')).toMatch(advice);
  });

  it('nothing resumes a paused channel but new credentials; `channels credentials` checks and saves them and ends the pause', async () => {
    const cli = (...args: string[]) => runInProcess(t.app, (program, withApp) => registerChannelCredentialsCommand(program.command('channels'), withApp), 'channels', ...args);
    // The old refresh token is refused by eBay: nothing is saved, the pause stays.
    const refused = await cli('credentials', String(channelId), '-c', `refreshToken=${sim.channelConfig().credentials.refreshToken as string}`);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/credentials not changed: the store refused them: .*invalid_grant/);
    await expect(t.app.connectors.get(channelId)).rejects.toThrow(ChannelPausedError);
    // A bad value is named, with no call to eBay.
    const empty = await cli('credentials', String(channelId), '-c', 'refreshToken=');
    expect(empty.stderr).toMatch(/credentials for ebay: refreshToken/);

    const fresh = sim.grantAgain();
    const ok = await cli('credentials', String(channelId), '-c', `refreshToken=${fresh}`);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/verified: .*\n.*credentials replaced\nthe pause since .* has ended \(the seller revoked/);
    const { connector } = await t.app.connectors.get(channelId);
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'NOTE-MUG', quantity: 1 }] });
    expect((await connector.fetchOrder(externalId))?.externalId).toBe(externalId);
    expect(await dashboard()).not.toMatch(/<span class="bad">paused<\/span>/);
    await declareSchedules(t.app);
    expect((await t.app.queues.get('sync-orders').getJobSchedulers()).map((j) => j.key)).toContain(`sync.${channelId}`);
  });

  it('every Notification API exchange validates against commerce_notification_v1.5.1_oas3.yaml', () => {
    const checked = expectExchangesValid(sim.exchanges, [
      ['POST', /^\/commerce\/notification\/v1\/destination$/, 'notification', 'DestinationRequest', null],
      ['GET', /^\/commerce\/notification\/v1\/destination$/, 'notification', null, 'DestinationSearchResponse'],
      ['POST', /^\/commerce\/notification\/v1\/subscription$/, 'notification', 'CreateSubscriptionRequest', null],
      ['GET', /^\/commerce\/notification\/v1\/subscription$/, 'notification', null, 'SubscriptionSearchResponse'],
      ['GET', /^\/commerce\/notification\/v1\/public_key\/[^/]+$/, 'notification', null, 'PublicKey'],
    ]);
    expect(checked.size).toBe(5);
  });
});
