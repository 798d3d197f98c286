/**
 * CRC-32 (IEEE 802.3, the polynomial zlib and the `crc-32` package use) over byte ranges.
 *
 * Two implementations compute the same function: the `crc-32` package (pure JavaScript, fastest
 * for short inputs such as WAL chunk headers) and `zlib.crc32` (native, several times faster on
 * 4 KiB blocks, present from Node 20.15). `crc32()` picks per call by length; results are
 * interchangeable, which `test/engine/util/crc32.test.ts` checks.
 */
import CRC32 from "crc-32";
import * as zlib from "node:zlib";

type NativeCrc32 = (data: Uint8Array, value?: number) => number;
const nativeCrc32: NativeCrc32 | undefined = (zlib as unknown as { crc32?: NativeCrc32 }).crc32;

/** Inputs at least this long go to the native implementation when it exists. */
const NATIVE_THRESHOLD = 96;

/**
 * CRC-32 of `data`, continuing from `seed` (the CRC of the bytes before `data`), as an unsigned
 * 32-bit number. `crc32(b, crc32(a)) === crc32(a ++ b)`.
 */
export function crc32(data: Uint8Array, seed = 0): number {
  if (nativeCrc32 !== undefined && data.length >= NATIVE_THRESHOLD) return nativeCrc32(data, seed >>> 0);
  return CRC32.buf(data, seed | 0) >>> 0;
}

/** CRC-32 of one byte followed by `data`: the WAL chunk checksum (type byte, then payload). */
export function crc32WithPrefixByte(prefix: number, data: Uint8Array): number {
  const head = CRC32.buf(PREFIX_BYTES[prefix & 0xff]!, 0);
  return crc32(data, head >>> 0);
}

const PREFIX_BYTES: Uint8Array[] = Array.from({ length: 256 }, (_, i) => Uint8Array.of(i));

/** Exposed for tests: the pure-JavaScript implementation alone. */
export function crc32Portable(data: Uint8Array, seed = 0): number {
  return CRC32.buf(data, seed | 0) >>> 0;
}
