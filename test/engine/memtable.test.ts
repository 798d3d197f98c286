/**
 * Unit tests of the memtable and what it is built from (the byte arena, the skip list over node
 * pages): internal-key order (user key ascending as unsigned bytes, seq descending, seqs beyond
 * 2^32 included), replacement of an existing (key, seq), lookups at a snapshot seq, the cursor
 * (seek / next / prev / seekToLast) against a sorted-array model with seeded random data, cursors
 * that keep working while entries are added, views that stay unchanged while the memtable grows,
 * and the edges of the storage layout: empty values, values larger than a slab, 1-byte and
 * 65535-byte keys, enough entries to span many node pages and slabs.
 */
import { describe, expect, it } from "vitest";
import { Arena, LARGE_ALLOCATION, SLAB_SIZE } from "../../engine/memtable/arena.js";
import { MemtableKeyFilter } from "../../engine/memtable/key-filter.js";
import { Memtable } from "../../engine/memtable/memtable.js";
import { compareInternal } from "../../engine/memtable/skiplist.js";
import { EntryKind } from "../../engine/wal/record.js";
import { expectAt, randomKey, randomWalk, VersionModel, type ModelVersion } from "../fixtures/internal-model.js";
import { fromHex, hex, utf8 } from "../fixtures/kv-model.js";
import { Rng, testSeeds } from "../fixtures/random.js";

const seeds = testSeeds(5);
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** `count` random versions with seqs 1..count (each seq used once, keys repeating). */
function randomVersions(rng: Rng, count: number): ModelVersion[] {
  const out: ModelVersion[] = [];
  for (let seq = 1; seq <= count; seq++) {
    const kind = rng.chance(0.25) ? 2 : 1;
    out.push({ key: hex(randomKey(rng)), seq, kind, value: kind === 2 ? "" : hex(rng.bytes(rng.int(6))) });
  }
  return out;
}

/** The same items in a random order (the engine adds in seq order, but the memtable must not care). */
function shuffled<T>(rng: Rng, items: T[]): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function add(m: Memtable, model: VersionModel, v: ModelVersion): void {
  m.add(v.seq, v.kind, fromHex(v.key), fromHex(v.value));
  model.add(v);
}

/** Every entry, walking forward. */
function walk(m: Memtable): ModelVersion[] {
  const out: ModelVersion[] = [];
  const it = m.iterator();
  for (it.seekToFirst(); it.valid(); it.next()) out.push({ key: hex(it.key()), seq: it.seq(), kind: it.kind() as 1 | 2, value: hex(it.value()) });
  return out;
}

/**
 * Checks `m` against `model` completely: forward and backward walks, a get and a seek at every
 * version and between versions. Cost is linear in the entries, so keep models of big keys small.
 */
