/**
 * A hash index over the user keys of one cached data block, for point reads (after RocksDB's data
 * block hash index, but built in memory when a block proves hot, so the file format is untouched).
 *
 * Without it a point read in a block binary-searches the restart points, then parses up to 16
 * prefix-compressed entries, assembling each key, until it reaches the target: in a profile of
 * random document reads, a third of the time. With it: one probe of an open-addressing table by
 * the key's `hash32` (the one the read already computed for the bloom filters), one key compare,
 * and a walk over that key's versions in this block to the newest one the read's seq sees. Table
 * readers build it on a cached block's second point read ({@link POINT_READS_BEFORE_INDEX}), so
 * a block read once (a cold read of a large database) never pays for it.
 *
 * Built by a full pass of a BlockIterator, which checks every entry as it goes: a block it cannot
 * walk throws CorruptionError, as a seek that met the damage would. Entries of one user key are
 * adjacent and newest first (internal-key order), so a key's versions are entries
 * `first[id] .. first[id + 1] - 1`. The index holds every distinct user key (the prefix all of
 * the block's keys share once, the rest per key) to compare against, and each entry's seq, kind
 * and value position: ~45 bytes per entry for document keys, a sixth of a block of ~250-byte
 * documents, which the block cache charges to the block. Blocks of small entries (secondary-index
 * keys) are not indexed: there the index would cost as much as the block.
 */
import type { EntryKind } from "../wal/record.js";
import type { BlockIterator } from "./block-reader.js";
import type { Block } from "./block.js";
import { hash32 } from "./bloom.js";

/** Point reads of a cached block before it gets an index: the second read builds it. */
export const POINT_READS_BEFORE_INDEX = 1;

/**
 * Blocks whose entries average fewer bytes than this get no index: the index costs ~30 bytes per
 * entry plus its key, which for small entries (secondary-index keys) would rival the block itself.
 * Documents are larger.
 */
export const MIN_INDEXED_ENTRY_BYTES = 128;

export class BlockPointIndex {
  /** Open addressing, linear probing: distinct-key id + 1, 0 = empty. */
  private readonly slots: Uint16Array;
  private readonly mask: number;
  /** Bytes every user key of the block starts with (stored once), and each distinct key's rest. */
  private readonly prefix: Uint8Array;
  private readonly keys: Uint8Array;
  /** Per distinct key: where its rest starts in `keys`, and its first entry; each with an end sentinel. */
  private readonly keyStart: Uint32Array;
  private readonly first: Uint16Array;
  /** Per entry. */
  private readonly seqs: Float64Array;
  private readonly kinds: Uint8Array;
  private readonly valueOffset: Uint32Array;
  private readonly valueLength: Uint32Array;

  /**
   * Walks `block` with `it` (re-pointed at it) and indexes every entry; null when the block's
   * entries average fewer than `minEntryBytes` bytes.
   */
  static build(block: Block, it: BlockIterator, minEntryBytes = MIN_INDEXED_ENTRY_BYTES): BlockPointIndex | null {
    it.reset(block);
    // First pass: counts, the prefix all keys share (that of the first and the last, keys being
    // sorted), and every entry's checks.
    let entries = 0;
    let keyBytes = 0;
    for (it.seekToFirst(); it.valid(); it.next()) {
      entries++;
      keyBytes += it.userKeyLength;
    }
    if (entries > 0xffff || block.restartsOffset < entries * minEntryBytes) return null;
    it.seekToFirst();
    const firstKey = it.userKey();
    it.seekToLast();
    const lastKey = it.userKey();
    let p = 0;
    const n = Math.min(firstKey.length, lastKey.length);
    while (p < n && firstKey[p] === lastKey[p]) p++;
    return new BlockPointIndex(block, it, entries, keyBytes - p * entries, firstKey.slice(0, p));
  }

