/**
 * Index-key codec: the byte order of encodings must agree with the reference order on values,
 * encodings must be prefix-free and decodable, bad values must be refused, and the range helpers
 * must bound exactly the keys they claim. Randomized parts use a seeded generator; the seed is in
 * every assertion message and LSMDOC_SEED replays it.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../engine/errors.js";
import { compareBytes, toHex } from "../../engine/util/bytes.js";
import {
  compareIndexKeys,
  compareIndexValues,
  compareStrings,
  decodeKey,
  encodeIndexValue,
  encodeKey,
  indexValueType,
  inRange,
  isEmptyRange,
  keyRange,
  KeyWriter,
  prefixSuccessor,
  rangeWithin,
  typeRange,
  type IndexValue,
  type IndexValueType,
  type RangeBounds,
} from "../../collections/key-codec.js";

const SEED = process.env.LSMDOC_SEED !== undefined ? Number(process.env.LSMDOC_SEED) : (Math.random() * 2 ** 32) >>> 0;
const ctx = (detail: string): string => `seed=${SEED} (replay with LSMDOC_SEED=${SEED}): ${detail}`;

// Assertion messages carry the seed; this covers failures that are thrown rather than asserted.
beforeEach(({ onTestFailed }) => {
  onTestFailed(() => console.error(`key-codec test failed with LSMDOC_SEED=${SEED}`));
});

/** mulberry32: small, fast, good enough to drive test cases. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = rng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  number(): number {
    switch (this.int(6)) {
      case 0:
      case 1:
        return this.pick(TRICKY_NUMBERS);
      case 2: {
        // Any non-NaN bit pattern: covers subnormals and every exponent.
        const f = new Float64Array(1);
        const u = new Uint32Array(f.buffer);
        do {
          u[0] = this.int(2 ** 32);
          u[1] = this.int(2 ** 32);
        } while (Number.isNaN(f[0]));
        return f[0]!;
      }
      case 3:
        return this.int(2001) - 1000;
      case 4:
        return (this.next() - 0.5) * 10 ** (this.int(40) - 20);
      default:
        return nudge(this.pick(TRICKY_NUMBERS), this.next() < 0.5 ? -1 : 1);
    }
  }

  string(): string {
    const len = this.next() < 0.1 ? 60 + this.int(80) : this.int(9); // long ones take the native path
    let s = "";
    for (let i = 0; i < len; i++) {
      if (this.next() < 0.5) {
        s += this.pick(ALPHABET);
      } else {
        const cp = this.int(0x10ffff + 1 - 0x800) + 0x800;
        s += cp >= 0xd800 && cp <= 0xdfff ? "x" : String.fromCodePoint(cp);
      }
    }
    return s;
  }

  bytes(): Uint8Array {
    const len = this.int(9);
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = this.next() < 0.6 ? this.pick([0, 1, 0x7f, 0x80, 0xfe, 0xff]) : this.int(256);
    return out;
  }

  date(): Date {
    return new Date(this.pick([0, -1, 1, -8.64e15, 8.64e15, 1e12, -1e12, this.int(2e12) - 1e12, this.int(2 ** 40)]));
  }

  value(): IndexValue {
    switch (this.int(9)) {
      case 0:
        return this.pick([null, undefined]);
      case 1:
        return this.next() < 0.5;
      case 2:
      case 3:
        return this.number();
      case 4:
      case 5:
        return this.string();
      case 6:
        return this.date();
      default:
        return this.bytes();
    }
  }

  /** A value of the same type close to `v` (prefix, extension, neighbour), where ordering is subtle. */
  near(v: IndexValue): IndexValue {
    if (typeof v === "number") return this.next() < 0.5 ? nudge(v, this.next() < 0.5 ? -1 : 1) : -v;
    if (typeof v === "string") {
      const cps = Array.from(v);
      if (this.next() < 0.5) return cps.slice(0, this.int(cps.length + 1)).join("");
      return v + this.pick(ALPHABET);
    }
    if (v instanceof Uint8Array) {
      if (this.next() < 0.5) return v.slice(0, this.int(v.length + 1));
      return Uint8Array.from([...v, this.pick([0, 0xff, 1])]);
    }
    if (v instanceof Date) return new Date(Math.max(-8.64e15, Math.min(8.64e15, v.getTime() + this.pick([-1, 1, 0]))));
    return this.value();
  }

  pair(): [IndexValue, IndexValue] {
    const a = this.value();
    return [a, this.next() < 0.35 ? this.near(a) : this.value()];
  }
}

