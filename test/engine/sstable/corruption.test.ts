/**
 * SPEC §2: every byte of an SSTable is covered by a checksum or a structural check, so a flipped
 * byte is detected by `verify()` or by the read that meets it, and never returned as data.
 *
 * - Region by region (a data block's contents, its trailer, the filter, meta and index blocks, the
 *   footer): random bit flips must make `open()` or `verify()` throw CorruptionError naming the
 *   file and an offset inside the damaged block, and point reads and scans must either throw
 *   CorruptionError or return exactly the model's data.
 * - Exhaustively on a small table: every bit of every byte, one at a time, is detected, and no
 *   read ever returns wrong data; every truncation and an appended tail are detected at open.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CorruptionError } from "../../../engine/errors.js";
import { MemFs } from "../../../engine/fs/mem-fs.js";
import { BlockCache } from "../../../engine/sstable/block-cache.js";
import { BlockIterator } from "../../../engine/sstable/block-reader.js";
import { Block } from "../../../engine/sstable/block.js";
import { BLOCK_TRAILER_SIZE, type BlockHandle, checkBlock, CompressionType, decodeFooter, FOOTER_SIZE, writeBlockTrailer } from "../../../engine/sstable/format.js";
import { TableReader } from "../../../engine/sstable/table-reader.js";
import { Rng, testSeeds } from "../../fixtures/random.js";
import { buildTable, type Entry, hex, modelGet, randomEntries, show } from "./helpers.js";

const PATH = "/db/sst/000042.sst";

async function buildBytes(entries: readonly Entry[], blockSize: number, compression: "deflate" | "none" = "deflate"): Promise<Uint8Array> {
  const fs = new MemFs();
  fs.mkdirp("/db/sst");
  await buildTable(fs, PATH, entries, { blockSize, compression });
  return fs.readFile(PATH);
}

/** Data blocks stored compressed (trailer type 1). */
function compressedBlocks(bytes: Uint8Array, data: readonly BlockHandle[]): BlockHandle[] {
  return data.filter((h) => bytes[h.offset + h.size] === CompressionType.Deflate);
}

function fsWith(bytes: Uint8Array): MemFs {
  const fs = new MemFs();
  fs.mkdirp("/db/sst");
  const f = fs.create(PATH);
  f.append(bytes);
  f.close();
  return fs;
}

interface Region {
  name: string;
  start: number;
  end: number;
}

/** The table's regions, decoded from an undamaged copy. */
function layout(bytes: Uint8Array): { regions: Region[]; data: BlockHandle[] } {
  const size = bytes.length;
  const footer = decodeFooter(bytes.subarray(size - FOOTER_SIZE), size, PATH);
  const read = (h: BlockHandle): Uint8Array => checkBlock(bytes.subarray(h.offset, h.offset + h.size + BLOCK_TRAILER_SIZE), h, PATH, "test");
  const it = new BlockIterator();
  it.reset(new Block(read(footer.index), PATH, footer.index.offset));
  const data: BlockHandle[] = [];
  for (it.seekToFirst(); it.valid(); it.next()) {
    const h = { offset: 0, size: 0 };
    it.valueAsHandle(h);
    data.push(h);
  }
  const mid = data[Math.floor(data.length / 2)]!;
  const whole = (name: string, h: BlockHandle): Region => ({ name, start: h.offset, end: h.offset + h.size + BLOCK_TRAILER_SIZE });
  return {
    data,
    regions: [
      { name: "first data block contents", start: data[0]!.offset, end: data[0]!.offset + data[0]!.size },
      { name: "middle data block contents", start: mid.offset, end: mid.offset + mid.size },
      { name: "middle data block trailer", start: mid.offset + mid.size, end: mid.offset + mid.size + BLOCK_TRAILER_SIZE },
      whole("filter block", footer.filter),
      whole("meta block", footer.meta),
      whole("index block", footer.index),
      { name: "footer", start: size - FOOTER_SIZE, end: size },
    ],
  };
}

