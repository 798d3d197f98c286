/**
 * Encoding and decoding of WAL records (the reassembled payloads): lsmdb's Put/Delete records
 * and lsmdoc's Batch record. Layouts in `format.ts`.
 */
import { readU16LE, readU32LE, readU64LE, writeU16LE, writeU32LE, writeU64LE } from "../util/bytes.js";
import {
  BATCH_ENTRY_OVERHEAD,
  BATCH_HEADER_SIZE,
  Opcode,
  SINGLE_RECORD_OVERHEAD,
} from "./format.js";

/** Entry kinds as they appear in the WAL and in internal keys. */
export const EntryKind = {
  Put: 1,
  Delete: 2,
} as const;
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind];

/** One put or delete of a write. */
export interface WriteEntry {
  kind: EntryKind;
  key: Uint8Array;
  /** Empty for deletes. */
  value: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** Exact byte length of the record that encodes `entries`. */
export function recordLength(entries: readonly WriteEntry[]): number {
  if (entries.length === 1) {
    const e = entries[0]!;
    return SINGLE_RECORD_OVERHEAD + e.key.length + e.value.length;
  }
  let n = BATCH_HEADER_SIZE;
  for (const e of entries) n += BATCH_ENTRY_OVERHEAD + e.key.length + e.value.length;
  return n;
}

/**
 * Encodes a write as one record: a single entry as lsmdb's Put/Delete record (so single writes are
 * byte-identical to lsmdb's log), several as a Batch record.
 */
export function encodeRecord(seq: number, entries: readonly WriteEntry[], out?: Uint8Array): Uint8Array {
  const len = recordLength(entries);
  const buf = out && out.length >= len ? out.subarray(0, len) : new Uint8Array(len);
  if (entries.length === 1) {
    const e = entries[0]!;
    buf[0] = e.kind;
    writeU64LE(buf, 1, seq);
    writeU16LE(buf, 9, e.key.length);
    buf.set(e.key, 11);
    const v = 11 + e.key.length;
    writeU32LE(buf, v, e.value.length);
    buf.set(e.value, v + 4);
    return buf;
  }
  buf[0] = Opcode.Batch;
  writeU64LE(buf, 1, seq);
  writeU32LE(buf, 9, entries.length);
  let p = BATCH_HEADER_SIZE;
  for (const e of entries) {
    buf[p] = e.kind;
    writeU16LE(buf, p + 1, e.key.length);
    buf.set(e.key, p + 3);
    p += 3 + e.key.length;
    writeU32LE(buf, p, e.value.length);
    buf.set(e.value, p + 4);
    p += 4 + e.value.length;
  }
  return buf;
}

/** A decoded record. Keys and values are views into the payload, not copies. */
export interface DecodedRecord {
  seq: number;
  /** The opcode the record was written with (1 Put, 2 Delete, 3 Batch). */
  opcode: number;
  entries: WriteEntry[];
}

/**
 * Decodes a record payload. Returns a string describing the defect instead of a record when the
 * payload is not a well-formed record.
 */
export function decodeRecord(p: Uint8Array): DecodedRecord | string {
  if (p.length < 1 + 8) return `record of ${p.length} bytes is too short`;
  const opcode = p[0]!;
  const seq = readU64LE(p, 1);
  if (seq < 0) return "sequence number beyond 2^53";
  if (opcode === Opcode.Put || opcode === Opcode.Delete) {
    if (p.length < SINGLE_RECORD_OVERHEAD) return `record of ${p.length} bytes is too short`;
    const keyLen = readU16LE(p, 9);
    const v = 11 + keyLen;
    if (v + 4 > p.length) return "key length runs past the record";
    const valLen = readU32LE(p, v);
    if (v + 4 + valLen !== p.length) return "value length does not match the record length";
    if (opcode === Opcode.Delete && valLen !== 0) return "delete record with a value";
    const key = p.subarray(11, v);
    const value = valLen === 0 ? EMPTY : p.subarray(v + 4, v + 4 + valLen);
    return { seq, opcode, entries: [{ kind: opcode, key, value }] };
  }
  if (opcode === Opcode.Batch) {
    if (p.length < BATCH_HEADER_SIZE) return "batch record too short";
    const count = readU32LE(p, 9);
    if (count === 0) return "empty batch record";
    const entries: WriteEntry[] = [];
    let q = BATCH_HEADER_SIZE;
    for (let i = 0; i < count; i++) {
      if (q + 3 > p.length) return `batch entry ${i} runs past the record`;
      const kind = p[q]!;
      if (kind !== EntryKind.Put && kind !== EntryKind.Delete) return `batch entry ${i} has kind ${kind}`;
      const keyLen = readU16LE(p, q + 1);
      const k = q + 3;
      if (k + keyLen + 4 > p.length) return `batch entry ${i} key runs past the record`;
      const valLen = readU32LE(p, k + keyLen);
      const v = k + keyLen + 4;
      if (v + valLen > p.length) return `batch entry ${i} value runs past the record`;
      if (kind === EntryKind.Delete && valLen !== 0) return `batch entry ${i}: delete with a value`;
      entries.push({ kind, key: p.subarray(k, k + keyLen), value: valLen === 0 ? EMPTY : p.subarray(v, v + valLen) });
      q = v + valLen;
    }
    if (q !== p.length) return "bytes after the last batch entry";
    return { seq, opcode, entries };
  }
  return `unknown opcode ${opcode}`;
}
