/**
 * Merges several internal iterators into one ordered stream (LevelDB's MergingIterator). Children
 * hold disjoint (key, seq) pairs, so no tie-breaking beyond internal-key order is needed. With the
 * handful of children an LSM read has (memtables, L0 files, one iterator per level) a linear scan
 * for the smallest child beats a heap.
 */
import { compareInternal } from "../memtable/skiplist.js";
import type { EntryKind } from "../wal/record.js";
import type { InternalIterator } from "./internal-iterator.js";

export class MergingIterator implements InternalIterator {
  private current: InternalIterator | null = null;
  private forward = true;

  constructor(private readonly children: InternalIterator[]) {}

  private findSmallest(): void {
    let best: InternalIterator | null = null;
    for (const c of this.children) {
      if (c.valid() && (best === null || compareInternal(c.key(), c.seq(), best.key(), best.seq()) < 0)) best = c;
    }
    this.current = best;
  }

  private findLargest(): void {
    let best: InternalIterator | null = null;
    for (const c of this.children) {
      if (c.valid() && (best === null || compareInternal(c.key(), c.seq(), best.key(), best.seq()) > 0)) best = c;
    }
    this.current = best;
  }

  valid(): boolean {
    return this.current !== null;
  }

  seekToFirst(): void {
    for (const c of this.children) c.seekToFirst();
    this.forward = true;
    this.findSmallest();
  }

  seekToLast(): void {
    for (const c of this.children) c.seekToLast();
    this.forward = false;
    this.findLargest();
  }

  seek(key: Uint8Array, seq: number): void {
    for (const c of this.children) c.seek(key, seq);
    this.forward = true;
    this.findSmallest();
  }

  next(): void {
    const cur = this.current!;
    if (!this.forward) {
      // Move every other child to the first entry after the current key.
      const k = cur.key();
      const s = cur.seq();
      for (const c of this.children) {
        if (c === cur) continue;
        c.seek(k, s);
        if (c.valid() && compareInternal(c.key(), c.seq(), k, s) === 0) c.next();
      }
      this.forward = true;
    }
    cur.next();
    this.findSmallest();
  }

  prev(): void {
    const cur = this.current!;
    if (this.forward) {
      // Move every other child to the last entry before the current key.
      const k = cur.key();
      const s = cur.seq();
      for (const c of this.children) {
        if (c === cur) continue;
        c.seek(k, s);
        if (c.valid()) c.prev();
        else c.seekToLast();
      }
      this.forward = false;
    }
    cur.prev();
    this.findLargest();
  }

  key(): Uint8Array {
    return this.current!.key();
  }
  seq(): number {
    return this.current!.seq();
  }
  kind(): EntryKind {
    return this.current!.kind();
  }
  value(): Uint8Array {
    return this.current!.value();
  }
  close(): void {
    for (const c of this.children) c.close();
    this.current = null;
  }
}
