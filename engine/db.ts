/**
 * The engine: owns the directory, the write path (group commit into the WAL, then the memtable),
 * the read path (memtable cursors under a snapshot) and recovery at open.
 *
 * Write path. `put`/`delete`/`write` queue a pending write and return its promise. One commit loop
 * runs at a time: it takes every queued write, gives each the next seq, stages one WAL record per
 * write, appends the whole group with one file write, and (when any write in the group asked for
 * it) one `fdatasync`. While that sync is in flight new writes queue up and form the next group.
 * Only after the group's I/O succeeded are its entries put into the memtable, the visible seq
 * advanced and the promises resolved, so a reader never sees a write that could still be lost and
 * every acknowledged write is in the log. An I/O failure rejects the group and every later write:
 * the log's tail is then in an unknown state and only a reopen (recovery) can settle it.
 *
 * Invariants: seqs are assigned in log order, increase by one per write, and are never reused
 * (recovery resumes after the largest seq found); `visibleSeq` only moves forward, after memtable
 * insertion of everything up to it.
 */
import * as path from "node:path";
import { DatabaseClosedError, IOError, InvalidArgumentError } from "./errors.js";
import type { FileLock, FileSystem } from "./fs/fs.js";
import { lockPath, logPath, walDir } from "./filenames.js";
import { DbIterator, type KeyRange } from "./iterator/db-iterator.js";
import type { InternalIterator } from "./iterator/internal-iterator.js";
import { MergingIterator } from "./iterator/merging-iterator.js";
import { Memtable } from "./memtable/memtable.js";
import { resolveOptions, type EngineOptions, type ResolvedEngineOptions } from "./options.js";
import { Snapshot, SnapshotList } from "./snapshot.js";
import { MAX_SEQ } from "./util/bytes.js";
import { parseLogFileName } from "./wal/format.js";
import { readLog } from "./wal/log-reader.js";
import { LogWriter } from "./wal/log-writer.js";
import { decodeRecord, encodeRecord, EntryKind, type WriteEntry } from "./wal/record.js";
import { checkKey, checkValue, WriteBatch } from "./write-batch.js";

/** Per-write options. */
export interface WriteOptions {
  /** Wait for `fdatasync` before resolving. Defaults to the engine's `sync` option. */
  sync?: boolean;
}

/** Options of {@link Engine.get}. */
export interface ReadOptions {
  /** Read as of this snapshot instead of now. */
  snapshot?: Snapshot;
}

/** Options of {@link Engine.iterate}. Bounds compare keys as unsigned bytes. */
export interface IterateOptions extends KeyRange {
  /** Yield keys in descending order. @default false */
  reverse?: boolean;
  /** Yield at most this many entries (0 yields none). @default no limit */
  limit?: number;
  /** Read as of this snapshot; otherwise the iterator takes its own when created. */
  snapshot?: Snapshot;
}

/** What `stats()` reports. */
export interface EngineStats {
  /** Seq of the newest write visible to readers. */
  seq: number;
  memtable: { bytes: number; entries: number };
  wal: { currentLog: string; currentLogBytes: number; logFiles: number };
  writes: { commits: number; groups: number; syncs: number };
  snapshots: number;
  recovery: {
    logsReplayed: number;
    recordsReplayed: number;
    tornTails: Array<{ file: string; offset: number }>;
    skippedCorruption: Array<{ file: string; offset: number; reason: string }>;
  };
}

interface PendingWrite {
  entries: WriteEntry[];
  sync: boolean;
  seq: number;
  payload: Uint8Array | null;
  resolve: (seq: number) => void;
  reject: (err: unknown) => void;
}

/** Group commit stops adding writes to a group once it holds this many bytes. */
const MAX_GROUP_BYTES = 4 * 1024 * 1024;

const EMPTY = new Uint8Array(0);

