/**
 * The ordered key-value interface the document layer runs on: atomic batches that resolve with a
 * sequence number, point reads, snapshots and range cursors, all over byte-string keys in unsigned
 * byte order. The engine implements it (`engineKvStore`); another ordered store could stand behind
 * the collections by implementing these few methods.
 */
import type { Engine } from "../engine/db.js";
import type { Snapshot } from "../engine/snapshot.js";
import { WriteBatch } from "../engine/write-batch.js";

/** A point-in-time view; `release()` when done. */
export interface KvSnapshot {
  readonly seq: number;
  release(): void;
}

/** One key change of a batch; `value: null` deletes. */
export interface KvChange {
  key: Uint8Array;
  value: Uint8Array | null;
}

export interface KvRange {
  gt?: Uint8Array;
  gte?: Uint8Array;
  lt?: Uint8Array;
  lte?: Uint8Array;
  reverse?: boolean;
  limit?: number;
  snapshot?: KvSnapshot;
}

/** A range cursor: `nextSync()` until undefined; `return()` to stop early. */
export interface KvCursor {
  nextSync(): [Uint8Array, Uint8Array] | undefined;
  return(): unknown;
}

export interface OrderedKvStore {
  /**
   * Applies every change atomically, in one durable write with one sequence number; resolves with
   * it. Throws synchronously, having written nothing, when a key or value is unacceptable. Batches
   * commit in call order, and once one fails every later one fails too.
   */
  write(changes: readonly KvChange[]): Promise<number>;
  /**
   * The value of `key` (as of `snapshot`, or now), or undefined. The bytes may be a view of the
   * store's own memory: decode them, never modify them.
   */
  getSync(key: Uint8Array, snapshot?: KvSnapshot): Uint8Array | undefined;
  snapshot(): KvSnapshot;
  iterate(range: KvRange): KvCursor;
  /** Sequence number of the newest committed write. */
  lastSeq(): number;
  close(): Promise<void>;
}

/** The engine as an {@link OrderedKvStore}. */
export function engineKvStore(engine: Engine): OrderedKvStore {
  return {
    write(changes) {
      const batch = new WriteBatch();
      for (const c of changes) {
        if (c.value === null) batch.delete(c.key);
        else batch.put(c.key, c.value);
      }
      return engine.write(batch);
    },
    // Views, not copies: every caller decodes the bytes at once (a copy costs as much as the lookup).
    getSync: (key, snapshot) => engine.getView(key, snapshot === undefined ? undefined : { snapshot: snapshot as Snapshot }),
    snapshot: () => engine.snapshot(),
    iterate: ({ snapshot, ...range }) => engine.iterate(snapshot === undefined ? range : { ...range, snapshot: snapshot as Snapshot }),
    lastSeq: () => engine.lastSeq,
    close: () => engine.close(),
  };
}
