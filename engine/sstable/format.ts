/**
 * The SSTable format, version 2 (docs/format.md, "SSTables" has every byte, with a worked example).
 * Ideas from LevelDB's table format; the checksums, the fixed-width footer and the properties
 * block are lsmdoc's. Every byte of a table is covered by a CRC or a structural check, so a
 * flipped byte is found by `verify()` or by the read that meets it, never returned as data.
 * Version 2 added compressed data blocks (type 1) and the data-raw-bytes / data-stored-bytes
 * properties; this build refuses version 1 tables (they predate any release).
 *
 * ```
 *  table
 * +--------------+-----+--------------+--------------+------------+-------------+---------+
 * | data block 0 | ... | data block n | filter block | meta block | index block | footer  |
 * +--------------+-----+--------------+--------------+------------+-------------+---------+
 *   blocks tile the file with no gaps; every block is followed by its 5-byte trailer
 *
 *  block (on disk)                                        trailer
 * +---------------------------------------------------+---------+-----------+
 * | contents (handle.size bytes, as stored)           | type u8 | crc32 u32 |
 * +---------------------------------------------------+---------+-----------+
 *   type  = 0 none: contents are the block itself
 *           1 deflate (data blocks only): contents = rawSize varint32 ++ raw DEFLATE of the
 *             block (compression.ts); used only when it saves at least 1/8 of the block
 *   crc32 = CRC-32 (IEEE) of contents ++ type byte, i.e. of the bytes on disk
 *
 *  key/value block (data, index, meta), uncompressed
 * +---------+---------+-----+-------------------+----------------+-------------------+
 * | entry 0 | entry 1 | ... | restart[0..n) u32 | n u32          |
 * +---------+---------+-----+-------------------+----------------+
 *  entry := shared varint32 | unshared varint32 | valueLen varint32 | key[shared..] | value
 *  restart[i] = offset of an entry stored with shared = 0; restart[0] = 0
 *
 *  footer (64 bytes, at file size - 64)
 * +---------------+---------------+---------------+------------+-----------+-------------+
 * | filter handle | meta handle   | index handle  | version u32| crc32 u32 | magic 8 B   |
 * | off u64,size u64 (x3, 48 bytes)               | = 2        | of [0,52) | "lsmdocST"  |
 * +---------------+---------------+---------------+------------+-----------+-------------+
 * ```
 *
 * A handle's `size` counts the block's stored contents, not its trailer.
 */
import { CorruptionError } from "../errors.js";
import { readU32LE, readU64LE, writeU32LE, writeU64LE } from "../util/bytes.js";
import { crc32 } from "../util/crc32.js";
import { decodeVarint64, encodeVarint64, type VarintOut } from "../util/varint.js";

/** The last 8 bytes of every table: ASCII "lsmdocST". */
export const TABLE_MAGIC: Uint8Array = Uint8Array.of(0x6c, 0x73, 0x6d, 0x64, 0x6f, 0x63, 0x53, 0x54);
export const FORMAT_VERSION = 2;

export const BLOCK_TRAILER_SIZE = 5;
export const FOOTER_SIZE = 64;
/** Bytes of the footer covered by its CRC: the three handles and the version. */
export const FOOTER_CRC_COVERAGE = 52;
const FOOTER_CRC_OFFSET = 52;
const FOOTER_MAGIC_OFFSET = 56;

/** Entries between restart points in data blocks. */
export const RESTART_INTERVAL = 16;
/** Every index entry is a restart point, so an index seek is one binary search. */
export const INDEX_RESTART_INTERVAL = 1;
/** A data block stored uncompressed is closed once its contents reach this many bytes. */
export const TARGET_BLOCK_SIZE = 4096;
/**
 * The same for tables written with compression. Node's zlib spends most of a 4 KiB block's
 * deflate (~35 µs) and much of its inflate in per-call setup, so larger blocks cut the CPU a
 * table costs to write about 3x (and compress ~25% better), for a somewhat dearer cache miss.
 */
export const COMPRESSED_TARGET_BLOCK_SIZE = 16 * 1024;
/** Bloom filter bits per distinct user key (about 1% false positives). */
export const BLOOM_BITS_PER_KEY = 10;

export const CompressionType = {
  None: 0,
  Deflate: 1,
} as const;
export type CompressionType = (typeof CompressionType)[keyof typeof CompressionType];

/** Where a block's contents lie in the file. */
export interface BlockHandle {
  offset: number;
  /** Bytes of contents, excluding the trailer. */
  size: number;
}

/** Largest encoded handle: two varint64s. */
export const MAX_HANDLE_LENGTH = 16;

/** Writes `h` as varint64 offset ++ varint64 size at `off`; returns the offset after it. */
export function encodeBlockHandle(buf: Uint8Array, off: number, h: BlockHandle): number {
  return encodeVarint64(buf, encodeVarint64(buf, off, h.offset), h.size);
}

/**
 * Decodes a handle that must fill `buf[start, end)` exactly. Returns false when malformed;
 * otherwise fills `out`.
 */
export function decodeBlockHandle(buf: Uint8Array, start: number, end: number, out: BlockHandle, scratch: VarintOut): boolean {
  let p = decodeVarint64(buf, start, end, scratch);
  if (p < 0) return false;
  const offset = scratch.value;
  p = decodeVarint64(buf, p, end, scratch);
  if (p !== end) return false;
  out.offset = offset;
  out.size = scratch.value;
  return true;
}

/**
 * Fills in the trailer of the block whose stored contents are `buf[0, contentsLength)`: the
 * compression type and the CRC of contents ++ type. `buf` must have {@link BLOCK_TRAILER_SIZE}
 * bytes after the contents.
 */
