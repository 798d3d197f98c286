/**
 * A bloom filter over the user keys of one memtable, so that a point read of a key the memtable
 * does not hold (most reads, once data lives in tables) skips the skip list search, whose node
 * visits are cache misses across megabytes of pages.
 *
 * Sized once, from the memtable's byte budget: one bit per byte of budget (4 Mi bits = 512 KiB for
 * the default 4 MiB memtable). Entries are at least a few dozen bytes, so that is 100+ bits per key
 * in practice and two probes give a false-positive rate far below 1%; a memtable that outgrows its
 * budget only raises that rate. Never a false negative: every added key's bits are set before the
 * entry is visible.
 *
 * Keys are hashed with the tables' `hash32` (sstable/bloom.ts), so a point read hashes its key once
 * for the memtables and every table it probes. Like the tables' filters, this one is blocked: the
 * hash's low bits pick one 64-byte line and both probes fall inside it (positions from a remix of
 * the hash), so a lookup costs one cache miss, not two.
 */
import { hash32 } from "../sstable/bloom.js";

const MIN_BITS = 1 << 16;
const MAX_BITS = 1 << 30;
/** 32-bit words per 64-byte line. */
const LINE_WORDS = 16;

export class MemtableKeyFilter {
  private readonly bits: Int32Array;
  /** Lines - 1 (a power of two). */
  private readonly lineMask: number;

  constructor(budgetBytes: number) {
    let n = MIN_BITS;
    while (n < budgetBytes && n < MAX_BITS) n *= 2;
    this.bits = new Int32Array(n >>> 5);
    this.lineMask = n / (LINE_WORDS * 32) - 1;
  }

  add(key: Uint8Array): void {
    const h = hash32(key);
    const base = (h & this.lineMask) * LINE_WORDS;
    const g = remix(h);
    const a = g & 511;
    const b = (g >>> 9) & 511;
    const bits = this.bits;
    bits[base + (a >>> 5)]! |= 1 << (a & 31);
    bits[base + (b >>> 5)]! |= 1 << (b & 31);
  }

  /** False when `key` was certainly never added. */
  mayContain(key: Uint8Array): boolean {
    return this.mayContainHash(hash32(key));
  }

  /** {@link mayContain} for a key whose `hash32` is `h`. */
  mayContainHash(h: number): boolean {
    const base = (h & this.lineMask) * LINE_WORDS;
    const g = remix(h);
    const a = g & 511;
    const bits = this.bits;
    if ((bits[base + (a >>> 5)]! & (1 << (a & 31))) === 0) return false;
    const b = (g >>> 9) & 511;
    return (bits[base + (b >>> 5)]! & (1 << (b & 31))) !== 0;
  }
}

/** Bits independent of the line choice (the hash's low bits) for the two positions. */
function remix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return h ^ (h >>> 16);
}
