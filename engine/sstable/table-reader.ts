/**
 * Reads one SSTable (format in `format.ts`). `open()` checks the footer (magic, CRC, version, the
 * tiling of the tail blocks) and loads the filter, properties and index blocks, each CRC-checked;
 * they stay in memory for the reader's life. Data blocks are read on demand, CRC-checked before
 * any byte of them is used (a compressed block's CRC covers its stored bytes, so it is checked
 * before inflating), and shared, uncompressed, through the {@link BlockCache}.
 *
 * Nothing damaged is ever returned as data: a block whose CRC or structure is wrong throws
 * `CorruptionError(file, offset)` from the read that meets it. `verify()` reads every byte of the
 * file from disk (bypassing the cache) and checks everything the format lets it check.
 *
 * Reads are synchronous (positional reads). Point reads reuse two cursors owned by the reader,
 * which is safe because a `get()` runs to completion without yielding. The reader owns `file` and
 * closes it in `close()`; the engine must not close a reader while cursors over it are in use.
 */
import { CorruptionError } from "../errors.js";
import type { RandomAccessFile } from "../fs/fs.js";
import type { InternalIterator } from "../iterator/internal-iterator.js";
import type { LookupResult } from "../memtable/memtable.js";
import { EntryKind } from "../wal/record.js";
import type { BlockCache } from "./block-cache.js";
import { BlockIterator } from "./block-reader.js";
import { Block } from "./block.js";
import { BloomFilter, hash32 } from "./bloom.js";
import { inflateBlock } from "./compression.js";
import {
  BLOCK_TRAILER_SIZE,
  type BlockHandle,
  checkBlock,
  checkBlockTrailer,
  CompressionType,
  decodeFooter,
  type Footer,
  FOOTER_SIZE,
} from "./format.js";
import { compareUserKeyAt, type InternalKey } from "./internal-key.js";
import { decodeProperties, type TableProperties } from "./properties.js";
import { type DataBlockSource, TwoLevelIterator } from "./two-level-iterator.js";

const NOT_FOUND: LookupResult = { found: false };

/**
 * Where data blocks are read before they are inflated (or copied). It grows to the largest block
 * read, up to READ_SCRATCH_MAX; a larger block (a huge value) is read into an array of its own,
 * so that one such read does not pin its size for the life of the thread.
 */
let readScratch = new Uint8Array(32 * 1024);
const READ_SCRATCH_MAX = 1024 * 1024;

/**
 * A plain Uint8Array view of what a file read returned. Node's reads return Buffers, whose
 * `slice()` shares memory and which compare unequal to Uint8Arrays in deep-equality checks; keys
 * and values handed out should behave like every other Uint8Array.
 */
