/**
 * The query planner through `explain()` (SPEC §3): primaryKey for `_id` equality, `$in` and
 * ranges; an index for equality on a unique index, an equality prefix plus a range on a compound
 * index, `$in` as several key ranges, a range on a multikey index; sorts streamed from an index
 * (forwards and backwards) or done in memory; collectionScan when no index applies and for `$or`.
 *
 * Every plan must return what a collection scan returns: the same documents live in an indexed
 * collection and in a copy without indexes, and fixed plus seeded random queries run on both.
 * Results are compared as id sets, and in exact order when the sort ends in a unique field.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { open, z, type Database } from "../../src/index.js";
import { Rng, testSeeds } from "../fixtures/random.js";

const Doc = z.object({
  email: z.string(),
  age: z.number().nullable().optional(),
  city: z.string().optional(),
  tags: z.array(z.string()).default([]),
  flag: z.boolean().optional(),
  when: z.date().optional(),
  n: z.number(),
  address: z.object({ city: z.string() }).optional(),
});

const INDEXES = [
  { fields: ["email"], unique: true },
  { fields: ["age"] },
  { fields: ["city", "age"] },
  { fields: ["tags"] },
  { fields: ["flag"] },
  { fields: ["when"] },
  { fields: ["n"] },
  { fields: ["address.city"] },
] as const;

const CITIES = ["Berlin", "London", "Lyon", "Paris", "Oslo"];
const TAGS = ["a", "b", "c", "d", "e"];

/** Generated filters and options are checked at runtime, not by the schema types. */
type Loose = any;

let dir: string;
let db: Database;
let indexed: Loose;
let plain: Loose;

function makeDocs(rng: Rng, count: number): Array<Record<string, unknown>> {
  const docs: Array<Record<string, unknown>> = [];
  for (let i = 0; i < count; i++) {
    const d: Record<string, unknown> = { _id: `d${String(i).padStart(4, "0")}`, email: `user${i}@x.io`, n: rng.chance(0.2) ? -rng.int(50) - 0.5 : rng.int(100) };
    if (rng.chance(0.85)) d.age = rng.chance(0.05) ? null : rng.between(18, 70);
    if (rng.chance(0.9)) d.city = rng.pick(CITIES);
    const tags = Array.from({ length: rng.int(4) }, () => rng.pick(TAGS));
    if (rng.chance(0.9)) d.tags = tags;
    if (rng.chance(0.7)) d.flag = rng.chance(0.5);
    if (rng.chance(0.6)) d.when = new Date(Date.UTC(2020, 0, 1) + rng.int(1000) * 86_400_000);
    if (rng.chance(0.5)) d.address = { city: rng.pick(CITIES) };
    docs.push(d);
  }
  return docs;
}

const DATA_SEED = 0x5eed;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lsmdoc-planner-"));
  db = await open(dir, { sync: false });
  indexed = db.collection("indexed", Doc, { indexes: INDEXES });
  plain = db.collection("plain", Doc);
  const docs = makeDocs(new Rng(DATA_SEED), 400);
  await indexed.insertMany(docs);
  await plain.insertMany(docs);
});

