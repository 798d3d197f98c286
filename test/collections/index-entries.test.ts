/**
 * The index entries of a document (collections/index-entries.ts) against a model built from
 * getPathValues, the path semantics the matcher uses: for a one-field index, one entry per value
 * the path reaches, arrays at the end expanded one level (an empty one as null), a missing field
 * as null, keys sorted and without duplicates. Random documents mix plain objects, arrays at every
 * depth, missing fields, nulls and non-plain objects (Dates) in the middle of paths, so both the
 * plain-descent fast path and the general path are exercised and must agree with the model.
 */
import { describe, expect, it } from "vitest";
import type { IndexMeta } from "../../collections/catalog.js";
import { indexEntries, sameIndexedValues } from "../../collections/index-entries.js";
import { KeyWriter, type IndexValue } from "../../collections/key-codec.js";
import { getPathValues, MISSING } from "../../collections/paths.js";
import { Rng, testSeeds } from "../fixtures/random.js";

const PREFIX = new Uint8Array([0x03, 0, 0, 0, 7, 0, 2]);
const PATHS = ["a", "b", "a.x", "a.y", "b.x", "a.x.z", "c.0", "a.0.x"];

function scalar(rng: Rng): unknown {
  switch (rng.int(6)) {
    case 0:
      return null;
    case 1:
      return rng.int(100) - 50;
    case 2:
      return `s${rng.int(20)}`;
    case 3:
      return rng.chance(0.5);
    case 4:
      return new Date(1_700_000_000_000 + rng.int(1000));
    default:
      return rng.int(5) / 4;
  }
}

function value(rng: Rng, depth: number): unknown {
  const r = rng.int(10);
  if (depth < 3 && r < 3) return object(rng, depth + 1);
  if (depth < 3 && r < 5) return Array.from({ length: rng.int(4) }, () => (rng.chance(0.6) ? scalar(rng) : value(rng, depth + 1)));
  return scalar(rng);
}

function object(rng: Rng, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ["a", "b", "c", "x", "y", "z", "0"]) if (rng.chance(0.4)) out[k] = value(rng, depth);
  return out;
}

/** The model: keys from getPathValues, expanded as the index expands them. */
function modelKeys(doc: unknown, path: string, unique: boolean, id: string): string[] {
  const values: unknown[] = [];
  for (const v of getPathValues(doc, path)) {
    if (v === MISSING) values.push(null);
    else if (Array.isArray(v)) {
      if (v.length === 0) values.push(null);
      else values.push(...v);
    } else values.push(v);
  }
  const keys = new Set<string>();
  const w = new KeyWriter();
  for (const v of values) {
    w.reset().writeRaw(PREFIX);
    w.writeValue(v as IndexValue, path);
    if (!unique) w.writeString(id, "_id");
    keys.add(Buffer.from(w.finish()).toString("hex"));
  }
  return [...keys].sort();
}

/** The outcome of a call, with the error's class when it throws. */
function attempt<T>(f: () => T): { ok: T } | { error: string } {
  try {
    return { ok: f() };
  } catch (err) {
    return { error: (err as Error).constructor.name };
  }
}

describe("index entries of one-field indexes", () => {
  for (const seed of testSeeds(4)) {
    it(`match the path model on random documents (seed ${seed})`, () => {
      const rng = new Rng(seed);
      let checked = 0;
      let multikey = 0;
      for (let i = 0; i < 3000; i++) {
        const doc = object(rng, 0);
        const path = PATHS[rng.int(PATHS.length)]!;
        const unique = rng.chance(0.5);
        const index: IndexMeta = { id: 2, name: `by_${path}`, fields: [path], unique, state: "ready", multikey: false };
        const id = `id${i}`;
        const ctx = `seed ${seed} (LSMDOC_SEED=${seed}), doc ${i} ${JSON.stringify(doc)}, path ${path}`;
        const expected = attempt(() => modelKeys(doc, path, unique, id));
        const actual = attempt(() => {
          const r = indexEntries(index, PREFIX, doc, id);
          if (r.multikey) multikey++;
          return r.entries.map((e) => Buffer.from(e.key).toString("hex"));
        });
        // The entries come out sorted and unique, as the model's keys are.
        expect(actual, ctx).toEqual(expected);
        checked++;
      }
      expect(checked).toBe(3000);
      expect(multikey, `seed ${seed}: arrays were met`).toBeGreaterThan(20);
    });
  }

  it("keep their keys intact while later keys are built", () => {
    const index: IndexMeta = { id: 2, name: "by_a", fields: ["a"], unique: false, state: "ready", multikey: false };
    const kept = Array.from({ length: 5000 }, (_, i) => ({ i, key: indexEntries(index, PREFIX, { a: `v${i}` }, `id${i}`).entries[0]!.key }));
    for (const { i, key } of kept) expect(Buffer.from(key).toString("hex")).toEqual(modelKeys({ a: `v${i}` }, "a", false, `id${i}`)[0]);
  });
});