const TRICKY_NUMBERS = [
  0, -0, 1, -1, 0.5, -0.5, 0.1, -0.1, 5e-324, -5e-324, 1e-310, -1e-310, 2.2250738585072014e-308,
  -2.2250738585072014e-308, Number.MAX_VALUE, -Number.MAX_VALUE, Infinity, -Infinity, 2 ** 53, 2 ** 53 - 1,
  2 ** 53 + 2, -(2 ** 53), -(2 ** 53) - 2, Number.EPSILON, 1 + Number.EPSILON, 2 ** 31, -(2 ** 31), 2 ** 32,
];

const ALPHABET = [
  "\0", "\x01", "a", "b", "z", "\x7f", "\x80", "\xff", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\uf8ff",
  "\ufffd", "\uffff", "\u{10000}", "\u{1f600}", "\u{10ffff}", "é", "\0\0",
];

/** The adjacent double in direction `dir` (no NaN, no overflow past ±Infinity). */
function nudge(x: number, dir: 1 | -1): number {
  if (!Number.isFinite(x)) return x;
  if (x === 0) return dir * 5e-324;
  const f = new Float64Array([x]);
  const u = new BigUint64Array(f.buffer);
  u[0] = u[0]! + ((x > 0) === (dir > 0) ? 1n : -1n);
  return f[0]!;
}

const sign = (n: number): number => (n > 0 ? 1 : n < 0 ? -1 : 0);
const show = (v: IndexValue): string =>
  v instanceof Uint8Array ? `bin(${toHex(v)})` : v instanceof Date ? `date(${v.getTime()})` : Object.is(v, -0) ? "-0" : JSON.stringify(v) ?? String(v);

/** What decode(encode(v)) must give: missing becomes null, -0 becomes 0, Buffers become plain bytes. */
function canonical(v: IndexValue): unknown {
  if (v === undefined) return null;
  if (Object.is(v, -0)) return 0;
  if (v instanceof Uint8Array) return Uint8Array.from(v);
  return v;
}

describe("order agreement", () => {
  it("byte order of encodings has the sign of compareIndexValues on random pairs", () => {
    const g = new Gen(SEED);
    for (let i = 0; i < 20_000; i++) {
      const [a, b] = g.pair();
      const want = sign(compareIndexValues(a, b));
      const ea = encodeIndexValue(a);
      const eb = encodeIndexValue(b);
      expect(sign(compareBytes(ea, eb)), ctx(`${show(a)} vs ${show(b)}: ${toHex(ea)} vs ${toHex(eb)}`)).toBe(want);
      expect(sign(compareIndexValues(b, a)), ctx(`antisymmetry ${show(a)} ${show(b)}`)).toBe(want === 0 ? 0 : -want);
      if (want === 0) expect(toHex(ea), ctx(`equal values ${show(a)} ${show(b)}`)).toBe(toHex(eb));
    }
  });

  it("sorting by bytes and sorting by value give the same sequence", () => {
    const g = new Gen(SEED ^ 0x5151);
    const values = Array.from({ length: 3000 }, () => g.value());
    // Boxed, because Array.prototype.sort moves undefined elements to the end without asking the comparator.
    const sortedValues = values.map((v) => ({ v })).sort((x, y) => compareIndexValues(x.v, y.v)).map((x) => x.v);
    const byValue = sortedValues.map((v) => toHex(encodeIndexValue(v)));
    const byBytes = values.map((v) => encodeIndexValue(v)).sort(compareBytes).map(toHex);
    const i = byValue.findIndex((h, j) => h !== byBytes[j]);
    const around = sortedValues.slice(Math.max(0, i - 1), i + 2).map(show).join(", ");
    expect(i, ctx(`sorted sequences differ at ${i}: by value ${around}; by bytes ${byBytes.slice(Math.max(0, i - 1), i + 2)}`)).toBe(-1);
  });

  it("equal values of every type encode identically", () => {
    const pairs: Array<[IndexValue, IndexValue]> = [
      [null, undefined],
      [0, -0],
      [new Date(0), new Date(-0)],
      [new Date(1234), new Date(1234)],
      [new Uint8Array([0, 255]), Buffer.from([0, 255])],
      ["a\0b", "a\0b"],
    ];
    for (const [a, b] of pairs) {
      expect(compareIndexValues(a, b)).toBe(0);
      expect(toHex(encodeIndexValue(a))).toBe(toHex(encodeIndexValue(b)));
    }
  });

  it("numbers compare numerically, including the tricky ones", () => {
    const g = new Gen(SEED ^ 0x1234);
    for (let i = 0; i < 5000; i++) {
      const a = g.number();
      const b = g.next() < 0.5 ? g.number() : nudge(a, 1);
      const want = a < b ? -1 : a > b ? 1 : 0;
      expect(sign(compareBytes(encodeIndexValue(a), encodeIndexValue(b))), ctx(`${show(a)} vs ${show(b)}`)).toBe(want);
    }
  });
});

