/**
 * Filters: hand-written cases for every operator and MongoDB's array and null rules, validation
 * errors, the sargable summary, and two seeded randomized checks: the matcher against a naive
 * reference written here (flat documents of scalars and flat arrays), and every sargable condition
 * against the key codec's ranges (a document the matcher accepts must have an index entry inside the
 * range the planner would scan). LSMDOC_SEED replays a run; the seed is in every assertion message.
 */
import { describe, expect, it } from "vitest";
import {
  compileElementMatcher,
  compileFilter,
  rangeBoundsFor,
  sargableConditions,
  validateFilter,
  type SargableCondition,
} from "../../collections/filter.js";
import { compareIndexValues, encodeIndexValue, inRange, keyRange, type IndexValue } from "../../collections/key-codec.js";
import { Rng, testSeeds } from "../fixtures/random.js";
import { expectInvalid } from "../fixtures/expect-helpers.js";

const matches = (filter: unknown, doc: unknown): boolean => compileFilter(filter).matches(doc);

// ---------------------------------------------------------------------------------------------
// Hand-written semantics

type Case = [filter: Record<string, unknown>, doc: Record<string, unknown>, expected: boolean];

function table(cases: Case[]): void {
  for (const [filter, doc, expected] of cases) {
    it(`${show(filter)} on ${show(doc)} -> ${expected}`, () => {
      expect(matches(filter, doc)).toBe(expected);
    });
  }
}

const d = (t: number): Date => new Date(t);
const bin = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe("equality", () => {
  table([
    [{}, {}, true],
    [{}, { a: 1 }, true],
    [{ a: 1 }, { a: 1 }, true],
    [{ a: 1 }, { a: 2 }, false],
    [{ a: 1 }, { a: "1" }, false],
    [{ a: 1 }, { a: true }, false],
    [{ a: 0 }, { a: -0 }, true],
    [{ a: 1 }, {}, false],
    [{ a: 1, b: 2 }, { a: 1, b: 2 }, true],
    [{ a: 1, b: 2 }, { a: 1, b: 3 }, false],
    [{ a: "x" }, { a: ["y", "x"] }, true],
    [{ a: "x" }, { a: ["y", "z"] }, false],
    [{ a: ["x", "y"] }, { a: ["x", "y"] }, true],
    [{ a: ["x", "y"] }, { a: ["y", "x"] }, false],
    [{ a: ["x"] }, { a: [["x"], "z"] }, true], // an element that is the whole array
    [{ a: "x" }, { a: [["x"]] }, false], // only one level of elements
    [{ a: [] }, { a: [] }, true],
    [{ a: [] }, { a: [[]] }, true],
    [{ a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } }, true], // key order is not significant
    [{ a: { x: 1 } }, { a: { x: 1, y: 2 } }, false], // whole-object equality, not subset
    [{ a: { x: 1 } }, { a: [{ x: 2 }, { x: 1 }] }, true],
    [{ a: d(5) }, { a: d(5) }, true],
    [{ a: d(5) }, { a: d(6) }, false],
    [{ a: d(5) }, { a: 5 }, false],
    [{ a: d(5) }, { a: [d(1), d(5)] }, true],
    [{ a: bin(1, 2) }, { a: Buffer.from([1, 2]) }, true],
    [{ a: bin(1, 2) }, { a: bin(1) }, false],
    [{ a: 7n }, { a: 7n }, true],
    [{ a: 7n }, { a: 7 }, false],
    [{ a: { $eq: 1 } }, { a: [3, 1] }, true],
    [{ a: { $eq: [3, 1] } }, { a: [3, 1] }, true],
    [{ a: { $eq: { x: [1] } } }, { a: { x: [1] } }, true],
  ]);
});