  private constructor(block: Block, it: BlockIterator, entries: number, keyBytes: number, prefix: Uint8Array) {
    let size = 4;
    while (size < entries * 2) size *= 2;
    this.slots = new Uint16Array(size);
    this.mask = size - 1;
    this.prefix = prefix;
    this.keyStart = new Uint32Array(entries + 1);
    this.first = new Uint16Array(entries + 1);
    this.keys = new Uint8Array(keyBytes);
    this.seqs = new Float64Array(entries);
    this.kinds = new Uint8Array(entries);
    this.valueOffset = new Uint32Array(entries);
    this.valueLength = new Uint32Array(entries);

    const p = prefix.length;
    const keys = this.keys;
    let e = 0;
    let id = -1;
    let at = 0;
    it.reset(block);
    for (it.seekToFirst(); it.valid(); it.next(), e++) {
      // The key's rest is copied where the next distinct key would go, and kept only if it differs
      // from the previous key (compared in full: versions of one key may straddle a restart point).
      const len = it.userKeyLength - p;
      it.copyUserKey(keys, at, p);
      if (id < 0 || !this.sameBytes(this.keyStart[id]!, at, len)) {
        id++;
        const h = hash32(it.userKey());
        this.keyStart[id] = at;
        this.first[id] = e;
        at += len;
        let slot = h & this.mask;
        while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
        this.slots[slot] = id + 1;
      }
      this.seqs[e] = it.seq();
      this.kinds[e] = it.kind();
      this.valueOffset[e] = it.valueOffsetInBlock;
      this.valueLength[e] = it.valueLength;
    }
    this.keyStart[id + 1] = at;
    this.first[id + 1] = entries;
  }

  /** Whether the key rest stored at `a` (whose end is `b`) equals the `len` bytes at `b`. */
  private sameBytes(a: number, b: number, len: number): boolean {
    if (b - a !== len) return false;
    const keys = this.keys;
    for (let i = 0; i < len; i++) if (keys[a + i] !== keys[b + i]) return false;
    return true;
  }

  /** Memory held, for the block cache's charge. */
  get byteLength(): number {
    return (
      this.slots.byteLength + this.prefix.byteLength + this.keys.byteLength + this.keyStart.byteLength + this.first.byteLength +
      this.seqs.byteLength + this.kinds.byteLength + this.valueOffset.byteLength + this.valueLength.byteLength + 200
    );
  }

  /**
   * The entry holding the newest version of `key` with seq <= `seq`, or -1 when this block holds
   * none. `hash` is `hash32(key)`.
   */
  find(key: Uint8Array, hash: number, seq: number): number {
    const prefix = this.prefix;
    const p = prefix.length;
    if (key.length < p) return -1;
    for (let i = 0; i < p; i++) if (key[i] !== prefix[i]) return -1;
    const slots = this.slots;
    const mask = this.mask;
    for (let s = hash & mask; ; s = (s + 1) & mask) {
      const slot = slots[s]!;
      if (slot === 0) return -1;
      const id = slot - 1;
      if (!this.restEquals(id, key, p)) continue;
      const end = this.first[id + 1]!;
      for (let e = this.first[id]!; e < end; e++) if (this.seqs[e]! <= seq) return e;
      return -1;
    }
  }

  private restEquals(id: number, key: Uint8Array, p: number): boolean {
    const start = this.keyStart[id]!;
    const len = this.keyStart[id + 1]! - start;
    if (len !== key.length - p) return false;
    const keys = this.keys;
    for (let i = 0; i < len; i++) if (keys[start + i] !== key[p + i]) return false;
    return true;
  }

  seqOf(entry: number): number {
    return this.seqs[entry]!;
  }

  kindOf(entry: number): EntryKind {
    return this.kinds[entry] as EntryKind;
  }

  /** Where entry `entry`'s value lies in the block's data. */
  valueStart(entry: number): number {
    return this.valueOffset[entry]!;
  }

  valueEnd(entry: number): number {
    return this.valueOffset[entry]! + this.valueLength[entry]!;
  }
}
