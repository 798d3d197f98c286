/**
 * engine/sstable/table-builder.ts + table-reader.ts + two-level-iterator.ts: tables built from
 * random internal keys (many versions per key, tombstones, empty values, values larger than a
 * block, up to ~50k entries) on MemFs and on real temp files, checked against a sorted-array
 * model: metadata and properties, point reads at random snapshot seqs, full scans both ways,
 * seeks and random cursor walks, the stability of returned keys and values, and builder misuse.
 */
import * as nodeFsModule from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../../engine/errors.js";
import type { FileSystem } from "../../../engine/fs/fs.js";
import { MemFs } from "../../../engine/fs/mem-fs.js";
import { nodeFs } from "../../../engine/fs/node-fs.js";
import { DbIterator } from "../../../engine/iterator/db-iterator.js";
import { MergingIterator } from "../../../engine/iterator/merging-iterator.js";
import { BlockCache } from "../../../engine/sstable/block-cache.js";
import { MAX_BATCHES_IN_FLIGHT } from "../../../engine/sstable/block-writer.js";
import { type BlockBatch, type BlockCompressor, deflateBatch, DeflateWorker, inlineCompressor } from "../../../engine/sstable/deflate-worker.js";
import { BLOCK_TRAILER_SIZE, CompressionType } from "../../../engine/sstable/format.js";
import { TableBuilder, type TableBuilderOptions } from "../../../engine/sstable/table-builder.js";
import type { TableReader } from "../../../engine/sstable/table-reader.js";
import { fromHex } from "../../fixtures/kv-model.js";
import { randomKey, randomWalk, VersionModel } from "../../fixtures/internal-model.js";
import { Rng, testSeeds } from "../../fixtures/random.js";
import {
  buildTable,
  dataBlockLayout,
  EMPTY,
  enc,
  type Entry,
  hex,
  lowerBound,
  modelGet,
  openTable,
  randomEntries,
  randomUserKey,
  show,
} from "./helpers.js";

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) nodeFsModule.rmSync(d, { recursive: true, force: true });
});

interface Env {
  name: string;
  fs: FileSystem;
  dir: string;
}

function memEnv(): Env {
  const fs = new MemFs();
  fs.mkdirp("/db/sst");
  return { name: "MemFs", fs, dir: "/db/sst" };
}

function diskEnv(): Env {
  const dir = nodeFsModule.mkdtempSync(path.join(os.tmpdir(), "lsmdoc-sstable-"));
  tmpDirs.push(dir);
  return { name: "NodeFs", fs: nodeFs, dir };
}

