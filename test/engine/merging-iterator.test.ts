/**
 * The merging iterator over several memtable cursors: one ordered stream of every version, with
 * seeks and direction switches, checked step by step against a sorted-array model of the union.
 * Children hold disjoint (key, seq) pairs, as the engine's sources do, but the same user key
 * appears in several of them with different seqs (an older version flushed, a newer one in the
 * memtable), which is what makes direction switches hard.
 */
import { describe, expect, it } from "vitest";
import { MergingIterator } from "../../engine/iterator/merging-iterator.js";
import { Memtable } from "../../engine/memtable/memtable.js";
import { EntryKind } from "../../engine/wal/record.js";
import { expectAt, randomKey, randomWalk, VersionModel } from "../fixtures/internal-model.js";
import { fromHex, hex, utf8 } from "../fixtures/kv-model.js";
import { Rng, testSeeds } from "../fixtures/random.js";

const seeds = testSeeds(5);

/** `children` memtables sharing `count` random versions, and the model of their union. */
function build(rng: Rng, children: number, count: number): { tables: Memtable[]; model: VersionModel } {
  const tables = Array.from({ length: children }, () => new Memtable());
  const model = new VersionModel();
  // Skewed placement: some children get most entries, some few or none.
  const weights = tables.map(() => rng.pick([0, 1, 1, 4, 10]));
  const total = weights.reduce((a, b) => a + b, 0);
  for (let seq = 1; seq <= count; seq++) {
    let r = rng.int(Math.max(total, 1));
    let child = 0;
    while (total > 0 && r >= weights[child]!) r -= weights[child++]!;
    const key = randomKey(rng);
    const kind = rng.chance(0.25) ? EntryKind.Delete : EntryKind.Put;
    const value = kind === EntryKind.Delete ? new Uint8Array(0) : rng.bytes(rng.int(5));
    tables[child]!.add(seq, kind, key, value);
    model.add({ key: hex(key), seq, kind, value: hex(value) });
  }
  return { tables, model };
}

function merged(tables: Memtable[]): MergingIterator {
  return new MergingIterator(tables.map((t) => t.iterator()));
}

describe("MergingIterator", () => {
  it("with no children is never valid", () => {
    const it = new MergingIterator([]);
    it.seekToFirst();
    expect(it.valid()).toBe(false);
    it.seekToLast();
    expect(it.valid()).toBe(false);
    it.seek(utf8("a"), 1);
    expect(it.valid()).toBe(false);
  });

  it("interleaves versions of one key held by different children", () => {
    const a = new Memtable();
    const b = new Memtable();
    a.add(1, EntryKind.Put, utf8("k"), utf8("1"));
    b.add(2, EntryKind.Delete, utf8("k"), new Uint8Array(0));
    a.add(3, EntryKind.Put, utf8("k"), utf8("3"));
    b.add(4, EntryKind.Put, utf8("j"), utf8("4"));
    b.add(5, EntryKind.Put, utf8("l"), utf8("5"));
    const it = merged([a, b]);
    const order: string[] = [];
    for (it.seekToFirst(); it.valid(); it.next()) order.push(`${Buffer.from(it.key()).toString()}@${it.seq()}`);
    expect(order).toEqual(["j@4", "k@3", "k@2", "k@1", "l@5"]);

    // Switch direction in the middle of k's versions, both ways.
    it.seek(utf8("k"), 2);
    expect(it.seq()).toBe(2);
    it.prev();
    expect(it.seq()).toBe(3);
    it.prev();
    expect(it.seq()).toBe(4);
    it.next();
    expect(it.seq()).toBe(3);
    it.next();
    expect(it.seq()).toBe(2);
    it.next();
    expect(it.seq()).toBe(1);
    it.prev();
    expect(it.seq()).toBe(2);
    it.next();
    it.next();
    expect(it.seq()).toBe(5);
    it.next();
    expect(it.valid()).toBe(false);
  });

  for (const seed of seeds) {
    it(`matches the sorted union under random seeks and direction switches (seed ${seed})`, () => {
      const rng = new Rng(seed);
      for (const children of [1, 2, 3, 5, 9]) {
        const label = `seed=${seed} children=${children}`;
        const { tables, model } = build(rng, children, 600);
        const it = merged(tables);

        it.seekToFirst();
        for (let i = 0; i < model.versions.length; i++, it.next()) expectAt(it, model, i, `${label} forward #${i}`);
        expectAt(it, model, model.versions.length, `${label} forward end`);
        it.seekToLast();
        for (let i = model.versions.length - 1; i >= 0; i--, it.prev()) expectAt(it, model, i, `${label} backward #${i}`);
        expectAt(it, model, -1, `${label} backward end`);

        // Alternating single steps: every step is a direction switch.
        const start = model.lowerBound(hex(randomKey(rng)), rng.int(600));
        if (start < model.versions.length) {
          const v = model.versions[start]!;
          it.seek(fromHex(v.key), v.seq);
          let pos = start;
          for (let i = 0; i < 200 && pos > 0 && pos < model.versions.length - 1; i++) {
            if (i % 2 === 0) {
              it.next();
              it.next();
              pos += 2;
            } else {
              it.prev();
              pos -= 1;
            }
            if (pos >= model.versions.length) break;
            expectAt(it, model, pos, `${label} zigzag #${i}`);
          }
        }

        randomWalk(it, model, rng, 3000, label);
        it.close();
      }
    });
  }
});
