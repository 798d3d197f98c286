/**
 * Snapshots: a reader's promise that it sees exactly the writes with seq <= `seq`. The engine keeps
 * a count per live snapshot seq so that compaction (which may drop old versions) knows the oldest
 * one still needed.
 */
export class SnapshotList {
  private readonly counts = new Map<number, number>();

  acquire(seq: number): void {
    this.counts.set(seq, (this.counts.get(seq) ?? 0) + 1);
  }

  release(seq: number): void {
    const n = this.counts.get(seq);
    if (n === undefined) return;
    if (n <= 1) this.counts.delete(seq);
    else this.counts.set(seq, n - 1);
  }

  /** Oldest live snapshot seq, or undefined when there is none. */
  oldest(): number | undefined {
    let min: number | undefined;
    for (const s of this.counts.keys()) if (min === undefined || s < min) min = s;
    return min;
  }

  get size(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }
}

/**
 * A consistent point-in-time view of the engine. Pass it to `get` and `iterate`; call `release()`
 * when done so that old versions can be dropped by compaction.
 *
 * @example
 * ```ts
 * const snap = engine.snapshot();
 * try {
 *   const a = await engine.get(keyA, { snapshot: snap });
 *   const b = await engine.get(keyB, { snapshot: snap }); // same point in time as `a`
 * } finally {
 *   snap.release();
 * }
 * ```
 */
export class Snapshot {
  private released = false;

  /** @internal */
  constructor(
    /** Sequence number of the newest write this snapshot sees. */
    readonly seq: number,
    private readonly list: SnapshotList,
    /** @internal Identity of the engine that made it. */
    readonly owner: object,
  ) {
    list.acquire(seq);
  }

  /** True once `release()` has been called. */
  get isReleased(): boolean {
    return this.released;
  }

  /** Gives the snapshot up. Calling it twice is harmless. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.list.release(this.seq);
  }

  /** Same as `release()`, for `using` declarations. */
  [Symbol.dispose](): void {
    this.release();
  }
}
