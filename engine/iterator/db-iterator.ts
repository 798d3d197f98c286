/**
 * Turns an internal iterator (every version and tombstone) into what a reader sees at a snapshot:
 * for each user key inside the bounds, its newest version with seq <= the snapshot's, skipping
 * keys whose newest visible version is a tombstone (after LevelDB's DBIter). One direction per
 * cursor, chosen at creation, which is all `Engine.iterate` needs.
 */
import { compareBytes } from "../util/bytes.js";
import { EntryKind } from "../wal/record.js";
import type { InternalIterator } from "./internal-iterator.js";

/** Key bounds in unsigned byte order; at most one lower and one upper bound is used. */
export interface KeyRange {
  gt?: Uint8Array;
  gte?: Uint8Array;
  lt?: Uint8Array;
  lte?: Uint8Array;
}

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

export class DbIterator {
  private started = false;
  private done = false;
  private savedKey: Uint8Array | null = null;

  constructor(
    private readonly it: InternalIterator,
    private readonly snapshotSeq: number,
    private readonly range: KeyRange,
    private readonly reverse: boolean,
  ) {}

  private aboveLower(k: Uint8Array): boolean {
    const r = this.range;
    if (r.gt !== undefined) return compareBytes(k, r.gt) > 0;
    if (r.gte !== undefined) return compareBytes(k, r.gte) >= 0;
    return true;
  }

  private belowUpper(k: Uint8Array): boolean {
    const r = this.range;
    if (r.lt !== undefined) return compareBytes(k, r.lt) < 0;
    if (r.lte !== undefined) return compareBytes(k, r.lte) <= 0;
    return true;
  }

  private start(): void {
    const { it, range } = this;
    if (!this.reverse) {
      if (range.gt !== undefined) it.seek(range.gt, 0);
      else if (range.gte !== undefined) it.seek(range.gte, MAX_SEQ);
      else it.seekToFirst();
    } else {
      const upper = range.lt !== undefined ? { key: range.lt, seq: MAX_SEQ } : range.lte !== undefined ? { key: range.lte, seq: 0 } : undefined;
      if (upper === undefined) it.seekToLast();
      else {
        // (lt, MAX_SEQ) precedes every entry of lt; (lte, 0) follows every entry of lte.
        it.seek(upper.key, upper.seq);
        if (it.valid()) it.prev();
        else it.seekToLast();
      }
    }
  }

  /** The next visible entry, or undefined at the end. Returned bytes are views: do not modify. */
  next(): [Uint8Array, Uint8Array] | undefined {
    if (this.done) return undefined;
    if (!this.started) {
      this.started = true;
      this.start();
    } else if (!this.reverse) {
      this.skipVersionsOf(this.savedKey!);
    }
    const entry = this.reverse ? this.prevUserEntry() : this.nextUserEntry();
    if (entry === undefined) {
      this.done = true;
      this.it.close();
    }
    return entry;
  }

  /** Advances past every remaining (older) version of `key`. */
  private skipVersionsOf(key: Uint8Array): void {
    const it = this.it;
    while (it.valid() && compareBytes(it.key(), key) === 0) it.next();
  }

  private nextUserEntry(): [Uint8Array, Uint8Array] | undefined {
    const it = this.it;
    while (it.valid()) {
      const k = it.key();
      if (!this.belowUpper(k)) return undefined;
      if (it.seq() > this.snapshotSeq) {
        it.next();
        continue;
      }
      // The newest visible version of k decides it.
      if (it.kind() === EntryKind.Delete) {
        this.skipVersionsOf(k);
        continue;
      }
      this.savedKey = k;
      return [k, it.value()];
    }
    return undefined;
  }

  private prevUserEntry(): [Uint8Array, Uint8Array] | undefined {
    const it = this.it;
    // Walking backwards a key's versions come oldest first; the last visible one seen wins.
    for (;;) {
      let key: Uint8Array | null = null;
      let value: Uint8Array | null = null;
      let live = false;
      while (it.valid()) {
        const k = it.key();
        if (key !== null && compareBytes(k, key) !== 0) break;
        if (key === null) {
          if (!this.aboveLower(k)) return undefined;
          key = k;
        }
        if (it.seq() <= this.snapshotSeq) {
          live = it.kind() !== EntryKind.Delete;
          value = live ? it.value() : null;
        }
        it.prev();
      }
      if (key === null) return undefined;
      if (live) {
        this.savedKey = key;
        return [key, value!];
      }
    }
  }

  close(): void {
    if (!this.done) {
      this.done = true;
      this.it.close();
    }
    this.savedKey = null;
  }
}
