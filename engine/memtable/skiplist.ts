/**
 * An ordered skip list of versioned entries, the memtable's index (after LevelDB's `SkipList`).
 *
 * Order: user key ascending (unsigned bytes), then sequence number descending, so a seek to
 * (key, snapshotSeq) lands on the newest version a snapshot may see. Nodes are never removed or
 * moved, so a cursor stays valid while writes continue; readers filter by sequence number.
 * Inserting an entry whose (key, seq) already exists replaces it in place: within one batch (one
 * seq) a later entry for the same key wins.
 */
import { compareBytes } from "../util/bytes.js";
import type { EntryKind } from "../wal/record.js";

const MAX_HEIGHT = 12;

export interface SkipNode {
  key: Uint8Array;
  seq: number;
  kind: EntryKind;
  value: Uint8Array;
  next: Array<SkipNode | null>;
}

/** Compares internal keys: user key ascending, seq descending. */
export function compareInternal(aKey: Uint8Array, aSeq: number, bKey: Uint8Array, bSeq: number): number {
  const c = compareBytes(aKey, bKey);
  if (c !== 0) return c;
  return bSeq - aSeq;
}

export class SkipList {
  readonly head: SkipNode;
  private height = 1;
  private count = 0;
  /** xorshift state for node heights: deterministic, no allocation. */
  private rng = 0x2545f491;
  private readonly prevScratch: SkipNode[] = new Array(MAX_HEIGHT);

  constructor() {
    this.head = { key: new Uint8Array(0), seq: 0, kind: 1, value: new Uint8Array(0), next: new Array(MAX_HEIGHT).fill(null) };
  }

  get size(): number {
    return this.count;
  }

  private randomHeight(): number {
    let h = 1;
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x;
    // Each extra level with probability 1/4.
    while (h < MAX_HEIGHT && (x & 3) === 0) {
      h++;
      x >>>= 2;
    }
    return h;
  }

  /**
   * Inserts the entry; returns false when an entry with the same (key, seq) existed and was
   * replaced instead.
   */
  insert(key: Uint8Array, seq: number, kind: EntryKind, value: Uint8Array): boolean {
    const prev = this.prevScratch;
    let x = this.head;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const n = x.next[level]!;
        if (n !== null && compareInternal(n.key, n.seq, key, seq) < 0) x = n;
        else break;
      }
      prev[level] = x;
    }
    const found = x.next[0]!;
    if (found !== null && found.seq === seq && compareBytes(found.key, key) === 0) {
      found.kind = kind;
      found.value = value;
      return false;
    }
    const h = this.randomHeight();
    if (h > this.height) {
      for (let level = this.height; level < h; level++) prev[level] = this.head;
      this.height = h;
    }
    const node: SkipNode = { key, seq, kind, value, next: new Array(h) };
    for (let level = 0; level < h; level++) {
      node.next[level] = prev[level]!.next[level]!;
      prev[level]!.next[level] = node;
    }
    this.count++;
    return true;
  }

  /** First node at or after internal key (key, seq), or null. */
  seek(key: Uint8Array, seq: number): SkipNode | null {
    let x = this.head;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const n = x.next[level]!;
        if (n !== null && compareInternal(n.key, n.seq, key, seq) < 0) x = n;
        else break;
      }
    }
    return x.next[0]!;
  }

  /** Last node strictly before `node` in order, or null when `node` is the first. */
  findLessThan(node: SkipNode): SkipNode | null {
    let x = this.head;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const n = x.next[level]!;
        if (n !== null && compareInternal(n.key, n.seq, node.key, node.seq) < 0) x = n;
        else break;
      }
    }
    return x === this.head ? null : x;
  }

  first(): SkipNode | null {
    return this.head.next[0]!;
  }

  last(): SkipNode | null {
    let x = this.head;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const n = x.next[level]!;
        if (n !== null) x = n;
        else break;
      }
    }
    return x === this.head ? null : x;
  }
}
