/**
 * Index definitions over time (SPEC §3: "Opening a collection with a new index builds it from the
 * existing documents; a removed index's entries are deleted"): adding an index to a populated
 * collection builds it (writes issued meanwhile wait and are indexed; queries then use it),
 * removing one deletes every entry, changing one's fields or uniqueness rebuilds it under a new
 * number, and a unique index over duplicate values fails without leaving anything half-built.
 *
 * Crash safety: builds and drops are recorded in the catalog before they start, so an interrupted
 * one is redone at the next open. Tested by writing such states with the raw engine (a catalog
 * entry in state "building" with partial and wrong entries, one in state "dropping"), and by
 * SIGKILLing a child process in the middle of a large build. After each, the raw keyspace must be
 * exactly consistent (doc-model keyspaceProblems).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { decodeCatalogEntry, encodeCatalogEntry } from "../../collections/catalog.js";
import { encodeKey } from "../../collections/key-codec.js";
import { catalogKey, indexPrefix } from "../../collections/keyspace.js";
import { Engine, open, UniqueConstraintError, WriteBatch, z, type Database } from "../../src/index.js";
import { BIG_INDEXES_AFTER, BIG_INDEXES_BEFORE, Big, type CrashLine } from "../fixtures/collection-crash-writer.js";
import { keyspaceProblems, readKeyspace, type RawKeyspace } from "../fixtures/doc-model.js";
import { FixtureProcess, settles } from "../fixtures/harness.js";
import { Rng, testSeeds } from "../fixtures/random.js";

const dirs: string[] = [];
const dbs: Database[] = [];
const children: FixtureProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) await c.kill();
  for (const db of dbs.splice(0)) await db.close().catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "lsmdoc-idx-"));
  dirs.push(d);
  return d;
}

async function openDb(dir: string): Promise<Database> {
  const db = await open(dir, { sync: false });
  dbs.push(db);
  return db;
}

async function raw(dir: string): Promise<RawKeyspace> {
  const engine = await Engine.open(dir);
  try {
    return readKeyspace(engine);
  } finally {
    await engine.close();
  }
}

/** Number of keys under an index's prefix, read with the raw engine. */
async function entryCount(dir: string, collection: number, index: number): Promise<number> {
  const engine = await Engine.open(dir);
  try {
    const prefix = indexPrefix(collection, index);
    const end = prefix.slice();
    end[end.length - 1]! += 1;
    let n = 0;
    for await (const _ of engine.iterate({ gte: prefix, lt: end })) n++;
    return n;
  } finally {
    await engine.close();
  }
}

const User = z.object({ name: z.string(), email: z.string(), age: z.number().int(), city: z.string(), tags: z.array(z.string()).default([]) });
const CITIES = ["Oslo", "Lima", "Pune", "Kyiv"];

function people(n: number, dupEmails = false): Array<z.input<typeof User> & { _id: string }> {
  return Array.from({ length: n }, (_, i) => ({
    _id: `u${String(i).padStart(5, "0")}`,
    name: `n${i}`,
    email: dupEmails && i % 500 === 7 ? "dup@x" : `u${i}@x`,
    age: i % 50,
    city: CITIES[i % CITIES.length]!,
    tags: i % 3 === 0 ? [] : [`t${i % 5}`, `t${i % 7}`],
  }));
}

