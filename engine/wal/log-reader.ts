/**
 * Reads the records of one log file and classifies damage (SPEC §2.1):
 *
 * - torn tail: a chunk cut short, failing its CRC, or otherwise malformed, with no valid chunk
 *   anywhere after it in the file. Everything from that record on is dropped and reading stops
 *   normally; this is what a crash during an append leaves.
 * - corruption: the same defects followed by at least one valid chunk. That is damage in the
 *   middle of the log, which a crash cannot produce; it is a {@link CorruptionError} unless the
 *   caller opts into skipping it, in which case reading resumes at the next valid chunk and the
 *   lost bytes are counted.
 *
 * Compatibility with lsmdb's reader: zero trailers of fewer than 7 bytes and all-zero chunk headers
 * (length 0, type 0) are skipped to the next block, as lsmdb does.
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
  const end = pos + HEADER_SIZE + length;
  if ((pos % BLOCK_SIZE) + HEADER_SIZE + length > BLOCK_SIZE) return "chunk crosses a block boundary";
  if (end > data.length) return "chunk cut short";
  if (type < ChunkType.Full || type > ChunkType.Last) return `unknown chunk type ${type}`;
  const payload = data.subarray(pos + HEADER_SIZE, end);
  if (crc32WithPrefixByte(type, payload) !== readU32LE(data, pos)) return "chunk checksum mismatch";
  return { type, payload, end };
}

function isZeroHeader(data: Uint8Array, pos: number): boolean {
  return pos + HEADER_SIZE <= data.length && data[pos + 4] === 0 && data[pos + 5] === 0 && data[pos + 6] === 0;
}

/**
 * The first offset after `from` that holds a valid chunk: the chunk that would follow a damaged one
 * of claimed length, if any, else the first valid chunk at a block start. -1 when there is none.
 */
function nextValidChunk(data: Uint8Array, from: number): number {
  if (from + HEADER_SIZE <= data.length) {
    const claimed = from + HEADER_SIZE + readU16LE(data, from + 4);
    if (claimed < data.length && BLOCK_SIZE - (claimed % BLOCK_SIZE) >= HEADER_SIZE && typeof parseChunk(data, claimed) !== "string") {
      return claimed;
    }
  }
  for (let b = (Math.floor(from / BLOCK_SIZE) + 1) * BLOCK_SIZE; b < data.length; b += BLOCK_SIZE) {
    if (typeof parseChunk(data, b) !== "string") return b;
  }
  return -1;
}

/**
 * Calls `onRecord` for each record of `data` (the whole log file) in order and returns how the
 * log ended. `file` names the log in errors.
 */
export function readLog(
  data: Uint8Array,
  file: string,
  onRecord: (record: DecodedRecord, offset: number) => void,
  options: LogReadOptions = {},
): LogReadSummary {
  const summary: LogReadSummary = { tornTailOffset: undefined, skipped: [] };
  let pos = 0;
  let parts: Uint8Array[] = [];
  let recordStart = -1;

  // Handles a defect found at `at`; returns the offset to resume from, or -1 to stop.
  const damaged = (at: number, reason: string): number => {
    const start = recordStart >= 0 ? recordStart : at;
    parts = [];
    recordStart = -1;
    const next = nextValidChunk(data, at);
    if (next < 0) {
      summary.tornTailOffset = start;
      return -1;
    }
    if (!options.skipCorrupted) throw new CorruptionError(file, at, `${reason}, followed by valid records at offset ${next}`);
    summary.skipped.push({ offset: start, reason });
    return next;
  };

  while (pos < data.length) {
    const leftover = BLOCK_SIZE - (pos % BLOCK_SIZE);
    if (leftover < HEADER_SIZE) {
      pos += leftover;
      continue;
    }
    if (isZeroHeader(data, pos)) {
      pos += leftover;
      continue;
    }
    const chunk = parseChunk(data, pos);
    if (typeof chunk === "string") {
      pos = damaged(pos, chunk);
      if (pos < 0) return summary;
      continue;
    }
    const inRecord = recordStart >= 0;
    if (chunk.type === ChunkType.Full || chunk.type === ChunkType.First) {
      if (inRecord) {
        pos = damaged(pos, "record interrupted by a new record");
        if (pos < 0) return summary;
        continue;
      }
      recordStart = pos;
    } else if (!inRecord) {
      pos = damaged(pos, "continuation chunk without a first chunk");
      if (pos < 0) return summary;
      continue;
    }
    parts.push(chunk.payload);
    const at = pos;
    pos = chunk.end;
    if (chunk.type === ChunkType.Full || chunk.type === ChunkType.Last) {
      const payload = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      const start = recordStart;
      parts = [];
      recordStart = -1;
      const record = decodeRecord(payload);
      if (typeof record === "string") {
        recordStart = start;
        pos = damaged(at, record);
        if (pos < 0) return summary;
        continue;
      }
      onRecord(record, start);
    }
  }
  if (recordStart >= 0) summary.tornTailOffset = recordStart;
  return summary;
}
