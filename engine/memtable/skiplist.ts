/**
 * An ordered skip list of versioned entries, the memtable's index (after LevelDB's `SkipList`),
 * built so that it holds no JavaScript object per entry: key and value bytes live in an
 * {@link Arena}, and nodes are runs of Int32 slots in fixed-size pages. A node is named by its
 * slot index (`page << PAGE_BITS | offset`); node 0 is the head, so 0 doubles as the null link.
 *
 * Order: user key ascending (unsigned bytes), then sequence number descending, so a seek to
 * (key, snapshotSeq) lands on the newest version a snapshot may see. Nodes are never removed or
 * moved and pages are never reallocated, so a node index held by a cursor stays valid while writes
 * continue; readers filter by sequence number. Inserting an entry whose (key, seq) already exists
 * replaces its kind and value in place (within one batch, one seq, a later entry for a key wins);
 * the new value goes to fresh arena space, since views of the old bytes may still be held.
 *
 * A frozen list goes to the flush thread as its pages and arena slabs ({@link SkipList.image}; the
 * message copies them, a few memcpys of whole buffers) and is read there through
 * {@link SkipList.over}. Sharing the memory itself (SharedArrayBuffers) was tried: the engine's
 * heap does not count SharedArrayBuffers as memory pressure, so flushed memtables lingered until
 * an unrelated major GC (peak RSS of the peer benchmark +70 MiB, against +40 MiB with the copy),
 * while the copy costs 2-3 ms per 4 MiB memtable.
 *
 * Pages, rather than one array grown by doubling, because a copy of a large node array would stop
 * the event loop for milliseconds in a big memtable, which is the kind of pause this layout exists
 * to remove.
 */
import { compareBytes } from "../util/bytes.js";
import type { EntryKind } from "../wal/record.js";
import { Arena, LARGE_ALLOCATION } from "./arena.js";

const MAX_HEIGHT = 12;

// Node layout, in Int32 slots from the node's index.
/** seq mod 2^32 (stored as int32; read with `>>> 0`). */
const SEQ_LO = 0;
/** floor(seq / 2^32); below 2^21 since seqs stay below 2^53. */
const SEQ_HI = 1;
const KEY_SLAB = 2;
const KEY_OFF = 3;
const KEY_LEN = 4;
const VALUE_SLAB = 5;
const VALUE_OFF = 6;
/** Unsigned (values may reach 2^32 - 1 bytes): read with `>>> 0`. */
const VALUE_LEN = 7;
const KIND = 8;
/**
 * Slots KEY_W0..KEY_W0+3: the key's first 16 bytes as four big-endian words (zero-padded), so
 * that most comparisons during a search are decided from the node's own page, without a second
 * cache miss in the arena. Words that differ order the keys exactly as their bytes do (a shorter
 * key's zero padding sorts first, as the shorter key itself does); equal words fall back to the
 * bytes.
 */
const KEY_W0 = 9;
/** Slots NEXT..NEXT+height-1: the following node at each level, NIL at the end. */
const NEXT = 13;
/** Bytes of a key held in a node's words. */
const INLINE_BYTES = 16;

const PAGE_BITS = 14;
/** Node slots per page (64 KiB): a node (at most 25 slots) never straddles two pages. */
const PAGE_SIZE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SIZE - 1;
/** Node indexes are int32: at most this many pages. */
const MAX_PAGES = 1 << (31 - PAGE_BITS);

const TWO_32 = 0x1_0000_0000;

/** The head node's index, and the null link (nothing links to the head). */
export const NIL = 0;

/** Compares internal keys: user key ascending, seq descending. */
export function compareInternal(aKey: Uint8Array, aSeq: number, bKey: Uint8Array, bSeq: number): number {
  const c = compareBytes(aKey, bKey);
  if (c !== 0) return c;
  return bSeq - aSeq;
}

/** Bytes off+i .. off+i+3 of the key t[off, off+len) as a big-endian unsigned word, zero-padded. */
function keyWord(t: Uint8Array, off: number, len: number, i: number): number {
  const b0 = i < len ? t[off + i]! : 0;
  const b1 = i + 1 < len ? t[off + i + 1]! : 0;
  const b2 = i + 2 < len ? t[off + i + 2]! : 0;
  const b3 = i + 3 < len ? t[off + i + 3]! : 0;
  return ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}

