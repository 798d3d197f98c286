/**
 * Dot paths and document values: path validation, what a path reaches (MongoDB array traversal,
 * missing versus null), copy-on-write writes that never touch their input, deep equality and the
 * value domain check.
 */
import { describe, expect, it } from "vitest";
import { deepFreeze, expectInvalid } from "../fixtures/expect-helpers.js";
import {
  checkValue,
  deepEqual,
  getPath,
  getPathValues,
  isIndexSegment,
  MISSING,
  modifyPath,
  parsePath,
  setPath,
  unsetPath,
} from "../../collections/paths.js";

describe("parsePath", () => {
  it("splits valid paths at dots", () => {
    expect(parsePath("a")).toEqual(["a"]);
    expect(parsePath("a.b.0.c")).toEqual(["a", "b", "0", "c"]);
    expect(parsePath("a$b.c-d. e")).toEqual(["a$b", "c-d", " e"]);
  });

  it.each([
    ["", "empty"],
    [".a", "starts with a dot"],
    ["a.", "ends with a dot"],
    ["a..b", "empty segment"],
    ["$a", '"$a"'],
    ["a.$", '"$"'],
    ["a.$[]", '"$[]"'],
    ["__proto__", '"__proto__" is reserved'],
    ["a.constructor", '"constructor" is reserved'],
    ["a.prototype.b", '"prototype" is reserved'],
  ])("refuses %j", (path, fragment) => {
    expectInvalid(() => parsePath(path), fragment, JSON.stringify(path));
  });

  it("refuses non-strings and names the caller's context", () => {
    expectInvalid(() => parsePath(5), "must be a string", "number 5");
    expectInvalid(() => parsePath("a..b", "lsmdoc/filter: $or[2]"), "lsmdoc/filter: $or[2]: invalid field path");
  });

  it("recognizes canonical array positions only", () => {
    for (const s of ["0", "7", "10", "123456789012345"]) expect(isIndexSegment(s), s).toBe(true);
    for (const s of ["01", "-1", "1e3", "1.5", "", " 1", "x", "1234567890123456"]) expect(isIndexSegment(s), s).toBe(false);
  });
});

describe("getPathValues", () => {
  it("reads nested fields and tells missing from null", () => {
    const doc = { a: { b: { c: 1 } }, n: null, u: undefined, z: 0 };
    expect(getPathValues(doc, "a.b.c")).toEqual([1]);
    expect(getPathValues(doc, "a.b")).toEqual([{ c: 1 }]);
    expect(getPathValues(doc, "n")).toEqual([null]);
    expect(getPathValues(doc, "z")).toEqual([0]);
    expect(getPathValues(doc, "x")).toEqual([MISSING]);
    expect(getPathValues(doc, "u")).toEqual([MISSING]); // undefined is an absent optional field
    expect(getPathValues(doc, "n.x")).toEqual([MISSING]); // through null
    expect(getPathValues(doc, "z.x")).toEqual([MISSING]); // through a scalar
    expect(getPathValues(doc, "a.b.c.d")).toEqual([MISSING]);
  });

  it("returns arrays at the end of the path whole", () => {
    expect(getPathValues({ tags: ["x", "y"] }, "tags")).toEqual([["x", "y"]]);
    expect(getPathValues({ tags: [] }, "tags")).toEqual([[]]);
  });

  it("applies a field name to each object element of an array", () => {
    expect(getPathValues({ a: [{ b: 1 }, { b: 2 }] }, "a.b")).toEqual([1, 2]);
    expect(getPathValues({ a: [{ b: 1 }, { c: 2 }] }, "a.b")).toEqual([1, MISSING]);
    expect(getPathValues({ a: [{ b: [1, 2] }, { b: 3 }] }, "a.b")).toEqual([[1, 2], 3]);
    expect(getPathValues({ a: [{ b: [{ c: 1 }, { c: 2 }] }, { b: { c: 3 } }] }, "a.b.c")).toEqual([1, 2, 3]);
    expect(getPathValues({ a: [{ b: null }] }, "a.b")).toEqual([null]);
  });

  it("skips scalars and nested arrays inside a traversed array; nothing reached is missing", () => {
    expect(getPathValues({ a: [{ b: 1 }, 5, "s", null, [{ b: 9 }]] }, "a.b")).toEqual([1]);
    expect(getPathValues({ a: [1, 2] }, "a.b")).toEqual([MISSING]);
    expect(getPathValues({ a: [] }, "a.b")).toEqual([MISSING]);
    expect(getPathValues({ a: [[{ b: 1 }]] }, "a.b")).toEqual([MISSING]);
  });

  it("indexes arrays with numeric segments", () => {
    const doc = { a: [{ b: 1 }, { b: 2 }], m: [[10, 11], [12]], o: { "0": "field zero" } };
    expect(getPathValues(doc, "a.1.b")).toEqual([2]);
    expect(getPathValues(doc, "a.0")).toEqual([{ b: 1 }]);
    expect(getPathValues(doc, "a.5")).toEqual([MISSING]);
    expect(getPathValues(doc, "a.5.b")).toEqual([MISSING]);
    expect(getPathValues(doc, "m.0")).toEqual([[10, 11]]);
    expect(getPathValues(doc, "m.0.1")).toEqual([11]);
    expect(getPathValues(doc, "o.0")).toEqual(["field zero"]); // a numeric segment on an object is a key
  });

  it("treats Dates and binary data as leaves", () => {
    const d = new Date(5);
    expect(getPathValues({ d }, "d")).toEqual([d]);
    expect(getPathValues({ d }, "d.getTime")).toEqual([MISSING]);
    expect(getPathValues({ b: Uint8Array.of(1, 2) }, "b.0")).toEqual([MISSING]);
  });

  it("does not read inherited properties", () => {
    expect(getPathValues({}, "toString")).toEqual([MISSING]);
    expect(getPathValues({ a: {} }, "a.hasOwnProperty")).toEqual([MISSING]);
    expect(getPathValues({ a: [] }, "a.length")).toEqual([MISSING]);
  });
});

