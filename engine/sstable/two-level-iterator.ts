/**
 * A table's cursor (LevelDB's two-level iterator): a cursor over the index block picks a data
 * block, a second cursor walks inside it, and stepping off either end of a data block moves the
 * index cursor and loads the neighbouring block (through the block cache when there is one).
 *
 * Guarantees to callers: `key()` and `value()` return arrays that are never reused or modified, so
 * they may be kept after the cursor moves (merging and db iterators do). A data block stays pinned
 * by the cursor while it is positioned in it, even if the cache evicts it meanwhile. A damaged
 * block met while moving throws `CorruptionError`; the cursor is then unpositioned.
 */
import type { InternalIterator } from "../iterator/internal-iterator.js";
import type { EntryKind } from "../wal/record.js";
import { BlockIterator } from "./block-reader.js";
import type { Block } from "./block.js";
import type { BlockHandle } from "./format.js";

/** What the cursor needs from its table. */
export interface DataBlockSource {
  readonly indexBlock: Block;
  /** The handle of the index entry `it` is at, checked to lie in the table's data region. */
  indexEntryHandle(it: BlockIterator, out: BlockHandle): void;
  /** The data block at `handle`, CRC-checked (or from the cache). */
  dataBlock(handle: BlockHandle): Block;
}

export class TwoLevelIterator implements InternalIterator {
  private readonly index = new BlockIterator();
  private readonly data = new BlockIterator();
  /** `data` is pointed at the block of the index entry at `blockOffset`. */
  private hasBlock = false;
  private blockOffset = -1;
  private readonly handle: BlockHandle = { offset: 0, size: 0 };

  constructor(private readonly source: DataBlockSource) {
    this.index.reset(source.indexBlock);
  }

  /** Loads the block the index cursor points at, unless it is the one already loaded. */
  private initDataBlock(): void {
    if (!this.index.valid()) {
      this.hasBlock = false;
      return;
    }
    this.source.indexEntryHandle(this.index, this.handle);
    if (this.hasBlock && this.handle.offset === this.blockOffset) return;
    this.hasBlock = false;
    const block = this.source.dataBlock(this.handle);
    this.data.reset(block);
    this.blockOffset = this.handle.offset;
    this.hasBlock = true;
  }

  private skipEmptyForward(): void {
    while (!this.hasBlock || !this.data.valid()) {
      if (!this.index.valid()) {
        this.hasBlock = false;
        return;
      }
      this.index.next();
      this.initDataBlock();
      if (this.hasBlock) this.data.seekToFirst();
    }
  }

  private skipEmptyBackward(): void {
    while (!this.hasBlock || !this.data.valid()) {
      if (!this.index.valid()) {
        this.hasBlock = false;
        return;
      }
      this.index.prev();
      this.initDataBlock();
      if (this.hasBlock) this.data.seekToLast();
    }
  }

  valid(): boolean {
    return this.hasBlock && this.data.valid();
  }

  // Every move catches to leave the cursor unpositioned when it meets a damaged block, so that
  // a caller that carries on after a CorruptionError sees an invalid cursor, not a stale one.

  seekToFirst(): void {
    try {
      this.index.seekToFirst();
      this.initDataBlock();
      if (this.hasBlock) this.data.seekToFirst();
      this.skipEmptyForward();
    } catch (err) {
      this.hasBlock = false;
      throw err;
    }
  }

  seekToLast(): void {
    try {
      this.index.seekToLast();
      this.initDataBlock();
      if (this.hasBlock) this.data.seekToLast();
      this.skipEmptyBackward();
    } catch (err) {
      this.hasBlock = false;
      throw err;
    }
  }

  seek(key: Uint8Array, seq: number): void {
    try {
      this.index.seek(key, seq);
      this.initDataBlock();
      if (this.hasBlock) this.data.seek(key, seq);
      this.skipEmptyForward();
    } catch (err) {
      this.hasBlock = false;
      throw err;
    }
  }

  next(): void {
    try {
      this.data.next();
      if (!this.data.valid()) this.skipEmptyForward();
    } catch (err) {
      this.hasBlock = false;
      throw err;
    }
  }

  prev(): void {
    try {
      this.data.prev();
      if (!this.data.valid()) this.skipEmptyBackward();
    } catch (err) {
      this.hasBlock = false;
      throw err;
    }
  }

  key(): Uint8Array {
    return this.data.userKey();
  }

  seq(): number {
    return this.data.seq();
  }

  kind(): EntryKind {
    return this.data.kind();
  }

  value(): Uint8Array {
    return this.data.value();
  }

  close(): void {
    this.hasBlock = false;
    this.blockOffset = -1;
  }
}
