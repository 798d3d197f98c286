/**
 * Unique indexes (SPEC §3, §4): every kind of write that would take a held value throws
 * UniqueConstraintError carrying collection, index, value and the holder's id, and writes nothing
 * (seq unchanged, no change event, documents and index entries as before). Also: concurrent
 * writers of one value (exactly one wins), compound and multikey unique indexes, values that move
 * between documents inside one batch, documents lacking the field (MongoDB: they index as null, so
 * at most one may lack it), and the raw keyspace staying consistent through all of it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Engine, open, UniqueConstraintError, z, type ChangeEvent, type Database } from "../../src/index.js";
import { keyspaceProblems, readKeyspace } from "../fixtures/doc-model.js";

const dirs: string[] = [];
const dbs: Database[] = [];

afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close().catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function openDb(dir?: string): Promise<{ db: Database; dir: string }> {
  if (dir === undefined) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lsmdoc-unique-"));
    dirs.push(dir);
  }
  const db = await open(dir, { sync: false });
  dbs.push(db);
  return { db, dir };
}

/** Closes `db` and checks the raw keyspace: every document has exactly its index entries. */
async function expectConsistent(db: Database, dir: string): Promise<void> {
  await db.close();
  const engine = await Engine.open(dir);
  try {
    expect(keyspaceProblems(readKeyspace(engine))).toEqual([]);
  } finally {
    await engine.close();
  }
}

// Every unique field is required here: documents lacking one would collide (see the last tests).
const Account = z.object({
  email: z.string(),
  name: z.string(),
  city: z.string().default("London"),
  rank: z.number(),
});

function accounts(db: Database) {
  return db.collection("accounts", Account, {
    indexes: [
      { fields: ["email"], unique: true },
      { fields: ["city", "name"], unique: true, name: "city_name" },
      { fields: ["rank"], unique: true },
    ],
  });
}

function badges(db: Database) {
  return db.collection("badges", z.object({ name: z.string(), codes: z.array(z.string()) }), { indexes: [{ fields: ["codes"], unique: true }] });
}

async function uniqueError(p: Promise<unknown>): Promise<UniqueConstraintError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "expected a UniqueConstraintError").toBeInstanceOf(UniqueConstraintError);
  return err as UniqueConstraintError;
}

/** Runs `fn` and checks it wrote nothing and emitted nothing. */
async function expectNoWrite(db: Database, c: ReturnType<typeof accounts>, fn: () => Promise<void>): Promise<void> {
  const events: ChangeEvent[] = [];
  const listener = (e: ChangeEvent): void => void events.push(e);
  db.on("change", listener);
  const seq = db.stats().engine.seq;
  const before = await c.find({}, { sort: { _id: 1 } }).toArray();
  await fn();
  expect(db.stats().engine.seq, "seq unchanged").toBe(seq);
  expect(await c.find({}, { sort: { _id: 1 } }).toArray()).toEqual(before);
  expect(events).toEqual([]);
  db.off("change", listener);
}