describe("null and missing", () => {
  table([
    [{ a: null }, {}, true],
    [{ a: null }, { a: null }, true],
    [{ a: null }, { a: undefined }, true],
    [{ a: null }, { a: 0 }, false],
    [{ a: null }, { a: [1, null] }, true],
    [{ a: null }, { a: [1] }, false],
    [{ a: null }, { a: [] }, false],
    [{ "a.b": null }, {}, true],
    [{ "a.b": null }, { a: 1 }, true],
    [{ "a.b": null }, { a: { b: 1 } }, false],
    [{ "a.b": null }, { a: [{ b: 1 }, { c: 1 }] }, true], // one element lacks b
    [{ "a.b": null }, { a: [{ b: 1 }, { b: 2 }] }, false],
    [{ "a.b": null }, { a: [1, 2] }, true], // no element has b: nothing reached
    [{ "a.b": null }, { a: [] }, true],
    [{ a: { $ne: null } }, {}, false],
    [{ a: { $ne: null } }, { a: 0 }, true],
    [{ a: { $ne: null } }, { a: [1, null] }, false],
    [{ a: { $in: [null, 5] } }, {}, true],
    [{ a: { $in: [null, 5] } }, { a: 5 }, true],
    [{ a: { $in: [null, 5] } }, { a: 6 }, false],
    [{ a: { $nin: [null] } }, {}, false],
    [{ a: { $nin: [null] } }, { a: 1 }, true],
    [{ a: { $gte: null } }, {}, true],
    [{ a: { $lte: null } }, { a: null }, true],
    [{ a: { $gte: null } }, { a: 1 }, false],
    [{ a: { $gt: null } }, {}, false],
    [{ a: { $gt: null } }, { a: null }, false],
    [{ a: { $lt: null } }, { a: null }, false],
    [{ a: { $lt: 1 } }, { a: null }, false], // null is not a number
    [{ a: { $lt: 1 } }, {}, false],
  ]);
});

describe("$ne and $nin negate $eq and $in", () => {
  table([
    [{ a: { $ne: 1 } }, { a: 2 }, true],
    [{ a: { $ne: 1 } }, { a: 1 }, false],
    [{ a: { $ne: 1 } }, {}, true],
    [{ a: { $ne: 1 } }, { a: [2, 3] }, true],
    [{ a: { $ne: 1 } }, { a: [2, 1] }, false],
    [{ a: { $ne: [1, 2] } }, { a: [1, 2] }, false],
    [{ a: { $ne: "1" } }, { a: 1 }, true],
    [{ a: { $in: [1, 2] } }, { a: 2 }, true],
    [{ a: { $in: [1, 2] } }, { a: [5, 2] }, true],
    [{ a: { $in: [1, 2] } }, { a: [5, 6] }, false],
    [{ a: { $in: [[5, 6]] } }, { a: [5, 6] }, true],
    [{ a: { $in: [] } }, { a: 1 }, false],
    [{ a: { $in: [d(3)] } }, { a: d(3) }, true],
    [{ a: { $nin: [1, 2] } }, { a: 3 }, true],
    [{ a: { $nin: [1, 2] } }, { a: [3, 2] }, false],
    [{ a: { $nin: [1, 2] } }, {}, true],
    [{ a: { $nin: [] } }, {}, true],
  ]);
});

describe("range operators", () => {
  table([
    [{ a: { $gt: 5 } }, { a: 6 }, true],
    [{ a: { $gt: 5 } }, { a: 5 }, false],
    [{ a: { $gte: 5 } }, { a: 5 }, true],
    [{ a: { $lt: 5 } }, { a: -Infinity }, true],
    [{ a: { $lte: 5 } }, { a: 5.0000001 }, false],
    [{ a: { $gt: 30 } }, { a: "40" }, false], // strings are not numbers
    [{ a: { $lt: "b" } }, { a: 1 }, false], // nor numbers strings
    [{ a: { $lt: "b" } }, { a: "a" }, true],
    [{ a: { $lt: "b" } }, { a: "B" }, true],
    [{ a: { $gt: "\uffff" } }, { a: "\u{1F600}" }, true], // UTF-8 byte order, not UTF-16 units
    [{ a: { $gt: d(10) } }, { a: d(11) }, true],
    [{ a: { $gt: d(10) } }, { a: 11 }, false],
    [{ a: { $gt: 10 } }, { a: d(11) }, false],
    [{ a: { $gt: false } }, { a: true }, true],
    [{ a: { $gt: false } }, { a: 1 }, false],
    [{ a: { $lt: bin(1, 0) } }, { a: bin(1) }, true],
    [{ a: { $lt: bin(1, 0) } }, { a: bin(0, 255) }, true],
    [{ a: { $lt: bin(1, 0) } }, { a: bin(1, 0, 0) }, false],
    [{ a: { $gt: 5n } }, { a: 6n }, true],
    [{ a: { $gt: 5n } }, { a: 6 }, false],
    [{ a: { $gt: 5 } }, { a: 6n }, false],
    [{ a: { $gt: 5 } }, { a: NaN }, false],
    [{ a: { $gt: d(0) } }, { a: new Date(NaN) }, false],
    [{ a: { $gt: 5 } }, { a: [1, 7] }, true],
    [{ a: { $gt: 5 } }, { a: [1, 2] }, false],
    [{ a: { $gt: 5 } }, { a: [[7]] }, false], // nested arrays are not elements of the bracket
    [{ a: { $gt: 5 } }, { a: { x: 9 } }, false],
    // each operator of a condition may be met by a different element
    [{ a: { $gt: 5, $lt: 10 } }, { a: [1, 20] }, true],
    [{ a: { $gt: 5, $lt: 10 } }, { a: 20 }, false],
    [{ a: { $gt: 5, $lt: 10 } }, { a: 7 }, true],
    [{ a: { $gt: 5, $lt: 10 } }, { a: [20, 30] }, false],
    [{ a: { $gt: 5, $lt: "z" } }, { a: [6, "a"] }, true],
    [{ a: { $gt: 5, $lt: "z" } }, { a: 6 }, false],
  ]);
});

