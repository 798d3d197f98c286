/**
 * MongoDB-style update operators (SPEC §3): $set, $unset, $inc, $push and $pull on dot paths.
 *
 * compileUpdate validates the whole update before touching any document, so the collection can
 * refuse a bad update before it reads anything; apply() then only fails on what depends on the
 * document (e.g. $inc on a string). Whole-document replacement is the collection's replace(), not
 * an update.
 *
 * Invariants:
 * - apply() never mutates its input: it returns a new document that shares untouched branches.
 * - An update names each path at most once, and never both a path and a path inside it ("a" and
 *   "a.b"), across all operators: so the order operators run in cannot change the result.
 * - `_id` and paths under it are never written.
 * - Values written are plain document values (paths.checkValue): no NaN, undefined, functions, or
 *   class instances other than Date and Uint8Array. They are stored by reference, not copied.
 */
import { InvalidArgumentError } from "../engine/errors.js";
import { compileElementMatcher } from "./filter.js";
import { checkValue, describe, getPath, isPlainObject, MISSING, modifyPath, parsePath, setPath, unsetPath, type PathSegments } from "./paths.js";

/** The untyped shape of an update; collections/types.ts types it per schema. */
export type UpdateObject = Readonly<Record<string, unknown>>;

/** A validated update, ready to apply to any number of documents. */
export interface CompiledUpdate {
  /** A new document with the update applied. Throws InvalidArgumentError if it cannot apply to `doc`. */
  apply<T extends object>(doc: T): T;
  /** Every path the update writes, in update order: what an index maintainer needs to know. */
  readonly paths: readonly string[];
}

type Step =
  | { readonly op: "$set"; readonly path: string; readonly segments: PathSegments; readonly value: unknown }
  | { readonly op: "$unset"; readonly path: string; readonly segments: PathSegments }
  | { readonly op: "$inc"; readonly path: string; readonly segments: PathSegments; readonly by: number | bigint }
  | { readonly op: "$push"; readonly path: string; readonly segments: PathSegments; readonly items: readonly unknown[] }
  | { readonly op: "$pull"; readonly path: string; readonly segments: PathSegments; readonly remove: (el: unknown) => boolean };

const OPERATORS = ["$set", "$unset", "$inc", "$push", "$pull"] as const;
type Operator = (typeof OPERATORS)[number];
const PREFIX = "lsmdoc/update";

function fail(message: string): never {
  throw new InvalidArgumentError(`${PREFIX}: ${message}`);
}

/** Validates `update` and returns it compiled. Throws InvalidArgumentError for a bad update. */
export function compileUpdate(update: unknown): CompiledUpdate {
  const steps = parseUpdate(update);
  return {
    apply: (doc) => applySteps(doc, steps),
    paths: steps.map((s) => s.path),
  };
}

/** Validates `update` without a document: everything that can be checked up front is. */
export function validateUpdate(update: unknown): void {
  parseUpdate(update);
}

/** `doc` with `update` applied, as a new document; `doc` is not modified. */
export function applyUpdate<T extends object>(doc: T, update: unknown): T {
  return compileUpdate(update).apply(doc);
}

function parseUpdate(update: unknown): Step[] {
  if (!isPlainObject(update)) fail(`an update must be a plain object of operators, got ${describe(update)}`);
  const keys = Object.keys(update);
  if (keys.length === 0) fail(`the update has no operators (use ${OPERATORS.join(", ")})`);
  const plain = keys.filter((k) => !k.startsWith("$"));
  if (plain.length > 0) {
    const names = plain.map((k) => JSON.stringify(k)).join(", ");
    if (plain.length === keys.length) {
      fail(`the update has fields (${names}) but no operators: use { $set: { … } }, or replace() to replace the whole document`);
    }
    fail(`the update mixes plain fields (${names}) with operators: put them under $set`);
  }
  const steps: Step[] = [];
  for (const key of keys) {
    if (!(OPERATORS as readonly string[]).includes(key)) {
      fail(`unknown update operator "${key}"; supported: ${OPERATORS.join(" ")}`);
    }
    const op = key as Operator;
    const fields = update[key];
    if (!isPlainObject(fields)) fail(`${op} expects an object of { path: value }, got ${describe(fields)}`);
    for (const path of Object.keys(fields)) steps.push(parseStep(op, path, fields[path]));
  }
  checkConflicts(steps);
  return steps;
}