/** Every check of a table against its sorted entries. */
function checkTable(t: TableReader, entries: readonly Entry[], rng: Rng, label: string): void {
  // Full scans both ways.
  const it = t.iterator();
  let i = 0;
  for (it.seekToFirst(); it.valid(); it.next(), i++) {
    const e = entries[i]!;
    if (hex(it.key()) !== hex(e.key) || it.seq() !== e.seq || it.kind() !== e.kind || hex(it.value()) !== hex(e.value)) {
      expect.fail(`${label}: forward entry ${i} is ${hex(it.key())}@${it.seq()}, expected ${show(e)}`);
    }
  }
  expect(i, `${label}: forward count`).toBe(entries.length);
  i = entries.length - 1;
  for (it.seekToLast(); it.valid(); it.prev(), i--) {
    const e = entries[i]!;
    if (hex(it.key()) !== hex(e.key) || it.seq() !== e.seq || hex(it.value()) !== hex(e.value)) {
      expect.fail(`${label}: backward entry ${i} is ${hex(it.key())}@${it.seq()}, expected ${show(e)}`);
    }
  }
  expect(i, `${label}: backward count`).toBe(-1);

  // Point reads at random snapshots: present keys around their versions, and absent keys.
  for (let n = 0; n < 3000; n++) {
    const base = rng.chance(0.7) ? entries[rng.int(entries.length)]! : { key: randomUserKey(rng), seq: rng.int(1_000_000) };
    const seq = rng.pick([base.seq, base.seq + 1, Math.max(0, base.seq - 1), rng.int(1_000_000), Number.MAX_SAFE_INTEGER, 0]);
    const want = modelGet(entries, base.key, seq);
    const got = t.get(base.key, seq);
    const ctx = `${label}: get(${hex(base.key)}, ${seq})`;
    if (want === undefined) {
      expect(got.found, ctx).toBe(false);
    } else {
      expect(got.found, `${ctx} expected ${show(want)}`).toBe(true);
      if (got.found) expect({ seq: got.seq, kind: got.kind, value: hex(got.value) }, ctx).toEqual({ seq: want.seq, kind: want.kind, value: hex(want.value) });
    }
    if (want !== undefined) expect(t.mayContain(base.key), `${ctx}: filter false negative`).toBe(true);
  }

  // Seeks to random targets, each followed by a short walk in random directions.
  for (let n = 0; n < 500; n++) {
    const base = rng.chance(0.5) ? entries[rng.int(entries.length)]! : { key: randomUserKey(rng), seq: 0 };
    const seq = rng.pick([base.seq, base.seq + 1, Math.max(0, base.seq - 1), 0, Number.MAX_SAFE_INTEGER]);
    it.seek(base.key, seq);
    let pos = lowerBound(entries, base.key, seq);
    for (let w = 0; w < 8; w++) {
      const want = entries[pos];
      const ctx = `${label}: seek(${hex(base.key)}, ${seq}) + ${w} steps`;
      if (want === undefined) {
        expect(it.valid(), ctx).toBe(false);
        break;
      }
      expect(it.valid(), `${ctx}: expected ${show(want)}`).toBe(true);
      expect(`${hex(it.key())}@${it.seq()}`, ctx).toBe(`${hex(want.key)}@${want.seq}`);
      if (rng.chance(0.6)) {
        it.next();
        pos++;
      } else {
        it.prev();
        pos--;
      }
    }
  }
  it.close();
}

function expectMetaMatches(meta: Awaited<ReturnType<typeof buildTable>>, entries: readonly Entry[], fileSize: number, label: string): void {
  const first = entries[0]!;
  const last = entries[entries.length - 1]!;
  const seqs = entries.map((e) => e.seq);
  expect(
    {
      fileSize: meta.fileSize,
      entries: meta.entries,
      tombstones: meta.tombstones,
      minSeq: meta.minSeq,
      maxSeq: meta.maxSeq,
      rawKeyBytes: meta.rawKeyBytes,
      rawValueBytes: meta.rawValueBytes,
      smallest: `${hex(meta.smallest.key)}@${meta.smallest.seq}/${meta.smallest.kind}`,
      largest: `${hex(meta.largest.key)}@${meta.largest.seq}/${meta.largest.kind}`,
    },
    label,
  ).toEqual({
    fileSize,
    entries: entries.length,
    tombstones: entries.filter((e) => e.kind === 2).length,
    minSeq: Math.min(...seqs),
    maxSeq: Math.max(...seqs),
    rawKeyBytes: entries.reduce((n, e) => n + e.key.length, 0),
    rawValueBytes: entries.reduce((n, e) => n + e.value.length, 0),
    smallest: `${hex(first.key)}@${first.seq}/${first.kind}`,
    largest: `${hex(last.key)}@${last.seq}/${last.kind}`,
  });
}

