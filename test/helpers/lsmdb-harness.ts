/**
 * Drives lsmdb 1.0's original WAL code (Rust) from tests, to check that lsmdoc's log stays byte
 * compatible with it in both directions.
 *
 * The reference lives beside the repository (`../shared/reference/lsmdb-wal-harness`, so that CI
 * can clone the repository anywhere with `shared/` next to it). Its `build.sh OUTDIR` compiles the
 * unmodified lsmdb WAL module into a small CLI with cargo (offline) and prints the binary's path:
 *
 * ```
 * lsmdb-wal write DIR     stdin lines "put SEQ KEYHEX VALHEX" | "del SEQ KEYHEX"; appends to DIR's log
 * lsmdb-wal recover DIR   stdout lines "put|del SEQ KEYHEX VALHEX", or one line "error MESSAGE"
 * ```
 *
 * Invariants: nothing here writes outside the directories the caller passes in; a missing
 * toolchain is reported as a reason string (so suites can skip loudly), never as a silent pass.
 * lsmdb's writer starts every session at block offset 0, so `lsmdbWrite` must be given a directory
 * without a log: one session per log file.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const referenceDir = path.resolve(repoRoot, "..", "shared", "reference");
export const harnessDir = path.join(referenceDir, "lsmdb-wal-harness");

/** One operation as lsmdb's CLI speaks it. Deletes carry an empty value. */
export interface LsmdbOp {
  op: "put" | "del";
  seq: number;
  key: Uint8Array;
  value: Uint8Array;
}

/** Why the harness cannot be built here, or undefined when it can. Cheap; call at module load. */
export function harnessUnavailableReason(): string | undefined {
  if (!fs.existsSync(path.join(harnessDir, "build.sh"))) {
    return `lsmdb reference harness not found at ${harnessDir} (expected shared/ beside the repository)`;
  }
  const cargo = spawnSync("cargo", ["--version"], { encoding: "utf8" });
  if (cargo.error !== undefined || cargo.status !== 0) {
    return "cargo is not installed (needed to build lsmdb 1.0's WAL code)";
  }
  return undefined;
}

/** Builds the CLI into `outDir` (must be writable) and returns the binary's path. */
export function buildHarness(outDir: string): string {
  const r = spawnSync("bash", [path.join(harnessDir, "build.sh"), outDir], { encoding: "utf8", maxBuffer: 16 << 20 });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`building the lsmdb harness failed (status ${r.status}): ${r.error?.message ?? ""}\n${r.stderr}\n${r.stdout}`);
  }
  const bin = r.stdout.trim().split("\n").pop() ?? "";
  if (!fs.existsSync(bin)) throw new Error(`lsmdb harness build printed ${JSON.stringify(bin)}, which does not exist`);
  return bin;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

/** Appends `ops` to the log in `dir` through lsmdb's `Wal::add` / `Wal::remove`, in one session. */
export function lsmdbWrite(bin: string, dir: string, ops: readonly LsmdbOp[]): void {
  const input = ops
    .map((o) => (o.op === "put" ? `put ${o.seq} ${hex(o.key)} ${hex(o.value)}` : `del ${o.seq} ${hex(o.key)}`))
    .join("\n");
  const r = spawnSync(bin, ["write", dir], { input: input + "\n", encoding: "utf8", maxBuffer: 16 << 20 });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`lsmdb-wal write failed (status ${r.status}): ${r.error?.message ?? ""}\n${r.stderr}`);
  }
}

/** Result of `lsmdb-wal recover`: the records, or lsmdb's error message. */
export type LsmdbRecovery = { ok: true; records: LsmdbOp[] } | { ok: false; error: string };

/** Replays every log in `dir` with lsmdb's `Wal::recover`. */
export function lsmdbRecover(bin: string, dir: string): LsmdbRecovery {
  const r = spawnSync(bin, ["recover", dir], { encoding: "utf8", maxBuffer: 1 << 30 });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`lsmdb-wal recover failed (status ${r.status}): ${r.error?.message ?? ""}\n${r.stderr}`);
  }
  const records: LsmdbOp[] = [];
  for (const line of r.stdout.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("error ")) return { ok: false, error: line.slice(6) };
    // A delete's empty value hex leaves a trailing field that split keeps as "".
    const [op, seq, key, value = ""] = line.split(" ");
    if ((op !== "put" && op !== "del") || seq === undefined || key === undefined) {
      throw new Error(`unexpected lsmdb-wal output line: ${line.slice(0, 200)}`);
    }
    records.push({ op, seq: Number(seq), key: Buffer.from(key, "hex"), value: Buffer.from(value, "hex") });
  }
  return { ok: true, records };
}
