/**
 * Byte helpers (engine/util/bytes.ts): `compareBytes` orders exactly as unsigned bytes
 * (`Buffer.compare`) on short and long keys, shared prefixes and views; `bytesEqual`; and the
 * little-endian u16/u32/u64 coding, including u64 values up to 2^53 - 1 and the -1 that reports
 * anything larger. Seed: LSMDOC_SEED or a fresh one, printed in every assertion message.
 */
import { describe, expect, it } from "vitest";
import {
  bytesEqual,
  compareBytes,
  MAX_SEQ,
  readU16LE,
  readU32LE,
  readU64LE,
  toHex,
  writeU16LE,
  writeU32LE,
  writeU64LE,
} from "../../../engine/util/bytes.js";
import { Rng, testSeeds } from "../../fixtures/random.js";

// One seed per run: LSMDOC_SEED replays a failure (test/fixtures/random.ts).
const [SEED] = testSeeds(1) as [number];

const gen = new Rng(SEED);
const rand = (): number => gen.float();
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
/** Bytes biased to the edges (0x00, 0x7f, 0x80, 0xff), where signed/unsigned mistakes show. */
function byte(): number {
  const r = rand();
  return r < 0.4 ? [0x00, 0x7f, 0x80, 0xff][int(0, 3)]! : int(0, 255);
}
const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, byte);
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** A pair that is often related: equal, a prefix, or equal up to one changed byte. */
function pair(maxLen: number): [Uint8Array, Uint8Array] {
  const a = bytes(int(0, maxLen));
  const r = rand();
  if (r < 0.15) return [a, a.slice()];
  if (r < 0.35) return [a, a.slice(0, int(0, a.length))];
  if (r < 0.5) return [a, Uint8Array.from([...a, ...bytes(int(1, 5))])];
  if (r < 0.8 && a.length > 0) {
    const b = a.slice();
    b[int(0, b.length - 1)] = byte();
    return [a, b];
  }
  return [a, bytes(int(0, maxLen))];
}

describe(`compareBytes (seed ${SEED})`, () => {
  it("has the sign of Buffer.compare on random pairs, short and long", () => {
    for (let i = 0; i < 20_000; i++) {
      const maxLen = i % 10 === 0 ? 2000 : i % 3 === 0 ? 64 : 40;
      const [a, b] = rand() < 0.5 ? pair(maxLen) : pair(maxLen).reverse();
      const want = Math.sign(Buffer.compare(a, b));
      const msg = `seed ${SEED}, case ${i}: ${hex(a).slice(0, 80)} vs ${hex(b).slice(0, 80)}`;
      expect(Math.sign(compareBytes(a!, b!)), msg).toBe(want);
      expect(Math.sign(compareBytes(b!, a!)), msg).toBe(want === 0 ? 0 : -want);
      expect(bytesEqual(a!, b!), msg).toBe(want === 0);
    }
  });

  it("compares unsigned, with a proper prefix first, on both sides of the short-key path", () => {
    for (const n of [0, 1, 31, 32, 33, 100]) {
      const base = new Uint8Array(n).fill(0x41);
      const hi = Uint8Array.from([...base, 0x80]);
      const lo = Uint8Array.from([...base, 0x7f]);
      expect(compareBytes(lo, hi), `prefix ${n}`).toBeLessThan(0);
      expect(compareBytes(hi, lo), `prefix ${n}`).toBeGreaterThan(0);
      expect(compareBytes(base, lo), `prefix ${n}`).toBeLessThan(0);
      expect(compareBytes(lo, base), `prefix ${n}`).toBeGreaterThan(0);
      expect(compareBytes(hi, hi.slice()), `prefix ${n}`).toBe(0);
      expect(compareBytes(Uint8Array.from([...base, 0xff]), Uint8Array.from([...base, 0x00, 0x00])), `prefix ${n}`).toBeGreaterThan(0);
    }
  });

  it("compares views by their own bytes, not their backing buffers", () => {
    const backing = bytes(5000);
    for (let i = 0; i < 2000; i++) {
      const s1 = int(0, 2000);
      const s2 = int(0, 2000);
      const a = backing.subarray(s1, s1 + int(0, i % 2 ? 40 : 2000));
      const b = rand() < 0.3 ? backing.subarray(s1, s1 + int(0, 2000)) : backing.subarray(s2, s2 + int(0, 2000));
      const msg = `seed ${SEED}, case ${i}: [${s1}, +${a.length}) vs [+${b.length})`;
      expect(Math.sign(compareBytes(a, b)), msg).toBe(Math.sign(Buffer.compare(a.slice(), b.slice())));
    }
  });

  it("sorts like Buffer.compare", () => {
    const keys = Array.from({ length: 2000 }, () => bytes(int(0, rand() < 0.2 ? 300 : 12)));
    const ours = [...keys].sort(compareBytes).map(hex);
    const theirs = [...keys].sort(Buffer.compare).map(hex);
    expect(ours.join(","), `seed ${SEED}`).toBe(theirs.join(","));
  });
});