afterAll(async () => {
  await db?.close().catch(() => undefined);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const ids = (docs: Array<{ _id: string }>): string[] => docs.map((d) => d._id);

/** Runs the query on both collections; compares ids (exact order when `ordered`). */
async function sameAsScan(filter: Loose, options: Loose = {}, label = JSON.stringify({ filter, options })): Promise<string[]> {
  const a = ids(await indexed.find(filter, options).toArray());
  const b = ids(await plain.find(filter, options).toArray());
  expect(plain.find(filter, options).explain().strategy, label).not.toBe("index");
  // Without a sort, or with ties, the order (and so what skip/limit cut) depends on the plan.
  const sortKeys = Object.keys(options.sort ?? {});
  const ordered = sortKeys.at(-1) === "_id" || sortKeys.at(-1) === "email";
  if (ordered) expect(a, label).toEqual(b);
  else if (options.limit === undefined && options.skip === undefined) expect([...a].sort(), label).toEqual([...b].sort());
  else expect(a.length, label).toBe(b.length);
  expect(await indexed.count(filter), `count ${label}`).toBe(await plain.count(filter));
  return a;
}

describe("explain", () => {
  it("_id equality, $in and ranges use the primary key", () => {
    const eq = indexed.find({ _id: "d0005" }).explain();
    expect(eq).toMatchObject({ strategy: "primaryKey", index: undefined, sortInMemory: false });
    expect(eq.bounds).toEqual([{ field: "_id", equals: ["d0005"] }]);
    expect(eq.keyRanges).toHaveLength(1);

    const inList = indexed.find({ _id: { $in: ["d0009", "d0001", "d0005", "d0001"] } }).explain();
    expect(inList.strategy).toBe("primaryKey");
    expect(inList.keyRanges).toHaveLength(3);
    // Key ranges come in key order.
    expect(inList.keyRanges.map((r: { gte: string }) => r.gte)).toEqual([...inList.keyRanges.map((r: { gte: string }) => r.gte)].sort());

    const range = indexed.find({ _id: { $gte: "d0100", $lt: "d0200" }, city: "London" }).explain();
    expect(range).toMatchObject({ strategy: "primaryKey", bounds: [{ field: "_id", range: { gte: "d0100", lt: "d0200" } }] });
    expect(range.keyRanges).toHaveLength(1);
    expect(indexed.find({ _id: { $gt: "d0390" } }, { sort: { _id: -1 } }).explain()).toMatchObject({ strategy: "primaryKey", reverse: true, sortInMemory: false });
  });

  it("equality on a unique index, compound prefix + range, $in key ranges", () => {
    expect(indexed.find({ email: "user7@x.io" }).explain()).toMatchObject({ strategy: "index", index: "email", bounds: [{ field: "email", equals: ["user7@x.io"] }] });
    // The unique index wins over a range on another index.
    expect(indexed.find({ email: "user7@x.io", age: { $gt: 20 } }).explain().index).toBe("email");

    const compound = indexed.find({ city: "London", age: { $gt: 30, $lte: 50 } }).explain();
    expect(compound).toMatchObject({
      strategy: "index",
      index: "city_age",
      bounds: [
        { field: "city", equals: ["London"] },
        { field: "age", range: { gt: 30, lte: 50 } },
      ],
    });
    expect(compound.keyRanges).toHaveLength(1);

    const inCities = indexed.find({ city: { $in: ["Paris", "London", "Oslo"] }, age: 40 }).explain();
    expect(inCities).toMatchObject({ strategy: "index", index: "city_age" });
    expect(inCities.keyRanges).toHaveLength(3);
    expect(inCities.bounds[0]).toEqual({ field: "city", equals: ["Paris", "London", "Oslo"] });

    expect(indexed.find({ age: { $in: [20, 30] } }).explain()).toMatchObject({ strategy: "index", index: "age" });
    expect(indexed.find({ age: { $in: [20, 30] } }).explain().keyRanges).toHaveLength(2);
    expect(indexed.find({ "address.city": "Lyon" }).explain()).toMatchObject({ strategy: "index", index: "address.city" });
    expect(indexed.find({ when: { $gte: new Date(Date.UTC(2021, 0, 1)) } }).explain()).toMatchObject({ strategy: "index", index: "when" });
  });

  it("a sort served by an index streams (forwards or backwards); others sort in memory", () => {
    expect(indexed.find({ city: "London" }, { sort: { age: 1 } }).explain()).toMatchObject({ index: "city_age", sortInMemory: false, reverse: false });
    expect(indexed.find({ city: "London" }, { sort: { age: -1 } }).explain()).toMatchObject({ index: "city_age", sortInMemory: false, reverse: true });
    expect(indexed.find({ city: "London" }, { sort: { city: 1, age: 1 } }).explain()).toMatchObject({ index: "city_age", sortInMemory: false });
    expect(indexed.find({ age: { $gt: 30 } }, { sort: { age: 1 } }).explain()).toMatchObject({ index: "age", sortInMemory: false });
    expect(indexed.find({}, { sort: { n: -1 }, limit: 5 }).explain()).toMatchObject({ strategy: "index", index: "n", sortInMemory: false, reverse: true });
    expect(indexed.find({ city: "London" }, { sort: { email: 1 } }).explain()).toMatchObject({ sortInMemory: true });
    expect(indexed.find({ city: { $in: ["London", "Paris"] } }, { sort: { age: 1 } }).explain()).toMatchObject({ sortInMemory: true });
    expect(indexed.find({ city: "London" }, { sort: { age: 1, n: 1 } }).explain()).toMatchObject({ sortInMemory: true });
    expect(indexed.find({}, { sort: { age: 1, city: -1 } }).explain()).toMatchObject({ sortInMemory: true });
    // A multikey index cannot yield an order.
    expect(indexed.find({}, { sort: { tags: 1 } }).explain()).toMatchObject({ sortInMemory: true });
  });

  it("collectionScan when no index applies, and for $or", () => {
    for (const filter of [{}, { "address.zip": "x" }, { age: { $ne: 30 } }, { city: { $exists: true } }, { $or: [{ city: "London" }, { age: 30 }] }, { tags: ["a", "b"] }]) {
      expect(indexed.find(filter).explain().strategy, JSON.stringify(filter)).toBe("collectionScan");
    }
    expect(indexed.find({ name: "x" } as Loose).explain().residualFilter).toEqual({ name: "x" });
  });

  it("a range on a multikey index uses one bound and re-checks each document", async () => {
    expect(indexed.indexes().find((i: { name: string }) => i.name === "tags").multikey).toBe(true);
    const plan = indexed.find({ tags: { $gt: "b", $lt: "d" } }).explain();
    expect(plan.strategy).toBe("index");
    expect(plan.index).toBe("tags");
    expect(plan.bounds).toHaveLength(1);
    expect(Object.keys(plan.bounds[0].range)).toHaveLength(1);
    // {tags: ["a", "e"]} matches: "e" > "b" and "a" < "d", by different elements.
    await indexed.insert({ _id: "zz-ae", email: "ae@x", n: 0, tags: ["a", "e"] });
    await plain.insert({ _id: "zz-ae", email: "ae@x", n: 0, tags: ["a", "e"] });
    try {
      const found = await sameAsScan({ tags: { $gt: "b", $lt: "d" } });
      expect(found).toContain("zz-ae");
      expect(await sameAsScan({ tags: { $gte: "c", $lte: "c" } })).toContain("zz-ae"); // also by different elements
      expect(await sameAsScan({ tags: { $gt: "e" } })).not.toContain("zz-ae");
      expect(await sameAsScan({ tags: "c" })).not.toContain("zz-ae");
    } finally {
      await indexed.delete("zz-ae");
      await plain.delete("zz-ae");
    }
  });
});

describe("edge values through an index", () => {
  it("zero bytes, unicode, extreme and negative numbers match and sort as in a scan", async () => {
    const S = z.object({ s: z.string(), n: z.number() });
    const idx = db.collection("edge-indexed", S, { indexes: [{ fields: ["s"] }, { fields: ["n"] }, { fields: ["s", "n"] }] }) as Loose;
    const scan = db.collection("edge-plain", S) as Loose;
    const strings = ["", "a", "a\u0000", "a\u0000b", "a\u0001", "a\u00ff", "ab", "é", "\uffff", "😀", "Z", "\u0000"];
    const numbers = [-Number.MAX_VALUE, -1e300, -1.5, -1, -Number.MIN_VALUE, 0, Number.MIN_VALUE, 1e-300, 0.1, 1, 2 ** 53, 1e300, Number.MAX_VALUE];
    const docs = strings.flatMap((s, i) => numbers.filter((_, j) => (i + j) % 3 === 0).map((n, j) => ({ _id: `e${i}-${j}`, s, n })));
    await idx.insertMany(docs);
    await scan.insertMany(docs);
    const queries: Array<[Loose, Loose]> = [];
    for (const s of strings) {
      queries.push([{ s }, { sort: { n: 1, _id: 1 } }]);
      queries.push([{ s: { $gt: s } }, { sort: { s: 1, _id: 1 } }]);
      queries.push([{ s: { $lte: s } }, { sort: { s: -1, _id: 1 } }]);
    }
    for (const n of numbers) {
      queries.push([{ n }, { sort: { _id: 1 } }]);
      queries.push([{ n: { $gte: n } }, { sort: { n: 1, _id: 1 } }]);
      queries.push([{ n: { $lt: n }, s: { $in: ["a\u0000", "😀", ""] } }, { sort: { n: -1, _id: 1 } }]);
    }
    for (const [filter, options] of queries) {
      const label = JSON.stringify({ filter, options });
      expect(idx.find(filter, options).explain().strategy, label).toBe("index");
      expect(ids(await idx.find(filter, options).toArray()), label).toEqual(ids(await scan.find(filter, options).toArray()));
    }
    // Streamed from the index: the key order must be the sort order.
    expect((await idx.find({}, { sort: { s: 1 } }).toArray()).map((d: { s: string }) => d.s)).toEqual(
      (await scan.find({}, { sort: { s: 1, _id: 1 } }).toArray()).map((d: { s: string }) => d.s),
    );
    expect(idx.find({}, { sort: { s: 1 } }).explain().sortInMemory).toBe(false);
  });
});

describe("every plan returns what a scan returns", () => {
  const FIXED: Array<[Loose, Loose?]> = [
    [{ _id: "d0005" }],
    [{ _id: { $in: ["d0009", "d0001", "nope"] } }],
    [{ _id: { $gte: "d0100", $lt: "d0120" } }, { sort: { _id: -1 } }],
    [{ _id: { $gt: "d0100" }, city: "Paris" }, { sort: { age: 1, _id: 1 } }],
    [{ email: "user7@x.io" }],
    [{ email: { $in: ["user1@x.io", "user2@x.io", "zzz"] } }],
    [{ age: null }],
    [{ age: { $gte: null } }],
    [{ age: { $gt: 30, $lt: 40 } }],
    [{ age: { $gte: 30 } }, { sort: { age: -1, _id: 1 }, limit: 7 }],
    [{ city: "London", age: { $gt: 30 } }, { sort: { age: -1 } }],
    [{ city: "London" }, { sort: { age: 1 }, skip: 3, limit: 5 }],
    [{ city: { $in: ["Paris", "Oslo"] }, age: { $lt: 25 } }],
    [{ city: { $gt: "L", $lt: "M" } }],
    [{ tags: "a" }],
    [{ tags: { $in: ["a", "e"] } }],
    [{ tags: { $gt: "c" } }],
    [{ tags: { $gte: "b", $lte: "b" }, city: "Lyon" }],
    [{ flag: false }],
    [{ flag: { $gte: false } }],
    [{ flag: { $lt: true } }],
    [{ when: { $lt: new Date(Date.UTC(2020, 6, 1)) } }, { sort: { when: 1, _id: 1 } }],
    [{ n: { $lt: 0 } }, { sort: { n: 1, _id: 1 } }],
    [{ n: { $gt: -10.5, $lte: 3 } }],
    [{ n: { $gt: "a" } }],
    [{ "address.city": { $in: ["Lyon", "Oslo"] } }],
    [{ $and: [{ age: { $gt: 20 } }, { age: { $lt: 25 } }] }],
    [{ $or: [{ city: "Berlin" }, { tags: "e" }] }, { sort: { email: 1 } }],
    [{}, { sort: { n: -1, email: 1 }, limit: 10 }],
    [{}, { sort: { n: 1 }, limit: 10 }],
    [{ age: { $exists: false } }, { sort: { age: 1 } }],
  ];

  it("fixed queries", async () => {
    for (const [filter, options] of FIXED) await sameAsScan(filter, options);
  });

  for (const seed of testSeeds(1)) {
    it(`random queries (seed ${seed})`, async () => {
      const rng = new Rng(seed);
      const fieldCond = (): [string, unknown] => {
        const field = rng.pick(["age", "city", "tags", "flag", "n", "email", "address.city", "_id", "when"]);
        const value = (): unknown => {
          switch (field) {
            case "age":
              return rng.chance(0.1) ? null : rng.between(15, 75);
            case "city":
            case "address.city":
              return rng.pick([...CITIES, "Zurich"]);
            case "tags":
              return rng.pick([...TAGS, "z"]);
            case "flag":
              return rng.chance(0.5);
            case "n":
              return rng.int(120) - 60 + (rng.chance(0.3) ? 0.5 : 0);
            case "email":
              return `user${rng.int(450)}@x.io`;
            case "when":
              return new Date(Date.UTC(2020, 0, 1) + rng.int(1100) * 86_400_000);
            default:
              return `d${String(rng.int(450)).padStart(4, "0")}`;
          }
        };
        switch (rng.int(6)) {
          case 0:
            return [field, value()];
          case 1:
            return [field, { $in: Array.from({ length: rng.between(1, 4) }, value) }];
          case 2:
            return [field, { [rng.pick(["$gt", "$gte"])]: value() }];
          case 3:
            return [field, { [rng.pick(["$lt", "$lte"])]: value() }];
          case 4:
            return [field, { [rng.pick(["$gt", "$gte"])]: value(), [rng.pick(["$lt", "$lte"])]: value() }];
          default:
            return [field, rng.pick([{ $ne: value() }, { $nin: [value()] }, { $exists: rng.chance(0.5) }, { $not: { $gt: value() } }])];
        }
      };
      for (let q = 0; q < 150; q++) {
        const filter: Record<string, unknown> = {};
        const n = rng.between(0, 3);
        for (let i = 0; i < n; i++) {
          const [f, cond] = fieldCond();
          if (f in filter) filter.$and = [...((filter.$and as unknown[]) ?? []), { [f]: cond }];
          else filter[f] = cond;
        }
        const options: Record<string, unknown> = {};
        if (rng.chance(0.5)) {
          const sort: Record<string, 1 | -1> = {};
          for (let i = rng.between(1, 2); i > 0; i--) sort[rng.pick(["age", "city", "n", "when", "flag", "tags"])] = rng.chance(0.5) ? 1 : -1;
          if (rng.chance(0.5)) sort[rng.pick(["_id", "email"])] = rng.chance(0.5) ? 1 : -1;
          options.sort = sort;
        }
        if (rng.chance(0.3)) options.skip = rng.int(20);
        if (rng.chance(0.4)) options.limit = rng.int(30);
        await sameAsScan(filter, options, `seed ${seed} query ${q}: ${JSON.stringify({ filter, options })}`);
      }
    });
  }
});