/** Keys share long prefixes (index keys); past this many equal bytes a native compare is cheaper. */
const QUICK_COMPARE = 32;

/** Compares a[aOff, aOff+aLen) with b[bOff, bOff+bLen) as unsigned bytes, without creating views. */
function compareRanges(a: Buffer, aOff: number, aLen: number, b: Uint8Array, bOff: number, bLen: number): number {
  const n = aLen < bLen ? aLen : bLen;
  const quick = n < QUICK_COMPARE ? n : QUICK_COMPARE;
  for (let i = 0; i < quick; i++) {
    const d = a[aOff + i]! - b[bOff + i]!;
    if (d !== 0) return d;
  }
  if (n > quick) {
    const c = a.compare(b, bOff + quick, bOff + n, aOff + quick, aOff + n);
    if (c !== 0) return c;
  }
  return aLen - bLen;
}

/** A list's memory as {@link SkipList.image} hands it out: whole buffers, cloned by a message. */
export interface SkipListImage {
  pages: Int32Array[];
  slabs: Uint8Array[];
  height: number;
  count: number;
}

export class SkipList {
  private readonly arena: Arena;
  private readonly pages: Int32Array[] = [];
  /** Next free slot in the last page. */
  private slot = 0;
  /** Node slots in use, page tails lost to alignment included. */
  private slotsUsed = 0;
  private height = 1;
  private count = 0;
  /** xorshift state for node heights: deterministic, no allocation. */
  private rng = 0x2545f491;
  private readonly prevScratch = new Int32Array(MAX_HEIGHT);
  /** Set by `findLast`: the node after the one returned equals the target exactly. */
  private exact = false;

  constructor(image?: SkipListImage) {
    if (image === undefined) {
      this.arena = new Arena();
      this.allocNode(MAX_HEIGHT); // The head, at index 0 (NIL); its links start as NIL.
      // Fixed overhead, like the rest of the first page: an empty list reports no bytes.
      this.slotsUsed = 0;
    } else {
      this.arena = Arena.over(image.slabs);
      this.pages.push(...image.pages);
      this.slot = PAGE_SIZE; // Full: an insert would start a page of its own, never write these.
      this.height = image.height;
      this.count = image.count;
    }
  }

  /** The list's memory, for a message to another thread (which copies it); the list must be frozen. */
  image(): SkipListImage {
    return { pages: [...this.pages], slabs: [...this.arena.slabs], height: this.height, count: this.count };
  }

