/**
 * The peer benchmark's runner: one child process per contender and run (main, then large), never
 * two at once; collects each child's JSON result, writes bench/results/latest.json and regenerates
 * docs/benchmarks.md and docs/benchmarks.svg from it. Exits non-zero when any contender failed.
 * Flags: see options.ts. `npm run bench` builds everything and runs this.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CONTENDERS, type ContenderInfo } from "./contenders/registry.js";
import { loadAverage, machine, versions } from "./environment.js";
import { parseOptions, type RunOptions } from "./options.js";
import { writeReport } from "./report/write.js";
import type { ChildResult, LargeResult, MainResult, RunFile } from "./results.js";

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, "..", "..");
const RESULTS = join(ROOT, "bench", "results", "latest.json");
const DATA = join(ROOT, "bench", "data");
/** A child running longer than this is killed and reported as failed. */
const CHILD_TIMEOUT_MS = 15 * 60_000;

function runChild(info: ContenderInfo, config: Record<string, unknown>): Promise<ChildResult> {
  const kind = config.kind as "main" | "large";
  return new Promise((resolve) => {
    const started = Date.now();
    // A larger heap for the in-memory peers' million-document run; the same flag for everyone.
    const child = spawn(process.execPath, ["--max-old-space-size=8192", join(here, "contender.js"), info.name, JSON.stringify(config)], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (s: string) => (out += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split("\n").pop() ?? "";
      let result: ChildResult | undefined;
      try {
        result = JSON.parse(last) as ChildResult;
      } catch {
        result = undefined;
      }
      if (result === undefined) {
        const why = signal !== null ? `killed by ${signal}${Date.now() - started >= CHILD_TIMEOUT_MS ? " (timeout)" : ""}` : `exited with code ${code} without a result`;
        const seed = config.seed as number;
        const failed = { contender: info.name, ok: false, error: `child ${why} (seed ${seed})`, seed, metrics: {}, details: {} };
        result = kind === "main"
          ? { ...failed, kind: "main", n: config.n as number }
          : { ...failed, kind: "large", requestedN: config.n as number, n: 0 };
      }
      resolve(result);
    });
  });
}

async function run(opts: RunOptions): Promise<number> {
  const selected = opts.only.length > 0 ? CONTENDERS.filter((c) => opts.only.includes(c.name)) : [...CONTENDERS];
  const loadStart = loadAverage();
  mkdirSync(DATA, { recursive: true });
  const main: MainResult[] = [];
  const large: LargeResult[] = [];
  for (const info of selected) {
    process.stderr.write(`main run: ${info.name} (n=${opts.n}, seed=${opts.seed})\n`);
    const r = await runChild(info, { kind: "main", seed: opts.seed, n: opts.n, dir: join(DATA, `${info.name}-main`) });
    main.push(r as MainResult);
    process.stderr.write(`  -> ${r.ok ? "ok" : `FAILED: ${r.error}`}\n`);
  }
  if (opts.largeN !== null) {
    for (const info of selected) {
      process.stderr.write(`large run: ${info.name} (n=${opts.largeN})\n`);
      const r = await runChild(info, { kind: "large", seed: opts.seed, n: opts.largeN, dir: join(DATA, `${info.name}-large`), budgetS: opts.largeBudgetS });
      large.push(r as LargeResult);
      process.stderr.write(`  -> ${r.ok ? "ok" : `FAILED: ${r.error}`}\n`);
    }
  }
  const file: RunFile = {
    date: new Date().toISOString(),
    seed: opts.seed,
    n: opts.n,
    largeN: opts.largeN,
    largeBudgetS: opts.largeBudgetS,
    machine: machine(),
    loadAverage: { start: loadStart, end: loadAverage() },
    versions: versions(ROOT, [...new Set(selected.map((c) => c.pkg))]),
    main,
    large,
  };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(file, null, 2) + "\n");
  writeReport(ROOT, file);
  const failed = [...main, ...large].filter((r) => !r.ok);
  for (const f of failed) process.stderr.write(`FAILED: ${f.contender} (${f.kind} run): ${f.error}\n`);
  process.stderr.write(`wrote ${RESULTS}, docs/benchmarks.md, docs/benchmarks.svg\n`);
  return failed.length > 0 ? 1 : 0;
}

try {
  const opts = parseOptions(process.argv.slice(2), process.env);
  if (opts.reportOnly) {
    const file = JSON.parse(readFileSync(RESULTS, "utf8")) as RunFile;
    writeReport(ROOT, file);
    process.stderr.write("regenerated docs/benchmarks.md and docs/benchmarks.svg from bench/results/latest.json\n");
  } else {
    process.exitCode = await run(opts);
  }
} catch (err) {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
}
