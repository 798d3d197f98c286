/**
 * The rows of the report tables, how lsmdoc is compared on each (ratio > 1 = lsmdoc better), and
 * the targets of the benchmark issue:
 *   bulk insert >= 1.5x best peer; single insert and update >= 1.2x best peer;
 *   synced concurrent insert >= 2x best peer; get by id, lookup, range >= 1.0x lmdb-js;
 *   disk <= LevelDB's; reopen <= 10 ms.
 */
import type { LargeMetrics, MainMetrics } from "../results.js";

export type Unit = "ops" | "ms" | "bytes";

export type Target =
  | { kind: "peer"; ref: "best" | string; min: number } // ratio vs best peer or vs one contender
  | { kind: "max"; value: number }; // absolute upper bound on lsmdoc's value

export interface Row<K extends string> {
  key: K;
  label: string;
  unit: Unit;
  /** Per-second rows are better higher; ms and bytes rows lower. */
  higherIsBetter: boolean;
  target?: Target;
}

export const MAIN_ROWS: Row<keyof MainMetrics>[] = [
  { key: "bulkInsert", label: "1. insert, batches of 1000 (docs/s)", unit: "ops", higherIsBetter: true, target: { kind: "peer", ref: "best", min: 1.5 } },
  { key: "singleInsert", label: "2. insert, one at a time (docs/s)", unit: "ops", higherIsBetter: true, target: { kind: "peer", ref: "best", min: 1.2 } },
  { key: "getById", label: "3. get by id (ops/s)", unit: "ops", higherIsBetter: true, target: { kind: "peer", ref: "lmdb", min: 1.0 } },
  { key: "lookupEmail", label: "4. lookup by unique email (ops/s)", unit: "ops", higherIsBetter: true, target: { kind: "peer", ref: "lmdb", min: 1.0 } },
  { key: "ageRange", label: "5. age range, limit 100 (queries/s)", unit: "ops", higherIsBetter: true, target: { kind: "peer", ref: "lmdb", min: 1.0 } },
  { key: "update", label: "6. update one field (ops/s)", unit: "ops", higherIsBetter: true, target: { kind: "peer", ref: "best", min: 1.2 } },
  { key: "delete", label: "7. delete by id (ops/s)", unit: "ops", higherIsBetter: true },
  { key: "reopenMs", label: "8. close + reopen + 1 read (ms, median of 3)", unit: "ms", higherIsBetter: false, target: { kind: "max", value: 10 } },
  { key: "syncedInsert", label: "9. synced inserts, 32 concurrent writers (docs/s)", unit: "ops", higherIsBetter: true, target: { kind: "peer", ref: "best", min: 2.0 } },
  { key: "diskBytes", label: "10. disk after the run", unit: "bytes", higherIsBetter: false, target: { kind: "peer", ref: "leveldb", min: 1.0 } },
  { key: "peakRssBytes", label: "11. peak RSS", unit: "bytes", higherIsBetter: false },
  { key: "loopP99Ms", label: "12. event-loop delay p99, worst write phase (ms)", unit: "ms", higherIsBetter: false },
  { key: "loopMaxMs", label: "12. event-loop delay max, write phases (ms)", unit: "ms", higherIsBetter: false },
];

export const LARGE_ROWS: Row<keyof LargeMetrics>[] = [
  { key: "bulkInsert", label: "insert, batches of 1000 (docs/s)", unit: "ops", higherIsBetter: true },
  { key: "getById", label: "get by id, 100,000 random (ops/s)", unit: "ops", higherIsBetter: true },
  { key: "diskBytes", label: "disk after close", unit: "bytes", higherIsBetter: false },
  { key: "peakRssBytes", label: "peak RSS", unit: "bytes", higherIsBetter: false },
];

/** lsmdoc compared with `other` so that > 1 means lsmdoc is better. */
export function ratio(lsmdoc: number, other: number, higherIsBetter: boolean): number {
  return higherIsBetter ? lsmdoc / other : other / lsmdoc;
}

export interface Comparison {
  /** lsmdoc / best peer, oriented (> 1 = lsmdoc better). */
  vsBest?: { ratio: number; peer: string };
  /** For targets against one contender (lmdb-js, LevelDB). */
  vsRef?: { ratio: number; peer: string };
  /** Target text and whether it is met; undefined when the row has no target. */
  target?: { text: string; met: boolean | undefined };
}

/**
 * Compares lsmdoc with the peers on one row. `values` holds only passed contenders; `labels`
 * names contenders for the text.
 */
export function compare(row: Row<string>, values: Map<string, number>, labels: Map<string, string>): Comparison {
  const out: Comparison = {};
  const mine = values.get("lsmdoc");
  let best: [string, number] | undefined;
  for (const [name, v] of values) {
    if (name === "lsmdoc") continue;
    if (best === undefined || (row.higherIsBetter ? v > best[1] : v < best[1])) best = [name, v];
  }
  if (mine !== undefined && best !== undefined) out.vsBest = { ratio: ratio(mine, best[1], row.higherIsBetter), peer: best[0] };
  const t = row.target;
  if (t === undefined) return out;
  if (t.kind === "max") {
    out.target = { text: `≤ ${t.value} ms`, met: mine === undefined ? undefined : mine <= t.value };
    return out;
  }
  const refName = t.ref === "best" ? best?.[0] : t.ref;
  const refLabel = t.ref === "best" ? "best peer" : (labels.get(t.ref) ?? t.ref);
  const refValue = refName === undefined ? undefined : values.get(refName);
  const text = row.higherIsBetter ? `≥ ${t.min.toFixed(1)}× ${refLabel}` : `≤ ${refLabel}'s`;
  if (mine === undefined || refValue === undefined || refName === undefined) {
    out.target = { text, met: undefined };
    return out;
  }
  const r = ratio(mine, refValue, row.higherIsBetter);
  if (t.ref !== "best") out.vsRef = { ratio: r, peer: refName };
  out.target = { text, met: r >= t.min };
  return out;
}
