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
 * Damage is classified like the WAL's: a defect with no valid record anywhere after it is a torn
 * tail (a crash during an append) and everything before it stands; a defect followed by a valid
 * record is corruption. The manifest is the only truth about live files, so there is no option to
 * skip corruption here.
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

/**
 * Splits a manifest into record payloads. `check` may reject a payload that framed correctly but
 * does not decode (returning a reason), which is handled like any other defect.
 */
export function readManifestRecords(data: Uint8Array, file: string, check: (payload: Uint8Array) => string | undefined): ManifestRead {
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
      return { records, tornTailOffset: pos, validLength: pos };
    }
    records.push({ payload: payload!, offset: pos });
    pos += MANIFEST_HEADER_SIZE + payload!.length;
  }
  return { records, tornTailOffset: undefined, validLength: pos };
}
