/**
 * Randomized model-based test of collections: a seeded stream of inserts, insertMany, updates,
 * updateMany, replaces, deletes and deleteMany (valid and invalid ones, unique clashes included)
 * and of queries (random filters over indexed and unindexed fields, random sort/skip/limit) runs
 * against a database and against test/fixtures/doc-model.ts, a plain in-memory implementation.
 *
 * After every write: same outcome (value, or error class with its details), and the engine's seq
 * moved by exactly one for a write and not at all for a failure or a no-op (one batch per write).
 * After every query: same documents (exact order when the sort ends in a unique field; otherwise
 * the same sequence of sort keys). Between phases the database is closed, the raw keyspace is read
 * with the Engine and must hold exactly the model's documents, each with exactly its index entries,
 * and the database is reopened, sometimes with a small memtable so that flushes and compactions
 * run underneath.
 *
 * Seeds: LSMDOC_SEED=<seed>[,<seed>...] replays; LSMDOC_SOAK=1 runs many more, longer.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Engine, InvalidArgumentError, open, UniqueConstraintError, ValidationError, z, type Database } from "../../src/index.js";
import { canon, DocModel, keyspaceProblems, readKeyspace, sortTuple, type IndexDef, type ModelDoc, type Outcome, type SortSpec } from "../fixtures/doc-model.js";
import { Rng, soakEnabled, testSeeds } from "../fixtures/random.js";

/** Generated filters and options are checked at runtime, not by the schema types. */
type Loose = any;
type Obj = Record<string, unknown>;

const SOAK = soakEnabled();
const SEEDS = testSeeds(SOAK ? 24 : 3);
const OPS = SOAK ? 6000 : 2500;
const PHASE = SOAK ? 500 : 250;

const Item = z.object({
  email: z.string(),
  age: z.union([z.number(), z.string(), z.null()]).optional(),
  city: z.string().optional(),
  tags: z.array(z.string()).default([]),
  score: z.number().default(0),
  nested: z.object({ x: z.number(), y: z.string().optional() }).optional(),
});

const INDEXES: IndexDef[] = [
  { name: "email", fields: ["email"], unique: true },
  { name: "age", fields: ["age"], unique: false },
  { name: "city_age", fields: ["city", "age"], unique: false },
  { name: "tags", fields: ["tags"], unique: false },
  { name: "nested.x", fields: ["nested.x"], unique: false },
];

/** The schema of `Item`, by hand. */
function validateItem(input: Obj): Obj | undefined {
  const out: Obj = {};
  if (typeof input.email !== "string") return undefined;
  out.email = input.email;
  if (input.age !== undefined) {
    if (!(typeof input.age === "number" || typeof input.age === "string" || input.age === null)) return undefined;
    out.age = input.age;
  }
  if (input.city !== undefined) {
    if (typeof input.city !== "string") return undefined;
    out.city = input.city;
  }
  if (input.tags === undefined) out.tags = [];
  else if (Array.isArray(input.tags) && input.tags.every((t) => typeof t === "string")) out.tags = input.tags;
  else return undefined;
  if (input.score === undefined) out.score = 0;
  else if (typeof input.score === "number" && Number.isFinite(input.score)) out.score = input.score;
  else return undefined;
  if (input.nested !== undefined) {
    const n = input.nested as Obj;
    if (typeof n !== "object" || n === null || Array.isArray(n) || typeof n.x !== "number") return undefined;
    if (n.y !== undefined && typeof n.y !== "string") return undefined;
    out.nested = n.y === undefined ? { x: n.x } : { x: n.x, y: n.y };
  }
  return out;
}

const dirs: string[] = [];
const dbs: Database[] = [];

afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close().catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Generators

const CITIES = ["Berlin", "London", "Paris", "Rome"];
const TAGS = ["a", "b", "c", "d", "e"];

class Gen {
  constructor(
    private readonly rng: Rng,
    private readonly model: DocModel,
  ) {}

