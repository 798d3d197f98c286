/**
 * Internal keys as SSTables store them: the user key followed by an 8-byte trailer, the
 * little-endian u64 `seq * 256 + kind`. Order (the engine's one order, `compareInternal` in
 * `memtable/skiplist.ts`): user key ascending as unsigned bytes, then seq descending. The kind
 * never decides order: one (user key, seq) pair exists at most once.
 *
 * Sequence numbers stay below 2^53, so the trailer is written and read as two u32 halves with
 * plain number arithmetic (no BigInt): low half = (seq mod 2^24) * 256 + kind, high half =
 * floor(seq / 2^24).
 */
import { compareBytes, MAX_SEQ, writeU32LE } from "../util/bytes.js";
import type { EntryKind } from "../wal/record.js";

export const TRAILER_SIZE = 8;

/** 2^24: the part of seq that shares the low u32 with the kind byte. */
const SEQ_LOW_SPAN = 0x100_0000;
/** Largest high half a seq <= 2^53-1 can have. */
const MAX_TRAILER_HIGH = Math.floor(MAX_SEQ / SEQ_LOW_SPAN);

/** Writes the trailer of (seq, kind) at `off`. */
export function writeTrailer(buf: Uint8Array, off: number, seq: number, kind: number): void {
  const low = seq % SEQ_LOW_SPAN;
  writeU32LE(buf, off, low * 256 + kind);
  writeU32LE(buf, off + 4, (seq - low) / SEQ_LOW_SPAN);
}

/** The seq of the trailer at `off`, or -1 when it exceeds 2^53-1. */
export function trailerSeq(buf: Uint8Array, off: number): number {
  const high = (buf[off + 4]! | (buf[off + 5]! << 8) | (buf[off + 6]! << 16)) + buf[off + 7]! * 0x100_0000;
  if (high > MAX_TRAILER_HIGH) return -1;
  const low = buf[off + 1]! | (buf[off + 2]! << 8) | (buf[off + 3]! << 16);
  return high * SEQ_LOW_SPAN + low;
}

/** The kind byte of the trailer at `off` (not validated). */
export function trailerKind(buf: Uint8Array, off: number): number {
  return buf[off]!;
}

/** A decoded internal key; `key` is the user key. */
export interface InternalKey {
  key: Uint8Array;
  seq: number;
  kind: EntryKind;
}

/** `userKey ++ trailer(seq, kind)` in a new array. */
export function encodeInternalKey(userKey: Uint8Array, seq: number, kind: number): Uint8Array {
  const out = new Uint8Array(userKey.length + TRAILER_SIZE);
  out.set(userKey, 0);
  writeTrailer(out, userKey.length, seq, kind);
  return out;
}

/**
 * Compares the user key stored at `buf[start .. start + len)` with `key`, as unsigned bytes,
 * without allocating a view. `from`: a count of leading bytes known to be equal (both keys are at
 * least that long), which are not compared again.
 */
export function compareUserKeyAt(buf: Uint8Array, start: number, len: number, key: Uint8Array, from = 0): number {
  const n = len < key.length ? len : key.length;
  for (let i = from; i < n; i++) {
    const d = buf[start + i]! - key[i]!;
    if (d !== 0) return d;
  }
  return len - key.length;
}

/**
 * Compares the internal key stored at `buf[start .. start + len)` (user key ++ trailer) with
 * (`key`, `seq`). A stored seq beyond 2^53 (only possible in damaged data, which callers reject
 * before comparing) compares as -1.
 */
export function compareInternalAt(buf: Uint8Array, start: number, len: number, key: Uint8Array, seq: number): number {
  const userLen = len - TRAILER_SIZE;
  const c = compareUserKeyAt(buf, start, userLen, key);
  if (c !== 0) return c;
  return seq - trailerSeq(buf, start + userLen);
}

/** Compares two encoded internal keys. */
export function compareEncodedInternal(a: Uint8Array, b: Uint8Array): number {
  const c = compareBytes(a.subarray(0, a.length - TRAILER_SIZE), b.subarray(0, b.length - TRAILER_SIZE));
  if (c !== 0) return c;
  return trailerSeq(b, b.length - TRAILER_SIZE) - trailerSeq(a, a.length - TRAILER_SIZE);
}
