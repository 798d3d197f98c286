/**
 * What a contender's child prints (one JSON line on stdout) and what bench/results/latest.json
 * holds. Metric values are plain numbers in the unit of their row (see report/rows.ts).
 */

/** Metrics of the main run (phases 1-12). */
export interface MainMetrics {
  bulkInsert?: number; // docs/s
  singleInsert?: number; // docs/s
  getById?: number; // ops/s
  lookupEmail?: number; // ops/s
  ageRange?: number; // queries/s
  update?: number; // ops/s
  delete?: number; // ops/s
  reopenMs?: number; // ms, median of 3
  syncedInsert?: number; // docs/s
  diskBytes?: number;
  peakRssBytes?: number;
  loopP99Ms?: number;
  loopMaxMs?: number;
}

export interface MainResult {
  kind: "main";
  contender: string;
  ok: boolean;
  /** "phase: message" when ok is false. */
  error?: string;
  seed: number;
  n: number;
  metrics: MainMetrics;
  /** Details stated in the report: reopen cycles, synced inserts done, event-loop samples. */
  details: Record<string, number | number[] | string>;
}

export interface LargeMetrics {
  bulkInsert?: number; // docs/s
  getById?: number; // ops/s
  diskBytes?: number;
  peakRssBytes?: number;
}

export interface LargeResult {
  kind: "large";
  contender: string;
  ok: boolean;
  error?: string;
  seed: number;
  /** Documents asked for. */
  requestedN: number;
  /** Documents inserted (less than requested when the time budget ran out). */
  n: number;
  metrics: LargeMetrics;
  details: Record<string, number | number[] | string>;
}

export type ChildResult = MainResult | LargeResult;

export interface Machine {
  cpu: string;
  cores: number;
  ramBytes: number;
  node: string;
  os: string;
}

export interface RunFile {
  /** ISO time the run finished. */
  date: string;
  seed: number;
  n: number;
  largeN: number | null;
  largeBudgetS: number;
  machine: Machine;
  /** Load averages (1, 5, 15 min) when the run started and ended. */
  loadAverage: { start: number[]; end: number[] };
  /** Package versions by npm name ("lsmdoc" with the commit when known). */
  versions: Record<string, string>;
  main: MainResult[];
  large: LargeResult[];
}
