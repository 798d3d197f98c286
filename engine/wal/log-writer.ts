/**
 * Appends records to a log file in lsmdb's chunk format (`format.ts`). Records are first laid out
 * into a reusable staging buffer; `writePending()` hands the whole staged group to the file in one
 * `append`, which is how group commit turns many records into one write and one sync.
 *
 * The fragmentation rules are lsmdb's, including its corner cases: when fewer than 7 bytes remain
 * in a block they are zero-filled; when exactly 7 remain and the record is not empty, a First chunk
 * with an empty payload is written there.
 *
 * A log that is synced keeps zeros written ahead of its end ({@link WritableFile.preallocate}): the
 * first sync makes them durable with the file's new size, after which a group commit's sync only
 * writes data pages instead of waiting for a journal commit (measured here: 0.13 ms instead of
 * 0.26 ms mean, and no 0.6 ms tail). A log never synced (`sync: false`) is never preallocated. The
 * zeros are cut off when the log is closed; after a crash they remain, and recovery reads them as
 * a torn tail at the end of the last record, which is what they are to lsmdb's reader too (it
 * skips all-zero chunk headers as padding).
 */
import { crc32WithPrefixByte } from "../util/crc32.js";
import { writeU16LE, writeU32LE } from "../util/bytes.js";
import type { WritableFile } from "../fs/fs.js";
import { BLOCK_SIZE, ChunkType, HEADER_SIZE } from "./format.js";

/**
 * Zeros are written ahead in steps of the log's size, within these bounds (a small database that
 * syncs a few writes and closes pays for 64 KiB), once less than a quarter of a step is left.
 */
const PREALLOCATE_MIN_STEP = 64 * 1024;
const PREALLOCATE_MAX_STEP = 1024 * 1024;

function preallocationStep(size: number): number {
  return Math.min(PREALLOCATE_MAX_STEP, Math.max(PREALLOCATE_MIN_STEP, size));
}

export class LogWriter {
  private readonly file: WritableFile;
  /** Position inside the current block of the next byte to stage. */
  private blockOffset: number;
  private staged: Uint8Array = new Uint8Array(64 * 1024);
  private stagedLength = 0;
  /** File offset up to which zeros were written ahead (0: none). */
  private preallocated = 0;

  /** `file` must be positioned at its end; a new log starts at block offset 0. */
  constructor(file: WritableFile) {
    this.file = file;
    this.blockOffset = file.size % BLOCK_SIZE;
  }

  /** Bytes in the file plus bytes staged. */
  get size(): number {
    return this.file.size + this.stagedLength;
  }

  /** Bytes staged and not yet handed to the file. */
  get pendingBytes(): number {
    return this.stagedLength;
  }

  private reserve(n: number): void {
    const need = this.stagedLength + n;
    if (need <= this.staged.length) return;
    let cap = this.staged.length * 2;
    while (cap < need) cap *= 2;
    const grown = new Uint8Array(cap);
    grown.set(this.staged.subarray(0, this.stagedLength));
    this.staged = grown;
  }

  /** Stages one record (its full payload) as one or more chunks. */
  addRecord(payload: Uint8Array): void {
    // Upper bound on chunk headers and block trailers this record can need.
    this.reserve(payload.length + (Math.ceil((payload.length + 1) / (BLOCK_SIZE - HEADER_SIZE)) + 1) * (HEADER_SIZE + HEADER_SIZE));
    let pos = 0;
    let first = true;
    // lsmdb loops while data remains, so an empty record writes nothing at all; we never stage one.
    while (pos < payload.length) {
      const leftover = BLOCK_SIZE - this.blockOffset;
      if (leftover < HEADER_SIZE) {
        this.staged.fill(0, this.stagedLength, this.stagedLength + leftover);
        this.stagedLength += leftover;
        this.blockOffset = 0;
        continue;
      }
      const avail = leftover - HEADER_SIZE;
      const remaining = payload.length - pos;
      const fragment = remaining < avail ? remaining : avail;
      const last = fragment === remaining;
      const type = first ? (last ? ChunkType.Full : ChunkType.First) : last ? ChunkType.Last : ChunkType.Middle;
      const body = payload.subarray(pos, pos + fragment);
      const h = this.stagedLength;
      writeU32LE(this.staged, h, crc32WithPrefixByte(type, body));
      writeU16LE(this.staged, h + 4, fragment);
      this.staged[h + 6] = type;
      this.staged.set(body, h + HEADER_SIZE);
      this.stagedLength += HEADER_SIZE + fragment;
      this.blockOffset += HEADER_SIZE + fragment;
      pos += fragment;
      first = false;
    }
  }

  /** Hands every staged byte to the file (one append). */
  writePending(): void {
    if (this.stagedLength === 0) return;
    const data = this.staged.subarray(0, this.stagedLength);
    this.stagedLength = 0;
    this.file.append(data);
    if (this.staged.length > 4 * 1024 * 1024) this.staged = new Uint8Array(64 * 1024);
  }

  /**
   * Makes every written byte durable. `moreToCome: false` (a last sync before the log is closed)
   * writes no zeros ahead.
   */
  sync(moreToCome = true): Promise<void> {
    if (moreToCome) this.preallocateAhead();
    return this.file.sync();
  }

  /**
   * {@link sync} on the calling thread, blocking it, returning true; or false, having done nothing,
   * when the file offers no blocking sync or zeros are due to be written ahead (the sync that makes
   * new zeros durable is a slow one, better waited for off the thread).
   */
  trySyncBlocking(): boolean {
    const file = this.file;
    if (file.syncBlocking === undefined || this.preallocationDue()) return false;
    file.syncBlocking();
    return true;
  }

  private preallocationDue(): boolean {
    const file = this.file;
    if (file.preallocate === undefined) return false;
    return this.preallocated - file.size < preallocationStep(file.size) / 4;
  }

  private preallocateAhead(): void {
    if (!this.preallocationDue()) return;
    const size = this.file.size;
    this.preallocated = size + preallocationStep(size);
    this.file.preallocate!(this.preallocated);
  }

  close(): void {
    this.file.close();
  }
}
