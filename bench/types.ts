/** One figure a benchmark reports: its value, and the baseline measured in the same run. */
export interface BenchResult {
  name: string;
  value: number;
  baseline: number;
  unit: string;
  /** What the baseline is, and the target. */
  note: string;
}

export type Bench = () => Promise<BenchResult[]>;