function expectSameAsModel(m: Memtable, model: VersionModel, label: string): void {
  expect(m.entryCount, label).toBe(model.versions.length);
  const n = model.versions.length;
  const it = m.iterator();
  it.seekToFirst();
  for (let i = 0; i < n; i++, it.next()) expectAt(it, model, i, `${label} forward #${i}`);
  expectAt(it, model, n, `${label} forward end`);
  it.seekToLast();
  for (let i = n - 1; i >= 0; i--, it.prev()) expectAt(it, model, i, `${label} backward #${i}`);
  expectAt(it, model, -1, `${label} backward end`);
  for (const [i, v] of model.versions.entries()) {
    it.seek(fromHex(v.key), v.seq);
    expectAt(it, model, i, `${label} seek(${v.key.slice(0, 16)}@${v.seq})`);
    const r = m.get(fromHex(v.key), v.seq);
    expect(r.found && { key: v.key, seq: r.seq, kind: r.kind, value: hex(r.value) }, `${label} get at #${i}`).toEqual(v);
    // Just below the version's seq: the next older version of the key, if any.
    const older = model.lookup(v.key, v.seq - 1);
    const r2 = m.get(fromHex(v.key), v.seq - 1);
    expect(r2.found ? r2.seq : undefined, `${label} get below #${i}`).toBe(older?.seq);
  }
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

describe("Arena", () => {
  for (const seed of seeds) {
    it(`hands out disjoint ranges whose bytes never change, large ones in buffers of their own (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const label = `seed=${seed}`;
      const arena = new Arena();
      const held: Array<{ view: Uint8Array; want: string; slab: number; offset: number; n: number }> = [];
      // Used bytes: everything requested, plus the tail of each retired slab.
      let expectedUsed = 0;
      let current: { slab: number; end: number } | null = null;
      for (let i = 0; i < 150; i++) {
        const n = rng.pick([1, 2, 17, rng.int(300) + 1, rng.int(5000) + 1, LARGE_ALLOCATION, LARGE_ALLOCATION + 1, rng.int(SLAB_SIZE) + 1]);
        const bytes = rng.bytes(n);
        const slab = arena.allocate(n);
        const offset = arena.offset;
        arena.write(slab, offset, bytes);
        expectedUsed += n;
        if (n > LARGE_ALLOCATION) {
          expect([offset, arena.slabs[slab]!.length], `${label} large #${i}`).toEqual([0, n]);
        } else {
          if (current !== null && current.slab !== slab) {
            expect(offset, `${label} #${i} starts a new slab`).toBe(0);
            // Retired only because the request did not fit.
            expect(arena.slabs[current.slab]!.length - current.end, `${label} #${i} tail`).toBeLessThan(n);
            expectedUsed += arena.slabs[current.slab]!.length - current.end;
          }
          expect(arena.slabs[slab]!.length, `${label} #${i} slab size`).toBeLessThanOrEqual(SLAB_SIZE);
          current = { slab, end: offset + n };
        }
        expect(offset + n, `${label} #${i} inside its slab`).toBeLessThanOrEqual(arena.slabs[slab]!.length);
        expect(arena.bytesUsed, `${label} #${i} bytes used`).toBe(expectedUsed);
        held.push({ view: arena.view(slab, offset, n), want: hex(bytes), slab, offset, n });
      }
      for (const [i, h] of held.entries()) expect(hex(h.view), `${label} view #${i}`).toBe(h.want);
      // No two ranges overlap.
      const sorted = held.slice().sort((a, b) => a.slab - b.slab || a.offset - b.offset);
      for (let i = 1; i < sorted.length; i++) {
        const [a, b] = [sorted[i - 1]!, sorted[i]!];
        if (a.slab === b.slab) expect(a.offset + a.n, `${label} overlap at slab ${a.slab}`).toBeLessThanOrEqual(b.offset);
      }
    });
  }

  it("returns an empty view for zero bytes", () => {
    const arena = new Arena();
    expect(arena.view(arena.allocate(0), arena.offset, 0).length).toBe(0);
    expect(arena.bytesUsed).toBe(0);
  });
});

