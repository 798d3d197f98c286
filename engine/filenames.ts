/**
 * Where the engine keeps its files inside a database directory (SPEC §2):
 *
 * ```
 * <dir>/LOCK          pid-checked exclusive lock
 * <dir>/wal/00001.log write-ahead logs, lsmdb format, five-digit decimal numbers
 * ```
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
