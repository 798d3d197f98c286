/**
 * Dot paths and values of plain documents (SPEC §3): the one place that decides what a path names,
 * what a path reaches inside arrays, when two values are equal, and which values a filter or an
 * update may carry. The matcher (filter.ts), the updater (update.ts) and index-key extraction all go
 * through here, so that a query, an update and an index agree on what "the value at a.b" is.
 *
 * Invariants:
 * - A parsed path is a non-empty list of non-empty segments, none starting with "$" (reserved for
 *   operators and positional updates) and none of "__proto__", "constructor", "prototype" (which
 *   would reach Object.prototype instead of a field).
 * - Nothing here mutates its input: setPath/modifyPath/unsetPath copy the containers along the path
 *   and share every untouched branch with the input.
 * - "Missing" is not "null": a path that reaches nothing yields {@link MISSING}; a field holding
 *   `undefined` counts as missing (it is what an optional field left out looks like in JS).
 * - Documents are trees of plain objects, arrays, null, booleans, numbers, bigints, strings, Dates and
 *   Uint8Arrays; anything else found in a document is opaque: equal only to itself, and a dead end for
 *   paths.
 */
import { InvalidArgumentError } from "../engine/errors.js";

/** Marks a path that reaches no value (as opposed to a field that holds null). */
export const MISSING: unique symbol = Symbol("lsmdoc.missing");
export type Missing = typeof MISSING;

/** A field path split at its dots, e.g. ["address", "city"]. */
export type PathSegments = readonly string[];

const FORBIDDEN_SEGMENTS = new Set(["__proto__", "constructor", "prototype"]);
/** Canonical array indexes only: "01" or "1e3" name fields, not positions. 15 digits stay exact. */
const INDEX_SEGMENT = /^(?:0|[1-9][0-9]{0,14})$/;
/** Values nested deeper than this are refused: deeper is never a real document, usually a cycle. */
export const MAX_VALUE_DEPTH = 100;

/** True for objects built by `{}` literals, JSON.parse, msgpack decoding or Object.create(null). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** True when `segment` addresses an array position ("0", "12"), not a field. */
export function isIndexSegment(segment: string): boolean {
  return INDEX_SEGMENT.test(segment);
}

/**
 * Splits and validates a dot path. `label` starts the error message (e.g. `lsmdoc/filter: $or[1]`),
 * so the caller's context is named.
 */
export function parsePath(path: unknown, label = "lsmdoc/path"): string[] {
  if (typeof path !== "string") throw new InvalidArgumentError(`${label}: a field path must be a string, got ${describe(path)}`);
  const bad = (why: string): never => {
    throw new InvalidArgumentError(`${label}: invalid field path ${JSON.stringify(path)}: ${why}`);
  };
  if (path === "") bad("it is empty");
  const segments = path.split(".");
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s === "") bad(i === 0 ? "it starts with a dot" : i === segments.length - 1 ? "it ends with a dot" : "it has an empty segment");
    if (s.startsWith("$")) bad(`segment "${s}" starts with "$" (operators and positional updates are not field names)`);
    if (FORBIDDEN_SEGMENTS.has(s)) bad(`segment "${s}" is reserved`);
  }
  return segments;
}

/**
 * Every value `path` reaches in `doc`, following MongoDB: a field name applied to an array is
 * applied to each of its plain-object elements (one level; scalars and nested arrays there are
 * skipped), and a numeric segment applied to an array picks that position. A branch that ends in an
 * object lacking the field, or at a scalar, yields MISSING; if nothing at all is reached the result
 * is [MISSING]. So the result is never empty. Arrays found at the end of the path are returned
 * whole; whether their elements count as candidates is the caller's business (the matcher and the
 * index both expand them one level).
 *
 * {a: [{b: 1}, {c: 2}, 5]} with "a.b" gives [1, MISSING]; {a: [1, 2]} with "a.b" gives [MISSING].
 */
export function getPathValues(doc: unknown, path: string | PathSegments): unknown[] {
  const segments = typeof path === "string" ? parsePath(path) : path;
  const out: unknown[] = [];
  collect(doc, segments, 0, out);
  if (out.length === 0) out.push(MISSING);
  return out;
}

