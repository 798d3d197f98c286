/**
 * Engine options: one interface, every field documented with its default and trade-off, and
 * {@link resolveOptions} that fills defaults, rejects unknown or out-of-range values with
 * {@link InvalidArgumentError}, and returns a frozen object (after Pebble's EnsureDefaults).
 */
import { InvalidArgumentError } from "./errors.js";
import type { FileSystem } from "./fs/fs.js";
import { nodeFs } from "./fs/node-fs.js";

/**
 * Options for {@link Engine.open} (and `open()` of a document database, which passes them on).
 * Every field is optional; unknown fields and out-of-range values are rejected with
 * {@link InvalidArgumentError}.
 *
 * @example
 * ```ts
 * // Trade power-loss durability for write latency: a process crash still loses nothing.
 * const engine = await Engine.open("./data", { sync: false, memtableSize: 16 << 20 });
 * ```
 */
export interface EngineOptions {
  // --- durability ---
  /**
   * Whether a write's promise waits for `fdatasync` of its log record. With `false` a write is
   * acknowledged once the record is in the OS page cache: it survives a process crash but not a
   * power loss. Can be overridden per write.
   * @default true
   */
  sync?: boolean;
  /**
   * How to treat damage in the middle of a write-ahead log found at open. `"strict"` throws
   * `CorruptionError` naming file and offset; `"skip"` drops the damaged records, keeps going and
   * reports them in `stats().recovery`. A torn tail (what a crash leaves) is tolerated either way.
   * @default "strict"
   */
  walCorruption?: "strict" | "skip";

  // --- performance ---
  /**
   * Bytes the memtable may hold before it is flushed to an SSTable. Larger means fewer, larger
   * tables and longer recovery after a crash.
   * @default 4 MiB
   */
  memtableSize?: number;
  /**
   * Bytes of SSTable blocks kept in memory (LRU). Reads that hit it skip a positional read and a
   * checksum; a larger cache costs memory. 0 disables it.
   * @default 32 MiB
   */
  blockCacheSize?: number;
  /**
   * Run compaction merges and memtable flushes on background threads (`node:worker_threads`,
   * one for each, so that a flush never waits behind a long merge), which write the tables with
   * their own file handles; the engine's thread only picks the work and records the result. It
   * frees the application's thread from nearly all background CPU, at the cost of two more
   * threads (each started on its first job). Needs the real
   * file system: it cannot be used with an injected `fs`, and bundlers that do not ship
   * `engine/compaction/compaction-worker.js` next to its caller need `false`.
   * @default true with the real file system, false with an injected `fs`
   */
  compactionThread?: boolean;
  /**
   * How SSTable data blocks are stored. `"deflate"` compresses each block (off the event loop)
   * and keeps it compressed when that saves at least 1/8: tables of typical documents shrink
   * 5-7x, at the price of CPU when writing tables (docs/architecture.md, "Compression") and an
   * inflate (~15-40 µs) on each block cache miss. `"none"` stores blocks as built, which favours
   * write and random-read throughput. Tables written either way are read either way. The table
   * `close()` writes from the memtable is stored uncompressed either way, to keep close fast; the
   * compaction that later takes it compresses its data.
   * @default "deflate"
   */
  compression?: "deflate" | "none";

  // --- environment ---
  /** Create the directory when it does not exist. @default true */
  createIfMissing?: boolean;
  /** File system to use; tests pass an in-memory one. @default the real disk */
  fs?: FileSystem;
}

export interface ResolvedEngineOptions {
  readonly sync: boolean;
  readonly walCorruption: "strict" | "skip";
  readonly memtableSize: number;
  readonly blockCacheSize: number;
  readonly compactionThread: boolean;
  readonly compression: "deflate" | "none";
  readonly createIfMissing: boolean;
  readonly fs: FileSystem;
}

const KNOWN = new Set(["sync", "walCorruption", "memtableSize", "blockCacheSize", "compactionThread", "compression", "createIfMissing", "fs"]);

function positiveInt(name: string, v: unknown, min: number): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new InvalidArgumentError(`lsmdoc/engine: option ${name} must be an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

function bool(name: string, v: unknown): boolean {
  if (typeof v !== "boolean") throw new InvalidArgumentError(`lsmdoc/engine: option ${name} must be a boolean, got ${String(v)}`);
  return v;
}

export function resolveOptions(options: EngineOptions = {}): ResolvedEngineOptions {
  if (options === null || typeof options !== "object") {
    throw new InvalidArgumentError("lsmdoc/engine: options must be an object");
  }
  for (const k of Object.keys(options)) {
    if (!KNOWN.has(k)) throw new InvalidArgumentError(`lsmdoc/engine: unknown option "${k}"`);
  }
  const o = options as Record<string, unknown>;
  const walCorruption = o.walCorruption ?? "strict";
  if (walCorruption !== "strict" && walCorruption !== "skip") {
    throw new InvalidArgumentError(`lsmdoc/engine: option walCorruption must be "strict" or "skip", got ${String(walCorruption)}`);
  }
  const compression = o.compression ?? "deflate";
  if (compression !== "deflate" && compression !== "none") {
    throw new InvalidArgumentError(`lsmdoc/engine: option compression must be "deflate" or "none", got ${String(compression)}`);
  }
  const fs = (o.fs as FileSystem | undefined) ?? nodeFs;
  const compactionThread = o.compactionThread === undefined ? fs === nodeFs : bool("compactionThread", o.compactionThread);
  if (compactionThread && fs !== nodeFs) {
    throw new InvalidArgumentError("lsmdoc/engine: option compactionThread needs the real file system; it cannot be used with an injected fs");
  }
  return Object.freeze({
    sync: o.sync === undefined ? true : bool("sync", o.sync),
    walCorruption,
    memtableSize: o.memtableSize === undefined ? 4 * 1024 * 1024 : positiveInt("memtableSize", o.memtableSize, 4096),
    blockCacheSize: o.blockCacheSize === undefined ? 32 * 1024 * 1024 : positiveInt("blockCacheSize", o.blockCacheSize, 0),
    compression,
    createIfMissing: o.createIfMissing === undefined ? true : bool("createIfMissing", o.createIfMissing),
    compactionThread,
    fs,
  });
}
