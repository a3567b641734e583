/** One figure of `npm run bench`. Timings are compared with a baseline measured in the same process run. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  /** value / baseline.value (or as the figure defines it; `goal` says which way is better). */
  ratio?: number;
  /** The target the issue names, in words, e.g. ">= 0.9 of ideal". */
  goal?: string;
  ok?: boolean;
}

export type BenchModule = { run(options: { quick: boolean }): Promise<BenchResult[]> };
