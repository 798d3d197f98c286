/**
 * CRC-32 (engine/util/crc32.ts): the length-dispatched `crc32` (native zlib for long inputs, the
 * crc-32 package for short ones) computes exactly the portable function on every length, on views
 * at odd offsets, and when chained; the WAL chunk checksum equals CRC-32 of type byte ++ payload.
 * Seed: LSMDOC_SEED or a fresh one, printed in every assertion message.
 */
import CRC32 from "crc-32";
import { describe, expect, it } from "vitest";
import { crc32, crc32Portable, crc32WithPrefixByte } from "../../../engine/util/crc32.js";
import { Rng, testSeeds } from "../../fixtures/random.js";

// One seed per run: LSMDOC_SEED replays a failure (test/fixtures/random.ts).
const [SEED] = testSeeds(1) as [number];

const gen = new Rng(SEED);
const rand = (): number => gen.float();
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
function bytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = int(0, 255);
  return b;
}

/** Every length up to well past the native threshold, then a spread of larger ones. */
const LENGTHS = [
  ...Array.from({ length: 300 }, (_, i) => i),
  511, 512, 513, 1000, 4095, 4096, 4097, 32761, 32768, 65536, 1 << 20,
];

/** Bit-at-a-time CRC-32 (reflected, polynomial 0xEDB88320): the definition, with no tables. */
function crcByDefinition(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe(`crc32 (seed ${SEED})`, () => {
  it("matches the standard check values", () => {
    const check = new TextEncoder().encode("123456789");
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Portable(check)).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    const long = new Uint8Array(1000).fill(0x61);
    expect(crc32(long)).toBe(crcByDefinition(long));
  });

  it("equals crc32Portable (and the definition) on random inputs of every length, as unsigned numbers", () => {
    for (const n of LENGTHS) {
      const data = bytes(n);
      const want = crc32Portable(data);
      const msg = `seed ${SEED}, length ${n}`;
      expect(crc32(data), msg).toBe(want);
      expect(want, msg).toBeGreaterThanOrEqual(0);
      expect(want, msg).toBeLessThanOrEqual(0xffffffff);
      if (n <= 4096) expect(want, msg).toBe(crcByDefinition(data));
    }
  });

  it("computes over the view, not the underlying buffer, at odd offsets", () => {
    const backing = bytes(70_000);
    for (let i = 0; i < 200; i++) {
      const start = int(0, 1000);
      const len = i < 100 ? int(0, 300) : int(0, 69_000 - start);
      const view = backing.subarray(start, start + len);
      expect(crc32(view), `seed ${SEED}, view [${start}, +${len})`).toBe(crcByDefinitionOrPortable(view.slice()));
    }
  });

  it("chains: crc32(b, crc32(a)) === crc32(a ++ b), across the native threshold", () => {
    for (let i = 0; i < 300; i++) {
      const total = i < 200 ? int(0, 400) : int(0, 100_000);
      const data = bytes(total);
      const cut = int(0, total);
      const a = data.subarray(0, cut);
      const b = data.subarray(cut);
      const msg = `seed ${SEED}, ${cut} + ${total - cut} bytes`;
      expect(crc32(b, crc32(a)), msg).toBe(crc32(data));
      expect(crc32Portable(b, crc32Portable(a)), msg).toBe(crc32Portable(data));
      // Seeds from either implementation are interchangeable.
      expect(crc32(b, crc32Portable(a)), msg).toBe(crc32Portable(data));
    }
  });

  it("chains over many pieces", () => {
    const data = bytes(50_000);
    let c = 0;
    for (let p = 0; p < data.length; ) {
      const n = Math.min(data.length - p, int(0, 200));
      c = crc32(data.subarray(p, p + n), c);
      p += n;
    }
    expect(c, `seed ${SEED}`).toBe(crc32Portable(data));
  });
});

describe(`crc32WithPrefixByte, the WAL chunk checksum (seed ${SEED})`, () => {
  it("equals CRC-32 of the type byte followed by the payload", () => {
    for (const n of [0, 1, 7, 95, 96, 97, 500, 32761]) {
      for (const type of [0, 1, 2, 3, 4, 0x80, 0xff]) {
        const payload = bytes(n);
        const joined = new Uint8Array(n + 1);
        joined[0] = type;
        joined.set(payload, 1);
        expect(crc32WithPrefixByte(type, payload), `seed ${SEED}, type ${type}, length ${n}`).toBe(CRC32.buf(joined) >>> 0);
      }
    }
  });
});

function crcByDefinitionOrPortable(data: Uint8Array): number {
  return data.length <= 4096 ? crcByDefinition(data) : crc32Portable(data);
}
