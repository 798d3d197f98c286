/**
 * Unit tests of the skip list and the memtable built on it: internal-key order (user key ascending
 * as unsigned bytes, seq descending), replacement of an existing (key, seq), lookups at a snapshot
 * seq, and the memtable cursor (seek / next / prev / seekToLast) against a sorted-array model with
 * seeded random data.
 */
import { describe, expect, it } from "vitest";
import { Memtable } from "../../engine/memtable/memtable.js";
import { compareInternal, SkipList, type SkipNode } from "../../engine/memtable/skiplist.js";
import { EntryKind } from "../../engine/wal/record.js";
import { expectAt, randomKey, randomWalk, VersionModel, type ModelVersion } from "../fixtures/internal-model.js";
import { fromHex, hex, utf8 } from "../fixtures/kv-model.js";
import { Rng, testSeeds } from "../fixtures/random.js";

const seeds = testSeeds(5);

/** `count` random versions with seqs 1..count (each seq used once, keys repeating). */
function randomVersions(rng: Rng, count: number): ModelVersion[] {
  const out: ModelVersion[] = [];
  for (let seq = 1; seq <= count; seq++) {
    const kind = rng.chance(0.25) ? 2 : 1;
    out.push({ key: hex(randomKey(rng)), seq, kind, value: kind === 2 ? "" : hex(rng.bytes(rng.int(6))) });
  }
  return out;
}

/** The same versions in a random insertion order (a memtable sees them in seq order, but the list must not care). */
function shuffled<T>(rng: Rng, items: T[]): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function nodeOf(n: SkipNode | null): { key: string; seq: number } | null {
  return n === null ? null : { key: hex(n.key), seq: n.seq };
}

describe("compareInternal", () => {
  it("orders by user key as unsigned bytes, then by seq descending", () => {
    const k = (h: string) => fromHex(h);
    expect(compareInternal(k("00"), 1, k("ff"), 1)).toBeLessThan(0);
    expect(compareInternal(k("7f"), 1, k("80"), 1)).toBeLessThan(0);
    expect(compareInternal(k("ff"), 1, k("ff00"), 1)).toBeLessThan(0);
    expect(compareInternal(k("61"), 9, k("61"), 2)).toBeLessThan(0);
    expect(compareInternal(k("61"), 2, k("61"), 9)).toBeGreaterThan(0);
    expect(compareInternal(k("61"), 5, k("61"), 5)).toBe(0);
    // Seq never outranks the user key.
    expect(compareInternal(k("61"), 1, k("62"), 100)).toBeLessThan(0);
  });
});

describe("SkipList", () => {
  it("is empty when new", () => {
    const list = new SkipList();
    expect(list.size).toBe(0);
    expect(list.first()).toBeNull();
    expect(list.last()).toBeNull();
    expect(list.seek(utf8("a"), 1)).toBeNull();
  });

  it("replaces an entry with the same (key, seq) in place", () => {
    const list = new SkipList();
    expect(list.insert(utf8("k"), 5, EntryKind.Put, utf8("first"))).toBe(true);
    expect(list.insert(utf8("k"), 6, EntryKind.Put, utf8("newer"))).toBe(true);
    expect(list.insert(utf8("k"), 5, EntryKind.Delete, new Uint8Array(0))).toBe(false);
    expect(list.insert(utf8("k"), 5, EntryKind.Put, utf8("last"))).toBe(false);
    expect(list.size).toBe(2);
    const n = list.seek(utf8("k"), 5)!;
    expect([hex(n.key), n.seq, n.kind, hex(n.value)]).toEqual([hex(utf8("k")), 5, EntryKind.Put, hex(utf8("last"))]);
  });

  for (const seed of seeds) {
    it(`orders, seeks and steps back like a sorted array (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const label = `seed=${seed}`;
      const list = new SkipList();
      const model = new VersionModel();
      const versions = randomVersions(rng, 1500);
      for (const v of shuffled(rng, versions)) {
        expect(list.insert(fromHex(v.key), v.seq, v.kind, fromHex(v.value)), label).toBe(true);
        model.add(v);
      }
      // Replacements: same (key, seq), new kind and value.
      for (let i = 0; i < 100; i++) {
        const old = rng.pick(model.versions);
        const v: ModelVersion = { key: old.key, seq: old.seq, kind: 1, value: hex(rng.bytes(3)) };
        expect(list.insert(fromHex(v.key), v.seq, v.kind, fromHex(v.value)), label).toBe(false);
        model.add(v);
      }
      expect(list.size, label).toBe(model.versions.length);

      const walked: ModelVersion[] = [];
      for (let n = list.first(); n !== null; n = n.next[0]!) walked.push({ key: hex(n.key), seq: n.seq, kind: n.kind as 1 | 2, value: hex(n.value) });
      expect(walked, label).toEqual(model.versions);
      expect(nodeOf(list.last()), label).toEqual(nodeOf(list.seek(fromHex(model.versions.at(-1)!.key), model.versions.at(-1)!.seq)));

      for (let i = 0; i < 500; i++) {
        const key = hex(randomKey(rng));
        const seq = rng.pick([0, Number.MAX_SAFE_INTEGER, rng.int(1600)]);
        const want = model.versions[model.lowerBound(key, seq)];
        expect(nodeOf(list.seek(fromHex(key), seq)), `${label} seek(${key}@${seq})`).toEqual(want ? { key: want.key, seq: want.seq } : null);
      }

      let node = list.first()!;
      expect(list.findLessThan(node), label).toBeNull();
      for (let i = 1; i < model.versions.length; i++) {
        const next = node.next[0]!;
        expect(nodeOf(list.findLessThan(next)), `${label} findLessThan #${i}`).toEqual(nodeOf(node));
        node = next;
      }
    });
  }
});