describe("strings order by UTF-8 bytes", () => {
  it("astral characters sort above U+E000..U+FFFF, unlike JavaScript's <", () => {
    const cases: Array<[string, string]> = [
      ["\ue000", "\u{10000}"],
      ["\uffff", "\u{1f600}"],
      ["\ufffd", "\u{10ffff}"],
      ["a\uffffz", "a\u{10000}"],
    ];
    for (const [lo, hi] of cases) {
      expect(hi < lo, "JS code-unit order disagrees here, which is the point").toBe(true);
      expect(compareIndexValues(lo, hi)).toBe(-1);
      expect(compareBytes(encodeIndexValue(lo), encodeIndexValue(hi))).toBeLessThan(0);
      expect(Buffer.compare(Buffer.from(lo), Buffer.from(hi))).toBe(-1);
    }
  });

  it("compareStrings agrees with Buffer.compare of UTF-8 on random strings", () => {
    const g = new Gen(SEED ^ 0x77);
    for (let i = 0; i < 5000; i++) {
      const a = g.string();
      const b = g.next() < 0.4 ? (g.near(a) as string) : g.string();
      const want = Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
      expect(sign(compareStrings(a, b)), ctx(`${JSON.stringify(a)} vs ${JSON.stringify(b)}`)).toBe(want);
    }
  });

  it("a string sorts before its extensions, including extensions by 00 and 01", () => {
    for (const base of ["", "a", "é", "\u{1f600}"]) {
      const e = encodeIndexValue(base);
      for (const ext of ["\0", "\x01", "\0\0", "a", "\uffff"]) {
        expect(compareBytes(e, encodeIndexValue(base + ext)), JSON.stringify([base, ext])).toBeLessThan(0);
      }
    }
  });

  it("short and long strings (hand-rolled and native paths) encode the same way", () => {
    const g = new Gen(SEED ^ 0x99);
    for (let i = 0; i < 300; i++) {
      const s = g.string();
      const long = s.repeat(Math.ceil(70 / Math.max(1, s.length)) + 1);
      const utf8 = Buffer.from(long, "utf8");
      const escaped: number[] = [0x40];
      for (const c of utf8) escaped.push(...(c === 0 ? [0, 0xff] : [c]));
      escaped.push(0, 1);
      expect(toHex(encodeIndexValue(long)), ctx(JSON.stringify(long))).toBe(toHex(Uint8Array.from(escaped)));
      expect(decodeKey(encodeIndexValue(long)), ctx(JSON.stringify(long))).toEqual([long]);
    }
  });
});

