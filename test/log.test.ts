/**
 * A channel error logged whole (`log.error({ err }, ...)`, as the admin API's
 * error handler and the daemon's shutdown do) does not carry the channel's
 * credentials into the log: the real WooCommerce library's error holds the
 * request (its OAuth parameters, or its Basic `auth`).
 */
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import WooCommerceRestApiModule from '@woocommerce/woocommerce-rest-api';
import { connectorFactory } from '../connectors/index.ts';
import { createLogger } from '../src/log.ts';

const sims: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  for (const s of sims) await s.close();
});

describe('logged errors', () => {
  it('keep message, cause and stack but never the request credentials', async () => {
    const sim = await connectorFactory('woocommerce').simulate({ log: pino({ level: 'silent' }) });
    sims.push(sim);
    const { consumerKey, consumerSecret } = sim.channelConfig().credentials as { consumerKey: string; consumerSecret: string };
    const Api = ((WooCommerceRestApiModule as unknown as { default?: unknown }).default ?? WooCommerceRestApiModule) as new (o: object) => {
      get(path: string): Promise<unknown>;
    };
    // A request that fails in the library itself (connection refused): its error object holds the request.
    const api = new Api({ url: 'http://127.0.0.1:1', consumerKey, consumerSecret, version: 'wc/v3', timeout: 2_000 });
    const failure = await api.get('orders').then(() => null, (err: unknown) => err);
    expect(failure).toBeInstanceOf(Error);
    // Over http the library signs with OAuth 1.0a: the consumer key travels in the query (over https, Basic with the secret).
    expect(JSON.stringify(failure)).toContain(consumerKey); // what pino used to copy into the line

    let out = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((out += chunk), done()) });
    const captured = createLogger('debug', 'channelsync', sink);
    captured.error({ err: new Error('WooCommerce orders list failed', { cause: failure }) }, 'admin API error');
    captured.error({ err: failure }, 'shutdown failed');
    expect(out).toContain('WooCommerce orders list failed');
    expect(out).toContain('ECONNREFUSED');
    expect(out).not.toContain(consumerSecret);
    expect(out).not.toContain(consumerKey);
    expect(out).not.toContain(Buffer.from(`${consumerKey}:${consumerSecret}`).toString('base64'));
  });
});
