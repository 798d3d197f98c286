/**
 * engine/sstable/compression.ts and deflate-worker.ts: the compressed-contents layout (rawSize
 * prefix, then raw DEFLATE), the 1/8 rule, the checked inflate (every failure a CorruptionError,
 * never a zlib error or wrong bytes), and the worker: same bytes as inline deflate, results in
 * submission order with several batches out, and a worker that dies or is stopped loses nothing.
 */
import { deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { CorruptionError } from "../../../engine/errors.js";
import { compressedContents, DEFLATE_LEVEL, deflateBlock, inflateBlock, worthCompressing } from "../../../engine/sstable/compression.js";
import { type BlockBatch, deflateBatch, DeflateWorker, inlineCompressor } from "../../../engine/sstable/deflate-worker.js";
import { rawInflater } from "../../../engine/sstable/raw-inflater.js";
import { encodeVarint32 } from "../../../engine/util/varint.js";
import { Rng, testSeeds } from "../../fixtures/random.js";
import { hex, textBytes } from "./helpers.js";

function catching(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e;
  }
}

/** A batch of the given blocks, back to back. */
function batchOf(blocks: readonly Uint8Array[]): BlockBatch {
  const ends = new Uint32Array(blocks.length);
  let total = 0;
  blocks.forEach((b, i) => (ends[i] = total += b.length));
  const bytes = new Uint8Array(total);
  let p = 0;
  for (const b of blocks) {
    bytes.set(b, p);
    p += b.length;
  }
  return { bytes, ends };
}

function split(batch: BlockBatch): Uint8Array[] {
  let start = 0;
  return [...batch.ends].map((end) => batch.bytes.subarray(start, (start = end)));
}

describe("compressed contents", () => {
  it("are the raw size as a varint32, then the raw DEFLATE stream", () => {
    const raw = textBytes(new Rng(1), 4000);
    const deflated = deflateBlock(raw);
    const c = compressedContents(raw.length, deflated)!;
    expect(hex(c.subarray(0, 2))).toBe("a01f"); // 4000 = 0x20 + 0x1f * 128
    expect(hex(c.subarray(2))).toBe(hex(deflated));
    expect(hex(inflateBlock(c, "t.sst", 0))).toBe(hex(raw));
    expect(inflateBlock(c, "t.sst", 0).constructor).toBe(Uint8Array);
  });

  it("are used only when they save at least 1/8 of the block", () => {
    expect(worthCompressing(800, 700)).toBe(true);
    expect(worthCompressing(800, 701)).toBe(false);
    const random = new Rng(2).bytes(4096);
    expect(compressedContents(random.length, deflateBlock(random))).toBeNull();
    // The prefix counts: 8 bytes deflated to 6 is not enough once 1 prefix byte is added.
    expect(compressedContents(8, new Uint8Array(7))).toBeNull();
    expect(compressedContents(8, new Uint8Array(6))).not.toBeNull();
  });

  for (const seed of testSeeds(1)) {
    it(`round-trip blocks of every compressibility and size (seed ${seed})`, () => {
      const rng = new Rng(seed);
      for (let i = 0; i < 300; i++) {
        const n = rng.chance(0.1) ? rng.between(1, 16) : rng.between(17, rng.chance(0.05) ? 70_000 : 5000);
        const raw = rng.chance(0.5) ? textBytes(rng, n) : rng.chance(0.5) ? rng.bytes(n) : new Uint8Array(n).fill(rng.int(256));
        const c = compressedContents(raw.length, deflateBlock(raw, rng.between(1, 9)));
        if (c === null) continue;
        expect(c.length).toBeLessThanOrEqual(raw.length - raw.length / 8);
        if (hex(inflateBlock(c, "t.sst", 0)) !== hex(raw)) expect.fail(`seed ${seed} block ${i}: round trip differs`);
      }
    });
  }
});

describe("the reusable inflater", () => {
  it("is available on this Node (its self-test passed), so reads do not build a zlib context per block", () => {
    expect(rawInflater()).not.toBeNull();
  });

  it("inflates blocks of every size back to back, with errors in between, like the one-shot API", () => {
    const rng = new Rng(11);
    for (let i = 0; i < 300; i++) {
      const raw = i % 4 === 0 ? rng.bytes(rng.between(1, 40000)) : textBytes(rng, rng.between(1, 40000));
      const c = compressedContents(raw.length, deflateBlock(raw)) ?? compressedContents(raw.length, deflateRawSync(raw, { level: 9 }));
      if (c === null) continue;
      if (i % 7 === 0) expect(() => inflateBlock(c.subarray(0, c.length - 3), "t.sst", 0)).toThrow(CorruptionError);
      const out = inflateBlock(c, "t.sst", 0);
      if (hex(out) !== hex(raw)) expect.fail(`block ${i}: round trip differs`);
    }
  });
});

