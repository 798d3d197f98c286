/**
 * The engine's file-system seam. Every byte the engine reads or writes goes through a
 * {@link FileSystem}, so that tests can run the real engine on {@link MemFs} (in memory) or on
 * `FaultFs`-style wrappers that drop unsynced bytes or fail operations on demand, the way
 * LevelDB's fault-injection test does.
 *
 * Design choice: data-path operations are synchronous (append, positional read) and only
 * `sync()` is asynchronous. Appends land in the OS page cache in microseconds; synchronous
 * positional reads of cached blocks are several times cheaper than a thread-pool round trip.
 * `fdatasync` is the one call that can take long, so it leaves the event loop (and is where group
 * commit forms its groups). See docs/architecture.md.
 */

/** A file opened for appending (WAL logs, tables being built, manifests). */
export interface WritableFile {
  /**
   * Appends `data` at the end of the file (the bytes may sit in the page cache until `sync`).
   * The caller may reuse `data` once this returns.
   */
  append(data: Uint8Array): void;
  /** Makes every appended byte durable (`fdatasync`). */
  sync(): Promise<void>;
  /**
   * Optional: {@link sync} done on the calling thread, which it blocks until the disk answers.
   * Cheaper than `sync()` by a thread-pool round trip; the caller decides when blocking is fine.
   */
  syncBlocking?(): void;
  /**
   * Optional, for files opened by `create()`: writes zeros from the end of what the file holds up
   * to offset `upTo`. Once a sync has made them durable, appends overwrite allocated blocks, and a
   * sync of such appends changes no file metadata, so it need not wait for a file-system journal
   * commit (the reason PostgreSQL zero-fills its WAL segments). `size` does not count the zeros;
   * the file holds them until `close()` cuts it back to `size`, or for good after a crash, which is
   * why only readers that stop at zeros (the log reader) may read such a file.
   */
  preallocate?(upTo: number): void;
  /** Bytes appended so far, including any the file had when opened. */
  readonly size: number;
  close(): void;
}

/** A file opened for positional reads. */
export interface RandomAccessFile {
  /**
   * Reads up to `length` bytes at `position`; shorter only at end of file. With `into` (at least
   * `length` bytes) the bytes land there and the result is a view of it, so a caller that only
   * needs them briefly can reuse one buffer; an implementation may also ignore it.
   */
  read(position: number, length: number, into?: Uint8Array): Uint8Array;
  /** Current size in bytes. */
  size(): number;
  close(): void;
}

/** A held directory lock; `release()` gives it up. */
export interface FileLock {
  release(): void;
}

export interface FileSystem {
  /** Creates `dir` and its parents when missing. */
  mkdirp(dir: string): void;
  /** Names (not paths) of the entries in `dir`; empty when `dir` does not exist. */
  list(dir: string): string[];
  exists(path: string): boolean;
  /** Size of the file at `path` in bytes. */
  fileSize(path: string): number;
  /** Creates a new empty file (failing if it exists) and opens it for appending. */
  create(path: string): WritableFile;
  /** Opens an existing file, keeping its contents, for appending. */
  openAppend(path: string): WritableFile;
  openRead(path: string): RandomAccessFile;
  /** Whole contents of a (small) file. */
  readFile(path: string): Uint8Array;
  /** Atomically replaces `to` with `from`. */
  rename(from: string, to: string): void;
  unlink(path: string): void;
  /** Truncates the file at `path` to `length` bytes. */
  truncate(path: string, length: number): void;
  /**
   * Makes the directory's entries (created, renamed, removed files) durable. Asynchronous: on a
   * busy disk a directory fsync can wait for a journal commit that takes tens of milliseconds.
   */
  syncDir(dir: string): Promise<void>;
  /**
   * Takes the exclusive lock of a database directory, whose lock file is `path`. Throws
   * `DatabaseLockedError` when another holder (in this or another process) has it.
   */
  lock(path: string, dir: string): FileLock;
}
