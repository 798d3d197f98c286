/**
 * The engine's `compression` option end to end: tables written by flushes and compactions hold
 * deflated data blocks by default and plain ones with `"none"`; a database written one way is
 * read, and compacted, the other way; the option is validated like the others.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Engine, InvalidArgumentError } from "../../engine/index.js";
import type { FileSystem } from "../../engine/fs/fs.js";
import { MemFs } from "../../engine/fs/mem-fs.js";
import { nodeFs } from "../../engine/fs/node-fs.js";
import { CompressionType } from "../../engine/sstable/format.js";
import { useScratch } from "../fixtures/harness.js";
import { utf8 } from "../fixtures/kv-model.js";
import { Rng, testSeeds } from "../fixtures/random.js";
import { dataBlockLayout, textBytes } from "./sstable/helpers.js";

const scratch = useScratch();

/** Counts of data blocks by type over every table of the database in `dir`. */
function blockTypes(fs: FileSystem, dir: string): { deflate: number; none: number } {
  const out = { deflate: 0, none: 0 };
  for (const name of fs.list(path.join(dir, "sst"))) {
    if (!name.endsWith(".sst")) continue;
    for (const t of dataBlockLayout(fs, path.join(dir, "sst", name)).types) {
      if (t === CompressionType.Deflate) out.deflate++;
      else out.none++;
    }
  }
  return out;
}

const key = (i: number): Uint8Array => utf8(`doc:${String(i).padStart(6, "0")}`);

async function fill(engine: Engine, rng: Rng, from: number, to: number, values: Map<number, Uint8Array>): Promise<void> {
  for (let i = from; i < to; i += 100) {
    const writes: Promise<number>[] = [];
    for (let j = i; j < Math.min(to, i + 100); j++) {
      const v = textBytes(rng, rng.between(50, 400));
      values.set(j, v);
      writes.push(engine.put(key(j), v));
    }
    await Promise.all(writes);
  }
}

function expectAll(engine: Engine, values: Map<number, Uint8Array>, label: string): void {
  for (const [i, v] of values) {
    const got = engine.getSync(key(i));
    if (got === undefined || Buffer.compare(got, v) !== 0) expect.fail(`${label}: key ${i} reads back wrong`);
  }
}

describe("engine compression option", () => {
  for (const seed of testSeeds(1)) {
    it(`stores deflated blocks by default and plain ones with "none", each readable by the other (seed ${seed})`, async () => {
      const rng = new Rng(seed);
      const fs = new MemFs();
      const dir = "/db";
      const values = new Map<number, Uint8Array>();
      const opts = { fs, sync: false, memtableSize: 64 * 1024 } as const;

      let engine = scratch.track(await Engine.open(dir, opts));
      await fill(engine, rng, 0, 3000, values);
      await engine.flush();
      const byDefault = blockTypes(fs, dir);
      expect(byDefault.deflate, `seed ${seed}: ${JSON.stringify(byDefault)}`).toBeGreaterThan(10 * byDefault.none);
      expectAll(engine, values, `seed ${seed} deflate`);
      await engine.close();

      engine = scratch.track(await Engine.open(dir, { ...opts, compression: "none" }));
      expectAll(engine, values, `seed ${seed} deflate tables read with "none"`);
      await fill(engine, rng, 2000, 4000, values); // overwrites half, adds more
      await engine.compact();
      const plain = blockTypes(fs, dir);
      expect(plain, `seed ${seed} after compact() with "none"`).toEqual({ deflate: 0, none: plain.none });
      expect(plain.none).toBeGreaterThan(0);
      expectAll(engine, values, `seed ${seed} none`);
      await engine.close();

      engine = scratch.track(await Engine.open(dir, opts));
      expectAll(engine, values, `seed ${seed} plain tables read with "deflate"`);
      await engine.compact();
      const again = blockTypes(fs, dir);
      expect(again.deflate, `seed ${seed}: ${JSON.stringify(again)}`).toBeGreaterThan(10 * again.none);
      expectAll(engine, values, `seed ${seed} deflate again`);
      await engine.close();
    });
  }

  it("compresses the tables of a database on disk (flush and compaction), and reads them after reopen", async () => {
    const rng = new Rng(7);
    const dir = scratch.dir();
    const values = new Map<number, Uint8Array>();
    let engine = scratch.track(await Engine.open(dir, { sync: false, memtableSize: 64 * 1024 }));
    await fill(engine, rng, 0, 4000, values);
    await engine.compact();
    const types = blockTypes(nodeFs, dir);
    expect(types.deflate, JSON.stringify(types)).toBeGreaterThan(10 * types.none);
    await engine.close();
    engine = scratch.track(await Engine.open(dir));
    expectAll(engine, values, "after reopen");
    let n = 0;
    for await (const _ of engine.iterate()) n++;
    expect(n).toBe(values.size);
  });

  it("rejects an unknown compression", async () => {
    for (const compression of ["zstd", "", "Deflate", 1, true]) {
      await expect(Engine.open(scratch.dir(), { compression } as never), String(compression)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
  });
});
