/**
 * engine/util/varint.ts: round trips at every length boundary and at random, known encodings, and
 * every kind of malformed input (truncated, too long, out of range, not shortest form) reported
 * as -1 rather than a wrong value.
 */
import { describe, expect, it } from "vitest";
import {
  decodeVarint32,
  decodeVarint64,
  encodeVarint32,
  encodeVarint64,
  MAX_VARINT32,
  varintLength,
  type VarintOut,
} from "../../../engine/util/varint.js";
import { Rng, testSeeds } from "../../fixtures/random.js";

const out: VarintOut = { value: -1 };

function enc64(v: number): Uint8Array {
  const b = new Uint8Array(10);
  return b.slice(0, encodeVarint64(b, 0, v));
}

function enc32(v: number): Uint8Array {
  const b = new Uint8Array(10);
  return b.slice(0, encodeVarint32(b, 0, v));
}

const boundaries: number[] = [];
for (let bits = 0; bits <= 53; bits++) {
  const p = 2 ** bits;
  for (const v of [p - 1, p, p + 1]) if (v >= 0 && v <= Number.MAX_SAFE_INTEGER) boundaries.push(v);
}

describe("varint", () => {
  it("encodes known values as LEB128", () => {
    expect([...enc32(0)]).toEqual([0]);
    expect([...enc32(127)]).toEqual([0x7f]);
    expect([...enc32(128)]).toEqual([0x80, 0x01]);
    expect([...enc32(300)]).toEqual([0xac, 0x02]);
    expect([...enc32(MAX_VARINT32)]).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect([...enc64(2 ** 32)]).toEqual([0x80, 0x80, 0x80, 0x80, 0x10]);
    expect([...enc64(Number.MAX_SAFE_INTEGER)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
  });

  it("round-trips every power-of-two boundary", () => {
    for (const v of boundaries) {
      const b = enc64(v);
      expect(b.length, `length of ${v}`).toBe(varintLength(v));
      expect(decodeVarint64(b, 0, b.length, out), `end of ${v}`).toBe(b.length);
      expect(out.value).toBe(v);
      if (v <= MAX_VARINT32) {
        expect([...enc32(v)], `varint32 ${v}`).toEqual([...b]);
        expect(decodeVarint32(b, 0, b.length, out)).toBe(b.length);
        expect(out.value).toBe(v);
      } else {
        expect(decodeVarint32(b, 0, b.length, out), `varint32 must reject ${v}`).toBe(-1);
      }
    }
  });

  for (const seed of testSeeds(2)) {
    it(`round-trips random values packed back to back (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const values = Array.from({ length: 5000 }, () => Math.floor(rng.float() * 2 ** rng.int(54)));
      const buf = new Uint8Array(values.length * 8);
      let p = 3; // not at 0: offsets must be honoured
      for (const v of values) p = encodeVarint64(buf, p, v);
      const end = p;
      p = 3;
      for (const [i, v] of values.entries()) {
        p = decodeVarint64(buf, p, end, out);
        expect(p, `seed ${seed} value ${i}`).toBeGreaterThan(0);
        expect(out.value, `seed ${seed} value ${i}`).toBe(v);
      }
      expect(p).toBe(end);
    });
  }

  it("reports truncation at every cut point", () => {
    for (const v of [128, 2 ** 21, MAX_VARINT32, Number.MAX_SAFE_INTEGER]) {
      const b = enc64(v);
      for (let cut = 0; cut < b.length; cut++) {
        expect(decodeVarint64(b, 0, cut, out), `${v} cut at ${cut}`).toBe(-1);
        if (v <= MAX_VARINT32) expect(decodeVarint32(b, 0, cut, out), `${v} cut at ${cut}`).toBe(-1);
      }
      // `end` bounds the read even when the buffer goes on.
      const padded = new Uint8Array([...b, 0, 0]);
      expect(decodeVarint64(padded, 0, b.length - 1, out)).toBe(-1);
    }
  });

  it("rejects values beyond the range and encodings that are too long", () => {
    // 2^32 as a varint32: fifth byte 0x10.
    expect(decodeVarint32(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x10), 0, 5, out)).toBe(-1);
    // Six continuation bytes for a varint32.
    expect(decodeVarint32(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01), 0, 6, out)).toBe(-1);
    // 2^53 as a varint64: eighth byte 0x10.
    expect(decodeVarint64(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10), 0, 8, out)).toBe(-1);
    // Nine bytes.
    expect(decodeVarint64(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), 0, 9, out)).toBe(-1);
  });

  it("rejects encodings that are not the shortest form", () => {
    expect(decodeVarint32(Uint8Array.of(0x80, 0x00), 0, 2, out)).toBe(-1);
    expect(decodeVarint64(Uint8Array.of(0x81, 0x80, 0x00), 0, 3, out)).toBe(-1);
    expect(decodeVarint64(Uint8Array.of(0x00), 0, 1, out)).toBe(1);
    expect(out.value).toBe(0);
  });

  it("never reads at or past `end` and rejects an empty range", () => {
    expect(decodeVarint32(Uint8Array.of(5), 0, 0, out)).toBe(-1);
    expect(decodeVarint64(Uint8Array.of(5), 1, 1, out)).toBe(-1);
  });
});
