/**
 * The eBay client against the eBay simulator, with real Redis for the shared
 * token and daily budgets: tokens shared and renewed after a 401,
 * invalid_grant pausing the channel, a spent daily quota waiting for its reset,
 * a missing scope named, filters percent-encoded.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EbayAuthError, EbayClient, EbayRequestError, type EbayClientOptions } from '../../../connectors/ebay/client.ts';
import { EbaySimulator, SCOPE_BASE, startEbaySimulator } from '../../../connectors/ebay/simulator/index.ts';
import { ChannelPausedError, RetryableError } from '../../../src/domain/errors.ts';
import { RedisRateBudget, RedisSharedKV } from '../../../src/queue/shared-state.ts';
import { REDIS_URL, testPrefix } from '../../helpers/services.ts';

const redis = new Redis(REDIS_URL);
afterAll(() => redis.disconnect());

const SCOPES = ['sell.fulfillment', 'sell.inventory'].map((s) => `${SCOPE_BASE}/${s}`);

function clientFor(sim: EbaySimulator, prefix: string, over: Partial<EbayClientOptions> = {}): EbayClient {
  const { settings, credentials } = sim.channelConfig() as { settings: { apiUrl: string }; credentials: { clientId: string; clientSecret: string; refreshToken: string } };
  return new EbayClient({
    apiUrl: settings.apiUrl,
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
    refreshToken: credentials.refreshToken,
    scopes: SCOPES,
    channelId: 7,
    appDailyCalls: 100_000,
    userDailyCalls: 100_000,
    kv: new RedisSharedKV(redis, prefix),
    budget: new RedisRateBudget(redis, prefix),
    log: pino({ level: 'silent' }),
    ...over,
  });
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => null,
    (e: unknown) => e as Error,
  );
  expect(err).toBeInstanceOf(Error);
  return err!;
}

describe('eBay client', () => {
  let sim: EbaySimulator;
  let keys: ReturnType<typeof testPrefix>;
  beforeEach(async () => {
    sim = await startEbaySimulator();
    keys = testPrefix();
    await sim.createProduct({ sku: 'MUG', title: 'Mug', price: '12.50', stock: 5 });
  });
  afterEach(async () => {
    await sim.close();
    await keys.cleanup();
  });

  it('mints one user token for every process, and a new one after a 401', async () => {
    const a = clientFor(sim, keys.prefix);
    const b = clientFor(sim, keys.prefix);
    await a.call('GET', '/sell/fulfillment/v1/order', { api: 'sell.fulfillment' });
    await b.call('GET', '/sell/fulfillment/v1/order', { api: 'sell.fulfillment' });
    expect(sim.stats.tokenGrants).toBe(1);
    // The token dies early (revoked, clock skew): eBay answers 401 1001 and the client renews it once.
    sim.expireTokens();
    const res = await a.call<{ total: number }>('GET', '/sell/fulfillment/v1/order', { api: 'sell.fulfillment' });
    expect(res.status).toBe(200);
    expect(sim.stats.tokenGrants).toBe(2);
  });

  it('invalid_grant pauses the channel with "reconnect the account", through the context; nothing more is sent', async () => {
    const paused: string[] = [];
    const client = clientFor(sim, keys.prefix, { pauseChannel: async (reason) => void paused.push(reason) });
    sim.revoke('REVOKED_BY_USER');
    const err = await failure(client.call('GET', '/sell/fulfillment/v1/order', { api: 'sell.fulfillment' }));
    expect(err).toBeInstanceOf(EbayAuthError);
    expect(err.message).toMatch(/invalid_grant.*reconnect the account/);
    expect(paused).toEqual([err.message]);
    const calls = sim.stats.calls;
    const grants = sim.stats.tokenGrants;
    const again = await failure(client.call('GET', '/sell/fulfillment/v1/order', { api: 'sell.fulfillment' }));
    expect(again).toBeInstanceOf(ChannelPausedError);
    expect(again.message).toMatch(/paused: .*reconnect the account/);
    expect([sim.stats.calls, sim.stats.tokenGrants]).toEqual([calls, grants]);
  });

  it('a spent daily quota (429 2001) is retried when eBay says it resets', async () => {
    await sim.close();
    sim = await startEbaySimulator({ dailyCalls: 2 });
    const client = clientFor(sim, keys.prefix);
    await client.call('GET', '/sell/fulfillment/v1/order', { api: 'sell.fulfillment' });
    await client.call('GET', '/sell/fulfillment/v1/order', { api: 'sell.fulfillment' });
    const err = await failure(client.call('GET', '/sell/fulfillment/v1/order', { api: 'sell.fulfillment' }));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.message).toMatch(/2001 Too many requests/);
    const now = new Date();
    const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
    const wait = (err as RetryableError).retryAfterMs!;
    expect(Math.abs(Date.now() + wait - midnight)).toBeLessThan(60_000);
    expect(sim.stats.throttled).toBe(1);
  });

  it('a daily budget that is spent makes no call at all', async () => {
    const client = clientFor(sim, keys.prefix, { userDailyCalls: 1 });
    await client.call('GET', '/sell/fulfillment/v1/order', { api: 'sell.fulfillment' });
    const calls = sim.stats.calls;
    const err = await failure(client.call('GET', '/sell/fulfillment/v1/order', { api: 'sell.fulfillment' }));
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).retryAfterMs).toBeGreaterThan(30_000);
    expect(sim.stats.calls).toBe(calls);
  });

  it("a call the seller's budget refuses gives the app's call back: another seller of the app still gets it", async () => {
    const client = clientFor(sim, keys.prefix, { appDailyCalls: 2, userDailyCalls: 1 });
    await client.call('GET', '/sell/fulfillment/v1/order', { api: 'sell.fulfillment' });
    expect(await failure(client.call('GET', '/sell/fulfillment/v1/order', { api: 'sell.fulfillment' }))).toBeInstanceOf(RetryableError);
    // Same app (same app bucket), another channel: the app's second call of the day is still there.
    const other = clientFor(sim, keys.prefix, { appDailyCalls: 2, userDailyCalls: 1, channelId: 8 });
    expect((await other.call('GET', '/sell/fulfillment/v1/order', { api: 'sell.fulfillment' })).status).toBe(200);
  });

  it('names the scope a 403 1100 lacks', async () => {
    await sim.close();
    sim = await startEbaySimulator({ grantedScopes: [`${SCOPE_BASE}/sell.inventory`] });
    const client = clientFor(sim, keys.prefix, { scopes: [`${SCOPE_BASE}/sell.inventory`] });
    const err = await failure(client.call('GET', '/sell/fulfillment/v1/order', { api: 'sell.fulfillment' }));
    expect(err).toBeInstanceOf(EbayAuthError);
    expect(err.message).toContain('1100 Access denied');
    expect(err.message).toContain(`${SCOPE_BASE}/sell.fulfillment`);
  });

  it('percent-encodes filters; sent raw, eBay refuses them with 30800', async () => {
    const client = clientFor(sim, keys.prefix);
    const since = new Date(Date.now() - 3600_000).toISOString();
    const ok = await client.call<{ total: number }>('GET', '/sell/fulfillment/v1/order', { query: { filter: `lastmodifieddate:[${since}..]` }, api: 'sell.fulfillment' });
    expect(ok.status).toBe(200);
    const token = JSON.parse(JSON.stringify(await tokenOf(sim)));
    const raw = await fetch(`${sim.url}/sell/fulfillment/v1/order?filter=lastmodifieddate:[${since}..]`, { headers: { authorization: `Bearer ${token}` } });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { errors: Array<{ errorId: number }> }).errors[0]!.errorId).toBe(30800);
  });

  it('maps eBay error bodies to permanent errors with their ids', async () => {
    const client = clientFor(sim, keys.prefix);
    const err = await failure(client.call('GET', '/sell/fulfillment/v1/order', { query: { limit: 201 }, api: 'sell.fulfillment' }));
    expect(err).toBeInstanceOf(EbayRequestError);
    expect((err as EbayRequestError).errorIds).toEqual([31100]);
    expect(err.message).toContain('31100 Invalid limit: 201');
  });

  it('fetches the simulator public key with an application token', async () => {
    const client = clientFor(sim, keys.prefix);
    const key = await client.publicKeys.getPublicKey(sim.keyId);
    expect(key).toMatchObject({ algorithm: 'ECDSA', digest: 'SHA1' });
    expect(await client.publicKeys.getPublicKey('00000000-0000-0000-0000-000000000000')).toBeNull();
  });
});

/** A user token minted straight from the simulator's token endpoint. */
async function tokenOf(sim: EbaySimulator): Promise<string> {
  const res = await fetch(`${sim.url}/identity/v1/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${sim.clientId}:${sim.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: sim.refreshToken, scope: SCOPES.join(' ') }).toString(),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}
