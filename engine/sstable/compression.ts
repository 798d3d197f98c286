/**
 * Data block compression (format in `format.ts`, docs/format.md "Compressed data blocks"): what a
 * compressed block's contents look like, when compressing is worth it, and the checked inflate
 * that reads one back.
 *
 * ```
 *  compressed contents (trailer type 1 = deflate)
 * +------------------+------------------------------------------------+
 * | rawSize varint32 | raw DEFLATE stream (RFC 1951) of rawSize bytes |
 * +------------------+------------------------------------------------+
 * ```
 *
 * The uncompressed size up front bounds the inflate (a damaged stream can never make the reader
 * allocate more than the block claims) and gives a second check after it: the stream must end
 * exactly at the block's end and produce exactly rawSize bytes. The CRC in the trailer covers
 * these stored (compressed) bytes and is checked before inflating, so zlib only ever sees bytes
 * the writer produced; every inflate failure is still turned into a CorruptionError.
 *
 * Compressing itself happens off the JavaScript thread (`deflate-worker.ts`); inflating is
 * synchronous, because reads are (a cache miss costs one positional read and one inflate), with
 * one zlib context the thread reuses (`raw-inflater.ts`).
 */
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { CorruptionError } from "../errors.js";
import { type RawInflater, rawInflater } from "./raw-inflater.js";
import { decodeVarint32, encodeVarint32, MAX_VARINT32_LENGTH, type VarintOut } from "../util/varint.js";

/** How data blocks are stored: `"deflate"` compresses them when that saves at least 1/8. */
export type Compression = "deflate" | "none";

/**
 * zlib level used for data blocks. Measured on blocks of msgpack documents and index entries
 * (docs/format.md): levels 1 to 6 give ratios within 4% of each other, and the per-call setup
 * dominates the time, so the cheap end is chosen.
 */
export const DEFLATE_LEVEL = 1;

/**
 * A block is stored compressed only when that saves at least `raw / 8` bytes (LevelDB's rule):
 * below that, the inflate on every cache miss costs more than the bytes are worth.
 */
export function worthCompressing(rawSize: number, storedSize: number): boolean {
  return storedSize <= rawSize - rawSize / 8;
}

/** Bytes of the rawSize prefix for a block of `rawSize` bytes. */
function prefixLength(rawSize: number): number {
  let n = 1;
  for (let v = rawSize; v >= 0x80; v = Math.floor(v / 128)) n++;
  return n;
}

/**
 * The compressed contents (prefix ++ `deflated`) for a block of `rawSize` bytes, or `null` when
 * storing it compressed would not save enough (then the raw contents are stored, type 0).
 */
export function compressedContents(rawSize: number, deflated: Uint8Array): Uint8Array | null {
  const size = prefixLength(rawSize) + deflated.length;
  if (!worthCompressing(rawSize, size)) return null;
  const out = new Uint8Array(size);
  const p = encodeVarint32(out, 0, rawSize);
  out.set(deflated, p);
  return out;
}

/** Raw DEFLATE of `raw` at {@link DEFLATE_LEVEL}, on the calling thread. */
export function deflateBlock(raw: Uint8Array, level = DEFLATE_LEVEL): Uint8Array {
  return deflateRawSync(raw, { level });
}

const varintOut: VarintOut = { value: 0 };

/** DEFLATE's largest possible expansion: 258 bytes per length/distance pair of ~2 bits. */
const MAX_DEFLATE_RATIO = 1032;

/**
 * Inflates the stored contents of a compressed data block that starts at `offset` in `file`
 * (its CRC already checked). Throws {@link CorruptionError} at `offset` when the prefix is
 * malformed, zlib rejects the stream, the stream does not end exactly at the block's end, or it
 * does not inflate to exactly rawSize bytes. `inflater`: the thread's reusable one by default;
 * null inflates with zlib's one-shot API (the path taken where the reusable one is unavailable).
 */
export function inflateBlock(stored: Uint8Array, file: string, offset: number, inflater: RawInflater | null = rawInflater()): Uint8Array {
  const p = decodeVarint32(stored, 0, Math.min(stored.length, MAX_VARINT32_LENGTH), varintOut);
  const rawSize = varintOut.value;
  if (p < 0 || rawSize === 0) throw new CorruptionError(file, offset, "compressed data block has a malformed size prefix");
  const streamLength = stored.length - p;
  let out: Uint8Array;
  let consumed: number;
  if (inflater !== null) {
    // One byte of room past rawSize: a stream that fills it says more than its prefix. No valid
    // stream inflates past MAX_DEFLATE_RATIO, so a damaged prefix cannot make this allocate more.
    const room = Math.min(rawSize, streamLength * MAX_DEFLATE_RATIO + 64) + 1;
    const buf = new Uint8Array(room);
    const r = inflater.inflate(stored, p, buf);
    if (typeof r === "string") throw new CorruptionError(file, offset, `compressed data block does not inflate (${r})`);
    if (r.written === room && room > rawSize) {
      throw new CorruptionError(file, offset, `compressed data block does not inflate (more than the ${rawSize} bytes its prefix says)`);
    }
    out = buf.subarray(0, r.written);
    consumed = streamLength - r.unread;
  } else {
    try {
      // `info` exposes how much input zlib consumed: it silently ignores bytes after the stream's end.
      // One output chunk of the block's size: with zlib's default 16 KiB chunks, a 16 KiB block
      // (plus its restart array) came out in two and was concatenated (~10% of the inflate).
      const r = inflateRawSync(stored.subarray(p), { maxOutputLength: rawSize, info: true, chunkSize: Math.max(64, rawSize) }) as unknown as {
        buffer: Buffer;
        engine: { bytesWritten: number };
      };
      // A plain Uint8Array view, as every block the reader hands out is (see table-reader.ts).
      out = new Uint8Array(r.buffer.buffer, r.buffer.byteOffset, r.buffer.byteLength);
      consumed = r.engine.bytesWritten;
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new CorruptionError(file, offset, `compressed data block does not inflate (${detail})`);
    }
  }
  if (out.length !== rawSize) throw new CorruptionError(file, offset, `compressed data block inflates to ${out.length} bytes, its prefix says ${rawSize}`);
  if (consumed !== streamLength) throw new CorruptionError(file, offset, `compressed data block has ${streamLength - consumed} bytes after its deflate stream`);
  return out;
}