  /** A read-only list over the memory {@link image} gave, after it crossed to this thread. */
  static over(image: SkipListImage): SkipList {
    return new SkipList(image);
  }

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** Memory held for entries: arena bytes used plus node slots used. */
  get bytesUsed(): number {
    return this.arena.bytesUsed + this.slotsUsed * 4;
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

  private allocNode(height: number): number {
    const size = NEXT + height;
    if (this.pages.length === 0 || this.slot + size > PAGE_SIZE) {
      if (this.pages.length === MAX_PAGES) throw new RangeError("lsmdoc/engine: memtable node space exhausted");
      if (this.pages.length > 0) this.slotsUsed += PAGE_SIZE - this.slot;
      this.pages.push(new Int32Array(PAGE_SIZE));
      this.slot = 0;
    }
    const node = ((this.pages.length - 1) << PAGE_BITS) | this.slot;
    this.slot += size;
    this.slotsUsed += size;
    return node;
  }

  /** The target's words (see KEY_W0), set at the start of each search. */
  private tw0 = 0;
  private tw1 = 0;
  private tw2 = 0;
  private tw3 = 0;

  private setTargetWords(t: Uint8Array, tOff: number, tLen: number): void {
    this.tw0 = keyWord(t, tOff, tLen, 0);
    this.tw1 = keyWord(t, tOff, tLen, 4);
    this.tw2 = keyWord(t, tOff, tLen, 8);
    this.tw3 = keyWord(t, tOff, tLen, 12);
  }

  /** Compares node `n`'s internal key with (t[tOff, tOff+tLen), tSeq); the target's words are set. */
  private compareNode(n: number, t: Uint8Array, tOff: number, tLen: number, tSeq: number): number {
    const p = this.pages[n >>> PAGE_BITS]!;
    const o = n & PAGE_MASK;
    let a = p[o + KEY_W0]! >>> 0;
    if (a !== this.tw0) return a < this.tw0 ? -1 : 1;
    a = p[o + KEY_W0 + 1]! >>> 0;
    if (a !== this.tw1) return a < this.tw1 ? -1 : 1;
    a = p[o + KEY_W0 + 2]! >>> 0;
    if (a !== this.tw2) return a < this.tw2 ? -1 : 1;
    a = p[o + KEY_W0 + 3]! >>> 0;
    if (a !== this.tw3) return a < this.tw3 ? -1 : 1;
    const kLen = p[o + KEY_LEN]!;
    // Both keys hold their first 16 bytes in the words: compare only the rest.
    const skip = kLen >= INLINE_BYTES && tLen >= INLINE_BYTES ? INLINE_BYTES : 0;
    const c = compareRanges(this.arena.slabs[p[o + KEY_SLAB]!]!, p[o + KEY_OFF]! + skip, kLen - skip, t, tOff + skip, tLen - skip);
    if (c !== 0) return c;
    return tSeq - (p[o + SEQ_HI]! * TWO_32 + (p[o + SEQ_LO]! >>> 0));
  }

  /**
   * The last node before internal key (t[tOff, tOff+tLen), tSeq), or NIL (the head) when there is
   * none; fills `prev` with that node's counterpart on every level when given. Sets `exact`.
   */
  private findLast(t: Uint8Array, tOff: number, tLen: number, tSeq: number, prev: Int32Array | null): number {
    this.setTargetWords(t, tOff, tLen);
    const pages = this.pages;
    let x = NIL;
    // A node already known to be >= the target: reaching it again on a lower level needs no compare.
    let known = -1;
    let exact = false;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const n = pages[x >>> PAGE_BITS]![(x & PAGE_MASK) + NEXT + level]!;
        if (n === NIL || n === known) break;
        const c = this.compareNode(n, t, tOff, tLen, tSeq);
        if (c < 0) {
          x = n;
        } else {
          known = n;
          exact = c === 0;
          break;
        }
      }
      if (prev !== null) prev[level] = x;
    }
    // On level 0 the walk stops at `known` or at the end (then `known` was never set).
    this.exact = exact;
    return x;
  }

  /**
   * Inserts the entry, copying `key` and `value`; returns false when an entry with the same
   * (key, seq) existed and was replaced instead.
   */
  insert(key: Uint8Array, seq: number, kind: EntryKind, value: Uint8Array): boolean {
    const prev = this.prevScratch;
    const x = this.findLast(key, 0, key.length, seq, prev);
    if (this.exact) {
      this.replace(this.next(x), kind, value);
      return false;
    }
    const h = this.randomHeight();
    if (h > this.height) {
      for (let level = this.height; level < h; level++) prev[level] = NIL;
      this.height = h;
    }
    const node = this.allocNode(h);
    const p = this.pages[node >>> PAGE_BITS]!;
    const o = node & PAGE_MASK;
    const arena = this.arena;
    const kLen = key.length;
    const vLen = value.length;
    if (kLen + vLen <= LARGE_ALLOCATION) {
      // One allocation: key and value side by side.
      const slab = arena.allocate(kLen + vLen);
      const off = arena.offset;
      arena.write(slab, off, key);
      arena.write(slab, off + kLen, value);
      p[o + KEY_SLAB] = slab;
      p[o + KEY_OFF] = off;
      p[o + VALUE_SLAB] = slab;
      p[o + VALUE_OFF] = off + kLen;
    } else {
      const slab = arena.allocate(kLen);
      const off = arena.offset;
      arena.write(slab, off, key);
      p[o + KEY_SLAB] = slab;
      p[o + KEY_OFF] = off;
      this.storeValue(p, o, value);
    }
    p[o + KEY_LEN] = kLen;
    // findLast just computed the words of this very key.
    p[o + KEY_W0] = this.tw0;
    p[o + KEY_W0 + 1] = this.tw1;
    p[o + KEY_W0 + 2] = this.tw2;
    p[o + KEY_W0 + 3] = this.tw3;
    p[o + VALUE_LEN] = vLen;
    p[o + SEQ_LO] = seq % TWO_32;
    p[o + SEQ_HI] = Math.floor(seq / TWO_32);
    p[o + KIND] = kind;
    const pages = this.pages;
    for (let level = 0; level < h; level++) {
      const before = prev[level]!;
      const bp = pages[before >>> PAGE_BITS]!;
      const link = (before & PAGE_MASK) + NEXT + level;
      p[o + NEXT + level] = bp[link]!;
      bp[link] = node;
    }
    this.count++;
    return true;
  }

  private replace(node: number, kind: EntryKind, value: Uint8Array): void {
    const p = this.pages[node >>> PAGE_BITS]!;
    const o = node & PAGE_MASK;
    this.storeValue(p, o, value);
    p[o + VALUE_LEN] = value.length;
    p[o + KIND] = kind;
  }

  /** Copies `value` to fresh arena space and points the node at it (length set by the caller). */
  private storeValue(p: Int32Array, o: number, value: Uint8Array): void {
    if (value.length === 0) {
      p[o + VALUE_SLAB] = 0;
      p[o + VALUE_OFF] = 0;
      return;
    }
    const slab = this.arena.allocate(value.length);
    p[o + VALUE_SLAB] = slab;
    p[o + VALUE_OFF] = this.arena.offset;
    this.arena.write(slab, this.arena.offset, value);
  }

  /** First node at or after internal key (key, seq), or NIL. */
  seek(key: Uint8Array, seq: number): number {
    return this.next(this.findLast(key, 0, key.length, seq, null));
  }

  /** Last node strictly before `node` in order, or NIL when `node` is the first. */
  findLessThan(node: number): number {
    const p = this.pages[node >>> PAGE_BITS]!;
    const o = node & PAGE_MASK;
    return this.findLast(this.arena.slabs[p[o + KEY_SLAB]!]!, p[o + KEY_OFF]!, p[o + KEY_LEN]!, this.seqOf(node), null);
  }

  first(): number {
    return this.next(NIL);
  }

  last(): number {
    const pages = this.pages;
    let x = NIL;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const n = pages[x >>> PAGE_BITS]![(x & PAGE_MASK) + NEXT + level]!;
        if (n === NIL) break;
        x = n;
      }
    }
    return x;
  }

  /** The node after `node` (NIL: the first node) in order, or NIL at the end. */
  next(node: number): number {
    return this.pages[node >>> PAGE_BITS]![(node & PAGE_MASK) + NEXT]!;
  }

  /** True when `node`'s user key equals `key`. */
  keyEquals(node: number, key: Uint8Array): boolean {
    const p = this.pages[node >>> PAGE_BITS]!;
    const o = node & PAGE_MASK;
    const len = p[o + KEY_LEN]!;
    return len === key.length && compareRanges(this.arena.slabs[p[o + KEY_SLAB]!]!, p[o + KEY_OFF]!, len, key, 0, len) === 0;
  }

  seqOf(node: number): number {
    const p = this.pages[node >>> PAGE_BITS]!;
    const o = node & PAGE_MASK;
    return p[o + SEQ_HI]! * TWO_32 + (p[o + SEQ_LO]! >>> 0);
  }

  kindOf(node: number): EntryKind {
    return this.pages[node >>> PAGE_BITS]![(node & PAGE_MASK) + KIND]! as EntryKind;
  }

  /** A view of `node`'s user key; valid for the life of the list. Must not be modified. */
  keyOf(node: number): Uint8Array {
    const p = this.pages[node >>> PAGE_BITS]!;
    const o = node & PAGE_MASK;
    return this.arena.view(p[o + KEY_SLAB]!, p[o + KEY_OFF]!, p[o + KEY_LEN]!);
  }

  /** A view of `node`'s current value; valid for the life of the list. Must not be modified. */
  valueOf(node: number): Uint8Array {
    const p = this.pages[node >>> PAGE_BITS]!;
    const o = node & PAGE_MASK;
    return this.arena.view(p[o + VALUE_SLAB]!, p[o + VALUE_OFF]!, p[o + VALUE_LEN]! >>> 0);
  }
}
