/**
 * Change events (SPEC §3): collection and database listeners receive
 * `{ collection, type, id, doc, prev, seq }` once per document written, after the write committed
 * (the seq is visible when the listener runs, and the event has arrived when the write's promise
 * resolves), in seq order even under concurrent writers, never for a write that failed or wrote
 * nothing; the documents of one *Many call share its seq. A listener that throws changes nothing
 * for the write or for the other listeners and is reported through `listenerError` (or a process
 * warning when nobody listens for that).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { open, UniqueConstraintError, ValidationError, InvalidArgumentError, z, type ChangeEvent, type Database } from "../../src/index.js";

const dirs: string[] = [];
const dbs: Database[] = [];

afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close().catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function openDb(): Promise<Database> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lsmdoc-events-"));
  dirs.push(dir);
  const db = await open(dir, { sync: false });
  dbs.push(db);
  return db;
}

const User = z.object({ email: z.string(), age: z.number().int(), tags: z.array(z.string()).default([]) });

function setup(db: Database) {
  const users = db.collection("users", User, { indexes: [{ fields: ["email"], unique: true }, { fields: ["age"] }] });
  const notes = db.collection("notes", z.object({ text: z.string() }));
  const all: ChangeEvent[] = [];
  const ofUsers: ChangeEvent[] = [];
  const ofNotes: ChangeEvent[] = [];
  db.on("change", (e) => all.push(e));
  users.on("change", (e) => ofUsers.push(e as ChangeEvent));
  notes.on("change", (e) => ofNotes.push(e as ChangeEvent));
  return { users, notes, all, ofUsers, ofNotes };
}

describe("event contents", () => {
  it("insert, update, replace and delete events carry collection, type, id, doc, prev and seq", async () => {
    const db = await openDb();
    const { users, notes, all, ofUsers, ofNotes } = setup(db);
    const ada = await users.insert({ _id: "ada", email: "a@x", age: 36 });
    const s1 = db.stats().engine.seq;
    const upd = await users.update("ada", { $set: { age: 37 } });
    const s2 = db.stats().engine.seq;
    const rep = await users.replace("ada", { email: "a2@x", age: 38 });
    const s3 = db.stats().engine.seq;
    await users.delete("ada");
    const s4 = db.stats().engine.seq;
    await notes.insert({ _id: "n", text: "hi" });
    const s5 = db.stats().engine.seq;

    const expected = [
      { collection: "users", type: "insert", id: "ada", doc: ada, seq: s1 },
      { collection: "users", type: "update", id: "ada", doc: upd, prev: ada, seq: s2 },
      { collection: "users", type: "update", id: "ada", doc: rep, prev: upd, seq: s3 },
      { collection: "users", type: "delete", id: "ada", prev: rep, seq: s4 },
      { collection: "notes", type: "insert", id: "n", doc: { _id: "n", text: "hi" }, seq: s5 },
    ];
    expect(all).toEqual(expected);
    expect(ofUsers).toEqual(expected.slice(0, 4));
    expect(ofNotes).toEqual(expected.slice(4));
    expect(all[0]!.prev).toBeUndefined();
    expect(all[3]!.doc).toBeUndefined();
    expect(new Set([s1, s2, s3, s4, s5]).size).toBe(5);
  });

  it("an event is delivered after the commit and before the write's promise resolves", async () => {
    const db = await openDb();
    const { users } = setup(db);
    const checks: Array<{ seq: number; visible: number }> = [];
    users.on("change", (e) => {
      // Read synchronously in the listener: the write is already committed and visible.
      checks.push({ seq: e.seq, visible: db.stats().engine.seq });
    });
    let seen = 0;
    users.on("change", () => void seen++);
    await users.insert({ _id: "a", email: "a@x", age: 1 });
    expect(seen).toBe(1);
    await users.update("a", { $inc: { age: 1 } });
    expect(seen).toBe(2);
    expect(checks).toHaveLength(2);
    for (const c of checks) expect(c.visible).toBeGreaterThanOrEqual(c.seq);
    // A listener can read the document it is told about.
    const reads: unknown[] = [];
    users.on("change", (e) => void users.get(e.id).then((d) => reads.push(d)));
    const b = await users.insert({ _id: "b", email: "b@x", age: 2 });
    await new Promise((r) => setImmediate(r));
    expect(reads).toEqual([b]);
  });
});

describe("ordering and batching", () => {
  it("once per document, in seq order, under concurrent writers", async () => {
    const db = await openDb();
    const { users, notes, all, ofUsers, ofNotes } = setup(db);
    const writes: Array<Promise<unknown>> = [];
    for (let i = 0; i < 60; i++) {
      writes.push(users.insert({ _id: `u${i}`, email: `${i}@x`, age: i % 7 }));
      writes.push(notes.insert({ _id: `n${i}`, text: `t${i}` }));
      if (i % 3 === 0) writes.push(users.update(`u${i}`, { $inc: { age: 100 } }));
      if (i % 5 === 0) writes.push(notes.delete(`n${i}`));
    }
    await Promise.all(writes);
    expect(all.length).toBe(60 + 60 + 20 + 12);
    for (let i = 1; i < all.length; i++) expect(all[i]!.seq, `event ${i}`).toBeGreaterThan(all[i - 1]!.seq);
    expect(ofUsers).toEqual(all.filter((e) => e.collection === "users"));
    expect(ofNotes).toEqual(all.filter((e) => e.collection === "notes"));
    // Each write once; the update of u0 after its insert.
    const keys = all.map((e) => `${e.type}:${e.id}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.indexOf("update:u0")).toBeGreaterThan(keys.indexOf("insert:u0"));
    expect(all.at(-1)!.seq).toBe(db.stats().engine.seq);
  });

  it("insertMany, updateMany and deleteMany: one event per document, all with the batch's seq", async () => {
    const db = await openDb();
    const { users, all } = setup(db);
    await users.insertMany([
      { _id: "a", email: "a@x", age: 1 },
      { _id: "b", email: "b@x", age: 2 },
      { _id: "c", email: "c@x", age: 3 },
    ]);
    const s1 = db.stats().engine.seq;
    expect(all.map((e) => [e.type, e.id, e.seq])).toEqual([
      ["insert", "a", s1],
      ["insert", "b", s1],
      ["insert", "c", s1],
    ]);
    all.length = 0;
    expect(await users.updateMany({ age: { $gte: 2 } }, { $push: { tags: "x" } })).toBe(2);
    const s2 = db.stats().engine.seq;
    expect(s2).toBe(s1 + 1);
    expect(all.map((e) => [e.type, e.id, e.seq]).sort()).toEqual([
      ["update", "b", s2],
      ["update", "c", s2],
    ]);
    for (const e of all) expect(e.prev && e.doc && [e.prev.tags, e.doc.tags]).toEqual([[], ["x"]]);
    all.length = 0;
    expect(await users.deleteMany({ age: { $lte: 2 } })).toBe(2);
    const s3 = db.stats().engine.seq;
    expect(all.map((e) => [e.type, e.id, e.seq]).sort()).toEqual([
      ["delete", "a", s3],
      ["delete", "b", s3],
    ]);
  });
});

describe("no events without a write", () => {
  it("failed and empty writes emit nothing", async () => {
    const db = await openDb();
    const { users, all } = setup(db);
    await users.insert({ _id: "a", email: "a@x", age: 1 });
    all.length = 0;
    await expect(users.insert({ email: "a@x", age: 2 })).rejects.toBeInstanceOf(UniqueConstraintError);
    await expect(users.insert({ email: "b@x", age: 2.5 })).rejects.toBeInstanceOf(ValidationError);
    await expect(users.insertMany([{ email: "c@x", age: 3 }, { email: "c@x", age: 4 }])).rejects.toBeInstanceOf(UniqueConstraintError);
    await expect(users.update("a", { $set: { age: "x" } } as never)).rejects.toBeInstanceOf(ValidationError);
    await expect(users.update("a", { $inc: { email: 1 } } as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(users.update("a", { $bogus: { age: 1 } } as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(users.replace("a", { email: 5 } as never)).rejects.toBeInstanceOf(ValidationError);
    expect(await users.update("missing", { $set: { age: 1 } })).toBeUndefined();
    expect(await users.replace("missing", { email: "m@x", age: 1 })).toBeUndefined();
    expect(await users.delete("missing")).toBe(false);
    expect(await users.updateMany({ age: 99 }, { $set: { age: 1 } })).toBe(0);
    expect(await users.deleteMany({ age: 99 })).toBe(0);
    expect(await users.insertMany([])).toEqual([]);
    expect(all).toEqual([]);
  });
});

describe("listeners that throw", () => {
  it("do not break the write or other listeners, and are reported via listenerError", async () => {
    const db = await openDb();
    const users = db.collection("users", User);
    const reported: Array<[unknown, ChangeEvent]> = [];
    const got: string[] = [];
    db.on("listenerError", (err, e) => reported.push([err, e]));
    users.on("change", () => {
      throw new Error("collection listener broke");
    });
    users.on("change", (e) => got.push(`coll:${e.id}`));
    db.on("change", () => {
      throw new Error("db listener broke");
    });
    db.on("change", (e) => got.push(`db:${e.id}`));
    const a = await users.insert({ _id: "a", email: "a@x", age: 1 });
    expect(a._id).toBe("a");
    expect(await users.get("a")).toEqual(a);
    expect(got).toEqual(["coll:a", "db:a"]);
    expect(reported.map(([err, e]) => [(err as Error).message, e.id])).toEqual([
      ["collection listener broke", "a"],
      ["db listener broke", "a"],
    ]);
    // Later writes are unaffected.
    await users.insertMany([{ _id: "b", email: "b@x", age: 2 }, { _id: "c", email: "c@x", age: 3 }]);
    expect(got).toEqual(["coll:a", "db:a", "coll:b", "db:b", "coll:c", "db:c"]);
    expect(reported).toHaveLength(6);
  });

  it("without a listenerError listener, a process warning is emitted", async () => {
    const db = await openDb();
    const users = db.collection("users", User);
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on("warning", onWarning);
    try {
      users.on("change", () => {
        throw new Error("unobserved failure");
      });
      await users.insert({ email: "a@x", age: 1 });
      for (let i = 0; i < 5 && warnings.length === 0; i++) await new Promise((r) => setImmediate(r));
      expect(warnings.some((w) => w.message.includes("unobserved failure"))).toBe(true);
      expect(await users.count()).toBe(1);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("off removes a listener; a listener may write to another collection", async () => {
    const db = await openDb();
    const users = db.collection("users", User);
    const audit = db.collection("audit", z.object({ what: z.string(), seq: z.number() }));
    const got: ChangeEvent[] = [];
    const listener = (e: ChangeEvent): void => void got.push(e);
    db.on("change", listener);
    const audits: Array<Promise<unknown>> = [];
    users.on("change", (e) => void audits.push(audit.insert({ what: `${e.type}:${e.id}`, seq: e.seq })));
    await users.insert({ _id: "a", email: "a@x", age: 1 });
    await Promise.all(audits);
    db.off("change", listener);
    await users.insert({ _id: "b", email: "b@x", age: 1 });
    await Promise.all(audits);
    expect(got.map((e) => `${e.collection}:${e.id}`)).toEqual(["users:a", expect.stringMatching(/^audit:/)]);
    expect((await audit.find({}, { sort: { seq: 1 } }).toArray()).map((d) => d.what)).toEqual(["insert:a", "insert:b"]);
  });
});