function plain(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The blocks at a table's end, checked and decoded. */
interface TableTail {
  footer: Footer;
  filter: BloomFilter;
  properties: TableProperties;
  indexBlock: Block;
}

function readTail(file: RandomAccessFile, fileName: string): TableTail & { fileSize: number } {
  const fileSize = file.size();
  if (fileSize < FOOTER_SIZE) throw new CorruptionError(fileName, 0, `file of ${fileSize} bytes is too short to be a table`);
  const footer = decodeFooter(file.read(fileSize - FOOTER_SIZE, FOOTER_SIZE), fileSize, fileName);
  if (footer.filter.offset === 0) throw new CorruptionError(fileName, fileSize - FOOTER_SIZE, "table has no data blocks");
  // Filter, meta and index blocks are adjacent (decodeFooter checked it): one read for all three.
  const base = footer.filter.offset;
  const tail = plain(file.read(base, fileSize - FOOTER_SIZE - base));
  const blockAt = (h: BlockHandle, what: string): Uint8Array => {
    const start = h.offset - base;
    return checkBlock(tail.subarray(start, Math.min(tail.length, start + h.size + BLOCK_TRAILER_SIZE)), h, fileName, what);
  };
  const filter = BloomFilter.parse(blockAt(footer.filter, "filter"));
  if (typeof filter === "string") throw new CorruptionError(fileName, footer.filter.offset, filter);
  const properties = decodeProperties(new Block(blockAt(footer.meta, "meta"), fileName, footer.meta.offset));
  if (properties.dataStoredBytes + BLOCK_TRAILER_SIZE * properties.dataBlocks !== footer.filter.offset) {
    throw new CorruptionError(fileName, footer.meta.offset, `properties say ${properties.dataBlocks} data blocks of ${properties.dataStoredBytes} stored bytes, but the data region holds ${footer.filter.offset} bytes`);
  }
  const indexBlock = new Block(blockAt(footer.index, "index"), fileName, footer.index.offset);
  return { footer, filter, properties, indexBlock, fileSize };
}

export class TableReader implements DataBlockSource {
  /** Decoded index block, pinned for the reader's life. */
  readonly indexBlock: Block;
  readonly properties: TableProperties;
  readonly fileSize: number;
  private readonly filter: BloomFilter;
  /** Data blocks lie in [0, dataEnd). */
  private readonly dataEnd: number;
  private readonly getIndex = new BlockIterator();
  private readonly getData = new BlockIterator();
  private readonly getHandle: BlockHandle = { offset: 0, size: 0 };

  private constructor(
    private readonly file: RandomAccessFile,
    readonly fileName: string,
    readonly fileNumber: number,
    private readonly cache: BlockCache | undefined,
    tail: TableTail & { fileSize: number },
  ) {
    this.indexBlock = tail.indexBlock;
    this.properties = tail.properties;
    this.filter = tail.filter;
    this.fileSize = tail.fileSize;
    this.dataEnd = tail.footer.filter.offset;
    this.getIndex.reset(this.indexBlock);
  }

  /**
   * Opens the table in `file` (which the reader then owns). `fileName` names it in errors;
   * `fileNumber` keys its blocks in `cache`. Throws CorruptionError when the footer or a tail
   * block is damaged.
   */
  static open(file: RandomAccessFile, fileName: string, fileNumber: number, cache?: BlockCache): TableReader {
    return new TableReader(file, fileName, fileNumber, cache !== undefined && cache.capacity > 0 ? cache : undefined, readTail(file, fileName));
  }

  get smallest(): InternalKey {
    return this.properties.smallest;
  }

  get largest(): InternalKey {
    return this.properties.largest;
  }

  /** False when the table certainly holds no version of `userKey` (bloom filter). */
  mayContain(userKey: Uint8Array): boolean {
    return this.filter.mayContain(userKey);
  }

  /**
   * The newest version of `userKey` with seq <= `seq`, tombstones included. The value is a view
   * into a block: stable, but not to be modified. `hash` is the key's `hash32`, when the caller
   * already has it.
   */
  get(userKey: Uint8Array, seq: number, hash = hash32(userKey)): LookupResult {
    if (!this.filter.mayContainHash(hash)) return NOT_FOUND;
    const ii = this.getIndex;
    ii.seek(userKey, seq);
    if (!ii.valid()) return NOT_FOUND;
    const h = this.getHandle;
    this.indexEntryHandle(ii, h);
    const di = this.getData;
    di.reset(this.dataBlock(h));
    di.seek(userKey, seq);
    // Running off this block's end means no match: separator i < every key of block i+1, and a
    // shortened separator's user key is absent from the table (see table-builder.ts).
    if (!di.valid() || !di.userKeyEquals(userKey)) return NOT_FOUND;
    return { found: true, kind: di.kind(), value: di.value(), seq: di.seq() };
  }

  /** A cursor over every entry (all versions, tombstones included), in internal-key order. */
  iterator(): InternalIterator {
    return new TwoLevelIterator(this);
  }

  /** @internal Decodes the handle of index entry `it` and checks it lies in the data region. */
  indexEntryHandle(it: BlockIterator, out: BlockHandle): void {
    it.valueAsHandle(out);
    if (out.offset + out.size + BLOCK_TRAILER_SIZE > this.dataEnd) {
      this.indexBlock.corrupt(it.entryOffset, `data block handle (${out.offset}, ${out.size}) runs past the data region`);
    }
  }

  /** @internal The CRC-checked data block at `h`, from the cache when it holds it. */
  dataBlock(h: BlockHandle): Block {
    const cache = this.cache;
    if (cache !== undefined) {
      const hit = cache.get(this.fileNumber, h.offset);
      if (hit !== undefined) return hit;
    }
    const block = this.readDataBlock(h);
    if (cache !== undefined) cache.insert(this.fileNumber, h.offset, block);
    return block;
  }

  private readDataBlock(h: BlockHandle): Block {
    // Read into the thread's scratch buffer: a compressed block's stored bytes are garbage once
    // inflated (the common case), and an uncompressed one is copied out of it.
    const length = h.size + BLOCK_TRAILER_SIZE;
    const scratch = length <= READ_SCRATCH_MAX;
    if (scratch && readScratch.length < length) {
      readScratch = new Uint8Array(Math.min(READ_SCRATCH_MAX, Math.max(length, readScratch.length * 2)));
    }
    const raw = plain(this.file.read(h.offset, length, scratch ? readScratch : undefined));
    const type = checkBlockTrailer(raw, h, this.fileName, "data");
    const stored = raw.subarray(0, h.size);
    if (type === CompressionType.None) return new Block(raw.buffer === readScratch.buffer ? stored.slice() : stored, this.fileName, h.offset);
    return new Block(inflateBlock(stored, this.fileName, h.offset), this.fileName, h.offset, h.size);
  }

  /**
   * Reads the whole file from disk and checks every checksum and every structural rule: blocks
   * tile the file, keys strictly increase across the table and lie between their index
   * separators, restart points and entry bounds are sound, the properties match the entries, and
   * the filter holds every key. Throws CorruptionError at the first failure.
   */
  verify(): void {
    const tail = readTail(this.file, this.fileName);
    const file = this.fileName;
    const dataEnd = tail.footer.filter.offset;
    const index = new BlockIterator();
    index.reset(tail.indexBlock);
    const data = new BlockIterator();
    const h: BlockHandle = { offset: 0, size: 0 };

    let expected = 0;
    let entries = 0;
    let tombstones = 0;
    let blocks = 0;
    let dataRawBytes = 0;
    let dataStoredBytes = 0;
    let minSeq = Infinity;
    let maxSeq = -1;
    let rawKeyBytes = 0;
    let rawValueBytes = 0;
    let prevKey: Uint8Array | null = null;
    let prevSeq = 0;
    let first: InternalKey | null = null;
    let last: InternalKey | null = null;
    let prevSepKey: Uint8Array | null = null;
    let prevSepSeq = 0;

    for (index.seekToFirst(); index.valid(); index.next()) {
      index.valueAsHandle(h);
      if (h.offset !== expected) tail.indexBlock.corrupt(index.entryOffset, `data block at ${h.offset} does not follow the previous block (expected ${expected})`);
      if (h.offset + h.size + BLOCK_TRAILER_SIZE > dataEnd) tail.indexBlock.corrupt(index.entryOffset, "data block runs into the filter block");
      const sepKey = index.userKey();
      const sepSeq = index.seq();
      if (prevSepKey !== null && index.compareCurrent(prevSepKey, prevSepSeq) <= 0) tail.indexBlock.corrupt(index.entryOffset, "index separators out of order");
      const block = this.readDataBlock(h);
      dataRawBytes += block.data.length;
      dataStoredBytes += h.size;
      data.reset(block);
      for (data.seekToFirst(); data.valid(); data.next()) {
        const at = data.entryOffset;
        const key = data.userKey();
        const seq = data.seq();
        if (prevKey !== null && data.compareCurrent(prevKey, prevSeq) <= 0) block.corrupt(at, "keys out of order");
        if (prevSepKey !== null && data.compareCurrent(prevSepKey, prevSepSeq) <= 0) block.corrupt(at, "key not above the previous block's separator");
        if (data.compareCurrent(sepKey, sepSeq) > 0) block.corrupt(at, "key above its block's index separator");
        const kind = data.kind();
        if (kind === EntryKind.Delete) {
          tombstones++;
          if (data.valueLength !== 0) block.corrupt(at, "tombstone with a value");
        }
        if (prevKey === null || compareUserKeyAt(key, 0, key.length, prevKey) !== 0) {
          if (!tail.filter.mayContain(key)) throw new CorruptionError(file, tail.footer.filter.offset, "filter block does not contain a key of the table");
        }
        entries++;
        if (seq < minSeq) minSeq = seq;
        if (seq > maxSeq) maxSeq = seq;
        rawKeyBytes += key.length;
        rawValueBytes += data.valueLength;
        if (first === null) first = { key, seq, kind };
        last = { key, seq, kind };
        prevKey = key;
        prevSeq = seq;
      }
      blocks++;
      expected = h.offset + h.size + BLOCK_TRAILER_SIZE;
      prevSepKey = sepKey;
      prevSepSeq = sepSeq;
    }
    if (expected !== dataEnd) throw new CorruptionError(file, expected, `data blocks end at ${expected} but the filter block starts at ${dataEnd}`);

    const p = tail.properties;
    const mismatch = (what: string, stored: unknown, actual: unknown): never => {
      throw new CorruptionError(file, tail.footer.meta.offset, `property ${what} is ${String(stored)} but the table holds ${String(actual)}`);
    };
    if (p.entries !== entries) mismatch("entries", p.entries, entries);
    if (p.tombstones !== tombstones) mismatch("tombstones", p.tombstones, tombstones);
    if (p.dataBlocks !== blocks) mismatch("data-blocks", p.dataBlocks, blocks);
    if (p.dataRawBytes !== dataRawBytes) mismatch("data-raw-bytes", p.dataRawBytes, dataRawBytes);
    if (p.dataStoredBytes !== dataStoredBytes) mismatch("data-stored-bytes", p.dataStoredBytes, dataStoredBytes);
    if (p.minSeq !== minSeq) mismatch("min-seq", p.minSeq, minSeq);
    if (p.maxSeq !== maxSeq) mismatch("max-seq", p.maxSeq, maxSeq);
    if (p.rawKeyBytes !== rawKeyBytes) mismatch("raw-key-bytes", p.rawKeyBytes, rawKeyBytes);
    if (p.rawValueBytes !== rawValueBytes) mismatch("raw-value-bytes", p.rawValueBytes, rawValueBytes);
    const sameKey = (a: InternalKey, b: InternalKey): boolean =>
      a.seq === b.seq && a.kind === b.kind && a.key.length === b.key.length && compareUserKeyAt(a.key, 0, a.key.length, b.key) === 0;
    if (first === null || !sameKey(p.smallest, first)) mismatch("smallest", "a different key", "another first key");
    if (last === null || !sameKey(p.largest, last)) mismatch("largest", "a different key", "another last key");
  }

  close(): void {
    this.file.close();
  }
}
