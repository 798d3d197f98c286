/**
 * Document bodies on disk: msgpack (msgpackr) of the validated document without its `_id` (the id
 * is in the key). msgpackr keeps Dates (timestamp extension), binary, nested objects and arrays;
 * records/structures are off so every value decodes on its own, with no shared state to lose.
 */
import { Packr } from "msgpackr";

const packr = new Packr({ useRecords: false, moreTypes: false, copyBuffers: true });

/** Encodes `doc` without its `_id` field. */
export function encodeDocument(doc: Record<string, unknown>): Uint8Array {
  if (!("_id" in doc)) return packr.pack(doc);
  const { _id, ...rest } = doc;
  return packr.pack(rest);
}

/** Decodes a stored body and puts `_id` first. */
export function decodeDocument(id: string, bytes: Uint8Array): Record<string, unknown> {
  const body = packr.unpack(bytes) as Record<string, unknown>;
  return { _id: id, ...body };
}

/** Generic msgpack for catalog entries. */
export function encodeValue(v: unknown): Uint8Array {
  return packr.pack(v);
}

export function decodeValue(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}