describe("violations carry their details and write nothing", () => {
  it("insert", async () => {
    const { db, dir } = await openDb();
    const c = accounts(db);
    await c.insert({ _id: "a", email: "a@x", name: "Ada", rank: 1 });
    await expectNoWrite(db, c, async () => {
      const err = await uniqueError(c.insert({ _id: "b", email: "a@x", name: "Bob", rank: 2 }));
      expect(err).toMatchObject({ collection: "accounts", index: "email", value: "a@x", existingId: "a" });
      const dupId = await uniqueError(c.insert({ _id: "a", email: "new@x", name: "Other", rank: 3 }));
      expect(dupId).toMatchObject({ collection: "accounts", index: "_id", value: "a", existingId: "a" });
    });
    expect(await c.find({ email: "a@x" }).toArray()).toHaveLength(1);
    expect(await c.find({ name: "Bob" }).toArray()).toEqual([]);
    await expectConsistent(db, dir);
  });

  it("insertMany: duplicates within the batch and against stored documents", async () => {
    const { db, dir } = await openDb();
    const c = accounts(db);
    await c.insert({ _id: "a", email: "a@x", name: "Ada", rank: 1 });
    await expectNoWrite(db, c, async () => {
      const within = await uniqueError(
        c.insertMany([
          { _id: "b", email: "b@x", name: "Bob", rank: 2 },
          { _id: "c", email: "c@x", name: "Cy", rank: 3 },
          { _id: "d", email: "b@x", name: "Dee", rank: 4 },
        ]),
      );
      expect(within).toMatchObject({ collection: "accounts", index: "email", value: "b@x", existingId: "b" });
      const stored = await uniqueError(
        c.insertMany([
          { _id: "b", email: "b@x", name: "Bob", rank: 2 },
          { _id: "c", email: "a@x", name: "Cy", rank: 3 },
        ]),
      );
      expect(stored).toMatchObject({ index: "email", value: "a@x", existingId: "a" });
      const ids = await uniqueError(
        c.insertMany([
          { _id: "b", email: "b@x", name: "Bob", rank: 2 },
          { _id: "b", email: "b2@x", name: "Bob 2", rank: 3 },
        ]),
      );
      expect(ids).toMatchObject({ index: "_id", value: "b" });
    });
    expect(await c.count()).toBe(1);
    await expectConsistent(db, dir);
  });

  it("update, replace and updateMany", async () => {
    const { db, dir } = await openDb();
    const c = accounts(db);
    await c.insertMany([
      { _id: "a", email: "a@x", name: "Ada", rank: 1 },
      { _id: "b", email: "b@x", name: "Bob", rank: 2 },
      { _id: "c", email: "c@x", name: "Cy", city: "Paris", rank: 3 },
    ]);
    await expectNoWrite(db, c, async () => {
      expect(await uniqueError(c.update("b", { $set: { email: "a@x" } }))).toMatchObject({
        collection: "accounts",
        index: "email",
        value: "a@x",
        existingId: "a",
      });
      expect(await uniqueError(c.replace("c", { email: "b@x", name: "Cy", rank: 3 }))).toMatchObject({ index: "email", value: "b@x", existingId: "b" });
      expect(await uniqueError(c.update("c", { $set: { city: "London", name: "Ada" } }))).toMatchObject({
        index: "city_name",
        value: ["London", "Ada"],
        existingId: "a",
      });
      // Two documents would end up with the same rank.
      const many = await uniqueError(c.updateMany({ rank: { $gte: 2 } }, { $set: { rank: 9 } }));
      expect(many.index).toBe("rank");
      expect(many.value).toBe(9);
      expect(["b", "c"]).toContain(many.existingId);
      expect(await uniqueError(c.updateMany({ _id: "c" }, { $set: { rank: 1 } }))).toMatchObject({ index: "rank", value: 1, existingId: "a" });
    });
    // Writing a document's own value again is not a violation.
    expect(await c.update("a", { $set: { email: "a@x", rank: 1 } })).toMatchObject({ email: "a@x" });
    expect(await c.replace("b", { email: "b@x", name: "Bob", rank: 2 })).toMatchObject({ email: "b@x" });
    await expectConsistent(db, dir);
  });
});

