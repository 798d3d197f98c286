/**
 * Writes one SSTable (format in `format.ts`) from entries given in strictly increasing
 * internal-key order (user key ascending, seq descending), the order memtable and merging
 * iterators produce.
 *
 * Incremental: `add()` does work proportional to its entry (plus, once per block, closing a data
 * block), so a flush or compaction can yield to the event loop between adds. Finished blocks go
 * to a write buffer that is appended to the file whenever it holds `writeBufferSize` bytes
 * (one write call per 64 KiB rather than per block). `finish()` writes the filter, meta and index
 * blocks and the footer. The builder never syncs, renames or closes the file: the caller makes it
 * durable and visible (write-then-rename), or deletes it after `abandon()` or an error.
 *
 * Compression (`compression: "deflate"`, the default) runs off the JavaScript thread
 * (`block-writer.ts`), so a data block's offset, and its index entry, are known only once the
 * block comes back compressed: index entries pair the separators (known at the next `add()`) with
 * the handles (known when the block is appended), in block order. When `backlogged` is true the
 * caller awaits `drain()` before adding more. A write that fails while appending a compressed
 * block fails the builder; `add()`, `drain()` and `finish()` then throw that error.
 *
 * Index separators: between two blocks the separator is the shortest user key s with
 * last < s < next when one exists (stored as (s, MAX_SEQ)), else the block's last internal key;
 * the last block's separator is its last key. Either way every key of block i is <= separator i <
 * every key of block i+1, which is all readers rely on.
 */
import { InvalidArgumentError } from "../errors.js";
import type { WritableFile } from "../fs/fs.js";
import { MAX_SEQ } from "../util/bytes.js";
import { EntryKind } from "../wal/record.js";
import { BlockBuilder } from "./block-builder.js";
import { BlockWriter } from "./block-writer.js";
import { BloomBuilder } from "./bloom.js";
import { type Compression, DEFLATE_LEVEL } from "./compression.js";
import { type BlockCompressor, inlineCompressor, sharedCompressor } from "./deflate-worker.js";
import {
  BLOOM_BITS_PER_KEY,
  type BlockHandle,
  COMPRESSED_TARGET_BLOCK_SIZE,
  CompressionType,
  encodeBlockHandle,
  encodeFooter,
  FORMAT_VERSION,
  INDEX_RESTART_INTERVAL,
  MAX_HANDLE_LENGTH,
  RESTART_INTERVAL,
  TARGET_BLOCK_SIZE,
} from "./format.js";
import { compareUserKeyAt, type InternalKey, TRAILER_SIZE, writeTrailer } from "./internal-key.js";
import { encodeProperties, type TableProperties } from "./properties.js";

export interface TableBuilderOptions {
  /**
   * A data block is closed once its (uncompressed) contents reach this many bytes.
   * @default 16384 with compression, 4096 without
   */
  blockSize?: number;
  /** Entries between restart points in data blocks. @default 16 */
  restartInterval?: number;
  /** Bloom filter bits per distinct user key; 10 gives ~1% false positives. @default 10 */
  bloomBitsPerKey?: number;
  /** Bytes buffered before an append to the file; 0 appends every block at once. @default 65536 */
  writeBufferSize?: number;
  /** How data blocks are stored. @default "deflate" */
  compression?: Compression;
  /** zlib level for data blocks, 1..9. @default {@link DEFLATE_LEVEL} */
  compressionLevel?: number;
  /** Where blocks are deflated. @default the process's compression worker */
  compressor?: BlockCompressor;
}

/** What the builder knows about the table it wrote: its properties plus sizes. */
export interface TableMeta extends TableProperties {
  /** Bytes in the file. */
  fileSize: number;
  /** Contents bytes of the index and filter blocks (what a reader keeps in memory). */
  indexSize: number;
  filterSize: number;
}

const DEFAULT_WRITE_BUFFER = 64 * 1024;
const MAX_VALUE_LENGTH = 0xffff_ffff;

export class TableBuilder {
  private readonly blockSize: number;
  private readonly data: BlockBuilder;
  private readonly index = new BlockBuilder(INDEX_RESTART_INTERVAL, 1024);
  private readonly bloom: BloomBuilder;
  private readonly writer: BlockWriter;

  /** Internal key of the entry being added and of the previous one (swapped each add). */
  private cur = new Uint8Array(64);
  private last = new Uint8Array(64);
  private lastLen = 0;
  private lastSeq = 0;
  private lastKind: EntryKind = EntryKind.Put;
  /** The last closed block waits for the next key to choose its separator. */
  private needSeparator = false;
  /** Index entries not yet added: block i's separator and handle, in block order. */
  private readonly separators: Uint8Array[] = [];
  private readonly handles: BlockHandle[] = [];
  private paired = 0;
  private readonly handleScratch = new Uint8Array(MAX_HANDLE_LENGTH);

  private entryCount = 0;
  private tombstones = 0;
  private dataBlocks = 0;
  private minSeq = MAX_SEQ;
  private maxSeq = 0;
  private rawKeyBytes = 0;
  private rawValueBytes = 0;
  private smallest: InternalKey | null = null;
  private state: "open" | "finishing" | "finished" | "abandoned" = "open";