/**
 * The LSM-tree key-value engine. Keys and values are byte arrays; keys are ordered as unsigned
 * bytes.
 *
 * @example
 * ```ts
 * const engine = await Engine.open("./data");
 * const seq = await engine.put(Buffer.from("k"), Buffer.from("v"));
 * const v = await engine.get(Buffer.from("k"));
 * for await (const [key, value] of engine.iterate({ gte: Buffer.from("a") })) { }
 * await engine.close();
 * ```
 */
export class Engine {
  readonly dir: string;
  private readonly options: ResolvedEngineOptions;
  private readonly fs: FileSystem;
  private lock: FileLock | null;
  private memtable = new Memtable();
  private readonly snapshots = new SnapshotList();

  private log: LogWriter;
  private logNumber: number;
  private logFiles: number;

  /** Seq of the newest write visible to readers. */
  private visibleSeq: number;
  /** Seq of the newest write handed to the log. */
  private lastSeq: number;

  private queue: PendingWrite[] = [];
  private commitScheduled = false;
  private committing: Promise<void> | null = null;
  private failure: Error | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;

  private counters = { commits: 0, groups: 0, syncs: 0 };
  private recovery: EngineStats["recovery"];

  private constructor(
    dir: string,
    options: ResolvedEngineOptions,
    lock: FileLock,
    state: { memtable: Memtable; lastSeq: number; log: LogWriter; logNumber: number; logFiles: number; recovery: EngineStats["recovery"] },
  ) {
    this.dir = dir;
    this.options = options;
    this.fs = options.fs;
    this.lock = lock;
    this.memtable = state.memtable;
    this.lastSeq = state.lastSeq;
    this.visibleSeq = state.lastSeq;
    this.log = state.log;
    this.logNumber = state.logNumber;
    this.logFiles = state.logFiles;
    this.recovery = state.recovery;
  }

