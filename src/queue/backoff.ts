/**
 * How long a job waits before its next attempt. One strategy for every queue,
 * registered under a name of ours (`BACKOFF_TYPE`), because BullMQ looks a
 * job's `backoff.type` up among its builtins ('fixed', 'exponential') first
 * and only calls the worker's `settings.backoffStrategy` for a type it does
 * not know (`lookupStrategy` in bullmq's `classes/backoffs.js`): with
 * `type: 'exponential'` a channel's `Retry-After` was never seen.
 */
import type { BackoffOptions, BackoffStrategy } from 'bullmq';
import { RetryableError } from '../domain/errors.ts';

/** The backoff type every queue's jobs carry; the workers' `backoffStrategy` answers for it. */
export const BACKOFF_TYPE = 'channelsync';

/** First retry delay when a queue does not say: 2 s, doubling each attempt. */
export const DEFAULT_BACKOFF_MS = 2_000;

/** Longest exponential wait (10 min): later attempts wait this long, with jitter. */
export const MAX_BACKOFF_MS = 10 * 60_000;

/**
 * Longest wait a channel may ask for (24 h, an eBay daily quota): longer is
 * taken as a broken header, not a plan, and waits this long.
 */
export const MAX_ASKED_WAIT_MS = 24 * 3600_000;

/** The job options that select this strategy. */
export function backoffOptions(baseMs = DEFAULT_BACKOFF_MS): BackoffOptions {
  return { type: BACKOFF_TYPE, delay: baseMs };
}

/**
 * The wait before retry number `attemptsMade` (1 for the first retry):
 * exponential from `baseMs` with 50% jitter (so retries of a burst spread
 * out), never shorter than what the channel asked for
 * (`RetryableError.retryAfterMs`, from `Retry-After`).
 */
export function retryDelay(attemptsMade: number, err: unknown, baseMs = DEFAULT_BACKOFF_MS, random: () => number = Math.random): number {
  const exponential = Math.min(baseMs * 2 ** Math.max(0, attemptsMade - 1), MAX_BACKOFF_MS);
  const jittered = exponential / 2 + random() * (exponential / 2);
  const asked = err instanceof RetryableError ? Math.min(err.retryAfterMs ?? 0, MAX_ASKED_WAIT_MS) : 0;
  return Math.round(Math.max(jittered, asked));
}

/** For `WorkerOptions.settings.backoffStrategy`: the base delay comes from the job's own `backoff.delay`. */
export const backoffStrategy: BackoffStrategy = (attemptsMade, _type, err, job) => {
  const backoff = job?.opts.backoff;
  const base = typeof backoff === 'number' ? backoff : (backoff?.delay ?? DEFAULT_BACKOFF_MS);
  return retryDelay(attemptsMade, err, base);
};
