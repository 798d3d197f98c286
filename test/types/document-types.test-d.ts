/**
 * Type tests for collections/types.ts: the compile-time half of SPEC §3 ("misuse is a compile
 * error, not a runtime surprise").
 *
 * Run by vitest's typecheck mode (tsc over this file, nothing is executed). Every misuse sits on a
 * line under `// @ts-expect-error`, so a type that becomes too permissive fails the run with
 * "Unused '@ts-expect-error' directive"; every positive case is plain code, so a type that becomes
 * too strict fails it with the error itself.
 *
 * The collection surface is declared here (`collection`, `TypedCollection`) with the signatures
 * the runtime exposes, so the tests also cover inference through a generic call: the schema type is
 * inferred from the schema argument and the index definitions are checked against it.
 */
import { describe, expectTypeOf, test } from "vitest";
import { z } from "zod";
import type {
  Condition,
  Doc,
  DocumentSchema,
  Filter,
  FindOptions,
  IndexDefinition,
  IndexFields,
  IndexablePath,
  InsertDoc,
  Path,
  PathValue,
  Sort,
  Update,
} from "../../collections/types.js";

interface Cursor<T> extends AsyncIterable<T> {
  toArray(): Promise<T[]>;
}

interface TypedCollection<S extends DocumentSchema> {
  insert(doc: InsertDoc<S>): Promise<Doc<S>>;
  insertMany(docs: readonly InsertDoc<S>[]): Promise<Doc<S>[]>;
  get(id: string): Promise<Doc<S> | undefined>;
  find(filter?: Filter<Doc<S>>, options?: FindOptions<Doc<S>>): Cursor<Doc<S>>;
  findOne(filter?: Filter<Doc<S>>): Promise<Doc<S> | undefined>;
  count(filter?: Filter<Doc<S>>): Promise<number>;
  update(id: string, ops: Update<Doc<S>>): Promise<Doc<S> | undefined>;
  updateMany(filter: Filter<Doc<S>>, ops: Update<Doc<S>>): Promise<number>;
  replace(id: string, doc: InsertDoc<S>): Promise<Doc<S> | undefined>;
  delete(id: string): Promise<boolean>;
  deleteMany(filter: Filter<Doc<S>>): Promise<number>;
}

declare function collection<S extends DocumentSchema>(
  name: string,
  schema: S,
  options?: { indexes?: readonly IndexDefinition<Doc<S>>[] },
): TypedCollection<S>;

const Address = z.object({
  street: z.string(),
  city: z.string(),
  zip: z.string().optional(),
});

const User = z.object({
  name: z.string(),
  email: z.email(),
  age: z.number().int(),
  city: z.string(),
  active: z.boolean(),
  tags: z.array(z.string()).default([]),
  logins: z.number().int().default(0),
  nickname: z.string().optional(),
  manager: z.string().nullable(),
  address: Address.optional(),
  items: z.array(z.object({ sku: z.string(), price: z.number(), qty: z.number().int() })).default([]),
  createdAt: z.date(),
  avatar: z.instanceof(Uint8Array).optional(),
  credits: z.bigint().optional(),
  role: z.enum(["admin", "member", "guest"]),
  roles: z.array(z.enum(["admin", "member", "guest"])).default([]),
});
type User = Doc<typeof User>;

const users = collection("users", User, {
  indexes: [
    { fields: ["email"], unique: true },
    { fields: ["age"] },
    { fields: ["city", "age"], name: "city_age" },
    { fields: ["tags"] },
  ],
});

declare const id: string;
declare const user: User;

