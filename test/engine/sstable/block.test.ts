/**
 * engine/sstable/block-builder.ts, block.ts and block-reader.ts: random round trips at several
 * restart intervals (full scans both ways, seeks to random targets, random next/prev walks)
 * against a sorted-array model; the stability guarantee of returned keys and values; the exact
 * entry layout; and hand-made malformed blocks, each of which must throw CorruptionError at the
 * damaged byte rather than decode.
 */
import { describe, expect, it } from "vitest";
import { CorruptionError } from "../../../engine/errors.js";
import { BlockBuilder } from "../../../engine/sstable/block-builder.js";
import { BlockIterator } from "../../../engine/sstable/block-reader.js";
import { Block } from "../../../engine/sstable/block.js";
import { BLOCK_TRAILER_SIZE } from "../../../engine/sstable/format.js";
import { encodeInternalKey } from "../../../engine/sstable/internal-key.js";
import { encodeVarint32 } from "../../../engine/util/varint.js";
import { Rng, testSeeds } from "../../fixtures/random.js";
import { EMPTY, type Entry, enc, hex, lowerBound, randomEntries, randomUserKey, show } from "./helpers.js";

const FILE = "000007.sst";
const BLOCK_AT = 1000;

function buildBlock(entries: readonly Entry[], interval: number): Uint8Array {
  const b = new BlockBuilder(interval);
  for (const e of entries) b.add(encodeInternalKey(e.key, e.seq, e.kind), e.value);
  const onDisk = b.finish();
  return onDisk.slice(0, onDisk.length - BLOCK_TRAILER_SIZE);
}

function open(contents: Uint8Array): BlockIterator {
  const it = new BlockIterator();
  it.reset(new Block(contents, FILE, BLOCK_AT));
  return it;
}

function expectAt(it: BlockIterator, entries: readonly Entry[], pos: number, ctx: string): void {
  const want = entries[pos];
  if (want === undefined) {
    expect(it.valid(), `${ctx}: expected invalid`).toBe(false);
    return;
  }
  expect(it.valid(), `${ctx}: expected ${show(want)}, got invalid`).toBe(true);
  expect({ key: hex(it.userKey()), seq: it.seq(), kind: it.kind(), value: hex(it.value()) }, ctx).toEqual({
    key: hex(want.key),
    seq: want.seq,
    kind: want.kind,
    value: hex(want.value),
  });
}

describe("block round trip", () => {
  for (const seed of testSeeds(3)) {
    for (const interval of [1, 2, 16]) {
      it(`scans, seeks and walks like the model (seed ${seed}, restart interval ${interval})`, () => {
        const rng = new Rng(seed);
        const entries = randomEntries(rng, { keys: rng.between(1, 400), maxVersions: 3 });
        const it = open(buildBlock(entries, interval));
        const label = `seed ${seed} interval ${interval}`;

        // Forward and backward scans, keeping every key and value to check they never change.
        const held: Array<[Uint8Array, Uint8Array, Entry]> = [];
        let i = 0;
        for (it.seekToFirst(); it.valid(); it.next(), i++) {
          expectAt(it, entries, i, `${label} forward ${i}`);
          held.push([it.userKey(), it.value(), entries[i]!]);
        }
        expect(i, label).toBe(entries.length);
        i = entries.length - 1;
        for (it.seekToLast(); it.valid(); it.prev(), i--) expectAt(it, entries, i, `${label} backward ${i}`);
        expect(i, label).toBe(-1);
        for (const [k, v, e] of held) {
          expect(hex(k), `${label}: a held key changed`).toBe(hex(e.key));
          expect(hex(v), `${label}: a held value changed`).toBe(hex(e.value));
        }

        // Seeks: existing keys at seqs around their versions, and absent keys.
        for (let s = 0; s < 300; s++) {
          const base = rng.chance(0.6) ? entries[rng.int(entries.length)]! : { key: randomUserKey(rng), seq: 0 };
          const seq = rng.pick([base.seq, base.seq + 1, Math.max(0, base.seq - 1), 0, Number.MAX_SAFE_INTEGER]);
          it.seek(base.key, seq);
          const pos = lowerBound(entries, base.key, seq);
          expectAt(it, entries, pos, `${label} seek ${hex(base.key)}@${seq}`);
          // A short walk from there, mixing directions.
          let p = pos;
          for (let w = 0; w < 6 && p >= 0 && p < entries.length; w++) {
            if (rng.chance(0.5)) {
              it.next();
              p++;
            } else {
              it.prev();
              p--;
            }
            expectAt(it, entries, p < 0 ? -1 : p, `${label} walk ${w} after seek ${hex(base.key)}@${seq}`);
          }
        }
      });
    }
  }

  it("seeks right where a key is a prefix of the target and the next key shares that key's trailer bytes", () => {
    // "ab"@5 is stored as a b 01 05 00..: the next key "ab\x01\x05" shares its first four bytes,
    // reaching into "ab"'s trailer. The target "ab\x01\x04" lies between the two.
    const entries: Entry[] = [
      { key: enc("aa"), seq: 9, kind: 1, value: enc("0") },
      { key: enc("ab"), seq: 5, kind: 1, value: enc("1") },
      { key: new Uint8Array([0x61, 0x62, 0x01, 0x05]), seq: 7, kind: 1, value: enc("2") },
      { key: enc("ac"), seq: 3, kind: 1, value: enc("3") },
    ];
    for (const interval of [1, 16]) {
      const it = open(buildBlock(entries, interval));
      for (const seq of [0, 6, Number.MAX_SAFE_INTEGER]) {
        it.seek(new Uint8Array([0x61, 0x62, 0x01, 0x04]), seq);
        expectAt(it, entries, 2, `interval ${interval}, seq ${seq}`);
      }
      it.seek(enc("ab"), 4); // Below "ab"@5's version: the next key.
      expectAt(it, entries, 2, `interval ${interval}, ab@4`);
    }
  });

  it("lays entries out as shared | unshared | valueLen | key delta | value, restarts at the end", () => {
    const b = new BlockBuilder(2);
    b.add(enc("abc"), enc("1"));
    b.add(enc("abd"), enc("22"));
    b.add(enc("abe"), EMPTY);
    const contents = b.finish();
    expect(hex(contents.subarray(0, contents.length - BLOCK_TRAILER_SIZE))).toBe(
      "000301" + hex(enc("abc1")) + // restart 0: whole key
        "020102" + hex(enc("d22")) + // shares "ab"
        "000300" + hex(enc("abe")) + // restart 1 at offset 13: whole key, empty value
        "00000000" + "0d000000" + "02000000",
    );
  });
});

