/**
 * What the engine's thread and a background thread say to each other (compaction-runner.ts is
 * the engine's side, compaction-worker.ts the thread's): the job (a merge, or the flush of a
 * frozen memtable), its result, errors as plain data, and the shared control words.
 *
 * Messages (structured clone over the worker's port):
 *
 * ```
 * engine -> thread   { type: "run", job: CompactionJob | FlushJob }
 * thread -> engine   { type: "ready" }                       the thread's code is loaded
 *                    { type: "numbers" }                     the reserved file numbers ran out
 *                    { type: "done", result: CompactionResult }
 *                    { type: "failed", error: SerializedError }
 * ```
 *
 * Control words (a SharedArrayBuffer, so that the thread can read them without giving its event
 * loop a turn, and block on them):
 *
 * ```
 * Int32  [0] abort     1 = stop the job at the next slice (it then fails with AbortError)
 * Int32  [1] numbers   0 idle, 1 the thread asked for more, 2 granted (count 0: refused)
 * Float64[1] first     first granted number     (byte offset 8)
 * Float64[2] count     how many were granted    (byte offset 16)
 * ```
 */
import { AbortError } from "./table-writer.js";
import { CorruptionError, DatabaseClosedError, IOError, InvalidArgumentError, LsmdocError, type LsmdocErrorCode } from "../errors.js";
import type { FileMeta } from "../manifest/version-edit.js";
import type { SkipListImage } from "../memtable/memtable.js";
import type { Compression } from "../sstable/compression.js";

export const CONTROL_BYTES = 24;
export const ABORT = 0;
export const NUMBERS = 1;
export const NUMBERS_IDLE = 0;
export const NUMBERS_ASKED = 1;
export const NUMBERS_GRANTED = 2;
/** Float64 slots of the granted block. */
export const GRANT_FIRST = 1;
export const GRANT_COUNT = 2;

/**
 * User-key ranges of the tables of one level, in key order, packed into one buffer: table i spans
 * `keys[bounds[2i] .. bounds[2i+1])` (smallest) to `keys[bounds[2i+1] .. bounds[2i+2])` (largest).
 * One buffer, because cloning a key that is a view would copy its whole backing buffer.
 */
export interface PackedRanges {
  keys: Uint8Array;
  bounds: Uint32Array;
}

export interface CompactionJob {
  kind: "merge";
  dir: string;
  /** Table numbers to merge (any order: the merge orders entries by internal key). */
  inputs: number[];
  /** Oldest seq any live snapshot reads at; versions shadowed below it can be dropped. */
  smallestSnapshot: number;
  /** Tables of each level below the output level, for the tombstone rule of CompactionFilter. */
  deeperLevels: PackedRanges[];
  targetFileSize: number;
  compression: Compression;
  /** Output tables take numbers from [firstNumber, firstNumber + numberCount), then ask for more. */
  firstNumber: number;
  numberCount: number;
}

/**
 * Writes one frozen memtable to one level-0 table numbered `number`. The message carries the
 * memtable's pages and arena slabs (memtable/skiplist.ts), so the thread reads a copy while the
 * engine keeps serving gets from the original.
 */
export interface FlushJob {
  kind: "flush";
  dir: string;
  memtable: SkipListImage;
  number: number;
  compression: Compression;
}

export interface CompactionResult {
  files: FileMeta[];
  bytesWritten: number;
  entriesRead: number;
  entriesDropped: number;
}

export type FromWorker =
  | { type: "ready" }
  | { type: "numbers" }
  | { type: "done"; result: CompactionResult }
  | { type: "failed"; error: SerializedError };

export type ToWorker = { type: "run"; job: CompactionJob | FlushJob };

/** An error as plain data: the hierarchy's classes do not survive a structured clone. */
export type SerializedError =
  | { kind: "abort" }
  | { kind: "lsmdoc"; code: LsmdocErrorCode; message: string; file?: string; offset?: number }
  | { kind: "other"; message: string; code?: string; stack?: string };

export function packRanges(files: readonly FileMeta[]): PackedRanges {
  let total = 0;
  for (const f of files) total += f.smallestKey.length + f.largestKey.length;
  const keys = new Uint8Array(total);
  const bounds = new Uint32Array(files.length * 2 + 1);
  let at = 0;
  files.forEach((f, i) => {
    bounds[2 * i] = at;
    keys.set(f.smallestKey, at);
    at += f.smallestKey.length;
    bounds[2 * i + 1] = at;
    keys.set(f.largestKey, at);
    at += f.largestKey.length;
  });
  bounds[files.length * 2] = at;
  return { keys, bounds };
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof AbortError) return { kind: "abort" };
  if (err instanceof CorruptionError) return { kind: "lsmdoc", code: err.code, message: err.message, file: err.file, offset: err.offset };
  if (err instanceof LsmdocError) return { kind: "lsmdoc", code: err.code, message: err.message };
  const e = err as NodeJS.ErrnoException | undefined;
  return { kind: "other", message: e?.message ?? String(err), code: typeof e?.code === "string" ? e.code : undefined, stack: e?.stack };
}

/**
 * The error the thread threw, rebuilt as the same class with the same code and message
 * (CorruptionError keeps file and offset). Errors outside the hierarchy come back as plain Errors
 * with their `code`, for the engine to wrap as it wraps its own.
 */
export function deserializeError(s: SerializedError): Error {
  if (s.kind === "abort") return new AbortError();
  if (s.kind === "other") {
    const err = new Error(s.message) as NodeJS.ErrnoException;
    if (s.code !== undefined) err.code = s.code;
    if (s.stack !== undefined) err.stack = s.stack;
    return err;
  }
  let err: LsmdocError;
  switch (s.code) {
    case "LSMDOC_CORRUPTION":
      err = new CorruptionError(s.file ?? "", s.offset ?? 0, "");
      break;
    case "LSMDOC_IO_ERROR":
      err = new IOError(s.message);
      break;
    case "LSMDOC_INVALID_ARGUMENT":
      err = new InvalidArgumentError(s.message);
      break;
    case "LSMDOC_DATABASE_CLOSED":
      err = new DatabaseClosedError(s.message);
      break;
    default:
      err = new LsmdocError(s.code, s.message);
  }
  err.message = s.message;
  return err;
}
