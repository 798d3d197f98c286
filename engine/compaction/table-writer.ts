/**
 * Writes a sorted stream of internal entries into one or more SSTables: the shared back end of
 * flush (one memtable -> one L0 table) and compaction (merged inputs -> tables of a target size).
 *
 * File lifecycle: each table is built at `<dir>/NNNNNN.sst.tmp`, fdatasync'ed, then renamed into
 * `sst/` (so `sst/` only ever holds complete tables) and the directory synced. A table becomes live
 * only when a manifest edit names it; until then its number sits in `pendingOutputs` so that
 * obsolete-file collection leaves it alone.
 *
 * Event loop: work is sliced; after each slice of about `SLICE_MS` the writer yields with
 * `setImmediate`, so reads and writes keep being served during a long compaction. Data blocks are
 * compressed off the JavaScript thread (sstable/block-writer.ts); when the compressor falls
 * behind, the writer awaits it, which yields too.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import type { FileSystem } from "../fs/fs.js";
import { sstDir, tablePath, tempTablePath } from "../filenames.js";
import type { InternalIterator } from "../iterator/internal-iterator.js";
import type { FileMeta } from "../manifest/version-edit.js";
import type { Compression } from "../sstable/compression.js";
import type { BlockCompressor } from "../sstable/deflate-worker.js";
import { TableBuilder } from "../sstable/table-builder.js";
import { bytesEqual } from "../util/bytes.js";
import type { CompactionFilter } from "./compaction-filter.js";

const SLICE_MS = 2;

export interface TableWriterContext {
  fs: FileSystem;
  dir: string;
  newFileNumber(): number;
  pendingOutputs: Set<number>;
  /** How data blocks are stored. @default "deflate" */
  compression?: Compression;
  /** Where data blocks are deflated. @default the process's compression worker */
  compressor?: BlockCompressor;
  /** Checked between slices; when it returns true the job stops with an AbortError. */
  shouldAbort(): boolean;
  /** Called at each yield point, e.g. to let a pending memtable flush run first. */
  onYield?(): Promise<void>;
}

/** Best effort: whatever is left is removed at the next open. */
function removeQuietly(fs: FileSystem, path: string): void {
  try {
    fs.unlink(path);
  } catch {
    // Already gone, or the file system is failing: the next open cleans up.
  }
}

export class AbortError extends Error {
  constructor() {
    super("lsmdoc/engine: background job aborted");
  }
}

export interface WriteTablesResult {
  files: FileMeta[];
  bytesWritten: number;
  entriesRead: number;
}

/**
 * Drains `source` (already positioned at its first entry) into tables. Splits only between user
 * keys, once a table reaches `targetFileSize` (Infinity: one table).
 */
export async function writeTables(
  ctx: TableWriterContext,
  source: InternalIterator,
  targetFileSize: number,
  filter?: CompactionFilter,
): Promise<WriteTablesResult> {
  const files: FileMeta[] = [];
  let builder: TableBuilder | null = null;
  let number = 0;
  let bytesWritten = 0;
  let entriesRead = 0;
  /** Once the current table is full: the last key added, so the split falls between user keys. */
  let splitAfter: Uint8Array | null = null;
  let sliceStart = performance.now();

  const finishTable = async (): Promise<void> => {
    const b = builder!;
    const meta = await b.finish();
    await b.file.sync();
    b.file.close();
    // Until here a failure leaves `builder` set, so the catch below removes the temp file.
    builder = null;
    ctx.fs.rename(tempTablePath(ctx.dir, number), tablePath(ctx.dir, number));
    bytesWritten += meta.fileSize;
    files.push({
      number,
      size: meta.fileSize,
      entries: meta.entries,
      smallestKey: meta.smallest.key,
      smallestSeq: meta.smallest.seq,
      largestKey: meta.largest.key,
      largestSeq: meta.largest.seq,
    });
  };

  try {
    for (; source.valid(); source.next()) {
      entriesRead++;
      if ((entriesRead & 31) === 0 && performance.now() - sliceStart > SLICE_MS) {
        await yieldToLoop();
        if (ctx.shouldAbort()) throw new AbortError();
        if (ctx.onYield) await ctx.onYield();
        sliceStart = performance.now();
      }
      const key = source.key();
      const seq = source.seq();
      const kind = source.kind();
      if (filter !== undefined && !filter.keep(key, seq, kind)) continue;
      if (splitAfter !== null && !bytesEqual(splitAfter, key)) {
        splitAfter = null;
        await finishTable();
      }
      if (builder === null) {
        number = ctx.newFileNumber();
        ctx.pendingOutputs.add(number);
        builder = new TableBuilder(ctx.fs.create(tempTablePath(ctx.dir, number)), {
          compression: ctx.compression ?? "deflate",
          compressor: ctx.compressor,
        });
      }
      builder.add(key, seq, kind, source.value());
      // Keys from the source may be views it reuses: keep a copy.
      if (splitAfter === null && builder.estimatedFileSize >= targetFileSize) splitAfter = key.slice();
      if (builder.backlogged) {
        await builder.drain();
        if (ctx.shouldAbort()) throw new AbortError();
        sliceStart = performance.now();
      }
    }
    if (builder !== null) await finishTable();
    if (files.length > 0) await ctx.fs.syncDir(sstDir(ctx.dir));
  } catch (err) {
    // Leave nothing behind: the partial table and the finished ones no manifest edit will name.
    if (builder !== null) {
      (builder as TableBuilder).abandon();
      (builder as TableBuilder).file.close();
      removeQuietly(ctx.fs, tempTablePath(ctx.dir, number));
      ctx.pendingOutputs.delete(number);
    }
    for (const f of files) {
      removeQuietly(ctx.fs, tablePath(ctx.dir, f.number));
      ctx.pendingOutputs.delete(f.number);
    }
    throw err;
  } finally {
    source.close();
  }
  return { files, bytesWritten, entriesRead };
}
