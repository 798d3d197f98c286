/**
 * Child process entry: runs one contender's main or large run and prints its result as ONE JSON
 * line on stdout (progress goes to stderr). Exit code 0 when every check passed.
 *
 *   node bench/dist/contender.js <name> '{"kind":"main","seed":42,"n":100000,"dir":"..."}'
 */
import { mkdirSync, rmSync } from "node:fs";
import { contender } from "./contenders/registry.js";
import { runLarge } from "./large.js";
import { runMain } from "./phases.js";
import type { ChildResult } from "./results.js";

interface ChildConfig {
  kind: "main" | "large";
  seed: number;
  n: number;
  dir: string;
  budgetS?: number;
}

const [name, json] = process.argv.slice(2);
if (name === undefined || json === undefined) {
  process.stderr.write("usage: node contender.js <name> <json-config>\n");
  process.exit(2);
}
const cfg = JSON.parse(json) as ChildConfig;
const info = contender(name);
const openStore = await info.load();
const log = (s: string): void => void process.stderr.write(`  ${s}\n`);

rmSync(cfg.dir, { recursive: true, force: true });
mkdirSync(cfg.dir, { recursive: true });
let result: ChildResult;
try {
  result =
    cfg.kind === "main"
      ? await runMain(name, openStore, { seed: cfg.seed, n: cfg.n, dir: cfg.dir, synced: info.synced }, log)
      : await runLarge(name, openStore, { seed: cfg.seed, n: cfg.n, dir: cfg.dir, budgetS: cfg.budgetS ?? 180 }, log);
} finally {
  rmSync(cfg.dir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result) + "\n");
process.exitCode = result.ok ? 0 : 1;