describe("table round trip", () => {
  // Random values do not compress, text-like ones do: `textChance` mixes both, so tables hold
  // compressed and uncompressed data blocks side by side.
  const cases: Array<{ env: () => Env; keys: number; options?: TableBuilderOptions; cache: number; largeValueChance?: number; textChance?: number }> = [
    { env: memEnv, keys: 20_000, cache: 8 << 20 },
    { env: diskEnv, keys: 20_000, cache: 64 << 10, textChance: 0.9 },
    { env: memEnv, keys: 3_000, options: { blockSize: 256, restartInterval: 4 }, cache: 0, largeValueChance: 0.01, textChance: 0.5 },
    { env: diskEnv, keys: 2_000, options: { blockSize: 64, restartInterval: 1, writeBufferSize: 0 }, cache: 4096, textChance: 0.5 },
    { env: memEnv, keys: 5_000, options: { compression: "none" }, cache: 1 << 20, textChance: 1 },
    { env: memEnv, keys: 5_000, options: { compressor: inlineCompressor, compressionLevel: 9, blockSize: 1024 }, cache: 1 << 16, largeValueChance: 0.01, textChance: 0.7 },
  ];
  for (const seed of testSeeds(1)) {
    for (const [ci, c] of cases.entries()) {
      it(`matches the model (seed ${seed}, case ${ci}: ${c.keys} keys, ${JSON.stringify(c.options ?? {})}, cache ${c.cache})`, async () => {
        const env = c.env();
        const label = `seed ${seed} case ${ci} ${env.name}`;
        const rng = new Rng(seed + ci);
        const entries = randomEntries(rng, { keys: c.keys, maxVersions: 4, largeValueChance: c.largeValueChance ?? 0.002, textChance: c.textChance ?? 0 });
        const file = path.join(env.dir, "000001.sst");
        const meta = await buildTable(env.fs, file, entries, c.options);
        expectMetaMatches(meta, entries, env.fs.fileSize(file), label);
        // Which blocks were stored compressed: none with compression off, few with random values
        // (runs of tombstones and empty values do compress), many with text, and with random
        // values mixed in, not all.
        const layout = dataBlockLayout(env.fs, file);
        expect(layout.handles.length, label).toBe(meta.dataBlocks);
        expect(layout.handles.reduce((n, h) => n + h.size, 0), label).toBe(meta.dataStoredBytes);
        expect(meta.dataStoredBytes + BLOCK_TRAILER_SIZE * meta.dataBlocks, label).toBe(layout.dataEnd);
        const deflated = layout.types.filter((t) => t === CompressionType.Deflate).length;
        const text = c.textChance ?? 0;
        if (c.options?.compression === "none") {
          expect(deflated, `${label}: compressed blocks`).toBe(0);
          expect(meta.dataStoredBytes, label).toBe(meta.dataRawBytes);
        } else if (text === 0) {
          expect(deflated, `${label}: compressed blocks of ${meta.dataBlocks}`).toBeLessThan(meta.dataBlocks * 0.05);
        } else {
          expect(deflated, `${label}: compressed blocks of ${meta.dataBlocks}`).toBeGreaterThan(meta.dataBlocks * (text >= 0.9 ? 0.9 : 0.05));
          expect(meta.dataStoredBytes, label).toBeLessThan(meta.dataRawBytes);
          if (text < 0.9) expect(deflated, `${label}: compressed blocks`).toBeLessThan(meta.dataBlocks);
        }
        const t = openTable(env.fs, file, 1, new BlockCache(c.cache));
        try {
          expect(t.properties, label).toEqual({
            entries: meta.entries,
            tombstones: meta.tombstones,
            dataBlocks: meta.dataBlocks,
            dataRawBytes: meta.dataRawBytes,
            dataStoredBytes: meta.dataStoredBytes,
            minSeq: meta.minSeq,
            maxSeq: meta.maxSeq,
            rawKeyBytes: meta.rawKeyBytes,
            rawValueBytes: meta.rawValueBytes,
            smallest: meta.smallest,
            largest: meta.largest,
          });
          t.verify();
          checkTable(t, entries, rng, label);
        } finally {
          t.close();
        }
      });
    }
  }

  it(`holds ~50k entries on real files (seeds ${testSeeds(1).join(",")})`, async () => {
    const seed = testSeeds(1)[0]!;
    const env = diskEnv();
    const rng = new Rng(seed);
    const entries = randomEntries(rng, { keys: 17_000, maxVersions: 5 });
    const file = path.join(env.dir, "000002.sst");
    const meta = await buildTable(env.fs, file, entries);
    expect(meta.entries, `seed ${seed}`).toBeGreaterThan(40_000);
    const t = openTable(env.fs, file, 2, new BlockCache(1 << 20));
    try {
      t.verify();
      checkTable(t, entries, rng, `seed ${seed} 50k`);
    } finally {
      t.close();
    }
  });

  it("returns keys and values that stay unchanged while the cursor moves on and blocks are evicted", async () => {
    const env = memEnv();
    const rng = new Rng(99);
    const entries = randomEntries(rng, { keys: 3000, maxVersions: 3 });
    const file = path.join(env.dir, "000003.sst");
    await buildTable(env.fs, file, entries, { blockSize: 512 });
    const t = openTable(env.fs, file, 3, new BlockCache(2048)); // a couple of blocks at most
    const held: Array<[Uint8Array, Uint8Array]> = [];
    const it = t.iterator();
    for (it.seekToFirst(); it.valid(); it.next()) held.push([it.key(), it.value()]);
    for (it.seekToLast(); it.valid(); it.prev()) held.push([it.key(), it.value()]);
    const expected = [...entries, ...[...entries].reverse()];
    expect(held.length).toBe(expected.length);
    held.forEach(([k, v], i) => {
      if (hex(k) !== hex(expected[i]!.key) || hex(v) !== hex(expected[i]!.value)) expect.fail(`held entry ${i} changed`);
    });
  });

  it("keeps the InternalIterator contract under a random walk (fixtures/internal-model)", async () => {
    for (const seed of testSeeds(2)) {
      const rng = new Rng(seed);
      const model = new VersionModel();
      for (let i = 0; i < 600; i++) {
        const kind = rng.chance(0.25) ? 2 : 1;
        model.add({ key: hex(randomKey(rng)), seq: rng.int(800), kind, value: kind === 2 ? "" : hex(rng.bytes(rng.int(6))) });
      }
      const env = memEnv();
      const file = path.join(env.dir, `${seed}.sst`);
      await buildTable(
        env.fs,
        file,
        model.versions.map((v) => ({ key: fromHex(v.key), seq: v.seq, kind: v.kind, value: fromHex(v.value) })),
        { blockSize: 128, restartInterval: 3 },
      );
      const t = openTable(env.fs, file, 4, new BlockCache(1 << 16));
      randomWalk(t.iterator(), model, rng, 3000, `seed ${seed}`);
    }
  });

  it("serves the engine's merging and db iterators: newest visible version per key at a snapshot", async () => {
    const seed = testSeeds(1)[0]!;
    const rng = new Rng(seed);
    const env = memEnv();
    // Two tables with disjoint (key, seq) pairs over overlapping user keys.
    const all = randomEntries(rng, { keys: 2000, maxVersions: 4 });
    const a = all.filter((_, i) => i % 2 === 0);
    const b = all.filter((_, i) => i % 2 === 1);
    await buildTable(env.fs, "/db/sst/a.sst", a, { blockSize: 512 });
    await buildTable(env.fs, "/db/sst/b.sst", b, { blockSize: 1024 });
    const cache = new BlockCache(1 << 20);
    const ta = openTable(env.fs, "/db/sst/a.sst", 10, cache);
    const tb = openTable(env.fs, "/db/sst/b.sst", 11, cache);
    for (const snapshot of [0, 500_000, Number.MAX_SAFE_INTEGER]) {
      for (const reverse of [false, true]) {
        const want: string[] = [];
        let lastKey = "";
        for (const e of all) {
          const k = hex(e.key);
          if (k === lastKey || e.seq > snapshot) continue;
          lastKey = k;
          if (e.kind === 1) want.push(`${k}=${hex(e.value)}`);
        }
        if (reverse) want.reverse();
        const it = new DbIterator(new MergingIterator([ta.iterator(), tb.iterator()]), snapshot, {}, reverse);
        const got: string[] = [];
        for (let kv = it.next(); kv !== undefined; kv = it.next()) got.push(`${hex(kv[0])}=${hex(kv[1])}`);
        expect(got, `seed ${seed} snapshot ${snapshot} reverse ${reverse}`).toEqual(want);
      }
    }
  });

  it("writes a table whose only entries are tombstones or empty values, and one-entry tables", async () => {
    const env = memEnv();
    const k = enc("k");
    for (const [name, entries] of [
      ["tombstones", [{ key: k, seq: 9, kind: 2 }, { key: enc("l"), seq: 3, kind: 2 }]],
      ["empty values", [{ key: k, seq: 9, kind: 1 }, { key: k, seq: 8, kind: 1 }]],
      ["one entry", [{ key: k, seq: 0, kind: 1 }]],
    ] as const) {
      const list: Entry[] = entries.map((e) => ({ ...e, value: EMPTY }));
      const file = `/db/sst/${name}.sst`;
      await buildTable(env.fs, file, list);
      const t = openTable(env.fs, file);
      t.verify();
      expect(t.get(k, Number.MAX_SAFE_INTEGER), name).toEqual({ found: true, kind: list[0]!.kind, seq: list[0]!.seq, value: EMPTY });
    }
  });
});

