/**
 * An LRU cache of decoded data blocks shared by every table reader of an engine, keyed by
 * (file number, block offset) and bounded by the bytes its blocks hold.
 *
 * Invariants: `usedBytes <= capacity` after every call; a block larger than the whole capacity is
 * not cached; capacity 0 disables caching (lookups miss, inserts do nothing). File numbers are
 * never reused by the engine, so a key names the same bytes for as long as it is cached; when a
 * table is deleted its blocks are dropped with `evictFile()`. Evicting a block never invalidates
 * it: iterators and callers that hold it (or views into it) keep it alive, and blocks are never
 * modified.
 *
 * Lookups do two Map gets and a few pointer moves, and allocate nothing on a hit.
 */
import type { Block } from "./block.js";

interface Node {
  file: number;
  offset: number;
  block: Block;
  charge: number;
  /** Towards the most recently used end. */
  newer: Node | null;
  older: Node | null;
}

export interface BlockCacheStats {
  capacity: number;
  usedBytes: number;
  blocks: number;
  hits: number;
  misses: number;
}

export class BlockCache {
  private readonly files = new Map<number, Map<number, Node>>();
  /** Most recently used. */
  private newest: Node | null = null;
  /** Least recently used: evicted first. */
  private oldest: Node | null = null;
  private used = 0;
  private count = 0;
  private hitCount = 0;
  private missCount = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new RangeError(`block cache capacity must be an integer >= 0, got ${capacity}`);
  }

  /** The cached block at (file, offset), marked most recently used; counts a hit or a miss. */
  get(file: number, offset: number): Block | undefined {
    const node = this.files.get(file)?.get(offset);
    if (node === undefined) {
      this.missCount++;
      return undefined;
    }
    this.hitCount++;
    if (node !== this.newest) {
      this.unlink(node);
      this.pushNewest(node);
    }
    return node.block;
  }

  /** Caches `block` as most recently used, evicting the least recently used blocks to fit. */
  insert(file: number, offset: number, block: Block): void {
    const charge = block.charge;
    if (charge > this.capacity) return;
    const existing = this.files.get(file)?.get(offset);
    if (existing !== undefined) this.remove(existing);
    let perFile = this.files.get(file);
    if (perFile === undefined) {
      perFile = new Map();
      this.files.set(file, perFile);
    }
    const node: Node = { file, offset, block, charge, newer: null, older: null };
    perFile.set(offset, node);
    this.pushNewest(node);
    this.used += charge;
    this.count++;
    while (this.used > this.capacity) this.remove(this.oldest!);
  }

  /** Drops every block of `file` (the table was deleted). */
  evictFile(file: number): void {
    const perFile = this.files.get(file);
    if (perFile === undefined) return;
    for (const node of [...perFile.values()]) this.remove(node);
  }

  get usedBytes(): number {
    return this.used;
  }

  get hits(): number {
    return this.hitCount;
  }

  get misses(): number {
    return this.missCount;
  }

  stats(): BlockCacheStats {
    return { capacity: this.capacity, usedBytes: this.used, blocks: this.count, hits: this.hitCount, misses: this.missCount };
  }

  private remove(node: Node): void {
    this.unlink(node);
    const perFile = this.files.get(node.file)!;
    perFile.delete(node.offset);
    if (perFile.size === 0) this.files.delete(node.file);
    this.used -= node.charge;
    this.count--;
  }

  private unlink(node: Node): void {
    if (node.newer !== null) node.newer.older = node.older;
    else this.newest = node.older;
    if (node.older !== null) node.older.newer = node.newer;
    else this.oldest = node.newer;
    node.newer = null;
    node.older = null;
  }

  private pushNewest(node: Node): void {
    node.older = this.newest;
    node.newer = null;
    if (this.newest !== null) this.newest.newer = node;
    this.newest = node;
    if (this.oldest === null) this.oldest = node;
  }
}
