/**
 * Unsigned LEB128 varints on hot paths (SSTable blocks, block handles): seven bits per byte, low
 * group first, high bit set on every byte but the last.
 *
 * - varint32 holds 0..2^32-1 in at most 5 bytes; varint64 holds 0..2^53-1 (JavaScript's exact
 *   integer range, which is all the engine ever stores) in at most 8 bytes.
 * - Decoding is strict: a varint that runs past `end`, is longer than its width allows, exceeds its
 *   range, or is not in its shortest form (a final 0x00 byte after a continuation) is malformed.
 *   One value has one encoding, so a damaged varint cannot decode "equivalently".
 * - Nothing allocates: decoders return the new offset (or -1 when malformed) and leave the value
 *   in a caller-owned {@link VarintOut}, which a reader keeps and reuses. Callers turn -1 into a
 *   `CorruptionError` naming their file and offset.
 */

/** Receives a decoded value; reuse one per reader. */
export interface VarintOut {
  value: number;
}

/** Largest varint32 value. */
export const MAX_VARINT32 = 0xffff_ffff;
/** Largest bytes a varint32 occupies. */
export const MAX_VARINT32_LENGTH = 5;
/** Largest bytes a varint64 (up to 2^53-1) occupies. */
export const MAX_VARINT64_LENGTH = 8;

/** Bytes the encoding of `v` (0 <= v <= 2^53-1) takes. */
export function varintLength(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/**
 * Writes `v` (0 <= v <= 2^32-1) at `off`; returns the offset after it. The caller guarantees room
 * for {@link MAX_VARINT32_LENGTH} bytes (or `varintLength(v)`).
 */
export function encodeVarint32(buf: Uint8Array, off: number, v: number): number {
  // `>>> 0` keeps the shifts unsigned for values >= 2^31.
  v = v >>> 0;
  while (v >= 0x80) {
    buf[off++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[off++] = v;
  return off;
}

/** Writes `v` (0 <= v <= 2^53-1) at `off`; returns the offset after it. */
export function encodeVarint64(buf: Uint8Array, off: number, v: number): number {
  // Bit operations are 32-bit in JavaScript: peel 7-bit groups with division above 2^32.
  while (v > MAX_VARINT32) {
    buf[off++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  return encodeVarint32(buf, off, v);
}

/**
 * Decodes a varint32 starting at `off`, reading no byte at or after `end`. Returns the offset
 * after it and stores the value in `out.value`, or returns -1 when the bytes are malformed.
 */
export function decodeVarint32(buf: Uint8Array, off: number, end: number, out: VarintOut): number {
  if (off >= end) return -1;
  let b = buf[off]!;
  if (b < 0x80) {
    out.value = b;
    return off + 1;
  }
  let result = b & 0x7f;
  let shift = 7;
  for (let i = 1; i < MAX_VARINT32_LENGTH; i++) {
    if (off + i >= end) return -1;
    b = buf[off + i]!;
    if (i === MAX_VARINT32_LENGTH - 1 && b > 0x0f) return -1; // bits beyond 2^32, or a 6th byte
    // Multiplication rather than `<<` keeps bit 31 from turning the result negative.
    result += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) {
      if (b === 0) return -1; // not the shortest form
      out.value = result;
      return off + i + 1;
    }
    shift += 7;
  }
  return -1;
}

/**
 * Decodes a varint64 (at most 2^53-1) starting at `off`, reading no byte at or after `end`.
 * Returns the offset after it and stores the value in `out.value`, or -1 when malformed.
 */
export function decodeVarint64(buf: Uint8Array, off: number, end: number, out: VarintOut): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < MAX_VARINT64_LENGTH; i++) {
    if (off + i >= end) return -1;
    const b = buf[off + i]!;
    // The 8th byte carries bits 49..55; only 49..52 fit below 2^53.
    if (i === MAX_VARINT64_LENGTH - 1 && b > 0x0f) return -1;
    result += (b & 0x7f) * mul;
    if (b < 0x80) {
      if (b === 0 && i > 0) return -1;
      out.value = result;
      return off + i + 1;
    }
    mul *= 0x80;
  }
  return -1;
}
