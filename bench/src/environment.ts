/**
 * The machine and the package versions the report states. Versions are read from the installed
 * packages (bench/node_modules for the peers, the root for lsmdoc and the libraries it shares).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem, type, arch } from "node:os";
import { join } from "node:path";
import type { Machine } from "./results.js";

export function machine(): Machine {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? "unknown",
    cores: cpu.length,
    ramBytes: totalmem(),
    node: process.version,
    os: `${type()} ${release()} ${arch()}`,
  };
}

/** 1, 5 and 15 minute load averages (the machine is shared: a high load means noisy numbers). */
export const loadAverage = (): number[] => loadavg().map((x) => Number(x.toFixed(2)));

function versionOf(dir: string): string {
  try {
    return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "not installed";
  }
}

function lsmdocVersion(root: string): string {
  const v = versionOf(root);
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench", ":!docs"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return `${v} (commit ${commit}${dirty.length > 0 ? " + uncommitted changes" : ""})`;
  } catch {
    return v;
  }
}

/** Versions by npm name: lsmdoc, every peer package, and zod/msgpackr as lsmdoc and the peers use them. */
export function versions(root: string, packages: string[]): Record<string, string> {
  const out: Record<string, string> = { lsmdoc: lsmdocVersion(root) };
  for (const p of packages) if (p !== "lsmdoc") out[p] = versionOf(join(root, "bench", "node_modules", p));
  out.zod = versionOf(join(root, "node_modules", "zod"));
  out.msgpackr = versionOf(join(root, "bench", "node_modules", "msgpackr"));
  return out;
}
