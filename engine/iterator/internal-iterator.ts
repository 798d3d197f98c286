/**
 * The engine's internal iterator protocol, after LevelDB's `Iterator`: a cursor over entries in
 * internal-key order (user key ascending, then sequence number descending), so that every version
 * of a key, tombstones included, is visible to the layers that decide what a reader sees
 * (`db-iterator.ts`). Memtables, SSTables and the merging iterator all implement it, which is what
 * lets a read merge every source the same way.
 *
 * Cursors are synchronous: every source is either in memory or read through positional reads of
 * cached blocks, and a synchronous step costs far less than a promise round trip.
 */
import type { EntryKind } from "../wal/record.js";

export interface InternalIterator {
  /** True when positioned at an entry. */
  valid(): boolean;
  seekToFirst(): void;
  seekToLast(): void;
  /** Positions at the first entry at or after internal key (`key`, `seq`). */
  seek(key: Uint8Array, seq: number): void;
  next(): void;
  prev(): void;
  /**
   * User key of the current entry. The bytes must not be modified, and never change: a holder may
   * keep the array across moves (readers keep the key they return, merges the key they compare).
   */
  key(): Uint8Array;
  seq(): number;
  kind(): EntryKind;
  /** Value of the current entry (empty for tombstones). The bytes must not be modified, and never change. */
  value(): Uint8Array;
  /** Releases what the iterator pins (files, blocks). */
  close(): void;
}