  /**
   * Opens (creating when missing) the database in `dir`: takes its lock, replays its write-ahead
   * logs and starts a new log for new writes.
   *
   * @throws DatabaseLockedError when another open engine holds `dir`.
   * @throws CorruptionError when a log is damaged in the middle (see `walCorruption`).
   */
  static async open(dir: string, options?: EngineOptions): Promise<Engine> {
    if (typeof dir !== "string" || dir.length === 0) {
      throw new InvalidArgumentError("lsmdoc/engine: dir must be a non-empty string");
    }
    const opts = resolveOptions(options);
    const fs = opts.fs;
    dir = path.resolve(dir);
    if (!fs.exists(dir)) {
      if (!opts.createIfMissing) throw new InvalidArgumentError(`lsmdoc/engine: ${dir} does not exist`);
      fs.mkdirp(dir);
    }
    const lock = fs.lock(lockPath(dir), dir);
    try {
      fs.mkdirp(walDir(dir));
      const memtable = new Memtable();
      const recovery: EngineStats["recovery"] = { logsReplayed: 0, recordsReplayed: 0, tornTails: [], skippedCorruption: [] };
      const logNumbers = fs
        .list(walDir(dir))
        .map(parseLogFileName)
        .filter((n): n is number => n !== undefined)
        .sort((a, b) => a - b);
      let lastSeq = 0;
      for (const num of logNumbers) {
        const file = logPath(dir, num);
        const data = fs.readFile(file);
        const summary = readLog(
          data,
          file,
          (record) => {
            for (const e of record.entries) memtable.add(record.seq, e.kind, e.key, e.value);
            if (record.seq > lastSeq) lastSeq = record.seq;
            recovery.recordsReplayed++;
          },
          { skipCorrupted: opts.walCorruption === "skip" },
        );
        recovery.logsReplayed++;
        if (summary.tornTailOffset !== undefined) recovery.tornTails.push({ file, offset: summary.tornTailOffset });
        for (const s of summary.skipped) recovery.skippedCorruption.push({ file, ...s });
      }
      const logNumber = (logNumbers.length > 0 ? logNumbers[logNumbers.length - 1]! : 0) + 1;
      const log = new LogWriter(fs.create(logPath(dir, logNumber)));
      fs.syncDir(walDir(dir));
      return new Engine(dir, opts, lock, { memtable, lastSeq, log, logNumber, logFiles: logNumbers.length + 1, recovery });
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  // ---------------------------------------------------------------- writes

  /** Stores `value` under `key`. Resolves with the write's seq once it is durable (or written, with `sync: false`). */
  put(key: Uint8Array, value: Uint8Array, options?: WriteOptions): Promise<number> {
    try {
      checkKey(key);
      checkValue(value);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue([{ kind: EntryKind.Put, key, value }], options);
  }

  /** Deletes `key` (writes a tombstone). Resolves with the write's seq. */
  delete(key: Uint8Array, options?: WriteOptions): Promise<number> {
    try {
      checkKey(key);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue([{ kind: EntryKind.Delete, key, value: EMPTY }], options);
  }

  /**
   * Applies every entry of `batch` atomically: one WAL record, one seq for all. An empty batch
   * writes nothing and resolves with the last committed seq.
   */
  write(batch: WriteBatch, options?: WriteOptions): Promise<number> {
    if (!(batch instanceof WriteBatch)) {
      return Promise.reject(new InvalidArgumentError("lsmdoc/engine: write() takes a WriteBatch"));
    }
    if (batch.length === 0) {
      const err = this.writeBlocker();
      return err ? Promise.reject(err) : Promise.resolve(this.visibleSeq);
    }
    return this.enqueue(batch.entries.slice(), options);
  }

  private writeBlocker(): Error | null {
    if (this.closed || this.closing) return new DatabaseClosedError();
    return this.failure;
  }

  private enqueue(entries: WriteEntry[], options: WriteOptions | undefined): Promise<number> {
    const blocked = this.writeBlocker();
    if (blocked) return Promise.reject(blocked);
    let sync = this.options.sync;
    if (options !== undefined) {
      if (options === null || typeof options !== "object") {
        return Promise.reject(new InvalidArgumentError("lsmdoc/engine: write options must be an object"));
      }
      if (options.sync !== undefined) {
        if (typeof options.sync !== "boolean") return Promise.reject(new InvalidArgumentError("lsmdoc/engine: sync must be a boolean"));
        sync = options.sync;
      }
    }
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ entries, sync, seq: 0, payload: null, resolve, reject });
      if (!this.commitScheduled && this.committing === null) {
        this.commitScheduled = true;
        // After the current callback and its microtasks: every write issued meanwhile joins the group.
        process.nextTick(() => this.startCommitLoop());
      }
    });
  }

  private startCommitLoop(): void {
    this.commitScheduled = false;
    if (this.committing !== null) return;
    this.committing = this.commitLoop();
  }

