/**
 * Update operators: each operator on flat and dot paths (intermediate objects, arrays, missing and
 * null fields), the guarantee that the input document is never modified (inputs are deep-frozen, so
 * any write throws), validation that happens before any document is seen, and a seeded randomized
 * check of $set/$unset/$inc/$push on flat documents against a Map-free naive model.
 */
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../engine/errors.js";
import { applyUpdate, compileUpdate, validateUpdate } from "../../collections/update.js";
import { Rng, testSeeds } from "../fixtures/random.js";
import { deepFreeze, expectInvalid } from "../fixtures/expect-helpers.js";

/** Applies to a frozen copy, so that a mutation of the input fails the test. */
function upd(doc: Record<string, unknown>, update: unknown): Record<string, unknown> {
  const frozen = deepFreeze(structuredClone(doc));
  const before = structuredClone(frozen);
  const out = applyUpdate(frozen, update);
  expect(frozen).toEqual(before);
  return out;
}

describe("$set", () => {
  it("sets top-level and nested fields, creating intermediate objects", () => {
    expect(upd({ _id: "x", a: 1 }, { $set: { a: 2, b: "new" } })).toEqual({ _id: "x", a: 2, b: "new" });
    expect(upd({ a: { b: 1, c: 2 } }, { $set: { "a.b": 5 } })).toEqual({ a: { b: 5, c: 2 } });
    expect(upd({}, { $set: { "a.b.c": [1] } })).toEqual({ a: { b: { c: [1] } } });
    expect(upd({ a: { x: 1 } }, { $set: { "a.y.z": null } })).toEqual({ a: { x: 1, y: { z: null } } });
  });

  it("replaces whole values, including objects and arrays", () => {
    expect(upd({ a: { b: 1 } }, { $set: { a: { c: 2 } } })).toEqual({ a: { c: 2 } });
    expect(upd({ a: [1, 2] }, { $set: { a: [] } })).toEqual({ a: [] });
    expect(upd({ a: 1 }, { $set: { a: null } })).toEqual({ a: null });
    const when = new Date(7);
    expect(upd({}, { $set: { d: when, b: Uint8Array.of(1), n: 5n } })).toEqual({ d: when, b: Uint8Array.of(1), n: 5n });
  });

  it("writes array positions and appends one past the end", () => {
    expect(upd({ a: [1, 2, 3] }, { $set: { "a.1": 9 } })).toEqual({ a: [1, 9, 3] });
    expect(upd({ a: [1] }, { $set: { "a.1": 2 } })).toEqual({ a: [1, 2] });
    expect(upd({ a: [{ b: 1 }, { b: 2 }] }, { $set: { "a.0.b": 7 } })).toEqual({ a: [{ b: 7 }, { b: 2 }] });
  });

  it("fails on paths that cannot be created, naming the operator and path", () => {
    expectInvalid(() => upd({ a: 5 }, { $set: { "a.b": 1 } }), '$set › "a.b"', "inside number 5");
    expectInvalid(() => upd({ a: null }, { $set: { "a.b": 1 } }), "inside null");
    expectInvalid(() => upd({ a: [{ b: 1 }] }, { $set: { "a.b": 1 } }), 'field "b" in the array at "a"');
    expectInvalid(() => upd({ a: [1] }, { $set: { "a.5": 1 } }), "past the end");
  });
});

describe("$unset", () => {
  it("removes fields at any depth and ignores its values", () => {
    expect(upd({ a: 1, b: 2 }, { $unset: { a: "" } })).toEqual({ b: 2 });
    expect(upd({ a: { b: 1, c: 2 } }, { $unset: { "a.b": 1 } })).toEqual({ a: { c: 2 } });
    expect(upd({ a: 1, b: 2, c: 3 }, { $unset: { a: true, c: false } })).toEqual({ b: 2 });
  });

  it("is a no-op for missing paths", () => {
    expect(upd({ a: 1 }, { $unset: { b: 1, "a.x": 1, "q.r.s": 1 } })).toEqual({ a: 1 });
    const doc = deepFreeze({ a: 1 });
    expect(applyUpdate(doc, { $unset: { zz: 1 } })).toBe(doc);
  });

  it("sets an array position to null rather than shifting", () => {
    expect(upd({ a: [1, 2, 3] }, { $unset: { "a.1": 1 } })).toEqual({ a: [1, null, 3] });
  });
});