function collect(value: unknown, segments: PathSegments, from: number, out: unknown[]): void {
  let v = value;
  // Plain descent is a loop; only arrays traversed by a field name fan out into recursion.
  for (let i = from; i < segments.length; i++) {
    const seg = segments[i]!;
    if (Array.isArray(v)) {
      if (isIndexSegment(seg)) {
        v = v[Number(seg)];
      } else {
        for (const el of v) if (isPlainObject(el)) collect(el, segments, i, out);
        return;
      }
    } else if (isPlainObject(v)) {
      v = Object.hasOwn(v, seg) ? v[seg] : undefined;
    } else {
      v = undefined;
    }
    if (v === undefined) {
      out.push(MISSING);
      return;
    }
  }
  out.push(v);
}

/**
 * The value at exactly `path`, with no fan-out over arrays (numeric segments index them, field names
 * on an array reach nothing): what an update reads before it writes. MISSING when absent.
 */
export function getPath(doc: unknown, path: PathSegments): unknown {
  let v = doc;
  for (const seg of path) {
    if (Array.isArray(v)) v = isIndexSegment(seg) ? v[Number(seg)] : undefined;
    else if (isPlainObject(v)) v = Object.hasOwn(v, seg) ? v[seg] : undefined;
    else v = undefined;
    if (v === undefined) return MISSING;
  }
  return v;
}

/**
 * A copy of `doc` whose value at `path` is `fn(current)` (current is MISSING when absent). Missing
 * intermediate fields become empty objects, as in MongoDB. Numeric segments index arrays; writing
 * one past the end appends, further is refused (MongoDB would pad with nulls; a typo such as
 * "tags.1000000" should not allocate a million nulls). A field name applied to an array, or any
 * segment applied to a scalar, null, Date or binary, throws InvalidArgumentError starting with
 * `label`.
 */
export function modifyPath<T>(doc: T, path: PathSegments, fn: (current: unknown) => unknown, label = "lsmdoc/path"): T {
  if (path.length === 0) throw new InvalidArgumentError(`${label}: empty path`);
  return modifyAt(doc, path, 0, fn, label) as T;
}

function modifyAt(container: unknown, path: PathSegments, i: number, fn: (current: unknown) => unknown, label: string): unknown {
  const seg = path[i]!;
  const last = i === path.length - 1;
  const step = (current: unknown): unknown => {
    if (last) return fn(current === undefined ? MISSING : current);
    return modifyAt(current === undefined ? {} : current, path, i + 1, fn, label);
  };
  const here = (): string => (i === 0 ? "the document" : `"${path.slice(0, i).join(".")}"`);
  if (Array.isArray(container)) {
    if (!isIndexSegment(seg)) {
      throw new InvalidArgumentError(`${label}: cannot create field "${seg}" in the array at ${here()} (use a numeric position)`);
    }
    const idx = Number(seg);
    if (idx > container.length) {
      throw new InvalidArgumentError(
        `${label}: position ${idx} is past the end of the array at ${here()} (length ${container.length})`,
      );
    }
    const copy = container.slice();
    copy[idx] = step(container[idx]);
    return copy;
  }
  if (isPlainObject(container)) {
    const next = step(Object.hasOwn(container, seg) ? container[seg] : undefined);
    // A computed key defines an own property even for unusual names; parsePath has refused __proto__.
    return { ...container, [seg]: next };
  }
  throw new InvalidArgumentError(`${label}: cannot create field "${seg}" inside ${describe(container)} at ${here()}`);
}

/** A copy of `doc` with `value` at `path`; see {@link modifyPath} for intermediate fields and arrays. */
export function setPath<T>(doc: T, path: PathSegments, value: unknown, label?: string): T {
  return modifyPath(doc, path, () => value, label);
}

/**
 * A copy of `doc` without the field at `path`; `doc` itself when there is nothing to remove. As in
 * MongoDB, unsetting an array position sets it to null rather than shifting later elements.
 */
export function unsetPath<T>(doc: T, path: PathSegments): T {
  return unsetAt(doc, path, 0) as T;
}