/** The block (or footer) a byte offset belongs to: where its CorruptionError must point. */
function blockOf(offset: number, regions: Region[], data: BlockHandle[]): Region {
  for (const h of data) if (offset >= h.offset && offset < h.offset + h.size + BLOCK_TRAILER_SIZE) return { name: "data", start: h.offset, end: h.offset + h.size + BLOCK_TRAILER_SIZE };
  const r = regions.find((r) => !r.name.includes("data") && offset >= r.start && offset < r.end);
  if (r === undefined) throw new Error(`offset ${offset} is in no region`);
  return r;
}

function expectCorruption(err: unknown, block: Region, ctx: string): void {
  expect(err, `${ctx}: expected CorruptionError, got ${String(err)}`).toBeInstanceOf(CorruptionError);
  const c = err as CorruptionError;
  expect(c.file, ctx).toBe(PATH);
  expect(c.offset >= block.start && c.offset < block.end, `${ctx}: error offset ${c.offset} outside [${block.start}, ${block.end}): ${c.message}`).toBe(true);
}

function catching(fn: () => void): unknown {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e;
  }
}

/** Opens the damaged table; when that succeeds, verify() must fail. Returns the reader if opened. */
function expectDetected(fs: MemFs, block: Region, ctx: string): TableReader | undefined {
  let t: TableReader | undefined;
  const openErr = catching(() => {
    t = TableReader.open(fs.openRead(PATH), PATH, 42, new BlockCache(1 << 20));
  });
  if (openErr !== undefined) {
    expectCorruption(openErr, block, `${ctx} (open)`);
    return undefined;
  }
  expectCorruption(catching(() => t!.verify()), block, `${ctx} (verify)`);
  return t;
}

/**
 * Every read of a damaged table either throws CorruptionError or returns what the model says:
 * point reads of every key (newest, and at each entry's own seq), and scans both ways.
 */
function expectNoWrongData(t: TableReader, entries: readonly Entry[], ctx: string): void {
  const check = (what: string, fn: () => void): void => {
    const err = catching(fn);
    if (err !== undefined && !(err instanceof CorruptionError)) throw err;
    if (err !== undefined && (err as CorruptionError).file !== PATH) expect.fail(`${ctx} ${what}: error names ${(err as CorruptionError).file}`);
  };
  for (const e of entries) {
    for (const seq of [Number.MAX_SAFE_INTEGER, e.seq]) {
      check(`get ${show(e)}`, () => {
        const got = t.get(e.key, seq);
        const want = modelGet(entries, e.key, seq)!;
        if (!got.found || got.seq !== want.seq || got.kind !== want.kind || hex(got.value) !== hex(want.value)) {
          expect.fail(`${ctx}: get(${hex(e.key)}, ${seq}) returned wrong data: ${JSON.stringify(got.found ? { seq: got.seq, kind: got.kind } : got)}`);
        }
      });
    }
  }
  const it = t.iterator();
  check("forward scan", () => {
    let i = 0;
    for (it.seekToFirst(); it.valid(); it.next(), i++) {
      const e = entries[i];
      if (e === undefined || hex(it.key()) !== hex(e.key) || it.seq() !== e.seq || hex(it.value()) !== hex(e.value)) expect.fail(`${ctx}: scan entry ${i} is wrong`);
    }
    if (i !== entries.length) expect.fail(`${ctx}: scan ended early at ${i} without an error`);
  });
  check("backward scan", () => {
    let i = entries.length - 1;
    for (it.seekToLast(); it.valid(); it.prev(), i--) {
      const e = entries[i];
      if (e === undefined || hex(it.key()) !== hex(e.key) || it.seq() !== e.seq || hex(it.value()) !== hex(e.value)) expect.fail(`${ctx}: backward entry ${i} is wrong`);
    }
    if (i !== -1) expect.fail(`${ctx}: backward scan ended early at ${i} without an error`);
  });
}