describe("$inc", () => {
  it("adds to numbers and creates missing fields", () => {
    expect(upd({ n: 1 }, { $inc: { n: 2 } })).toEqual({ n: 3 });
    expect(upd({ n: 1 }, { $inc: { n: -1.5 } })).toEqual({ n: -0.5 });
    expect(upd({}, { $inc: { n: 5 } })).toEqual({ n: 5 });
    expect(upd({}, { $inc: { "s.views": 1 } })).toEqual({ s: { views: 1 } });
    expect(upd({ s: { views: 9 } }, { $inc: { "s.views": 1 } })).toEqual({ s: { views: 10 } });
    expect(upd({ a: [1, 2] }, { $inc: { "a.1": 10 } })).toEqual({ a: [1, 12] });
    expect(upd({ big: 2n ** 60n }, { $inc: { big: 1n } })).toEqual({ big: 2n ** 60n + 1n });
  });

  it("refuses non-numeric fields and mixed number kinds", () => {
    expectInvalid(() => upd({ n: "1" }, { $inc: { n: 1 } }), '$inc › "n"', "cannot add number 1 to a string");
    expectInvalid(() => upd({ n: null }, { $inc: { n: 1 } }), "to null");
    expectInvalid(() => upd({ n: [1] }, { $inc: { n: 1 } }), "to an array");
    expectInvalid(() => upd({ n: 1n }, { $inc: { n: 1 } }), "to bigint 1");
    expectInvalid(() => upd({ n: 1 }, { $inc: { n: 1n } }), "bigint 1 to number 1");
  });
});

describe("$push", () => {
  it("appends one value, or each of $each", () => {
    expect(upd({ t: ["a"] }, { $push: { t: "b" } })).toEqual({ t: ["a", "b"] });
    expect(upd({ t: ["a"] }, { $push: { t: ["b", "c"] } })).toEqual({ t: ["a", ["b", "c"]] });
    expect(upd({ t: ["a"] }, { $push: { t: { $each: ["b", "c"] } } })).toEqual({ t: ["a", "b", "c"] });
    expect(upd({ t: ["a"] }, { $push: { t: { $each: [] } } })).toEqual({ t: ["a"] });
    expect(upd({ t: [] }, { $push: { t: { k: 1 } } })).toEqual({ t: [{ k: 1 }] });
  });

  it("creates missing arrays, also under missing objects", () => {
    expect(upd({}, { $push: { t: 1 } })).toEqual({ t: [1] });
    expect(upd({}, { $push: { "p.t": { $each: [1, 2] } } })).toEqual({ p: { t: [1, 2] } });
  });

  it("refuses non-array fields and unsupported modifiers", () => {
    expectInvalid(() => upd({ t: "a" }, { $push: { t: "b" } }), '$push › "t"', "needs an array", "a string");
    expectInvalid(() => upd({ t: null }, { $push: { t: "b" } }), "needs an array", "null");
    expectInvalid(() => validateUpdate({ $push: { t: { $each: "ab" } } }), "$each expects an array");
    expectInvalid(() => validateUpdate({ $push: { t: { $each: [1], $slice: 2 } } }), "only the $each modifier", "$slice");
    expectInvalid(() => validateUpdate({ $push: { t: { $position: 0 } } }), "$position");
    expectInvalid(() => validateUpdate({ $push: { t: { $each: [1, NaN] } } }), "$each[1]", "NaN");
  });
});

describe("$pull", () => {
  it("removes every element equal to a value", () => {
    expect(upd({ t: [1, 2, 1, 3] }, { $pull: { t: 1 } })).toEqual({ t: [2, 3] });
    expect(upd({ t: [[1, 2], [2, 1], 1] }, { $pull: { t: [1, 2] } })).toEqual({ t: [[2, 1], 1] });
    expect(upd({ t: [{ a: 1, b: 2 }, { a: 1 }] }, { $pull: { t: { b: 2, a: 1 } } })).toEqual({ t: [{ a: 1 }] });
    expect(upd({ t: [new Date(1), new Date(2)] }, { $pull: { t: new Date(1) } })).toEqual({ t: [new Date(2)] });
    expect(upd({ t: [null, 0, null] }, { $pull: { t: null } })).toEqual({ t: [0] });
  });

  it("removes elements matching a condition", () => {
    expect(upd({ t: [1, 5, 3, 8, "9"] }, { $pull: { t: { $gt: 3 } } })).toEqual({ t: [1, 3, "9"] });
    expect(upd({ t: ["a", "b", "c"] }, { $pull: { t: { $in: ["a", "c"] } } })).toEqual({ t: ["b"] });
    expect(upd({ t: [1, 2, 3] }, { $pull: { t: { $gte: 2, $lt: 3 } } })).toEqual({ t: [1, 3] });
    expect(upd({ t: [1, 2, 3] }, { $pull: { t: { $not: { $eq: 2 } } } })).toEqual({ t: [2] });
  });

  it("removes object elements matching a filter on their fields (a subset, not whole equality)", () => {
    const doc = { r: [{ item: "A", score: 5 }, { item: "B", score: 8 }, { item: "B", score: 4 }, "B"] };
    expect(upd(doc, { $pull: { r: { item: "B", score: { $gte: 6 } } } })).toEqual({
      r: [{ item: "A", score: 5 }, { item: "B", score: 4 }, "B"],
    });
    expect(upd(doc, { $pull: { r: { $or: [{ score: 5 }, { score: 4 }] } } })).toEqual({ r: [{ item: "B", score: 8 }, "B"] });
  });

  it("is a no-op when the field is missing or nothing matches, and works on nested paths", () => {
    const doc = deepFreeze({ t: [1, 2], o: { l: [1, 2, 3] } });
    expect(applyUpdate(doc, { $pull: { x: 1 } })).toBe(doc);
    expect(applyUpdate(doc, { $pull: { t: 9 } })).toBe(doc);
    expect(applyUpdate(doc, { $pull: { "o.l": { $lte: 2 } } })).toEqual({ t: [1, 2], o: { l: [3] } });
  });

  it("refuses a non-array field", () => {
    expectInvalid(() => upd({ t: 5 }, { $pull: { t: 5 } }), '$pull › "t"', "needs an array", "number 5");
  });
});

