/**
 * Values returned by `Engine.getSync` are copies carved from shared slabs (engine/util/copy-slab.ts):
 * each must hold exactly its value, stay unchanged while later copies are made, and be the caller's
 * to modify without touching the database or any other copy. Seeds: LSMDOC_SEED or random.
 */
import { describe, expect, it } from "vitest";
import { Engine } from "../../../engine/index.js";
import { MemFs } from "../../../engine/fs/mem-fs.js";
import { copyOut, copyOutRange } from "../../../engine/util/copy-slab.js";
import { hex } from "../../fixtures/kv-model.js";
import { Rng, testSeeds } from "../../fixtures/random.js";

describe("copyOut", () => {
  for (const seed of testSeeds(2)) {
    it(`copies never overlap, keep their bytes, and are the caller's to write (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const sources: Uint8Array[] = [];
      const copies: Uint8Array[] = [];
      for (let i = 0; i < 3000; i++) {
        const src = rng.bytes(rng.chance(0.05) ? rng.between(1025, 5000) : rng.int(1025));
        const copy = copyOut(src);
        if (copy === src || (copy.buffer === src.buffer && src.length > 0)) throw new Error(`seed ${seed}: copy ${i} shares the source's memory`);
        sources.push(src.slice());
        copies.push(copy);
        // Scribbling over a copy must not reach the source or any other copy.
        if (rng.chance(0.3) && copy.length > 0) {
          copy.fill(0xee);
          sources[i] = new Uint8Array(copy.length).fill(0xee);
        }
      }
      const wrong = copies.flatMap((c, i) => (Buffer.from(c).equals(sources[i]!) ? [] : [i]));
      expect(wrong, `seed ${seed}: copies whose bytes changed`).toEqual([]);
    });
  }
});

describe("copyOutRange", () => {
  for (const seed of testSeeds(2)) {
    it(`copies exactly the range, into memory the source does not share (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const held: Array<[Uint8Array, string]> = [];
      for (let i = 0; i < 3000; i++) {
        const src = rng.bytes(rng.chance(0.05) ? rng.between(1025, 4000) : rng.int(300));
        const start = rng.int(src.length + 1);
        const end = start + rng.int(src.length - start + 1);
        const copy = copyOutRange(src, start, end);
        expect(copy.length, `seed ${seed}: copy ${i}`).toBe(end - start);
        if (copy.length > 0 && copy.buffer === src.buffer) throw new Error(`seed ${seed}: copy ${i} shares the source's memory`);
        held.push([copy, hex(src.subarray(start, end))]);
        src.fill(0xab); // The source is reused by its owner: the copy must not change.
      }
      const wrong = held.flatMap(([c, want], i) => (hex(c) === want ? [] : [i]));
      expect(wrong, `seed ${seed}: copies whose bytes differ from their range`).toEqual([]);
    });
  }
});

describe("Engine.getSync returns a copy", () => {
  it("modifying a returned value changes neither the database nor other returned values", async () => {
    const engine = await Engine.open("/db", { fs: new MemFs(), sync: false, memtableSize: 64 * 1024 });
    const key = (i: number): Uint8Array => new TextEncoder().encode(`key${String(i).padStart(4, "0")}`);
    const value = (i: number): Uint8Array => new Uint8Array(50 + (i % 300)).fill(i & 0xff);
    for (let i = 0; i < 2000; i++) await engine.put(key(i), value(i));
    await engine.flush();
    for (let i = 2000; i < 2100; i++) await engine.put(key(i), value(i));
    // Values from tables (flushed) and from the memtable, many per slab.
    const got = Array.from({ length: 2100 }, (_, i) => engine.getSync(key(i))!);
    for (const v of got) v.fill(0);
    for (let i = 0; i < 2100; i += 7) {
      expect(hex(engine.getSync(key(i))!), `key ${i} after its returned copy was zeroed`).toBe(hex(value(i)));
    }
    const again = Array.from({ length: 2100 }, (_, i) => engine.getSync(key(i))!);
    for (let i = 0; i < 2100; i++) expect(hex(again[i]!), `key ${i}`).toBe(hex(value(i)));
    await engine.close();
  });
});
