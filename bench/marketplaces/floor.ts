/**
 * The rate-limit floor of a marketplace pull, from the channel's published
 * token buckets alone (never from the calls a connector made): a bucket of
 * `burst` requests, full at the start (an account at rest), refilling `rate`
 * a second, serves n calls at the earliest at t = 0 for the first `burst`
 * and then one every 1/rate: the n-th call at max(0, n - burst) / rate.
 * Operations have buckets of their own, so a pull that needs calls of several
 * operations takes at least as long as its slowest operation's schedule.
 */

export interface BucketRate {
  /** Requests per second restored. */
  rate: number;
  /** Requests the bucket holds when full. */
  burst: number;
}

/** Seconds until the n-th call of one operation may be sent, starting from a full bucket. */
export function bucketSeconds(calls: number, { rate, burst }: BucketRate): number {
  if (!Number.isInteger(calls) || calls < 0) throw new RangeError(`calls must be a whole number >= 0, got ${calls}`);
  if (!(rate > 0) || !(burst >= 1)) throw new RangeError(`a bucket needs rate > 0 and burst >= 1, got ${rate}/${burst}`);
  return Math.max(0, calls - burst) / rate;
}

export interface PullFloor {
  seconds: number;
  /** The operation whose schedule sets the floor. */
  dominant: string;
  /** Minimal calls per operation. */
  calls: Record<string, number>;
  totalCalls: number;
}

/** The floor of a pull that needs `calls[op]` calls of each operation, with those operations' buckets. */
export function pullFloor(calls: Record<string, number>, limits: Record<string, BucketRate>): PullFloor {
  let seconds = 0;
  let dominant = '';
  let totalCalls = 0;
  for (const [op, n] of Object.entries(calls)) {
    const limit = limits[op];
    if (!limit) throw new Error(`no published limit for ${op}`);
    const s = bucketSeconds(n, limit);
    if (!dominant || s > seconds) [seconds, dominant] = [s, op];
    totalCalls += n;
  }
  return { seconds, dominant, calls, totalCalls };
}

/** Every rate multiplied by one factor, bursts unchanged (a bench that runs the channel's clock faster). */
export function scaleRates<K extends string>(limits: Record<K, BucketRate>, factor: number): Record<K, BucketRate> {
  if (!(factor > 0)) throw new RangeError(`scale must be > 0, got ${factor}`);
  return Object.fromEntries(Object.entries<BucketRate>(limits).map(([op, l]) => [op, { rate: l.rate * factor, burst: l.burst }])) as Record<K, BucketRate>;
}
