/**
 * Shopify's leaky bucket for calculated query cost.
 *
 * Docs: https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
 * A request is refused (THROTTLED) when its requested cost exceeds what is
 * currently available; otherwise the requested cost is taken and the
 * difference to the actual cost is refunded after execution.
 */
/**
 * Each plan's bucket: the restore rates are the documented ones (Standard
 * 100 points/s, Advanced 200, Plus 1000, Commerce Components 2000); the
 * bucket holds 20 seconds of restore, as the real `throttleStatus` readings
 * show (`maximumAvailable: 2000, restoreRate: 100` on the standard
 * development store of ../shared/fixtures/shopify/captures).
 */
export const PLAN_LIMITS = {
  standard: { bucketSize: 2000, restoreRate: 100 },
  advanced: { bucketSize: 4000, restoreRate: 200 },
  plus: { bucketSize: 20_000, restoreRate: 1000 },
  enterprise: { bucketSize: 40_000, restoreRate: 2000 },
} as const;

export type ShopifyPlan = keyof typeof PLAN_LIMITS;

export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

export class LeakyBucket {
  private available: number;
  private last: number;

  /**
   * @param bucketSize points the bucket holds (default 2000, Shopify's standard plan)
   * @param restoreRate points restored per second (default 100)
   */
  constructor(
    private bucketSize: number = PLAN_LIMITS.standard.bucketSize,
    private restoreRate: number = PLAN_LIMITS.standard.restoreRate,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.available = bucketSize;
    this.last = now();
  }

  /**
   * Move the shop to other limits (`PLAN_LIMITS[plan]` for a plan's). What is
   * in the bucket is kept, up to the new size; clients see the change in the
   * next `throttleStatus`.
   */
  setLimits(bucketSize: number, restoreRate: number): void {
    this.refill();
    this.bucketSize = bucketSize;
    this.restoreRate = restoreRate;
    this.available = Math.min(this.available, bucketSize);
  }

  /** Move the shop to a plan's documented limits. */
  setPlan(plan: ShopifyPlan): void {
    this.setLimits(PLAN_LIMITS[plan].bucketSize, PLAN_LIMITS[plan].restoreRate);
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