describe("corruption by region", () => {
  for (const seed of testSeeds(1)) {
    for (const textChance of [0, 0.8]) {
      it(`detects bit flips in every region and never returns wrong data (seed ${seed}, ${textChance > 0 ? "compressed" : "uncompressed"} data blocks)`, async () => {
        const rng = new Rng(seed);
        const entries = randomEntries(rng, { keys: 300, maxVersions: 3, textChance });
        const pristine = await buildBytes(entries, 512);
        const { regions, data } = layout(pristine);
        expect(data.length, `seed ${seed}: want several data blocks`).toBeGreaterThan(4);
        if (textChance > 0) expect(compressedBlocks(pristine, data).length, `seed ${seed}: compressed blocks`).toBeGreaterThan(data.length / 2);
        for (const region of regions) {
          for (let trial = 0; trial < 12; trial++) {
            const offset = region.start + rng.int(region.end - region.start);
            const bit = rng.int(8);
            const ctx = `seed ${seed} ${region.name} byte ${offset} bit ${bit}`;
            const fs = fsWith(pristine);
            fs.flipBit(PATH, offset, bit);
            const t = expectDetected(fs, blockOf(offset, regions, data), ctx);
            if (t !== undefined) expectNoWrongData(t, entries, ctx);
          }
        }
      });
    }
  }

  it("reports a damaged data block from the read that meets it, and serves the others", async () => {
    const rng = new Rng(5);
    const entries = randomEntries(rng, { keys: 300, maxVersions: 2 });
    const pristine = await buildBytes(entries, 512);
    const { data } = layout(pristine);
    const victim = data[2]!;
    const fs = fsWith(pristine);
    fs.flipBit(PATH, victim.offset + 3, 5);
    const t = TableReader.open(fs.openRead(PATH), PATH, 42);
    // Keys in the first block still read fine.
    const first = entries[0]!;
    expect(t.get(first.key, Number.MAX_SAFE_INTEGER).found).toBe(true);
    // A scan fails exactly when it reaches the damaged block, after returning everything before it.
    const it = t.iterator();
    let n = 0;
    const err = catching(() => {
      for (it.seekToFirst(); it.valid(); it.next()) n++;
    });
    expect(err).toBeInstanceOf(CorruptionError);
    expect((err as CorruptionError).offset).toBe(victim.offset);
    expect((err as CorruptionError).message).toMatch(/checksum mismatch/);
    expect(it.valid()).toBe(false);
    expect(n).toBeGreaterThan(0);
  });
});

for (const kind of ["uncompressed", "compressed"] as const) {
  describe(`corruption, exhaustively on a small table (${kind} data blocks)`, () => {
    const rng = new Rng(20240601);
    const entries = randomEntries(rng, { keys: 10, maxVersions: 2, textChance: kind === "compressed" ? 1 : 0 });
    let pristine: Uint8Array = new Uint8Array(0);
    let regions: Region[] = [];
    let data: BlockHandle[] = [];
    beforeAll(async () => {
      pristine = kind === "compressed" ? await buildBytes(entries, 160) : await buildBytes(entries, 64, "none");
      ({ regions, data } = layout(pristine));
    });

    it("has several data blocks to damage", () => {
      expect(data.length).toBeGreaterThan(2);
      const compressed = compressedBlocks(pristine, data).length;
      if (kind === "compressed") expect(compressed).toBeGreaterThanOrEqual(2);
      else expect(compressed).toBe(0);
    });

    it("detects a flip of every bit of every byte", () => {
      for (let offset = 0; offset < pristine.length; offset++) {
        const block = blockOf(offset, regions, data);
        for (let bit = 0; bit < 8; bit++) {
          const fs = fsWith(pristine);
          fs.flipBit(PATH, offset, bit);
          const ctx = `byte ${offset} bit ${bit} (${pristine.length}-byte table)`;
          const t = expectDetected(fs, block, ctx);
          if (t !== undefined) expectNoWrongData(t, entries, ctx);
        }
      }
    });

    it("detects every truncation and bytes appended after the footer", () => {
      for (let len = 0; len < pristine.length; len++) {
        const fs = fsWith(pristine.subarray(0, len));
        const err = catching(() => TableReader.open(fs.openRead(PATH), PATH, 1).verify());
        expect(err, `truncated to ${len}`).toBeInstanceOf(CorruptionError);
      }
      for (const tail of [Uint8Array.of(0), new Uint8Array(64), pristine.subarray(pristine.length - 64)]) {
        const fs = fsWith(Uint8Array.from([...pristine, ...tail]));
        expect(catching(() => TableReader.open(fs.openRead(PATH), PATH, 1).verify()), `${tail.length} bytes appended`).toBeInstanceOf(CorruptionError);
      }
    });
  });
}

