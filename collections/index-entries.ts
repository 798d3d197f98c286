/**
 * The index entries a document has (SPEC §3, MongoDB semantics): for each field of the index the
 * values its path reaches, arrays expanded one level (one entry per element: multikey), a missing
 * field or an empty array indexed as null so that the document is still found through the index.
 * Compound indexes take the cross product, except that two array-valued fields in one compound
 * index ("parallel arrays") are refused, as MongoDB does, since the product would grow without
 * bound.
 *
 * Keys: `prefix v1..vn` for unique indexes (the value holds the _id) and `prefix v1..vn id` for the
 * others (see keyspace.ts).
 */
import { InvalidArgumentError } from "../engine/errors.js";
import { bytesEqual } from "../engine/util/bytes.js";
import type { IndexMeta } from "./catalog.js";
import { KeyWriter, type IndexValue } from "./key-codec.js";
import { getPathValues, isPlainObject, MISSING, parsePath } from "./paths.js";

export interface IndexEntry {
  key: Uint8Array;
  /** The field values of this entry (for error messages). */
  values: IndexValue[];
}

export interface DocumentEntries {
  entries: IndexEntry[];
  /** The document reached an array in an indexed field. */
  multikey: boolean;
}

const writer = new KeyWriter();
const segmentCache = new Map<string, string[]>();

function segments(path: string): string[] {
  let s = segmentCache.get(path);
  if (s === undefined) {
    s = parsePath(path);
    segmentCache.set(path, s);
  }
  return s;
}

function fieldValues(doc: unknown, path: string): { values: unknown[]; array: boolean } {
  const reached = getPathValues(doc, segments(path));
  if (reached.length === 1 && !Array.isArray(reached[0])) {
    return { values: [reached[0] === MISSING ? null : reached[0]], array: false };
  }
  const out: unknown[] = [];
  let array = reached.length > 1;
  for (const v of reached) {
    if (Array.isArray(v)) {
      array = true;
      if (v.length === 0) out.push(null);
      else for (const el of v) out.push(el);
    } else {
      out.push(v === MISSING ? null : v);
    }
  }
  return { values: out, array };
}

/** What {@link scalarAt} returns when the path meets an array: the general path decides. */
const NOT_SCALAR: unique symbol = Symbol("lsmdoc.not-scalar");

/**
 * The one value `path` reaches in `doc` by plain descent through objects (null when it reaches
 * nothing), as getPathValues would find it; NOT_SCALAR when an array lies on the way or at the end.
 * The common case of an index over plain fields, without the general path's allocations.
 */
function scalarAt(doc: unknown, path: string[]): unknown {
  let v = doc;
  for (let i = 0; i < path.length; i++) {
    if (Array.isArray(v)) return NOT_SCALAR;
    if (!isPlainObject(v)) return null;
    const seg = path[i]!;
    v = Object.hasOwn(v, seg) ? v[seg] : undefined;
    if (v === undefined) return null;
  }
  return Array.isArray(v) ? NOT_SCALAR : v;
}

/**
 * The entries of `doc` (whose _id is `id`) in `index`, whose key prefix is `prefix`, sorted by key
 * and without duplicates.
 */
export function indexEntries(index: IndexMeta, prefix: Uint8Array, doc: unknown, id: string): DocumentEntries {
  if (index.fields.length === 1) {
    const path = index.fields[0]!;
    const v = scalarAt(doc, segments(path));
    if (v !== NOT_SCALAR) {
      writer.reset().writeRaw(prefix);
      try {
        writer.writeValue(v as IndexValue, path);
      } catch (err) {
        writer.reset();
        throw err;
      }
      if (!index.unique) writer.writeString(id, "_id");
      return { entries: [{ key: writer.finish(), values: [v as IndexValue] }], multikey: false };
    }
  }
  const perField: unknown[][] = [];
  let arrays = 0;
  for (const f of index.fields) {
    const { values, array } = fieldValues(doc, f);
    if (array) arrays++;
    perField.push(values);
  }
  if (arrays > 1) {
    throw new InvalidArgumentError(
      `lsmdoc: index "${index.name}" cannot index two array fields of one document (${index.fields.join(", ")}): parallel arrays`,
    );
  }
  const entries: IndexEntry[] = [];
  const combo: IndexValue[] = new Array(perField.length);
  const emit = (i: number): void => {
    if (i === perField.length) {
      writer.reset().writeRaw(prefix);
      for (let f = 0; f < combo.length; f++) writer.writeValue(combo[f], index.fields[f]);
      if (!index.unique) writer.writeString(id, "_id");
      entries.push({ key: writer.finish(), values: [...combo] });
      return;
    }
    for (const v of perField[i]!) {
      combo[i] = v as IndexValue;
      emit(i + 1);
    }
  };
  try {
    emit(0);
  } catch (err) {
    writer.reset();
    throw err;
  }
  if (entries.length > 1) {
    entries.sort((a, b) => Buffer.compare(a.key, b.key));
    let w = 1;
    for (let r = 1; r < entries.length; r++) {
      if (Buffer.compare(entries[r]!.key, entries[w - 1]!.key) !== 0) entries[w++] = entries[r]!;
    }
    entries.length = w;
  }
  return { entries, multikey: arrays > 0 };
}

/**
 * True when `a` and `b` have the same entries in `index` for the same `_id`, decided from the
 * values alone, without building keys: every field of the index reaches one value by plain descent
 * (no array on the way or at the end) in both, and the two are the same index value (strings,
 * booleans and null by `===`, numbers by `===` since -0 and 0 are one index value, Dates by time,
 * byte arrays by content). Anything else (arrays, other objects, NaN, invalid Dates) answers
 * false, and the caller computes the entries as usual, with the usual errors. An update that does
 * not touch an index's fields then costs that index nothing.
 */
export function sameIndexedValues(index: IndexMeta, a: unknown, b: unknown): boolean {
  const fields = index.fields;
  for (let i = 0; i < fields.length; i++) {
    const path = segments(fields[i]!);
    const va = scalarAt(a, path);
    if (va === NOT_SCALAR) return false;
    const vb = scalarAt(b, path);
    if (vb === NOT_SCALAR || !sameIndexValue(va, vb)) return false;
  }
  return true;
}

function sameIndexValue(a: unknown, b: unknown): boolean {
  switch (typeof a) {
    case "string":
    case "boolean":
    case "number":
      return a === b;
    case "object":
      if (a === null) return b === null;
      if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
      if (a instanceof Uint8Array) return b instanceof Uint8Array && bytesEqual(a, b);
      return false;
    default:
      return false;
  }
}
