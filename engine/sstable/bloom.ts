/**
 * The table's bloom filter over user keys, so that a point read skips tables that cannot hold the
 * key without touching their data blocks.
 *
 * One filter per table (not per block), sized from the table's real distinct-key count at
 * `bitsPerKey` bits each, with k = round(bitsPerKey * ln 2) probes clamped to 1..30. The filter
 * is cache-line blocked (after RocksDB's "fast local" bloom): the key's hash picks one 64-byte
 * line and all k probes fall inside it, by double hashing (p_i = a + i * b mod 512, b odd, so the
 * k positions are distinct). A lookup then costs one cache miss instead of k; the price is a
 * slightly higher false-positive rate than a classic filter of the same size: about 1.1% instead
 * of 0.8% at 10 bits per key (test/engine/sstable/bloom.test.ts prints what it measures).
 *
 * Filter block contents: `lines x 64 bytes | k u8`. The block's CRC protects it; a k outside
 * 1..30 or a size that is not whole lines is reported as corruption.
 */

/** The fixed seed of the key hash: part of the format (changing it invalidates every filter). */
const HASH_SEED = 0xbc9f1d34;
export const MAX_PROBES = 30;

/**
 * A 32-bit hash of `key` in the style of MurmurHash3 (x86, 32-bit): four bytes at a time,
 * multiply-rotate-multiply mixing, then an avalanche finalizer. Fast in JavaScript because
 * `Math.imul` keeps every step in 32-bit integers.
 */
export function hash32(key: Uint8Array, seed = HASH_SEED): number {
  const n = key.length;
  let h = seed | 0;
  let i = 0;
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  for (; i + 4 <= n; i += 4) {
    let k = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, c2);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = n - i;
  if (rest > 0) {
    let k = key[i]!;
    if (rest > 1) k |= key[i + 1]! << 8;
    if (rest > 2) k |= key[i + 2]! << 16;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, c2);
  }
  h ^= n;
  return fmix(h);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const LINE_BYTES = 64;
const LINE_BITS = LINE_BYTES * 8;

/** The in-line probe seed derived from a key hash (an independent-looking remix of it). */
function probeHash(h: number): number {
  return fmix(h ^ 0x9e3779b9);
}

/** k for `bitsPerKey`: round(bitsPerKey * ln 2) in 1..30. */
export function probesFor(bitsPerKey: number): number {
  const k = Math.round(bitsPerKey * Math.LN2);
  return k < 1 ? 1 : k > MAX_PROBES ? MAX_PROBES : k;
}

/**
 * Collects key hashes while a table is built (4 bytes per distinct user key) and lays the filter
 * out at the end, when the real key count is known.
 */
export class BloomBuilder {
  private hashes = new Uint32Array(1024);
  private count = 0;

  constructor(private readonly bitsPerKey: number) {
    if (!(bitsPerKey >= 1 && bitsPerKey <= 64)) throw new RangeError(`bloom bits per key must be in 1..64, got ${bitsPerKey}`);
  }

  /** Adds a user key; callers add each distinct key once. */
  addKey(key: Uint8Array): void {
    if (this.count === this.hashes.length) {
      const grown = new Uint32Array(this.hashes.length * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.hashes[this.count++] = hash32(key);
  }

  get keys(): number {
    return this.count;
  }

  /** The filter block contents: bit lines, then k. */
  finish(): Uint8Array {
    const k = probesFor(this.bitsPerKey);
    const lines = Math.max(1, Math.ceil((this.count * this.bitsPerKey) / LINE_BITS));
    const bytes = lines * LINE_BYTES;
    const out = new Uint8Array(bytes + 1);
    const hashes = this.hashes;
    for (let i = 0; i < this.count; i++) {
      const h = hashes[i]!;
      const base = (h % lines) * LINE_BYTES;
      const g = probeHash(h);
      let pos = g & (LINE_BITS - 1);
      const step = (g >>> 9) | 1;
      for (let j = 0; j < k; j++) {
        out[base + (pos >>> 3)] |= 1 << (pos & 7);
        pos = (pos + step) & (LINE_BITS - 1);
      }
    }
    out[bytes] = k;
    return out;
  }
}

/** A loaded filter. `contents` must have passed the block CRC. */
export class BloomFilter {
  private readonly lines: number;

  private constructor(
    private readonly data: Uint8Array,
    private readonly k: number,
  ) {
    this.lines = (data.length - 1) / LINE_BYTES;
  }

  /** Parses filter contents; returns a description of the defect when malformed. */
  static parse(contents: Uint8Array): BloomFilter | string {
    const n = contents.length - 1;
    if (n < LINE_BYTES || n % LINE_BYTES !== 0) return `filter of ${contents.length} bytes is not whole ${LINE_BYTES}-byte lines plus k`;
    const k = contents[n]!;
    if (k < 1 || k > MAX_PROBES) return `filter probe count ${k} outside 1..${MAX_PROBES}`;
    return new BloomFilter(contents, k);
  }

  /** False only when `key` was certainly not added. */
  mayContain(key: Uint8Array): boolean {
    return this.mayContainHash(hash32(key));
  }

  /** {@link mayContain} for a key whose {@link hash32} is `h` (one hash serves every table a read probes). */
  mayContainHash(h: number): boolean {
    const base = (h % this.lines) * LINE_BYTES;
    const g = probeHash(h);
    let pos = g & (LINE_BITS - 1);
    const step = (g >>> 9) | 1;
    const d = this.data;
    for (let j = 0; j < this.k; j++) {
      if ((d[base + (pos >>> 3)]! & (1 << (pos & 7))) === 0) return false;
      pos = (pos + step) & (LINE_BITS - 1);
    }
    return true;
  }

  get byteLength(): number {
    return this.data.length;
  }
}
