/**
 * Bad input at runtime (SPEC §4): what the type system would catch, arriving anyway (from
 * JavaScript, JSON or `as any`). Each case throws the documented error class and writes nothing:
 * the engine's seq and the collection's documents are unchanged afterwards. Covers filter and
 * update operators, operand types, field paths, documents, `_id`s, find options, collection
 * options, unindexable values in indexed fields, and every call after `close()`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  DatabaseClosedError,
  InvalidArgumentError,
  LsmdocError,
  open,
  ValidationError,
  z,
  type Database,
} from "../../src/index.js";

const dirs: string[] = [];
const dbs: Database[] = [];

afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close().catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function openDb(): Promise<Database> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lsmdoc-bad-"));
  dirs.push(dir);
  const db = await open(dir, { sync: false });
  dbs.push(db);
  return db;
}

const User = z.object({
  name: z.string(),
  age: z.number().optional(),
  tags: z.array(z.string()).default([]),
  extra: z.unknown().optional(),
  list: z.array(z.unknown()).optional(),
});

// `any` on purpose: these tests send what the types forbid.
type Loose = any;

async function seeded() {
  const db = await openDb();
  const c = db.collection("users", User, {
    // "extra" and "list" hold unknown values: the types refuse to index them, the runtime must cope.
    indexes: [{ fields: ["age"] }, { fields: ["tags"] }, { fields: ["extra"] }, { fields: ["tags", "list"] }] as Loose,
  });
  await c.insertMany([
    { _id: "a", name: "Ada", age: 36, tags: ["x"] },
    { _id: "b", name: "Bob", age: 25 },
  ]);
  return { db, c: c as Loose };
}

/** Calls `fn` (sync throw or rejection both count) and returns what it threw. */
async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** Each of `calls` must throw `cls`, and none may write: seq and documents unchanged. */
async function expectRefused(db: Database, c: Loose, cls: abstract new (...args: never[]) => Error, calls: Array<[string, () => unknown]>): Promise<void> {
  const seq = db.stats().engine.seq;
  const before = await c.find({}, { sort: { _id: 1 } }).toArray();
  for (const [what, fn] of calls) {
    const err = await thrown(fn);
    expect(err, `${what}: expected ${cls.name}, got ${String(err)}`).toBeInstanceOf(cls);
    expect(err, what).toBeInstanceOf(LsmdocError);
  }
  expect(db.stats().engine.seq, "nothing was written").toBe(seq);
  expect(await c.find({}, { sort: { _id: 1 } }).toArray()).toEqual(before);
}

describe("filters", () => {
  it("unknown operators, bad operands and bad paths throw InvalidArgumentError", async () => {
    const { db, c } = await seeded();
    const filters: Loose[] = [
      { age: { $foo: 1 } },
      { $where: "1" },
      { $gt: 5 },
      { age: { $regex: "a" } },
      { age: { $gt: { a: 1 } } },
      { age: { $gt: [1] } },
      { age: { $in: 5 } },
      { age: { $nin: "x" } },
      { age: { $exists: 1 } },
      { age: { $not: 5 } },
      { age: { $not: { $not: { $gt: 1 } } } },
      { age: { $gt: 1, plain: 2 } },
      { $or: [] },
      { $and: {} },
      { $or: [5] },
      { age: NaN },
      { age: undefined },
      { age: () => 1 },
      { age: /x/ },
      { "a..b": 1 },
      { ".a": 1 },
      { "a.": 1 },
      { "a.$x": 1 },
      JSON.parse('{"__proto__": {"x": 1}}'),
      { "constructor.prototype": 1 },
      { age: { $eq: { $gt: 1 } } },
      null,
      "age",
      [1],
    ];
    const calls: Array<[string, () => unknown]> = [];
    filters.forEach((f, i) => {
      const label = `filter ${i} ${String(JSON.stringify(f))}`;
      calls.push([`find, ${label}`, () => c.find(f).toArray()]);
      calls.push([`count, ${label}`, () => c.count(f)]);
      calls.push([`findOne, ${label}`, () => c.findOne(f)]);
      calls.push([`updateMany, ${label}`, () => c.updateMany(f, { $set: { age: 1 } })]);
      calls.push([`deleteMany, ${label}`, () => c.deleteMany(f)]);
    });
    await expectRefused(db, c, InvalidArgumentError, calls);
  });
});