describe("$exists", () => {
  table([
    [{ a: { $exists: true } }, { a: null }, true],
    [{ a: { $exists: true } }, { a: 0 }, true],
    [{ a: { $exists: true } }, { a: [] }, true],
    [{ a: { $exists: true } }, {}, false],
    [{ a: { $exists: true } }, { a: undefined }, false],
    [{ a: { $exists: false } }, {}, true],
    [{ a: { $exists: false } }, { a: null }, false],
    [{ "a.b": { $exists: true } }, { a: [{ c: 1 }, { b: null }] }, true],
    [{ "a.b": { $exists: true } }, { a: [{ c: 1 }] }, false],
    [{ "a.b": { $exists: false } }, { a: [1, 2] }, true],
    [{ a: { $exists: true, $ne: null } }, { a: null }, false],
    [{ a: { $exists: true, $ne: null } }, { a: 1 }, true],
  ]);
});

describe("$not", () => {
  table([
    [{ a: { $not: { $gt: 5 } } }, { a: 3 }, true],
    [{ a: { $not: { $gt: 5 } } }, { a: 7 }, false],
    [{ a: { $not: { $gt: 5 } } }, {}, true],
    [{ a: { $not: { $gt: 5 } } }, { a: "x" }, true],
    [{ a: { $not: { $gt: 5 } } }, { a: [1, 7] }, false],
    [{ a: { $not: { $gt: 5, $lt: 10 } } }, { a: 7 }, false],
    [{ a: { $not: { $gt: 5, $lt: 10 } } }, { a: 12 }, true],
    [{ a: { $not: { $eq: null } } }, {}, false],
    [{ a: { $not: { $in: [1, 2] } }, b: 1 }, { a: 3, b: 1 }, true],
  ]);
});

describe("dot paths", () => {
  const doc = {
    name: "x",
    address: { city: "Paris", geo: { lat: 1 } },
    items: [
      { sku: "a", qty: 1, tags: ["red"] },
      { sku: "b", qty: 5, tags: ["blue", "green"] },
    ],
    matrix: [[1, 2], [3]],
  };
  table([
    [{ "address.city": "Paris" }, doc, true],
    [{ "address.city": "Lyon" }, doc, false],
    [{ "address.geo.lat": { $gte: 1 } }, doc, true],
    [{ "address.zip": { $exists: false } }, doc, true],
    [{ "items.sku": "b" }, doc, true],
    [{ "items.sku": "c" }, doc, false],
    [{ "items.qty": { $gt: 4 } }, doc, true],
    [{ "items.qty": { $gt: 5 } }, doc, false],
    [{ "items.qty": { $gt: 2, $lt: 4 } }, doc, true], // no qty is in (2, 4), but 5 > 2 and 1 < 4
    [{ "items.qty": { $gt: 4, $lt: 2 } }, doc, true], // different elements: 5 > 4, 1 < 2
    [{ "items.tags": "green" }, doc, true],
    [{ "items.tags": ["blue", "green"] }, doc, true],
    [{ "items.0.sku": "a" }, doc, true],
    [{ "items.1.sku": "a" }, doc, false],
    [{ "items.2.sku": null }, doc, true],
    [{ "matrix.0": 2 }, doc, true],
    [{ "matrix.1": [3] }, doc, true],
    [{ "matrix.0.1": 2 }, doc, true],
    [{ "name.length": { $exists: false } }, doc, true],
  ]);
});

