/**
 * The document layer's keyspace inside the engine (docs/format.md, "Document keyspace"). Every key
 * starts with a one-byte namespace:
 *
 * ```
 * 0x01 'C' name(UTF-8)                          -> collection metadata (msgpack), the catalog
 * 0x02 collection:u32BE id                      -> document body (msgpack, without _id)
 * 0x03 collection:u32BE index:u16BE v1..vn [id] -> unique index: the document's _id (UTF-8)
 *                                                  other index: empty (the id ends the key)
 * ```
 *
 * `id` and `v1..vn` use the order-preserving index-value encoding of `key-codec.ts`, which is
 * prefix-free, so a key's fields can be read back in order and a collection's or an index's keys
 * form one contiguous range. Collection and index numbers are assigned once and never reused.
 */
import { KeyTag, KeyWriter, prefixSuccessor, type KeyRange } from "./key-codec.js";
import { utf8String } from "./byte-strings.js";

export const Namespace = {
  Catalog: 0x01,
  Document: 0x02,
  Index: 0x03,
} as const;

const CATALOG_COLLECTION = 0x43; // 'C'

export function catalogKey(name: string): Uint8Array {
  const utf8 = Buffer.from(name, "utf8");
  const key = new Uint8Array(2 + utf8.length);
  key[0] = Namespace.Catalog;
  key[1] = CATALOG_COLLECTION;
  key.set(utf8, 2);
  return key;
}

/** Range of every catalog entry. */
export const CATALOG_RANGE: KeyRange = { gte: Uint8Array.of(Namespace.Catalog, CATALOG_COLLECTION), lt: Uint8Array.of(Namespace.Catalog, CATALOG_COLLECTION + 1) };

// Prefixes are built on every write: keep one per collection / index. Callers never modify them.
const documentPrefixes = new Map<number, Uint8Array>();
const indexPrefixes = new Map<number, Uint8Array>();

export function documentPrefix(collection: number): Uint8Array {
  let p = documentPrefixes.get(collection);
  if (p === undefined) {
    p = new Uint8Array(5);
    p[0] = Namespace.Document;
    new DataView(p.buffer).setUint32(1, collection);
    documentPrefixes.set(collection, p);
  }
  return p;
}

export function indexPrefix(collection: number, index: number): Uint8Array {
  const cacheKey = collection * 0x10000 + index;
  let p = indexPrefixes.get(cacheKey);
  if (p === undefined) {
    p = new Uint8Array(7);
    p[0] = Namespace.Index;
    const dv = new DataView(p.buffer);
    dv.setUint32(1, collection);
    dv.setUint16(5, index);
    indexPrefixes.set(cacheKey, p);
  }
  return p;
}

/** Every key starting with `prefix`. */
export function prefixRange(prefix: Uint8Array): KeyRange {
  return { gte: prefix, lt: prefixSuccessor(prefix) };
}

const writer = new KeyWriter();

/** Key of document `id` in the collection whose document prefix is `prefix`. */
export function documentKey(prefix: Uint8Array, id: string): Uint8Array {
  writer.reset();
  writer.writeRaw(prefix);
  writer.writeString(id, "_id");
  return writer.finish();
}

/**
 * Offset just past the encoded value that starts at `pos` (a tag byte and its payload), or -1 when
 * the bytes there are not a complete encoding.
 */
export function skipEncodedValue(key: Uint8Array, pos: number): number {
  const tag = key[pos];
  switch (tag) {
    case KeyTag.Null:
    case KeyTag.False:
    case KeyTag.True:
      return pos + 1;
    case KeyTag.Number:
    case KeyTag.Date:
      return pos + 9 <= key.length ? pos + 9 : -1;
    case KeyTag.String:
    case KeyTag.Binary: {
      for (let i = pos + 1; i + 1 < key.length; i++) {
        if (key[i] === 0) {
          if (key[i + 1] === 0x01) return i + 2;
          i++; // 00 FF: an escaped zero byte
        }
      }
      return -1;
    }
    default:
      return -1;
  }
}

/** Decodes the string encoded at `pos` (a String-tagged value) up to `end`. */
export function decodeEncodedString(key: Uint8Array, pos: number, end: number): string {
  // Fast path: no escaped zero bytes.
  let plain = true;
  for (let i = pos + 1; i < end - 2; i++) if (key[i] === 0) plain = false;
  if (plain) return utf8String(key, pos + 1, end - 2);
  const bytes: number[] = [];
  for (let i = pos + 1; i < end - 2; i++) {
    bytes.push(key[i]!);
    if (key[i] === 0) i++;
  }
  return Buffer.from(bytes).toString("utf8");
}
