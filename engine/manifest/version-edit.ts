/**
 * Version edits: the deltas the manifest records (after LevelDB's VersionEdit). Replaying every
 * edit of a manifest in order rebuilds the set of live SSTables per level and the engine's
 * counters. Encoding (docs/format.md, "Manifest"):
 *
 * ```
 * edit   := field*
 * field  := 1 logNumber:varint          -- logs numbered below this are flushed and obsolete
 *         | 2 nextFileNumber:varint
 *         | 3 lastSeq:varint
 *         | 4 level:varint number:varint -- table removed from level
 *         | 5 level:varint file          -- table added to level
 * file   := number:varint size:varint entries:varint
 *           smallestKey:lp smallestSeq:varint largestKey:lp largestSeq:varint
 * lp     := length:varint bytes
 * ```
 */
import { ByteReader, ByteWriter, DecodeError } from "../util/coding.js";

/** What the engine knows about one live SSTable. */
export interface FileMeta {
  readonly number: number;
  readonly size: number;
  readonly entries: number;
  /** Smallest internal key (user key, seq) in the table. */
  readonly smallestKey: Uint8Array;
  readonly smallestSeq: number;
  /** Largest internal key in the table. */
  readonly largestKey: Uint8Array;
  readonly largestSeq: number;
}

export interface VersionEdit {
  logNumber?: number;
  nextFileNumber?: number;
  lastSeq?: number;
  deleted?: Array<{ level: number; number: number }>;
  added?: Array<{ level: number; file: FileMeta }>;
}

const Tag = {
  LogNumber: 1,
  NextFileNumber: 2,
  LastSeq: 3,
  DeletedFile: 4,
  AddedFile: 5,
} as const;

export function encodeEdit(edit: VersionEdit): Uint8Array {
  const w = new ByteWriter();
  if (edit.logNumber !== undefined) w.u8(Tag.LogNumber).varint(edit.logNumber);
  if (edit.nextFileNumber !== undefined) w.u8(Tag.NextFileNumber).varint(edit.nextFileNumber);
  if (edit.lastSeq !== undefined) w.u8(Tag.LastSeq).varint(edit.lastSeq);
  for (const d of edit.deleted ?? []) w.u8(Tag.DeletedFile).varint(d.level).varint(d.number);
  for (const { level, file } of edit.added ?? []) {
    w.u8(Tag.AddedFile).varint(level).varint(file.number).varint(file.size).varint(file.entries);
    w.lengthPrefixed(file.smallestKey).varint(file.smallestSeq);
    w.lengthPrefixed(file.largestKey).varint(file.largestSeq);
  }
  return w.finish();
}

/** Decodes an edit; throws `DecodeError` on malformed input. Keys are copied. */
export function decodeEdit(data: Uint8Array): VersionEdit {
  const r = new ByteReader(data);
  const edit: VersionEdit = {};
  while (!r.done) {
    const tag = r.u8();
    switch (tag) {
      case Tag.LogNumber:
        edit.logNumber = r.varint();
        break;
      case Tag.NextFileNumber:
        edit.nextFileNumber = r.varint();
        break;
      case Tag.LastSeq:
        edit.lastSeq = r.varint();
        break;
      case Tag.DeletedFile:
        (edit.deleted ??= []).push({ level: r.varint(), number: r.varint() });
        break;
      case Tag.AddedFile: {
        const level = r.varint();
        const number = r.varint();
        const size = r.varint();
        const entries = r.varint();
        const smallestKey = r.lengthPrefixed().slice();
        const smallestSeq = r.varint();
        const largestKey = r.lengthPrefixed().slice();
        const largestSeq = r.varint();
        (edit.added ??= []).push({ level, file: { number, size, entries, smallestKey, smallestSeq, largestKey, largestSeq } });
        break;
      }
      default:
        throw new DecodeError(r.offset - 1, `unknown version edit tag ${tag}`);
    }
  }
  return edit;
}
