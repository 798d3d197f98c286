/**
 * The memtable: the newest writes, in memory, in internal-key order. Every version of a key and
 * every tombstone is kept (a snapshot may need an old one); flush turns a full memtable into an
 * SSTable. Size is counted in bytes so that `memtableSize` bounds memory.
 *
 * Entries are copied into the skip list's arena on `add`, so callers may reuse their arrays. Keys
 * and values handed out (`get`, the iterator) are views of arena bytes that never change, so they
 * stay valid for as long as they are held, across cursor moves and later writes alike.
 */
import type { InternalIterator } from "../iterator/internal-iterator.js";
import { hash32 } from "../sstable/bloom.js";
import { EntryKind } from "../wal/record.js";
import { MemtableKeyFilter } from "./key-filter.js";
import { NIL, SkipList, type SkipListImage } from "./skiplist.js";

export type { SkipListImage };

/** What a memtable knows about a key at a sequence number. */
export type LookupResult =
  | { found: false }
  | { found: true; kind: EntryKind; value: Uint8Array; seq: number };

const NOT_FOUND: LookupResult = { found: false };

export class Memtable {
  private readonly list = new SkipList();
  private readonly filter: MemtableKeyFilter;

  /** `budgetBytes`: the size the memtable is expected to reach (sizes its key filter). */
  constructor(budgetBytes = 4 * 1024 * 1024) {
    this.filter = new MemtableKeyFilter(budgetBytes);
  }

  /**
   * Memory held for entries, in bytes: key and value bytes (a replaced value's old bytes
   * included, since views of them may be held) plus the index's node slots.
   */
  get approximateBytes(): number {
    return this.list.bytesUsed;
  }

  /** Number of entries (versions, tombstones included). */
  get entryCount(): number {
    return this.list.size;
  }

  /** Adds a version; one with the same (key, seq) is replaced. Copies `key` and `value`. */
  add(seq: number, kind: EntryKind, key: Uint8Array, value: Uint8Array): void {
    this.filter.add(key);
    this.list.insert(key, seq, kind, value);
  }

  /**
   * The newest version of `key` with seq <= `seq`, tombstones included. `hash` is the key's
   * `hash32` (sstable/bloom.ts), when the caller already has it.
   */
  get(key: Uint8Array, seq: number, hash = hash32(key)): LookupResult {
    if (!this.filter.mayContainHash(hash)) return NOT_FOUND;
    const list = this.list;
    const n = list.seek(key, seq);
    if (n === NIL || !list.keyEquals(n, key)) return NOT_FOUND;
    return { found: true, kind: list.kindOf(n), value: list.valueOf(n), seq: list.seqOf(n) };
  }

  iterator(): InternalIterator {
    return new MemtableIterator(this.list);
  }

  /**
   * The entries' memory (skip list pages and arena slabs), for the message that hands a frozen
   * (immutable) memtable to the flush thread; the message copies it.
   */
  image(): SkipListImage {
    return this.list.image();
  }
}

/** A cursor over the entries of a memtable another thread sent with {@link Memtable.image}. */
export function memtableImageIterator(image: SkipListImage): InternalIterator {
  return new MemtableIterator(SkipList.over(image));
}

/**
 * A cursor over the skip list. Holds a node index, which stays valid while inserts continue. The
 * key view of the current node is made on first use and kept until the cursor moves, since the
 * merging iterator asks for the key several times per step (keys never change; a value may be
 * replaced in place, so its view is made per call).
 */
class MemtableIterator implements InternalIterator {
  private node = NIL;
  private keyView: Uint8Array | null = null;

  constructor(private readonly list: SkipList) {}

  private moveTo(node: number): void {
    this.node = node;
    this.keyView = null;
  }

  valid(): boolean {
    return this.node !== NIL;
  }
  seekToFirst(): void {
    this.moveTo(this.list.first());
  }
  seekToLast(): void {
    this.moveTo(this.list.last());
  }
  seek(key: Uint8Array, seq: number): void {
    this.moveTo(this.list.seek(key, seq));
  }
  next(): void {
    this.moveTo(this.list.next(this.node));
  }
  prev(): void {
    this.moveTo(this.list.findLessThan(this.node));
  }
  key(): Uint8Array {
    return (this.keyView ??= this.list.keyOf(this.node));
  }
  seq(): number {
    return this.list.seqOf(this.node);
  }
  kind(): EntryKind {
    return this.list.kindOf(this.node);
  }
  value(): Uint8Array {
    return this.list.valueOf(this.node);
  }
  close(): void {
    this.moveTo(NIL);
  }
}

export { EntryKind };
