/**
 * Order-preserving encoding of secondary-index values (SPEC §3, docs/format.md, "Index keys").
 *
 * Owns the total order over index values and a byte encoding of it. The invariant every other part
 * of the index layer relies on:
 *
 *   sign(compareIndexValues(a, b)) === sign(compareBytes(encodeIndexValue(a), encodeIndexValue(b)))
 *
 * and each value's encoding is prefix-free (never a proper prefix of another value's encoding), so
 * the concatenation of per-field encodings (a compound key) compares field by field, and a key
 * prefix bounds a contiguous key range: every key starting with P lies in [P, prefixSuccessor(P)).
 *
 * ```
 *  value            encoding
 *  null/undefined   10
 *  false | true     20 | 21
 *  number           30 | f64 big-endian; positives: sign bit flipped, negatives: all bits flipped
 *  string           40 | UTF-8, each 00 written 00 FF | 00 01
 *  Date             50 | f64 of getTime(), as for numbers
 *  Uint8Array       60 | bytes, each 00 written 00 FF | 00 01
 * ```
 *
 * Tags leave gaps for future types; 00 and FF are reserved (for min/max sentinels). A missing field
 * encodes as null, as in MongoDB. -0 encodes as 0. NaN, invalid Dates, lone surrogates, bigint,
 * objects and nested arrays are rejected with InvalidArgumentError: multikey expansion of arrays
 * happens before a value reaches this module.
 *
 * Contents: KeyWriter (the hot path), encodeIndexValue/encodeKey, the reference order
 * (compareIndexValues, compareIndexKeys, compareStrings), decodeKey (strict, for explain and
 * tests), and range helpers for the planner (prefixSuccessor, typeRange, keyRange, rangeWithin).
 */
import { InvalidArgumentError } from "../engine/errors.js";
import { compareBytes } from "../engine/util/bytes.js";

/** A value that can be a field of an index key. `undefined` (a missing field) indexes as null. */
export type IndexValue = null | undefined | boolean | number | string | Date | Uint8Array;

/** Type tags: the first byte of each encoding, in type order. */
export const KeyTag = {
  Null: 0x10,
  False: 0x20,
  True: 0x21,
  Number: 0x30,
  String: 0x40,
  Date: 0x50,
  Binary: 0x60,
} as const;

export type IndexValueType = "null" | "boolean" | "number" | "string" | "date" | "binary";

/** Half-open byte range [gte, lt); `lt` undefined means unbounded above. */
export interface KeyRange {
  readonly gte: Uint8Array;
  readonly lt: Uint8Array | undefined;
}

/** Comparison bounds on one index field, as in `{ $gt: 5, $lte: 9 }`. */
export interface RangeBounds {
  gt?: IndexValue;
  gte?: IndexValue;
  lt?: IndexValue;
  lte?: IndexValue;
}

const ESCAPE = 0xff; // 00 FF = a literal 00 byte
const TERMINATOR = 0x01; // 00 01 = end of a string or binary
const DEFAULT_CAPACITY = 256;
/** Strings this long (UTF-16 units) go through the native encoder; see KeyWriter.writeString. */
const NATIVE_STRING_MIN = 64;
/** A writer that grew past this for one huge value drops back to the default on finish(). */
const MAX_RETAINED_CAPACITY = 64 * 1024;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

function reject(path: string | undefined, what: string): never {
  const where = path === undefined ? "" : `field "${path}": `;
  throw new InvalidArgumentError(`lsmdoc/index-key: ${where}${what} cannot be indexed`);
}

function loneSurrogateIndex(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const d = s.charCodeAt(i + 1); // NaN past the end
    if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) return i;
    i++;
  }
  return -1;
}