  /** Mostly new addresses; often one a stored document holds, so unique clashes are common. */
  email(clash = 0.2): string {
    if (this.rng.chance(clash)) {
      const id = this.existingId();
      if (id !== undefined) return this.model.docs.get(id)!.email as string;
    }
    return `e${this.rng.int(3000)}@x`;
  }
  age(): unknown {
    const r = this.rng.float();
    return r < 0.75 ? this.rng.int(12) : r < 0.92 ? this.rng.pick(["a", "b", "c"]) : null;
  }
  city(): string {
    return this.rng.pick(CITIES);
  }
  tag(): string {
    return this.rng.pick(TAGS);
  }
  tags(): string[] {
    return Array.from({ length: this.rng.int(4) }, () => this.tag());
  }
  score(): number {
    return this.rng.int(30) - 5 + (this.rng.chance(0.2) ? 0.5 : 0);
  }
  nested(): Obj {
    return this.rng.chance(0.5) ? { x: this.rng.int(6) } : { x: this.rng.int(6), y: this.rng.pick(["p", "q"]) };
  }
  existingId(): string | undefined {
    const ids = [...this.model.docs.keys()];
    return ids.length === 0 ? undefined : this.rng.pick(ids);
  }
  id(): string {
    return (this.rng.chance(0.85) ? this.existingId() : undefined) ?? `missing-${this.rng.int(1000)}`;
  }

  doc(clash = 0.2): Obj {
    const d: Obj = { email: this.email(clash) };
    if (this.rng.chance(0.8)) d.age = this.age();
    if (this.rng.chance(0.8)) d.city = this.city();
    if (this.rng.chance(0.8)) d.tags = this.tags();
    if (this.rng.chance(0.6)) d.score = this.score();
    if (this.rng.chance(0.5)) d.nested = this.nested();
    if (this.rng.chance(0.04)) {
      // Invalid in one of several ways.
      const how = this.rng.int(4);
      if (how === 0) delete d.email;
      else if (how === 1) d.tags = [1];
      else if (how === 2) d.nested = { y: "p" };
      else d.score = "high";
    }
    if (this.rng.chance(0.1)) {
      const given = this.rng.chance(0.3) ? this.existingId() : undefined;
      d._id = given ?? `given-${this.rng.u32().toString(36)}`;
    }
    return d;
  }

  update(): Obj {
    const options: Array<[string, string, () => unknown]> = [
      ["$set", "email", () => this.email()],
      ["$set", "age", () => this.age()],
      ["$set", "city", () => this.city()],
      ["$set", "score", () => this.score()],
      ["$set", "nested.x", () => this.rng.int(6)],
      ["$set", "nested.y", () => this.rng.pick(["p", "q"])],
      ["$set", "nested", () => this.nested()],
      ["$set", "tags", () => this.tags()],
      ["$set", "score", () => "bad"],
      ["$unset", "age", () => 1],
      ["$unset", "city", () => 1],
      ["$unset", "nested", () => 1],
      ["$unset", "nested.y", () => 1],
      ["$unset", "email", () => 1],
      ["$unset", "score", () => 1],
      ["$inc", "score", () => this.rng.int(5) - 2],
      ["$inc", "age", () => this.rng.int(3) + 1],
      ["$inc", "nested.x", () => 1],
      ["$push", "tags", () => (this.rng.chance(0.7) ? this.tag() : { $each: this.tags() })],
      ["$pull", "tags", () => this.tag()],
    ];
    const update: Record<string, Obj> = {};
    const used: string[] = [];
    const n = this.rng.between(1, 3);
    for (let i = 0; i < n; i++) {
      const [op, p, value] = this.rng.pick(options);
      if (used.some((u) => u === p || u.startsWith(`${p}.`) || p.startsWith(`${u}.`))) continue;
      used.push(p);
      (update[op] ??= {})[p] = value();
    }
    return update;
  }