describe("$and, $or, $nor", () => {
  table([
    [{ $and: [{ a: 1 }, { b: 2 }] }, { a: 1, b: 2 }, true],
    [{ $and: [{ a: 1 }, { b: 2 }] }, { a: 1, b: 3 }, false],
    [{ $and: [{ a: 1 }, { a: 2 }] }, { a: [1, 2] }, true],
    [{ $and: [{ a: { $gt: 1 } }, { a: { $lt: 3 } }] }, { a: 2 }, true],
    [{ $or: [{ a: 1 }, { b: 2 }] }, { b: 2 }, true],
    [{ $or: [{ a: 1 }, { b: 2 }] }, { a: 2, b: 1 }, false],
    [{ $or: [{ a: 1 }], c: 3 }, { a: 1, c: 4 }, false],
    [{ $or: [{}] }, { a: 1 }, true],
    [{ $nor: [{ a: 1 }, { b: 2 }] }, { a: 2 }, true],
    [{ $nor: [{ a: 1 }, { b: 2 }] }, { b: 2 }, false],
    [{ $nor: [{ a: 1 }] }, {}, true],
    [{ $and: [{ $or: [{ a: 1 }, { a: 2 }] }, { $nor: [{ b: 1 }] }] }, { a: 2, b: 3 }, true],
    [{ $and: [{ $or: [{ a: 1 }, { a: 2 }] }, { $nor: [{ b: 1 }] }] }, { a: 2, b: 1 }, false],
  ]);
});

it("never mutates the document and can be reused", () => {
  const doc = Object.freeze({ a: Object.freeze([1, 2]), b: Object.freeze({ c: 3 }) });
  const f = compileFilter({ a: { $gt: 1 }, "b.c": 3, $or: [{ x: null }] });
  for (let i = 0; i < 3; i++) expect(f.matches(doc)).toBe(true);
  expect(f.matches({ a: [1], b: { c: 3 } })).toBe(false);
});

// ---------------------------------------------------------------------------------------------
// Validation

