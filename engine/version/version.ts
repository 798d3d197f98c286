/**
 * A Version: the immutable set of live SSTables per level at one moment (after LevelDB's Version).
 *
 * Invariants: level 0 files may overlap each other and are ordered newest first (a higher file
 * number holds newer data); in every level >= 1 files do not overlap and are sorted by smallest
 * key, and all versions of a user key live in one file. For any user key, versions in a lower-
 * numbered level (or a newer L0 file) are newer than versions below, which is what lets a point
 * read stop at the first source that has the key.
 *
 * Readers pin a Version (`ref`/`unref`) for as long as they read its files, so compaction can
 * replace it without deleting files under them.
 */
import { compareBytes } from "../util/bytes.js";
import type { FileMeta } from "../manifest/version-edit.js";

export const NUM_LEVELS = 7;

export class Version {
  refs = 0;

  constructor(readonly levels: readonly (readonly FileMeta[])[]) {}

  static empty(): Version {
    return new Version(Array.from({ length: NUM_LEVELS }, () => []));
  }

  /** Files of `level` whose user-key range intersects [smallest, largest] (undefined = unbounded). */
  overlapping(level: number, smallest: Uint8Array | undefined, largest: Uint8Array | undefined): FileMeta[] {
    return this.levels[level]!.filter(
      (f) =>
        (smallest === undefined || compareBytes(f.largestKey, smallest) >= 0) &&
        (largest === undefined || compareBytes(f.smallestKey, largest) <= 0),
    );
  }

  /** In a level >= 1, the one file that may hold `key`, or undefined. */
  fileFor(level: number, key: Uint8Array): FileMeta | undefined {
    const files = this.levels[level]!;
    let lo = 0;
    let hi = files.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(files[mid]!.largestKey, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    const f = files[lo];
    return f !== undefined && compareBytes(f.smallestKey, key) <= 0 ? f : undefined;
  }

  levelBytes(level: number): number {
    let n = 0;
    for (const f of this.levels[level]!) n += f.size;
    return n;
  }

  /** Every file number this version names. */
  fileNumbers(): number[] {
    return this.levels.flatMap((l) => l.map((f) => f.number));
  }
}

/** Orders files as their level requires: L0 newest first, others by smallest key. */
export function sortLevel(level: number, files: FileMeta[]): FileMeta[] {
  if (level === 0) return files.sort((a, b) => b.number - a.number);
  return files.sort((a, b) => compareBytes(a.smallestKey, b.smallestKey));
}
