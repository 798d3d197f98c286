/**
 * Compile-time contract of the document API (SPEC §3): the types that turn a collection's zod schema
 * into the shapes its methods accept and return, so that a misspelt field, a value of the wrong type
 * or an operator that cannot apply is a compile error rather than a query that silently matches
 * nothing.
 *
 * Owns: documents as stored and as inserted (`Doc`, `InsertDoc`), field paths (`Path`, `PathValue`),
 * filters (`Filter`, `Condition`), sorts (`Sort`), update operators (`Update`) and index field lists
 * (`IndexFields`, `IndexDefinition`). This module emits no JavaScript.
 *
 * Invariants:
 * - Everything is derived from one table, `PathEntries<T>`: a union with one member per dot path of
 *   the document type, carrying the field's declared type and two flags (an ancestor may be absent;
 *   the path goes through an array of objects). TypeScript caches alias instantiations, so the
 *   filter, sort, update and index types of one collection share a single walk of its schema
 *   instead of each re-deriving paths and then looking every path's value up again (the quadratic
 *   pattern that makes naive `PathValue<T, P>` lookups slow).
 * - The walk is bounded: at most `MaxPathSegments` segments, so recursive (getter or `z.lazy`) or very deep
 *   schemas stay finite and cheap. Dates, binary data, maps, sets, functions, branded primitives and
 *   `any` are leaves: their members are never offered as paths.
 * - Paths follow MongoDB: they descend into nested objects and into the objects inside arrays
 *   (`"items.price"` names the `price` of every element) but not into arrays of arrays, and there are
 *   no positional (`"items.0"`) paths. Paths through arrays can be filtered on, never written to,
 *   sorted by or indexed, because each names many values.
 * - `_id` is always a string on stored documents, can be filtered and sorted on, and can never be
 *   changed by an update.
 */
import type * as z from "zod";
import type { IndexValue } from "./key-codec.js";

// ---------------------------------------------------------------------------------------------
// Documents

/**
 * The schemas a collection accepts: any zod object schema (strict, strip, loose or catchall). A
 * schema wrapped in a transform or pipe is not an object schema and is refused: documents are
 * stored as validated and re-validated on update, which needs output and input to be one shape.
 *
 * @example
 * const User = z.object({ name: z.string(), age: z.number().int() });
 * const ok: DocumentSchema = User;
 */
export type DocumentSchema = z.ZodObject<z.core.$ZodLooseShape, z.core.$ZodObjectConfig>;

/**
 * A document as read back from a collection: the schema's output type plus its string `_id`.
 *
 * @example
 * const User = z.object({ name: z.string(), logins: z.number().default(0) });
 * type User = Doc<typeof User>; // { name: string; logins: number } & { _id: string }
 */
export type Doc<S extends DocumentSchema> = z.output<S> & { _id: string };

/**
 * A document as given to `insert`/`replace`: the schema's input type (fields with defaults are
 * optional) plus an optional `_id`. When the schema declares `_id` itself the intersection keeps the
 * schema's own declaration, so a required `_id` in the schema is required here too, with the
 * schema's type.
 *
 * @example
 * const User = z.object({ name: z.string(), logins: z.number().default(0) });
 * const u: InsertDoc<typeof User> = { name: "Ada" };              // logins and _id may be omitted
 * const Keyed = z.object({ _id: z.uuid(), name: z.string() });
 * const k: InsertDoc<typeof Keyed> = { _id: crypto.randomUUID(), name: "Ada" }; // _id required
 */
export type InsertDoc<S extends DocumentSchema> = z.input<S> & { _id?: string };

// ---------------------------------------------------------------------------------------------
// Field paths

/**
 * Paths have at most this many dot-separated segments; deeper fields are not addressable. Bounds the
 * work on recursive schemas, which would otherwise have infinitely many paths.
 */
export type MaxPathSegments = 6;

