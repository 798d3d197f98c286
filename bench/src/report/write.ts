/**
 * Writes docs/benchmarks.md and docs/benchmarks.svg from one run file.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunFile } from "../results.js";
import { renderMarkdown } from "./markdown.js";
import { renderSvg } from "./svg.js";

export function writeReport(root: string, run: RunFile): void {
  writeFileSync(join(root, "docs", "benchmarks.md"), renderMarkdown(run));
  writeFileSync(join(root, "docs", "benchmarks.svg"), renderSvg(run));
}