describe("table builder misuse", () => {
  const fresh = (options?: TableBuilderOptions): TableBuilder => {
    const fs = new MemFs();
    fs.mkdirp("/t");
    return new TableBuilder(fs.create("/t/x.sst"), options);
  };

  it("rejects entries out of internal-key order", () => {
    const b = fresh();
    b.add(enc("b"), 5, 1, enc("v"));
    expect(() => b.add(enc("a"), 9, 1, EMPTY)).toThrow(InvalidArgumentError);
    expect(() => b.add(enc("b"), 5, 1, EMPTY)).toThrow(/out of order/); // same (key, seq)
    expect(() => b.add(enc("b"), 6, 1, EMPTY)).toThrow(/out of order/); // newer after older
    b.add(enc("b"), 4, 2, EMPTY);
    b.add(enc("b\u0000"), 100, 1, EMPTY);
    expect(b.entries).toBe(3);
  });

  it("rejects malformed entries", () => {
    const b = fresh();
    expect(() => b.add(EMPTY, 1, 1, EMPTY)).toThrow(/non-empty/);
    expect(() => b.add(enc("a"), -1, 1, EMPTY)).toThrow(/seq/);
    expect(() => b.add(enc("a"), 2 ** 53, 1, EMPTY)).toThrow(/seq/);
    expect(() => b.add(enc("a"), 1.5, 1, EMPTY)).toThrow(/seq/);
    expect(() => b.add(enc("a"), 1, 3 as 1, EMPTY)).toThrow(/kind/);
    expect(() => b.add(enc("a"), 1, 2, enc("x"))).toThrow(/Delete/);
    expect(b.entries).toBe(0);
  });

  it("refuses to finish an empty table and to be used after finish or abandon", async () => {
    await expect(fresh().finish()).rejects.toThrow(/no entries/);
    const b = fresh();
    b.add(enc("a"), 1, 1, EMPTY);
    await b.finish();
    expect(() => b.add(enc("b"), 1, 1, EMPTY)).toThrow(/finished/);
    await expect(b.finish()).rejects.toThrow(/finished/);
    const c = fresh();
    c.abandon();
    expect(() => c.add(enc("a"), 1, 1, EMPTY)).toThrow(InvalidArgumentError);
    const d = fresh();
    d.add(enc("a"), 1, 1, EMPTY);
    const finishing = d.finish();
    expect(() => d.add(enc("b"), 1, 1, EMPTY)).toThrow(/finishing/);
    await finishing;
  });

  it("copies the keys and values it is given (callers reuse their buffers)", async () => {
    const fs = new MemFs();
    fs.mkdirp("/t");
    const b = new TableBuilder(fs.create("/t/x.sst"));
    const key = Buffer.from("key-a");
    const value = Buffer.from("value");
    b.add(key, 2, 1, value);
    key.write("key-b");
    value.fill(0);
    b.add(key, 1, 1, value);
    key.fill(0x7a);
    const meta = await b.finish();
    expect(Buffer.from(meta.smallest.key).toString()).toBe("key-a");
    expect(Buffer.from(meta.largest.key).toString()).toBe("key-b");
    const t = openTable(fs, "/t/x.sst");
    const got = t.get(enc("key-a"), 9);
    expect(got.found && Buffer.from(got.value).toString()).toBe("value");
  });

  it("validates options", () => {
    expect(() => fresh({ blockSize: 0 })).toThrow(InvalidArgumentError);
    expect(() => fresh({ restartInterval: 0 })).toThrow(InvalidArgumentError);
    expect(() => fresh({ bloomBitsPerKey: 0 })).toThrow(InvalidArgumentError);
    expect(() => fresh({ writeBufferSize: -1 })).toThrow(InvalidArgumentError);
    expect(() => fresh({ compression: "zstd" as "none" })).toThrow(/compression/);
    expect(() => fresh({ compressionLevel: 0 })).toThrow(InvalidArgumentError);
    expect(() => fresh({ compressionLevel: 10 })).toThrow(InvalidArgumentError);
  });

  it("becomes unusable after a write fails, and reports the I/O error", async () => {
    const fs = new MemFs();
    fs.mkdirp("/t");
    const b = new TableBuilder(fs.create("/t/x.sst"), { writeBufferSize: 0, compression: "none" });
    fs.failAfter(0);
    expect(() => {
      for (let i = 0; i < 1000; i++) b.add(enc(`k${String(i).padStart(5, "0")}`), 1, 1, new Uint8Array(100));
    }).toThrow(/EIO/);
    fs.heal();
    expect(() => b.add(enc("z"), 1, 1, EMPTY)).toThrow(/EIO/);
    await expect(b.finish()).rejects.toThrow(/EIO/);
  });

  it("reports a write that fails while appending compressed blocks from drain(), add() and finish()", async () => {
    const fs = new MemFs();
    fs.mkdirp("/t");
    const b = new TableBuilder(fs.create("/t/x.sst"), { writeBufferSize: 0 });
    fs.failAfter(0);
    const err = await (async () => {
      for (let i = 0; i < 100_000; i++) {
        b.add(enc(`k${String(i).padStart(6, "0")}`), 1, 1, new Uint8Array(100));
        if (b.backlogged) await b.drain();
      }
    })().catch((e: unknown) => e);
    expect(String(err)).toMatch(/EIO/);
    fs.heal();
    expect(() => b.add(enc("z"), 1, 1, EMPTY)).toThrow(/EIO/);
    await expect(b.finish()).rejects.toThrow(/EIO/);
  });

  it("appends data blocks as it goes, so memory stays bounded", async () => {
    const fs = new MemFs();
    fs.mkdirp("/t");
    const file = fs.create("/t/x.sst");
    const b = new TableBuilder(file, { compression: "none" });
    for (let i = 0; i < 20_000; i++) b.add(enc(`key${String(i).padStart(8, "0")}`), 1, 1, new Uint8Array(40));
    // Everything but the open block and at most one write buffer has reached the file.
    expect(file.size).toBeGreaterThan(b.estimatedFileSize - 64 * 1024 - 8192);
    const meta = await b.finish();
    expect(file.size).toBe(meta.fileSize);
  });
});