describe("prefix-freeness and round trips", () => {
  it("no encoding is a proper prefix of another value's encoding", () => {
    const g = new Gen(SEED ^ 0xabc);
    const encs = Array.from({ length: 5000 }, () => encodeIndexValue(g.value())).sort(compareBytes);
    // In sorted order everything between P and a key extending P also extends P: adjacent pairs suffice.
    for (let i = 1; i < encs.length; i++) {
      const a = encs[i - 1]!;
      const b = encs[i]!;
      const isProperPrefix = a.length < b.length && compareBytes(a, b.subarray(0, a.length)) === 0;
      expect(isProperPrefix, ctx(`${toHex(a)} is a prefix of ${toHex(b)}`)).toBe(false);
    }
  });

  it("decodeKey(encodeIndexValue(v)) gives v back", () => {
    const g = new Gen(SEED ^ 0xdef);
    for (let i = 0; i < 5000; i++) {
      const v = g.value();
      expect(decodeKey(encodeIndexValue(v)), ctx(show(v))).toEqual([canonical(v)]);
    }
    expect(Object.is(decodeKey(encodeIndexValue(-0))[0], 0)).toBe(true);
  });

  it("compound keys of random arity compare field by field and round-trip", () => {
    const g = new Gen(SEED ^ 0x3333);
    for (let i = 0; i < 5000; i++) {
      const a = Array.from({ length: g.int(4) }, () => g.value());
      // Share a random-length prefix so later fields decide often.
      const b = a.slice(0, g.int(a.length + 1)).map((v) => (g.next() < 0.2 ? g.near(v) : v));
      while (b.length < 4 && g.next() < 0.6) b.push(g.value());
      const ea = encodeKey(a);
      const eb = encodeKey(b);
      const msg = ctx(`[${a.map(show)}] vs [${b.map(show)}]`);
      expect(sign(compareBytes(ea, eb)), msg).toBe(compareIndexKeys(a, b));
      expect(decodeKey(ea), msg).toEqual(a.map(canonical));
    }
  });

  it("a compound key is the concatenation of its fields' encodings", () => {
    const fields: IndexValue[] = ["London", 36, null, new Date(5), new Uint8Array([0])];
    expect(toHex(encodeKey(fields))).toBe(fields.map((f) => toHex(encodeIndexValue(f))).join(""));
    expect(encodeKey([]).length).toBe(0);
  });
});