export function writeBlockTrailer(buf: Uint8Array, contentsLength: number, type: CompressionType = CompressionType.None): void {
  buf[contentsLength] = type;
  writeU32LE(buf, contentsLength + 1, blockChecksum(buf, contentsLength));
}

/** CRC of `buf[0, contentsLength]` (contents plus the type byte that follows them). */
export function blockChecksum(buf: Uint8Array, contentsLength: number): number {
  return crc32(buf.subarray(0, contentsLength + 1));
}

/**
 * Checks the trailer of a filter, meta or index block read from the file (`raw` = contents ++
 * trailer) and returns the contents. Throws {@link CorruptionError} at the block's offset when the
 * read came up short, the CRC does not match or the type is not 0 (only data blocks may be
 * compressed).
 */
export function checkBlock(raw: Uint8Array, handle: BlockHandle, file: string, what: string): Uint8Array {
  if (checkBlockTrailer(raw, handle, file, what) !== CompressionType.None) {
    throw new CorruptionError(file, handle.offset + handle.size, `${what} block has compression type ${raw[handle.size]} (only data blocks are compressed)`);
  }
  return raw.subarray(0, handle.size);
}

/**
 * Checks the length and CRC of a block read from the file (`raw` = stored contents ++ trailer) and
 * returns its compression type, one of {@link CompressionType}: the contents are `raw[0,
 * handle.size)`. Throws {@link CorruptionError} at the block's offset when the read came up short
 * or the CRC does not match, and at its type byte when the type is unknown.
 */
export function checkBlockTrailer(raw: Uint8Array, handle: BlockHandle, file: string, what: string): CompressionType {
  const n = handle.size;
  if (raw.length !== n + BLOCK_TRAILER_SIZE) {
    throw new CorruptionError(file, handle.offset, `${what} block of ${n} bytes is cut short (read ${raw.length} of ${n + BLOCK_TRAILER_SIZE})`);
  }
  const stored = readU32LE(raw, n + 1);
  const actual = blockChecksum(raw, n);
  if (stored !== actual) {
    throw new CorruptionError(file, handle.offset, `${what} block checksum mismatch (stored ${hex32(stored)}, computed ${hex32(actual)})`);
  }
  // The type byte is under the CRC, so an unknown type here is a writer from a newer version.
  const type = raw[n]!;
  if (type !== CompressionType.None && type !== CompressionType.Deflate) {
    throw new CorruptionError(file, handle.offset + n, `${what} block has unknown compression type ${type}`);
  }
  return type as CompressionType;
}

function hex32(v: number): string {
  return `0x${v.toString(16).padStart(8, "0")}`;
}

export interface Footer {
  filter: BlockHandle;
  meta: BlockHandle;
  index: BlockHandle;
  version: number;
}

export function encodeFooter(f: Footer): Uint8Array {
  const out = new Uint8Array(FOOTER_SIZE);
  writeU64LE(out, 0, f.filter.offset);
  writeU64LE(out, 8, f.filter.size);
  writeU64LE(out, 16, f.meta.offset);
  writeU64LE(out, 24, f.meta.size);
  writeU64LE(out, 32, f.index.offset);
  writeU64LE(out, 40, f.index.size);
  writeU32LE(out, 48, f.version);
  writeU32LE(out, FOOTER_CRC_OFFSET, crc32(out.subarray(0, FOOTER_CRC_COVERAGE)));
  out.set(TABLE_MAGIC, FOOTER_MAGIC_OFFSET);
  return out;
}

/**
 * Decodes and checks the footer of a table of `fileSize` bytes: magic, CRC, version, and that the
 * filter, meta and index blocks tile the space right before the footer in that order. The data
 * blocks' tiling of `[0, filter.offset)` is checked by `verify()`.
 */
export function decodeFooter(bytes: Uint8Array, fileSize: number, file: string): Footer {
  const at = fileSize - FOOTER_SIZE;
  if (fileSize < FOOTER_SIZE || bytes.length !== FOOTER_SIZE) {
    throw new CorruptionError(file, 0, `file of ${fileSize} bytes is too short to be a table`);
  }
  for (let i = 0; i < TABLE_MAGIC.length; i++) {
    if (bytes[FOOTER_MAGIC_OFFSET + i] !== TABLE_MAGIC[i]) {
      throw new CorruptionError(file, at + FOOTER_MAGIC_OFFSET, "bad table magic number (not an lsmdoc table, or its end is damaged)");
    }
  }
  const stored = readU32LE(bytes, FOOTER_CRC_OFFSET);
  const actual = crc32(bytes.subarray(0, FOOTER_CRC_COVERAGE));
  if (stored !== actual) {
    throw new CorruptionError(file, at, `footer checksum mismatch (stored ${hex32(stored)}, computed ${hex32(actual)})`);
  }
  const version = readU32LE(bytes, 48);
  if (version !== FORMAT_VERSION) {
    const hint = version === 1 ? "; version 1 tables, written by pre-release builds before block compression, are not read" : "";
    throw new CorruptionError(file, at + 48, `unsupported table format version ${version} (this build reads ${FORMAT_VERSION})${hint}`);
  }
  const handle = (off: number): BlockHandle => {
    const offset = readU64LE(bytes, off);
    const size = readU64LE(bytes, off + 8);
    if (offset < 0 || size < 0) throw new CorruptionError(file, at + off, "footer block handle beyond 2^53");
    return { offset, size };
  };
  const filter = handle(0);
  const meta = handle(16);
  const index = handle(32);
  const end = (h: BlockHandle): number => h.offset + h.size + BLOCK_TRAILER_SIZE;
  if (end(filter) !== meta.offset || end(meta) !== index.offset || end(index) !== at) {
    throw new CorruptionError(file, at, "footer block handles do not tile the end of the file");
  }
  return { filter, meta, index, version };
}