describe("validation errors", () => {
  const fn = (): number => 1;
  it.each<[string, unknown, string[]]>([
    ["a non-object filter", [{ a: 1 }], ["lsmdoc/filter", "plain object", "an array"]],
    ["a null filter", null, ["plain object", "null"]],
    ["an unknown top-level operator", { $where: "1" }, ['"$where"', "$and $or $nor"]],
    ["a field operator at the top level", { $gt: 1 }, ['"$gt"', "applies to a field"]],
    ["an unknown field operator", { a: { $elemMatch: {} } }, ['"a" › $elemMatch', "unknown operator", "$exists"]],
    ["$regex", { a: { $regex: "^x" } }, ["$regex", "not supported"]],
    ["a RegExp value", { a: /x/ }, ['"a"', "regular expressions"]],
    ["a logical operator under a field", { a: { $or: [{ b: 1 }] } }, ["$or", "top-level operator"]],
    ["$in not an array", { a: { $in: 5 } }, ['"a" › $in', "expects an array", "number 5"]],
    ["$nin not an array", { a: { $nin: "xy" } }, ["$nin", "expects an array"]],
    ["$and not an array", { $and: { a: 1 } }, ["$and", "non-empty array"]],
    ["empty $or", { $or: [] }, ["$or", "non-empty array"]],
    ["$nor of non-objects", { $nor: [{ a: 1 }, 5] }, ["$nor[1]", "filter objects", "number 5"]],
    ["$exists not boolean", { a: { $exists: 1 } }, ["$exists", "true or false", "number 1"]],
    ["$not with a value", { a: { $not: 5 } }, ["$not", "operator object", "number 5"]],
    ["$not with a plain object", { a: { $not: { b: 1 } } }, ["$not", "operator object"]],
    ["nested $not", { a: { $not: { $not: { $gt: 1 } } } }, ["$not", "nested"]],
    ["operators mixed with fields", { a: { $gt: 1, x: 2 } }, ['"a"', "plain fields", '"x"']],
    ["fields mixed with operators", { a: { x: 2, $gt: 1 } }, ["plain fields", '"x"']],
    ["NaN", { a: NaN }, ['"a"', "NaN"]],
    ["NaN in $in", { a: { $in: [1, NaN] } }, ["$in[1]", "NaN"]],
    ["NaN range", { a: { $gt: NaN } }, ["$gt", "NaN"]],
    ["NaN deep in $or", { $or: [{ b: 1 }, { a: { $ne: { x: [NaN] } } }] }, ["$or[1]", '"a" › $ne', "NaN"]],
    ["a function", { a: fn }, ["function"]],
    ["undefined", { a: undefined }, ['"a"', "undefined"]],
    ["an invalid Date", { a: { $lt: new Date(NaN) } }, ["invalid Date"]],
    ["an array range operand", { a: { $gt: [1] } }, ["$gt", "compares with", "an array"]],
    ["an object range operand", { a: { $lte: { x: 1 } } }, ["$lte", "an object"]],
    ["an operator inside an equality value", { a: { b: { $gt: 1 } } }, ['"$gt"', "misplaced"]],
    ["an empty path", { "": 1 }, ["invalid field path", "empty"]],
    ["a trailing dot", { "a.": 1 }, ["ends with a dot"]],
    ["a $ segment", { "a.$": 1 }, ['"$"']],
    ["__proto__ path", JSON.parse('{"__proto__": 1}'), ["__proto__"]],
    ["constructor path", { "a.constructor": 1 }, ["constructor"]],
    ["a bad path inside $and", { $and: [{ "x..y": 1 }] }, ["$and[0]", "empty segment"]],
  ])("refuses %s", (_name, filter, fragments) => {
    expectInvalid(() => compileFilter(filter), ...fragments);
    expectInvalid(() => validateFilter(filter), ...fragments);
    expectInvalid(() => sargableConditions(filter), ...fragments);
  });

  it("accepts every supported operator", () => {
    expect(() =>
      validateFilter({
        a: { $eq: 1, $ne: 2, $gt: 0, $gte: 0, $lt: 9, $lte: 9, $in: [1], $nin: [3], $exists: true, $not: { $eq: 5 } },
        b: { x: [1, { y: null }] },
        $and: [{ c: 1 }],
        $or: [{ c: 2 }],
        $nor: [{ c: 3 }],
      }),
    ).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// Sargable summary

describe("sargable conditions", () => {
  it("lists equality, $in and one bound per range operator, with paths as written", () => {
    const s = sargableConditions({
      city: "London",
      age: { $gte: 30, $lt: 40 },
      "address.zip": { $in: ["1", "2"] },
      joined: { $eq: d(5) },
      email: { $exists: true },
      nick: { $ne: "x" },
    });
    expect(s.conjunctive).toBe(true);
    expect(s.conditions).toEqual([
      { path: "city", op: "eq", value: "London" },
      { path: "age", op: "range", bounds: { gte: 30 } },
      { path: "age", op: "range", bounds: { lt: 40 } },
      { path: "address.zip", op: "in", values: ["1", "2"] },
      { path: "joined", op: "eq", value: d(5) },
    ]);
  });

  it("includes top-level $and, recursively, and marks $or/$nor as not conjunctive", () => {
    expect(sargableConditions({ $and: [{ a: 1 }, { $and: [{ b: { $gt: 2 } }] }] })).toEqual({
      conjunctive: true,
      conditions: [
        { path: "a", op: "eq", value: 1 },
        { path: "b", op: "range", bounds: { gt: 2 } },
      ],
    });
    const withOr = sargableConditions({ a: 1, $or: [{ b: 1 }, { c: 1 }] });
    expect(withOr).toEqual({ conjunctive: false, conditions: [{ path: "a", op: "eq", value: 1 }] });
    expect(sargableConditions({ $and: [{ $nor: [{ b: 1 }] }] }).conjunctive).toBe(false);
    expect(compileFilter({ a: 1 }).sargable).toEqual(sargableConditions({ a: 1 }));
  });

  it("leaves out what an index cannot serve", () => {
    const s = sargableConditions({
      a: { x: 1 },
      b: [1, 2],
      c: { $in: [1, [2]] },
      e: { $not: { $gt: 1 } },
      f: { $nin: [1] },
      g: 5n,
      h: { $gt: 5n },
    });
    expect(s).toEqual({ conjunctive: true, conditions: [] });
  });

  it("keeps null conditions, which an index serves through its null entries", () => {
    expect(sargableConditions({ a: null, b: { $gte: null } }).conditions).toEqual([
      { path: "a", op: "eq", value: null },
      { path: "b", op: "range", bounds: { gte: null } },
    ]);
  });

  it("rangeBoundsFor intersects the bounds on one path", () => {
    const c = (bounds: object): SargableCondition => ({ path: "a", op: "range", bounds });
    expect(rangeBoundsFor([], "a")).toBeUndefined();
    expect(rangeBoundsFor([{ path: "b", op: "range", bounds: { gt: 1 } }], "a")).toBeUndefined();
    expect(rangeBoundsFor([c({ gt: 1 }), c({ gte: 3 }), c({ lt: 9 }), c({ lte: 7 })], "a")).toEqual({ gte: 3, lte: 7 });
    expect(rangeBoundsFor([c({ gte: 3 }), c({ gt: 3 }), c({ lte: 7 }), c({ lt: 7 })], "a")).toEqual({ gt: 3, lt: 7 });
    expect(rangeBoundsFor([c({ gt: 3 }), c({ gte: 3 })], "a")).toEqual({ gt: 3 });
    expect(rangeBoundsFor([c({ gt: null })], "a")).toEqual({ gt: null });
    expect(rangeBoundsFor([c({ gt: 5 }), c({ gt: "a" })], "a")).toEqual({ gt: "a" }); // later in key order
    expect(rangeBoundsFor([{ path: "a", op: "eq", value: 1 }, c({ lt: 2 })], "a")).toEqual({ lt: 2 });
  });
});

describe("compileElementMatcher", () => {
  const loc = ["lsmdoc/update", "$pull", '"xs"'];
  it("tests elements by equality, by operators, or by a filter on their fields", () => {
    const eq = compileElementMatcher(3, loc);
    expect([1, 3, [3], "3"].map(eq)).toEqual([false, true, false, false]);
    const gt = compileElementMatcher({ $gt: 3 }, loc);
    expect([1, 4, "9", [5]].map(gt)).toEqual([false, true, false, true]);
    const byField = compileElementMatcher({ score: { $gte: 8 }, item: "B" }, loc);
    expect([{ score: 8, item: "B", x: 1 }, { score: 9, item: "A" }, 8, null].map(byField)).toEqual([true, false, false, false]);
    const all = compileElementMatcher({}, loc);
    expect([{}, { a: 1 }, 1, [1]].map(all)).toEqual([true, true, false, false]);
    const whole = compileElementMatcher([1, 2], loc);
    expect([[1, 2], [2, 1], 1].map(whole)).toEqual([true, false, false]);
  });

  it("names its caller in errors", () => {
    expectInvalid(() => compileElementMatcher({ $gt: 3, x: 1 }, loc), 'lsmdoc/update: $pull › "xs"', "plain fields");
    expectInvalid(() => compileElementMatcher({ $in: 3 }, loc), "$pull", "$in", "expects an array");
    expectInvalid(() => compileElementMatcher(NaN, loc), "$pull", "NaN");
    expectInvalid(() => compileElementMatcher({ $foo: 1 }, loc), "$pull", '"$foo"');
  });
});

// ---------------------------------------------------------------------------------------------
// Randomized: the matcher against a naive reference

/**
 * The reference: documents are flat objects over FIELDS whose values are scalars or flat arrays of
 * scalars (absent fields are left out); filters use every operator. Written from the rules in the
 * module header, sharing no code with the implementation.
 */
type Scalar = null | boolean | number | string | Date | Uint8Array;

function kind(v: Scalar): string {
  if (v === null) return "null";
  if (v instanceof Date) return "date";
  if (v instanceof Uint8Array) return "bin";
  return typeof v;
}

function cmpSame(x: Scalar, y: Scalar): number {
  if (typeof x === "number") return x < (y as number) ? -1 : x > (y as number) ? 1 : 0;
  if (typeof x === "boolean") return Number(x) - Number(y);
  if (typeof x === "string") return Buffer.compare(Buffer.from(x, "utf8"), Buffer.from(y as string, "utf8"));
  if (x instanceof Date) return Math.sign(x.getTime() - (y as Date).getTime());
  if (x instanceof Uint8Array) return Buffer.compare(x, y as Uint8Array);
  return 0; // null
}

const same = (x: Scalar, y: Scalar): boolean => kind(x) === kind(y) && cmpSame(x, y) === 0;

function refEq(doc: Record<string, unknown>, f: string, x: unknown): boolean {
  if (!(f in doc)) return x === null;
  const v = doc[f] as Scalar | Scalar[];
  if (Array.isArray(x)) return Array.isArray(v) && v.length === x.length && v.every((e, i) => same(e, x[i]));
  return Array.isArray(v) ? v.some((e) => same(e, x as Scalar)) : same(v, x as Scalar);
}

function refRange(doc: Record<string, unknown>, f: string, op: string, x: Scalar): boolean {
  const ok = (c: number): boolean => (op === "$gt" ? c > 0 : op === "$gte" ? c >= 0 : op === "$lt" ? c < 0 : c <= 0);
  if (!(f in doc)) return x === null && ok(0);
  const v = doc[f] as Scalar | Scalar[];
  return (Array.isArray(v) ? v : [v]).some((e) => kind(e) === kind(x) && ok(cmpSame(e, x)));
}

function refOp(doc: Record<string, unknown>, f: string, op: string, x: unknown): boolean {
  switch (op) {
    case "$eq":
      return refEq(doc, f, x);
    case "$ne":
      return !refEq(doc, f, x);
    case "$in":
      return (x as unknown[]).some((y) => refEq(doc, f, y));
    case "$nin":
      return !(x as unknown[]).some((y) => refEq(doc, f, y));
    case "$exists":
      return f in doc === x;
    case "$not":
      return !Object.entries(x as object).every(([o, y]) => refOp(doc, f, o, y));
    default:
      return refRange(doc, f, op, x as Scalar);
  }
}

function refMatch(doc: Record<string, unknown>, filter: Record<string, unknown>): boolean {
  return Object.entries(filter).every(([k, v]) => {
    if (k === "$and") return (v as Record<string, unknown>[]).every((g) => refMatch(doc, g));
    if (k === "$or") return (v as Record<string, unknown>[]).some((g) => refMatch(doc, g));
    if (k === "$nor") return !(v as Record<string, unknown>[]).some((g) => refMatch(doc, g));
    const isOps = typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array);
    return isOps ? Object.entries(v).every(([o, y]) => refOp(doc, k, o, y)) : refEq(doc, k, v);
  });
}

const FIELDS = ["a", "b", "c"];
const SCALARS: readonly Scalar[] = [
  null, false, true, 0, -0, 1, 2, -1, 2.5, -Infinity, "", "a", "b", "ab", "é", "\uffff", "\u{1F600}",
  new Date(0), new Date(1000), new Date(-5), bin(), bin(1), bin(1, 0), bin(2),
];

class FilterGen {
  constructor(private readonly r: Rng) {}

  scalar(): Scalar {
    return this.r.pick(SCALARS);
  }

  flatArray(): Scalar[] {
    return Array.from({ length: this.r.int(4) }, () => this.scalar());
  }

  doc(): Record<string, unknown> {
    const doc: Record<string, unknown> = {};
    for (const f of FIELDS) {
      const roll = this.r.int(10);
      if (roll < 2) continue;
      doc[f] = roll < 7 ? this.scalar() : this.flatArray();
    }
    return doc;
  }

  /** An equality operand: usually a scalar, sometimes a whole flat array. */
  operand(): unknown {
    return this.r.chance(0.15) ? this.flatArray() : this.scalar();
  }

  ops(allowNot: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const n = 1 + this.r.int(3);
    for (let i = 0; i < n; i++) {
      const op = this.r.pick(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", ...(allowNot ? ["$not"] : [])]);
      switch (op) {
        case "$in":
        case "$nin":
          out[op] = Array.from({ length: this.r.int(4) }, () => this.operand());
          break;
        case "$exists":
          out[op] = this.r.chance(0.5);
          break;
        case "$not":
          out[op] = this.ops(false);
          break;
        case "$eq":
        case "$ne":
          out[op] = this.operand();
          break;
        default:
          out[op] = this.scalar();
      }
    }
    return out;
  }

  filter(depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const n = this.r.int(3) + (depth === 0 ? 1 : 0);
    for (let i = 0; i < n; i++) {
      if (depth < 2 && this.r.chance(0.25)) {
        const op = this.r.pick(["$and", "$or", "$nor"]);
        out[op] = Array.from({ length: 1 + this.r.int(3) }, () => this.filter(depth + 1));
      } else {
        out[this.r.pick(FIELDS)] = this.r.chance(0.3) ? this.operand() : this.ops(true);
      }
    }
    return out;
  }
}

/** Filters and documents as text for messages: Dates, binaries, -0 and bigints made visible. */
function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === "number" && Object.is(x, -0)) return "-0";
    if (typeof x === "number" && !Number.isFinite(x)) return String(x);
    if (typeof x === "bigint") return `${x}n`;
    if (x === undefined) return "undefined";
    if (x instanceof Uint8Array) return `bin(${Array.from(x).join(",")})`;
    return x;
  }).replace(/"(\d{4}-\d\d-\d\dT[^"]+)"/g, "date($1)");
}

