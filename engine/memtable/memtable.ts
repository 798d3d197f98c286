/**
 * The memtable: the newest writes, in memory, in internal-key order. Every version of a key and
 * every tombstone is kept (a snapshot may need an old one); flush (issue 4) turns a full memtable
 * into an SSTable. Size is counted in bytes so that `memtableSize` bounds memory.
 */
import type { InternalIterator } from "../iterator/internal-iterator.js";
import { compareBytes } from "../util/bytes.js";
import { EntryKind } from "../wal/record.js";
import { SkipList, type SkipNode } from "./skiplist.js";

/** Estimated bytes of bookkeeping per entry (node object, arrays, pointers). */
const ENTRY_OVERHEAD = 64;

/** What a memtable knows about a key at a sequence number. */
export type LookupResult =
  | { found: false }
  | { found: true; kind: EntryKind; value: Uint8Array; seq: number };

const NOT_FOUND: LookupResult = { found: false };

export class Memtable {
  private readonly list = new SkipList();
  private bytes = 0;

  /** Approximate memory held, in bytes. */
  get approximateBytes(): number {
    return this.bytes;
  }

  /** Number of entries (versions, tombstones included). */
  get entryCount(): number {
    return this.list.size;
  }

  add(seq: number, kind: EntryKind, key: Uint8Array, value: Uint8Array): void {
    if (this.list.insert(key, seq, kind, value)) this.bytes += key.length + value.length + ENTRY_OVERHEAD;
  }

  /** The newest version of `key` with seq <= `seq`, tombstones included. */
  get(key: Uint8Array, seq: number): LookupResult {
    const n = this.list.seek(key, seq);
    if (n === null || compareBytes(n.key, key) !== 0) return NOT_FOUND;
    return { found: true, kind: n.kind, value: n.value, seq: n.seq };
  }

  iterator(): InternalIterator {
    return new MemtableIterator(this.list);
  }
}

class MemtableIterator implements InternalIterator {
  private node: SkipNode | null = null;

  constructor(private readonly list: SkipList) {}

  valid(): boolean {
    return this.node !== null;
  }
  seekToFirst(): void {
    this.node = this.list.first();
  }
  seekToLast(): void {
    this.node = this.list.last();
  }
  seek(key: Uint8Array, seq: number): void {
    this.node = this.list.seek(key, seq);
  }
  next(): void {
    this.node = this.node!.next[0]!;
  }
  prev(): void {
    this.node = this.list.findLessThan(this.node!);
  }
  key(): Uint8Array {
    return this.node!.key;
  }
  seq(): number {
    return this.node!.seq;
  }
  kind(): EntryKind {
    return this.node!.kind;
  }
  value(): Uint8Array {
    return this.node!.value;
  }
  close(): void {
    this.node = null;
  }
}

export { EntryKind };
