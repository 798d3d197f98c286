/**
 * engine/sstable/block-cache.ts: LRU eviction by bytes, hit/miss counting, per-file eviction,
 * replacement, the disabled (capacity 0) cache, and a randomized run against a simple model;
 * plus the cache's use by a table reader (a second read of a block is a hit and reads nothing).
 */
import { describe, expect, it } from "vitest";
import { MemFs } from "../../../engine/fs/mem-fs.js";
import type { RandomAccessFile } from "../../../engine/fs/fs.js";
import { BlockCache } from "../../../engine/sstable/block-cache.js";
import { Block } from "../../../engine/sstable/block.js";
import { TableReader } from "../../../engine/sstable/table-reader.js";
import { Rng, testSeeds } from "../../fixtures/random.js";
import { buildTable, enc, type Entry } from "./helpers.js";

/** A minimal well-formed block of `size` content bytes (one entry, one restart point). */
function block(size: number): Block {
  const data = new Uint8Array(Math.max(size, 8 + 8 + 3));
  data[0] = 0;
  data[1] = 8;
  data[2] = 0;
  data[3 + 8] = 1; // kind
  data.set([0, 0, 0, 0, 1, 0, 0, 0], data.length - 8);
  return new Block(data, "t.sst", 0);
}

describe("block cache", () => {
  it("evicts least recently used blocks to stay within its byte capacity", () => {
    const one = block(1000);
    const cache = new BlockCache(one.charge * 3);
    cache.insert(1, 0, block(1000));
    cache.insert(1, 100, block(1000));
    cache.insert(2, 0, block(1000));
    expect(cache.get(1, 0)).toBeDefined(); // now most recent; (1,100) is the oldest
    cache.insert(2, 100, block(1000));
    expect(cache.get(1, 100)).toBeUndefined();
    expect(cache.get(1, 0)).toBeDefined();
    expect(cache.get(2, 0)).toBeDefined();
    expect(cache.get(2, 100)).toBeDefined();
    expect(cache.stats()).toEqual({ capacity: one.charge * 3, usedBytes: one.charge * 3, blocks: 3, hits: 4, misses: 1 });
    // A big block pushes out as many as it needs.
    cache.insert(3, 0, block(2500));
    expect(cache.usedBytes).toBeLessThanOrEqual(cache.capacity);
    expect(cache.get(3, 0)).toBeDefined();
    expect(cache.get(1, 0)).toBeUndefined();
  });

  it("does not cache a block larger than the whole capacity", () => {
    const cache = new BlockCache(500);
    cache.insert(1, 0, block(1000));
    expect(cache.get(1, 0)).toBeUndefined();
    expect(cache.usedBytes).toBe(0);
  });

  it("is disabled at capacity 0", () => {
    const cache = new BlockCache(0);
    cache.insert(1, 0, block(10));
    expect(cache.get(1, 0)).toBeUndefined();
    expect(cache.stats().blocks).toBe(0);
  });

  it("replaces an entry inserted twice and drops a whole file on evictFile", () => {
    const cache = new BlockCache(100_000);
    const a = block(100);
    const b = block(200);
    cache.insert(1, 0, a);
    cache.insert(1, 0, b);
    expect(cache.get(1, 0)).toBe(b);
    expect(cache.usedBytes).toBe(b.charge);
    for (let off = 1; off < 10; off++) cache.insert(1, off * 1000, block(100));
    cache.insert(2, 0, a);
    cache.evictFile(1);
    expect(cache.stats().blocks).toBe(1);
    expect(cache.usedBytes).toBe(a.charge);
    expect(cache.get(2, 0)).toBe(a);
    cache.evictFile(1); // nothing left: no-op
    cache.insert(1, 0, b); // the file's map is rebuilt after eviction
    expect(cache.get(1, 0)).toBe(b);
  });

  it("rejects a bad capacity", () => {
    expect(() => new BlockCache(-1)).toThrow(RangeError);
    expect(() => new BlockCache(1.5)).toThrow(RangeError);
  });

  for (const seed of testSeeds(2)) {
    it(`matches an LRU model under random use (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const capacity = rng.between(2000, 20_000);
      const cache = new BlockCache(capacity);
      // Model: array ordered oldest -> newest of [key, charge].
      let model: Array<[string, number, Block]> = [];
      let used = 0;
      for (let step = 0; step < 3000; step++) {
        const file = rng.int(4);
        const off = rng.int(8) * 4096;
        const key = `${file}:${off}`;
        const r = rng.int(10);
        if (r < 5) {
          const got = cache.get(file, off);
          const i = model.findIndex((m) => m[0] === key);
          expect(got, `seed ${seed} step ${step} get ${key}`).toBe(i >= 0 ? model[i]![2] : undefined);
          if (i >= 0) model.push(...model.splice(i, 1));
        } else if (r < 9) {
          const b = block(rng.between(20, 1500));
          cache.insert(file, off, b);
          const i = model.findIndex((m) => m[0] === key);
          if (i >= 0) used -= model.splice(i, 1)[0]![1];
          if (b.charge <= capacity) {
            model.push([key, b.charge, b]);
            used += b.charge;
            while (used > capacity) used -= model.shift()![1];
          }
        } else {
          cache.evictFile(file);
          model = model.filter((m) => {
            if (m[0].startsWith(`${file}:`)) {
              used -= m[1];
              return false;
            }
            return true;
          });
        }
        expect(cache.usedBytes, `seed ${seed} step ${step}`).toBe(used);
        expect(cache.stats().blocks, `seed ${seed} step ${step}`).toBe(model.length);
      }
    });
  }

  it("serves a table's repeated block reads without touching the file, holding them inflated", async () => {
    const fs = new MemFs();
    fs.mkdirp("/t");
    const entries: Entry[] = Array.from({ length: 2000 }, (_, i) => ({
      key: enc(`key${String(i).padStart(6, "0")}`),
      seq: 1,
      kind: 1,
      value: enc(`value-${i}`),
    }));
    await buildTable(fs, "/t/1.sst", entries);
    const inner = fs.openRead("/t/1.sst");
    let reads = 0;
    const counting: RandomAccessFile = {
      read: (p, n) => {
        reads++;
        return inner.read(p, n);
      },
      size: () => inner.size(),
      close: () => inner.close(),
    };
    const cache = new BlockCache(1 << 20);
    const t = TableReader.open(counting, "/t/1.sst", 1, cache);
    const afterOpen = reads;
    expect(afterOpen).toBe(2); // footer, then filter + meta + index in one read
    expect(t.get(enc("key000500"), 5).found).toBe(true);
    expect(reads).toBe(afterOpen + 1);
    expect(t.get(enc("key000501"), 5).found).toBe(true); // same block
    expect(reads).toBe(afterOpen + 1);
    expect(cache.hits).toBe(1);
    expect(cache.misses).toBe(1);
    // A full scan reads each block once more at most, then everything is cached.
    const it = t.iterator();
    for (it.seekToFirst(); it.valid(); it.next());
    const afterScan = reads;
    for (it.seekToFirst(); it.valid(); it.next());
    expect(reads).toBe(afterScan);
    expect(afterScan - afterOpen).toBe(t.properties.dataBlocks);
    // The blocks are stored compressed and cached (and charged) uncompressed.
    const p = t.properties;
    expect(p.dataStoredBytes).toBeLessThan(p.dataRawBytes / 2);
    expect(cache.stats().blocks).toBe(p.dataBlocks);
    expect(cache.usedBytes).toBeGreaterThan(p.dataRawBytes);
  });
});
