/** One place that opens Redis connections, so every part uses the same options. */
import { Redis } from 'ioredis';
import { withTimeout } from '../domain/async.ts';

export { withTimeout };

/**
 * A connection for BullMQ workers and queues: `maxRetriesPerRequest: null` is
 * what BullMQ requires so that blocking commands survive reconnects.
 */
export function createRedis(url: string, options: { lazy?: boolean } = {}): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    lazyConnect: options.lazy ?? false,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  // Errors surface through the commands that fail; an unhandled 'error' event must not crash the daemon.
  redis.on('error', () => {});
  return redis;
}

/**
 * Longest an HTTP request waits on Redis (`createRequestRedis`, the webhook
 * enqueue, the login limiter, `/metrics`). Shopify gives a webhook 5 s;
 * WooCommerce disables one after repeated failures.
 */
export const REQUEST_REDIS_TIMEOUT_MS = 250;

/**
 * A connection for the HTTP request path, which must answer whether Redis is
 * up or not. `createRedis`'s connection (BullMQ's) queues commands while Redis
 * is away and retries them for ever (`maxRetriesPerRequest: null`, the
 * offline queue), so a caller on it waits until Redis is back. This one has no
 * offline queue (a command while disconnected fails at once), one retry, and
 * a command timeout, so a caller learns within `REQUEST_REDIS_TIMEOUT_MS`
 * that Redis is not there and answers from what it has.
 */
export function createRequestRedis(url: string): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: REQUEST_REDIS_TIMEOUT_MS,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  redis.on('error', () => {});
  return redis;
}

/** PING with a deadline, for health checks. */
export async function pingRedis(url: string, timeoutMs = 2_000): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await withTimeout(redis.connect().then(() => redis.ping()), timeoutMs, 'redis');
  } finally {
    redis.disconnect();
  }
}