  private async commitLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        let bytes = 0;
        let taken = 0;
        for (; taken < this.queue.length && (taken === 0 || bytes < MAX_GROUP_BYTES); taken++) {
          for (const e of this.queue[taken]!.entries) bytes += e.key.length + e.value.length;
        }
        const group = taken === this.queue.length ? this.queue : this.queue.slice(0, taken);
        this.queue = taken === this.queue.length ? [] : this.queue.slice(taken);
        await this.commitGroup(group);
      }
    } finally {
      // Cleared in the same step that saw the queue empty, so a later enqueue always schedules a loop.
      this.committing = null;
    }
  }

  private async commitGroup(group: PendingWrite[]): Promise<void> {
    if (this.failure) {
      for (const w of group) w.reject(this.failure);
      return;
    }
    let seq = this.lastSeq;
    let needSync = false;
    try {
      for (const w of group) {
        if (seq >= MAX_SEQ) throw new IOError("lsmdoc/engine: sequence numbers exhausted");
        w.seq = ++seq;
        w.payload = encodeRecord(w.seq, w.entries);
        this.log.addRecord(w.payload);
        if (w.sync) needSync = true;
      }
      this.lastSeq = seq;
      this.log.writePending();
      if (needSync) {
        await this.log.sync();
        this.counters.syncs++;
      }
    } catch (err) {
      this.failure = err instanceof IOError ? err : new IOError(`lsmdoc/engine: write-ahead log write failed: ${(err as Error).message}`, err);
      for (const w of group) w.reject(this.failure);
      for (const w of this.queue) w.reject(this.failure);
      this.queue = [];
      return;
    }
    // Durable: make visible in seq order, then acknowledge.
    const mem = this.memtable;
    for (const w of group) {
      // The memtable keeps views into the encoded record, not the caller's arrays.
      const record = decodeRecord(w.payload!);
      if (typeof record === "string") throw new Error(`lsmdoc/engine: internal error: ${record}`);
      for (const e of record.entries) mem.add(w.seq, e.kind, e.key, e.value);
      w.payload = null;
    }
    this.visibleSeq = seq;
    this.counters.groups++;
    this.counters.commits += group.length;
    for (const w of group) w.resolve(w.seq);
  }

  // ---------------------------------------------------------------- reads

  private checkOpen(): void {
    if (this.closed) throw new DatabaseClosedError();
  }

  private readSeq(snapshot: Snapshot | undefined): number {
    if (snapshot === undefined) return this.visibleSeq;
    if (!(snapshot instanceof Snapshot) || snapshot.owner !== this) {
      throw new InvalidArgumentError("lsmdoc/engine: snapshot does not belong to this engine");
    }
    if (snapshot.isReleased) throw new InvalidArgumentError("lsmdoc/engine: snapshot was released");
    return snapshot.seq;
  }

  /**
   * The value stored under `key` (as of `options.snapshot`, or now), or undefined. The returned
   * array is the caller's to keep and modify.
   */
  get(key: Uint8Array, options?: ReadOptions): Promise<Uint8Array | undefined> {
    try {
      return Promise.resolve(this.getSync(key, options));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Synchronous {@link get}: the engine answers from memory without waiting on I/O. */
  getSync(key: Uint8Array, options?: ReadOptions): Uint8Array | undefined {
    this.checkOpen();
    checkKey(key);
    const seq = this.readSeq(options?.snapshot);
    const r = this.memtable.get(key, seq);
    if (!r.found || r.kind === EntryKind.Delete) return undefined;
    return r.value.slice();
  }

  /**
   * A point-in-time view for `get` and `iterate`. Release it when done.
   */
  snapshot(): Snapshot {
    this.checkOpen();
    return new Snapshot(this.visibleSeq, this.snapshots, this);
  }

  /** Internal cursor over every source, for the iterator and tests. */
  private internalIterator(): InternalIterator {
    return new MergingIterator([this.memtable.iterator()]);
  }

  /**
   * Iterates over keys in unsigned byte order (descending with `reverse`) within the bounds, as of
   * one snapshot: writes made while iterating are not seen. Yields `[key, value]` copies.
   *
   * @example
   * ```ts
   * for await (const [k, v] of engine.iterate({ gte: prefix, lt: prefixEnd, limit: 10 })) { }
   * ```
   */
  iterate(options: IterateOptions = {}): EngineIterator {
    this.checkOpen();
    if (options === null || typeof options !== "object") throw new InvalidArgumentError("lsmdoc/engine: iterate options must be an object");
    for (const b of ["gt", "gte", "lt", "lte"] as const) {
      const v = options[b];
      if (v !== undefined && !(v instanceof Uint8Array)) throw new InvalidArgumentError(`lsmdoc/engine: iterate bound ${b} must be a Uint8Array`);
    }
    if (options.gt !== undefined && options.gte !== undefined) throw new InvalidArgumentError("lsmdoc/engine: give gt or gte, not both");
    if (options.lt !== undefined && options.lte !== undefined) throw new InvalidArgumentError("lsmdoc/engine: give lt or lte, not both");
    const limit = options.limit ?? Infinity;
    if (limit !== Infinity && (typeof limit !== "number" || !Number.isInteger(limit) || limit < 0)) {
      throw new InvalidArgumentError(`lsmdoc/engine: limit must be a non-negative integer, got ${String(limit)}`);
    }
    let snapshot = options.snapshot;
    let own = false;
    if (snapshot === undefined) {
      snapshot = this.snapshot();
      own = true;
    } else {
      this.readSeq(snapshot);
    }
    const range: KeyRange = { gt: options.gt, gte: options.gte, lt: options.lt, lte: options.lte };
    const cursor = new DbIterator(this.internalIterator(), snapshot.seq, range, options.reverse === true);
    return new EngineIterator(this, cursor, limit, own ? snapshot : null);
  }

  /** @internal Throws when the engine is closed (used by iterators between steps). */
  assertOpen(): void {
    this.checkOpen();
  }

  // ---------------------------------------------------------------- admin

  /** Counters and sizes; cheap enough to call often. */
  stats(): EngineStats {
    return {
      seq: this.visibleSeq,
      memtable: { bytes: this.memtable.approximateBytes, entries: this.memtable.entryCount },
      wal: { currentLog: logPath(this.dir, this.logNumber), currentLogBytes: this.log.size, logFiles: this.logFiles },
      writes: { ...this.counters },
      snapshots: this.snapshots.size,
      recovery: {
        ...this.recovery,
        tornTails: [...this.recovery.tornTails],
        skippedCorruption: [...this.recovery.skippedCorruption],
      },
    };
  }

  /** True once `close()` has been called. */
  get isClosed(): boolean {
    return this.closed || this.closing !== null;
  }

  /**
   * Waits for queued writes, closes files and releases the lock. Every later call fails with
   * `DatabaseClosedError`; calling `close()` again is harmless.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      // Writes queued before close() still commit.
      while (this.committing !== null || this.commitScheduled || this.queue.length > 0) {
        if (this.committing !== null) await this.committing;
        else if (this.queue.length > 0) {
          this.commitScheduled = false;
          this.startCommitLoop();
        } else await new Promise<void>((r) => process.nextTick(r));
      }
      this.closed = true;
      try {
        this.log.close();
      } finally {
        this.lock?.release();
        this.lock = null;
      }
    })();
    return this.closing;
  }

  /** Closes the engine (`await using engine = await Engine.open(dir)`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * An async iterator over `[key, value]` pairs from {@link Engine.iterate}. Breaking out of a
 * `for await` loop closes it; call `return()` when stopping early by hand.
 */
export class EngineIterator implements AsyncIterableIterator<[Uint8Array, Uint8Array]> {
  private remaining: number;
  private finished = false;

  /** @internal */
  constructor(
    private readonly engine: Engine,
    private readonly cursor: DbIterator,
    limit: number,
    private readonly ownSnapshot: Snapshot | null,
  ) {
    this.remaining = limit;
    if (limit === 0) this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.cursor.close();
    this.ownSnapshot?.release();
  }

  /** The next entry synchronously, or undefined at the end. */
  nextSync(): [Uint8Array, Uint8Array] | undefined {
    if (this.finished) return undefined;
    try {
      this.engine.assertOpen();
    } catch (err) {
      this.finish();
      throw err;
    }
    const e = this.cursor.next();
    if (e === undefined) {
      this.finish();
      return undefined;
    }
    if (--this.remaining <= 0) this.finish();
    return [e[0].slice(), e[1].slice()];
  }

  next(): Promise<IteratorResult<[Uint8Array, Uint8Array]>> {
    try {
      const e = this.nextSync();
      return Promise.resolve(e === undefined ? { done: true, value: undefined } : { done: false, value: e });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  return(): Promise<IteratorResult<[Uint8Array, Uint8Array]>> {
    this.finish();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

