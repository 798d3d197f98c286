/**
 * Merges several internal iterators into one ordered stream (LevelDB's MergingIterator). Children
 * hold disjoint (key, seq) pairs, so no tie-breaking beyond internal-key order is needed.
 *
 * Forward, the valid children form a binary min-heap by their current entry (the smallest is the
 * current one), so a step costs about two comparisons per heap level, and two in all while one
 * child keeps winning, as it does over runs of adjacent keys; a linear scan costs one per child
 * (a merge of 4 level-0 tables and 4 level-1 tables spent a sixth of its time there). Backward
 * (rare: reverse scans) a linear scan finds the largest child; switching direction repositions
 * every child, and going forward again rebuilds the heap.
 */
import { compareInternal } from "../memtable/skiplist.js";
import type { EntryKind } from "../wal/record.js";
import type { InternalIterator } from "./internal-iterator.js";

function less(a: InternalIterator, b: InternalIterator): boolean {
  return compareInternal(a.key(), a.seq(), b.key(), b.seq()) < 0;
}

export class MergingIterator implements InternalIterator {
  private current: InternalIterator | null = null;
  private forward = true;
  /** Moving forward: the valid children, a min-heap by current entry (`heap[0]` is `current`). */
  private readonly heap: InternalIterator[] = [];

  constructor(private readonly children: InternalIterator[]) {}

  /** Builds the heap from the children's positions and takes the smallest as current. */
  private findSmallest(): void {
    const h = this.heap;
    h.length = 0;
    for (const c of this.children) if (c.valid()) h.push(c);
    for (let i = (h.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
    this.current = h.length > 0 ? h[0]! : null;
  }

  /** Restores the heap order below `i`, whose child may have moved past its children. */
  private siftDown(i: number): void {
    const h = this.heap;
    const n = h.length;
    const x = h[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && less(h[c + 1]!, h[c]!)) c++;
      if (!less(h[c]!, x)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = x;
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
      cur.next();
      this.findSmallest();
      return;
    }
    // `cur` is the heap's top: move it, then let it sink to its place (or drop it when done).
    cur.next();
    const h = this.heap;
    if (!cur.valid()) {
      const last = h.pop()!;
      if (h.length === 0) {
        this.current = null;
        return;
      }
      h[0] = last;
    }
    this.siftDown(0);
    this.current = h[0]!;
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