  constructor(
    /** The file being written; the caller syncs, closes and renames it after `finish()`. */
    readonly file: WritableFile,
    options: TableBuilderOptions = {},
  ) {
    const int = (name: string, v: number | undefined, dflt: number, min: number, max: number): number => {
      if (v === undefined) return dflt;
      if (!Number.isInteger(v) || v < min || v > max) throw new InvalidArgumentError(`lsmdoc/sstable: ${name} must be an integer in ${min}..${max}, got ${v}`);
      return v;
    };
    const compression = options.compression ?? "deflate";
    if (compression !== "deflate" && compression !== "none") {
      throw new InvalidArgumentError(`lsmdoc/sstable: compression must be "deflate" or "none", got ${String(compression)}`);
    }
    const defaultBlockSize = compression === "deflate" ? COMPRESSED_TARGET_BLOCK_SIZE : TARGET_BLOCK_SIZE;
    this.blockSize = int("blockSize", options.blockSize, defaultBlockSize, 1, 64 * 1024 * 1024);
    const restartInterval = int("restartInterval", options.restartInterval, RESTART_INTERVAL, 1, 1024);
    this.bloom = new BloomBuilder(int("bloomBitsPerKey", options.bloomBitsPerKey, BLOOM_BITS_PER_KEY, 1, 64));
    this.data = new BlockBuilder(restartInterval, this.blockSize);
    this.writer = new BlockWriter(file, {
      writeBufferSize: int("writeBufferSize", options.writeBufferSize, DEFAULT_WRITE_BUFFER, 0, 64 * 1024 * 1024),
      compression,
      level: int("compressionLevel", options.compressionLevel, DEFLATE_LEVEL, 1, 9),
      compressor: options.compressor ?? (compression === "none" ? inlineCompressor : sharedCompressor()),
      onDataBlock: (h) => {
        this.handles.push(h);
        this.addIndexEntries();
      },
    });
  }

  /** Entries added so far. */
  get entries(): number {
    return this.entryCount;
  }

  /**
   * Bytes the file will hold if finished now, less the filter, meta and index blocks. Blocks
   * still being compressed count at the compression ratio seen so far.
   */
  get estimatedFileSize(): number {
    const w = this.writer;
    const ratio = w.rawBytes > 0 ? w.storedBytes / w.rawBytes : 1;
    return w.offset + Math.ceil((w.pendingRawBytes + this.data.estimatedSize()) * ratio);
  }

  /** True when the caller should await `drain()` before the next `add()`. */
  get backlogged(): boolean {
    return this.writer.backlogged;
  }

  /** Resolves once the compressor has caught up enough to take more blocks; rejects if the builder failed. */
  drain(): Promise<void> {
    return this.writer.drain();
  }

  /**
   * Adds one entry. (userKey, seq) must come strictly after the previous entry in internal-key
   * order; a Delete carries an empty value. The arrays are copied before this returns.
   */
  add(userKey: Uint8Array, seq: number, kind: EntryKind, value: Uint8Array): void {
    if (this.state !== "open" || this.writer.failure !== undefined) {
      throw this.writer.failure ?? new InvalidArgumentError(`lsmdoc/sstable: add() on a ${this.state} table builder`);
    }
    if (!(userKey instanceof Uint8Array) || userKey.length === 0) throw new InvalidArgumentError("lsmdoc/sstable: user key must be a non-empty Uint8Array");
    if (!Number.isSafeInteger(seq) || seq < 0) throw new InvalidArgumentError(`lsmdoc/sstable: seq must be an integer in 0..2^53-1, got ${seq}`);
    if (kind !== EntryKind.Put && kind !== EntryKind.Delete) throw new InvalidArgumentError(`lsmdoc/sstable: unknown entry kind ${String(kind)}`);
    if (!(value instanceof Uint8Array) || value.length > MAX_VALUE_LENGTH) throw new InvalidArgumentError("lsmdoc/sstable: value must be a Uint8Array of at most 2^32-1 bytes");
    if (kind === EntryKind.Delete && value.length !== 0) throw new InvalidArgumentError("lsmdoc/sstable: a Delete entry carries no value");

    const klen = userKey.length;
    const ikLen = klen + TRAILER_SIZE;
    if (this.cur.length < ikLen) this.cur = new Uint8Array(Math.max(ikLen, this.cur.length * 2));
    const cur = this.cur;
    cur.set(userKey, 0);
    writeTrailer(cur, klen, seq, kind);

    let newUserKey = true;
    if (this.entryCount > 0) {
      const c = compareUserKeyAt(this.last, 0, this.lastLen - TRAILER_SIZE, userKey);
      if (c > 0 || (c === 0 && seq >= this.lastSeq)) {
        throw new InvalidArgumentError(`lsmdoc/sstable: entries out of order (seq ${seq} after seq ${this.lastSeq}${c === 0 ? " of the same key" : " of a larger key"})`);
      }
      newUserKey = c !== 0;
      if (this.needSeparator) this.addSeparator(this.separator(userKey, newUserKey));
    } else {
      this.smallest = { key: new Uint8Array(userKey), seq, kind }; // a copy even when given a Buffer
    }
    if (newUserKey) this.bloom.addKey(userKey);

    this.data.add(cur, value, ikLen);
    this.entryCount++;
    if (kind === EntryKind.Delete) this.tombstones++;
    if (seq < this.minSeq) this.minSeq = seq;
    if (seq > this.maxSeq) this.maxSeq = seq;
    this.rawKeyBytes += klen;
    this.rawValueBytes += value.length;
    this.cur = this.last;
    this.last = cur;
    this.lastLen = ikLen;
    this.lastSeq = seq;
    this.lastKind = kind;

    if (this.data.estimatedSize() >= this.blockSize) this.closeDataBlock();
  }