/** The tag of `v` (False/True for booleans), or throws for values outside the index domain. */
function tagOf(v: unknown, path: string | undefined): number {
  switch (typeof v) {
    case "undefined":
      return KeyTag.Null;
    case "boolean":
      return v ? KeyTag.True : KeyTag.False;
    case "number":
      if (v !== v) reject(path, "NaN");
      return KeyTag.Number;
    case "string":
      return KeyTag.String;
    case "object":
      if (v === null) return KeyTag.Null;
      if (v instanceof Date) {
        if (Number.isNaN(v.getTime())) reject(path, "an invalid Date");
        return KeyTag.Date;
      }
      if (v instanceof Uint8Array) return KeyTag.Binary;
      if (Array.isArray(v)) reject(path, "an array inside an index value (arrays are expanded per element first)");
      return reject(path, "an object (indexable: null, boolean, number, string, Date, Uint8Array)");
    case "bigint":
      return reject(path, "a bigint (store it as a number or a fixed-width string)");
    default:
      return reject(path, `a ${typeof v}`);
  }
}

/** Slab that finished short keys are copied into (see KeyWriter.finish). */
const KEY_SLAB_SIZE = 64 * 1024;
/** Longer keys get a buffer of their own, so one big key never retires most of a slab. */
const SLAB_KEY_MAX = 256;
let keySlab = new Uint8Array(KEY_SLAB_SIZE);
let keySlabPos = 0;

/**
 * Growable, reusable buffer that key encodings are appended to. One writer per hot loop avoids an
 * allocation per field; `finish()` returns an exact-size copy and resets the writer. A write that
 * throws leaves the writer as it was before the call.
 */
export class KeyWriter {
  private buf: Uint8Array;
  /** `buf` seen as a Buffer, for the native UTF-8 encoder. */
  private nodeBuf: Buffer;
  private pos = 0;

