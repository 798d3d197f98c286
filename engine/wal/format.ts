/**
 * The write-ahead-log format of lsmdb 1.0, kept byte for byte (SPEC §2.1, docs/format.md).
 *
 * A log is a sequence of 32 KiB blocks. Records are cut into chunks that never cross a block:
 *
 * ```
 *  block (32768 bytes)
 * +--------------------------------------------------------------+
 * | chunk | chunk | ...                          | zero trailer  |  trailer < 7 bytes
 * +--------------------------------------------------------------+
 *  chunk
 * +-------------+-------------+---------+------------------------+
 * | crc32 u32LE | length u16LE| type u8 | payload (length bytes) |
 * +-------------+-------------+---------+------------------------+
 *   crc32 = CRC-32 (IEEE) over type byte ++ payload
 *   type  = 1 Full | 2 First | 3 Middle | 4 Last
 * ```
 *
 * A record (the payload reassembled from its chunks) is one of:
 *
 * ```
 *  Put/Delete (lsmdb): op u8 (1|2) | seq u64LE | keyLen u16LE | key | valLen u32LE | val
 *  Batch (lsmdoc):     op u8 (3)   | seq u64LE | count u32LE  | count x (op u8 | keyLen u16LE | key | valLen u32LE | val)
 * ```
 */

export const BLOCK_SIZE = 32768;
export const HEADER_SIZE = 7;
export const MAX_FRAGMENT = BLOCK_SIZE - HEADER_SIZE;

export const ChunkType = {
  Full: 1,
  First: 2,
  Middle: 3,
  Last: 4,
} as const;

export const Opcode = {
  Put: 1,
  Delete: 2,
  Batch: 3,
} as const;

/** Fixed bytes of a Put/Delete record around the key and value. */
export const SINGLE_RECORD_OVERHEAD = 1 + 8 + 2 + 4;
/** Fixed bytes of a Batch record before its entries. */
export const BATCH_HEADER_SIZE = 1 + 8 + 4;
/** Fixed bytes of one batch entry around its key and value. */
export const BATCH_ENTRY_OVERHEAD = 1 + 2 + 4;

export const MAX_KEY_LENGTH = 0xffff;
export const MAX_VALUE_LENGTH = 0xffff_ffff;

/** `00042.log`: five-digit decimal, as lsmdb names its logs. */
export function logFileName(num: number): string {
  return `${String(num).padStart(5, "0")}.log`;
}

/** The number in a log's file name, or undefined when `name` is not a log. */
export function parseLogFileName(name: string): number | undefined {
  const m = /^(\d+)\.log$/.exec(name);
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}
