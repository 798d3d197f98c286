/**
 * The collection API end to end (SPEC §3), on real directories: insert (defaults, generated and
 * given `_id`, a schema that declares `_id`), get, find with every filter operator on flat, dot and
 * array paths, sort/skip/limit, streaming with early exit (the snapshot is released), findOne,
 * count, the update operators (with re-validation that writes nothing on failure), updateMany,
 * replace, delete, deleteMany, persistence across reopen and compaction, and snapshot reads: a
 * query started before concurrent writes returns the state at its start.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { InvalidArgumentError, open, UniqueConstraintError, ValidationError, z, type ChangeEvent, type Database } from "../../src/index.js";

const dirs: string[] = [];
const dbs: Database[] = [];

afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close().catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "lsmdoc-coll-"));
  dirs.push(d);
  return d;
}

async function openDb(dir: string = tempDir()): Promise<Database> {
  const db = await open(dir, { sync: false });
  dbs.push(db);
  return db;
}

const User = z.object({
  name: z.string(),
  age: z.number().int().optional(),
  city: z.string().optional(),
  nick: z.string().nullable().optional(),
  address: z.object({ city: z.string(), zip: z.string().optional() }).optional(),
  tags: z.array(z.string()).default([]),
  scores: z.array(z.number()).default([]),
  items: z.array(z.object({ sku: z.string(), qty: z.number() })).default([]),
  logins: z.number().int().default(0),
});

const USER_INDEXES = [{ fields: ["age"] }, { fields: ["city", "age"] }, { fields: ["tags"] }, { fields: ["address.city"] }] as const;

function users(db: Database, indexed = true) {
  return db.collection("users", User, { indexes: indexed ? [...USER_INDEXES] : [] });
}

const PEOPLE = [
  { _id: "ada", name: "Ada", age: 36, city: "London", tags: ["admin", "dev"], scores: [1, 20], address: { city: "London", zip: "N1" }, items: [{ sku: "a", qty: 1 }] },
  { _id: "bob", name: "Bob", age: 25, city: "Paris", tags: ["dev"], scores: [7], address: { city: "Paris" }, nick: null },
  { _id: "cy", name: "Cy", age: 41, city: "London", tags: [], scores: [], items: [{ sku: "b", qty: 3 }, { sku: "a", qty: 2 }] },
  { _id: "dee", name: "Dee", city: "Lyon", tags: ["ops"], scores: [5, 9], nick: "d" },
  { _id: "eve", name: "Eve", age: 30, tags: ["admin"], scores: [12] },
  { _id: "fay", name: "Fay", age: 30, city: "Paris", tags: ["dev", "ops"], address: { city: "Lyon", zip: "69" } },
];

const ids = (docs: Array<{ _id: string }>): string[] => docs.map((d) => d._id);
const sortedIds = (docs: Array<{ _id: string }>): string[] => ids(docs).sort();

describe("insert and get", () => {
  it("applies defaults, generates a 26-character _id and returns the stored document", async () => {
    const db = await openDb();
    const c = users(db);
    const doc = await c.insert({ name: "Ada", age: 36 });
    expect(doc._id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(doc).toEqual({ _id: doc._id, name: "Ada", age: 36, tags: [], scores: [], items: [], logins: 0 });
    expect(await c.get(doc._id)).toEqual(doc);
    expect(await c.get("nope")).toBeUndefined();
  });

  it("generates unique, time-ordered ids across a burst of single inserts and insertMany", async () => {
    const db = await openDb();
    const c = users(db);
    const generated: string[] = [];
    for (let i = 0; i < 300; i++) generated.push((await c.insert({ name: `u${i}` }))._id);
    const many = await c.insertMany(Array.from({ length: 700 }, (_, i) => ({ name: `m${i}` })));
    generated.push(...ids(many));
    expect(new Set(generated).size).toBe(1000);
    for (let i = 1; i < generated.length; i++) {
      expect(generated[i]! > generated[i - 1]!, `id ${i} (${generated[i]}) sorts after id ${i - 1} (${generated[i - 1]})`).toBe(true);
    }
    // _id order is insertion order, so an unsorted full scan returns them in that order.
    expect(ids(await c.find().toArray())).toEqual(generated);
  });

  it("keeps a given _id and refuses a second document with it", async () => {
    const db = await openDb();
    const c = users(db);
    const doc = await c.insert({ _id: "custom-1", name: "Ada" });
    expect(doc._id).toBe("custom-1");
    expect((await c.get("custom-1"))?.name).toBe("Ada");
    const seq = db.stats().engine.seq;
    await expect(c.insert({ _id: "custom-1", name: "Other" })).rejects.toBeInstanceOf(UniqueConstraintError);
    expect(db.stats().engine.seq).toBe(seq);
    expect((await c.get("custom-1"))?.name).toBe("Ada");
  });

  it("validates _id by the schema when the schema declares it (and then requires it)", async () => {
    const db = await openDb();
    const c = db.collection("codes", z.object({ _id: z.string().regex(/^c-[0-9]+$/), label: z.string() }));
    expect(await c.insert({ _id: "c-1", label: "one" })).toEqual({ _id: "c-1", label: "one" });
    await expect(c.insert({ _id: "x-1", label: "bad id" })).rejects.toBeInstanceOf(ValidationError);
    await expect(c.insert({ label: "no id" } as never)).rejects.toBeInstanceOf(ValidationError);
    expect(await c.count()).toBe(1);
  });

  it("refuses a document that fails the schema and writes nothing", async () => {
    const db = await openDb();
    const c = users(db);
    const seq = db.stats().engine.seq;
    const err = await c.insert({ name: 5 } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).collection).toBe("users");
    expect((err as ValidationError).issues[0]?.path).toEqual(["name"]);
    await expect(c.insertMany([{ name: "ok" }, { name: "bad", age: 1.5 }])).rejects.toBeInstanceOf(ValidationError);
    expect(db.stats().engine.seq).toBe(seq);
    expect(await c.count()).toBe(0);
  });
});

describe("find", () => {
  async function seeded(indexed: boolean) {
    const db = await openDb();
    const c = users(db, indexed);
    await c.insertMany(PEOPLE);
    return { db, c };
  }

  const CASES: Array<[string, Record<string, unknown>, string[]]> = [
    ["equality", { city: "London" }, ["ada", "cy"]],
    ["$eq", { age: { $eq: 30 } }, ["eve", "fay"]],
    ["range", { age: { $gte: 30, $lt: 40 } }, ["ada", "eve", "fay"]],
    ["$gt", { age: { $gt: 36 } }, ["cy"]],
    ["$lte", { age: { $lte: 25 } }, ["bob"]],
    ["$in", { city: { $in: ["Paris", "Lyon"] } }, ["bob", "dee", "fay"]],
    ["$nin matches missing", { city: { $nin: ["London", "Paris"] } }, ["dee", "eve"]],
    ["$ne matches missing", { age: { $ne: 30 } }, ["ada", "bob", "cy", "dee"]],
    ["$exists true", { age: { $exists: true } }, ["ada", "bob", "cy", "eve", "fay"]],
    ["$exists false", { city: { $exists: false } }, ["eve"]],
    ["$exists holds for null", { nick: { $exists: true } }, ["bob", "dee"]],
    ["null matches null and missing", { nick: null }, ["ada", "bob", "cy", "eve", "fay"]],
    ["$and", { $and: [{ city: "London" }, { age: { $gt: 40 } }] }, ["cy"]],
    ["$or", { $or: [{ city: "Lyon" }, { age: { $lt: 26 } }] }, ["bob", "dee"]],
    ["$not matches missing", { age: { $not: { $gte: 30 } } }, ["bob", "dee"]],
    ["implicit and of fields", { city: "Paris", age: 30 }, ["fay"]],
    ["dot path", { "address.city": "Lyon" }, ["fay"]],
    ["dot path missing", { "address.zip": { $exists: false } }, ["bob", "cy", "dee", "eve"]],
    ["array element", { tags: "admin" }, ["ada", "eve"]],
    ["array exact", { tags: ["dev", "ops"] }, ["fay"]],
    ["array order matters", { tags: ["ops", "dev"] }, []],
    ["array $in", { tags: { $in: ["ops", "nobody"] } }, ["dee", "fay"]],
    ["array $nin", { tags: { $nin: ["dev"] } }, ["cy", "dee", "eve"]],
    ["array $ne", { tags: { $ne: "admin" } }, ["bob", "cy", "dee", "fay"]],
    ["each operator on any element", { scores: { $gt: 5, $lt: 10 } }, ["ada", "bob", "dee"]],
    ["array of objects by dot path", { "items.sku": "a" }, ["ada", "cy"]],
    ["array of objects, range by dot path", { "items.qty": { $gte: 3 } }, ["cy"]],
    ["empty array equality", { tags: [] }, ["cy"]],
    ["_id equality", { _id: "dee" }, ["dee"]],
    ["_id $in", { _id: { $in: ["eve", "ada", "zzz"] } }, ["ada", "eve"]],
    ["_id range", { _id: { $gt: "bob", $lte: "dee" } }, ["cy", "dee"]],
    ["range never crosses types", { city: { $gt: 5 } }, []],
    ["nothing", { age: 99 }, []],
    ["everything", {}, ["ada", "bob", "cy", "dee", "eve", "fay"]],
  ];

  for (const indexed of [true, false]) {
    describe(indexed ? "with indexes" : "without indexes", () => {
      it("matches MongoDB semantics for every operator", async () => {
        const { c } = await seeded(indexed);
        for (const [what, filter, expected] of CASES) {
          expect(sortedIds(await c.find(filter as never).toArray()), `${what}: ${JSON.stringify(filter)}`).toEqual(expected);
          expect(await c.count(filter as never), `count, ${what}`).toBe(expected.length);
        }
      });

      it("sorts ascending, descending and by several fields; skips and limits", async () => {
        const { c } = await seeded(indexed);
        expect(ids(await c.find({ age: { $exists: true } }, { sort: { age: 1, _id: 1 } }).toArray())).toEqual(["bob", "eve", "fay", "ada", "cy"]);
        expect(ids(await c.find({ age: { $exists: true } }, { sort: { age: -1, name: -1 } }).toArray())).toEqual(["cy", "ada", "fay", "eve", "bob"]);
        // Missing sorts as null: first ascending.
        expect(ids(await c.find({}, { sort: { age: 1, name: 1 } }).toArray())).toEqual(["dee", "bob", "eve", "fay", "ada", "cy"]);
        expect(ids(await c.find({}, { sort: { city: 1, age: -1 } }).toArray())).toEqual(["eve", "cy", "ada", "dee", "fay", "bob"]);
        expect(ids(await c.find({}, { sort: { name: -1 } }).toArray())).toEqual(["fay", "eve", "dee", "cy", "bob", "ada"]);
        expect(ids(await c.find({}, { sort: { name: 1 }, skip: 2, limit: 3 }).toArray())).toEqual(["cy", "dee", "eve"]);
        expect(ids(await c.find({}, { sort: { age: -1, name: 1 }, skip: 1, limit: 2 }).toArray())).toEqual(["ada", "eve"]);
        expect(ids(await c.find({ city: "London" }, { sort: { age: -1 } }).toArray())).toEqual(["cy", "ada"]);
        expect(ids(await c.find({}, { sort: { _id: -1 }, limit: 2 }).toArray())).toEqual(["fay", "eve"]);
        expect(await c.find({}, { limit: 0 }).toArray()).toEqual([]);
        expect(await c.find({}, { skip: 10 }).toArray()).toEqual([]);
        expect(ids(await c.find({}, { skip: 4 }).toArray())).toEqual(["eve", "fay"]);
        // Arrays sort by their smallest element ascending, their largest descending.
        expect(ids(await c.find({ scores: { $exists: true } }, { sort: { scores: 1, _id: 1 } as never }).toArray())).toEqual(["cy", "fay", "ada", "dee", "bob", "eve"]);
        expect(ids(await c.find({}, { sort: { scores: -1, _id: 1 } as never }).toArray())).toEqual(["ada", "eve", "dee", "bob", "cy", "fay"]);
      });

      it("findOne and count", async () => {
        const { c } = await seeded(indexed);
        expect((await c.findOne({ city: "Paris" }, { sort: { age: 1 } }))?._id).toBe("bob");
        expect((await c.findOne({ city: "Paris" }, { sort: { age: -1 } }))?._id).toBe("fay");
        expect(await c.findOne({ city: "Nowhere" })).toBeUndefined();
        expect(await c.count()).toBe(6);
        expect(await c.count({ tags: "dev" })).toBe(3);
      });
    });
  }

  it("streams with for await; breaking early releases the snapshot", async () => {
    const { db, c } = await seeded(true);
    const seen: string[] = [];
    for await (const u of c.find({}, { sort: { _id: 1 } })) {
      seen.push(u._id);
      expect(db.stats().engine.snapshots, "a running query holds one snapshot").toBe(1);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(["ada", "bob"]);
    expect(db.stats().engine.snapshots).toBe(0);

    for await (const u of c.find({ age: { $gt: 0 } }, { sort: { name: 1 } })) {
      if (u._id === "bob") break;
    }
    expect(db.stats().engine.snapshots).toBe(0);

    await c.find({ city: "London" }).toArray();
    await c.count({ tags: "dev" });
    await c.findOne({ tags: "dev" });
    expect(db.stats().engine.snapshots).toBe(0);

    // A throwing loop body also releases it.
    await expect(
      (async () => {
        for await (const _ of c.find({ tags: "dev" })) throw new Error("stop");
      })(),
    ).rejects.toThrow("stop");
    expect(db.stats().engine.snapshots).toBe(0);
  });

  it("a cursor runs once", async () => {
    const { c } = await seeded(true);
    const cursor = c.find({});
    await cursor.toArray();
    await expect(cursor.toArray()).rejects.toThrow();
  });

  for (const [label, filter, sort] of [
    ["a collection scan", {}, undefined],
    ["an index scan", { age: { $gte: 0 } }, undefined],
    ["an index scan with a streamed sort", { city: "London" }, { age: 1 }],
    ["an in-memory sort", {}, { name: 1 }],
  ] as const) {
    it(`reads one snapshot: writes made while iterating ${label} are not seen`, async () => {
      const db = await openDb();
      const c = users(db);
      const base = Array.from({ length: 40 }, (_, i) => ({ _id: `u${String(i).padStart(3, "0")}`, name: `n${i}`, age: 20 + i, city: "London" }));
      await c.insertMany(base);
      const cursor = c.find(filter as never, sort ? { sort: sort as never } : {});
      const got: Array<{ _id: string; age?: number }> = [];
      for await (const u of cursor) {
        got.push(u);
        if (got.length === 1) {
          // Writes that would change every later result, made while the query is running.
          await c.insert({ _id: "u000a", name: "new", age: 50, city: "London" });
          await c.delete("u039");
          await c.updateMany({}, { $set: { age: 1000 } });
          await db.compact();
        }
      }
      expect(got.length).toBe(40);
      expect(sortedIds(got)).toEqual(base.map((b) => b._id));
      for (const u of got) expect(u.age, `${u._id} as of the query's start`).toBe(base.find((b) => b._id === u._id)!.age);
      expect(await c.count({ age: 1000 })).toBe(40);
    });
  }
});

describe("updates", () => {
  it("applies $set/$unset/$inc/$push/$pull on dot paths and returns the new document", async () => {
    const db = await openDb();
    const c = users(db);
    const ada = await c.insert({ name: "Ada", age: 36, city: "London", tags: ["a", "b", "a"], address: { city: "London", zip: "N1" } });
    const after = await c.update(ada._id, {
      $set: { "address.city": "Paris", name: "Ada L." },
      $unset: { "address.zip": true, city: 1 },
      $inc: { logins: 2, age: -1 },
      $push: { scores: 7 },
      $pull: { tags: "a" },
    } as never);
    const expected = { _id: ada._id, name: "Ada L.", age: 35, address: { city: "Paris" }, tags: ["b"], scores: [7], items: [], logins: 2 };
    expect(after).toEqual(expected);
    expect(await c.get(ada._id)).toEqual(expected);
    // Indexes follow: the old city and tag are gone, the new ones are there.
    expect(ids(await c.find({ "address.city": "Paris" }).toArray())).toEqual([ada._id]);
    expect(await c.find({ "address.city": "London" }).toArray()).toEqual([]);
    expect(await c.find({ tags: "a" }).toArray()).toEqual([]);
    expect(await c.find({ city: "London" }).toArray()).toEqual([]);
    expect(ids(await c.find({ age: 35 }).toArray())).toEqual([ada._id]);

    const pushed = await c.update(ada._id, { $push: { tags: { $each: ["x", "y"] } }, $set: { "address.zip": "75" } } as never);
    expect(pushed?.tags).toEqual(["b", "x", "y"]);
    expect(pushed?.address).toEqual({ city: "Paris", zip: "75" });
    expect(await c.update("missing", { $set: { age: 1 } })).toBeUndefined();
  });

  it("re-validates: an update that breaks the schema throws ValidationError and writes nothing", async () => {
    const db = await openDb();
    const c = users(db);
    const events: ChangeEvent[] = [];
    c.on("change", (e) => events.push(e as ChangeEvent));
    const ada = await c.insert({ name: "Ada", age: 36 });
    const seq = db.stats().engine.seq;
    await expect(c.update(ada._id, { $unset: { name: 1 } } as never)).rejects.toBeInstanceOf(ValidationError);
    await expect(c.update(ada._id, { $set: { age: 1.5 } })).rejects.toBeInstanceOf(ValidationError);
    await expect(c.update(ada._id, { $push: { tags: 5 } } as never)).rejects.toBeInstanceOf(ValidationError);
    await expect(c.update(ada._id, { $inc: { name: 1 } } as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(c.updateMany({}, { $set: { age: "x" } } as never)).rejects.toBeInstanceOf(ValidationError);
    await expect(c.replace(ada._id, { name: 7 } as never)).rejects.toBeInstanceOf(ValidationError);
    expect(db.stats().engine.seq).toBe(seq);
    expect(await c.get(ada._id)).toEqual(ada);
    expect(ids(await c.find({ age: 36 }).toArray())).toEqual([ada._id]);
    expect(events.length).toBe(1);
  });

  it("updateMany updates every match in one batch (one seq) and returns the count", async () => {
    const db = await openDb();
    const c = users(db);
    await c.insertMany(PEOPLE);
    const events: ChangeEvent[] = [];
    c.on("change", (e) => events.push(e as ChangeEvent));
    const seq = db.stats().engine.seq;
    expect(await c.updateMany({ city: "Paris" }, { $set: { city: "Lyon" }, $inc: { logins: 1 } })).toBe(2);
    expect(db.stats().engine.seq).toBe(seq + 1);
    expect(events.map((e) => [e.type, e.id, e.seq]).sort()).toEqual([
      ["update", "bob", seq + 1],
      ["update", "fay", seq + 1],
    ]);
    expect(sortedIds(await c.find({ city: "Lyon" }).toArray())).toEqual(["bob", "dee", "fay"]);
    expect(await c.count({ city: "Paris" })).toBe(0);
    expect((await c.get("bob"))?.logins).toBe(1);
    expect(await c.updateMany({ city: "Nowhere" }, { $set: { age: 1 } })).toBe(0);
    expect(db.stats().engine.seq).toBe(seq + 1);
    // A multikey match is updated once.
    expect(await c.updateMany({ tags: { $in: ["dev", "ops"] } }, { $inc: { logins: 10 } })).toBe(4);
    expect((await c.get("fay"))?.logins).toBe(11);
  });

  it("replace swaps the whole document (defaults applied, _id kept)", async () => {
    const db = await openDb();
    const c = users(db);
    await c.insertMany(PEOPLE);
    const r = await c.replace("ada", { name: "Ada 2", city: "Rome" });
    expect(r).toEqual({ _id: "ada", name: "Ada 2", city: "Rome", tags: [], scores: [], items: [], logins: 0 });
    expect(await c.get("ada")).toEqual(r);
    expect(await c.find({ tags: "admin" }).toArray().then(ids)).toEqual(["eve"]);
    expect(await c.find({ age: 36 }).toArray()).toEqual([]);
    expect(ids(await c.find({ city: "Rome" }).toArray())).toEqual(["ada"]);
    expect(await c.replace("nobody", { name: "X" })).toBeUndefined();
    expect(await c.get("nobody")).toBeUndefined();
    expect(await c.replace("ada", { _id: "ada", name: "Same id" })).toMatchObject({ _id: "ada", name: "Same id" });
    await expect(c.replace("ada", { _id: "other", name: "X" })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("delete returns whether the document existed; deleteMany returns the count", async () => {
    const db = await openDb();
    const c = users(db);
    await c.insertMany(PEOPLE);
    expect(await c.delete("ada")).toBe(true);
    expect(await c.delete("ada")).toBe(false);
    expect(await c.get("ada")).toBeUndefined();
    expect(await c.find({ tags: "admin" }).toArray().then(ids)).toEqual(["eve"]);
    const seq = db.stats().engine.seq;
    expect(await c.deleteMany({ age: { $lt: 31 } })).toBe(3);
    expect(db.stats().engine.seq).toBe(seq + 1);
    expect(sortedIds(await c.find().toArray())).toEqual(["cy", "dee"]);
    expect(await c.deleteMany({ age: { $lt: 31 } })).toBe(0);
    expect(await c.deleteMany({})).toBe(2);
    expect(await c.count()).toBe(0);
    expect(await c.find({ city: "London" }).toArray()).toEqual([]);
  });
});

describe("writes issued together", () => {
  it("apply in issue order: updateMany/deleteMany see writes issued (not yet committed) before them", async () => {
    const db = await openDb();
    const c = users(db);
    await c.insert({ _id: "y", name: "Y", city: "London" });
    const events: ChangeEvent[] = [];
    c.on("change", (e) => events.push(e as ChangeEvent));
    // Not awaited one by one: each later call is computed while the earlier ones are pending.
    const [moved, deleted, inserted, updated] = await Promise.all([
      c.update("y", { $set: { city: "Paris" } }),
      c.deleteMany({ city: "Paris" }),
      c.insert({ _id: "x", name: "X", city: "Rome" }),
      c.updateMany({}, { $set: { city: "Oslo" } }),
    ]);
    expect(moved?.city).toBe("Paris");
    expect(inserted._id).toBe("x");
    // In seq order: y moved to Paris, then every Paris document deleted, then x inserted, then
    // every document moved to Oslo. Any other outcome is not the result of the writes in order.
    const seqs = events.map((e) => `${e.type}:${e.id}@${e.seq - events[0]!.seq}`);
    expect({ deleted, updated, docs: await c.find({}, { sort: { _id: 1 } }).toArray(), seqs }).toEqual({
      deleted: 1,
      updated: 1,
      docs: [expect.objectContaining({ _id: "x", city: "Oslo" })],
      seqs: ["update:y@0", "delete:y@1", "insert:x@2", "update:x@3"],
    });
  });
});

describe("close", () => {
  it("waits for writes issued before it (as Database.close() promises) and refuses later ones", async () => {
    const dir = tempDir();
    let db = await openDb(dir);
    let c = users(db);
    await c.insertMany(PEOPLE);
    // Issued, not awaited, then close(): each of these was issued before close() was called.
    const writes = Promise.allSettled([
      c.insert({ _id: "new", name: "New", age: 50 }),
      c.insertMany([{ _id: "m1", name: "M1" }, { _id: "m2", name: "M2" }]),
      c.update("ada", { $set: { age: 99 } }),
      c.delete("bob"),
      c.replace("cy", { name: "Cy 2" }),
    ]);
    await db.close();
    const outcomes = (await writes).map((r) => (r.status === "fulfilled" ? "ok" : String(r.reason)));
    await expect(c.insert({ name: "after close" })).rejects.toThrow(/closed/);

    db = await openDb(dir);
    c = users(db);
    const stored = {
      new: (await c.get("new"))?.age,
      many: await c.count({ _id: { $in: ["m1", "m2"] } }),
      ada: (await c.get("ada"))?.age,
      bob: await c.get("bob"),
      cy: (await c.get("cy"))?.name,
      byAge: ids(await c.find({ age: 99 }).toArray()),
    };
    expect({ outcomes, stored }).toEqual({
      outcomes: ["ok", "ok", "ok", "ok", "ok"],
      stored: { new: 50, many: 2, ada: 99, bob: undefined, cy: "Cy 2", byAge: ["ada"] },
    });
  });
});

describe("persistence", () => {
  it("everything survives close/reopen and compaction", async () => {
    const dir = tempDir();
    let db = await openDb(dir);
    let c = users(db);
    await c.insertMany(PEOPLE);
    const extra = await c.insertMany(Array.from({ length: 300 }, (_, i) => ({ name: `bulk${i}`, age: i % 50, tags: [`t${i % 7}`] })));
    await c.update("ada", { $set: { age: 37 }, $push: { tags: "lead" } });
    await c.updateMany({ city: "Paris" }, { $set: { city: "Nice" } });
    await c.replace("cy", { name: "Cy 2", city: "Oslo" });
    await c.delete("dee");
    await c.deleteMany({ name: { $in: ["bulk0", "bulk1"] } });
    const other = db.collection("notes", z.object({ text: z.string() }));
    await other.insert({ _id: "n1", text: "hello" });

    const snapshot = async (): Promise<unknown> => ({
      all: await c.find({}, { sort: { _id: 1 } }).toArray(),
      byAge: ids(await c.find({ age: { $gte: 30, $lte: 37 } }, { sort: { age: 1, _id: 1 } }).toArray()),
      byCity: ids(await c.find({ city: "Nice" }, { sort: { _id: 1 } }).toArray()),
      byTag: ids(await c.find({ tags: { $in: ["lead", "t3"] } }, { sort: { _id: 1 } }).toArray()),
      notes: await other.find().toArray(),
    });
    const before = await snapshot();
    expect((before as { all: unknown[] }).all.length).toBe(PEOPLE.length + extra.length - 3);

    await db.close();
    db = await openDb(dir);
    expect(db.collections()).toEqual(["notes", "users"]);
    c = users(db);
    const notes = db.collection("notes", z.object({ text: z.string() }));
    const reopened = async (): Promise<unknown> => ({
      all: await c.find({}, { sort: { _id: 1 } }).toArray(),
      byAge: ids(await c.find({ age: { $gte: 30, $lte: 37 } }, { sort: { age: 1, _id: 1 } }).toArray()),
      byCity: ids(await c.find({ city: "Nice" }, { sort: { _id: 1 } }).toArray()),
      byTag: ids(await c.find({ tags: { $in: ["lead", "t3"] } }, { sort: { _id: 1 } }).toArray()),
      notes: await notes.find().toArray(),
    });
    expect(await reopened()).toEqual(before);
    await db.compact();
    expect(await reopened()).toEqual(before);
    await db.close();
    db = await openDb(dir);
    c = users(db);
    const notes2 = db.collection("notes", z.object({ text: z.string() }));
    expect(await notes2.get("n1")).toEqual({ _id: "n1", text: "hello" });
    expect((await c.find({}, { sort: { _id: 1 } }).toArray())).toEqual((before as { all: unknown[] }).all);
    expect(c.indexes().map((i) => [i.name, i.state])).toEqual(USER_INDEXES.map((d) => [d.fields.join("_"), "ready"]));
    await db.verify();
  });
});