describe("golden order and bytes", () => {
  it("a hand-ordered list comes out of a byte sort unchanged", () => {
    const ordered: IndexValue[] = [
      null, false, true,
      -Infinity, -Number.MAX_VALUE, -(2 ** 53) - 2, -(2 ** 53), -1000, -1.5, -1, -0.5, -Number.MIN_VALUE,
      0, Number.MIN_VALUE, 2.2250738585072014e-308, 0.5, 1, 1.5, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, Number.MAX_VALUE, Infinity,
      "", "\0", "\0\0", "\x01", "A", "a", "a\0", "a\x01", "ab", "b", "\x7f", "é", "\ue000", "\uffff", "\u{10000}", "\u{1f600}",
      new Date(-8.64e15), new Date(-1), new Date(0), new Date(1), new Date(8.64e15),
      new Uint8Array([]), new Uint8Array([0]), new Uint8Array([0, 0]), new Uint8Array([0, 1]), new Uint8Array([1]), new Uint8Array([0xff]), new Uint8Array([0xff, 0xff]),
    ];
    const shuffled = [...ordered].reverse();
    const g = new Gen(SEED);
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = g.int(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const sorted = shuffled.map((v) => encodeIndexValue(v)).sort(compareBytes).map(toHex);
    expect(sorted).toEqual(ordered.map((v) => toHex(encodeIndexValue(v))));
    for (let i = 1; i < ordered.length; i++) {
      expect(compareIndexValues(ordered[i - 1], ordered[i]), `${show(ordered[i - 1])} < ${show(ordered[i])}`).toBe(-1);
    }
  });

  it("encodes the documented examples byte for byte (docs/format.md, Index keys)", () => {
    const golden: Array<[IndexValue, string]> = [
      [null, "10"],
      [undefined, "10"],
      [false, "20"],
      [true, "21"],
      [0, "308000000000000000"],
      [-0, "308000000000000000"],
      [1, "30bff0000000000000"],
      [-1, "30400fffffffffffff"],
      [1.5, "30bff8000000000000"],
      [-1.5, "304007ffffffffffff"],
      [Infinity, "30fff0000000000000"],
      [-Infinity, "30000fffffffffffff"],
      [Number.MIN_VALUE, "308000000000000001"],
      ["", "400001"],
      ["a", "40610001"],
      ["a\0b", "406100ff620001"],
      ["é", "40c3a90001"],
      ["\u{1f600}", "40f09f98800001"],
      ["\ue000", "40ee80800001"],
      [new Date(0), "508000000000000000"],
      [new Date(-1), "50400fffffffffffff"],
      [new Date(Date.UTC(2024, 0, 1)), "50c278cc251f400000"],
      [new Uint8Array([0x00, 0xff]), "6000ffff0001"],
    ];
    for (const [v, hex] of golden) expect(toHex(encodeIndexValue(v)), show(v)).toBe(hex);
    expect(toHex(encodeKey(["London", 36]))).toBe("404c6f6e646f6e000130c042000000000000");
  });
});

describe("rejections", () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ["NaN", NaN, /NaN/],
    ["invalid Date", new Date(NaN), /invalid Date/],
    ["plain object", { a: 1 }, /object/],
    ["array", [1, 2], /array/],
    ["function", () => 1, /function/],
    ["symbol", Symbol("s"), /symbol/],
    ["bigint", 10n, /bigint/],
    ["typed array other than Uint8Array", new Int8Array(2), /object/],
    ["lone high surrogate", "a\ud800", /lone surrogate at index 1/],
    ["lone low surrogate", "\udc00a", /lone surrogate at index 0/],
    ["reversed pair", "\ude00\ud83d", /lone surrogate at index 0/],
    ["lone surrogate in a long string", "x".repeat(100) + "\ud800", /lone surrogate at index 100/],
  ];

  for (const [name, value, msg] of bad) {
    it(`refuses ${name}, naming the field`, () => {
      expect(() => encodeIndexValue(value as IndexValue, "profile.age")).toThrow(InvalidArgumentError);
      expect(() => encodeIndexValue(value as IndexValue, "profile.age")).toThrow(/field "profile\.age"/);
      expect(() => encodeIndexValue(value as IndexValue)).toThrow(msg);
      expect(() => encodeKey(["ok", value as IndexValue], ["a", "b"])).toThrow(/field "b"/);
    });
  }

  it("refuses nested arrays inside a compound key", () => {
    expect(() => encodeKey([1, [2] as unknown as IndexValue])).toThrow(InvalidArgumentError);
  });

  it("compareIndexValues refuses what cannot be indexed", () => {
    expect(() => compareIndexValues(NaN, 1)).toThrow(InvalidArgumentError);
    expect(() => compareIndexValues(1, {} as unknown as IndexValue)).toThrow(InvalidArgumentError);
  });

  it("a failed write leaves the KeyWriter as it was", () => {
    const w = new KeyWriter(16);
    w.writeString("keep");
    const before = w.length;
    expect(() => w.writeString("x\ud800")).toThrow(InvalidArgumentError);
    expect(() => w.writeNumber(NaN)).toThrow(InvalidArgumentError);
    expect(() => w.writeValue({} as unknown as IndexValue)).toThrow(InvalidArgumentError);
    expect(w.length).toBe(before);
    expect(decodeKey(w.finish())).toEqual(["keep"]);
  });

  const malformed: Array<[string, number[]]> = [
    ["unknown tag", [0x11]],
    ["reserved tag 00", [0x00]],
    ["truncated number", [0x30, 0x80, 0, 0]],
    ["unterminated string", [0x40, 0x61]],
    ["string ending in a bare 00", [0x40, 0x61, 0x00]],
    ["bad escape", [0x40, 0x00, 0x02, 0x00, 0x01]],
    ["invalid UTF-8", [0x40, 0xc3, 0x00, 0x01]],
    ["NaN pattern", [0x30, 0xff, 0xf8, 0, 0, 0, 0, 0, 0]],
    ["-0 pattern", [0x30, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    ["date out of range", [0x50, 0xc3, 0x40, 0, 0, 0, 0, 0, 0]],
    ["fractional date", [0x50, 0xbf, 0xf8, 0, 0, 0, 0, 0, 0]],
  ];
  for (const [name, bytes] of malformed) {
    it(`decodeKey refuses ${name}`, () => {
      expect(() => decodeKey(Uint8Array.from(bytes))).toThrow(InvalidArgumentError);
      expect(() => decodeKey(Uint8Array.from(bytes))).toThrow(/malformed key at byte \d+/);
    });
  }
});

describe("KeyWriter", () => {
  it("grows past its capacity, resets on finish and gives the same bytes as encodeKey", () => {
    const g = new Gen(SEED ^ 0x4444);
    const w = new KeyWriter(16);
    for (let round = 0; round < 50; round++) {
      const values = Array.from({ length: 1 + g.int(40) }, () => g.value());
      for (const v of values) w.writeValue(v);
      expect(toHex(w.finish()), ctx(`round ${round}`)).toBe(toHex(encodeKey(values)));
      expect(w.length).toBe(0);
    }
  });

  it("typed writers match writeValue", () => {
    const w = new KeyWriter();
    w.writeNull().writeBool(false).writeBool(true).writeNumber(-2.5).writeString("s").writeDate(new Date(9)).writeBinary(Uint8Array.of(0));
    expect(decodeKey(w.finish())).toEqual([null, false, true, -2.5, "s", new Date(9), Uint8Array.of(0)]);
  });

  it("keeps working after a value larger than it retains", () => {
    const w = new KeyWriter();
    const huge = "\u{1f600}".repeat(40_000);
    expect(decodeKey(w.writeString(huge).finish())).toEqual([huge]);
    expect(decodeKey(w.writeNumber(7).finish())).toEqual([7]);
  });
});

describe("ranges", () => {
  it("prefixSuccessor on edge cases", () => {
    const hex = (b: Uint8Array | undefined) => (b === undefined ? undefined : toHex(b));
    expect(hex(prefixSuccessor(new Uint8Array([])))).toBeUndefined();
    expect(hex(prefixSuccessor(Uint8Array.of(0xff, 0xff)))).toBeUndefined();
    expect(hex(prefixSuccessor(Uint8Array.of(0x01, 0x02)))).toBe("0103");
    expect(hex(prefixSuccessor(Uint8Array.of(0x01, 0xff, 0xff)))).toBe("02");
    expect(hex(prefixSuccessor(Uint8Array.of(0x00)))).toBe("01");
  });

  it("every key with prefix P lies in [P, prefixSuccessor(P)) and no other key does", () => {
    const g = new Gen(SEED ^ 0x5555);
    const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => g.pick([0, 1, 0xfe, 0xff, g.int(256)]));
    for (let i = 0; i < 3000; i++) {
      const p = g.next() < 0.5 ? encodeKey(Array.from({ length: 1 + g.int(2) }, () => g.value())) : randomBytes(g.int(4));
      const r = { gte: p, lt: prefixSuccessor(p) };
      const extends_ = new Uint8Array([...p, ...randomBytes(g.int(4))]);
      expect(inRange(extends_, r), ctx(`${toHex(extends_)} extends ${toHex(p)}`)).toBe(true);
      const other = g.next() < 0.5 ? randomBytes(p.length + g.int(3)) : new Uint8Array([...p.subarray(0, g.int(p.length + 1)), ...randomBytes(g.int(3))]);
      const hasPrefix = other.length >= p.length && compareBytes(other.subarray(0, p.length), p) === 0;
      expect(inRange(other, r), ctx(`${toHex(other)} vs prefix ${toHex(p)}`)).toBe(hasPrefix);
    }
  });

  it("typeRange holds exactly the values of that type", () => {
    const g = new Gen(SEED ^ 0x6666);
    const types: IndexValueType[] = ["null", "boolean", "number", "string", "date", "binary"];
    for (let i = 0; i < 3000; i++) {
      const v = g.value();
      const e = encodeKey([v, g.value()]);
      for (const t of types) expect(inRange(e, typeRange(t)), ctx(`${show(v)} in ${t}`)).toBe(indexValueType(v) === t);
    }
  });

  /** The predicate keyRange must implement, on values. */
  function matches(key: IndexValue[], equal: IndexValue[], b: RangeBounds, bracketing: boolean): boolean {
    for (let i = 0; i < equal.length; i++) if (compareIndexValues(key[i], equal[i]) !== 0) return false;
    const v = key[equal.length];
    const ok = (bound: IndexValue | undefined, test: (c: number) => boolean): boolean =>
      bound === undefined || (test(compareIndexValues(v, bound)) && (!bracketing || indexValueType(v) === indexValueType(bound)));
    return ok(b.gt, (c) => c > 0) && ok(b.gte, (c) => c >= 0) && ok(b.lt, (c) => c < 0) && ok(b.lte, (c) => c <= 0);
  }

  it("keyRange bounds exactly the keys matching equality + comparison bounds", () => {
    const g = new Gen(SEED ^ 0x7777);
    // A small pool makes equal leading fields and boundary hits common.
    const pool: IndexValue[] = [null, false, true, -1, 0, 2.5, 7, "", "a", "ab", "b", new Date(0), new Date(5), Uint8Array.of(0), Uint8Array.of(0xff)];
    let hits = 0;
    for (let i = 0; i < 4000; i++) {
      const equal = Array.from({ length: g.int(3) }, () => g.pick(pool));
      const bounds: RangeBounds = {};
      for (const op of ["gt", "gte", "lt", "lte"] as const) if (g.next() < 0.35) bounds[op] = g.pick(pool);
      const bracketing = g.next() < 0.7;
      const r = keyRange(equal, bounds, bracketing);
      for (let k = 0; k < 10; k++) {
        // Real index keys have every field of the index (a missing one is null), so at least one past `equal`.
        const key = Array.from({ length: equal.length + 1 + g.int(3) }, () => g.pick(pool));
        for (let f = 0; f < equal.length; f++) if (g.next() < 0.8) key[f] = equal[f];
        const want = matches(key, equal, bounds, bracketing);
        const msg = ctx(`key [${key.map(show)}] equal [${equal.map(show)}] bounds ${JSON.stringify(Object.fromEntries(Object.entries(bounds).map(([o, v]) => [o, show(v)])))} bracketing=${bracketing}`);
        expect(inRange(encodeKey(key), r), msg).toBe(want);
        if (want) hits++;
        if (want) expect(isEmptyRange(r), msg).toBe(false);
      }
    }
    expect(hits, ctx("the generator should produce matching keys")).toBeGreaterThan(1000);
  });

  it("keyRange: {$gt: 30} on the field after city = 'London'", () => {
    const r = keyRange(["London"], { gt: 30 });
    expect(inRange(encodeKey(["London", 31, "id1"]), r)).toBe(true);
    expect(inRange(encodeKey(["London", 30, "id1"]), r)).toBe(false);
    expect(inRange(encodeKey(["London", "x"]), r)).toBe(false);
    expect(inRange(encodeKey(["London", "x"]), keyRange(["London"], { gt: 30 }, false))).toBe(true);
    expect(isEmptyRange(keyRange([], { gt: 5, lt: 3 }))).toBe(true);
    expect(isEmptyRange(keyRange([], { gt: 5, lt: "a" }))).toBe(true);
    expect(keyRange([]).lt).toBeUndefined();
  });

  it("rangeWithin confines a range to a namespace prefix", () => {
    const ns = Uint8Array.of(0x07, 0xff);
    const whole = rangeWithin(ns, keyRange([]));
    expect(toHex(whole.gte)).toBe("07ff");
    expect(toHex(whole.lt!)).toBe("08");
    const r = rangeWithin(ns, keyRange(["a"]));
    const inside = new Uint8Array([...ns, ...encodeKey(["a", 1])]);
    const outside = new Uint8Array([...ns, ...encodeKey(["b"])]);
    expect(inRange(inside, r)).toBe(true);
    expect(inRange(outside, r)).toBe(false);
  });
});