describe("documents", () => {
  test("Doc adds a string _id to the schema's output type", () => {
    expectTypeOf<User["_id"]>().toEqualTypeOf<string>();
    expectTypeOf<User["logins"]>().toEqualTypeOf<number>();
    expectTypeOf<User["tags"]>().toEqualTypeOf<string[]>();
    expectTypeOf<User["nickname"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<User["manager"]>().toEqualTypeOf<string | null>();
    expectTypeOf(users.get(id)).resolves.toEqualTypeOf<User | undefined>();
    expectTypeOf(users.insert).returns.resolves.toEqualTypeOf<User>();
  });

  test("InsertDoc takes the schema's input type: defaults and _id may be omitted", () => {
    const doc: InsertDoc<typeof User> = {
      name: "Ada",
      email: "ada@x.io",
      age: 36,
      city: "London",
      active: true,
      manager: null,
      createdAt: new Date(),
      role: "admin",
    };
    void users.insert(doc);
    void users.insert({ ...doc, _id: "01J0000000000000000000000", logins: 3, tags: ["a"] });
    void users.insertMany([doc, { ...doc, name: "Grace" }]);
    void users.replace(id, doc);
    expectTypeOf<InsertDoc<typeof User>["logins"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<InsertDoc<typeof User>["_id"]>().toEqualTypeOf<string | undefined>();
  });

  test("InsertDoc rejects missing required fields, wrong types and unknown fields", () => {
    // @ts-expect-error email is required
    void users.insert({ name: "Ada", age: 36, city: "London", active: true, manager: null, createdAt: new Date(), role: "admin" });
    // @ts-expect-error age must be a number
    void users.insert({ name: "Ada", email: "a@x.io", age: "36", city: "L", active: true, manager: null, createdAt: new Date(), role: "admin" });
    // @ts-expect-error unknown field
    void users.insert({ name: "Ada", email: "a@x.io", age: 36, city: "L", active: true, manager: null, createdAt: new Date(), role: "admin", agee: 1 });
    // @ts-expect-error _id must be a string
    void users.insert({ name: "Ada", email: "a@x.io", age: 36, city: "L", active: true, manager: null, createdAt: new Date(), role: "admin", _id: 7 });
    // @ts-expect-error role is an enum
    void users.replace(id, { name: "Ada", email: "a@x.io", age: 36, city: "L", active: true, manager: null, createdAt: new Date(), role: "root" });
  });

  test("a schema that declares _id makes it required, with the schema's type", () => {
    const Keyed = z.object({ _id: z.uuid(), title: z.string() });
    const notes = collection("notes", Keyed);
    void notes.insert({ _id: "6f1c4b7e-0000-4000-8000-000000000000", title: "x" });
    // @ts-expect-error _id is declared by the schema, so it must be given
    void notes.insert({ title: "x" });
    expectTypeOf<Doc<typeof Keyed>["_id"]>().toEqualTypeOf<string>();
  });
});

describe("paths", () => {
  test("Path lists top-level, nested and array-element paths", () => {
    type T = { name: string; address?: { city: string; geo: { lat: number } } | null; items: { price: number }[]; at: Date };
    expectTypeOf<Path<T>>().toEqualTypeOf<
      "name" | "address" | "address.city" | "address.geo" | "address.geo.lat" | "items" | "items.price" | "at"
    >();
  });

  test("Path does not walk into Dates, binary, maps, functions, primitives or arrays of arrays", () => {
    type T = {
      at: Date;
      bytes: Uint8Array;
      m: Map<string, { x: number }>;
      fn: () => void;
      brand: string & { readonly __brand: "Id" };
      grid: { x: number }[][];
      anything: any;
    };
    expectTypeOf<Path<T>>().toEqualTypeOf<"at" | "bytes" | "m" | "fn" | "brand" | "grid" | "anything">();
  });

  test("PathValue gives the field's type, the element field's type for array paths", () => {
    expectTypeOf<PathValue<User, "address.city">>().toEqualTypeOf<string>();
    expectTypeOf<PathValue<User, "address.zip">>().toEqualTypeOf<string | undefined>();
    expectTypeOf<PathValue<User, "items.price">>().toEqualTypeOf<number>();
    expectTypeOf<PathValue<User, "manager">>().toEqualTypeOf<string | null>();
    expectTypeOf<PathValue<User, "_id">>().toEqualTypeOf<string>();
    // @ts-expect-error not a path
    type Bad = PathValue<User, "address.zipp">;
  });

  test("recursive schemas are cut off at six segments instead of failing to compile", () => {
    const Category = z.object({
      name: z.string(),
      get children(): z.ZodArray<typeof Category> {
        return z.array(Category);
      },
    });
    type C = Doc<typeof Category>;
    expectTypeOf<"children.children.children.children.children.name">().toExtend<Path<C>>();
    expectTypeOf<"children.children.children.children.children.children.name">().not.toExtend<Path<C>>();
    const categories = collection("categories", Category, { indexes: [{ fields: ["name"] }] });
    void categories.find({ "children.children.name": "leaf" });
    // @ts-expect-error wrong value type at a recursive path
    void categories.find({ "children.children.name": 1 });
  });
});

describe("schema shapes", () => {
  test("unions: every variant's fields are paths", () => {
    const Shapes = z.object({
      shape: z.discriminatedUnion("kind", [
        z.object({ kind: z.literal("circle"), r: z.number() }),
        z.object({ kind: z.literal("rect"), w: z.number(), h: z.number() }),
      ]),
    });
    const shapes = collection("shapes", Shapes, { indexes: [{ fields: ["shape.kind", "shape.r"] }] });
    void shapes.find({ "shape.kind": "circle", "shape.r": { $gt: 1 }, "shape.w": 2 });
    void shapes.update(id, { $set: { shape: { kind: "rect", w: 1, h: 2 } } });
    // @ts-expect-error not a variant's kind
    void shapes.find({ "shape.kind": "triangle" });
    // @ts-expect-error not a field of any variant
    void shapes.find({ "shape.d": 1 });
  });

  test("tuples, readonly and optional arrays", () => {
    const Mixed = z.object({
      point: z.tuple([z.number(), z.number()]),
      labels: z.array(z.string()).readonly(),
      scores: z.array(z.number()).optional(),
      parts: z.array(z.object({ n: z.number() }).nullable()).nullable(),
    });
    const mixed = collection("mixed", Mixed, { indexes: [{ fields: ["point"] }, { fields: ["labels", "scores"] }] });
    void mixed.find({ point: 3, labels: "x", scores: { $gt: 3 }, "parts.n": null });
    void mixed.update(id, { $push: { labels: "y", scores: { $each: [1, 2] } } });
    // @ts-expect-error a tuple cannot grow
    void mixed.update(id, { $push: { point: 3 } });
    // @ts-expect-error elements of scores are numbers
    void mixed.find({ scores: { $gt: "3" } });
  });

  test("loose and catch-all schemas keep their declared fields typed", () => {
    const Loose = z.looseObject({ name: z.string(), address: Address });
    const loose = collection("loose", Loose);
    void loose.find({ name: "x", "address.city": "y", anything: 1 });
    // @ts-expect-error declared field, wrong type
    void loose.find({ name: 5 });
    // @ts-expect-error declared nested field, wrong type
    void loose.find({ "address.city": 5 });
    const Extra = z.object({ name: z.string() }).catchall(z.number());
    const extra = collection("extra", Extra);
    void extra.find({ name: "x", other: 1 });
    // @ts-expect-error declared field, wrong type
    void extra.find({ name: 1 });
  });

  test("record fields accept any key below them", () => {
    const Settings = z.object({
      scores: z.record(z.string(), z.number()),
      prefs: z.record(z.string(), z.object({ on: z.boolean() })),
    });
    const settings = collection("settings", Settings);
    void settings.find({ "scores.math": { $gt: 5 }, "scores.art": null, "prefs.dark.on": true });
    void settings.update(id, { $set: { "scores.math": 5 }, $unset: { "scores.art": 1 }, $inc: { "scores.chess": 1 } });
    // @ts-expect-error scores hold numbers
    void settings.find({ "scores.math": "5" });
    // @ts-expect-error wrong value type under a record key
    void settings.find({ "prefs.dark.on": "yes" });
    // @ts-expect-error $inc on a boolean under a record key
    void settings.update(id, { $inc: { "prefs.dark.on": 1 } });
  });

  test("every kind of object schema is accepted", () => {
    const strict = collection("strict", z.strictObject({ a: z.string() }).extend({ b: z.number() }));
    void strict.find({ a: "x", b: { $lt: 2 } });
    const partial = collection("partial", User.pick({ name: true, age: true }).partial());
    void partial.insert({});
    void partial.find({ name: null, age: { $exists: true } });
    // @ts-expect-error a transformed schema is no longer an object schema
    void collection("piped", User.transform((u) => u.name));
  });

  test("generic code over any schema can read _id and pass filters on", () => {
    function generic<S extends DocumentSchema>(doc: Doc<S>, input: InsertDoc<S>, filter: Filter<Doc<S>>): void {
      expectTypeOf(doc._id).toEqualTypeOf<string>();
      expectTypeOf(input._id).toExtend<string | undefined>();
      const untyped: object = filter;
      void untyped;
    }
    void generic;
  });
});

describe("filters", () => {
  test("equality, operators, dot paths and logical combinators compile", () => {
    void users.find({ age: { $gte: 30, $lt: 40 }, city: "London" }, { sort: { age: 1 }, limit: 10 }).toArray();
    void users.find({ tags: "admin" });
    void users.find({ tags: ["admin", "ops"] });
    void users.find({ tags: { $in: ["admin", "ops"] } });
    void users.findOne({ email: "ada@x.io" });
    void users.count({ city: "London" });
    void users.find({ "address.city": "Paris", "items.price": { $gt: 10 } });
    void users.find({ createdAt: { $gte: new Date(0) }, credits: { $gt: 10n } });
    void users.find({ role: { $in: ["admin", "member"] }, roles: "guest" });
    void users.find({ active: true, nickname: { $exists: false } });
    void users.find({ age: { $not: { $gt: 65 } } });
    void users.find({ $or: [{ city: "Paris" }, { age: { $lt: 18 } }], $and: [{ active: true }] });
    void users.find({ $nor: [{ role: "guest" }] });
    void users.find({ _id: { $gt: "01J" } });
    void users.find({ address: { street: "1 Main St", city: "Paris" } });
    void users.find();
    const f: Filter<User> = { age: 36 };
    void users.deleteMany(f);
  });

  test("unknown fields are rejected", () => {
    // @ts-expect-error unknown field
    void users.find({ nmae: "Ada" });
    // @ts-expect-error nested path typo
    void users.find({ "address.zipp": "75001" });
    // @ts-expect-error unknown field inside $or
    void users.find({ $or: [{ citty: "Paris" }] });
    // @ts-expect-error unknown operator
    void users.find({ age: { $between: [1, 2] } });
    // @ts-expect-error paths stop at Dates
    void users.find({ "createdAt.getTime": 1 });
  });

  test("wrong value types are rejected", () => {
    // @ts-expect-error age is a number
    void users.find({ age: "36" });
    // @ts-expect-error $gt on a number field needs a number
    void users.find({ age: { $gt: "30" } });
    // @ts-expect-error $in lists values of the field's type
    void users.find({ age: { $in: ["30"] } });
    // @ts-expect-error $eq on a string field
    void users.count({ city: { $eq: 3 } });
    // @ts-expect-error $exists takes a boolean
    void users.find({ nickname: { $exists: 1 } });
    // @ts-expect-error enum value outside the enum
    void users.find({ role: "root" });
    // @ts-expect-error Dates compare with Dates
    void users.find({ createdAt: { $gt: "2024-01-01" } });
  });

  test("range operators exist only on ordered types", () => {
    // @ts-expect-error $gt on a boolean field
    void users.find({ active: { $gt: true } });
    // @ts-expect-error $lt on an object field
    void users.find({ address: { $lt: { street: "a", city: "b" } } });
  });

  test("array element paths carry the element field's type", () => {
    void users.find({ "items.price": 9.5 });
    void users.find({ "items.price": { $lte: 20 } });
    // @ts-expect-error items.price is a number
    void users.find({ "items.price": "9.5" });
    // @ts-expect-error items.price is a number
    void users.find({ "items.price": { $gt: "9.5" } });
  });

  test("null is accepted only where the field can be null or missing", () => {
    void users.find({ manager: null });
    void users.find({ manager: { $ne: null } });
    void users.find({ nickname: null });
    void users.find({ "address.street": null }); // address itself is optional
    // @ts-expect-error name is required and not nullable
    void users.find({ name: null });
    // @ts-expect-error age is required and not nullable
    void users.find({ age: { $in: [null] } });
  });

  test("$not holds operators, not another $not", () => {
    const ok: Condition<number> = { $not: { $gte: 1 } };
    void ok;
    // @ts-expect-error nested $not
    const bad: Condition<number> = { $not: { $not: { $gte: 1 } } };
    void bad;
  });
});

describe("sorts and find options", () => {
  test("scalar paths sort in either direction", () => {
    void users.find({}, { sort: { city: 1, age: -1 }, skip: 5, limit: 10 });
    void users.find({}, { sort: { "address.city": 1, createdAt: -1, _id: 1, active: 1 } });
    expectTypeOf<keyof Sort<User>>().toEqualTypeOf<
      | "_id" | "name" | "email" | "age" | "city" | "active" | "logins" | "nickname" | "manager" | "createdAt"
      | "role" | "address.street" | "address.city" | "address.zip"
    >();
  });

  test("unknown paths, non-scalar paths and bad directions are rejected", () => {
    // @ts-expect-error unknown field in sort
    void users.find({}, { sort: { agee: 1 } });
    // @ts-expect-error sort direction must be 1 or -1
    void users.find({}, { sort: { age: 2 } });
    // @ts-expect-error sort direction must be 1 or -1
    void users.find({}, { sort: { age: "asc" } });
    // @ts-expect-error arrays are not sort keys
    void users.find({}, { sort: { tags: 1 } });
    // @ts-expect-error objects are not sort keys
    void users.find({}, { sort: { address: 1 } });
    // @ts-expect-error paths through arrays name many values
    void users.find({}, { sort: { "items.price": 1 } });
    // @ts-expect-error limit is a number
    void users.find({}, { limit: "10" });
    // @ts-expect-error bigints have no place in the sort order
    void users.find({}, { sort: { credits: 1 } });
  });
});

describe("updates", () => {
  test("well-typed updates compile", () => {
    void users.update(id, { $set: { age: 37 }, $inc: { logins: 1 } });
    void users.updateMany({ city: "Paris" }, { $set: { city: "Lyon" } });
    void users.update(id, { $set: { "address.city": "Lyon", address: { street: "s", city: "c" }, manager: null } });
    void users.update(id, { $unset: { nickname: true, "address.zip": 1, address: "" } });
    void users.update(id, { $inc: { age: -1, credits: 5n } });
    void users.update(id, { $push: { tags: "new", roles: { $each: ["admin", "guest"] } } });
    void users.update(id, { $push: { items: { sku: "a", price: 1, qty: 2 } } });
    void users.update(id, { $pull: { tags: "old", roles: { $in: ["guest"] } } });
    void users.update(id, { $pull: { items: { price: { $gt: 100 } } } });
    expectTypeOf(users.update(id, { $inc: { logins: 1 } })).resolves.toEqualTypeOf<User | undefined>();
    expectTypeOf(users.updateMany({ active: false }, { $set: { active: true } })).resolves.toEqualTypeOf<number>();
  });

  test("unknown paths are rejected", () => {
    // @ts-expect-error unknown field in $set
    void users.update(id, { $set: { agee: 1 } });
    // @ts-expect-error nested path typo in $set
    void users.update(id, { $set: { "address.zipp": "75001" } });
    // @ts-expect-error unknown field in $inc
    void users.update(id, { $inc: { login: 1 } });
    // @ts-expect-error unknown operator
    void users.update(id, { $rename: { age: "years" } });
  });

  test("values must match the field's type", () => {
    // @ts-expect-error age is a number
    void users.update(id, { $set: { age: "37" } });
    // @ts-expect-error name is not nullable
    void users.updateMany({}, { $set: { name: null } });
    // @ts-expect-error $inc adds numbers
    void users.update(id, { $inc: { age: "1" } });
    // @ts-expect-error $push of a wrong element type
    void users.update(id, { $push: { tags: 1 } });
    // @ts-expect-error $push $each of a wrong element type
    void users.update(id, { $push: { roles: { $each: ["root"] } } });
    // @ts-expect-error $pull of a wrong element type
    void users.update(id, { $pull: { tags: 1 } });
  });

  test("operators apply only to fields of the right kind", () => {
    // @ts-expect-error $inc on a string field
    void users.update(id, { $inc: { name: 1 } });
    // @ts-expect-error $push on a non-array field
    void users.update(id, { $push: { name: "x" } });
    // @ts-expect-error $pull on a non-array field
    void users.update(id, { $pull: { age: 1 } });
    // @ts-expect-error $unset of a required field would fail validation
    void users.update(id, { $unset: { name: true } });
    // @ts-expect-error $unset takes true, 1 or ""
    void users.update(id, { $unset: { nickname: false } });
    // @ts-expect-error paths through arrays are not writable without positions
    void users.update(id, { $set: { "items.price": 1 } });
  });

  test("_id cannot be updated", () => {
    // @ts-expect-error $set of _id
    void users.update(id, { $set: { _id: "other" } });
    // @ts-expect-error $unset of _id
    void users.update(id, { $unset: { _id: true } });
    const Loose = z.looseObject({ name: z.string() });
    const loose = collection("loose", Loose);
    void loose.update(id, { $set: { anything: 1 } });
    // @ts-expect-error $set of _id through a catch-all schema
    void loose.update(id, { $set: { _id: "other" } });
  });
});

describe("index definitions", () => {
  test("scalar, array-of-scalar and nested scalar paths are indexable", () => {
    const defs: readonly IndexDefinition<User>[] = [
      { fields: ["email"], unique: true },
      { fields: ["city", "age"] },
      { fields: ["tags"] },
      { fields: ["roles", "createdAt"] },
      { fields: ["address.city"], name: "by_city" },
      { fields: ["manager", "nickname", "active", "avatar"] },
    ];
    void defs;
    const fields = ["city", "age"] as const;
    const compound: IndexFields<User> = fields;
    void compound;
    void collection("u2", User, { indexes: [{ fields: ["city", "age"] }, { fields }] });
    expectTypeOf<IndexablePath<User>>().toEqualTypeOf<
      | "name" | "email" | "age" | "city" | "active" | "tags" | "logins" | "nickname" | "manager" | "createdAt"
      | "avatar" | "role" | "roles" | "address.street" | "address.city" | "address.zip"
    >();
  });

  test("unknown and non-indexable paths are rejected", () => {
    // @ts-expect-error unknown field in index fields
    void collection("u3", User, { indexes: [{ fields: ["emial"] }] });
    // @ts-expect-error unknown field in a compound index
    void collection("u3", User, { indexes: [{ fields: ["city", "agee"] }] });
    // @ts-expect-error an index needs at least one field
    void collection("u3", User, { indexes: [{ fields: [] }] });
    // @ts-expect-error objects are not index values
    const a: IndexFields<User> = ["address"];
    // @ts-expect-error arrays of objects are not index values
    const b: IndexFields<User> = ["items"];
    // @ts-expect-error paths through arrays of objects are not indexable
    const c: IndexFields<User> = ["items.price"];
    // @ts-expect-error bigints have no key encoding
    const d: IndexFields<User> = ["credits"];
    // @ts-expect-error documents are keyed by _id already
    const e: IndexFields<User> = ["_id"];
    // @ts-expect-error a widened string[] is not a list of paths
    const g: IndexFields<User> = ["email"] as string[];
    // @ts-expect-error unique is a boolean
    const h: IndexDefinition<User> = { fields: ["email"], unique: "yes" };
    void [a, b, c, d, e, g, h];
  });
});