describe("seeks in blocks whose keys share long prefixes", () => {
  // Document keys share their first ~15 bytes; seek compares that prefix once and skips bytes
  // that consecutive entries share with the target. Targets here leave the prefix below and
  // above, stop inside it, equal it, and run through the keys' tails.
  for (const seed of testSeeds(3)) {
    for (const interval of [1, 4, 16]) {
      it(`finds the first entry at or after each target (seed ${seed}, restart interval ${interval})`, () => {
        const rng = new Rng(seed);
        const prefix = rng.bytes(rng.between(1, 24));
        const tail = (): Uint8Array => {
          // Tails that share parts among themselves, so entries share bytes beyond the prefix.
          const n = rng.between(0, 10);
          const t = new Uint8Array(n);
          for (let i = 0; i < n; i++) t[i] = rng.chance(0.7) ? rng.pick([0x30, 0x31, 0x32]) : rng.int(256);
          return t;
        };
        const withPrefix = (t: Uint8Array): Uint8Array => {
          const k = new Uint8Array(prefix.length + t.length);
          k.set(prefix);
          k.set(t, prefix.length);
          return k;
        };
        const byKey = new Map<string, Uint8Array>();
        const count = rng.between(1, 300);
        while (byKey.size < count) {
          const k = withPrefix(tail());
          byKey.set(hex(k), k);
        }
        const keys = [...byKey.values()].sort((a, b) => Buffer.compare(a, b));
        const entries: Entry[] = [];
        for (const key of keys) {
          const versions = rng.between(1, 3);
          const seqs = [...new Set(Array.from({ length: versions }, () => rng.int(1000)))].sort((a, b) => b - a);
          for (const seq of seqs) entries.push({ key, seq, kind: 1, value: rng.bytes(rng.int(20)) });
        }
        const it = open(buildBlock(entries, interval));
        const label = `seed ${seed} interval ${interval} prefix ${hex(prefix)}`;
        for (let s = 0; s < 400; s++) {
          let target: Uint8Array;
          const r = rng.float();
          if (r < 0.4) target = rng.pick(keys);
          else if (r < 0.7) target = withPrefix(tail());
          else if (r < 0.8) target = prefix.slice(0, rng.int(prefix.length + 1));
          else {
            // Leaves the prefix at some byte, below or above it.
            const at = rng.int(prefix.length);
            target = prefix.slice(0, at + 1);
            target[at] = rng.chance(0.5) ? Math.max(0, target[at]! - 1 - rng.int(3)) : Math.min(255, target[at]! + 1 + rng.int(3));
            if (rng.chance(0.5)) target = Uint8Array.from([...target, ...tail()]);
          }
          const seq = rng.pick([0, 500, 1000, Number.MAX_SAFE_INTEGER]);
          it.seek(target, seq);
          expectAt(it, entries, lowerBound(entries, target, seq), `${label} seek ${hex(target)}@${seq}`);
        }
      });
    }
  }
});

