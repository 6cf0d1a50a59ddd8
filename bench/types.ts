/**
 * The shapes every benchmark scenario shares.
 *
 * A scenario measures a figure of the product and, beside it, a floor that
 * does not depend on the code being measured (a raw baseline run in the same
 * process, a channel's published rate limit, the cost of the cheapest query
 * by the channel's published rules). The runner prints value, floor, ratio,
 * target and whether it was met; `bench/results.json` keeps the same rows.
 */

/** What a scenario is told by the runner. */
export interface BenchContext {
  /** `--quick`: every scenario small (CI's sanity check), figures not comparable with a full run. */
  quick: boolean;
  /** Progress for a person watching a long run (stderr, never the table). */
  progress(message: string): void;
}

/** One row of the table. */
export interface BenchRow {
  /** What was measured, with its size ("shopify pull 600 orders at 100 points/s"). */
  figure: string;
  /** Null when the scenario could not produce one (not built yet): `note` says why. */
  value: number | null;
  unit: string;
  /** The floor or baseline, in the same unit; null for an absolute figure (noted as such). */
  floor: number | null;
  /** How the floor was obtained, or "none (absolute)". */
  floorWhat: string;
  /** Always value / floor; `target` says which way is good (<= for times and costs, >= for throughputs). */
  ratio: number | null;
  /** The target, in words ("ratio <= 1.10"). */
  target: string;
  /** Null when nothing was measured. */
  met: boolean | null;
  /** Absolute figures and anything a reader needs to trust the row. */
  note: string;
}

export interface Scenario {
  /** Stable id: `npm run bench -- <id>` runs it alone; the key in results.json. */
  id: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}
