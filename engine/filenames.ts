/**
 * Where the engine keeps its files inside a database directory (SPEC §2, docs/format.md):
 *
 * ```
 * <dir>/LOCK              pid-checked exclusive lock
 * <dir>/CURRENT           name of the live manifest, replaced by write-temp-then-rename
 * <dir>/MANIFEST-000007   version edits: the only truth about which SSTables are live
 * <dir>/wal/00009.log     write-ahead logs, lsmdb format, five-digit decimal numbers
 * <dir>/sst/000008.sst    SSTables, nothing else lives in sst/
 * <dir>/000010.sst.tmp    a table being written; renamed into sst/ when complete
 * ```
 *
 * One counter numbers logs, tables and manifests, so every file number is used once.
 */
import * as path from "node:path";
import { logFileName } from "./wal/format.js";

export function lockPath(dir: string): string {
  return path.join(dir, "LOCK");
}

export function walDir(dir: string): string {
  return path.join(dir, "wal");
}

export function logPath(dir: string, num: number): string {
  return path.join(walDir(dir), logFileName(num));
}

export function sstDir(dir: string): string {
  return path.join(dir, "sst");
}

export function tableFileName(num: number): string {
  return `${String(num).padStart(6, "0")}.sst`;
}

export function tablePath(dir: string, num: number): string {
  return path.join(sstDir(dir), tableFileName(num));
}

export function tempTablePath(dir: string, num: number): string {
  return path.join(dir, `${tableFileName(num)}.tmp`);
}

export function parseTableFileName(name: string): number | undefined {
  const m = /^(\d+)\.sst$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function currentPath(dir: string): string {
  return path.join(dir, "CURRENT");
}

export function manifestFileName(num: number): string {
  return `MANIFEST-${String(num).padStart(6, "0")}`;
}

export function parseManifestFileName(name: string): number | undefined {
  const m = /^MANIFEST-(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}
