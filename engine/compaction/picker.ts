/**
 * Chooses the next compaction (after LevelDB's VersionSet::PickCompaction), by score:
 * level 0 scores by file count (L0_COMPACTION_TRIGGER files = 1.0, since every L0 file is read
 * on every lookup), levels >= 1 by bytes over their target size, which grows x10 per level from
 * `levelBaseBytes`. The highest score >= 1 wins.
 *
 * Inputs: for L0, every L0 file (they overlap one another) plus the L1 files they overlap; for a
 * level n >= 1, the file after the level's round-robin pointer plus its overlaps in n+1. Output
 * goes to level n+1.
 */
import { compareBytes } from "../util/bytes.js";
import type { FileMeta } from "../manifest/version-edit.js";
import { NUM_LEVELS, type Version } from "../version/version.js";

export const L0_COMPACTION_TRIGGER = 4;
/** Writes slow down (yield to compaction) at this many L0 files... */
export const L0_SLOWDOWN_TRIGGER = 8;
/** ...and wait for compaction at this many. */
export const L0_STOP_TRIGGER = 12;

export interface CompactionPlan {
  /** Level the inputs come from (the others come from `level + 1`). */
  level: number;
  outputLevel: number;
  inputs: FileMeta[];
  /** Inputs from the output level. */
  overlaps: FileMeta[];
}

export function maxBytesForLevel(level: number, levelBaseBytes: number): number {
  return levelBaseBytes * 10 ** Math.max(0, level - 1);
}

/** Score per level; >= 1 means the level needs compaction. */
export function levelScores(v: Version, levelBaseBytes: number): number[] {
  const scores: number[] = [];
  for (let level = 0; level < NUM_LEVELS - 1; level++) {
    scores.push(level === 0 ? v.levels[0]!.length / L0_COMPACTION_TRIGGER : v.levelBytes(level) / maxBytesForLevel(level, levelBaseBytes));
  }
  return scores;
}

function keyRange(files: readonly FileMeta[]): { smallest: Uint8Array; largest: Uint8Array } {
  let smallest = files[0]!.smallestKey;
  let largest = files[0]!.largestKey;
  for (const f of files) {
    if (compareBytes(f.smallestKey, smallest) < 0) smallest = f.smallestKey;
    if (compareBytes(f.largestKey, largest) > 0) largest = f.largestKey;
  }
  return { smallest, largest };
}

export class CompactionPicker {
  /** Per level: largest key of the last file compacted, so files take turns. */
  private readonly pointers: Array<Uint8Array | undefined> = new Array(NUM_LEVELS).fill(undefined);

  constructor(private readonly levelBaseBytes: number) {}

  needsCompaction(v: Version): boolean {
    return levelScores(v, this.levelBaseBytes).some((s) => s >= 1);
  }

  pick(v: Version): CompactionPlan | undefined {
    const scores = levelScores(v, this.levelBaseBytes);
    let level = -1;
    let best = 1;
    for (let l = 0; l < scores.length; l++) {
      if (scores[l]! >= best) {
        best = scores[l]!;
        level = l;
      }
    }
    if (level < 0) return undefined;
    let inputs: FileMeta[];
    if (level === 0) {
      inputs = [...v.levels[0]!];
    } else {
      const files = v.levels[level]!;
      const ptr = this.pointers[level];
      const next = ptr === undefined ? undefined : files.find((f) => compareBytes(f.smallestKey, ptr) > 0);
      inputs = [next ?? files[0]!];
    }
    const { smallest, largest } = keyRange(inputs);
    const overlaps = v.overlapping(level + 1, smallest, largest);
    this.pointers[level] = largest;
    return { level, outputLevel: level + 1, inputs, overlaps };
  }

  /** Everything, into the last level: what `Engine.compact()` does. */
  full(v: Version): CompactionPlan | undefined {
    const all = v.levels.flat();
    if (all.length === 0) return undefined;
    const last = NUM_LEVELS - 1;
    return { level: 0, outputLevel: last, inputs: all.filter((f) => !v.levels[last]!.includes(f)), overlaps: [...v.levels[last]!] };
  }
}