const SEEDS = testSeeds(4);

describe("randomized: matcher agrees with the naive reference", () => {
  it.each(SEEDS)("seed %i", (seed) => {
    const r = new Rng(seed);
    const g = new FilterGen(r);
    const docs = Array.from({ length: 40 }, () => Object.freeze(g.doc()));
    let matched = 0;
    let total = 0;
    for (let i = 0; i < 400; i++) {
      const filter = g.filter(0);
      const compiled = compileFilter(filter);
      for (const doc of docs) {
        const want = refMatch(doc, filter);
        const got = compiled.matches(doc);
        if (got !== want) {
          expect(got, `seed=${seed} (LSMDOC_SEED=${seed}): filter ${show(filter)} on doc ${show(doc)}`).toBe(want);
        }
        total++;
        if (got) matched++;
      }
    }
    // Guard the generator: a reference that agreed only because nothing (or everything) matched proves little.
    expect(matched, `seed=${seed}: too few matches`).toBeGreaterThan(total * 0.05);
    expect(matched, `seed=${seed}: too many matches`).toBeLessThan(total * 0.95);
  });
});

// ---------------------------------------------------------------------------------------------
// Randomized: sargable conditions are sound for index scans

/** A document's index entries for a top-level field: one per array element, missing as null. */
function indexEntries(doc: Record<string, unknown>, path: string): IndexValue[] {
  if (!(path in doc)) return [null];
  const v = doc[path] as IndexValue | IndexValue[];
  if (!Array.isArray(v)) return [v];
  return v.length === 0 ? [null] : v;
}