/** A copy of `doc` with a few fields replaced by fresh random values (or none). */
function mutated(rng: Rng, doc: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(doc);
  for (let n = rng.int(3); n > 0; n--) {
    const k = ["a", "b", "c", "x", "y", "z", "0"][rng.int(7)]!;
    if (rng.chance(0.2)) delete out[k];
    else out[k] = value(rng, 1);
  }
  return out;
}

describe("sameIndexedValues", () => {
  const index = (fields: string[], unique = false): IndexMeta => ({ id: 2, name: "i", fields, unique, state: "ready", multikey: false });
  const keys = (ix: IndexMeta, doc: unknown): string[] => indexEntries(ix, PREFIX, doc, "the-id").entries.map((e) => Buffer.from(e.key).toString("hex"));

  for (const seed of testSeeds(4)) {
    it(`answers true only when the entries are the same (seed ${seed})`, () => {
      const rng = new Rng(seed);
      let same = 0;
      for (let i = 0; i < 3000; i++) {
        const a = object(rng, 0);
        const b = rng.chance(0.3) ? structuredClone(a) : mutated(rng, a);
        const fields = rng.chance(0.7) ? [PATHS[rng.int(PATHS.length)]!] : [PATHS[rng.int(PATHS.length)]!, PATHS[rng.int(PATHS.length)]!];
        const ix = index(fields, rng.chance(0.5));
        if (!sameIndexedValues(ix, a, b)) continue;
        same++;
        const ctx = `seed ${seed} (LSMDOC_SEED=${seed}), case ${i}: ${JSON.stringify(a)} / ${JSON.stringify(b)} on ${fields.join(",")}`;
        // Both documents are indexable there, with the same keys.
        expect(attempt(() => keys(ix, b)), ctx).toEqual(attempt(() => keys(ix, a)));
        expect("ok" in attempt(() => keys(ix, a)), ctx).toBe(true);
      }
      expect(same, `seed ${seed}: pairs with equal values were met`).toBeGreaterThan(300);
    });
  }

  it("sees through copies: equal strings, numbers (0 and -0), Dates, bytes, missing and null", () => {
    const cases: Array<[unknown, unknown]> = [
      ["s", "s"],
      [0, -0],
      [1.5, 1.5],
      [true, true],
      [null, null],
      [undefined, null],
      [new Date(5), new Date(5)],
      [new Uint8Array([1, 2]), Buffer.from([1, 2])],
      [Infinity, Infinity],
    ];
    for (const [x, y] of cases) {
      const a = { a: { x }, other: 1 };
      const b = { a: { x: y }, other: 2 };
      expect(sameIndexedValues(index(["a.x"]), a, b), `${String(x)} / ${String(y)}`).toBe(true);
      expect(keys(index(["a.x"]), b)).toEqual(keys(index(["a.x"]), a));
    }
    expect(sameIndexedValues(index(["a.x"]), {}, { a: null }), "missing field and a null on the way").toBe(true);
    expect(sameIndexedValues(index(["a", "b"]), { a: 1, b: "x", c: 1 }, { a: 1, b: "x", c: 2 })).toBe(true);
  });

  it("leaves every other case to the entries: changed values, arrays, objects, NaN, invalid Dates", () => {
    const cases: Array<[unknown, unknown]> = [
      ["s", "t"],
      [1, "1"],
      [null, false],
      [new Date(5), new Date(6)],
      [new Date(5), 5],
      [new Uint8Array([1]), new Uint8Array([2])],
      [[1], [1]],
      [{ z: 1 }, { z: 1 }],
      [NaN, NaN],
      [new Date(NaN), new Date(NaN)],
    ];
    for (const [x, y] of cases) {
      expect(sameIndexedValues(index(["a"]), { a: x }, { a: y }), `${String(x)} / ${String(y)}`).toBe(false);
    }
    // An array on the way to the field: the general path decides.
    expect(sameIndexedValues(index(["a.x"]), { a: [{ x: 1 }] }, { a: [{ x: 1 }] })).toBe(false);
    expect(sameIndexedValues(index(["a", "b"]), { a: 1, b: 2 }, { a: 1, b: 3 })).toBe(false);
  });
});