describe("Memtable", () => {
  it("is empty when new", () => {
    const m = new Memtable();
    expect([m.entryCount, m.approximateBytes]).toEqual([0, 0]);
    expect(m.get(utf8("a"), MAX_SEQ).found).toBe(false);
    const it = m.iterator();
    it.seekToFirst();
    expect(it.valid()).toBe(false);
    it.seekToLast();
    expect(it.valid()).toBe(false);
    it.seek(utf8("a"), 0);
    expect(it.valid()).toBe(false);
  });

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
    expect(at(MAX_SEQ)).toEqual([EntryKind.Put, hex(utf8("v9")), 9]);
    // A key that is a prefix of a stored key, or that sorts between stored keys, is absent.
    expect(m.get(utf8("j"), 100).found).toBe(false);
    expect(m.get(utf8("kj"), 100).found).toBe(false);
    expect(m.get(utf8("kkk"), 100).found).toBe(false);
  });

  it("orders seqs across the 2^32 boundary and up to 2^53 - 1, newest first", () => {
    const seqs = [1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 7, MAX_SEQ - 1, MAX_SEQ];
    const rng = new Rng(7);
    const m = new Memtable();
    for (const seq of shuffled(rng, seqs)) m.add(seq, EntryKind.Put, utf8("k"), utf8(String(seq)));
    expect(walk(m).map((v) => v.seq)).toEqual(seqs.slice().reverse());
    for (const seq of seqs) {
      const r = m.get(utf8("k"), seq);
      expect(r.found && [r.seq, Buffer.from(r.value).toString()], `get at ${seq}`).toEqual([seq, String(seq)]);
      const below = m.get(utf8("k"), seq - 1);
      expect(below.found ? below.seq : 0, `get below ${seq}`).toBe(seqs[seqs.indexOf(seq) - 1] ?? 0);
    }
  });

  it("a later entry with the same (key, seq) replaces the earlier one, as inside a batch", () => {
    const m = new Memtable();
    m.add(4, EntryKind.Put, utf8("k"), utf8("a"));
    m.add(5, EntryKind.Put, utf8("k"), utf8("newer"));
    const bytes = m.approximateBytes;
    m.add(4, EntryKind.Delete, utf8("k"), new Uint8Array(0));
    expect(m.entryCount).toBe(2);
    // A tombstone has no bytes to store.
    expect(m.approximateBytes).toBe(bytes);
    let r = m.get(utf8("k"), 4);
    expect(r.found && [r.kind, r.value.length]).toEqual([EntryKind.Delete, 0]);
    m.add(4, EntryKind.Put, utf8("k"), utf8("cc"));
    r = m.get(utf8("k"), 4);
    expect(r.found && [r.kind, hex(r.value)]).toEqual([EntryKind.Put, hex(utf8("cc"))]);
    expect(m.entryCount).toBe(2);
    // The replaced value's bytes are still held (a reader may hold a view), the new ones added.
    expect(m.approximateBytes).toBe(bytes + 2);
    r = m.get(utf8("k"), 5);
    expect(r.found && hex(r.value)).toBe(hex(utf8("newer")));
  });

  it("counts entries and grows its byte estimate with keys, values and index nodes", () => {
    const m = new Memtable();
    m.add(1, EntryKind.Put, utf8("key"), new Uint8Array(1000));
    const one = m.approximateBytes;
    expect(one).toBeGreaterThanOrEqual(1003);
    // Index overhead is a few dozen bytes per entry, not hundreds.
    expect(one).toBeLessThan(1003 + 100);
    m.add(2, EntryKind.Delete, utf8("key"), new Uint8Array(0));
    expect(m.entryCount).toBe(2);
    expect(m.approximateBytes).toBeGreaterThan(one + 3);
  });

  it("copies keys and values: the caller may reuse its arrays", () => {
    const m = new Memtable();
    const key = utf8("key1");
    const value = utf8("value1");
    m.add(1, EntryKind.Put, key, value);
    key.fill(0x7a);
    value.fill(0x7a);
    const r = m.get(utf8("key1"), 1);
    expect(r.found && hex(r.value)).toBe(hex(utf8("value1")));
    expect(m.get(key, 1).found).toBe(false);
  });

  it("stores empty values, values around the large-allocation limit and larger than a slab", () => {
    const rng = new Rng(11);
    const m = new Memtable();
    const model = new VersionModel();
    const sizes = [0, 1, LARGE_ALLOCATION - 3, LARGE_ALLOCATION, LARGE_ALLOCATION + 1, SLAB_SIZE, SLAB_SIZE + 123, 3 * SLAB_SIZE];
    let seq = 0;
    for (const n of sizes) {
      seq++;
      add(m, model, { key: hex(utf8(`v${n}`)), seq, kind: 1, value: hex(rng.bytes(n)) });
      // A long key with a value that fits alone but not together with the key.
      seq++;
      add(m, model, { key: hex(new Uint8Array(0xffff).fill(seq)), seq, kind: 1, value: hex(rng.bytes(Math.min(n, LARGE_ALLOCATION))) });
    }
    expectSameAsModel(m, model, "sizes");
    const total = sizes.reduce((a, n) => a + n + Math.min(n, LARGE_ALLOCATION), 0);
    expect(m.approximateBytes).toBeGreaterThanOrEqual(total);
  });

  it("orders 1-byte keys, 65535-byte keys, 0x00 and 0xff bytes, shared prefixes of every length", () => {
    const rng = new Rng(23);
    const long = (fill: number, len: number, at?: number, b?: number) => {
      const k = new Uint8Array(len).fill(fill);
      if (at !== undefined) k[at] = b!;
      return k;
    };
    const keys = [
      Uint8Array.of(0x00),
      Uint8Array.of(0xff),
      Uint8Array.of(0x00, 0x00),
      Uint8Array.of(0xff, 0x00),
      Uint8Array.of(0x7f),
      Uint8Array.of(0x80),
      long(0xff, 0xffff),
      long(0xff, 0xfffe),
      long(0xff, 0xffff, 0xfffe, 0x00),
      long(0x00, 0xffff),
      long(0x00, 0xffff, 0xfffe, 0x01),
      // Differences just before, at and after the first 32 bytes, and deep inside.
      long(0x61, 100, 31, 0x60),
      long(0x61, 100, 32, 0x62),
      long(0x61, 100, 33, 0x00),
      long(0x61, 100, 99, 0xff),
      long(0x61, 100),
      long(0x61, 40000, 30000, 0x00),
      long(0x61, 40000),
      long(0x61, 32),
      long(0x61, 33),
    ];
    const m = new Memtable();
    const model = new VersionModel();
    let seq = 0;
    const versions: ModelVersion[] = [];
    for (const k of keys) for (let i = 0; i < 3; i++) versions.push({ key: hex(k), seq: ++seq, kind: rng.chance(0.3) ? 2 : 1, value: "" });
    for (const v of versions) v.value = v.kind === 2 ? "" : hex(rng.bytes(rng.int(4)));
    for (const v of shuffled(rng, versions)) add(m, model, v);
    expectSameAsModel(m, model, "keys");
    // Keys that are views at an offset into a larger buffer compare the same (native compare included).
    for (const k of keys) {
      const backing = new Uint8Array(k.length + 10).fill(0x55);
      backing.set(k, 5);
      const view = backing.subarray(5, 5 + k.length);
      const want = model.lookup(hex(k), MAX_SEQ)!;
      const r = m.get(view, MAX_SEQ);
      expect(r.found && r.seq, `get through a view (${k.length} bytes)`).toBe(want.seq);
      const it = m.iterator();
      // (key, 0) follows every version of the key: one step back is its oldest version.
      it.seek(view, 0);
      if (it.valid()) it.prev();
      else it.seekToLast();
      expectAt(it, model, model.lowerBound(hex(k), 0) - 1, `seek through a view, prev (${k.length} bytes)`);
    }
    // Absent keys next to the stored ones.
    for (const k of [long(0xff, 0xfffd), long(0x61, 99), long(0x61, 40000, 39999, 0x62), Uint8Array.of(0x00, 0x00, 0x00)]) {
      expect(m.get(k, MAX_SEQ).found, `absent ${hex(k.subarray(0, 8))}… (${k.length} bytes)`).toBe(false);
      const it = m.iterator();
      it.seek(k, MAX_SEQ);
      expectAt(it, model, model.lowerBound(hex(k), MAX_SEQ), `seek absent (${k.length} bytes)`);
    }
  });

  for (const seed of seeds) {
    it(`orders, seeks, steps back and looks up like a sorted array (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const label = `seed=${seed}`;
      const m = new Memtable();
      const model = new VersionModel();
      for (const v of shuffled(rng, randomVersions(rng, 1500))) add(m, model, v);
      // Replacements: same (key, seq), new kind and value.
      for (let i = 0; i < 100; i++) {
        const old = rng.pick(model.versions);
        const kind = rng.chance(0.3) ? 2 : 1;
        add(m, model, { key: old.key, seq: old.seq, kind, value: kind === 2 ? "" : hex(rng.bytes(rng.int(5))) });
      }
      expect(walk(m), label).toEqual(model.versions);
      expectSameAsModel(m, model, label);

      for (let i = 0; i < 1000; i++) {
        const key = hex(randomKey(rng));
        const seq = rng.pick([0, MAX_SEQ, rng.int(1600)]);
        const want = model.lookup(key, seq);
        const r = m.get(fromHex(key), seq);
        const got = r.found ? { key, seq: r.seq, kind: r.kind, value: hex(r.value) } : undefined;
        expect(got, `${label} get(${key}@${seq})`).toEqual(want);
      }

      const it = m.iterator();
      randomWalk(it, model, rng, 3000, label);
      it.close();
      expect(it.valid(), label).toBe(false);
    });
  }

  it("spans many node pages and slabs: 40000 entries", () => {
    const m = new Memtable();
    const value = new Uint8Array(64);
    const n = 40000;
    // Keys in a scrambled order, each written twice (two versions).
    const newest = new Map<string, number>();
    for (let seq = 1; seq <= 2 * n; seq++) {
      const key = `key:${String((seq * 7919) % n).padStart(8, "0")}`;
      value.fill(seq & 0xff);
      m.add(seq, EntryKind.Put, utf8(key), value);
      newest.set(key, seq);
    }
    expect(m.entryCount).toBe(2 * n);
    // 64 + 12 bytes of data per entry, plus the index.
    expect(m.approximateBytes).toBeGreaterThan(2 * n * 76);
    const it = m.iterator();
    let count = 0;
    let prevKey = "";
    let prevSeq = 0;
    for (it.seekToFirst(); it.valid(); it.next(), count++) {
      const k = Buffer.from(it.key()).toString();
      const seq = it.seq();
      if (k === prevKey) expect(seq, `#${count}`).toBeLessThan(prevSeq);
      else expect(k > prevKey, `#${count}: ${k} after ${prevKey}`).toBe(true);
      expect(it.value()[0], `#${count} value`).toBe(seq & 0xff);
      prevKey = k;
      prevSeq = seq;
    }
    expect(count).toBe(2 * n);
    count = 0;
    for (it.seekToLast(); it.valid(); it.prev()) count++;
    expect(count).toBe(2 * n);
    expect(newest.size).toBe(n);
    for (const [key, seq] of newest) {
      if (seq % 7 !== 0) continue;
      const r = m.get(utf8(key), MAX_SEQ);
      expect(r.found && [r.seq, r.value[0]], `get ${key}`).toEqual([seq, seq & 0xff]);
    }
  });

  it("a cursor keeps working while newer versions are added", () => {
    const m = new Memtable();
    for (const [i, k] of ["a", "c", "e"].entries()) m.add(i + 1, EntryKind.Put, utf8(k), utf8(k));
    const it = m.iterator();
    it.seek(utf8("c"), MAX_SEQ);
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

  for (const seed of seeds) {
    it(`cursors keep their entry and step to its current neighbours while thousands of entries are added (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const label = `seed=${seed}`;
      const m = new Memtable();
      const model = new VersionModel();
      const all = shuffled(rng, randomVersions(rng, 6000));
      for (const v of all.slice(0, 200)) add(m, model, v);
      const cursors = Array.from({ length: 4 }, () => {
        const it = m.iterator();
        it.seekToFirst();
        return it;
      });
      let next = 200;
      for (let step = 0; step < 3000; step++) {
        // Insert a few entries (enough to fill new node pages and slabs over the run).
        for (let i = rng.int(4); i > 0 && next < all.length; i--) add(m, model, all[next++]!);
        const it = rng.pick(cursors);
        if (!it.valid()) {
          if (rng.chance(0.5)) it.seekToFirst();
          else it.seekToLast();
          continue;
        }
        const at = model.lowerBound(hex(it.key()), it.seq());
        const ctx = `${label} step ${step}`;
        expectAt(it, model, at, `${ctx} cursor still on its entry`);
        if (rng.chance(0.5)) {
          it.next();
          expectAt(it, model, at + 1, `${ctx} next`);
        } else {
          it.prev();
          expectAt(it, model, at - 1, `${ctx} prev`);
        }
      }
      expect(next, label).toBeGreaterThan(4000);
      expectSameAsModel(m, model, label);
    });
  }

  it("views handed out stay unchanged while the memtable grows and values are replaced", () => {
    const rng = new Rng(31);
    const m = new Memtable();
    const held: Array<{ key: Uint8Array; value: Uint8Array; wantKey: string; wantValue: string }> = [];
    for (let seq = 1; seq <= 5000; seq++) {
      const key = rng.bytes(rng.between(1, 40));
      const value = rng.bytes(rng.chance(0.002) ? SLAB_SIZE + rng.int(1000) : rng.int(200));
      m.add(seq, EntryKind.Put, key, value);
      if (seq % 50 === 0) {
        const r = m.get(key, seq);
        if (!r.found) throw new Error(`missing entry ${seq}`);
        const it = m.iterator();
        it.seek(key, seq);
        held.push({ key: it.key(), value: r.value, wantKey: hex(key), wantValue: hex(value) });
        // Replace the entry in place: the held value view must keep the old bytes.
        m.add(seq, EntryKind.Put, key, rng.bytes(value.length));
      }
    }
    for (const [i, h] of held.entries()) {
      expect(hex(h.key), `key view #${i}`).toBe(h.wantKey);
      expect(hex(h.value), `value view #${i}`).toBe(h.wantValue);
    }
  });
});

