/**
 * A bloom filter over the user keys of one memtable, so that a point read of a key the memtable
 * does not hold (most reads, once data lives in tables) skips the skip list search, whose node
 * visits are cache misses across megabytes of pages.
 *
 * Sized once, from the memtable's byte budget: one bit per byte of budget (4 Mi bits = 512 KiB for
 * the default 4 MiB memtable). Entries are at least a few dozen bytes, so that is 100+ bits per key
 * in practice and two probes give a false-positive rate far below 1%; a memtable that outgrows its
 * budget only raises that rate. Never a false negative: every added key's bits are set before the
 * entry is visible. Keys are hashed with 32-bit FNV-1a; the second probe is derived from the first
 * (Kirsch-Mitzenmacher).
 */

const MIN_BITS = 1 << 16;
const MAX_BITS = 1 << 30;

export class MemtableKeyFilter {
  private readonly bits: Int32Array;
  private readonly mask: number;

  constructor(budgetBytes: number) {
    let n = MIN_BITS;
    while (n < budgetBytes && n < MAX_BITS) n *= 2;
    this.bits = new Int32Array(n >>> 5);
    this.mask = n - 1;
  }

  add(key: Uint8Array): void {
    const h = hash(key);
    const bits = this.bits;
    const a = h & this.mask;
    const b = (h + ((h >>> 15) | (h << 17)) * 2 + 1) & this.mask;
    bits[a >>> 5]! |= 1 << (a & 31);
    bits[b >>> 5]! |= 1 << (b & 31);
  }

  /** False when `key` was certainly never added. */
  mayContain(key: Uint8Array): boolean {
    const h = hash(key);
    const bits = this.bits;
    const a = h & this.mask;
    if ((bits[a >>> 5]! & (1 << (a & 31))) === 0) return false;
    const b = (h + ((h >>> 15) | (h << 17)) * 2 + 1) & this.mask;
    return (bits[b >>> 5]! & (1 << (b & 31))) !== 0;
  }
}

function hash(key: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key[i]!, 0x01000193);
  // Final avalanche, so that the low bits used as positions depend on every byte.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}