for (const [path, inflater] of [["reusable inflater", rawInflater()], ["one-shot zlib API", null]] as const) {
describe(`inflateBlock on damaged contents (what a bad CRC check would let through), ${path}`, () => {
  const raw = textBytes(new Rng(3), 3000);
  const good = compressedContents(raw.length, deflateBlock(raw))!;
  const withPrefix = (rawSize: number, body: Uint8Array): Uint8Array => {
    const out = new Uint8Array(5 + body.length);
    const p = encodeVarint32(out, 0, rawSize);
    out.set(body, p);
    return out.subarray(0, p + body.length);
  };
  const body = good.subarray(2);
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["an empty block", new Uint8Array(0), /size prefix/],
    ["a prefix that never ends", Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80), /size prefix/],
    ["a prefix of zero", withPrefix(0, body), /size prefix/],
    ["a stream zlib rejects", withPrefix(raw.length, Uint8Array.of(0xff, 0xff, 0xff, 0xff)), /does not inflate/],
    ["a stream cut short", withPrefix(raw.length, body.subarray(0, body.length - 4)), /does not inflate/],
    ["a size one short", withPrefix(raw.length - 1, body), /does not inflate/],
    ["a size one long", withPrefix(raw.length + 1, body), /inflates to 3000 bytes, its prefix says 3001/],
    ["bytes after the stream", withPrefix(raw.length, Uint8Array.from([...body, 0, 1, 2])), /3 bytes after its deflate stream/],
    ["a huge claimed size", withPrefix(0xffff_ffff, deflateRawSync(new Uint8Array(1 << 20))), /inflates to 1048576 bytes/],
  ];
  for (const [name, contents, message] of cases) {
    it(`throws CorruptionError at the block's offset for ${name}`, () => {
      const err = catching(() => inflateBlock(contents, "/db/sst/000007.sst", 4096, inflater));
      expect(err).toBeInstanceOf(CorruptionError);
      expect((err as CorruptionError).offset).toBe(4096);
      expect((err as CorruptionError).file).toBe("/db/sst/000007.sst");
      expect((err as CorruptionError).message).toMatch(message);
    });
  }

  it("never returns wrong bytes for any single flipped bit of the stream", () => {
    for (let i = 0; i < good.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const c = good.slice();
        c[i] = c[i]! ^ (1 << bit);
        let out: Uint8Array | undefined;
        const err = catching(() => (out = inflateBlock(c, "t.sst", 0, inflater)));
        if (err !== undefined) expect(err, `byte ${i} bit ${bit}`).toBeInstanceOf(CorruptionError);
        // A flip zlib cannot see (inside a literal, say) changes the data: that is what the
        // block's CRC, checked before inflating, is for. Here only the length is guaranteed.
        else expect(out!.length, `byte ${i} bit ${bit}`).toBe(raw.length);
      }
    }
  });
});
}

describe("deflate worker", () => {
  const rng = new Rng(4);
  const blocks = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? rng.bytes(rng.between(1, 5000)) : textBytes(rng, rng.between(1, 5000))));

  it("returns the same bytes as deflating inline, batch by batch, in submission order", async () => {
    const worker = new DeflateWorker();
    try {
      const batches = [blocks.slice(0, 10), blocks.slice(10, 11), blocks.slice(11, 30), blocks.slice(30)].map(batchOf);
      const results = await Promise.all(batches.map((b) => worker.deflate(b, DEFLATE_LEVEL)));
      for (const [i, r] of results.entries()) {
        const want = deflateBatch(batches[i]!, DEFLATE_LEVEL);
        expect(hex(r.bytes), `batch ${i}`).toBe(hex(want.bytes));
        expect([...r.ends], `batch ${i}`).toEqual([...want.ends]);
      }
      // The caller's batch is untouched (a copy went to the worker).
      expect(split(batches[0]!).map(hex)).toEqual(blocks.slice(0, 10).map(hex));
    } finally {
      await worker.terminate();
    }
  });

  it("compresses the batches it held inline when stopped, and starts again on the next batch", async () => {
    const worker = new DeflateWorker();
    const batch = batchOf(blocks);
    const pending = [worker.deflate(batch, 1), worker.deflate(batch, 6)];
    await worker.terminate();
    const [a, b] = await Promise.all(pending);
    expect(hex(a!.bytes)).toBe(hex(deflateBatch(batch, 1).bytes));
    expect(hex(b!.bytes)).toBe(hex(deflateBatch(batch, 6).bytes));
    const again = await worker.deflate(batch, 1);
    expect(hex(again.bytes)).toBe(hex(a!.bytes));
    await worker.terminate();
  });

  it("the inline compressor is the same function", async () => {
    const batch = batchOf(blocks.slice(0, 5));
    expect(hex((await inlineCompressor.deflate(batch, 3)).bytes)).toBe(hex(deflateBatch(batch, 3).bytes));
    expect(split(deflateBatch(batch, 3)).map((c, i) => hex(c) === hex(deflateBlock(blocks[i]!, 3)))).toEqual([true, true, true, true, true]);
  });
});