describe("Memtable", () => {
  it("get returns the newest version at or below the seq, tombstones included", () => {
    const m = new Memtable();
    m.add(3, EntryKind.Put, utf8("k"), utf8("v3"));
    m.add(7, EntryKind.Delete, utf8("k"), new Uint8Array(0));
    m.add(9, EntryKind.Put, utf8("k"), utf8("v9"));
    m.add(5, EntryKind.Put, utf8("kk"), utf8("other key"));
    const at = (seq: number) => {
      const r = m.get(utf8("k"), seq);
      return r.found ? [r.kind, hex(r.value), r.seq] : "absent";
    };
    expect(at(2)).toBe("absent");
    expect(at(3)).toEqual([EntryKind.Put, hex(utf8("v3")), 3]);
    expect(at(6)).toEqual([EntryKind.Put, hex(utf8("v3")), 3]);
    expect(at(7)).toEqual([EntryKind.Delete, "", 7]);
    expect(at(8)).toEqual([EntryKind.Delete, "", 7]);
    expect(at(9)).toEqual([EntryKind.Put, hex(utf8("v9")), 9]);
    expect(at(Number.MAX_SAFE_INTEGER)).toEqual([EntryKind.Put, hex(utf8("v9")), 9]);
    // A key that is a prefix of a stored key, or that sorts between stored keys, is absent.
    expect(m.get(utf8("j"), 100).found).toBe(false);
    expect(m.get(utf8("kj"), 100).found).toBe(false);
    expect(m.get(utf8("kkk"), 100).found).toBe(false);
  });

  it("a later entry with the same (key, seq) replaces the earlier one, as inside a batch", () => {
    const m = new Memtable();
    m.add(4, EntryKind.Put, utf8("k"), utf8("a"));
    const bytes = m.approximateBytes;
    m.add(4, EntryKind.Delete, utf8("k"), new Uint8Array(0));
    expect(m.entryCount).toBe(1);
    expect(m.approximateBytes).toBe(bytes);
    let r = m.get(utf8("k"), 4);
    expect(r.found && r.kind).toBe(EntryKind.Delete);
    m.add(4, EntryKind.Put, utf8("k"), utf8("c"));
    r = m.get(utf8("k"), 4);
    expect(r.found && [r.kind, hex(r.value)]).toEqual([EntryKind.Put, hex(utf8("c"))]);
    expect(m.entryCount).toBe(1);
  });

  it("counts entries and grows its byte estimate with keys and values", () => {
    const m = new Memtable();
    expect([m.entryCount, m.approximateBytes]).toEqual([0, 0]);
    m.add(1, EntryKind.Put, utf8("key"), new Uint8Array(1000));
    const one = m.approximateBytes;
    expect(one).toBeGreaterThanOrEqual(1003);
    m.add(2, EntryKind.Delete, utf8("key"), new Uint8Array(0));
    expect(m.entryCount).toBe(2);
    expect(m.approximateBytes).toBeGreaterThan(one);
  });

  for (const seed of seeds) {
    it(`lookups and cursor moves match the model (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const label = `seed=${seed}`;
      const m = new Memtable();
      const model = new VersionModel();
      const versions = randomVersions(rng, 800);
      for (const v of versions) {
        m.add(v.seq, v.kind, fromHex(v.key), fromHex(v.value));
        model.add(v);
      }
      expect(m.entryCount, label).toBe(model.versions.length);

      for (let i = 0; i < 1000; i++) {
        const key = hex(randomKey(rng));
        const seq = rng.int(850);
        const want = model.lookup(key, seq);
        const r = m.get(fromHex(key), seq);
        const got = r.found ? { key, seq: r.seq, kind: r.kind, value: hex(r.value) } : undefined;
        expect(got, `${label} get(${key}@${seq})`).toEqual(want);
      }

      const it = m.iterator();
      it.seekToFirst();
      for (let i = 0; i < model.versions.length; i++, it.next()) expectAt(it, model, i, `${label} forward #${i}`);
      expectAt(it, model, model.versions.length, `${label} forward end`);
      it.seekToLast();
      for (let i = model.versions.length - 1; i >= 0; i--, it.prev()) expectAt(it, model, i, `${label} backward #${i}`);
      expectAt(it, model, -1, `${label} backward end`);

      randomWalk(it, model, rng, 3000, label);
      it.close();
      expect(it.valid(), label).toBe(false);
    });
  }

  it("a cursor keeps working while newer versions are added", () => {
    const m = new Memtable();
    for (const [i, k] of ["a", "c", "e"].entries()) m.add(i + 1, EntryKind.Put, utf8(k), utf8(k));
    const it = m.iterator();
    it.seek(utf8("c"), Number.MAX_SAFE_INTEGER);
    expect(hex(it.key())).toBe(hex(utf8("c")));
    // Added behind the cursor, at the cursor's key, and ahead of it.
    m.add(10, EntryKind.Put, utf8("b"), utf8("b"));
    m.add(11, EntryKind.Put, utf8("c"), utf8("c2"));
    m.add(12, EntryKind.Put, utf8("d"), utf8("d"));
    const seen: string[] = [];
    for (; it.valid(); it.next()) seen.push(`${Buffer.from(it.key()).toString()}@${it.seq()}`);
    expect(seen).toEqual(["c@2", "d@12", "e@3"]);
    it.seekToLast();
    const back: string[] = [];
    for (; it.valid(); it.prev()) back.push(`${Buffer.from(it.key()).toString()}@${it.seq()}`);
    expect(back).toEqual(["e@3", "d@12", "c@2", "c@11", "b@10", "a@1"]);
  });
});