  constructor(initialCapacity = DEFAULT_CAPACITY) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.nodeBuf = Buffer.from(this.buf.buffer);
  }

  /** Bytes written since the last reset. */
  get length(): number {
    return this.pos;
  }

  reset(): this {
    this.pos = 0;
    return this;
  }

  /**
   * A copy of the bytes written so far; the writer is reset for the next key. Short keys are
   * carved from a shared slab (they are never modified, like every key), which costs one view
   * object per key instead of a buffer of its own: a 1000-document batch makes thousands.
   */
  finish(): Uint8Array {
    const n = this.pos;
    let out: Uint8Array;
    if (n > SLAB_KEY_MAX) {
      out = this.buf.slice(0, n);
    } else {
      if (keySlabPos + n > KEY_SLAB_SIZE) {
        keySlab = new Uint8Array(KEY_SLAB_SIZE);
        keySlabPos = 0;
      }
      const at = keySlabPos;
      const src = this.buf;
      const slab = keySlab;
      for (let i = 0; i < n; i++) slab[at + i] = src[i]!;
      keySlabPos = at + n;
      out = slab.subarray(at, at + n);
    }
    this.pos = 0;
    if (this.buf.length > MAX_RETAINED_CAPACITY) this.replaceBuffer(new Uint8Array(DEFAULT_CAPACITY));
    return out;
  }

  /** Appends a null: also what a missing field or `undefined` encodes as. */
  writeNull(): this {
    this.ensure(1);
    this.buf[this.pos++] = KeyTag.Null;
    return this;
  }

  writeBool(v: boolean): this {
    this.ensure(1);
    this.buf[this.pos++] = v ? KeyTag.True : KeyTag.False;
    return this;
  }

  writeNumber(v: number, path?: string): this {
    if (v !== v) reject(path, "NaN");
    this.writeTaggedFloat(KeyTag.Number, v);
    return this;
  }

  writeDate(d: Date, path?: string): this {
    const t = d.getTime();
    if (t !== t) reject(path, "an invalid Date");
    this.writeTaggedFloat(KeyTag.Date, t);
    return this;
  }

  /**
   * UTF-8 with 00 escaped. Short strings (nearly every index value) are encoded by hand, ASCII in
   * one branch per char, which beats a native call's fixed cost; long ones natively.
   */
  writeString(s: string, path?: string): this {
    const n = s.length;
    if (n >= NATIVE_STRING_MIN) return this.writeLongString(s, path);
    // Worst case: 3 bytes per UTF-16 unit (a surrogate pair is 4 bytes for 2 units), plus tag and terminator.
    this.ensure(3 * n + 3);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = KeyTag.String;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        if (c !== 0) {
          buf[p++] = c;
        } else {
          buf[p++] = 0;
          buf[p++] = ESCAPE;
        }
      } else if (c < 0x800) {
        buf[p++] = 0xc0 | (c >> 6);
        buf[p++] = 0x80 | (c & 0x3f);
      } else if (c < 0xd800 || c > 0xdfff) {
        buf[p++] = 0xe0 | (c >> 12);
        buf[p++] = 0x80 | ((c >> 6) & 0x3f);
        buf[p++] = 0x80 | (c & 0x3f);
      } else {
        const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) reject(path, `a string with a lone surrogate at index ${i}`);
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        buf[p++] = 0xf0 | (cp >> 18);
        buf[p++] = 0x80 | ((cp >> 12) & 0x3f);
        buf[p++] = 0x80 | ((cp >> 6) & 0x3f);
        buf[p++] = 0x80 | (cp & 0x3f);
        i++;
      }
    }
    buf[p++] = 0;
    buf[p++] = TERMINATOR;
    this.pos = p;
    return this;
  }

  private writeLongString(s: string, path: string | undefined): this {
    if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) {
      reject(path, `a string with a lone surrogate at index ${loneSurrogateIndex(s)}`);
    }
    // UTF-8 needs at most 3 bytes per UTF-16 unit, and a 00 (1 byte from 1 unit) at most 2 once escaped.
    this.ensure(3 * s.length + 3);
    const buf = this.buf;
    const start = this.pos + 1;
    buf[this.pos] = KeyTag.String;
    const end = start + this.nodeBuf.write(s, start, "utf8");
    let zeros = 0;
    for (let i = start; i < end; i++) if (buf[i] === 0) zeros++;
    let p = end + zeros;
    // Escape in place, back to front, so each byte moves once.
    for (let i = end - 1, j = p - 1; i < j; i--) {
      const c = buf[i]!;
      if (c === 0) {
        buf[j--] = ESCAPE;
        buf[j--] = 0;
      } else {
        buf[j--] = c;
      }
    }
    buf[p++] = 0;
    buf[p++] = TERMINATOR;
    this.pos = p;
    return this;
  }

  /** Appends `bytes` as they are (a key namespace prefix): no tag, no escaping. */
  writeRaw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  writeBinary(b: Uint8Array): this {
    const n = b.length;
    this.ensure(2 * n + 3);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = KeyTag.Binary;
    for (let i = 0; i < n; i++) {
      const c = b[i]!;
      buf[p++] = c;
      if (c === 0) buf[p++] = ESCAPE;
    }
    buf[p++] = 0;
    buf[p++] = TERMINATOR;
    this.pos = p;
    return this;
  }

  /** Appends any index value; `path` names the field in error messages. */
  writeValue(v: IndexValue, path?: string): this {
    switch (tagOf(v, path)) {
      case KeyTag.Null:
        return this.writeNull();
      case KeyTag.False:
      case KeyTag.True:
        return this.writeBool(v as boolean);
      case KeyTag.Number:
        return this.writeNumber(v as number, path);
      case KeyTag.String:
        return this.writeString(v as string, path);
      case KeyTag.Date:
        return this.writeDate(v as Date, path);
      default:
        return this.writeBinary(v as Uint8Array);
    }
  }

  private writeTaggedFloat(tag: number, v: number): void {
    this.ensure(9);
    // -0 and 0 must be one index value (they are === in JS and in every query); adding 0 turns -0 into +0.
    f64[0] = v + 0;
    let hi = u32[HI]!;
    let lo = u32[LO]!;
    if (hi & 0x8000_0000) {
      // Negative: flip everything so larger magnitudes sort lower.
      hi = ~hi;
      lo = ~lo;
    } else {
      // Non-negative: set the sign bit so they sort above every negative.
      hi ^= 0x8000_0000;
    }
    const buf = this.buf;
    const p = this.pos;
    buf[p] = tag;
    buf[p + 1] = hi >>> 24;
    buf[p + 2] = hi >>> 16;
    buf[p + 3] = hi >>> 8;
    buf[p + 4] = hi;
    buf[p + 5] = lo >>> 24;
    buf[p + 6] = lo >>> 16;
    buf[p + 7] = lo >>> 8;
    buf[p + 8] = lo;
    this.pos = p + 9;
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.replaceBuffer(next);
  }

  private replaceBuffer(next: Uint8Array): void {
    this.buf = next;
    this.nodeBuf = Buffer.from(next.buffer);
  }
}