  /**
   * Separator between the previous entry (in `last`, the end of the closed block) and the next
   * block's first user key.
   */
  private separator(nextUserKey: Uint8Array, differentUserKey: boolean): Uint8Array {
    const a = this.last;
    const aLen = this.lastLen - TRAILER_SIZE;
    if (differentUserKey) {
      const n = Math.min(aLen, nextUserKey.length);
      let i = 0;
      while (i < n && a[i] === nextUserKey[i]) i++;
      // First differing byte i: a[0..i] ++ (a[i] + 1) lies strictly between a and next when
      // a[i] + 1 < next[i], and is shorter than a when i + 1 < |a|. Otherwise keep a's key.
      if (i < n && i + 1 < aLen) {
        const b = a[i]!;
        if (b < 0xff && b + 1 < nextUserKey[i]!) {
          const sep = new Uint8Array(i + 1 + TRAILER_SIZE);
          sep.set(a.subarray(0, i), 0);
          sep[i] = b + 1;
          writeTrailer(sep, i + 1, MAX_SEQ, EntryKind.Put);
          return sep;
        }
      }
    }
    return a.slice(0, this.lastLen);
  }

  private addSeparator(separator: Uint8Array): void {
    this.needSeparator = false;
    this.separators.push(separator);
    this.addIndexEntries();
  }

  /** Adds the index entries whose separator and handle are both known, in block order. */
  private addIndexEntries(): void {
    const n = Math.min(this.separators.length, this.handles.length);
    while (this.paired < n) {
      const len = encodeBlockHandle(this.handleScratch, 0, this.handles[this.paired]!);
      this.index.add(this.separators[this.paired]!, this.handleScratch.subarray(0, len));
      this.paired++;
    }
    if (this.paired >= 256) {
      this.separators.splice(0, this.paired);
      this.handles.splice(0, this.paired);
      this.paired = 0;
    }
  }

  private closeDataBlock(): void {
    this.dataBlocks++;
    this.needSeparator = true;
    this.writer.addDataBlock(this.data.finishContents());
    this.data.reset();
  }

  /**
   * Waits for the data blocks still being compressed, then writes the filter, meta and index
   * blocks and the footer; resolves to the table's metadata. An empty table cannot be finished
   * (callers produce no file instead): use `abandon()`.
   */
  async finish(): Promise<TableMeta> {
    if (this.state !== "open" || this.writer.failure !== undefined) {
      throw this.writer.failure ?? new InvalidArgumentError(`lsmdoc/sstable: finish() on a ${this.state} table builder`);
    }
    if (this.entryCount === 0) throw new InvalidArgumentError("lsmdoc/sstable: cannot finish a table with no entries");
    this.state = "finishing";
    const w = this.writer;
    if (!this.data.empty) this.closeDataBlock();
    if (this.needSeparator) this.addSeparator(this.last.slice(0, this.lastLen));
    await w.idle();

    const filter = w.emitBlock(this.bloom.finish(), CompressionType.None);
    const lastUserLen = this.lastLen - TRAILER_SIZE;
    const props: TableProperties = {
      entries: this.entryCount,
      tombstones: this.tombstones,
      dataBlocks: this.dataBlocks,
      dataRawBytes: w.rawBytes,
      dataStoredBytes: w.storedBytes,
      minSeq: this.minSeq,
      maxSeq: this.maxSeq,
      rawKeyBytes: this.rawKeyBytes,
      rawValueBytes: this.rawValueBytes,
      smallest: this.smallest!,
      largest: { key: this.last.slice(0, lastUserLen), seq: this.lastSeq, kind: this.lastKind },
    };
    const meta = w.emitBlock(encodeProperties(props), CompressionType.None);
    const index = w.emitBlock(this.index.finishContents(), CompressionType.None);
    w.emitRaw(encodeFooter({ filter, meta, index, version: FORMAT_VERSION }));
    w.flush();
    this.state = "finished";
    return { ...props, fileSize: w.offset, indexSize: index.size, filterSize: filter.size };
  }

  /** Gives up on the table; the caller deletes the file. Blocks still being compressed are dropped. */
  abandon(): void {
    if (this.state === "open" || this.state === "finishing") this.state = "abandoned";
    this.writer.abandon();
  }
}