function entrySatisfies(entry: IndexValue, c: SargableCondition): boolean {
  switch (c.op) {
    case "eq":
      return compareIndexValues(entry, c.value) === 0;
    case "in":
      return c.values.some((x) => compareIndexValues(entry, x) === 0);
    case "range":
      return inRange(encodeIndexValue(entry), keyRange([], c.bounds));
  }
}

describe("randomized: a matching document lies in every sargable condition's key range", () => {
  it.each(SEEDS)("seed %i", (seed) => {
    const r = new Rng(seed ^ 0x5a5a5a5a);
    const g = new FilterGen(r);
    const docs = Array.from({ length: 40 }, () => g.doc());
    let checked = 0;
    for (let i = 0; i < 400; i++) {
      const filter = g.filter(0);
      const compiled = compileFilter(filter);
      for (const doc of docs) {
        if (!compiled.matches(doc)) continue;
        const msg = `seed=${seed} (LSMDOC_SEED=${seed}): filter ${show(filter)} doc ${show(doc)}`;
        for (const c of compiled.sargable.conditions) {
          const entries = indexEntries(doc, c.path);
          expect(entries.some((e) => entrySatisfies(e, c)), `${msg} condition ${show(c)}`).toBe(true);
          checked++;
        }
        // On scalar fields the intersected bounds are sound as well.
        for (const f of FIELDS) {
          const bounds = rangeBoundsFor(compiled.sargable.conditions, f);
          if (bounds === undefined || Array.isArray(doc[f])) continue;
          const entry = indexEntries(doc, f)[0]!;
          expect(inRange(encodeIndexValue(entry), keyRange([], bounds)), `${msg} merged bounds on ${f}: ${show(bounds)}`).toBe(true);
        }
      }
    }
    expect(checked, `seed=${seed}: no sargable condition was exercised`).toBeGreaterThan(50);
  });
});
