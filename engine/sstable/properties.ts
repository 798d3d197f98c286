/**
 * The meta block: a table's properties, stored as a key/value block (same entry and restart
 * layout as data blocks) whose keys are ASCII property names in ascending order and whose values
 * are varint64 numbers or encoded internal keys. Using the block layout keeps the format
 * extensible: a later version can add properties, and a reader skips names it does not know.
 *
 * Decoding is strict for the names it knows: each must appear exactly once, decode to exactly its
 * value bytes, and the values must agree with each other (counts, seq range, key order).
 */
import { compareBytes } from "../util/bytes.js";
import { decodeVarint64, encodeVarint64, MAX_VARINT64_LENGTH, type VarintOut } from "../util/varint.js";
import type { EntryKind } from "../wal/record.js";
import { BlockBuilder } from "./block-builder.js";
import { BlockIterator } from "./block-reader.js";
import { Block } from "./block.js";
import { compareEncodedInternal, encodeInternalKey, type InternalKey, TRAILER_SIZE, trailerKind, trailerSeq } from "./internal-key.js";

export interface TableProperties {
  /** Entries (every version and tombstone). */
  entries: number;
  /** Entries of kind Delete. */
  tombstones: number;
  dataBlocks: number;
  /** Bytes of data block contents before compression (what the block cache holds). */
  dataRawBytes: number;
  /**
   * Bytes of data block contents as stored (compressed or not), trailers excluded: the data region
   * is exactly this plus 5 bytes per data block.
   */
  dataStoredBytes: number;
  /** Smallest and largest seq of any entry. */
  minSeq: number;
  maxSeq: number;
  /** Sum of user key lengths and of value lengths over all entries. */
  rawKeyBytes: number;
  rawValueBytes: number;
  /** First and last internal key of the table. */
  smallest: InternalKey;
  largest: InternalKey;
}

/** Property names, as stored (ascending byte order, the order they are written in). */
export const PropertyName = {
  dataBlocks: "data-blocks",
  dataRawBytes: "data-raw-bytes",
  dataStoredBytes: "data-stored-bytes",
  entries: "entries",
  largest: "largest",
  maxSeq: "max-seq",
  minSeq: "min-seq",
  rawKeyBytes: "raw-key-bytes",
  rawValueBytes: "raw-value-bytes",
  smallest: "smallest",
  tombstones: "tombstones",
} as const;

type NumericProperty = Exclude<keyof TableProperties, "smallest" | "largest">;

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

function varintBytes(v: number): Uint8Array {
  const b = new Uint8Array(MAX_VARINT64_LENGTH);
  return b.subarray(0, encodeVarint64(b, 0, v));
}

/** The meta block's contents (uncompressed; the caller adds the trailer). */
export function encodeProperties(p: TableProperties): Uint8Array {
  const values: Record<string, Uint8Array> = {
    [PropertyName.dataBlocks]: varintBytes(p.dataBlocks),
    [PropertyName.dataRawBytes]: varintBytes(p.dataRawBytes),
    [PropertyName.dataStoredBytes]: varintBytes(p.dataStoredBytes),
    [PropertyName.entries]: varintBytes(p.entries),
    [PropertyName.largest]: encodeInternalKey(p.largest.key, p.largest.seq, p.largest.kind),
    [PropertyName.maxSeq]: varintBytes(p.maxSeq),
    [PropertyName.minSeq]: varintBytes(p.minSeq),
    [PropertyName.rawKeyBytes]: varintBytes(p.rawKeyBytes),
    [PropertyName.rawValueBytes]: varintBytes(p.rawValueBytes),
    [PropertyName.smallest]: encodeInternalKey(p.smallest.key, p.smallest.seq, p.smallest.kind),
    [PropertyName.tombstones]: varintBytes(p.tombstones),
  };
  const b = new BlockBuilder(1, 256);
  for (const name of Object.keys(values).sort()) b.add(latin1(name), values[name]!);
  return b.finishContents().slice();
}

/** Decodes and cross-checks a meta block; throws CorruptionError (via `block`) when malformed. */
export function decodeProperties(block: Block): TableProperties {
  const it = new BlockIterator(false);
  it.reset(block);
  const vo: VarintOut = { value: 0 };
  const nums: Partial<Record<NumericProperty, number>> = {};
  const keys: Partial<Record<"smallest" | "largest", Uint8Array>> = {};
  const byName = new Map<string, keyof TableProperties>(
    Object.entries(PropertyName).map(([field, name]) => [name, field as keyof TableProperties]),
  );
  let prevName: Uint8Array | null = null;
  for (it.seekToFirst(); it.valid(); it.next()) {
    const at = it.entryOffset;
    const nameBytes = it.rawKey();
    if (prevName !== null && compareBytes(prevName, nameBytes) >= 0) block.corrupt(at, "properties out of order");
    prevName = nameBytes;
    const field = byName.get(String.fromCharCode(...nameBytes));
    if (field === undefined) continue; // written by a later version: not ours to judge
    const v = it.value();
    if (field === "smallest" || field === "largest") {
      if (v.length < TRAILER_SIZE + 1) block.corrupt(at, `property ${field} is not an internal key`);
      const t = v.length - TRAILER_SIZE;
      const kind = trailerKind(v, t);
      if (trailerSeq(v, t) < 0 || (kind !== 1 && kind !== 2)) block.corrupt(at, `property ${field} has a bad trailer`);
      keys[field] = v;
    } else {
      if (decodeVarint64(v, 0, v.length, vo) !== v.length) block.corrupt(at, `property ${field} is not a varint`);
      nums[field] = vo.value;
    }
  }
  for (const [field, name] of Object.entries(PropertyName)) {
    const present = field === "smallest" || field === "largest" ? keys[field] : nums[field as NumericProperty];
    if (present === undefined) block.corrupt(0, `property ${name} missing`);
  }
  const toKey = (ik: Uint8Array): InternalKey => {
    const t = ik.length - TRAILER_SIZE;
    return { key: ik.slice(0, t), seq: trailerSeq(ik, t), kind: trailerKind(ik, t) as EntryKind };
  };
  const p: TableProperties = {
    entries: nums.entries!,
    tombstones: nums.tombstones!,
    dataBlocks: nums.dataBlocks!,
    dataRawBytes: nums.dataRawBytes!,
    dataStoredBytes: nums.dataStoredBytes!,
    minSeq: nums.minSeq!,
    maxSeq: nums.maxSeq!,
    rawKeyBytes: nums.rawKeyBytes!,
    rawValueBytes: nums.rawValueBytes!,
    smallest: toKey(keys.smallest!),
    largest: toKey(keys.largest!),
  };
  const bad =
    p.entries < 1 ? "no entries"
    : p.tombstones > p.entries ? "more tombstones than entries"
    : p.dataBlocks < 1 || p.dataBlocks > p.entries ? "data block count out of range"
    : p.dataStoredBytes > p.dataRawBytes ? "more data bytes stored than raw"
    : p.dataRawBytes < 8 * p.dataBlocks ? "data blocks too small to hold their entries"
    : p.minSeq > p.maxSeq ? "min-seq above max-seq"
    : compareEncodedInternal(keys.smallest!, keys.largest!) > 0 ? "smallest key above largest"
    : p.smallest.seq < p.minSeq || p.smallest.seq > p.maxSeq || p.largest.seq < p.minSeq || p.largest.seq > p.maxSeq ? "key seq outside the seq range"
    : undefined;
  if (bad !== undefined) block.corrupt(0, `inconsistent properties: ${bad}`);
  return p;
}