describe("concurrency", () => {
  it("20 concurrent inserts of one email: exactly one succeeds", async () => {
    const { db, dir } = await openDb();
    const c = accounts(db);
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => c.insert({ email: "same@x", name: `n${i}`, rank: i })));
    const ok = results.filter((r) => r.status === "fulfilled");
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(19);
    const winner = (ok[0] as PromiseFulfilledResult<{ _id: string }>).value._id;
    for (const f of failed) {
      expect(f.reason).toBeInstanceOf(UniqueConstraintError);
      expect((f.reason as UniqueConstraintError).existingId).toBe(winner);
    }
    expect(ids(await c.find({ email: "same@x" }).toArray())).toEqual([winner]);
    expect(await c.count()).toBe(1);
    await expectConsistent(db, dir);
  });

  it("concurrent updates and inserts racing for one value: exactly one wins", async () => {
    const { db, dir } = await openDb();
    const c = accounts(db);
    await c.insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: `d${i}`, email: `e${i}@x`, name: `n${i}`, rank: i })));
    const results = await Promise.allSettled([
      ...Array.from({ length: 10 }, (_, i) => c.update(`d${i}`, { $set: { email: "prize@x" } })),
      c.insert({ _id: "late", email: "prize@x", name: "late", rank: 100 }),
      c.replace("d3", { email: "prize@x", name: "n3", rank: 3 }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(UniqueConstraintError);
    expect(await c.find({ email: "prize@x" }).toArray()).toHaveLength(1);
    await expectConsistent(db, dir);
  });

  it("a value freed by a pending write can be taken by the next one", async () => {
    const { db, dir } = await openDb();
    const c = accounts(db);
    await c.insertMany([
      { _id: "a", email: "a@x", name: "Ada", rank: 1 },
      { _id: "b", email: "b@x", name: "Bob", rank: 2 },
    ]);
    // Issued together: each is computed against the other's pending (uncommitted) write.
    const [del, ins, moved, took] = await Promise.all([
      c.delete("a"),
      c.insert({ _id: "c", email: "a@x", name: "Cy", rank: 3 }),
      c.update("b", { $set: { email: "b2@x" } }),
      c.update("c", { $set: { email: "b@x" } }),
    ]);
    expect([del, ins._id, moved?.email, took?.email]).toEqual([true, "c", "b2@x", "b@x"]);
    expect(ids(await c.find({ email: { $in: ["a@x", "b@x", "b2@x"] } }, { sort: { email: 1 } }).toArray())).toEqual(["b", "c"]); // "b2@x" < "b@x"
    await expectConsistent(db, dir);
  });
});

