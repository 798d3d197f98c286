/**
 * Builds one key/value block (data, index or meta; layout in `format.ts`): entries with key prefix
 * compression against the previous key, a restart point (an entry stored whole, shared = 0) every
 * `restartInterval` entries so readers can binary-search, then the restart array and its count,
 * then the 5-byte trailer (compression type, CRC) unless the caller compresses the contents first.
 *
 * Invariants: keys are added in the order readers will expect (the table builder checks order;
 * this class only prefix-compresses keys); the buffer is reused across blocks, so the bytes `finish()` returns
 * are valid only until the next `add()` or `reset()`.
 */
import { writeU32LE } from "../util/bytes.js";
import { encodeVarint32, MAX_VARINT32_LENGTH } from "../util/varint.js";
import { BLOCK_TRAILER_SIZE, writeBlockTrailer } from "./format.js";

export class BlockBuilder {
  private buf: Uint8Array;
  private len = 0;
  private readonly restarts: number[] = [0];
  /** Entries since the last restart point. */
  private counter = 0;
  private entryCount = 0;
  private lastKey: Uint8Array;
  private lastKeyLen = 0;
  private finished = false;

  constructor(
    private readonly restartInterval: number,
    initialCapacity = 4096,
  ) {
    if (!Number.isInteger(restartInterval) || restartInterval < 1) throw new RangeError(`restart interval must be >= 1, got ${restartInterval}`);
    this.buf = new Uint8Array(initialCapacity + 256);
    this.lastKey = new Uint8Array(64);
  }

  get empty(): boolean {
    return this.entryCount === 0;
  }

  get entries(): number {
    return this.entryCount;
  }

  /** Contents size (entries + restart array + count) if the block were finished now. */
  estimatedSize(): number {
    return this.len + this.restarts.length * 4 + 4;
  }

  private ensure(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const grown = new Uint8Array(cap);
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }

  /** Adds `key[0, keyLen)` (the whole of `key` by default) with `value`. */
  add(key: Uint8Array, value: Uint8Array, keyLen = key.length): void {
    if (this.finished) throw new Error("BlockBuilder.add after finish without reset");
    let shared = 0;
    if (this.counter < this.restartInterval) {
      const last = this.lastKey;
      const max = this.lastKeyLen < keyLen ? this.lastKeyLen : keyLen;
      while (shared < max && last[shared] === key[shared]) shared++;
    } else {
      this.restarts.push(this.len);
      this.counter = 0;
    }
    const unshared = keyLen - shared;
    this.ensure(3 * MAX_VARINT32_LENGTH + unshared + value.length);
    const b = this.buf;
    let p = encodeVarint32(b, this.len, shared);
    p = encodeVarint32(b, p, unshared);
    p = encodeVarint32(b, p, value.length);
    for (let i = shared; i < keyLen; i++) b[p++] = key[i]!;
    if (value.length > 32) {
      b.set(value, p);
      p += value.length;
    } else {
      for (let i = 0; i < value.length; i++) b[p++] = value[i]!;
    }
    this.len = p;
    this.rememberKey(key, keyLen, shared);
    this.counter++;
    this.entryCount++;
  }

  private rememberKey(key: Uint8Array, keyLen: number, shared: number): void {
    if (keyLen > this.lastKey.length) {
      const grown = new Uint8Array(Math.max(keyLen, this.lastKey.length * 2));
      grown.set(this.lastKey.subarray(0, shared));
      this.lastKey = grown;
    }
    const last = this.lastKey;
    for (let i = shared; i < keyLen; i++) last[i] = key[i]!;
    this.lastKeyLen = keyLen;
  }

  /**
   * Appends the restart array, its count and the trailer. Returns the block as it goes on disk
   * uncompressed (contents ++ trailer), a view valid until the next `reset()`.
   */
  finish(): Uint8Array {
    const p = this.finishContents().length;
    writeBlockTrailer(this.buf, p);
    return this.buf.subarray(0, p + BLOCK_TRAILER_SIZE);
  }

  /**
   * Appends the restart array and its count; returns the contents without a trailer (what a
   * compressed block is made from), a view valid until the next `reset()`.
   */
  finishContents(): Uint8Array {
    const n = this.restarts.length;
    this.ensure(n * 4 + 4 + BLOCK_TRAILER_SIZE);
    const b = this.buf;
    let p = this.len;
    for (let i = 0; i < n; i++, p += 4) writeU32LE(b, p, this.restarts[i]!);
    writeU32LE(b, p, n);
    p += 4;
    this.finished = true;
    return b.subarray(0, p);
  }

  reset(): void {
    this.len = 0;
    this.restarts.length = 1;
    this.counter = 0;
    this.entryCount = 0;
    this.lastKeyLen = 0;
    this.finished = false;
  }
}