// Shared by the convenience functions below: JS is single-threaded and nothing they call re-enters.
const shared = new KeyWriter();

/** The encoding of one index value. */
export function encodeIndexValue(v: IndexValue, path?: string): Uint8Array {
  return shared.reset().writeValue(v, path).finish();
}

/** The encoding of a compound key: the fields' encodings concatenated. `paths` name fields in errors. */
export function encodeKey(values: readonly IndexValue[], paths?: readonly string[]): Uint8Array {
  shared.reset();
  for (let i = 0; i < values.length; i++) shared.writeValue(values[i], paths?.[i]);
  return shared.finish();
}

// ---------------------------------------------------------------------------------------------
// Reference order, on JS values.

/**
 * Orders strings by UTF-8 bytes, i.e. by code point. UTF-16 code units agree with code point order
 * except that surrogates (astral characters) must sort above U+E000..U+FFFF; the fix-up remaps
 * only the first differing unit, which is enough because everything before it is equal.
 */
export function compareStrings(a: string, b: string): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

/**
 * The index order: null (= undefined = missing) < false < true < numbers < strings < Dates <
 * binaries; within a type numerically, by UTF-8 bytes, by time, by unsigned bytes. Returns -1, 0
 * or 1. Throws InvalidArgumentError for values that cannot be indexed (strings are not checked for
 * lone surrogates here; they only matter to the encoder). Note that `Array.prototype.sort` moves
 * `undefined` elements to the end without calling the comparator: box missing values to sort them.
 */
