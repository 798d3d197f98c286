/**
 * Reads the records of one log file and classifies damage (SPEC §2.1):
 *
 * - torn tail: a chunk cut short, failing its CRC, all zeros, or otherwise malformed, with no
 *   valid record start (a Full or First chunk) anywhere after it in the file. Everything from the
 *   damaged record on is dropped and reading stops normally; this is what a crash during an append
 *   leaves (including a tail whose length reached the disk before its bytes did, read as zeros).
 * - corruption: the same defects followed by a valid record start. That is damage in the middle of
 *   the log, which a crash cannot produce; it is a {@link CorruptionError} unless the caller opts
 *   into skipping it, in which case reading resumes at that record start and the damaged record is
 *   reported once, whatever number of chunks it had.
 *
 * The search for a valid record start after damage goes byte by byte, not only to the offset the
 * damaged header claims or to block starts: a damaged length field points nowhere, and a record
 * that follows in the same block would otherwise be mistaken for a torn tail and silently lost.
 * Only Full and First chunks count, because an orphaned Middle or Last chunk of the damaged record
 * itself is no evidence of later writes.
 *
 * Compatibility with lsmdb's reader: trailers of fewer than 7 bytes at a block's end are skipped,
 * as lsmdb does. lsmdb also skips the rest of a block at an all-zero chunk header; neither lsmdb's
 * writer nor ours ever writes one, so here it is treated as damage (a zero-filled tail is a torn
 * tail; zeros followed by valid records are corruption instead of silently skipped data).
 */
import { CorruptionError } from "../errors.js";
import { readU16LE, readU32LE } from "../util/bytes.js";
import { crc32WithPrefixByte } from "../util/crc32.js";
import { BLOCK_SIZE, ChunkType, HEADER_SIZE } from "./format.js";
import { decodeRecord, type DecodedRecord } from "./record.js";

export interface LogReadOptions {
  /** Skip damaged records in the middle of the log instead of throwing. */
  skipCorrupted?: boolean;
}

export interface LogReadSummary {
  /** Offset of the first byte of a torn tail, or undefined when the log ended cleanly. */
  tornTailOffset: number | undefined;
  /** Byte ranges skipped as corrupt (only with `skipCorrupted`). */
  skipped: Array<{ offset: number; reason: string }>;
}

interface Chunk {
  type: number;
  payload: Uint8Array;
  /** Offset just past the chunk. */
  end: number;
}

/** Parses the chunk at `pos`, or returns a defect description. */
function parseChunk(data: Uint8Array, pos: number): Chunk | string {
  if (pos + HEADER_SIZE > data.length) return "chunk header cut short";
  const length = readU16LE(data, pos + 4);
  const type = data[pos + 6]!;
  if (length === 0 && type === 0) return "zeros where a chunk header belongs";
  const end = pos + HEADER_SIZE + length;
  if ((pos % BLOCK_SIZE) + HEADER_SIZE + length > BLOCK_SIZE) return "chunk crosses a block boundary";
  if (end > data.length) return "chunk cut short";
  if (type < ChunkType.Full || type > ChunkType.Last) return `unknown chunk type ${type}`;
  const payload = data.subarray(pos + HEADER_SIZE, end);
  if (crc32WithPrefixByte(type, payload) !== readU32LE(data, pos)) return "chunk checksum mismatch";
  return { type, payload, end };
}

/**
 * The first offset at or after `from` holding a valid Full or First chunk, or -1 when there is
 * none. Positions inside a block's sub-header trailer are never chunk starts.
 */
function nextRecordStart(data: Uint8Array, from: number): number {
  for (let p = from; p + HEADER_SIZE <= data.length; p++) {
    const leftover = BLOCK_SIZE - (p % BLOCK_SIZE);
    if (leftover < HEADER_SIZE) {
      p += leftover - 1;
      continue;
    }
    const type = data[p + 6];
    if (type !== ChunkType.Full && type !== ChunkType.First) continue;
    if (typeof parseChunk(data, p) !== "string") return p;
  }
  return -1;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Calls `onRecord` for each record of `data` (the whole log file) in order and returns how the
 * log ended. `file` names the log in errors. Keys and values of the records are views into `data`
 * (or into a fresh array for records of several chunks), never Node Buffers.
 */
export function readLog(
  data: Uint8Array,
  file: string,
  onRecord: (record: DecodedRecord, offset: number) => void,
  options: LogReadOptions = {},
): LogReadSummary {
  const summary: LogReadSummary = { tornTailOffset: undefined, skipped: [] };
  // Records are views into `data`. A Node Buffer (what fs.readFileSync returns) would make them
  // Buffers, whose slice() shares memory, so a caller's "copy" could alias the memtable's bytes.
  if (Buffer.isBuffer(data)) data = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  let parts: Uint8Array[] = [];
  /** Offset of the first chunk of the record being reassembled, or -1 between records. */
  let recordStart = -1;

  // Handles a defect detected at `at`; `searchFrom` is where a later valid record may begin (past
  // the defect when the chunk's own framing can be trusted). Returns the offset to resume from, or
  // -1 to stop at a torn tail.
  const damaged = (at: number, reason: string, searchFrom: number): number => {
    const start = recordStart >= 0 ? recordStart : at;
    parts = [];
    recordStart = -1;
    const next = nextRecordStart(data, searchFrom);
    if (next < 0) {
      summary.tornTailOffset = start;
      return -1;
    }
    if (!options.skipCorrupted) {
      throw new CorruptionError(file, at, `${reason} (record at offset ${start}), followed by a valid record at offset ${next}`);
    }
    summary.skipped.push({ offset: start, reason });
    return next;
  };

  while (pos < data.length) {
    const leftover = BLOCK_SIZE - (pos % BLOCK_SIZE);
    if (leftover < HEADER_SIZE) {
      pos += leftover;
      continue;
    }
    const chunk = parseChunk(data, pos);
    if (typeof chunk === "string") {
      // The header may be what is damaged, so its length cannot be trusted: search from the next byte.
      pos = damaged(pos, chunk, pos + 1);
      if (pos < 0) return summary;
      continue;
    }
    const startsRecord = chunk.type === ChunkType.Full || chunk.type === ChunkType.First;
    if (startsRecord && recordStart >= 0) {
      // The unfinished record is the damage; this chunk itself is a valid place to resume.
      pos = damaged(pos, "record interrupted by a new record", pos);
      if (pos < 0) return summary;
      continue;
    }
    if (!startsRecord && recordStart < 0) {
      pos = damaged(pos, "continuation chunk without a first chunk", chunk.end);
      if (pos < 0) return summary;
      continue;
    }
    if (startsRecord) recordStart = pos;
    parts.push(chunk.payload);
    const at = pos;
    pos = chunk.end;
    if (chunk.type === ChunkType.Full || chunk.type === ChunkType.Last) {
      const payload = parts.length === 1 ? parts[0]! : concat(parts);
      const start = recordStart;
      const record = decodeRecord(payload);
      if (typeof record === "string") {
        pos = damaged(at, record, chunk.end);
        if (pos < 0) return summary;
        continue;
      }
      parts = [];
      recordStart = -1;
      onRecord(record, start);
    }
  }
  if (recordStart >= 0) summary.tornTailOffset = recordStart;
  return summary;
}