describe("several operators together", () => {
  it("applies each to its own path", () => {
    const doc = { _id: "1", name: "Ada", logins: 3, tags: ["a", "b"], roles: ["x", "y"], old: true, meta: { v: 1 } };
    expect(
      upd(doc, {
        $set: { name: "Ada L.", "meta.w": 2 },
        $inc: { logins: 1 },
        $push: { tags: "c" },
        $pull: { roles: "x" },
        $unset: { old: 1 },
      }),
    ).toEqual({ _id: "1", name: "Ada L.", logins: 4, tags: ["a", "b", "c"], roles: ["y"], meta: { v: 1, w: 2 } });
  });

  it("compiles once and applies to many documents, listing the written paths", () => {
    const u = compileUpdate({ $inc: { n: 1 }, $set: { "a.b": true } });
    expect(u.paths).toEqual(["n", "a.b"]);
    expect(u.apply({ n: 1 })).toEqual({ n: 2, a: { b: true } });
    expect(u.apply({ n: 10, a: { c: 1 } })).toEqual({ n: 11, a: { c: 1, b: true } });
  });

  it("gives each document its own new arrays", () => {
    const u = compileUpdate({ $push: { t: { $each: [1, 2] } } });
    const x = u.apply({}) as { t: number[] };
    const y = u.apply({}) as { t: number[] };
    expect(x.t).toEqual([1, 2]);
    expect(x.t).not.toBe(y.t);
  });

  it("shares untouched branches with the input", () => {
    const doc = deepFreeze({ a: { x: 1 }, b: { y: [1, 2] }, n: 1 });
    const out = applyUpdate(doc, { $inc: { n: 1 } });
    expect(out.a).toBe(doc.a);
    expect(out.b).toBe(doc.b);
  });
});

