/**
 * The output side of a table builder: appends blocks (stored contents ++ trailer) to the table
 * file through a write buffer, and runs data blocks through compression first.
 *
 * Uncompressed blocks are appended as they are given. With `"deflate"`, data blocks are gathered
 * into batches of ~64 KiB that a {@link BlockCompressor} deflates off the JavaScript thread; the
 * returned batches are appended strictly in the order they were sent, each block stored
 * compressed only when that saves at least 1/8 (compression.ts). A data block's handle is
 * therefore known only once its batch is back: `onDataBlock` reports handles, in block order,
 * as blocks are appended. At most {@link MAX_BATCHES_IN_FLIGHT} batches are out; `backlogged`
 * tells the caller to await `drain()`, which bounds memory and lets the event loop run while the
 * compressor catches up.
 *
 * Failure: an append that throws fails the writer. A synchronous append rethrows at once; one
 * made when a batch comes back is kept, and `drain()` / `idle()` reject with it (the builder
 * rethrows it from `add()`). After a failure or `abandon()`, returned batches are dropped: the
 * caller may already have closed the file.
 */
import type { WritableFile } from "../fs/fs.js";
import { type Compression, compressedContents } from "./compression.js";
import type { BlockBatch, BlockCompressor } from "./deflate-worker.js";
import { BLOCK_TRAILER_SIZE, type BlockHandle, CompressionType, writeBlockTrailer } from "./format.js";

/** A batch is sent to the compressor once it holds this many bytes of blocks. */
const BATCH_BYTES = 64 * 1024;
/** Batches sent and not yet appended before `backlogged` turns true. */
export const MAX_BATCHES_IN_FLIGHT = 3;

interface InFlight {
  batch: BlockBatch;
  /** The deflated blocks, once back. */
  result: BlockBatch | null;
}

export interface BlockWriterOptions {
  writeBufferSize: number;
  compression: Compression;
  level: number;
  compressor: BlockCompressor;
  /** Called with each data block's handle, in block order, once the block is appended. */
  onDataBlock(handle: BlockHandle): void;
}

export class BlockWriter {
  private readonly out: Uint8Array;
  private outLen = 0;
  /** Bytes emitted so far (written or buffered). */
  private emitted = 0;

  /** The batch being filled: closed blocks back to back, and where each ends. */
  private batchBuf: Uint8Array | null = null;
  private batchLen = 0;
  private batchEnds: number[] = [];
  /** Batches sent to the compressor, oldest first. */
  private readonly inFlight: InFlight[] = [];
  /** Raw bytes of data blocks given and not yet appended. */
  private pendingBytes = 0;
  private waiter: (() => boolean) | null = null;

  /** Data block contents bytes before compression and as stored (trailers excluded). */
  rawBytes = 0;
  storedBytes = 0;
  /** Set when the writer failed or was abandoned: nothing more is appended. */
  private stopped = false;
  /** What made it fail, if an append did. */
  failure: unknown = undefined;

  constructor(
    private readonly file: WritableFile,
    private readonly options: BlockWriterOptions,
  ) {
    this.out = new Uint8Array(options.writeBufferSize);
  }

  /** Bytes appended or buffered so far. */
  get offset(): number {
    return this.emitted;
  }

  /** Raw bytes of data blocks not yet appended (being batched or compressed). */
  get pendingRawBytes(): number {
    return this.pendingBytes;
  }

  get backlogged(): boolean {
    return this.inFlight.length >= MAX_BATCHES_IN_FLIGHT;
  }

  /** Resolves once fewer than {@link MAX_BATCHES_IN_FLIGHT} batches are out. */
  drain(): Promise<void> {
    return this.waitUntil(() => this.inFlight.length < MAX_BATCHES_IN_FLIGHT);
  }

  /** Sends the partial batch and resolves once every data block is appended. */
  idle(): Promise<void> {
    if (this.batchLen > 0 && !this.stopped) this.sendBatch();
    return this.waitUntil(() => this.inFlight.length === 0);
  }

  /** Takes a data block's uncompressed contents (copied before this returns). */
  addDataBlock(contents: Uint8Array): void {
    if (this.options.compression === "none") {
      this.rawBytes += contents.length;
      this.storedBytes += contents.length;
      this.options.onDataBlock(this.emitBlock(contents, CompressionType.None));
      return;
    }
    const need = this.batchLen + contents.length;
    if (this.batchBuf === null || need > this.batchBuf.length) {
      // Room for the block that takes the batch past BATCH_BYTES, without growing it again.
      const grown = new Uint8Array(Math.max(need, BATCH_BYTES + 32 * 1024));
      if (this.batchBuf !== null) grown.set(this.batchBuf.subarray(0, this.batchLen));
      this.batchBuf = grown;
    }
    this.batchBuf.set(contents, this.batchLen);
    this.batchLen = need;
    this.batchEnds.push(need);
    this.pendingBytes += contents.length;
    if (this.batchLen >= BATCH_BYTES) this.sendBatch();
  }

