/**
 * Entry point of a background thread (started by compaction-runner.ts): the engine runs merges on
 * one and memtable flushes on another, so that a flush never waits behind a long merge. A flush
 * reads the frozen memtable from the copy of its memory the message brought (its image), and
 * writes one level-0 table with `writeTables`, exactly as a flush on the engine's thread does.
 *
 * A thread runs one job at a time. A merge opens its own readers of the input tables (no block
 * cache: a merge reads each block once), merges them, drops what the CompactionFilter drops, and
 * writes the outputs with `writeTables` exactly as a compaction on the engine's thread does (temp
 * file, fdatasync, rename into sst/, directory sync), except that data blocks are deflated right
 * here. It never touches the manifest: it posts the new tables' metadata back and the engine
 * records them.
 *
 * Output file numbers come from a block the engine reserved; when they run out the thread asks
 * for more and blocks until the engine answers (protocol in compaction-protocol.ts). The abort word
 * is read between slices of the merge, so a closing engine stops the job within one slice.
 */
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { tablePath } from "../filenames.js";
import { nodeFs } from "../fs/node-fs.js";
import { MergingIterator } from "../iterator/merging-iterator.js";
import { memtableImageIterator } from "../memtable/memtable.js";
import { inlineCompressor } from "../sstable/deflate-worker.js";
import { TableReader } from "../sstable/table-reader.js";
import { compareBytes } from "../util/bytes.js";
import { CompactionFilter } from "./compaction-filter.js";
import {
  ABORT,
  type CompactionJob,
  type FlushJob,
  type FromWorker,
  GRANT_COUNT,
  GRANT_FIRST,
  NUMBERS,
  NUMBERS_ASKED,
  NUMBERS_GRANTED,
  NUMBERS_IDLE,
  type PackedRanges,
  serializeError,
  type ToWorker,
} from "./compaction-protocol.js";
import { AbortError, writeTables, type TableWriterContext } from "./table-writer.js";

const port = parentPort!;
const { control: shared, niceness } = workerData as { control: SharedArrayBuffer; niceness: number };
// Only on Linux, where pid 0 names this thread alone (nice values are per thread); elsewhere it
// would lower the whole process.
if (niceness > 0 && process.platform === "linux") {
  try {
    setPriority(0, niceness);
  } catch {
    // A platform that refuses: the thread keeps the process's priority.
  }
}
const control = new Int32Array(shared, 0, 2);
const grant = new Float64Array(shared);

function post(msg: FromWorker): void {
  port.postMessage(msg);
}

/** Views of one level's packed ranges: [smallest, largest] per table, in key order. */
function unpack(p: PackedRanges): Array<[Uint8Array, Uint8Array]> {
  const out: Array<[Uint8Array, Uint8Array]> = [];
  for (let i = 0; 2 * i + 2 < p.bounds.length; i++) {
    out.push([p.keys.subarray(p.bounds[2 * i]!, p.bounds[2 * i + 1]!), p.keys.subarray(p.bounds[2 * i + 1]!, p.bounds[2 * i + 2]!)]);
  }
  return out;
}

/** True when no table of a deeper level may hold `key` (binary search per level, as Version.fileFor). */
function isBaseLevelForKey(levels: Array<Array<[Uint8Array, Uint8Array]>>, key: Uint8Array): boolean {
  for (const files of levels) {
    let lo = 0;
    let hi = files.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(files[mid]![1], key) < 0) lo = mid + 1;
      else hi = mid;
    }
    const f = files[lo];
    if (f !== undefined && compareBytes(f[0], key) <= 0) return false;
  }
  return true;
}

/** Hands out the reserved numbers, then blocks on the control word for another block. */
function numberSource(first: number, count: number): () => number {
  let next = first;
  let end = first + count;
  return () => {
    if (next === end) {
      Atomics.store(control, NUMBERS, NUMBERS_ASKED);
      post({ type: "numbers" });
      while (Atomics.load(control, NUMBERS) === NUMBERS_ASKED) {
        if (Atomics.load(control, ABORT) === 1) throw new AbortError();
        Atomics.wait(control, NUMBERS, NUMBERS_ASKED, 1000);
      }
      const granted = grant[GRANT_COUNT]!;
      next = grant[GRANT_FIRST]!;
      end = next + granted;
      Atomics.store(control, NUMBERS, NUMBERS_IDLE);
      if (granted === 0) throw new AbortError();
    }
    return next++;
  };
}

/** Writes the memtable image of `job` to table `job.number` (never asks for more numbers). */
async function flush(job: FlushJob): Promise<void> {
  try {
    const source = memtableImageIterator(job.memtable);
    source.seekToFirst();
    const ctx: TableWriterContext = {
      fs: nodeFs,
      dir: job.dir,
      newFileNumber: numberSource(job.number, 1),
      pendingOutputs: new Set(),
      compression: job.compression,
      compressor: inlineCompressor,
      shouldAbort: () => false,
    };
    const result = await writeTables(ctx, source, Infinity);
    const files = result.files.map((f) => ({ ...f, smallestKey: f.smallestKey.slice(), largestKey: f.largestKey.slice() }));
    post({ type: "done", result: { files, bytesWritten: result.bytesWritten, entriesRead: result.entriesRead, entriesDropped: 0 } });
  } catch (err) {
    post({ type: "failed", error: serializeError(err) });
  }
}

async function merge(job: CompactionJob): Promise<void> {
  const readers: TableReader[] = [];
  try {
    for (const n of job.inputs) {
      const p = tablePath(job.dir, n);
      readers.push(TableReader.open(nodeFs.openRead(p), p, n));
    }
    const merged = new MergingIterator(readers.map((r) => r.iterator()));
    const deeper = job.deeperLevels.map(unpack);
    const filter = new CompactionFilter(job.smallestSnapshot, (key) => isBaseLevelForKey(deeper, key));
    const ctx: TableWriterContext = {
      fs: nodeFs,
      dir: job.dir,
      newFileNumber: numberSource(job.firstNumber, job.numberCount),
      pendingOutputs: new Set(),
      compression: job.compression,
      // This thread is already off the application's: deflating here beats handing each batch to
      // yet another thread (measured: a third less CPU and a faster merge).
      compressor: inlineCompressor,
      shouldAbort: () => Atomics.load(control, ABORT) === 1,
    };
    merged.seekToFirst();
    const result = await writeTables(ctx, merged, job.targetFileSize, filter);
    // Keys may be views into larger buffers, which a structured clone would copy whole.
    const files = result.files.map((f) => ({ ...f, smallestKey: f.smallestKey.slice(), largestKey: f.largestKey.slice() }));
    post({ type: "done", result: { files, bytesWritten: result.bytesWritten, entriesRead: result.entriesRead, entriesDropped: filter.dropped } });
  } catch (err) {
    post({ type: "failed", error: serializeError(err) });
  } finally {
    for (const r of readers) r.close();
  }
}

port.on("message", (msg: ToWorker) => {
  if (msg.type === "run") void (msg.job.kind === "flush" ? flush(msg.job) : merge(msg.job));
});
post({ type: "ready" });