  condition(): [string, unknown] {
    const field = this.rng.pick(["email", "age", "age", "city", "tags", "tags", "score", "nested.x", "nested.y", "_id"]);
    const value = (): unknown => {
      switch (field) {
        case "email":
          return this.email();
        case "age":
          return this.age();
        case "city":
          return this.city();
        case "tags":
          return this.tag();
        case "score":
          return this.score();
        case "nested.x":
          return this.rng.int(7);
        case "nested.y":
          return this.rng.pick(["p", "q"]);
        default:
          return this.id();
      }
    };
    switch (this.rng.int(9)) {
      case 0:
      case 1:
        return [field, value()];
      case 2:
        return [field, { $in: Array.from({ length: this.rng.between(1, 3) }, value) }];
      case 3:
        return [field, { [this.rng.pick(["$gt", "$gte", "$lt", "$lte"])]: value() }];
      case 4:
        return [field, { [this.rng.pick(["$gt", "$gte"])]: value(), [this.rng.pick(["$lt", "$lte"])]: value() }];
      case 5:
        return [field, { $ne: value() }];
      case 6:
        return [field, { $nin: [value(), value()] }];
      case 7:
        return [field, { $exists: this.rng.chance(0.5) }];
      default:
        return field === "tags" && this.rng.chance(0.5) ? [field, this.tags()] : [field, { $not: { [this.rng.pick(["$gt", "$lte"])]: value() } }];
    }
  }

  /** One equality condition: a filter that matches few documents. */
  equality(): Obj {
    for (;;) {
      const [k, v] = this.condition();
      if (typeof v !== "object" || v === null) return { [k]: v };
    }
  }

  filter(depth = 0): Obj {
    const f: Obj = {};
    const n = this.rng.between(0, 2);
    for (let i = 0; i < n; i++) {
      const [k, v] = this.condition();
      if (k in f) f.$and = [...((f.$and as Obj[]) ?? []), { [k]: v }];
      else f[k] = v;
    }
    if (depth === 0 && this.rng.chance(0.12)) f[this.rng.pick(["$or", "$and", "$nor"])] = [this.filter(1), this.filter(1)];
    return f;
  }

  sort(): SortSpec | undefined {
    if (this.rng.chance(0.4)) return undefined;
    const sort: SortSpec = [];
    const fields = ["age", "city", "score", "nested.x", "email", "_id"];
    for (let i = this.rng.between(1, 2); i > 0; i--) {
      const f = this.rng.pick(fields);
      if (!sort.some(([p]) => p === f)) sort.push([f, this.rng.chance(0.5) ? 1 : -1]);
    }
    return sort;
  }
}

// ---------------------------------------------------------------------------------------------
// Comparing

type Got = { ok: true; value: unknown } | { ok: false; error: unknown };

async function attempt(fn: () => Promise<unknown>): Promise<Got> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

const ERROR_CLASS = { validation: ValidationError, unique: UniqueConstraintError, invalid: InvalidArgumentError } as const;

function expectSameOutcome(label: string, got: Got, want: Outcome<unknown>, model: DocModel): void {
  if (want.ok) {
    expect(got.ok ? undefined : got.error, `${label}: the database failed where the model succeeded`).toBeUndefined();
    expect((got as { value: unknown }).value, label).toEqual(want.value);
    return;
  }
  expect(got.ok, `${label}: the database succeeded where the model expected ${want.kinds.join("/")}`).toBe(false);
  const error = (got as { error: unknown }).error;
  const kind = want.kinds.find((k) => error instanceof ERROR_CLASS[k]);
  expect(kind, `${label}: expected ${want.kinds.join("/")}, got ${String(error)}`).toBeDefined();
  if (kind === "unique" && want.unique !== undefined) {
    const u = error as UniqueConstraintError;
    expect(u.index, label).toBe(want.unique.index);
    const holders = want.unique.holders.get(Array.isArray(u.value) ? u.value.map(canon).join(",") : canon(u.value));
    expect(holders, `${label}: reported value ${JSON.stringify(u.value)} is not a clashing value`).toBeDefined();
    // A clash inside one insertMany names the earlier document of the batch, whose generated id
    // the model (which saw the batch fail) never learns: any id not stored will do then.
    const generated = [...holders!].some((h) => h.startsWith("fresh-")) && !model.docs.has(u.existingId);
    if (!generated) expect([...holders!], `${label}: existingId`).toContain(u.existingId);
  }
}

