import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';

describe('config', () => {
  it('has defaults that work with the local services', () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/channelsync');
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.port).toBe(3000);
    expect(config.queuePrefix).toBe('{channelsync}');
    expect(config.secretKey).toBeNull();
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    [{ PORT: 'abc' }, /^PORT must be a whole number from 0 to 65535 \(got "abc"\)$/],
    [{ PORT: '70000' }, /^PORT must be a whole number/],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL must be a URL starting with postgres:\/\/ or postgresql:\/\//],
    [{ REDIS_URL: 'nope' }, /^REDIS_URL must be a URL/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL /],
    [{ WORKER_CONCURRENCY: '0' }, /^WORKER_CONCURRENCY must be a whole number from 1 to 1000/],
    [{ QUEUE_PREFIX: 'a b' }, /^QUEUE_PREFIX may hold only/],
    [{ TRUST_PROXY: 'yes' }, /^TRUST_PROXY must be true, false, a number of proxy hops, or the proxies' addresses/],
    [{ TRUST_PROXY: '10.0.0.0/33' }, /^TRUST_PROXY must be/],
    [{ TRUST_PROXY: '10.0.0.1,proxy.local' }, /^TRUST_PROXY must be/],
  ])('refuses %j with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('reads TRUST_PROXY as a switch, a hop count or a list of proxy addresses', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1,loopback' }).trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1', '::1', 'loopback']);
  });

  it('never echoes a bad secret key, and says how to make one', () => {
    let message = '';
    try {
      loadConfig({ CHANNELSYNC_SECRET_KEY: 'short-secret-value' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^CHANNELSYNC_SECRET_KEY must be 32 random bytes/);
    expect(message).toContain('openssl rand -hex 32');
    expect(message).not.toContain('short-secret-value');
  });

  it('accepts a key as hex or base64, and treats empty variables as unset', () => {
    const hex = 'ab'.repeat(32);
    expect(loadConfig({ CHANNELSYNC_SECRET_KEY: hex }).secretKey).toEqual(Buffer.from(hex, 'hex'));
    const b64 = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ CHANNELSYNC_SECRET_KEY: b64 }).secretKey).toEqual(Buffer.alloc(32, 7));
    expect(loadConfig({ PORT: '' }).port).toBe(3000);
  });
});
