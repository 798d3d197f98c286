/**
 * Iterates one level >= 1 as a single sorted stream: its files do not overlap and are sorted, so
 * the level is their concatenation (LevelDB's two-level "level file num" iterator). Tables are
 * opened lazily, only when the cursor reaches them.
 */
import type { FileMeta } from "../manifest/version-edit.js";
import { compareInternal } from "../memtable/skiplist.js";
import type { EntryKind } from "../wal/record.js";
import type { InternalIterator } from "./internal-iterator.js";

export class LevelIterator implements InternalIterator {
  private index = -1;
  private it: InternalIterator | null = null;

  constructor(
    private readonly files: readonly FileMeta[],
    private readonly open: (file: FileMeta) => InternalIterator,
  ) {}

  private setFile(i: number): void {
    if (i === this.index && this.it !== null) return;
    this.it?.close();
    this.index = i;
    this.it = i >= 0 && i < this.files.length ? this.open(this.files[i]!) : null;
  }

  private skipEmptyForward(): void {
    while (this.it !== null && !this.it.valid()) {
      if (this.index + 1 >= this.files.length) {
        this.setFile(-1);
        return;
      }
      this.setFile(this.index + 1);
      this.it!.seekToFirst();
    }
  }

  private skipEmptyBackward(): void {
    while (this.it !== null && !this.it.valid()) {
      if (this.index - 1 < 0) {
        this.setFile(-1);
        return;
      }
      this.setFile(this.index - 1);
      this.it!.seekToLast();
    }
  }

  valid(): boolean {
    return this.it !== null && this.it.valid();
  }

  seekToFirst(): void {
    this.setFile(this.files.length > 0 ? 0 : -1);
    this.it?.seekToFirst();
    this.skipEmptyForward();
  }

  seekToLast(): void {
    this.setFile(this.files.length - 1);
    this.it?.seekToLast();
    this.skipEmptyBackward();
  }

  seek(key: Uint8Array, seq: number): void {
    // First file whose largest internal key is >= target.
    let lo = 0;
    let hi = this.files.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const f = this.files[mid]!;
      if (compareInternal(f.largestKey, f.largestSeq, key, seq) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.setFile(lo < this.files.length ? lo : -1);
    this.it?.seek(key, seq);
    this.skipEmptyForward();
  }

  next(): void {
    this.it!.next();
    this.skipEmptyForward();
  }

  prev(): void {
    this.it!.prev();
    this.skipEmptyBackward();
  }

  key(): Uint8Array {
    return this.it!.key();
  }
  seq(): number {
    return this.it!.seq();
  }
  kind(): EntryKind {
    return this.it!.kind();
  }
  value(): Uint8Array {
    return this.it!.value();
  }
  close(): void {
    this.setFile(-1);
  }
}