  private sendBatch(): void {
    const batch: BlockBatch = { bytes: this.batchBuf!.subarray(0, this.batchLen), ends: Uint32Array.from(this.batchEnds) };
    // Each batch keeps its own buffer: its raw blocks are needed until its results are appended.
    this.batchBuf = null;
    this.batchLen = 0;
    this.batchEnds = [];
    const slot: InFlight = { batch, result: null };
    this.inFlight.push(slot);
    this.options.compressor.deflate(batch, this.options.level).then(
      (result) => {
        slot.result = result;
        this.appendReturned();
      },
      (err: unknown) => this.fail(err),
    );
  }

  /** Appends, in order, every batch at the head of the queue whose results are back. */
  private appendReturned(): void {
    if (this.stopped) return;
    try {
      while (this.inFlight.length > 0 && this.inFlight[0]!.result !== null) {
        const { batch, result } = this.inFlight.shift()!;
        let start = 0;
        let cStart = 0;
        for (let i = 0; i < batch.ends.length; i++) {
          const raw = batch.bytes.subarray(start, batch.ends[i]);
          const compressed = compressedContents(raw.length, result!.bytes.subarray(cStart, result!.ends[i]));
          const stored = compressed ?? raw;
          this.rawBytes += raw.length;
          this.storedBytes += stored.length;
          this.pendingBytes -= raw.length;
          this.options.onDataBlock(this.emitBlock(stored, compressed !== null ? CompressionType.Deflate : CompressionType.None));
          start = batch.ends[i]!;
          cStart = result!.ends[i]!;
        }
      }
    } catch {
      return; // fail() has recorded the error for the next drain() or idle()
    }
    this.wake();
  }

  /** Appends a block: its stored contents, then its trailer. Returns its handle. */
  emitBlock(contents: Uint8Array, type: CompressionType): BlockHandle {
    const handle = { offset: this.emitted, size: contents.length };
    const total = contents.length + BLOCK_TRAILER_SIZE;
    this.guard(() => {
      if (this.outLen + total > this.out.length) this.flushOut();
      if (total > this.out.length) {
        const whole = new Uint8Array(total);
        whole.set(contents);
        writeBlockTrailer(whole, contents.length, type);
        this.file.append(whole);
      } else {
        this.out.set(contents, this.outLen);
        writeBlockTrailer(this.out.subarray(this.outLen, this.outLen + total), contents.length, type);
        this.outLen += total;
      }
    });
    this.emitted += total;
    return handle;
  }

  /** Appends bytes that are not a block (the footer). */
  emitRaw(bytes: Uint8Array): void {
    this.guard(() => {
      if (this.outLen + bytes.length > this.out.length) this.flushOut();
      if (bytes.length > this.out.length) {
        this.file.append(bytes);
      } else {
        this.out.set(bytes, this.outLen);
        this.outLen += bytes.length;
      }
    });
    this.emitted += bytes.length;
  }

  /** Writes out the write buffer. */
  flush(): void {
    this.guard(() => this.flushOut());
  }

  /** Stops appending: batches still out are dropped when they come back. */
  abandon(): void {
    this.stopped = true;
    this.wake();
  }

  private flushOut(): void {
    if (this.outLen === 0) return;
    // WritableFile.append consumes the bytes before returning, so the buffer can be reused.
    this.file.append(this.out.subarray(0, this.outLen));
    this.outLen = 0;
  }

  private guard(write: () => void): void {
    try {
      write();
    } catch (err) {
      this.fail(err);
      throw err;
    }
  }

  private fail(err: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.failure = err;
    this.wake();
  }

  /** Resolves once `ready()` holds; rejects when the writer failed or was abandoned. */
  private waitUntil(ready: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (this.stopped) reject(this.failure ?? new Error("lsmdoc/sstable: table builder abandoned"));
        else if (ready()) resolve();
        else return false;
        return true;
      };
      if (!check()) this.waiter = check;
    });
  }

  private wake(): void {
    if (this.waiter !== null && this.waiter()) this.waiter = null;
  }
}
