/**
 * engine/sstable/block-point-index.ts: the in-memory hash index of a hot data block must answer
 * every point read exactly as a seek in the block does (the newest version of the key with
 * seq <= the read's, in this block, or none), including keys with many versions whose run
 * straddles restart points, tombstones, empty values and absent keys; and a damaged block must
 * throw CorruptionError rather than be indexed. Seeds: LSMDOC_SEED or random.
 */
import { describe, expect, it } from "vitest";
import { CorruptionError } from "../../../engine/errors.js";
import { BlockBuilder } from "../../../engine/sstable/block-builder.js";
import { BlockPointIndex } from "../../../engine/sstable/block-point-index.js";
import { BlockIterator } from "../../../engine/sstable/block-reader.js";
import { Block } from "../../../engine/sstable/block.js";
import { hash32 } from "../../../engine/sstable/bloom.js";
import { BLOCK_TRAILER_SIZE } from "../../../engine/sstable/format.js";
import { encodeInternalKey } from "../../../engine/sstable/internal-key.js";
import { Rng, testSeeds } from "../../fixtures/random.js";
import { type Entry, enc, hex, modelGet, randomEntries, randomUserKey, show } from "./helpers.js";

function buildBlock(entries: readonly Entry[], interval: number): Block {
  const b = new BlockBuilder(interval);
  for (const e of entries) b.add(encodeInternalKey(e.key, e.seq, e.kind), e.value);
  const onDisk = b.finish();
  return new Block(onDisk.slice(0, onDisk.length - BLOCK_TRAILER_SIZE), "000009.sst", 0);
}

/** What the index says about (key, seq), in the model's terms. */
function lookup(index: BlockPointIndex, block: Block, key: Uint8Array, seq: number): { seq: number; kind: number; value: string } | undefined {
  const e = index.find(key, hash32(key), seq);
  if (e < 0) return undefined;
  return { seq: index.seqOf(e), kind: index.kindOf(e), value: hex(block.data.subarray(index.valueStart(e), index.valueEnd(e))) };
}

describe("block point index", () => {
  for (const seed of testSeeds(3)) {
    for (const interval of [1, 2, 16]) {
      it(`answers like the model for every version, seqs around them, and absent keys (seed ${seed}, restart interval ${interval})`, () => {
        const rng = new Rng(seed);
        // Up to 40 versions per key, so that runs of one key cross restart points.
        const entries = randomEntries(rng, { keys: rng.between(1, 200), maxVersions: rng.pick([1, 4, 40]) });
        const block = buildBlock(entries, interval);
        const index = BlockPointIndex.build(block, new BlockIterator(), 0)!;
        const label = `seed ${seed} interval ${interval}`;
        const check = (key: Uint8Array, seq: number): void => {
          const want = modelGet(entries, key, seq);
          const got = lookup(index, block, key, seq);
          const ctx = `${label}: find(${hex(key)}, ${seq})${want ? ` expected ${show(want)}` : ""}`;
          expect(got, ctx).toEqual(want === undefined ? undefined : { seq: want.seq, kind: want.kind, value: hex(want.value) });
        };
        for (const e of entries) {
          for (const seq of [e.seq, e.seq + 1, Math.max(0, e.seq - 1), 0, Number.MAX_SAFE_INTEGER]) check(e.key, seq);
        }
        for (let n = 0; n < 500; n++) check(randomUserKey(rng), rng.pick([0, rng.int(1_000_000), Number.MAX_SAFE_INTEGER]));
        // A prefix or an extension of a stored key is a different key.
        const k = entries[rng.int(entries.length)]!.key;
        check(k.subarray(0, k.length - 1), Number.MAX_SAFE_INTEGER);
        check(new Uint8Array([...k, 0]), Number.MAX_SAFE_INTEGER);
      });
    }
  }

  it("finds versions of one key that straddle a restart point (stored whole at the restart)", () => {
    const key = enc("user:42");
    const entries: Entry[] = [enc("user:41"), key, key, key, key, enc("user:43")].map((k, i) => ({ key: k, seq: 100 - i, kind: 1 as const, value: enc(`v${i}`) }));
    const block = buildBlock(entries, 2); // restarts at entries 0, 2, 4: the key's run spans three
    const index = BlockPointIndex.build(block, new BlockIterator(), 0)!;
    expect(lookup(index, block, key, 1000)?.value).toBe(hex(enc("v1")));
    expect(lookup(index, block, key, 97)?.value).toBe(hex(enc("v3")));
    expect(lookup(index, block, key, 96)?.value).toBe(hex(enc("v4")));
    expect(lookup(index, block, key, 95)).toBeUndefined();
    expect(lookup(index, block, enc("user:43"), 95)?.value).toBe(hex(enc("v5")));
  });

  it("indexes blocks of document-sized entries only", () => {
    const entries = (valueBytes: number): Entry[] =>
      Array.from({ length: 50 }, (_, i) => ({ key: enc(`doc:${String(i).padStart(4, "0")}`), seq: 7, kind: 1 as const, value: new Uint8Array(valueBytes).fill(i) }));
    const small = buildBlock(entries(20), 16);
    expect(BlockPointIndex.build(small, new BlockIterator())).toBeNull();
    const large = buildBlock(entries(250), 16);
    const index = BlockPointIndex.build(large, new BlockIterator())!;
    expect(index).not.toBeNull();
    expect(lookup(index, large, enc("doc:0031"), 7)?.value).toBe(hex(new Uint8Array(250).fill(31)));
    // Charged to the cache: well under the block for these entries, but counted.
    expect(index.byteLength).toBeGreaterThan(50 * 20);
    expect(index.byteLength).toBeLessThan(large.data.length / 3);
  });

  it("refuses a block it cannot walk, with CorruptionError", () => {
    const entries: Entry[] = Array.from({ length: 40 }, (_, i) => ({ key: enc(`key${String(i).padStart(3, "0")}`), seq: 1, kind: 1 as const, value: enc("x".repeat(10)) }));
    const good = buildBlock(entries, 4);
    const data = good.data.slice();
    // Entry 5 (not a restart point) claims to share more bytes than the previous key has.
    const it = new BlockIterator();
    it.reset(good);
    it.seekToFirst();
    for (let i = 0; i < 5; i++) it.next();
    data[it.entryOffset] = 60;
    expect(() => BlockPointIndex.build(new Block(data, "000009.sst", 0), new BlockIterator(), 0)).toThrow(CorruptionError);
  });
});