describe("adding, removing and changing indexes", () => {
  it("adding an index to a populated collection builds it; writes during the build wait and are indexed", async () => {
    const dir = tempDir();
    let db = await openDb(dir);
    let users = db.collection("users", User);
    await users.insertMany(people(1500));
    expect(users.find({ age: 30 }).explain().strategy).toBe("collectionScan");
    await db.close();

    db = await openDb(dir);
    users = db.collection("users", User, { indexes: [{ fields: ["age"] }, { fields: ["tags"] }, { fields: ["email"], unique: true }] });
    expect(users.indexes().map((i) => i.state)).toEqual(["building", "building", "building"]);
    // Issued while the indexes are being built.
    const late = users.insert({ _id: "late", name: "late", email: "late@x", age: 30, city: "Oslo", tags: ["t1"] });
    const dup = users.insert({ name: "dup", email: "u5@x", age: 1, city: "Oslo" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    await users.ready();
    await late;
    expect(await dup).toBeInstanceOf(UniqueConstraintError);
    expect(users.indexes().map((i) => [i.name, i.state, i.multikey])).toEqual([
      ["age", "ready", false],
      ["tags", "ready", true],
      ["email", "ready", false],
    ]);
    expect(users.find({ age: 30 }).explain()).toMatchObject({ strategy: "index", index: "age" });
    expect(users.find({ tags: "t1" }).explain()).toMatchObject({ strategy: "index", index: "tags" });
    const age30 = await users.find({ age: 30 }).toArray();
    expect(age30.map((u) => u._id).sort()).toEqual([...people(1500).filter((p) => p.age === 30).map((p) => p._id), "late"].sort());
    expect(await users.count({ tags: "t1" })).toBe(people(1500).filter((p) => p.tags!.includes("t1")).length + 1);
    expect((await users.findOne({ email: "u1234@x" }))?._id).toBe("u01234");
    await db.close();
    expect(keyspaceProblems(await raw(dir))).toEqual([]);
  });

  it("removing an index deletes all of its entries", async () => {
    const dir = tempDir();
    let db = await openDb(dir);
    const users = db.collection("users", User, { indexes: [{ fields: ["age"] }, { fields: ["tags"] }] });
    await users.insertMany(people(1200));
    await db.close();
    const before = await raw(dir);
    const meta = before.collections.get("users")!.meta;
    const tagsId = meta.indexes.find((i) => i.name === "tags")!.id;
    expect(await entryCount(dir, meta.id, tagsId)).toBeGreaterThan(1200);

    db = await openDb(dir);
    const again = db.collection("users", User, { indexes: [{ fields: ["age"] }] });
    await again.ready();
    expect(again.indexes().map((i) => i.name)).toEqual(["age"]);
    expect(again.find({ tags: "t1" }).explain().strategy).toBe("collectionScan");
    expect(await again.count({ tags: "t1" })).toBe(people(1200).filter((p) => p.tags!.includes("t1")).length);
    await db.close();
    expect(await entryCount(dir, meta.id, tagsId)).toBe(0);
    const after = await raw(dir);
    expect([...after.collections.get("users")!.indexes.keys()]).toEqual(["age"]);
    expect(keyspaceProblems(after)).toEqual([]);
  });

  it("changing an index's fields or uniqueness rebuilds it under a new number", async () => {
    const dir = tempDir();
    let db = await openDb(dir);
    let users = db.collection("users", User, { indexes: [{ fields: ["age"], name: "byAge" }, { fields: ["email"] }] });
    await users.insertMany(people(800));
    await db.close();
    const first = (await raw(dir)).collections.get("users")!.meta;
    const oldByAge = first.indexes.find((i) => i.name === "byAge")!;
    const oldEmail = first.indexes.find((i) => i.name === "email")!;

    db = await openDb(dir);
    users = db.collection("users", User, { indexes: [{ fields: ["city", "age"], name: "byAge" }, { fields: ["email"], unique: true }] });
    await users.ready();
    expect(users.indexes().map((i) => [i.name, i.fields, i.unique])).toEqual([
      ["byAge", ["city", "age"], false],
      ["email", ["email"], true],
    ]);
    expect(users.find({ city: "Lima", age: { $gt: 40 } }).explain()).toMatchObject({ strategy: "index", index: "byAge" });
    expect(await users.count({ city: "Lima", age: { $gt: 40 } })).toBe(people(800).filter((p) => p.city === "Lima" && p.age > 40).length);
    await expect(users.insert({ name: "x", email: "u3@x", age: 1, city: "Oslo" })).rejects.toBeInstanceOf(UniqueConstraintError);
    await db.close();

    const after = await raw(dir);
    expect(keyspaceProblems(after)).toEqual([]);
    const idx = after.collections.get("users")!.indexes;
    expect(idx.get("byAge")!.id).not.toBe(oldByAge.id);
    expect(idx.get("email")!.id).not.toBe(oldEmail.id);
    expect(idx.get("byAge")!.entries.every((e) => e.values.length === 2)).toBe(true);
    expect(await entryCount(dir, first.id, oldByAge.id)).toBe(0);
    expect(await entryCount(dir, first.id, oldEmail.id)).toBe(0);
  });

  it("a unique index over duplicate values fails: ready() rejects and nothing of it remains", async () => {
    const dir = tempDir();
    let db = await openDb(dir);
    const users = db.collection("users", User);
    await users.insertMany(people(1400, true));
    await db.close();

    db = await openDb(dir);
    const bad = db.collection("users", User, { indexes: [{ fields: ["age"] }, { fields: ["email"], unique: true }] });
    const err = await bad.ready().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UniqueConstraintError);
    expect(err).toMatchObject({ collection: "users", index: "email", value: "dup@x" });
    expect(["u00007", "u00507", "u01007"]).toContain((err as UniqueConstraintError).existingId);
    expect(bad.indexes().map((i) => i.name)).toEqual(["age"]);
    await db.close();

    const after = await raw(dir);
    expect(keyspaceProblems(after)).toEqual([]);
    expect([...after.collections.get("users")!.indexes.keys()]).toEqual(["age"]);
    expect(after.collections.get("users")!.docs.size).toBe(1400);

    // Without the unique index the collection opens and works.
    db = await openDb(dir);
    const ok = db.collection("users", User, { indexes: [{ fields: ["age"] }] });
    await ok.ready();
    expect(await ok.count({ email: "dup@x" })).toBe(3);
  });

  it("after a failed build, the collection can be opened again in the same database without that index", async () => {
    const dir = tempDir();
    const db = await openDb(dir);
    const plain = db.collection("users", User);
    await plain.insertMany(people(20, true).map((p, i) => (i < 2 ? { ...p, email: "same@x" } : p)));
    await db.close();

    const db2 = await openDb(dir);
    const bad = db2.collection("users", User, { indexes: [{ fields: ["email"], unique: true }] });
    await expect(bad.ready()).rejects.toBeInstanceOf(UniqueConstraintError);
    // The index is gone from the catalog; the documents are untouched. Reading them should not
    // need a restart of the whole database.
    const again = db2.collection("users", User, {});
    await expect(again.count()).resolves.toBe(20);
  });
});

describe("interrupted builds and drops", () => {
  /** A populated collection with an "age" index, closed; returns its catalog numbers. */
  async function populated(dir: string): Promise<{ collection: number; next: number }> {
    const db = await openDb(dir);
    const users = db.collection("users", User, { indexes: [{ fields: ["age"] }] });
    await users.insertMany(people(900));
    await db.close();
    const meta = (await raw(dir)).collections.get("users")!.meta;
    return { collection: meta.id, next: meta.nextIndexId };
  }

  /** Adds an index in `state` to the catalog with the raw engine, plus `entries` under it. */
  async function injectIndex(dir: string, def: { name: string; fields: string[]; state: "building" | "dropping" }, entries: Array<[unknown[], string]>): Promise<number> {
    const engine = await Engine.open(dir);
    try {
      const value = await engine.get(catalogKey("users"));
      const meta = decodeCatalogEntry(value!);
      const id = meta.nextIndexId++;
      meta.indexes.push({ id, name: def.name, fields: def.fields, unique: false, state: def.state, multikey: false });
      const batch = new WriteBatch();
      const entry = encodeCatalogEntry(meta);
      batch.put(entry.key, entry.value);
      const prefix = indexPrefix(meta.id, id);
      for (const [values, docId] of entries) {
        const tail = encodeKey([...(values as never[]), docId]);
        const key = new Uint8Array(prefix.length + tail.length);
        key.set(prefix);
        key.set(tail, prefix.length);
        batch.put(key, new Uint8Array(0));
      }
      await engine.write(batch);
      return id;
    } finally {
      await engine.close();
    }
  }

  const partialCityEntries = (): Array<[unknown[], string]> => [
    ...people(900)
      .slice(0, 300)
      .map((p) => [[p.city], p._id] as [unknown[], string]),
    [["Oslo"], "no-such-doc"], // points to nothing
    [["Atlantis"], "u00001"], // wrong value for a real document
  ];

  it("an index left in state 'building' with partial and wrong entries is rebuilt at the next open", async () => {
    const dir = tempDir();
    const { collection } = await populated(dir);
    const id = await injectIndex(dir, { name: "city", fields: ["city"], state: "building" }, partialCityEntries());
    const before = await raw(dir);
    expect(keyspaceProblems(before).length, "the injected state really is inconsistent").toBeGreaterThan(0);

    const db = await openDb(dir);
    const users = db.collection("users", User, { indexes: [{ fields: ["age"] }, { fields: ["city"] }] });
    await users.ready();
    expect(users.indexes().map((i) => [i.name, i.state])).toEqual([
      ["age", "ready"],
      ["city", "ready"],
    ]);
    expect(await users.count({ city: "Atlantis" })).toBe(0);
    expect(await users.count({ city: "Oslo" })).toBe(people(900).filter((p) => p.city === "Oslo").length);
    await db.close();
    const after = await raw(dir);
    expect(keyspaceProblems(after)).toEqual([]);
    expect(after.collections.get("users")!.indexes.get("city")!.entries).toHaveLength(900);
    expect(after.collections.get("users")!.meta.id).toBe(collection);
    expect(id).toBeGreaterThan(0);
  });

  it("an interrupted build of an index no longer wanted is dropped", async () => {
    const dir = tempDir();
    const { collection } = await populated(dir);
    const id = await injectIndex(dir, { name: "city", fields: ["city"], state: "building" }, partialCityEntries());
    const db = await openDb(dir);
    await db.collection("users", User, { indexes: [{ fields: ["age"] }] }).ready();
    await db.close();
    expect(await entryCount(dir, collection, id)).toBe(0);
    const after = await raw(dir);
    expect(keyspaceProblems(after)).toEqual([]);
    expect([...after.collections.get("users")!.indexes.keys()]).toEqual(["age"]);
  });

  it("an index left in state 'dropping' is finished, and rebuilt afresh if still wanted", async () => {
    for (const stillWanted of [false, true]) {
      const dir = tempDir();
      const { collection } = await populated(dir);
      const id = await injectIndex(dir, { name: "city", fields: ["city"], state: "dropping" }, partialCityEntries());
      const db = await openDb(dir);
      const users = db.collection("users", User, { indexes: stillWanted ? [{ fields: ["age"] }, { fields: ["city"] }] : [{ fields: ["age"] }] });
      await users.ready();
      if (stillWanted) expect(await users.count({ city: "Lima" })).toBe(people(900).filter((p) => p.city === "Lima").length);
      await db.close();
      expect(await entryCount(dir, collection, id), `stillWanted=${stillWanted}`).toBe(0);
      const after = await raw(dir);
      expect(keyspaceProblems(after), `stillWanted=${stillWanted}`).toEqual([]);
      const names = [...after.collections.get("users")!.indexes.values()].map((i) => `${i.name}:${i.state}`);
      expect(names).toEqual(stillWanted ? ["age:ready", "city:ready"] : ["age:ready"]);
      if (stillWanted) expect(after.collections.get("users")!.indexes.get("city")!.id).not.toBe(id);
    }
  });

  it("close() during a build: the build resumes at the next open; a write issued before close() is kept", async () => {
    const dir = tempDir();
    let db = await openDb(dir);
    await db.collection("users", User).insertMany(people(3000));
    await db.close();

    db = await openDb(dir);
    const users = db.collection("users", User, { indexes: [{ fields: ["email"], unique: true }] });
    // Waits for the build, which close() below interrupts.
    const write = users.insert({ _id: "during", name: "d", email: "during@x", age: 1, city: "Oslo" }).then(
      () => "inserted",
      (e: unknown) => `rejected: ${String(e)}`,
    );
    const ready = users.ready().then(
      () => "ready",
      (e: unknown) => `rejected: ${String(e)}`,
    );
    await db.close();
    await ready;
    const outcome = await write;

    expect(keyspaceProblems(await raw(dir))).toEqual([]);
    db = await openDb(dir);
    const again = db.collection("users", User, { indexes: [{ fields: ["email"], unique: true }] });
    await again.ready();
    expect(again.indexes().map((i) => i.state)).toEqual(["ready"]);
    expect(await again.count({ email: { $gte: "" } })).toBe(outcome === "inserted" ? 3001 : 3000);
    await db.close();
    expect(keyspaceProblems(await raw(dir))).toEqual([]);
    // Database.close() "waits for pending writes": one issued before it must not be refused.
    expect(outcome).toBe("inserted");
  });

  it("SIGKILL in the middle of a large build: the next open completes it", { timeout: 120_000 }, async () => {
    const [seed] = testSeeds(1) as [number];
    const rng = new Rng(seed);
    // A template with 20000 documents, copied for each attempt.
    const template = tempDir();
    const db = await openDb(template);
    const big = db.collection("big", Big, { indexes: BIG_INDEXES_BEFORE });
    for (let i = 0; i < 20; i++) {
      await big.insertMany(Array.from({ length: 1000 }, (_, j) => ({ g: j % 10, k: `k${String(i * 1000 + j).padStart(6, "0")}`, pad: "p".repeat(64) })));
    }
    await db.close();

    // First a build that completes, to learn roughly how long one takes on this machine.
    const timed = tempDir();
    fs.cpSync(template, timed, { recursive: true });
    const child = new FixtureProcess("collection-crash-writer.ts", [timed, String(seed), "build"]);
    children.push(child);
    await settles(child.waitForLine((l) => (JSON.parse(l) as CrashLine).t === "building"), "build child start", 30_000);
    const started = Date.now();
    await settles(child.waitForLine((l) => (JSON.parse(l) as CrashLine).t === "ready"), "build child finish", 60_000);
    const duration = Math.max(50, Date.now() - started);
    await child.kill();

    const states: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const dir = tempDir();
      fs.cpSync(template, dir, { recursive: true });
      fs.rmSync(path.join(dir, "LOCK"), { force: true });
      const label = `seed ${seed} attempt ${attempt}`;
      const c = new FixtureProcess("collection-crash-writer.ts", [dir, String(seed), "build"]);
      children.push(c);
      await settles(c.waitForLine((l) => (JSON.parse(l) as CrashLine).t === "building"), `${label}: build child start`, 30_000);
      await new Promise((r) => setTimeout(r, rng.int(duration)));
      await c.kill();

      // Whatever the moment: consistent (a building index holds only valid entries).
      const crashed = await raw(dir);
      expect(keyspaceProblems(crashed), `${label}: after the kill`).toEqual([]);
      const k = crashed.collections.get("big")!.indexes.get("k");
      states.push(k === undefined ? "not started" : `${k.state} with ${k.entries.length} entries`);

      const reopened = await openDb(dir);
      const b = reopened.collection("big", Big, { indexes: BIG_INDEXES_AFTER });
      await b.ready();
      expect(b.indexes().map((i) => i.state), label).toEqual(["ready", "ready"]);
      expect(await b.count({ k: { $gte: "k010000", $lt: "k010100" } }), label).toBe(100);
      expect(b.find({ k: "k000001" }).explain().strategy, label).toBe("index");
      await reopened.close();
      const after = await raw(dir);
      expect(keyspaceProblems(after), `${label}: after the rebuild (crash left: ${states.at(-1)})`).toEqual([]);
      expect(after.collections.get("big")!.indexes.get("k")!.entries, label).toHaveLength(20000);
    }
  });
});
