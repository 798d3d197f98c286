/**
 * Shared pieces of the SSTable tests: random entry sets with the shapes that stress the format
 * (shared key prefixes, many versions per key, tombstones, empty and multi-block values), a
 * sorted-array model ordered independently of the engine's comparators, and table build/open
 * helpers over any FileSystem.
 */
import type { FileSystem } from "../../../engine/fs/fs.js";
import { BlockCache } from "../../../engine/sstable/block-cache.js";
import { BlockIterator } from "../../../engine/sstable/block-reader.js";
import { Block } from "../../../engine/sstable/block.js";
import { BLOCK_TRAILER_SIZE, type BlockHandle, checkBlock, decodeFooter, FOOTER_SIZE } from "../../../engine/sstable/format.js";
import { TableBuilder, type TableBuilderOptions, type TableMeta } from "../../../engine/sstable/table-builder.js";
import { TableReader } from "../../../engine/sstable/table-reader.js";
import type { Rng } from "../../fixtures/random.js";

export interface Entry {
  key: Uint8Array;
  seq: number;
  kind: 1 | 2;
  value: Uint8Array;
}

export const EMPTY = new Uint8Array(0);
export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

/** Internal-key order written with Buffer.compare, not the engine's code. */
export function compareEntries(a: { key: Uint8Array; seq: number }, b: { key: Uint8Array; seq: number }): number {
  const c = Buffer.compare(a.key, b.key);
  return c !== 0 ? c : b.seq - a.seq;
}

/** Index of the first entry at or after (key, seq) in sorted `entries`. */
export function lowerBound(entries: readonly Entry[], key: Uint8Array, seq: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareEntries(entries[mid]!, { key, seq }) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The newest version of `key` with seq <= `seq`, as the model sees it. */
export function modelGet(entries: readonly Entry[], key: Uint8Array, seq: number): Entry | undefined {
  const e = entries[lowerBound(entries, key, seq)];
  return e !== undefined && Buffer.compare(e.key, key) === 0 ? e : undefined;
}

export interface EntryShape {
  /** Distinct user keys. */
  keys: number;
  /** Largest number of versions per key. */
  maxVersions?: number;
  /** Probability that a value is large (several blocks). */
  largeValueChance?: number;
  /** Upper bound of seqs drawn. */
  maxSeq?: number;
  /** Probability that a value is repetitive text (compresses well) rather than random bytes. */
  textChance?: number;
}

const WORDS = ["alpha", "beta", "gamma", "user", "name", "email", "@example.com", "London", "Paris", " ", "0", "1"];

/** `n` bytes of text from a small vocabulary: compresses to a fraction of its size. */
export function textBytes(rng: Rng, n: number): Uint8Array {
  let s = "";
  while (s.length < n) s += rng.pick(WORDS);
  return enc(s.slice(0, n));
}

/** A user key: a few shared prefixes, a random middle and a random-length tail. */
export function randomUserKey(rng: Rng): Uint8Array {
  const prefix = rng.pick(["", "user:", "user:profile:", "idx\u0000age\u0000", "\u00ff\u00ff"]);
  const head = enc(prefix);
  const tail = rng.bytes(rng.between(1, rng.chance(0.05) ? 200 : 12));
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

/** Random sorted entries, unique by (key, seq). */
export function randomEntries(rng: Rng, shape: EntryShape): Entry[] {
  const maxVersions = shape.maxVersions ?? 4;
  const largeChance = shape.largeValueChance ?? 0.002;
  const maxSeq = shape.maxSeq ?? 1_000_000;
  const textChance = shape.textChance ?? 0;
  const byKey = new Map<string, Uint8Array>();
  while (byKey.size < shape.keys) {
    const k = randomUserKey(rng);
    byKey.set(hex(k), k);
  }
  const out: Entry[] = [];
  for (const key of byKey.values()) {
    const versions = rng.between(1, maxVersions);
    const seqs = new Set<number>();
    while (seqs.size < versions) seqs.add(rng.chance(0.01) ? rng.pick([0, Number.MAX_SAFE_INTEGER]) : rng.int(maxSeq));
    for (const seq of seqs) {
      const kind: 1 | 2 = rng.chance(0.2) ? 2 : 1;
      let value: Uint8Array = EMPTY;
      if (kind === 1 && !rng.chance(0.1)) {
        const n = rng.chance(largeChance) ? rng.between(5000, 20000) : rng.between(1, 60);
        value = textChance > 0 && rng.chance(textChance) ? textBytes(rng, n) : rng.bytes(n);
      }
      out.push({ key, seq, kind, value });
    }
  }
  return out.sort(compareEntries);
}

/**
 * Builds a table at `path` from sorted `entries`; resolves to its metadata. Awaits the builder
 * whenever it is backlogged, as the engine's table writer does.
 */
export async function buildTable(fs: FileSystem, path: string, entries: readonly Entry[], options?: TableBuilderOptions): Promise<TableMeta> {
  const file = fs.create(path);
  try {
    const b = new TableBuilder(file, options);
    for (const e of entries) {
      b.add(e.key, e.seq, e.kind, e.value);
      if (b.backlogged) await b.drain();
    }
    return await b.finish();
  } finally {
    file.close();
  }
}

/** The data blocks' handles and compression types, found through the footer and index block. */
export function dataBlockLayout(fs: FileSystem, path: string): { handles: BlockHandle[]; types: number[]; dataEnd: number } {
  const bytes = fs.readFile(path);
  const footer = decodeFooter(bytes.subarray(bytes.length - FOOTER_SIZE), bytes.length, path);
  const h = footer.index;
  const index = new Block(checkBlock(bytes.subarray(h.offset, h.offset + h.size + BLOCK_TRAILER_SIZE), h, path, "index"), path, h.offset);
  const it = new BlockIterator();
  it.reset(index);
  const handles: BlockHandle[] = [];
  const types: number[] = [];
  for (it.seekToFirst(); it.valid(); it.next()) {
    const d = { offset: 0, size: 0 };
    it.valueAsHandle(d);
    handles.push(d);
    types.push(bytes[d.offset + d.size]!);
  }
  return { handles, types, dataEnd: footer.filter.offset };
}

export function openTable(fs: FileSystem, path: string, fileNumber = 1, cache?: BlockCache): TableReader {
  return TableReader.open(fs.openRead(path), path, fileNumber, cache ?? new BlockCache(0));
}

export function show(e: { key: Uint8Array; seq: number } | undefined): string {
  return e === undefined ? "none" : `${hex(e.key)}@${e.seq}`;
}