function unsetAt(container: unknown, path: PathSegments, i: number): unknown {
  const seg = path[i]!;
  const last = i === path.length - 1;
  if (Array.isArray(container)) {
    if (!isIndexSegment(seg)) return container;
    const idx = Number(seg);
    if (idx >= container.length) return container;
    const next = last ? null : unsetAt(container[idx], path, i + 1);
    if (next === container[idx]) return container;
    const copy = container.slice();
    copy[idx] = next;
    return copy;
  }
  if (!isPlainObject(container) || !Object.hasOwn(container, seg)) return container;
  if (last) {
    const { [seg]: _removed, ...rest } = container;
    return rest;
  }
  const child = container[seg];
  const next = unsetAt(child, path, i + 1);
  return next === child ? container : { ...container, [seg]: next };
}

/**
 * Structural equality of document values: arrays element by element in order, plain objects by
 * their keys in any order (a key holding `undefined` counts as absent), Dates by time, Uint8Arrays
 * (Buffers included) by bytes, numbers by value with 0 equal to -0 and NaN equal to NaN. Bigints
 * equal only bigints. Any other object is equal only to itself.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return typeof a === "number" && typeof b === "number" && a !== a && b !== b;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  if (a instanceof Date || b instanceof Date) {
    if (!(a instanceof Date && b instanceof Date)) return false;
    const x = a.getTime();
    const y = b.getTime();
    return x === y || (x !== x && y !== y);
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  let defined = 0;
  for (const k of Object.keys(a)) {
    const va = a[k];
    if (va === undefined) continue;
    defined++;
    if (!Object.hasOwn(b, k) || !deepEqual(va, b[k])) return false;
  }
  for (const k of Object.keys(b)) if (b[k] !== undefined) defined--;
  return defined === 0;
}

/**
 * Throws InvalidArgumentError (message starting with `label`) unless `v` is a value a filter may
 * compare with or an update may store: null, boolean, number other than NaN, bigint, string, valid
 * Date, Uint8Array, and arrays and plain objects of those. Object keys may not start with "$" (that
 * is almost always a misplaced operator) nor be "__proto__".
 */
export function checkValue(v: unknown, label: string): void {
  checkValueAt(v, label, 0);
}

function checkValueAt(v: unknown, label: string, depth: number): void {
  const bad = (why: string): never => {
    throw new InvalidArgumentError(`${label}: ${why}`);
  };
  switch (typeof v) {
    case "string":
    case "boolean":
    case "bigint":
      return;
    case "number":
      if (v !== v) bad("NaN is not a valid value (it equals nothing, not even itself)");
      return;
    case "undefined":
      return bad("undefined is not a value (use null, or leave the field out)");
    case "function":
    case "symbol":
      return bad(`a ${typeof v} is not a value`);
  }
  if (v === null || v instanceof Uint8Array) return;
  if (depth >= MAX_VALUE_DEPTH) bad(`value nested deeper than ${MAX_VALUE_DEPTH} levels (is it cyclic?)`);
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) bad("an invalid Date is not a value");
    return;
  }
  if (v instanceof RegExp) bad("regular expressions are not supported");
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) checkValueAt(v[i], `${label}[${i}]`, depth + 1);
    return;
  }
  if (!isPlainObject(v)) return bad(`${describe(v)} is not a value (use plain objects, arrays, Dates or Uint8Arrays)`);
  for (const k of Object.keys(v)) {
    if (k.startsWith("$")) bad(`field name "${k}" inside a value starts with "$" (is an operator misplaced?)`);
    if (k === "__proto__") bad(`field name "__proto__" is reserved`);
    checkValueAt(v[k], `${label}.${k}`, depth + 1);
  }
}

/** A short description of a value's kind for error messages. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (v instanceof Date) return "a Date";
  if (v instanceof Uint8Array) return "binary data";
  if (typeof v === "object") {
    if (isPlainObject(v)) return "an object";
    const name = (v as object).constructor?.name;
    return name ? `a ${name}` : "an object";
  }
  if (typeof v === "string") return `a string (${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)})`;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return `${typeof v} ${String(v)}`;
  return typeof v;
}
