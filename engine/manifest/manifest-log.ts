/**
 * Framing of manifest records (docs/format.md, "Manifest"). The manifest is an append-only file of
 * version edits, each framed as
 *
 * ```
 * +-------------+-------------+------------------+
 * | crc32 u32LE | length u32LE| payload (length) |    crc32 over (length u32LE ++ payload)
 * +-------------+-------------+------------------+
 * ```
 *
 * Damage: a record cut short at the end of the file is a torn tail (a crash during an append) and
 * everything before it stands; anything else (see {@link readManifestRecords}) is corruption. The
 * manifest is the only truth about live files, so there is no option to skip corruption here.
 */
import { CorruptionError } from "../errors.js";
import { readU32LE, writeU32LE } from "../util/bytes.js";
import { crc32 } from "../util/crc32.js";

export const MANIFEST_HEADER_SIZE = 8;

export function frameManifestRecord(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(MANIFEST_HEADER_SIZE + payload.length);
  writeU32LE(out, 4, payload.length);
  out.set(payload, MANIFEST_HEADER_SIZE);
  writeU32LE(out, 0, crc32(out.subarray(4)));
  return out;
}

/** The payload of a valid record at `pos`, or undefined. */
function recordAt(data: Uint8Array, pos: number): Uint8Array | undefined {
  if (pos + MANIFEST_HEADER_SIZE > data.length) return undefined;
  const length = readU32LE(data, pos + 4);
  const end = pos + MANIFEST_HEADER_SIZE + length;
  if (end > data.length) return undefined;
  if (crc32(data.subarray(pos + 4, end)) !== readU32LE(data, pos)) return undefined;
  return data.subarray(pos + MANIFEST_HEADER_SIZE, end);
}

export interface ManifestRead {
  records: Array<{ payload: Uint8Array; offset: number }>;
  /** Offset of a torn tail, when the file ends in one. */
  tornTailOffset: number | undefined;
  /** Bytes up to the end of the last valid record. */
  validLength: number;
}

/** True when every byte from `pos` to the end is zero (a file extended before its data landed). */
function zerosToEnd(data: Uint8Array, pos: number): boolean {
  for (let i = pos; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}

/**
 * Splits a manifest into record payloads. `check` may reject a payload that framed correctly but
 * does not decode (returning a reason), which is handled like any other defect.
 *
 * Stricter than the WAL on purpose, because a manifest record is only relied upon after it was
 * synced, and a misread manifest would make live tables look obsolete: only a record cut short by
 * the end of the file (or a zero-filled tail) after the first record counts as torn. A full-length
 * record that fails its checksum, damage in the first record (which is always synced before CURRENT
 * names the file), and any damage when `strict` is set (verifying a live manifest) are corruption.
 */
export function readManifestRecords(
  data: Uint8Array,
  file: string,
  check: (payload: Uint8Array) => string | undefined,
  strict = false,
): ManifestRead {
  const records: ManifestRead["records"] = [];
  let pos = 0;
  while (pos < data.length) {
    const payload = recordAt(data, pos);
    const problem = payload === undefined ? "record fails its checksum or is cut short" : check(payload);
    if (problem !== undefined) {
      for (let q = pos + 1; q + MANIFEST_HEADER_SIZE <= data.length; q++) {
        const later = recordAt(data, q);
        if (later !== undefined && later.length > 0) {
          throw new CorruptionError(file, pos, `${problem}, followed by a valid record at offset ${q}`);
        }
      }
      const cutShort =
        payload === undefined &&
        (pos + MANIFEST_HEADER_SIZE > data.length || pos + MANIFEST_HEADER_SIZE + readU32LE(data, pos + 4) > data.length);
      const torn = !strict && pos > 0 && (cutShort || zerosToEnd(data, pos));
      if (!torn) throw new CorruptionError(file, pos, problem);
      return { records, tornTailOffset: pos, validLength: pos };
    }
    records.push({ payload: payload!, offset: pos });
    pos += MANIFEST_HEADER_SIZE + payload!.length;
  }
  return { records, tornTailOffset: undefined, validLength: pos };
}
