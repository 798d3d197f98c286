/**
 * Command-line flags of the runner (each also readable from an environment variable):
 *   --n 100000            documents in the main run              (BENCH_N)
 *   --large-n 1000000     documents in the large run             (BENCH_LARGE_N)
 *   --no-large            skip the large run                     (BENCH_NO_LARGE=1)
 *   --large-budget-s 120  seconds of bulk insert per contender in the large run, after which it
 *                         stops at the next 100,000 and reports the reduced size (BENCH_LARGE_BUDGET_S)
 *   --only a,b            run only these contenders              (BENCH_ONLY)
 *   --seed 42             workload seed                          (BENCH_SEED)
 *   --report-only         regenerate docs/benchmarks.{md,svg} from bench/results/latest.json
 */
import { CONTENDERS } from "./contenders/registry.js";

export interface RunOptions {
  n: number;
  largeN: number | null;
  largeBudgetS: number;
  only: string[];
  seed: number;
  reportOnly: boolean;
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): RunOptions {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) throw new Error(`unexpected argument "${a}"`);
    const eq = a.indexOf("=");
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
    else if (a === "--no-large" || a === "--report-only") flags.set(a.slice(2), true);
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      flags.set(a.slice(2), v);
    }
  }
  const known = new Set(["n", "large-n", "no-large", "large-budget-s", "only", "seed", "report-only"]);
  for (const k of flags.keys()) if (!known.has(k)) throw new Error(`unknown flag --${k}`);

  const str = (flag: string, envName: string): string | undefined => {
    const v = flags.get(flag);
    return typeof v === "string" ? v : env[envName];
  };
  const int = (flag: string, envName: string, dflt: number, min: number): number => {
    const v = str(flag, envName);
    if (v === undefined) return dflt;
    const x = Number(v.replace(/_/g, ""));
    if (!Number.isInteger(x) || x < min) throw new Error(`--${flag} must be an integer >= ${min}, got "${v}"`);
    return x;
  };

  const n = int("n", "BENCH_N", 100_000, 5_000); // Below ~5000 an age range can hold fewer than 100 documents.
  const noLarge = flags.get("no-large") === true || env.BENCH_NO_LARGE === "1";
  const only = (str("only", "BENCH_ONLY") ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  for (const name of only) {
    if (!CONTENDERS.some((c) => c.name === name)) {
      throw new Error(`unknown contender "${name}" (known: ${CONTENDERS.map((c) => c.name).join(", ")})`);
    }
  }
  return {
    n,
    largeN: noLarge ? null : int("large-n", "BENCH_LARGE_N", 1_000_000, 1_000),
    largeBudgetS: int("large-budget-s", "BENCH_LARGE_BUDGET_S", 120, 1),
    only,
    seed: int("seed", "BENCH_SEED", 42, 0),
    reportOnly: flags.get("report-only") === true,
  };
}
