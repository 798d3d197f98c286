/**
 * Decides which versions a compaction keeps (after LevelDB's DoCompactionWork):
 *
 * - Of the versions of one user key (met newest first), a version is dropped when a newer version
 *   of the same key is already visible to every live snapshot: no reader can ever see it.
 * - A tombstone is dropped when it is itself visible to every snapshot and no level below the
 *   output holds the key: nothing older is left for it to hide. Otherwise it is kept.
 *
 * `smallestSnapshot` is the oldest live snapshot's seq, or the newest seq when there is none.
 */
import { bytesEqual } from "../util/bytes.js";
import { EntryKind } from "../wal/record.js";

export class CompactionFilter {
  private currentKey: Uint8Array | null = null;
  /** Seq of the previous (newer) version of the current key; Infinity before the first one. */
  private lastSeqForKey = Infinity;
  dropped = 0;

  constructor(
    private readonly smallestSnapshot: number,
    /** True when no level below the output level may contain `key`. */
    private readonly isBaseLevelForKey: (key: Uint8Array) => boolean,
  ) {}

  /** True when the entry must be written to the output. Entries arrive in internal-key order. */
  keep(key: Uint8Array, seq: number, kind: EntryKind): boolean {
    if (this.currentKey === null || !bytesEqual(key, this.currentKey)) {
      this.currentKey = key; // Iterator keys never change (internal-iterator.ts).
      this.lastSeqForKey = Infinity;
    }
    let drop = false;
    if (this.lastSeqForKey <= this.smallestSnapshot) {
      drop = true; // Shadowed by a newer version every snapshot sees.
    } else if (kind === EntryKind.Delete && seq <= this.smallestSnapshot && this.isBaseLevelForKey(key)) {
      drop = true;
    }
    this.lastSeqForKey = seq;
    if (drop) this.dropped++;
    return !drop;
  }
}
