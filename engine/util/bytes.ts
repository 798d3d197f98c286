/**
 * Byte-string helpers shared by the engine: unsigned lexicographic comparison (the engine's only
 * key order) and little-endian fixed-width integer coding used by the WAL and table formats.
 */

/** Bytes compared in JavaScript before a comparison hands the rest to `Buffer.compare`. */
const QUICK_COMPARE = 32;

/**
 * Compares two byte strings as unsigned bytes, shorter-prefix first. Returns a negative number,
 * zero or a positive number. The first 32 bytes are compared in JavaScript (most keys differ
 * there, and a native call costs more than that loop); only long keys equal that far go through
 * `Buffer.compare`.
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  const quick = n < QUICK_COMPARE ? n : QUICK_COMPARE;
  for (let i = 0; i < quick; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  if (n > QUICK_COMPARE) return Buffer.compare(a, b);
  return a.length - b.length;
}

/** True when `a` and `b` hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Largest sequence number the engine hands out: JavaScript numbers are exact up to 2^53 - 1. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** Writes `v` (0 <= v <= 2^53 - 1) as a little-endian u64 at `off`. */
export function writeU64LE(buf: Uint8Array, off: number, v: number): void {
  const lo = v % 0x1_0000_0000;
  const hi = (v - lo) / 0x1_0000_0000;
  writeU32LE(buf, off, lo);
  writeU32LE(buf, off + 4, hi);
}

/** Reads a little-endian u64 at `off`; returns -1 when it exceeds 2^53 - 1. */
export function readU64LE(buf: Uint8Array, off: number): number {
  const lo = readU32LE(buf, off);
  const hi = readU32LE(buf, off + 4);
  if (hi > 0x1f_ffff) return -1;
  return hi * 0x1_0000_0000 + lo;
}

export function writeU32LE(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
  buf[off + 2] = (v >>> 16) & 0xff;
  buf[off + 3] = (v >>> 24) & 0xff;
}

export function readU32LE(buf: Uint8Array, off: number): number {
  return (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16)) + buf[off + 3]! * 0x100_0000;
}

export function writeU16LE(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
}

export function readU16LE(buf: Uint8Array, off: number): number {
  return buf[off]! | (buf[off + 1]! << 8);
}

/** Lowercase hex of `bytes` (for messages and tests). */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}