describe("compressed blocks whose CRC matches damaged contents (a writer bug, or a forged file)", () => {
  /** Rewrites a compressed block's stored contents with `damage`, then a valid trailer for them. */
  function forge(pristine: Uint8Array, h: BlockHandle, damage: (contents: Uint8Array) => void): MemFs {
    const bytes = pristine.slice();
    const block = bytes.subarray(h.offset, h.offset + h.size + BLOCK_TRAILER_SIZE);
    damage(block.subarray(0, h.size));
    writeBlockTrailer(block, h.size, CompressionType.Deflate);
    return fsWith(bytes);
  }

  const cases: Array<[string, (c: Uint8Array) => void, RegExp]> = [
    ["a stream zlib rejects", (c) => c.fill(0xff, 2), /does not inflate/],
    ["a size prefix one short", (c) => (c[0]! & 0x7f) > 0 ? (c[0] = c[0]! - 1) : (c[1] = c[1]! - 1), /does not inflate|inflates to/],
    ["a size prefix one long", (c) => (c[0] = (c[0]! & 0x7f) < 0x7f ? c[0]! + 1 : c[0]! - 0x7f), /inflates to|does not inflate/],
    ["a size prefix of zero", (c) => c.copyWithin(0, 0, 1).fill(0, 0, 1), /size prefix|inflates to|does not inflate/],
    ["a stream cut short", (c) => c.fill(0, c.length - 3), /does not inflate|inflates to|after its deflate stream/],
  ];

  for (const [name, damage, message] of cases) {
    it(`throws CorruptionError at the block for ${name}, from reads and verify()`, async () => {
      const rng = new Rng(11);
      const entries = randomEntries(rng, { keys: 300, maxVersions: 2, textChance: 1 });
      const pristine = await buildBytes(entries, 1024);
      const { data } = layout(pristine);
      const victim = compressedBlocks(pristine, data)[1]!;
      expect(victim).toBeDefined();
      const fs = forge(pristine, victim, damage);
      const t = TableReader.open(fs.openRead(PATH), PATH, 42, new BlockCache(1 << 20));
      for (const run of [() => t.verify(), () => { const it = t.iterator(); for (it.seekToFirst(); it.valid(); it.next()); }]) {
        const err = catching(run);
        expect(err, name).toBeInstanceOf(CorruptionError);
        expect((err as CorruptionError).offset, name).toBe(victim.offset);
        expect((err as CorruptionError).message, name).toMatch(message);
      }
    });
  }

  it("refuses a compressed filter, meta or index block", async () => {
    const entries = randomEntries(new Rng(12), { keys: 50, maxVersions: 1, textChance: 1 });
    const pristine = await buildBytes(entries, 1024);
    const size = pristine.length;
    const footer = decodeFooter(pristine.subarray(size - FOOTER_SIZE), size, PATH);
    for (const [what, h] of [["filter", footer.filter], ["meta", footer.meta], ["index", footer.index]] as const) {
      const bytes = pristine.slice();
      writeBlockTrailer(bytes.subarray(h.offset, h.offset + h.size + BLOCK_TRAILER_SIZE), h.size, CompressionType.Deflate);
      const err = catching(() => TableReader.open(fsWith(bytes).openRead(PATH), PATH, 1));
      expect(err, what).toBeInstanceOf(CorruptionError);
      expect((err as CorruptionError).message, what).toMatch(/only data blocks are compressed/);
    }
  });
});
