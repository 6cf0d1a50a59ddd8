/**
 * Shopify's leaky bucket for calculated query cost.
 *
 * Docs: https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
 * A request is refused (THROTTLED) when its requested cost exceeds what is
 * currently available; otherwise the requested cost is taken and the
 * difference to the actual cost is refunded after execution.
 */
export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

export class LeakyBucket {
  private available: number;
  private last: number;

  /**
   * @param bucketSize points the bucket holds (default 1000, Shopify's standard plan)
   * @param restoreRate points restored per second (default 100)
   */
  constructor(
    private bucketSize = 1000,
    private restoreRate = 100,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.available = bucketSize;
    this.last = now();
  }

  /**
   * Move the shop to another plan's limits (Shopify: Standard 100 points/s,
   * Advanced 200, Plus 1000). What is in the bucket is kept, up to the new size;
   * clients see the change in the next `throttleStatus`.
   */
  setLimits(bucketSize: number, restoreRate: number): void {
    this.refill();
    this.bucketSize = bucketSize;
    this.restoreRate = restoreRate;
    this.available = Math.min(this.available, bucketSize);
  }

  private refill(): void {
    const t = this.now();
    this.available = Math.min(this.bucketSize, this.available + ((t - this.last) / 1000) * this.restoreRate);
    this.last = t;
  }

  /** Take `cost` points if available; false means the request is throttled. */
  take(cost: number): boolean {
    this.refill();
    if (cost > this.available) return false;
    this.available -= cost;
    return true;
  }

  /** Give back points taken but not spent (requested minus actual cost). */
  refund(points: number): void {
    this.refill();
    this.available = Math.min(this.bucketSize, this.available + Math.max(0, points));
  }

  /** Empty or fill the bucket (tests). */
  set(points: number): void {
    this.refill();
    this.available = Math.max(0, Math.min(this.bucketSize, points));
  }

  status(): ThrottleStatus {
    this.refill();
    return {
      maximumAvailable: this.bucketSize,
      // Shopify reports whole points.
      currentlyAvailable: Math.floor(this.available),
      restoreRate: this.restoreRate,
    };
  }
}
