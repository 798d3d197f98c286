/**
 * A loaded key/value block (layout in `format.ts`): its contents, whose trailer has already been
 * checked and removed (and which were inflated if the block was stored compressed), and its
 * restart array, validated once here (at least one entry; restart[0]
 * = 0; offsets strictly increasing and inside the entries area). Blocks are immutable once built,
 * which is what lets cursors and callers keep views into them, and the block cache share them.
 */
import { CorruptionError } from "../errors.js";
import { readU32LE } from "../util/bytes.js";

/** Bytes the block cache charges per block beyond its contents (objects, map entries). */
const BLOCK_OVERHEAD = 160;

/** A loaded block: contents (trailer already checked and removed) and its restart array. */
export class Block {
  readonly restartsOffset: number;
  readonly numRestarts: number;
  /** Offsets of the restart points, validated: strictly increasing from 0. */
  readonly restarts: Uint32Array;
  /**
   * Bytes every restart key's user key starts with (those the first and last share), or -1
   * before the first seek computes it (block-reader.ts).
   */
  restartPrefixLength = -1;
  /** Offset of restart point 0's user key, set with {@link restartPrefixLength}. */
  restartKeyAt = 0;

  constructor(
    /** Contents, without the trailer; never modified. */
    readonly data: Uint8Array,
    /** File the block came from, for error messages. */
    readonly file: string,
    /** Offset of the block's first byte in `file`. */
    readonly fileOffset: number,
    /**
     * For a block stored compressed: its stored size. Offsets inside `data` then have no place
     * in the file, so errors point at the block's start and name the offset in the inflated block.
     */
    readonly storedSize?: number,
  ) {
    const len = data.length;
    if (len < 8) this.corrupt(0, `block of ${len} bytes is too short`);
    const n = readU32LE(data, len - 4);
    // At least one restart point, and the array must fit in front of its count.
    if (n < 1 || n > (len - 4) / 4) this.corrupt(len - 4, `block restart count ${n} does not fit a block of ${len} bytes`);
    const restartsOffset = len - 4 - 4 * n;
    if (restartsOffset === 0) this.corrupt(0, "block has no entries");
    // Decoded once here (the loop validates them anyway) so that seeks index an array.
    const restarts = new Uint32Array(n);
    let prev = -1;
    for (let i = 0; i < n; i++) {
      const r = readU32LE(data, restartsOffset + 4 * i);
      if (i === 0 ? r !== 0 : r <= prev || r >= restartsOffset) {
        this.corrupt(restartsOffset + 4 * i, `restart point ${i} = ${r} is out of order or out of range`);
      }
      restarts[i] = r;
      prev = r;
    }
    this.restarts = restarts;
    this.restartsOffset = restartsOffset;
    this.numRestarts = n;
  }

  /** Bytes this block holds in a cache. */
  get charge(): number {
    return this.data.length + this.restarts.byteLength + BLOCK_OVERHEAD;
  }

  /** Throws a CorruptionError at `offset` within this block. */
  corrupt(offset: number, detail: string): never {
    if (this.storedSize !== undefined) {
      throw new CorruptionError(this.file, this.fileOffset, `${detail} (at byte ${offset} of the block inflated from ${this.storedSize} stored bytes)`);
    }
    throw new CorruptionError(this.file, this.fileOffset + offset, detail);
  }
}