function wrote(want: Outcome<unknown>): boolean {
  if (!want.ok) return false;
  const v = want.value;
  if (v === undefined || v === false || v === 0) return false;
  if (Array.isArray(v) && v.length === 0) return false;
  return true;
}

function sortEndsUnique(sort: SortSpec | undefined): boolean {
  const last = sort?.at(-1)?.[0];
  return last === "_id" || last === "email";
}

async function compareQuery(label: string, coll: Loose, model: DocModel, filter: Obj, sort: SortSpec | undefined, skip: number | undefined, limit: number | undefined): Promise<void> {
  const options: Obj = {};
  if (sort) options.sort = Object.fromEntries(sort);
  if (skip !== undefined) options.skip = skip;
  if (limit !== undefined) options.limit = limit;
  const where = `${label}: find(${JSON.stringify(filter)}, ${JSON.stringify(options)}) [${coll.find(filter, options).explain().strategy}]`;
  const got = (await coll.find(filter, options).toArray()) as ModelDoc[];
  const want = model.query(filter, { sort, skip, limit });
  const all = new Map(model.query(filter).map((d) => [d._id, d]));
  expect(got.length, `${where}: count`).toBe(want.length);
  expect(new Set(got.map((d) => d._id)).size, `${where}: duplicates`).toBe(got.length);
  for (const d of got) expect(d, `${where}: ${d._id} is not a match, or differs from the model`).toEqual(all.get(d._id));
  if (sortEndsUnique(sort)) {
    expect(got.map((d) => d._id), where).toEqual(want.map((d) => d._id));
  } else if (sort) {
    expect(got.map((d) => sortTuple(d, sort)), `${where}: sort keys`).toEqual(want.map((d) => sortTuple(d, sort)));
  } else if (skip === undefined && limit === undefined) {
    expect(got.map((d) => d._id).sort(), where).toEqual(want.map((d) => d._id).sort());
  }
  expect(await coll.count(filter), `${where}: count()`).toBe(all.size);
}

