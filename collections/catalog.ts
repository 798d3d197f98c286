/**
 * The catalog: per collection, its number, its indexes (number, fields, uniqueness, build state,
 * whether it has seen array values) and the JSON Schema of its zod schema (for the CLI), stored
 * under `0x01 'C' name` as msgpack (see keyspace.ts). It is loaded once at open; every change is
 * written in the same engine batch as the work it describes, or before it when the work is
 * resumable (index builds and drops).
 */
import { encodeValue, decodeValue } from "./document-codec.js";
import { catalogKey } from "./keyspace.js";

/** Build state of an index: queries use only "ready" ones; writes maintain "building" ones too. */
export type IndexState = "building" | "ready" | "dropping";

export interface IndexMeta {
  /** Number in index keys; never reused within the collection. */
  id: number;
  name: string;
  fields: string[];
  unique: boolean;
  state: IndexState;
  /** Some document produced several entries (an array value): ranges must be re-checked per document. */
  multikey: boolean;
}

export interface CollectionMeta {
  id: number;
  name: string;
  nextIndexId: number;
  indexes: IndexMeta[];
  /** JSON Schema (zod's `toJSONSchema`, input side) of the collection's schema, for the CLI. */
  jsonSchema: unknown;
  /** The schema declares `_id` itself (so it is validated, and must be given). */
  schemaHasId: boolean;
}

export function encodeCatalogEntry(meta: CollectionMeta): { key: Uint8Array; value: Uint8Array } {
  return { key: catalogKey(meta.name), value: encodeValue(meta) };
}

export function decodeCatalogEntry(value: Uint8Array): CollectionMeta {
  const meta = decodeValue(value) as CollectionMeta;
  if (typeof meta !== "object" || meta === null || typeof meta.id !== "number" || !Array.isArray(meta.indexes)) {
    throw new Error("malformed catalog entry");
  }
  return meta;
}

/** A deep copy, so a change can be prepared without touching the live metadata. */
export function cloneMeta(meta: CollectionMeta): CollectionMeta {
  return { ...meta, indexes: meta.indexes.map((i) => ({ ...i, fields: [...i.fields] })) };
}
