/**
 * Byte storage for memtable keys and values (after LevelDB's `Arena`): bytes are copied into large
 * slabs, so a memtable of a million entries is a few dozen heap objects rather than millions. That
 * matters because V8's scavenger copies every young object that is still alive; with a heap object
 * per entry, each minor GC costs time proportional to the writes since the previous one.
 *
 * Invariants:
 * - Bytes, once written, are never moved or overwritten, and no slab is released before the arena
 *   is dropped: a view handed out stays valid and unchanged for as long as anyone holds it.
 * - A location is a (slab id, offset) pair; the id indexes `slabs`. Small allocations are carved
 *   from the current slab, and one that does not fit retires it; an allocation larger than a
 *   quarter slab gets a buffer of its own instead, so a retired slab wastes under a quarter of its
 *   size and a big value never retires a slab that still had room.
 * - Slabs are whole buffers of their own (never views of a pooled buffer), so that handing a
 *   frozen memtable to the flush thread (compaction/compaction-worker.ts) copies just its slabs.
 */

/** Size slabs grow to. */
export const SLAB_SIZE = 1 << 20;
/** Allocations above this get a dedicated buffer. */
export const LARGE_ALLOCATION = SLAB_SIZE / 4;
/** First slab size: a memtable that stays small (tests, tiny `memtableSize`) stays small in memory. */
const FIRST_SLAB_SIZE = 1 << 16;
/** Below this length a JavaScript loop copies faster than a native `set` call. */
const SHORT_COPY = 8;

const EMPTY = new Uint8Array(0);

/** A zeroed slab with an ArrayBuffer of its own (`Buffer` for its range compares). */
function newSlab(n: number): Buffer {
  return Buffer.alloc(n);
}

export class Arena {
  /**
   * Every slab and dedicated buffer, by id. Buffers (not plain Uint8Arrays) so that comparisons of
   * long keys can use `Buffer#compare` on ranges without creating views.
   */
  readonly slabs: Buffer[] = [];
  /** Offset of the most recent allocation inside its slab (the slab id is what `allocate` returns). */
  offset = 0;
  private current = -1;
  private pos = 0;
  private end = 0;
  private nextSlabSize = FIRST_SLAB_SIZE;
  private used = 0;

  /**
   * Bytes no longer available to new entries: everything handed out, plus the unused tails of
   * retired slabs. The free tail of the current slab is not counted, so a memtable's size tracks
   * its data rather than jumping a slab at a time.
   */
  get bytesUsed(): number {
    return this.used;
  }

  /** A read-only arena over `slabs`: a copy, on another thread, of a frozen arena's slabs. */
  static over(slabs: readonly Uint8Array[]): Arena {
    const arena = new Arena();
    for (const s of slabs) arena.slabs.push(Buffer.from(s.buffer, s.byteOffset, s.byteLength));
    return arena;
  }

  /** Reserves `n` bytes; returns the slab id and leaves the offset in `offset`. */
  allocate(n: number): number {
    if (n === 0) {
      // Nothing will be read there; any id will do.
      this.offset = 0;
      return 0;
    }
    if (n > LARGE_ALLOCATION) {
      this.slabs.push(newSlab(n));
      this.used += n;
      this.offset = 0;
      return this.slabs.length - 1;
    }
    if (this.pos + n > this.end) {
      // The old tail is lost to new entries: count it as used.
      this.used += this.end - this.pos;
      let size = this.nextSlabSize;
      while (size < n) size *= 2;
      this.nextSlabSize = Math.min(SLAB_SIZE, size * 2);
      this.slabs.push(newSlab(size));
      this.current = this.slabs.length - 1;
      this.pos = 0;
      this.end = size;
    }
    this.offset = this.pos;
    this.pos += n;
    this.used += n;
    return this.current;
  }

  /** Copies `src` to `slab` at `offset`. */
  write(slab: number, offset: number, src: Uint8Array): void {
    const dst = this.slabs[slab]!;
    const n = src.length;
    if (n <= SHORT_COPY) {
      for (let i = 0; i < n; i++) dst[offset + i] = src[i]!;
    } else {
      dst.set(src, offset);
    }
  }

  /** A view of `length` bytes at (`slab`, `offset`). The bytes must not be modified. */
  view(slab: number, offset: number, length: number): Uint8Array {
    if (length === 0) return EMPTY;
    const s = this.slabs[slab]!;
    return new Uint8Array(s.buffer, s.byteOffset + offset, length);
  }
}
