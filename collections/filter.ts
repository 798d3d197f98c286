/**
 * MongoDB-style query filters (SPEC §3): validation, the matcher, and the summary of index-usable
 * ("sargable") conditions that the query planner reads.
 *
 * A filter is parsed once into clauses (compileFilter); parsing validates everything, so a bad
 * filter throws InvalidArgumentError naming the offending place before any document is read.
 *
 * Semantics (MongoDB's, on the values collected by paths.getPathValues):
 * - The candidates of a field are each value its path reaches and, for a value that is an array,
 *   that array's elements (one level). Equality holds when a candidate deep-equals the operand, so
 *   `{tags: "a"}` matches arrays containing "a" and `{tags: ["a", "b"]}` the array itself.
 * - `null` stands for "null or missing": `{f: null}` and `{f: {$in: [null]}}` match documents
 *   without `f`; `$gte: null` / `$lte: null` behave as equality with null; `$gt`/`$lt` null never
 *   match.
 * - Range operators compare only within one type bracket, in collections/key-codec.ts's order
 *   (null, booleans, numbers, strings, Dates, binary; bigints form their own bracket, since the key
 *   codec cannot hold them), so query results agree with index ranges. `{age: {$gt: 30}}` never
 *   matches a string.
 * - Each operator of one condition is tested on its own, so `{a: {$gt: 5, $lt: 10}}` matches
 *   `a: [1, 20]` (20 > 5, 1 < 10). `$ne`, `$nin` and `$not` are exact negations, so they match
 *   documents where the field is missing.
 * - `$exists: true` holds when some path branch reaches a value, null included.
 */
import { InvalidArgumentError } from "../engine/errors.js";
import { compareIndexValues, type IndexValue, type RangeBounds } from "./key-codec.js";
import { checkValue, deepEqual, describe, getPathValues, isPlainObject, MISSING, parsePath, type PathSegments } from "./paths.js";

/** The untyped shape of a filter; collections/types.ts types it per schema. */
export type FilterObject = Readonly<Record<string, unknown>>;

/** A compiled filter. */
export interface CompiledFilter {
  /** True when `doc` satisfies the filter. */
  matches(doc: unknown): boolean;
  /** The conditions an index can serve; see {@link SargableSummary}. */
  readonly sargable: SargableSummary;
}

/**
 * One index-usable condition on a top-level field path. Each is a necessary condition of the whole
 * filter on its own: a matching document always has an index entry (one per array element; missing
 * as null) that satisfies it. A range carries exactly one bound; see {@link rangeBoundsFor}.
 */
export type SargableCondition =
  | { readonly path: string; readonly op: "eq"; readonly value: IndexValue }
  | { readonly path: string; readonly op: "in"; readonly values: readonly IndexValue[] }
  | { readonly path: string; readonly op: "range"; readonly bounds: RangeBounds };

export interface SargableSummary {
  /**
   * True when the filter is a plain conjunction of field conditions: no $or or $nor at the top level
   * or inside a top-level $and. Conditions not listed ($ne, $nin, $exists, $not, equality with
   * objects or arrays) still have to be checked by the full matcher.
   */
  readonly conjunctive: boolean;
  /** Conditions from the top level and from top-level $and (recursively), in filter order. */
  readonly conditions: readonly SargableCondition[];
}

type RangeOp = "$gt" | "$gte" | "$lt" | "$lte";

/** A parsed operator of a field condition; implicit equality is parsed as $eq. */
type FieldOp =
  | { readonly op: "$eq" | "$ne"; readonly value: unknown }
  | { readonly op: RangeOp; readonly value: unknown }
  | { readonly op: "$in" | "$nin"; readonly values: readonly unknown[] }
  | { readonly op: "$exists"; readonly value: boolean }
  | { readonly op: "$not"; readonly ops: readonly FieldOp[] };

type Clause =
  | { readonly kind: "field"; readonly path: string; readonly segments: PathSegments; readonly ops: readonly FieldOp[] }
  | { readonly kind: "$and" | "$or" | "$nor"; readonly branches: readonly (readonly Clause[])[] };

/** Where an error is: a message prefix followed by the steps into the filter, e.g. $or[1], "age", $in. */
export type Location = readonly string[];