describe("updates", () => {
  it("unknown operators, bad operands, bad paths and runtime type clashes throw InvalidArgumentError", async () => {
    const { db, c } = await seeded();
    const updates: Loose[] = [
      { $rename: { age: "years" } },
      { age: 5 },
      { $set: { age: 1 }, name: "x" },
      {},
      { $set: 5 },
      { $set: { "a..b": 1 } },
      { $set: { $x: 1 } },
      { $set: { "__proto__.polluted": 1 } },
      { $set: { _id: "new" } },
      { $unset: { _id: 1 } },
      { $set: { age: undefined } },
      { $set: { age: NaN } },
      { $set: { extra: { $bad: 1 } } },
      { $inc: { age: "1" } },
      { $inc: { age: Infinity } },
      { $inc: { name: 1 } }, // runtime: name holds a string
      { $push: { name: "x" } }, // runtime: not an array
      { $pull: { age: 1 } }, // runtime: not an array
      { $push: { tags: { $each: "x" } } },
      { $push: { tags: { $slice: 1 } } },
      { $set: { age: 1 }, $inc: { age: 1 } },
      { $set: { "tags.a": 1 } }, // runtime: field name on an array
      { $set: { "name.first": "A" } }, // runtime: field inside a string
      null,
      [],
    ];
    const calls: Array<[string, () => unknown]> = [];
    updates.forEach((u, i) => {
      const label = `update ${i} ${String(JSON.stringify(u))}`;
      calls.push([`update, ${label}`, () => c.update("a", u)]);
      calls.push([`updateMany, ${label}`, () => c.updateMany({}, u)]);
    });
    await expectRefused(db, c, InvalidArgumentError, calls);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("documents and ids", () => {
  it("non-object documents and bad _ids throw InvalidArgumentError", async () => {
    const { db, c } = await seeded();
    const long = "x".repeat(1025);
    await expectRefused(db, c, InvalidArgumentError, [
      ["insert null", () => c.insert(null)],
      ["insert string", () => c.insert("doc")],
      ["insert array", () => c.insert([{ name: "x" }])],
      ["insert Date", () => c.insert(new Date())],
      ["insert class instance", () => c.insert(new (class Doc { name = "x"; })())],
      ["insertMany not an array", () => c.insertMany({ name: "x" })],
      ["insertMany with a null", () => c.insertMany([{ name: "ok" }, null])],
      ["replace with a string", () => c.replace("a", "doc")],
      ["insert _id empty", () => c.insert({ _id: "", name: "x" })],
      ["insert _id number", () => c.insert({ _id: 5, name: "x" })],
      ["insert _id object", () => c.insert({ _id: { a: 1 }, name: "x" })],
      ["insert _id too long", () => c.insert({ _id: long, name: "x" })],
      ["insertMany _id too long", () => c.insertMany([{ name: "ok" }, { _id: long, name: "x" }])],
      ["get empty", () => c.get("")],
      ["get number", () => c.get(5)],
      ["get too long", () => c.get(long)],
      ["update empty id", () => c.update("", { $set: { age: 1 } })],
      ["update number id", () => c.update(1, { $set: { age: 1 } })],
      ["replace empty id", () => c.replace("", { name: "x" })],
      ["replace too long id", () => c.replace(long, { name: "x" })],
      ["replace with another _id", () => c.replace("a", { _id: "b", name: "x" })],
      ["delete empty id", () => c.delete("")],
      ["delete undefined id", () => c.delete(undefined)],
      ["delete too long id", () => c.delete(long)],
    ]);
    // 1024 bytes is allowed (multi-byte characters count in bytes).
    expect(await thrown(() => c.insert({ _id: "é".repeat(513), name: "x" }))).toBeInstanceOf(InvalidArgumentError);
    expect((await c.insert({ _id: "y".repeat(1024), name: "x" }))._id).toHaveLength(1024);
  });

  it("values an index cannot hold throw InvalidArgumentError and write nothing", async () => {
    const { db, c } = await seeded();
    await expectRefused(db, c, InvalidArgumentError, [
      ["object in an indexed field", () => c.insert({ name: "x", extra: { a: 1 } })],
      ["nested array in an indexed field", () => c.insert({ name: "x", extra: [[1]] })],
      ["bigint in an indexed field", () => c.insert({ name: "x", extra: 5n })],
      ["parallel arrays in a compound index", () => c.insert({ name: "x", tags: ["a"], list: [1, 2] })],
      ["index key longer than the engine allows", () => c.insert({ name: "x", extra: "k".repeat(70_000) })],
      ["lone surrogate in an indexed string", () => c.insert({ name: "x", extra: "\ud800" })],
      ["NaN in an indexed field", () => c.insert({ name: "x", extra: NaN })],
      ["update making a field unindexable", () => c.update("a", { $set: { extra: { a: 1 } } })],
      ["updateMany making a field unindexable", () => c.updateMany({}, { $set: { extra: [[1]] } })],
      ["insertMany with one unindexable document", () => c.insertMany([{ name: "ok" }, { name: "x", extra: { a: 1 } }])],
    ]);
  });

  it("schema failures throw ValidationError and write nothing", async () => {
    const { db, c } = await seeded();
    await expectRefused(db, c, ValidationError, [
      ["missing required field", () => c.insert({ age: 1 })],
      ["wrong type", () => c.insert({ name: 1 })],
      ["wrong element type", () => c.insertMany([{ name: "ok" }, { name: "x", tags: [1] }])],
      ["update to a wrong type", () => c.update("a", { $set: { age: "old" } })],
      ["replace with a wrong type", () => c.replace("a", { name: null })],
    ]);
  });
});

describe("options", () => {
  it("bad find options throw InvalidArgumentError", async () => {
    const { db, c } = await seeded();
    const options: Loose[] = [
      { limit: -1 },
      { limit: 1.5 },
      { limit: "2" },
      { skip: -1 },
      { skip: NaN },
      { sort: { age: 2 } },
      { sort: { age: "asc" } },
      { sort: "age" },
      { sort: ["age"] },
      { sort: { "a..b": 1 } },
      { sort: { $natural: 1 } },
      { projection: { age: 1 } },
      null,
      5,
    ];
    const calls: Array<[string, () => unknown]> = [];
    options.forEach((o, i) => {
      calls.push([`find options ${i} ${String(JSON.stringify(o))}`, () => c.find({}, o).toArray()]);
      if (o !== null && typeof o === "object" && !("limit" in o)) calls.push([`findOne options ${i}`, () => c.findOne({}, o)]);
    });
    await expectRefused(db, c, InvalidArgumentError, calls);
  });

  it("findOne refuses non-object options as find does", async () => {
    const { db, c } = await seeded();
    await expectRefused(db, c, InvalidArgumentError, [
      ["findOne options null", () => c.findOne({}, null)],
      ["findOne options 5", () => c.findOne({}, 5)],
      ["findOne options string", () => c.findOne({}, "sort")],
    ]);
  });

  it("bad collection names, schemas and options throw InvalidArgumentError and store nothing", async () => {
    const db = await openDb();
    const S = z.object({ a: z.number(), b: z.string() });
    const seq = db.stats().engine.seq;
    const bad: Array<[string, () => unknown]> = [
      ["empty name", () => db.collection("", S)],
      ["non-string name", () => db.collection(5 as Loose, S)],
      ["name too long", () => db.collection("n".repeat(256), S)],
      ["not a zod schema", () => db.collection("x", { a: 1 } as Loose)],
      ["non-object schema", () => db.collection("x", z.string() as Loose)],
      ["unknown option", () => db.collection("x", S, { indexs: [] } as Loose)],
      ["options not an object", () => db.collection("x", S, 5 as Loose)],
      ["indexes not an array", () => db.collection("x", S, { indexes: { fields: ["a"] } } as Loose)],
      ["empty fields", () => db.collection("x", S, { indexes: [{ fields: [] }] } as Loose)],
      ["fields not an array", () => db.collection("x", S, { indexes: [{ fields: "a" }] } as Loose)],
      ["repeated field", () => db.collection("x", S, { indexes: [{ fields: ["a", "a"] }] } as Loose)],
      ["bad field path", () => db.collection("x", S, { indexes: [{ fields: ["a..b"] }] } as Loose)],
      ["$ field path", () => db.collection("x", S, { indexes: [{ fields: ["$a"] }] } as Loose)],
      ["_id index", () => db.collection("x", S, { indexes: [{ fields: ["_id"] }] } as Loose)],
      ["duplicate index name", () => db.collection("x", S, { indexes: [{ fields: ["a"] }, { fields: ["b"], name: "a" }] } as Loose)],
      ["duplicate index definition", () => db.collection("x", S, { indexes: [{ fields: ["a"] }, { fields: ["a"] }] } as Loose)],
      ["unique not a boolean", () => db.collection("x", S, { indexes: [{ fields: ["a"], unique: "yes" }] } as Loose)],
      ["empty index name", () => db.collection("x", S, { indexes: [{ fields: ["a"], name: "" }] } as Loose)],
      ["unknown index option", () => db.collection("x", S, { indexes: [{ fields: ["a"], sparse: true }] } as Loose)],
    ];
    for (const [what, fn] of bad) {
      expect(await thrown(fn), what).toBeInstanceOf(InvalidArgumentError);
    }
    expect(db.collections()).toEqual([]);
    expect(db.stats().engine.seq).toBe(seq);

    // The same name with another definition, while open, is refused too.
    const x = db.collection("x", S, { indexes: [{ fields: ["a"] }] });
    await x.ready();
    expect(db.collection("x", S, { indexes: [{ fields: ["a"] }] })).toBe(x);
    const seq2 = db.stats().engine.seq;
    expect(await thrown(() => db.collection("x", z.object({ a: z.number() })))).toBeInstanceOf(InvalidArgumentError);
    expect(await thrown(() => db.collection("x", S, { indexes: [{ fields: ["b"] }] }))).toBeInstanceOf(InvalidArgumentError);
    expect(db.stats().engine.seq).toBe(seq2);
    expect(x.indexes().map((i) => i.name)).toEqual(["a"]);
  });
});

describe("after close", () => {
  it("every call throws DatabaseClosedError", async () => {
    const { db, c } = await seeded();
    const notes = db.collection("notes", z.object({ t: z.string() }));
    await notes.ready();
    await db.close();
    const calls: Array<[string, () => unknown]> = [
      ["insert", () => c.insert({ name: "x" })],
      ["insertMany", () => c.insertMany([{ name: "x" }])],
      ["get", () => c.get("a")],
      ["find", () => c.find({ age: 36 }).toArray()],
      ["find scan", () => c.find({}).toArray()],
      ["for await", async () => {
        for await (const _ of c.find({})) break;
      }],
      ["findOne", () => c.findOne({})],
      ["count", () => c.count({})],
      ["update", () => c.update("a", { $set: { age: 1 } })],
      ["updateMany", () => c.updateMany({}, { $set: { age: 1 } })],
      ["replace", () => c.replace("a", { name: "x" })],
      ["delete", () => c.delete("a")],
      ["deleteMany", () => c.deleteMany({})],
      ["other collection insert", () => notes.insert({ t: "x" })],
      ["db.collection", () => db.collection("new", z.object({ a: z.string() }))],
      ["db.compact", () => db.compact()],
      ["db.verify", () => db.verify()],
    ];
    for (const [what, fn] of calls) {
      const err = await thrown(fn);
      expect(err, `${what} after close: got ${String(err)}`).toBeInstanceOf(DatabaseClosedError);
    }
    // close() again is harmless; the data is intact on reopen.
    await db.close();
  });
});

describe("error delivery", () => {
  it("promise-returning methods reject instead of throwing synchronously", async () => {
    const { c } = await seeded();
    const calls: Array<[string, () => Promise<unknown>]> = [
      ["insert", () => c.insert(null)],
      ["insertMany", () => c.insertMany(null)],
      ["get", () => c.get("")],
      ["update", () => c.update("a", { $bad: 1 })],
      ["updateMany", () => c.updateMany({ $bad: 1 }, { $set: { a: 1 } })],
      ["replace", () => c.replace("", {})],
      ["delete", () => c.delete("")],
      ["deleteMany", () => c.deleteMany({ $bad: 1 })],
      ["findOne", () => c.findOne({ $bad: 1 })],
      ["count", () => c.count({ $bad: 1 })],
    ];
    for (const [what, fn] of calls) {
      let result: unknown;
      try {
        result = fn();
      } catch (err) {
        result = err;
      }
      expect(result, `${what} threw synchronously instead of returning a rejected promise`).toBeInstanceOf(Promise);
      await expect(result as Promise<unknown>, what).rejects.toBeInstanceOf(InvalidArgumentError);
    }
  });
});