async function checkKeyspace(label: string, dir: string, model: DocModel): Promise<void> {
  const engine = await Engine.open(dir);
  try {
    const raw = readKeyspace(engine);
    const items = raw.collections.get("items");
    expect(items, label).toBeDefined();
    expect(keyspaceProblems(raw), `${label}: raw keyspace`).toEqual([]);
    expect([...items!.indexes.values()].map((i) => `${i.name}:${i.state}`).sort(), label).toEqual(INDEXES.map((i) => `${i.name}:ready`).sort());
    const rawDocs = [...items!.docs.values()].sort((a, b) => (a._id < b._id ? -1 : 1));
    const modelDocs = [...model.docs.values()].sort((a, b) => (a._id < b._id ? -1 : 1));
    expect(rawDocs, `${label}: stored documents`).toEqual(modelDocs);
  } finally {
    await engine.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The run

async function run(seed: number): Promise<void> {
  const rng = new Rng(seed);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lsmdoc-model-"));
  dirs.push(dir);
  const model = new DocModel({ validate: validateItem, indexes: INDEXES });
  const gen = new Gen(rng.fork(), model);
  let fresh = 0;

  const openDb = async (): Promise<{ db: Database; coll: Loose }> => {
    const memtableSize = rng.pick([undefined, 64 * 1024, 16 * 1024]);
    const db = await open(dir, { sync: rng.chance(0.2), ...(memtableSize ? { memtableSize } : {}) });
    dbs.push(db);
    const coll = db.collection("items", Item, { indexes: INDEXES.map(({ fields, unique, name }) => ({ fields, unique, name })) as Loose });
    await coll.ready();
    return { db, coll };
  };
  let { db, coll } = await openDb();

  for (let op = 0; op < OPS; op++) {
    const label = `seed ${seed} op ${op}`;
    const seq = db.stats().engine.seq;
    const r = rng.float();
    let got: Got | undefined;
    let want: Outcome<unknown> | undefined;
    let what = "";
    if (r < 0.22) {
      const doc = gen.doc();
      what = `insert ${JSON.stringify(doc)}`;
      got = await attempt(() => coll.insert(doc));
      const id = got.ok ? (got.value as ModelDoc)._id : ((doc._id as string | undefined) ?? `fresh-${fresh++}`);
      want = model.insert(doc, id);
    } else if (r < 0.3) {
      const docs = Array.from({ length: rng.int(8) }, () => gen.doc(0.03));
      what = `insertMany ${JSON.stringify(docs)}`;
      got = await attempt(() => coll.insertMany(docs));
      const ids = got.ok ? (got.value as ModelDoc[]).map((d) => d._id) : docs.map((d) => (d._id as string | undefined) ?? `fresh-${fresh++}`);
      want = model.insertMany(docs, ids);
    } else if (r < 0.48) {
      const id = gen.id();
      const update = gen.update();
      what = `update ${id} ${JSON.stringify(update)}`;
      got = await attempt(() => coll.update(id, update));
      want = model.update(id, update);
    } else if (r < 0.55) {
      const filter = gen.filter();
      const update = gen.update();
      what = `updateMany ${JSON.stringify(filter)} ${JSON.stringify(update)}`;
      got = await attempt(() => coll.updateMany(filter, update));
      want = model.updateMany(filter, update);
    } else if (r < 0.62) {
      const id = gen.id();
      const doc = gen.doc();
      if (rng.chance(0.8)) delete doc._id;
      else doc._id = id;
      what = `replace ${id} ${JSON.stringify(doc)}`;
      got = await attempt(() => coll.replace(id, doc));
      want = model.replace(id, doc);
    } else if (r < 0.69) {
      const id = gen.id();
      what = `delete ${id}`;
      got = await attempt(() => coll.delete(id));
      want = model.delete(id);
    } else if (r < 0.71 || (r < 0.74 && model.docs.size > 400)) {
      // Mostly narrow: random filters often match nearly everything.
      const filter = model.docs.size > 400 ? gen.filter() : gen.equality();
      what = `deleteMany ${JSON.stringify(filter)}`;
      got = await attempt(() => coll.deleteMany(filter));
      want = model.deleteMany(filter);
    } else {
      const filter = gen.filter();
      const sort = gen.sort();
      const skip = rng.chance(0.2) ? rng.int(10) : undefined;
      const limit = rng.chance(0.3) ? rng.int(15) : undefined;
      if (rng.chance(0.15)) {
        const one = await coll.findOne(filter, sort ? { sort: Object.fromEntries(sort) } : {});
        const first = model.query(filter, { sort, limit: 1 })[0];
        if (sortEndsUnique(sort)) expect(one, `${label}: findOne(${JSON.stringify(filter)})`).toEqual(first);
        else expect(one === undefined, `${label}: findOne(${JSON.stringify(filter)})`).toBe(first === undefined);
      } else {
        await compareQuery(label, coll, model, filter, sort, skip, limit);
      }
    }
    if (got !== undefined && want !== undefined) {
      expectSameOutcome(`${label}: ${what}`, got, want, model);
      expect(db.stats().engine.seq, `${label}: ${what}: seq must move by one per write, zero otherwise`).toBe(seq + (wrote(want) ? 1 : 0));
    }

    if ((op + 1) % PHASE === 0 || op === OPS - 1) {
      if (rng.chance(0.3)) await db.compact();
      await db.close();
      await checkKeyspace(`${label} (end of phase)`, dir, model);
      ({ db, coll } = await openDb());
      // A full scan after reopening must show the model's documents.
      await compareQuery(`${label} (reopened)`, coll, model, {}, [["_id", 1]], undefined, undefined);
    }
  }
  await db.close();
}

describe("the model itself", () => {
  // The model is the reference, so it is checked by hand first, on the semantics most easily
  // gotten wrong: missing vs null, arrays, type brackets, negations.
  const docs: ModelDoc[] = [
    { _id: "a", email: "a", age: 5, tags: ["x", "y"], score: 1 },
    { _id: "b", email: "b", age: "5", tags: [], score: 2, nested: { x: 1 } },
    { _id: "c", email: "c", age: null, tags: ["y"], score: 3, nested: { x: 2, y: "p" } },
    { _id: "d", email: "d", tags: ["x"], score: 4 },
  ];
  const model = new DocModel({ validate: validateItem, indexes: INDEXES });
  model.insertMany(docs, docs.map((d) => d._id));
  const CASES: Array<[Obj, string[]]> = [
    [{ age: 5 }, ["a"]],
    [{ age: { $gt: 4 } }, ["a"]],
    [{ age: { $gte: "5" } }, ["b"]],
    [{ age: null }, ["c", "d"]],
    [{ age: { $lte: null } }, ["c", "d"]],
    [{ age: { $lt: null } }, []],
    [{ age: { $exists: true } }, ["a", "b", "c"]],
    [{ age: { $ne: 5 } }, ["b", "c", "d"]],
    [{ age: { $nin: [5, null] } }, ["b"]],
    [{ age: { $not: { $gt: 1 } } }, ["b", "c", "d"]],
    [{ tags: "x" }, ["a", "d"]],
    [{ tags: ["x", "y"] }, ["a"]],
    [{ tags: [] }, ["b"]],
    [{ tags: { $gt: "x" } }, ["a", "c"]],
    [{ "nested.x": { $gte: 1 } }, ["b", "c"]],
    [{ "nested.y": { $exists: false } }, ["a", "b", "d"]],
    [{ $or: [{ score: 1 }, { "nested.y": "p" }] }, ["a", "c"]],
    [{ $nor: [{ score: 1 }, { "nested.y": "p" }] }, ["b", "d"]],
    [{ $and: [{ score: { $gt: 1 } }, { score: { $lt: 4 } }] }, ["b", "c"]],
  ];
  it("matches hand-checked cases", () => {
    for (const [filter, expected] of CASES) expect(model.query(filter).map((d) => d._id), JSON.stringify(filter)).toEqual(expected);
  });
  it("sorts missing and null first, then by type, and arrays by their extreme element", () => {
    expect(model.query({}, { sort: [["age", 1]] }).map((d) => d._id)).toEqual(["c", "d", "a", "b"]);
    expect(model.query({}, { sort: [["age", -1]] }).map((d) => d._id)).toEqual(["b", "a", "c", "d"]);
    expect(model.query({}, { sort: [["tags", 1]] }).map((d) => d._id)).toEqual(["b", "a", "d", "c"]);
    expect(model.query({}, { sort: [["tags", -1]] }).map((d) => d._id)).toEqual(["a", "c", "d", "b"]);
  });
  it("refuses unique clashes, missing values included", () => {
    const m = new DocModel({ validate: validateItem, indexes: INDEXES });
    expect(m.insert({ email: "a" }, "1").ok).toBe(true);
    const clash = m.insert({ email: "a" }, "2");
    expect(clash.ok).toBe(false);
    expect(!clash.ok && clash.unique?.index).toBe("email");
    expect(m.updateMany({}, { $set: { email: "z" } }).ok).toBe(true);
    expect(m.insertMany([{ email: "p" }, { email: "p" }], ["3", "4"]).ok).toBe(false);
    expect(m.docs.size).toBe(1);
  });
});

describe("collections against an in-memory model", () => {
  for (const seed of SEEDS) {
    it(`random operations (seed ${seed})`, { timeout: SOAK ? 1_800_000 : 60_000 }, async () => {
      await run(seed);
    });
  }
});