export function compareIndexValues(a: IndexValue, b: IndexValue): number {
  const ta = tagOf(a, undefined);
  const tb = tagOf(b, undefined);
  if (ta !== tb) return ta < tb ? -1 : 1;
  switch (ta) {
    case KeyTag.Number:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case KeyTag.String:
      return Math.sign(compareStrings(a as string, b as string));
    case KeyTag.Date: {
      const x = (a as Date).getTime();
      const y = (b as Date).getTime();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case KeyTag.Binary:
      return Math.sign(compareBytes(a as Uint8Array, b as Uint8Array));
    default:
      return 0; // null, false, true: the tag is the whole value
  }
}

/** Compound keys compare field by field; a key that is a prefix of another sorts first. */
export function compareIndexKeys(a: readonly IndexValue[], b: readonly IndexValue[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareIndexValues(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Decoding: for explain(), debugging and tests, not on any hot path.

const utf8 = new TextDecoder("utf-8", { fatal: true });

function malformed(offset: number, what: string): never {
  throw new InvalidArgumentError(`lsmdoc/index-key: malformed key at byte ${offset}: ${what}`);
}

/**
 * The values of an encoded key. Strict: bytes that the encoder never produces (unknown tag, bad
 * escape, truncation, NaN or -0 patterns, invalid UTF-8, out-of-range dates) throw
 * InvalidArgumentError naming the offset, so decodeKey(encodeKey(vs)) is the only round trip.
 */
export function decodeKey(bytes: Uint8Array): IndexValue[] {
  const out: IndexValue[] = [];
  let p = 0;
  while (p < bytes.length) {
    const tag = bytes[p]!;
    switch (tag) {
      case KeyTag.Null:
        out.push(null);
        p += 1;
        break;
      case KeyTag.False:
      case KeyTag.True:
        out.push(tag === KeyTag.True);
        p += 1;
        break;
      case KeyTag.Number:
      case KeyTag.Date: {
        if (p + 9 > bytes.length) malformed(p, "truncated 8-byte float");
        const v = readFloat(bytes, p + 1);
        if (v !== v || Object.is(v, -0)) malformed(p, "non-canonical float (NaN or -0)");
        if (tag === KeyTag.Number) {
          out.push(v);
        } else {
          const d = new Date(v);
          if (d.getTime() !== v) malformed(p, `timestamp ${v} is not a valid Date`);
          out.push(d);
        }
        p += 9;
        break;
      }
      case KeyTag.String:
      case KeyTag.Binary: {
        const [raw, end] = readEscaped(bytes, p + 1);
        if (tag === KeyTag.Binary) {
          out.push(raw);
        } else {
          try {
            out.push(utf8.decode(raw));
          } catch {
            malformed(p, "invalid UTF-8 in a string");
          }
        }
        p = end;
        break;
      }
      default:
        malformed(p, `unknown type tag 0x${tag.toString(16).padStart(2, "0")}`);
    }
  }
  return out;
}

function readFloat(b: Uint8Array, p: number): number {
  let hi = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  let lo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
  if (hi & 0x8000_0000) {
    hi ^= 0x8000_0000;
  } else {
    hi = ~hi;
    lo = ~lo;
  }
  u32[HI] = hi;
  u32[LO] = lo;
  return f64[0]!;
}

/** Unescapes from `p` through the 00 01 terminator; returns the payload and the offset after it. */
function readEscaped(b: Uint8Array, p: number): [Uint8Array, number] {
  const out: number[] = [];
  for (;;) {
    if (p >= b.length) malformed(p, "unterminated string or binary");
    const c = b[p]!;
    if (c !== 0) {
      out.push(c);
      p += 1;
      continue;
    }
    const next = p + 1 < b.length ? b[p + 1] : undefined;
    if (next === TERMINATOR) return [Uint8Array.from(out), p + 2];
    if (next !== ESCAPE) malformed(p, "00 not followed by FF (escape) or 01 (terminator)");
    out.push(0);
    p += 2;
  }
}

// ---------------------------------------------------------------------------------------------
// Ranges, for the query planner.

const TYPE_TAGS: Record<IndexValueType, readonly [number, number]> = {
  null: [KeyTag.Null, KeyTag.Null + 1],
  boolean: [KeyTag.False, KeyTag.True + 1],
  number: [KeyTag.Number, KeyTag.Number + 1],
  string: [KeyTag.String, KeyTag.String + 1],
  date: [KeyTag.Date, KeyTag.Date + 1],
  binary: [KeyTag.Binary, KeyTag.Binary + 1],
};

/** The type an index value belongs to (its place in the type order). */
export function indexValueType(v: IndexValue): IndexValueType {
  switch (tagOf(v, undefined)) {
    case KeyTag.Null:
      return "null";
    case KeyTag.False:
    case KeyTag.True:
      return "boolean";
    case KeyTag.Number:
      return "number";
    case KeyTag.String:
      return "string";
    case KeyTag.Date:
      return "date";
    default:
      return "binary";
  }
}

/** Every single-field encoding of `type` lies in this range, and nothing else does. */
export function typeRange(type: IndexValueType): KeyRange {
  const [lo, hi] = TYPE_TAGS[type];
  return { gte: Uint8Array.of(lo), lt: Uint8Array.of(hi) };
}

/**
 * The smallest byte string greater than every string that starts with `prefix`: drop trailing FF
 * bytes and increment the last remaining one. Undefined when there is none (empty or all FF),
 * meaning "unbounded above".
 */
export function prefixSuccessor(prefix: Uint8Array): Uint8Array | undefined {
  let n = prefix.length;
  while (n > 0 && prefix[n - 1] === 0xff) n--;
  if (n === 0) return undefined;
  const out = prefix.slice(0, n);
  out[n - 1]! += 1;
  return out;
}

function concat(a: Uint8Array, b: Uint8Array | number): Uint8Array {
  const tail = typeof b === "number" ? Uint8Array.of(b) : b;
  const out = new Uint8Array(a.length + tail.length);
  out.set(a, 0);
  out.set(tail, a.length);
  return out;
}

function maxLower(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compareBytes(a, b) >= 0 ? a : b;
}

function minUpper(a: Uint8Array | undefined, b: Uint8Array | undefined): Uint8Array | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareBytes(a, b) <= 0 ? a : b;
}

/**
 * The byte range of index keys whose first `equal.length` fields equal `equal` and whose next field
 * satisfies `bounds`; later fields (and any suffix such as a document id) are unconstrained.
 * `$gt v` starts after every key with prefix (equal, v), hence prefixSuccessor; `$lte v` ends there.
 *
 * With `typeBracketing` (the default, MongoDB's rule) a bound only admits values of its own type:
 * `{ $gt: 5 }` stops at the end of the numbers instead of running on into strings. Contradictory
 * bounds give an empty range (gte >= lt; see {@link isEmptyRange}). An `undefined` bound is absent;
 * bound on null with `null`.
 */
export function keyRange(equal: readonly IndexValue[], bounds: RangeBounds = {}, typeBracketing = true): KeyRange {
  const base = encodeKey(equal);
  let lower = base;
  let upper = prefixSuccessor(base);
  const bracket = (v: IndexValue): void => {
    if (!typeBracketing) return;
    const [lo, hi] = TYPE_TAGS[indexValueType(v)];
    lower = maxLower(lower, concat(base, lo));
    upper = minUpper(upper, concat(base, hi));
  };
  const at = (v: IndexValue): Uint8Array => concat(base, encodeIndexValue(v));
  // Every prefix here ends in a complete encoding, whose first byte is a tag below FF, so its successor exists.
  const after = (v: IndexValue): Uint8Array => prefixSuccessor(at(v))!;
  if (bounds.gte !== undefined) {
    lower = maxLower(lower, at(bounds.gte));
    bracket(bounds.gte);
  }
  if (bounds.gt !== undefined) {
    lower = maxLower(lower, after(bounds.gt));
    bracket(bounds.gt);
  }
  if (bounds.lte !== undefined) {
    upper = minUpper(upper, after(bounds.lte));
    bracket(bounds.lte);
  }
  if (bounds.lt !== undefined) {
    upper = minUpper(upper, at(bounds.lt));
    bracket(bounds.lt);
  }
  return { gte: lower, lt: upper };
}

/** True when no byte string lies in `r`. */
export function isEmptyRange(r: KeyRange): boolean {
  return r.lt !== undefined && compareBytes(r.gte, r.lt) >= 0;
}

/** True when `key` lies in `r`. */
export function inRange(key: Uint8Array, r: KeyRange): boolean {
  return compareBytes(key, r.gte) >= 0 && (r.lt === undefined || compareBytes(key, r.lt) < 0);
}

/**
 * `r` moved under a key namespace (an index's id prefix): a range unbounded above becomes bounded
 * by the end of the namespace.
 */
export function rangeWithin(namespace: Uint8Array, r: KeyRange): KeyRange {
  return {
    gte: concat(namespace, r.gte),
    lt: r.lt === undefined ? prefixSuccessor(namespace) : concat(namespace, r.lt),
  };
}