function parseStep(op: Operator, path: string, value: unknown): Step {
  const where = `${PREFIX}: ${op} › ${JSON.stringify(path)}`;
  const segments = parsePath(path, `${PREFIX}: ${op}`);
  if (segments[0] === "_id") throw new InvalidArgumentError(`${where}: _id cannot be updated (it identifies the document)`);
  switch (op) {
    case "$set":
      if (value === undefined) throw new InvalidArgumentError(`${where}: undefined is not a value (use $unset to remove a field)`);
      checkValue(value, where);
      return { op, path, segments, value };
    case "$unset":
      // MongoDB ignores the value ("", 1 and true are customary); so do we.
      return { op, path, segments };
    case "$inc":
      if (!(typeof value === "bigint" || (typeof value === "number" && Number.isFinite(value)))) {
        throw new InvalidArgumentError(`${where}: $inc expects a finite number (or a bigint), got ${describe(value)}`);
      }
      return { op, path, segments, by: value };
    case "$push":
      return { op, path, segments, items: pushItems(value, where) };
    case "$pull":
      return { op, path, segments, remove: compileElementMatcher(value, [PREFIX, op, JSON.stringify(path)]) };
  }
}

/** The elements $push appends: the value itself, or the list in { $each: [...] }. */
function pushItems(value: unknown, where: string): readonly unknown[] {
  if (isPlainObject(value) && Object.keys(value).some((k) => k.startsWith("$"))) {
    const extra = Object.keys(value).filter((k) => k !== "$each");
    if (extra.length > 0) {
      throw new InvalidArgumentError(`${where}: $push supports only the $each modifier, not ${extra.join(", ")}`);
    }
    const each = value.$each;
    if (!Array.isArray(each)) throw new InvalidArgumentError(`${where}: $each expects an array, got ${describe(each)}`);
    checkValue(each, `${where} › $each`);
    return each;
  }
  checkValue(value, where);
  return [value];
}

/** Refuses an update that names a path twice, or a path and a path inside it. */
function checkConflicts(steps: readonly Step[]): void {
  const full = new Map<string, Step>();
  const prefixes = new Map<string, Step>();
  for (const s of steps) {
    const clash = full.get(s.path) ?? prefixes.get(s.path) ?? ancestorIn(s.segments, full);
    if (clash !== undefined) {
      fail(
        `${s.op} ${JSON.stringify(s.path)} conflicts with ${clash.op} ${JSON.stringify(clash.path)} ` +
          "(an update may write each path once, and not both a field and a field inside it)",
      );
    }
    full.set(s.path, s);
    for (let i = 1; i < s.segments.length; i++) prefixes.set(s.segments.slice(0, i).join("."), s);
  }
}

function ancestorIn(segments: PathSegments, full: ReadonlyMap<string, Step>): Step | undefined {
  for (let i = 1; i < segments.length; i++) {
    const hit = full.get(segments.slice(0, i).join("."));
    if (hit !== undefined) return hit;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Applying

function applySteps<T extends object>(doc: T, steps: readonly Step[]): T {
  if (!isPlainObject(doc)) fail(`can only update a plain-object document, got ${describe(doc)}`);
  let out = doc;
  for (const s of steps) out = applyStep(out, s);
  return out;
}

function applyStep<T>(doc: T, s: Step): T {
  const where = `${PREFIX}: ${s.op} › ${JSON.stringify(s.path)}`;
  switch (s.op) {
    case "$set":
      return setPath(doc, s.segments, s.value, where);
    case "$unset":
      return unsetPath(doc, s.segments);
    case "$inc": {
      const by = s.by;
      return modifyPath(
        doc,
        s.segments,
        (cur) => {
          if (cur === MISSING) return by;
          if (typeof by === "number" && typeof cur === "number") return cur + by;
          if (typeof by === "bigint" && typeof cur === "bigint") return cur + by;
          throw new InvalidArgumentError(`${where}: cannot add ${describe(by)} to ${describe(cur)}`);
        },
        where,
      );
    }
    case "$push":
      return modifyPath(
        doc,
        s.segments,
        (cur) => {
          if (cur === MISSING) return [...s.items];
          if (!Array.isArray(cur)) throw new InvalidArgumentError(`${where}: $push needs an array, the field holds ${describe(cur)}`);
          return [...cur, ...s.items];
        },
        where,
      );
    case "$pull": {
      const cur = getPath(doc, s.segments);
      if (cur === MISSING) return doc;
      if (!Array.isArray(cur)) throw new InvalidArgumentError(`${where}: $pull needs an array, the field holds ${describe(cur)}`);
      const kept = cur.filter((el) => !s.remove(el));
      return kept.length === cur.length ? doc : setPath(doc, s.segments, kept, where);
    }
  }
}