describe("malformed blocks", () => {
  /** Entry bytes from (shared, unshared, valueLen, delta, value). */
  function entry(shared: number, unshared: number, valueLen: number, delta: Uint8Array, value: Uint8Array = EMPTY): number[] {
    const head = new Uint8Array(15);
    let p = encodeVarint32(head, 0, shared);
    p = encodeVarint32(head, p, unshared);
    p = encodeVarint32(head, p, valueLen);
    return [...head.subarray(0, p), ...delta, ...value];
  }
  const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
  const ik = (k: string, seq: number, kind = 1): Uint8Array => encodeInternalKey(enc(k), seq, kind);

  function expectCorrupt(bytes: number[], offsetInBlock: number, pattern: RegExp, use: (it: BlockIterator) => void = (it) => {
    for (it.seekToFirst(); it.valid(); it.next()) it.userKey();
  }): void {
    let err: unknown;
    try {
      use(open(Uint8Array.from(bytes)));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CorruptionError);
    const c = err as CorruptionError;
    expect(c.file).toBe(FILE);
    expect(c.message).toMatch(pattern);
    expect(c.offset).toBe(BLOCK_AT + offsetInBlock);
  }

  const good = [...entry(0, 9, 1, ik("a", 1), enc("x")), ...entry(0, 9, 0, ik("b", 1))];

  it("accepts the well-formed base case", () => {
    const it = open(Uint8Array.from([...good, ...u32(0), ...u32(1)]));
    it.seekToFirst();
    it.next();
    expect(hex(it.userKey())).toBe(hex(enc("b")));
  });

  it("rejects bad restart arrays", () => {
    expectCorrupt([1, 2, 3], 0, /too short/);
    expectCorrupt([...good, ...u32(0), ...u32(1000)], good.length + 4, /restart count/);
    expectCorrupt([...good, ...u32(0), ...u32(0)], good.length + 4, /restart count 0/);
    expectCorrupt([...good, ...u32(3), ...u32(1)], good.length, /restart point 0/);
    expectCorrupt([...good, ...u32(0), ...u32(0), ...u32(2)], good.length + 4, /restart point 1/);
    expectCorrupt([...good, ...u32(0), ...u32(good.length), ...u32(2)], good.length + 4, /restart point 1/);
    expectCorrupt([...u32(0), ...u32(1)], 0, /no entries/);
  });

  it("rejects entries that break their bounds", () => {
    // Value length runs past the entries.
    expectCorrupt([...entry(0, 9, 50, ik("a", 1)), ...u32(0), ...u32(1)], 0, /runs past/);
    // Shares more than the previous key has.
    expectCorrupt([...good, ...entry(12, 1, 0, enc("z")), ...u32(0), ...u32(1)], good.length, /shares 12 bytes of a 9-byte/);
    // A key shorter than the 8-byte trailer.
    expectCorrupt([...entry(0, 3, 0, enc("abc")), ...u32(0), ...u32(1)], 0, /shorter than its trailer/);
    // Kind 3.
    expectCorrupt([...entry(0, 9, 0, ik("a", 1, 3)), ...u32(0), ...u32(1)], 0, /trailer/);
    // A seq beyond 2^53.
    const big = ik("a", 1);
    big[8] = 0xff;
    expectCorrupt([...entry(0, 9, 0, big), ...u32(0), ...u32(1)], 0, /trailer/);
    // Truncated varint header at the end of the entries.
    expectCorrupt([...good, 0x80, ...u32(0), ...u32(1)], good.length, /malformed entry header/);
  });

  it("rejects restart points that are not whole entries", () => {
    const e0 = entry(0, 9, 0, ik("a", 5));
    const e1 = entry(8, 1, 0, ik("a", 4).subarray(8));
    // Second restart point sits on an entry that shares bytes: caught by a scan and by a seek.
    const shared = [...e0, ...e1, ...u32(0), ...u32(e0.length), ...u32(2)];
    expectCorrupt(shared, e0.length, /restart point entry shares/);
    expectCorrupt(shared, e0.length, /restart point entry shares/, (it) => it.seek(enc("b"), 0));
    // A restart point in the middle of an entry.
    const inside = [...e0, ...e1, ...u32(0), ...u32(e0.length + 1), ...u32(2)];
    expectCorrupt(inside, e0.length + 1, /restart point inside an entry/);
  });
});

describe("block builder", () => {
  it("reuses its buffer across blocks and restarts cleanly after reset", () => {
    const b = new BlockBuilder(16, 64);
    const rng = new Rng(1);
    for (let round = 0; round < 3; round++) {
      const entries = randomEntries(rng, { keys: 50 + round * 100, largeValueChance: 0.05 });
      for (const e of entries) b.add(encodeInternalKey(e.key, e.seq, e.kind), e.value);
      const contents = b.finish().slice(0, -BLOCK_TRAILER_SIZE);
      const it = open(contents);
      let i = 0;
      for (it.seekToFirst(); it.valid(); it.next()) expectAt(it, entries, i++, `round ${round}`);
      expect(i).toBe(entries.length);
      b.reset();
      expect(b.empty).toBe(true);
    }
    expect(() => {
      b.add(enc("a"), EMPTY);
      b.finish();
      b.add(enc("b"), EMPTY);
    }).toThrow(/after finish/);
  });
});