describe("getPath", () => {
  it("reads exactly one value, without fanning out over arrays", () => {
    const doc = { a: [{ b: 1 }, { b: 2 }], c: { d: null } };
    expect(getPath(doc, ["a", "1", "b"])).toBe(2);
    expect(getPath(doc, ["a", "b"])).toBe(MISSING);
    expect(getPath(doc, ["c", "d"])).toBe(null);
    expect(getPath(doc, ["c", "e"])).toBe(MISSING);
    expect(getPath(doc, ["c", "d", "e"])).toBe(MISSING);
  });
});

describe("setPath / modifyPath", () => {
  it("returns a new document, shares untouched branches and leaves the input alone", () => {
    const doc = deepFreeze({ a: { b: 1, keep: { x: 1 } }, other: { y: 2 }, list: [1, 2] });
    const out = setPath(doc, ["a", "b"], 5);
    expect(out).toEqual({ a: { b: 5, keep: { x: 1 } }, other: { y: 2 }, list: [1, 2] });
    expect(doc.a.b).toBe(1);
    expect(out).not.toBe(doc);
    expect(out.a).not.toBe(doc.a);
    expect(out.other).toBe(doc.other);
    expect(out.a.keep).toBe(doc.a.keep);
    expect(out.list).toBe(doc.list);
  });

  it("creates missing intermediate objects", () => {
    const doc = deepFreeze({ a: 1 } as Record<string, unknown>);
    expect(setPath(doc, ["x", "y", "z"], true)).toEqual({ a: 1, x: { y: { z: true } } });
    expect(setPath({ x: undefined }, ["x", "y"], 1)).toEqual({ x: { y: 1 } });
  });

  it("writes array positions, appends at the end, refuses holes", () => {
    const doc = deepFreeze({ a: [{ b: 1 }, { b: 2 }] });
    expect(setPath(doc, ["a", "1", "b"], 9)).toEqual({ a: [{ b: 1 }, { b: 9 }] });
    expect(setPath(doc, ["a", "2"], "new")).toEqual({ a: [{ b: 1 }, { b: 2 }, "new"] });
    expect(setPath(doc, ["a", "2", "c"], 3)).toEqual({ a: [{ b: 1 }, { b: 2 }, { c: 3 }] });
    expectInvalid(() => setPath(doc, ["a", "3"], 1), "position 3 is past the end", '"a"', "length 2");
  });

  it("refuses to create fields inside arrays, scalars, null, Dates and binary", () => {
    expectInvalid(() => setPath({ a: [1] }, ["a", "b"], 1), 'field "b" in the array at "a"');
    expectInvalid(() => setPath({ a: 5 }, ["a", "b"], 1), 'field "b" inside number 5 at "a"');
    expectInvalid(() => setPath({ a: { n: null } }, ["a", "n", "b"], 1), 'inside null at "a.n"');
    expectInvalid(() => setPath({ d: new Date(0) }, ["d", "x"], 1), "inside a Date");
    expectInvalid(() => setPath({ b: Uint8Array.of(1) }, ["b", "0"], 1), "inside binary data");
    expectInvalid(() => setPath(null, ["a"], 1, "ctx"), "ctx: cannot create field", "the document");
  });

  it("passes the current value, or MISSING, to the modifier", () => {
    const seen: unknown[] = [];
    modifyPath({ a: { b: null } }, ["a", "b"], (c) => (seen.push(c), 1));
    modifyPath({ a: {} }, ["a", "b"], (c) => (seen.push(c), 1));
    modifyPath({ a: [7] }, ["a", "0"], (c) => (seen.push(c), 1));
    expect(seen).toEqual([null, MISSING, 7]);
  });

  it("defines unusual keys as own fields", () => {
    const out = setPath({}, ["hasOwnProperty"], 1) as Record<string, unknown>;
    expect(Object.hasOwn(out, "hasOwnProperty")).toBe(true);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});

describe("unsetPath", () => {
  it("removes a field, copying only the path to it", () => {
    const doc = deepFreeze({ a: { b: 1, c: 2 }, d: { e: 3 } });
    const out = unsetPath(doc, ["a", "b"]);
    expect(out).toEqual({ a: { c: 2 }, d: { e: 3 } });
    expect(Object.hasOwn(out.a, "b")).toBe(false);
    expect(out.d).toBe(doc.d);
    expect(unsetPath(doc, ["d"])).toEqual({ a: { b: 1, c: 2 } });
  });

  it("returns the input itself when there is nothing to remove", () => {
    const doc = deepFreeze({ a: { b: 1 }, l: [1], s: "x" });
    for (const p of [["x"], ["a", "x"], ["a", "b", "c"], ["l", "5"], ["l", "x"], ["s", "x"], ["x", "y"]]) {
      expect(unsetPath(doc, p), p.join(".")).toBe(doc);
    }
  });

  it("sets an unset array position to null instead of shifting", () => {
    const doc = deepFreeze({ l: [1, { x: 1, y: 2 }, 3] });
    expect(unsetPath(doc, ["l", "0"])).toEqual({ l: [null, { x: 1, y: 2 }, 3] });
    expect(unsetPath(doc, ["l", "1", "x"])).toEqual({ l: [1, { y: 2 }, 3] });
  });
});

describe("deepEqual", () => {
  const yes: [unknown, unknown][] = [
    [1, 1],
    [0, -0],
    [NaN, NaN],
    ["s", "s"],
    [null, null],
    [5n, 5n],
    [{ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }],
    [{ a: 1, u: undefined }, { a: 1 }],
    [[1, [2, { x: 3 }]], [1, [2, { x: 3 }]]],
    [new Date(10), new Date(10)],
    [new Date(NaN), new Date(NaN)],
    [Uint8Array.of(1, 2), Buffer.from([1, 2])],
    [Object.assign(Object.create(null), { a: 1 }), { a: 1 }],
    [[], []],
    [{}, {}],
  ];
  const no: [unknown, unknown][] = [
    [1, "1"],
    [1, 1n],
    [null, undefined],
    [null, {}],
    [0, false],
    [{ a: 1 }, { a: 1, b: 2 }],
    [{ a: 1, b: undefined }, { a: 1, c: 2 }],
    [{ a: undefined }, { a: null }],
    [[1, 2], [2, 1]],
    [[1], [1, 1]],
    [[], {}],
    [{ 0: 1, length: 1 }, [1]],
    [new Date(1), new Date(2)],
    [new Date(1), 1],
    [new Date(1), { }],
    [Uint8Array.of(1, 2), Uint8Array.of(1, 3)],
    [Uint8Array.of(1), Uint8Array.of(1, 0)],
    [Uint8Array.of(1), [1]],
    [new Map(), new Map()],
  ];
  it.each(yes)("%o equals %o", (a, b) => {
    expect(deepEqual(a, b)).toBe(true);
    expect(deepEqual(b, a)).toBe(true);
  });
  it.each(no)("%o differs from %o", (a, b) => {
    expect(deepEqual(a, b)).toBe(false);
    expect(deepEqual(b, a)).toBe(false);
  });
});

describe("checkValue", () => {
  it("accepts document values", () => {
    for (const v of [null, true, 0, -1.5, Infinity, 10n, "", "x", new Date(0), Uint8Array.of(1), Buffer.from("a"), [], {}, { a: [1, { b: null }] }]) {
      expect(() => checkValue(v, "ctx")).not.toThrow();
    }
  });

  it.each<[string, unknown, string]>([
    ["NaN", NaN, "NaN"],
    ["nested NaN", { a: [1, NaN] }, "ctx.a[1]: NaN"],
    ["undefined", undefined, "undefined"],
    ["nested undefined", [undefined], "ctx[0]: undefined"],
    ["a function", () => 1, "function"],
    ["a symbol", Symbol("s"), "symbol"],
    ["an invalid Date", new Date(NaN), "invalid Date"],
    ["a RegExp", /x/, "regular expressions"],
    ["a Map", new Map(), "a Map is not a value"],
    ["a class instance", new (class Point {})(), "a Point"],
    ["a $ key", { a: { $gt: 1 } }, '"$gt"'],
    ["a __proto__ key", JSON.parse('{"__proto__": 1}'), "__proto__"],
  ])("refuses %s", (_name, v, fragment) => {
    expectInvalid(() => checkValue(v, "ctx"), "ctx", fragment);
  });

  it("refuses cyclic values instead of overflowing the stack", () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expectInvalid(() => checkValue(a, "ctx"), "deeper than");
  });
});