describe(`little-endian coding (seed ${SEED})`, () => {
  function viaBigInt(v: number): string {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    return hex(b);
  }

  it("u64 round-trips every value up to 2^53 - 1, byte-identical to a BigInt encoding", () => {
    const fixed = [0, 1, 0xff, 0x100, 0xffff_ffff, 0x1_0000_0000, 0x1_0000_0001, 2 ** 52, 2 ** 53 - 2, MAX_SEQ];
    const random = Array.from({ length: 5000 }, () => (rand() < 0.5 ? Math.floor(rand() * MAX_SEQ) : int(0, 2 ** 32 + 5)));
    expect(MAX_SEQ).toBe(2 ** 53 - 1);
    const buf = new Uint8Array(20).fill(0xaa);
    for (const v of [...fixed, ...random]) {
      const off = int(0, 12);
      buf.fill(0xaa);
      writeU64LE(buf, off, v);
      const msg = `seed ${SEED}, value ${v} at ${off}`;
      expect(hex(buf.subarray(off, off + 8)), msg).toBe(viaBigInt(v));
      expect(readU64LE(buf, off), msg).toBe(v);
      // Neighbours untouched.
      expect([...buf.subarray(0, off), ...buf.subarray(off + 8)].every((x) => x === 0xaa), msg).toBe(true);
    }
  });

  it("u64 values above 2^53 - 1 read as -1", () => {
    const big = [2n ** 53n, 2n ** 53n + 1n, 2n ** 60n, 2n ** 64n - 1n, 0x0020_0000_0000_0000n, 0xffff_ffff_0000_0000n];
    for (let i = 0; i < 1000; i++) big.push(2n ** 53n + BigInt(Math.floor(rand() * 2 ** 53)) * BigInt(int(1, 2047)));
    for (const v of big) {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, v & 0xffff_ffff_ffff_ffffn, true);
      expect(readU64LE(b, 0), `seed ${SEED}, value ${v}`).toBe(-1);
    }
    const max = new Uint8Array(8);
    new DataView(max.buffer).setBigUint64(0, 2n ** 53n - 1n, true);
    expect(readU64LE(max, 0)).toBe(MAX_SEQ);
  });

  it("u32 and u16 round-trip unsigned, byte-identical to DataView", () => {
    const b = new Uint8Array(8);
    const view = new DataView(b.buffer);
    for (let i = 0; i < 5000; i++) {
      const v32 = i < 4 ? [0, 1, 0x7fff_ffff, 0xffff_ffff][i]! : int(0, 0xffff_ffff);
      writeU32LE(b, 1, v32);
      expect(view.getUint32(1, true), `seed ${SEED}, u32 ${v32}`).toBe(v32);
      expect(readU32LE(b, 1), `seed ${SEED}, u32 ${v32}`).toBe(v32);
      const v16 = i < 3 ? [0, 0x7fff, 0xffff][i]! : int(0, 0xffff);
      writeU16LE(b, 3, v16);
      expect(view.getUint16(3, true), `seed ${SEED}, u16 ${v16}`).toBe(v16);
      expect(readU16LE(b, 3), `seed ${SEED}, u16 ${v16}`).toBe(v16);
    }
  });

  it("toHex is lowercase hex of the view", () => {
    const backing = Uint8Array.of(0x00, 0xab, 0xcd, 0xef, 0x10);
    expect(toHex(backing.subarray(1, 4))).toBe("abcdef");
    expect(toHex(new Uint8Array(0))).toBe("");
  });
});