/**
 * One row of the path table of a document type.
 * - `path`: the dot path, e.g. `"address.city"`.
 * - `value`: the declared type of the field itself (with `undefined` if it is optional); for a path
 *   through an array of objects, the type of the field in one element.
 * - `absent`: true when an ancestor object is optional or nullable, so the path may be missing even
 *   if the field itself is required.
 * - `multi`: true when the path goes through an array of objects and so names one value per element.
 */
export interface PathEntry {
  readonly path: string;
  readonly value: unknown;
  readonly absent: boolean;
  readonly multi: boolean;
}

/** `Countdown[D]` is D - 1: the remaining segment budget one level down. */
type Countdown = [never, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

/** Types whose members are not fields: they are matched as whole values, never walked into. */
type Opaque =
  | Date
  | RegExp
  | ArrayBuffer
  | ArrayBufferView
  | ReadonlyMap<unknown, unknown>
  | ReadonlySet<unknown>
  | Promise<unknown>
  | ((...args: never[]) => unknown);

/** Branded primitives (`string & z.$brand<"Id">`) are assignable to `object`; catch them first. */
type Primitive = string | number | boolean | bigint | symbol | null | undefined;

type IsAny<T> = 0 extends 1 & T ? true : false;

/** True when a value of type V may be missing: optional (`undefined`) or nullable. */
type MayBeMissing<V> = undefined extends V ? true : null extends V ? true : false;

/** The element type of an array type, `never` for anything else (distributes over unions). */
export type ElementOf<V> = V extends readonly (infer E)[] ? E : never;

/** A nested document: something whose fields are paths. */
type IsPlainObject<V> =
  IsAny<V> extends true
    ? false
    : [V] extends [Primitive | Opaque | readonly unknown[]]
      ? false
      : [V] extends [object]
        ? true
        : false;

/**
 * The entries of an object type's fields. With a string index signature (records, loose and
 * catch-all schemas) `keyof T` collapses to `string` and would swallow the declared fields, so
 * those are listed separately and the signature stands in as one more key, {@link Wildcard}, which
 * becomes a pattern path (`prefix.${string}`).
 *
 * Keep the recursion behind this one mapped type, with the key's path and value picked by the small
 * helpers below: TypeScript defers a mapped type while T is generic, but a recursive alias reached
 * eagerly (a union member, or a conditional branch in the template) is explored to the compiler's
 * depth limit when the alias itself is checked, which cost about a million instantiations per
 * compilation in either form.
 */
type EntriesOf<T, Prefix extends string, Absent extends boolean, Multi extends boolean, D extends number> = {
  [K in FieldKeys<T>]-?: FieldEntries<KeyPath<Prefix, K>, KeyValue<T, K>, Absent, Multi, D>;
}[FieldKeys<T>];

type KeyPath<Prefix extends string, K extends string> = K extends Wildcard ? `${Prefix}${string}` : `${Prefix}${K}`;
type KeyValue<T, K> = K extends Wildcard ? WildcardValue<T> : T[K & keyof T];

/** Stands for a string index signature among field names: a name no real field has. */
type Wildcard = "\u0000*";

type FieldKeys<T> = string extends keyof T ? DeclaredKeys<T> | Wildcard : keyof T & string;

/** The named fields of a type with an index signature (the signature's own key is not one). */
type DeclaredKeys<T> = keyof {
  [K in keyof T as string extends K ? never : number extends K ? never : K]: 0;
} & keyof T & string;

/**
 * The value under an index signature, which any given key may lack. TypeScript checks a declared
 * field against every pattern its name matches as well, so next to declared fields (catch-all
 * schemas) the pattern must accept anything: the declared fields keep their types, the extra ones
 * are not checked.
 */
type WildcardValue<T> = [DeclaredKeys<T>] extends [never] ? T[string & keyof T] | undefined : unknown;

/**
 * A path with a wildcard segment (from a record or an index signature), e.g. `prefs.${string}`.
 * `{}` is assignable to a record only when its keys are patterns, not literals.
 */
type IsPattern<P extends string> = {} extends Record<P, 1> ? true : false;

/**
 * The entry of one field and those of its children. A pattern path also matches every deeper path
 * (`${string}` may contain dots), and TypeScript checks a key against every pattern it matches, so a
 * pattern with children must not constrain the value: it is typed `unknown` and its children carry
 * the types.
 */
type FieldEntries<
  P extends string,
  V,
  Absent extends boolean,
  Multi extends boolean,
  D extends number,
  Children = D extends 1
    ? never
    : ChildEntries<P, NonNullable<V>, Absent extends true ? true : MayBeMissing<V>, Multi, Countdown[D]>,
> =
  | {
      readonly path: P;
      readonly value: [Children] extends [never] ? V : IsPattern<P> extends true ? unknown : V;
      readonly absent: Absent;
      readonly multi: Multi;
    }
  | Children;

/** Distributes over the members of a union-typed field, so every variant's fields are paths. */
type ChildEntries<
  P extends string,
  N,
  Absent extends boolean,
  Multi extends boolean,
  D extends number,
> =
  IsAny<N> extends true
    ? never
    : N extends Primitive | Opaque
      ? never
      : N extends readonly (infer E)[]
        ? ElementEntries<P, NonNullable<E>, Absent extends true ? true : MayBeMissing<E>, D>
        : N extends object
          ? EntriesOf<N, `${P}.`, Absent, Multi, D>
          : never;

/** Fields of the objects inside an array; arrays of arrays are not walked, as in MongoDB. */
type ElementEntries<P extends string, E, Absent extends boolean, D extends number> =
  IsAny<E> extends true
    ? never
    : E extends Primitive | Opaque | readonly unknown[]
      ? never
      : E extends object
        ? EntriesOf<E, `${P}.`, Absent, true, D>
        : never;

/**
 * The path table of T: one {@link PathEntry} per dot path. The building block of every other type
 * here; exported for code that needs a view this module does not provide.
 */
export type PathEntries<T> = EntriesOf<T, "", false, false, MaxPathSegments>;

/**
 * Every dot path into T: top-level fields, fields of nested objects and fields of objects inside
 * arrays, optional and nullable ones included.
 *
 * @example
 * type T = { name: string; address?: { city: string }; items: { price: number }[] };
 * type P = Path<T>; // "name" | "address" | "address.city" | "items" | "items.price"
 */
export type Path<T> = PathEntries<T>["path"];

type ValueAt<E, P extends string> = E extends PathEntry ? (P extends E["path"] ? E["value"] : never) : never;

/**
 * The declared type of the field at path P of T. For a path through an array of objects it is the
 * type of the field in one element. An absent ancestor does not add `undefined`: this is the type of
 * the field itself, which is what `$set` writes.
 *
 * @example
 * type T = { address?: { city: string }; items: { price: number }[] };
 * type A = PathValue<T, "address.city">; // string
 * type B = PathValue<T, "items.price">;  // number
 */
export type PathValue<T, P extends Path<T>> = ValueAt<PathEntries<T>, P>;

// ---------------------------------------------------------------------------------------------
// Filters

/** Values the range operators (`$gt $gte $lt $lte`) accept: those with a natural order. */
export type ComparableValue = number | bigint | string | Date;

/** `null` stands for "missing or null" (MongoDB), so it is accepted only where that can happen. */
type NullIfMissing<V> = MayBeMissing<V> extends true ? null : never;

/**
 * What equality against a field of type V accepts: a value of the field's type, one element when
 * the field is an array (`{ tags: "admin" }` matches arrays containing "admin"), and `null` when the
 * field is optional or nullable.
 */
export type EqualityValue<V> = NonNullable<V> | ElementOf<NonNullable<V>> | NullIfMissing<V>;

/** The ordered part of a field's type (its elements' for arrays): `never` disables range operators. */
type RangeValue<V> = Extract<NonNullable<V> | ElementOf<NonNullable<V>>, ComparableValue>;

/**
 * The operators a condition on one field may use. Range operators exist only for fields whose type
 * (or element type) is a number, bigint, string or Date; on any other field they are typed `never`.
 */
export interface FieldOperators<V> {
  $eq?: EqualityValue<V>;
  $ne?: EqualityValue<V>;
  $gt?: RangeValue<V>;
  $gte?: RangeValue<V>;
  $lt?: RangeValue<V>;
  $lte?: RangeValue<V>;
  $in?: readonly EqualityValue<V>[];
  $nin?: readonly EqualityValue<V>[];
  $exists?: boolean;
}

/** Field operators plus `$not`, which negates an operator object (and cannot itself hold `$not`). */
export interface OperatorCondition<V> extends FieldOperators<V> {
  $not?: FieldOperators<V>;
}

/**
 * A condition on a field of type V: a value to compare for equality, or an operator object.
 *
 * @example
 * const a: Condition<number> = 36;
 * const b: Condition<number> = { $gte: 30, $lt: 40 };
 * const c: Condition<string[]> = "admin";              // array contains "admin"
 * const d: Condition<string | null> = { $ne: null };
 */
export type Condition<V> = EqualityValue<V> | OperatorCondition<V>;

/** The type a filter condition on this path ranges over: the field's, or missing. */
type FilterValue<E extends PathEntry> = E["absent"] extends true ? E["value"] | undefined : E["value"];

/** Boolean combinators of whole filters. */
export interface LogicalOperators<T> {
  $and?: readonly Filter<T>[];
  $or?: readonly Filter<T>[];
  $nor?: readonly Filter<T>[];
}

/**
 * A query over documents of type T: conditions on dot paths, all of which must hold, plus `$and`,
 * `$or` and `$nor` over nested filters. Unknown paths and values of the wrong type are errors.
 *
 * @example
 * const f: Filter<Doc<typeof User>> = {
 *   age: { $gte: 30, $lt: 40 },
 *   city: "London",
 *   "address.zip": { $exists: true },
 *   $or: [{ tags: "admin" }, { logins: { $gt: 100 } }],
 * };
 */
export type Filter<T> = {
  [E in PathEntries<T> as E["path"]]?: Condition<FilterValue<E>>;
} & LogicalOperators<T>;

// ---------------------------------------------------------------------------------------------
// Sorts

/** Ascending (1) or descending (-1). */
export type SortDirection = 1 | -1;

/**
 * Values a sort can order by (the index-key order: false < true < numbers < strings < Dates);
 * bigints are not sortable, since they have no place in that order.
 */
export type SortableValue = number | string | Date | boolean;

type SortKey<E extends PathEntry> = E["multi"] extends true
  ? never
  : [NonNullable<E["value"]>] extends [SortableValue]
    ? E["path"]
    : never;

/**
 * A sort specification: paths of scalar fields (not arrays, not objects, not paths through arrays)
 * mapped to a direction. Key order is significant: the first key is the primary sort key.
 *
 * @example
 * const s: Sort<Doc<typeof User>> = { city: 1, age: -1 };
 */
export type Sort<T> = { [E in PathEntries<T> as SortKey<E>]?: SortDirection };

/**
 * Options of `find`.
 *
 * @example
 * const o: FindOptions<Doc<typeof User>> = { sort: { age: 1 }, skip: 20, limit: 10 };
 */
export interface FindOptions<T> {
  sort?: Sort<T>;
  limit?: number;
  skip?: number;
}

// ---------------------------------------------------------------------------------------------
// Updates

/** Paths an update may write: not `_id`, and not through an array (that would need positions). */
type WritableEntries<T> = Exclude<PathEntries<T>, { readonly multi: true } | { readonly path: "_id" }>;

type UnsetKey<E extends PathEntry> = undefined extends E["value"] ? E["path"] : never;

type IncKey<E extends PathEntry> = [NonNullable<E["value"]>] extends [number | bigint] ? E["path"] : never;

/** `$inc` adds a value of the field's own numeric kind: a number to numbers, a bigint to bigints. */
type IncValue<V> = NonNullable<V> extends infer N ? (N extends number ? number : N extends bigint ? bigint : never) : never;

/** Arrays that can grow: not tuples, whose length is part of their type. */
type PushKey<E extends PathEntry> = [NonNullable<E["value"]>] extends [readonly unknown[]]
  ? number extends NonNullable<E["value"]>["length"]
    ? E["path"]
    : never
  : never;

/** What `$pull` removes: elements equal to or matching a condition, or (for objects) matching a filter. */
type PullValue<E> = IsPlainObject<E> extends true ? Filter<E> : Condition<E>;

/** `$set` and `$unset` also close the `_id` hole a catch-all (index signature) schema would open. */
type NoId = { readonly _id?: never };

/**
 * Update operators for documents of type T. Every written path must exist, hold a value of the
 * field's type, and not be `_id`; `$unset` applies only to optional fields, `$inc` only to numeric
 * fields, `$push` and `$pull` only to arrays.
 *
 * @example
 * const u: Update<Doc<typeof User>> = {
 *   $set: { city: "Lyon", "address.zip": "69001" },
 *   $unset: { nickname: true },
 *   $inc: { logins: 1 },
 *   $push: { tags: { $each: ["a", "b"] } },
 *   $pull: { roles: { $in: ["guest"] } },
 * };
 */
export interface Update<T> {
  /**
   * `undefined` is not a value to store (remove a field with `$unset`). Optional properties still
   * admit an explicit `undefined` unless the application compiles with exactOptionalPropertyTypes;
   * the runtime rejects it.
   */
  $set?: { [E in WritableEntries<T> as E["path"]]?: Exclude<E["value"], undefined> } & NoId;
  $unset?: { [E in WritableEntries<T> as UnsetKey<E>]?: true | 1 | "" } & NoId;
  $inc?: { [E in WritableEntries<T> as IncKey<E>]?: IncValue<E["value"]> };
  $push?: {
    [E in WritableEntries<T> as PushKey<E>]?:
      | ElementOf<NonNullable<E["value"]>>
      | { $each: readonly ElementOf<NonNullable<E["value"]>>[] };
  };
  $pull?: { [E in WritableEntries<T> as PushKey<E>]?: PullValue<ElementOf<NonNullable<E["value"]>>> };
}

// ---------------------------------------------------------------------------------------------
// Indexes

/** A value the index key encoding can hold (collections/key-codec.ts); bigint is not one. */
export type IndexableScalar = NonNullable<IndexValue>;

type IndexKey<E> = E extends PathEntry
  ? E["multi"] extends true
    ? never
    : E["path"] extends "_id"
      ? never
      : [NonNullable<E["value"]>] extends [IndexableScalar | readonly IndexableScalar[]]
        ? E["path"]
        : never
  : never;

/**
 * Paths an index may be built on: scalar fields (booleans, numbers, strings, Dates, binary), and
 * arrays of scalars (multikey: one entry per element). Not objects, not `_id` (documents are keyed by
 * it already), not bigints (no key encoding), not paths through arrays of objects.
 */
export type IndexablePath<T> = IndexKey<PathEntries<T>>;

/**
 * The fields of an index, in key order: a non-empty list of indexable paths. Readonly so that an
 * `as const` list is accepted.
 *
 * @example
 * const single: IndexFields<Doc<typeof User>> = ["email"];
 * const compound: IndexFields<Doc<typeof User>> = ["city", "age"];
 */
export type IndexFields<T> = readonly [IndexablePath<T>, ...IndexablePath<T>[]];

/**
 * One secondary index of a collection.
 *
 * @example
 * const byEmail: IndexDefinition<Doc<typeof User>> = { fields: ["email"], unique: true };
 */
export interface IndexDefinition<T> {
  readonly fields: IndexFields<T>;
  /** Reject a write that would give two documents the same key. @default false */
  readonly unique?: boolean;
  /** Stable name; derived from the fields when omitted. */
  readonly name?: string;
}