/** A compressor that holds every batch until the test releases it (in any order). */
class HeldCompressor implements BlockCompressor {
  readonly held: Array<{ batch: BlockBatch; level: number; release(): void }> = [];
  deflate(batch: BlockBatch, level: number): Promise<BlockBatch> {
    return new Promise((resolve) => this.held.push({ batch, level, release: () => resolve(deflateBatch(batch, level)) }));
  }
}

describe("compressed data blocks in flight", () => {
  const entry = (i: number): [Uint8Array, Uint8Array] => [enc(`user:${String(i).padStart(7, "0")}`), enc(`{"name":"User ${i}","city":"Paris","bio":"${"x".repeat(60)}"}`)];
  const put = (b: TableBuilder, i: number): void => {
    const [k, v] = entry(i);
    b.add(k, 1, 1, v);
  };

  it("bounds the batches out, and appends them in order however the compressor returns them", async () => {
    const fs = new MemFs();
    fs.mkdirp("/t");
    const file = fs.create("/t/x.sst");
    const compressor = new HeldCompressor();
    const b = new TableBuilder(file, { compressor });
    let n = 0;
    while (!b.backlogged) put(b, n++);
    expect(compressor.held.length).toBe(MAX_BATCHES_IN_FLIGHT);
    expect(file.size).toBe(0); // nothing can be appended before the first batch is back
    let drained = false;
    const draining = b.drain().then(() => (drained = true));
    // The last batch back first: nothing is appended, and the builder is still backlogged.
    compressor.held[2]!.release();
    await new Promise((r) => setImmediate(r));
    expect(file.size).toBe(0);
    expect(drained).toBe(false);
    compressor.held[0]!.release();
    await draining;
    expect(b.backlogged).toBe(false);
    compressor.held[1]!.release();
    for (let i = 0; i < 3000; i++) put(b, n++);
    const before = b.estimatedFileSize;
    const finishing = b.finish();
    // finish() waits for every held batch, whenever it is released.
    await new Promise((r) => setImmediate(r));
    for (const h of compressor.held.slice(3)) h.release();
    const meta = await finishing;
    const tail = meta.fileSize - meta.dataStoredBytes - 5 * meta.dataBlocks;
    expect(before / (meta.fileSize - tail), "size estimate while blocks were out").toBeGreaterThan(0.7);
    expect(before / (meta.fileSize - tail), "size estimate while blocks were out").toBeLessThan(1.4);
    expect(meta.dataStoredBytes).toBeLessThan(meta.dataRawBytes / 2);
    const t = openTable(fs, "/t/x.sst");
    t.verify();
    const it = t.iterator();
    let i = 0;
    for (it.seekToFirst(); it.valid(); it.next(), i++) {
      const [k, v] = entry(i);
      if (hex(it.key()) !== hex(k) || hex(it.value()) !== hex(v)) expect.fail(`entry ${i} differs`);
    }
    expect(i).toBe(n);
  });

  it("drops batches that come back after abandon() (the file may be closed by then)", async () => {
    const fs = new MemFs();
    fs.mkdirp("/t");
    const file = fs.create("/t/x.sst");
    const compressor = new HeldCompressor();
    const b = new TableBuilder(file, { compressor });
    for (let i = 0; !b.backlogged; i++) put(b, i);
    b.abandon();
    file.close();
    for (const h of compressor.held) h.release();
    await new Promise((r) => setImmediate(r));
    await expect(b.drain()).rejects.toThrow(/abandoned/);
    expect(fs.fileSize("/t/x.sst")).toBe(0);
  });

  it("finishes its tables when the compression worker dies mid-table (the worker's batches are compressed inline)", async () => {
    const fs = new MemFs();
    fs.mkdirp("/t");
    const worker = new DeflateWorker();
    const b = new TableBuilder(fs.create("/t/x.sst"), { compressor: worker });
    let n = 0;
    for (; n < 5000; n++) put(b, n);
    await worker.terminate(); // batches are out: they come back compressed all the same
    for (; n < 10_000; n++) {
      put(b, n);
      if (b.backlogged) await b.drain();
    }
    const meta = await b.finish();
    expect(meta.dataStoredBytes).toBeLessThan(meta.dataRawBytes / 2);
    const t = openTable(fs, "/t/x.sst");
    t.verify();
    expect(t.properties.entries).toBe(10_000);
    await worker.terminate();
  });
});