describe("index shapes", () => {
  it("compound unique: the combination must be unique, not each field", async () => {
    const { db, dir } = await openDb();
    const c = accounts(db);
    await c.insert({ _id: "a", email: "a@x", name: "Ada", city: "London", rank: 1 });
    await c.insert({ _id: "b", email: "b@x", name: "Ada", city: "Paris", rank: 2 });
    await c.insert({ _id: "c", email: "c@x", name: "Bob", city: "London", rank: 3 });
    const err = await uniqueError(c.insert({ _id: "d", email: "d@x", name: "Ada", city: "London", rank: 4 }));
    expect(err).toMatchObject({ index: "city_name", value: ["London", "Ada"], existingId: "a" });
    expect(await c.count()).toBe(3);
    await expectConsistent(db, dir);
  });

  it("multikey unique: elements are unique across documents; a document may repeat its own", async () => {
    const { db, dir } = await openDb();
    const c = badges(db);
    await c.insert({ _id: "a", name: "A", codes: ["x", "y", "x"] });
    const err = await uniqueError(c.insert({ _id: "b", name: "B", codes: ["z", "y"] }));
    expect(err).toMatchObject({ index: "codes", value: "y", existingId: "a" });
    await c.insert({ _id: "b", name: "B", codes: ["z"] });
    await uniqueError(c.update("b", { $push: { codes: "x" } }));
    // Once a gives x up, b may take it.
    await c.update("a", { $pull: { codes: "x" } });
    expect((await c.update("b", { $push: { codes: "x" } }))?.codes).toEqual(["z", "x"]);
    expect(ids(await c.find({ codes: "x" }).toArray())).toEqual(["b"]);
    // Empty arrays index as null, like a missing field: only one document may have none.
    await c.insert({ _id: "e", name: "E", codes: [] });
    const empty = await uniqueError(c.insert({ _id: "f", name: "F", codes: [] }));
    expect(empty).toMatchObject({ index: "codes", value: null, existingId: "e" });
    await expectConsistent(db, dir);
  });

  it("a value may move between documents inside one batch (a shift of unique ranks)", async () => {
    const { db, dir } = await openDb();
    const c = accounts(db);
    await c.insertMany(Array.from({ length: 6 }, (_, i) => ({ _id: `r${i}`, email: `r${i}@x`, name: `n${i}`, rank: i + 1 })));
    // Each document takes the rank its neighbour gives up, in the same batch.
    expect(await c.updateMany({ rank: { $gte: 1 } }, { $inc: { rank: 1 } })).toBe(6);
    expect((await c.find({}, { sort: { rank: 1 } }).toArray()).map((d) => d.rank)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(await c.updateMany({}, { $inc: { rank: -1 } })).toBe(6);
    expect(ids(await c.find({ rank: { $lte: 2 } }, { sort: { rank: 1 } }).toArray())).toEqual(["r0", "r1"]);
    await expectConsistent(db, dir);
  });

  it("documents lacking the field: at most one, as MongoDB does (missing indexes as null)", async () => {
    const { db, dir } = await openDb();
    const c = db.collection("people", z.object({ name: z.string(), email: z.string().nullable().optional() }), {
      indexes: [{ fields: ["email"], unique: true }],
    });
    await c.insert({ _id: "p1", name: "no email" });
    const second = await uniqueError(c.insert({ _id: "p2", name: "also none" }));
    expect(second).toMatchObject({ index: "email", value: null, existingId: "p1" });
    // Null and missing are the same index value.
    const asNull = await uniqueError(c.insert({ _id: "p3", name: "null", email: null }));
    expect(asNull).toMatchObject({ value: null, existingId: "p1" });
    await c.insert({ _id: "p4", name: "has one", email: "x@y" });
    expect(await c.count()).toBe(2);
    expect(ids(await c.find({ email: null }).toArray())).toEqual(["p1"]);
    await expectConsistent(db, dir);
  });
});

function ids(docs: Array<{ _id: string }>): string[] {
  return docs.map((d) => d._id);
}

describe("findOne by a unique key", () => {
  // findOne({field: value}) on _id or a one-field unique index reads by point lookups without
  // planning; it must find what the planned query finds, whatever the state.
  it("finds what find() finds, through inserts, updates, deletes and pending writes", async () => {
    const { db } = await openDb();
    const Item = z.object({ code: z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]).optional(), rank: z.number(), note: z.string() });
    const items = db.collection("items", Item, { indexes: [{ fields: ["code"], unique: true }, { fields: ["rank"], unique: true }, { fields: ["note"] }] });
    await items.ready();
    let seed = 1234567;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    const codeOf = (i: number): string | number | boolean | string[] | undefined =>
      [`c${i}`, i * 1.5, i === 3, [`a${i}`, `b${i}`], undefined][i % 5];
    const ids: string[] = [];
    let probes = 0;
    let hits = 0;
    const probe = async (filter: Record<string, unknown>): Promise<void> => {
      // Both read at call time (the cursor and the lookup are synchronous once the collection is
      // ready), so they see the same state even while a write is pending.
      const plannedRead = items.find(filter as never, { limit: 1 }).toArray();
      const directRead = items.findOne(filter as never);
      const planned = (await plannedRead)[0];
      const direct = await directRead;
      expect(direct, `findOne(${JSON.stringify(filter)})`).toEqual(planned);
      probes++;
      if (direct !== undefined) hits++;
    };
    for (let round = 0; round < 300; round++) {
      const i = rnd(60);
      const op = rnd(4);
      const pending: Array<Promise<unknown>> = [];
      if (op === 0 || ids.length === 0) {
        pending.push(items.insert({ code: codeOf(i), rank: round, note: `n${i % 3}` }).then((d) => ids.push(d._id), () => undefined));
      } else if (op === 1) {
        pending.push(items.update(ids[rnd(ids.length)]!, { $set: { code: codeOf(i) } }).catch(() => undefined));
      } else if (op === 2) {
        pending.push(items.delete(ids[rnd(ids.length)]!));
      }
      // Probes issued while the write above is still pending, and after it.
      const filters: Array<Record<string, unknown>> = [
        { code: `c${i}` },
        { code: i * 1.5 },
        { code: true },
        { code: false },
        { code: `a${i}` },
        { rank: rnd(round + 1) },
        { _id: ids.length > 0 ? ids[rnd(ids.length)]! : "none" },
        { _id: "no-such-id" },
        { note: `n${i % 3}` },
      ];
      await Promise.all(filters.map(probe));
      await Promise.all(pending);
      await probe(filters[rnd(filters.length)]!);
    }
    expect(probes).toBeGreaterThan(2000);
    expect(hits, "the probes found documents").toBeGreaterThan(300);
  });
});