describe("memtable key filter", () => {
  for (const seed of seeds) {
    it(`never misses an added key and rarely admits others (seed ${seed})`, () => {
      const rng = new Rng(seed);
      // A small budget, so the filter is as full as a real memtable's gets.
      const filter = new MemtableKeyFilter(64 * 1024);
      const added = new Set<string>();
      for (let i = 0; i < 2000; i++) {
        const k = rng.bytes(rng.between(1, 40));
        filter.add(k);
        added.add(hex(k));
      }
      for (const k of added) expect(filter.mayContain(fromHex(k)), `seed ${seed}`).toBe(true);
      let falsePositives = 0;
      let others = 0;
      for (let i = 0; i < 20000; i++) {
        const k = rng.bytes(rng.between(1, 40));
        if (added.has(hex(k))) continue;
        others++;
        if (filter.mayContain(k)) falsePositives++;
      }
      // 32 bits per key and two probes: about 0.4% expected.
      expect(falsePositives / others, `seed ${seed}`).toBeLessThan(0.02);
    });
  }

  it("with the filter in front, present keys are still found and absent keys are not", () => {
    const m = new Memtable(64 * 1024);
    for (let i = 0; i < 500; i++) m.add(i + 1, EntryKind.Put, utf8(`key${i}`), utf8(`v${i}`));
    for (let i = 0; i < 500; i++) {
      const r = m.get(utf8(`key${i}`), MAX_SEQ);
      expect(r.found && hex(r.value)).toBe(hex(utf8(`v${i}`)));
    }
    for (let i = 500; i < 1000; i++) expect(m.get(utf8(`key${i}`), MAX_SEQ).found).toBe(false);
  });
});