describe("validation", () => {
  it.each<[string, unknown, string[]]>([
    ["a non-object", [{ $set: { a: 1 } }], ["lsmdoc/update", "plain object", "an array"]],
    ["null", null, ["plain object", "null"]],
    ["an empty update", {}, ["no operators"]],
    ["a replacement document", { name: "x", age: 3 }, ['"name", "age"', "no operators", "replace()"]],
    ["fields mixed with operators", { $set: { a: 1 }, b: 2 }, ["mixes plain fields", '"b"']],
    ["an unknown operator", { $rename: { a: "b" } }, ['"$rename"', "$set $unset $inc $push $pull"]],
    ["$addToSet", { $addToSet: { t: 1 } }, ['"$addToSet"']],
    ["a non-object operand", { $set: 5 }, ["$set expects an object", "number 5"]],
    ["an array operand", { $inc: [1] }, ["$inc expects an object", "an array"]],
    ["_id", { $set: { _id: "y" } }, ['$set › "_id"', "_id cannot be updated"]],
    ["a path under _id", { $unset: { "_id.x": 1 } }, ["_id cannot be updated"]],
    ["the same path twice", { $set: { a: 1 }, $inc: { a: 1 } }, ['$inc "a" conflicts with $set "a"']],
    ["a path and its parent", { $set: { "a.b": 1 }, $unset: { a: 1 } }, ['$unset "a" conflicts with $set "a.b"']],
    ["a path and its child", { $push: { a: 1 }, $pull: { "a.0": 1 } }, ['$pull "a.0" conflicts with $push "a"']],
    ["$push and $pull on one array", { $push: { a: 1 }, $pull: { a: 2 } }, ['$pull "a" conflicts with $push "a"']],
    ["a parent and child in one operator", { $set: { a: { b: 1 }, "a.b": 2 } }, ['$set "a.b" conflicts with $set "a"']],
    ["NaN in $set", { $set: { a: { b: [NaN] } } }, ['$set › "a"', "NaN"]],
    ["NaN in $inc", { $inc: { a: NaN } }, ["$inc expects a finite number", "NaN"]],
    ["Infinity in $inc", { $inc: { a: Infinity } }, ["finite number"]],
    ["a string in $inc", { $inc: { a: "1" } }, ["finite number", "a string"]],
    ["NaN in $push", { $push: { a: NaN } }, ["NaN"]],
    ["NaN in $pull", { $pull: { a: { $in: [NaN] } } }, ["$pull", "NaN"]],
    ["a bad $pull condition", { $pull: { a: { $gt: 1, x: 1 } } }, ['$pull › "a"', "plain fields"]],
    ["undefined in $set", { $set: { a: undefined } }, ["undefined", "$unset"]],
    ["a function in $set", { $set: { a: () => 1 } }, ["function"]],
    ["a class instance in $set", { $set: { a: new Map() } }, ["a Map"]],
    ["an operator key in a value", { $set: { a: { $gt: 1 } } }, ['"$gt"']],
    ["an empty path", { $set: { "": 1 } }, ["invalid field path", "empty"]],
    ["a path with an empty segment", { $inc: { "a..b": 1 } }, ["$inc", "empty segment"]],
    ["a positional path", { $set: { "a.$.b": 1 } }, ['"$"']],
    ["a __proto__ path", { $set: { "a.__proto__.x": 1 } }, ["__proto__"]],
  ])("refuses %s", (_name, update, fragments) => {
    expectInvalid(() => validateUpdate(update), ...fragments);
    expectInvalid(() => compileUpdate(update), ...fragments);
    expectInvalid(() => applyUpdate({ a: 1 }, update), ...fragments);
  });

  it("accepts empty operator objects and unrelated sibling paths", () => {
    expect(applyUpdate({ a: 1 }, { $set: {} })).toEqual({ a: 1 });
    expect(() => validateUpdate({ $set: { "a.b": 1, "a.c": 2, ab: 3 }, $inc: { "a.d": 1 } })).not.toThrow();
  });

  it("refuses to apply to something that is not a document", () => {
    expectInvalid(() => applyUpdate([] as unknown as object, { $set: { a: 1 } }), "plain-object document");
  });
});

// ---------------------------------------------------------------------------------------------
// Randomized: flat documents against a naive model

describe("randomized: flat updates agree with a naive model", () => {
  it.each(testSeeds(3))("seed %i", (seed) => {
    const r = new Rng(seed);
    const fields = ["a", "b", "c", "d"];
    const scalar = (): unknown => r.pick([0, 1, -2, 2.5, "s", "", true, null]);
    for (let round = 0; round < 500; round++) {
      const doc: Record<string, unknown> = {};
      for (const f of fields) {
        const roll = r.int(4);
        if (roll === 1) doc[f] = r.int(10);
        else if (roll === 2) doc[f] = Array.from({ length: r.int(3) }, scalar);
        else if (roll === 3) doc[f] = scalar();
      }
      // One operator per field, so the update never conflicts.
      const update: Record<string, Record<string, unknown>> = {};
      const model = new Map(Object.entries(doc));
      let expectError = false;
      for (const f of fields) {
        if (r.chance(0.4)) continue;
        const op = r.pick(["$set", "$unset", "$inc", "$push"]);
        const cur = model.get(f);
        const arg = op === "$inc" ? r.between(-3, 3) : scalar();
        (update[op] ??= {})[f] = arg;
        if (op === "$set") model.set(f, arg);
        else if (op === "$unset") model.delete(f);
        else if (op === "$inc") {
          if (cur === undefined) model.set(f, arg);
          else if (typeof cur === "number") model.set(f, cur + (arg as number));
          else expectError = true;
        } else if (cur === undefined) model.set(f, [arg]);
        else if (Array.isArray(cur)) model.set(f, [...cur, arg]);
        else expectError = true;
      }
      if (Object.keys(update).length === 0) continue;
      const msg = `seed=${seed} (LSMDOC_SEED=${seed}) round ${round}: ${JSON.stringify(update)} on ${JSON.stringify(doc)}`;
      const frozen = deepFreeze(structuredClone(doc));
      if (expectError) {
        expect(() => applyUpdate(frozen, update), msg).toThrow(InvalidArgumentError);
        continue;
      }
      expect(applyUpdate(frozen, update), msg).toEqual(Object.fromEntries(model));
      expect(frozen, msg).toEqual(doc);
    }
  });
});