const FIELD_OPERATORS = new Set(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$not"]);
const LOGICAL_OPERATORS = new Set(["$and", "$or", "$nor"]);
const SUPPORTED_FIELD = "$eq $ne $gt $gte $lt $lte $in $nin $exists $not";

function label(loc: Location): string {
  const [prefix, ...steps] = loc;
  return steps.length === 0 ? prefix! : `${prefix}: ${steps.join(" › ")}`;
}

function fail(loc: Location, message: string): never {
  throw new InvalidArgumentError(`${label(loc)}: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// Parsing and validation

/** Validates `filter` and compiles it into a matcher. Throws InvalidArgumentError for a bad filter. */
export function compileFilter(filter: unknown): CompiledFilter {
  const clauses = parseFilter(filter, ["lsmdoc/filter"]);
  const match = compileClauses(clauses);
  return { matches: match, sargable: summarize(clauses) };
}

/** Validates `filter` without keeping the result. */
export function validateFilter(filter: unknown): void {
  parseFilter(filter, ["lsmdoc/filter"]);
}

/** The sargable summary of `filter` (validating it first). */
export function sargableConditions(filter: unknown): SargableSummary {
  return summarize(parseFilter(filter, ["lsmdoc/filter"]));
}

function parseFilter(filter: unknown, loc: Location): Clause[] {
  if (!isPlainObject(filter)) fail(loc, `a filter must be a plain object, got ${describe(filter)}`);
  const clauses: Clause[] = [];
  for (const key of Object.keys(filter)) {
    const value = filter[key];
    if (LOGICAL_OPERATORS.has(key)) {
      clauses.push(parseLogical(key as "$and" | "$or" | "$nor", value, [...loc, key]));
    } else if (key.startsWith("$")) {
      const hint = FIELD_OPERATORS.has(key) ? ` (${key} applies to a field: { field: { ${key}: … } })` : "";
      fail(loc, `unknown top-level operator "${key}"${hint}; supported: $and $or $nor`);
    } else {
      const where = [...loc, JSON.stringify(key)];
      const segments = parsePath(key, label(loc));
      clauses.push({ kind: "field", path: key, segments, ops: parseCondition(value, where) });
    }
  }
  return clauses;
}

function parseLogical(op: "$and" | "$or" | "$nor", value: unknown, loc: Location): Clause {
  if (!Array.isArray(value) || value.length === 0) fail(loc, `${op} expects a non-empty array of filters, got ${describe(value)}`);
  const branches = value.map((branch, i) => {
    const where = [...loc.slice(0, -1), `${op}[${i}]`];
    if (!isPlainObject(branch)) fail(where, `${op} expects filter objects, got ${describe(branch)}`);
    return parseFilter(branch, where);
  });
  return { kind: op, branches };
}

/**
 * True when `v` is an operator expression (`{ $gt: 1 }`): a plain object with a "$" key. Such an
 * object is never a value to compare with; parseOperators refuses plain keys mixed into it.
 */
function isOperatorObject(v: unknown): v is Record<string, unknown> {
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.some((k) => k.startsWith("$"));
}

/** A field's condition: an operator object, or a value for implicit equality. */
function parseCondition(value: unknown, loc: Location): FieldOp[] {
  if (isOperatorObject(value)) return parseOperators(value, loc, true);
  checkValue(value, label(loc));
  return [{ op: "$eq", value }];
}

function parseOperators(obj: Record<string, unknown>, loc: Location, allowNot: boolean): FieldOp[] {
  const keys = Object.keys(obj);
  const plain = keys.filter((k) => !k.startsWith("$"));
  if (plain.length > 0) {
    const names = plain.map((k) => JSON.stringify(k)).join(", ");
    fail(loc, `an operator object cannot also have plain fields (${names}); compare whole objects without operators, or use $and`);
  }
  const ops: FieldOp[] = [];
  for (const key of keys) {
    const v = obj[key];
    const where = [...loc, key];
    switch (key) {
      case "$eq":
      case "$ne":
        checkValue(v, label(where));
        ops.push({ op: key, value: v });
        break;
      case "$gt":
      case "$gte":
      case "$lt":
      case "$lte":
        checkValue(v, label(where));
        if (Array.isArray(v) || isPlainObject(v)) {
          fail(where, `${key} compares with a null, boolean, number, bigint, string, Date or Uint8Array, got ${describe(v)}`);
        }
        ops.push({ op: key, value: v });
        break;
      case "$in":
      case "$nin":
        if (!Array.isArray(v)) fail(where, `${key} expects an array of values, got ${describe(v)}`);
        checkValue(v, label(where));
        ops.push({ op: key, values: v });
        break;
      case "$exists":
        if (typeof v !== "boolean") fail(where, `$exists expects true or false, got ${describe(v)}`);
        ops.push({ op: key, value: v });
        break;
      case "$not":
        if (!allowNot) fail(where, "$not cannot be nested inside $not (remove both)");
        if (!isOperatorObject(v)) fail(where, `$not expects an operator object such as { $gt: 5 }, got ${describe(v)}`);
        ops.push({ op: key, ops: parseOperators(v, where, false) });
        break;
      case "$regex":
      case "$options":
        fail(where, "regular expressions are not supported; match in application code or store a normalized field");
        break;
      default: {
        const hint = LOGICAL_OPERATORS.has(key) ? ` (${key} is a top-level operator)` : "";
        fail(where, `unknown operator "${key}"${hint}; supported: ${SUPPORTED_FIELD}`);
      }
    }
  }
  return ops;
}

// ---------------------------------------------------------------------------------------------
// Matching

type DocPredicate = (doc: unknown) => boolean;
/** A test on the values a path reached (never empty; MISSING marks branches that reached nothing). */
type ValuesPredicate = (values: readonly unknown[]) => boolean;

function compileClauses(clauses: readonly Clause[]): DocPredicate {
  const preds = clauses.map(compileClause);
  if (preds.length === 1) return preds[0]!;
  return (doc) => {
    for (const p of preds) if (!p(doc)) return false;
    return true;
  };
}

function compileClause(clause: Clause): DocPredicate {
  if (clause.kind === "field") {
    const test = compileOps(clause.ops);
    const segments = clause.segments;
    return (doc) => test(getPathValues(doc, segments));
  }
  const branches = clause.branches.map(compileClauses);
  switch (clause.kind) {
    case "$and":
      return (doc) => branches.every((b) => b(doc));
    case "$or":
      return (doc) => branches.some((b) => b(doc));
    case "$nor":
      return (doc) => !branches.some((b) => b(doc));
  }
}

function compileOps(ops: readonly FieldOp[]): ValuesPredicate {
  const preds = ops.map(compileOp);
  if (preds.length === 1) return preds[0]!;
  return (values) => {
    for (const p of preds) if (!p(values)) return false;
    return true;
  };
}

function compileOp(op: FieldOp): ValuesPredicate {
  switch (op.op) {
    case "$eq":
      return equals(op.value);
    case "$ne": {
      const eq = equals(op.value);
      return (values) => !eq(values);
    }
    case "$in":
    case "$nin": {
      const eqs = op.values.map(equals);
      const any: ValuesPredicate = (values) => eqs.some((eq) => eq(values));
      return op.op === "$in" ? any : (values) => !any(values);
    }
    case "$exists": {
      const want = op.value;
      return (values) => values.some((v) => v !== MISSING) === want;
    }
    case "$not": {
      const inner = compileOps(op.ops);
      return (values) => !inner(values);
    }
    default:
      return range(op.op, op.value);
  }
}

/** Some candidate deep-equals `x`; null also matches MISSING and undefined. */
function equals(x: unknown): ValuesPredicate {
  if (x === null) {
    return (values) => values.some((v) => v === MISSING || v === null || (Array.isArray(v) && v.some((e) => e == null)));
  }
  if (typeof x !== "object") {
    // Primitives: === and Array#includes (SameValueZero) are deep equality here; NaN was refused.
    return (values) => values.some((v) => v === x || (Array.isArray(v) && v.includes(x)));
  }
  return (values) => values.some((v) => deepEqual(v, x) || (Array.isArray(v) && v.some((e) => deepEqual(e, x))));
}

const TESTS: Record<RangeOp, (c: number) => boolean> = {
  $gt: (c) => c > 0,
  $gte: (c) => c >= 0,
  $lt: (c) => c < 0,
  $lte: (c) => c <= 0,
};

/** Some candidate is in `x`'s type bracket and compares with it as `op` says. */
function range(op: RangeOp, x: unknown): ValuesPredicate {
  const test = TESTS[op];
  const bracket = bracketOf(x);
  const accept = (c: unknown): boolean => {
    if (bracketOf(c) !== bracket) return false;
    if (bracket === "bigint") return test((c as bigint) < (x as bigint) ? -1 : (c as bigint) > (x as bigint) ? 1 : 0);
    return test(compareIndexValues(c as IndexValue, x as IndexValue));
  };
  const missingMatches = bracket === "null" && test(0);
  return (values) => values.some((v) => (v === MISSING ? missingMatches : Array.isArray(v) ? v.some(accept) : accept(v)));
}

/** The comparison class of a value; "none" for values no range operator orders (NaN, invalid Dates, objects). */
function bracketOf(v: unknown): string {
  switch (typeof v) {
    case "undefined":
      return "null";
    case "boolean":
    case "string":
    case "bigint":
      return typeof v;
    case "number":
      return v === v ? "number" : "none";
    case "object":
      if (v === null) return "null";
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? "none" : "date";
      if (v instanceof Uint8Array) return "binary";
      return "none";
    default:
      return "none";
  }
}

// ---------------------------------------------------------------------------------------------
// Sargable summary

function isIndexValue(v: unknown): v is IndexValue {
  const b = bracketOf(v);
  return b !== "none" && b !== "bigint";
}

function summarize(clauses: readonly Clause[]): SargableSummary {
  const conditions: SargableCondition[] = [];
  let conjunctive = true;
  const visit = (cs: readonly Clause[]): void => {
    for (const c of cs) {
      if (c.kind === "$and") {
        for (const b of c.branches) visit(b);
      } else if (c.kind !== "field") {
        conjunctive = false;
      } else {
        for (const op of c.ops) addCondition(c.path, op, conditions);
      }
    }
  };
  visit(clauses);
  return { conjunctive, conditions };
}

function addCondition(path: string, op: FieldOp, out: SargableCondition[]): void {
  switch (op.op) {
    case "$eq":
      if (isIndexValue(op.value)) out.push({ path, op: "eq", value: op.value });
      return;
    case "$in":
      if (op.values.every(isIndexValue)) out.push({ path, op: "in", values: op.values });
      return;
    case "$gt":
    case "$gte":
    case "$lt":
    case "$lte":
      if (isIndexValue(op.value)) {
        const bound = op.op.slice(1) as keyof RangeBounds;
        out.push({ path, op: "range", bounds: { [bound]: op.value } });
      }
      return;
    default:
      return; // $ne, $nin, $exists, $not: an index cannot narrow these soundly
  }
}

/**
 * The intersection of every range condition on `path`, tightest bound per side (undefined when there
 * is none). Only for a field that never holds an array: on an array each bound may be met by a
 * different element, so a multikey index must be scanned with one condition's bound alone.
 * Bounds of different types are kept by the key order; the resulting key range is then empty, which
 * is right, since a single scalar cannot be, say, both above 5 and below "z".
 */
export function rangeBoundsFor(conditions: readonly SargableCondition[], path: string): RangeBounds | undefined {
  let lower: { value: IndexValue; strict: boolean } | undefined;
  let upper: { value: IndexValue; strict: boolean } | undefined;
  let found = false;
  for (const c of conditions) {
    if (c.path !== path || c.op !== "range") continue;
    found = true;
    const { gt, gte, lt, lte } = c.bounds;
    if (gt !== undefined || gte !== undefined) {
      const next = gt !== undefined ? { value: gt, strict: true } : { value: gte, strict: false };
      const cmp = lower === undefined ? 1 : compareIndexValues(next.value, lower.value);
      if (cmp > 0 || (cmp === 0 && next.strict)) lower = next;
    }
    if (lt !== undefined || lte !== undefined) {
      const next = lt !== undefined ? { value: lt, strict: true } : { value: lte, strict: false };
      const cmp = upper === undefined ? -1 : compareIndexValues(next.value, upper.value);
      if (cmp < 0 || (cmp === 0 && next.strict)) upper = next;
    }
  }
  if (!found) return undefined;
  const out: RangeBounds = {};
  if (lower !== undefined) out[lower.strict ? "gt" : "gte"] = lower.value;
  if (upper !== undefined) out[upper.strict ? "lt" : "lte"] = upper.value;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Conditions on array elements, for $pull

/**
 * A test on one array element, as $pull uses it: an operator object (`{ $gt: 3 }`) tests the
 * element itself; any other plain object is a filter on the element's fields (only object elements
 * can match, and `{}` matches every one of them); any other value removes elements deep-equal to it.
 * `loc` starts error messages (e.g. ["lsmdoc/update", "$pull", "\"tags\""]).
 */
export function compileElementMatcher(condition: unknown, loc: Location): (element: unknown) => boolean {
  if (isPlainObject(condition)) {
    if (Object.keys(condition).some((k) => FIELD_OPERATORS.has(k))) {
      // Field operators: also refuses plain keys or logical operators mixed in, naming them.
      const test = compileOps(parseOperators(condition, loc, true));
      return (el) => test([el]);
    }
    const match = compileClauses(parseFilter(condition, loc));
    return (el) => isPlainObject(el) && match(el);
  }
  checkValue(condition, label(loc));
  return (el) => deepEqual(el, condition);
}
