/**
 * An in-memory {@link FileSystem} that can simulate a machine crash, after LevelDB's
 * fault_injection_test and Pebble's `vfs.MemFS`: each file remembers how many of its bytes were
 * synced, and each directory which of its entries were made durable by `syncDir`.
 * {@link MemFs.crash} then throws away everything a real power loss could lose: unsynced tails of
 * files, unsynced appends over preallocated zeros (which read as zeros again), and files whose
 * creation (or rename target) was never recorded by a directory sync.
 *
 * Failure injection: {@link MemFs.failAfter} makes the n-th next mutating operation (append, sync,
 * create, rename) and every one after it throw, to test the engine's I/O-error paths.
 */
import * as path from "node:path";
import { DatabaseLockedError } from "../errors.js";
import type { FileLock, FileSystem, RandomAccessFile, WritableFile } from "./fs.js";

interface MemFile {
  data: Uint8Array;
  /** Bytes in the file, preallocated zeros included. */
  length: number;
  /** Bytes a crash keeps (the length at the last sync). */
  synced: number;
  /**
   * End of the appended data at the last sync. Below `synced` and past this offset the file held
   * preallocated zeros when it was synced: appends there since are lost in a crash (back to zeros).
   */
  syncedData: number;
}

interface MemEntry {
  file: MemFile;
  /** The entry survives a crash (its directory was synced since it appeared). */
  durable: boolean;
}

function enoent(p: string): Error {
  return Object.assign(new Error(`ENOENT: no such file: ${p}`), { code: "ENOENT" });
}

export class MemFs implements FileSystem {
  private files = new Map<string, MemEntry>();
  /** Entries removed or renamed away while their removal was not yet durable. */
  private ghosts = new Map<string, MemEntry>();
  private dirs = new Set<string>();
  private locks = new Set<string>();
  private opsUntilFailure = Infinity;

  private norm(p: string): string {
    return path.resolve("/", p);
  }

  private maybeFail(op: string): void {
    if (this.opsUntilFailure === Infinity) return;
    if (this.opsUntilFailure-- <= 0) {
      throw Object.assign(new Error(`EIO: injected failure in ${op}`), { code: "EIO" });
    }
  }

  /** Makes the `n`-th next mutating operation and all later ones fail (0 = the next one). */
  failAfter(n: number): void {
    this.opsUntilFailure = n;
  }

  /** Stops injecting failures. */
  heal(): void {
    this.opsUntilFailure = Infinity;
  }

  /**
   * Simulates a power loss: unsynced bytes vanish, entries not made durable by a directory sync
   * vanish, and entries removed without a directory sync come back. Locks are dropped, as a dead
   * process's would be.
   */
  crash(): void {
    for (const [p, e] of this.ghosts) {
      const current = this.files.get(p);
      if (!current || !current.durable) this.files.set(p, e);
    }
    this.ghosts.clear();
    for (const [p, e] of [...this.files]) {
      if (!e.durable) {
        this.files.delete(p);
        continue;
      }
      const f = e.file;
      f.data.fill(0, f.syncedData, Math.min(f.synced, f.length));
      f.length = f.synced;
    }
    this.locks.clear();
  }

  mkdirp(dir: string): void {
    let d = this.norm(dir);
    while (!this.dirs.has(d)) {
      this.dirs.add(d);
      const parent = path.dirname(d);
      if (parent === d) break;
      d = parent;
    }
  }

  list(dir: string): string[] {
    const d = this.norm(dir);
    const out: string[] = [];
    for (const p of this.files.keys()) if (path.dirname(p) === d) out.push(path.basename(p));
    for (const p of this.dirs) if (p !== d && path.dirname(p) === d) out.push(path.basename(p));
    return out.sort();
  }

  exists(p: string): boolean {
    const n = this.norm(p);
    return this.files.has(n) || this.dirs.has(n);
  }

  fileSize(p: string): number {
    const e = this.files.get(this.norm(p));
    if (!e) throw enoent(p);
    return e.file.length;
  }

  private entry(p: string): MemEntry {
    const e = this.files.get(this.norm(p));
    if (!e) throw enoent(p);
    return e;
  }

  private writable(file: MemFile, appendOnly: boolean): WritableFile {
    const self = this;
    /** End of the appended data (a file opened by create()); the file may reach past it (preallocate). */
    let end = file.length;
    let preallocated = false;
    const grow = (need: number): void => {
      if (need > file.data.length) {
        const grown = new Uint8Array(Math.max(need, file.data.length * 2, 256));
        grown.set(file.data.subarray(0, file.length));
        file.data = grown;
      }
    };
    // Opened for appending, a file is written at its end, as O_APPEND does.
    const dataEnd = (): number => (appendOnly ? file.length : end);
    const sync = (): void => {
      self.maybeFail("sync");
      file.synced = file.length;
      file.syncedData = dataEnd();
    };
    return {
      append(data: Uint8Array): void {
        self.maybeFail("append");
        const at = dataEnd();
        const need = at + data.length;
        grow(need);
        file.data.set(data, at);
        end = need;
        if (need > file.length) file.length = need;
      },
      async sync(): Promise<void> {
        sync();
      },
      syncBlocking: sync,
      preallocate(upTo: number): void {
        if (appendOnly) throw new Error("lsmdoc/engine: internal error: preallocate on a file opened for appending");
        self.maybeFail("append");
        preallocated = true;
        if (upTo <= file.length) return;
        grow(upTo);
        file.data.fill(0, file.length, upTo);
        file.length = upTo;
      },
      get size(): number {
        return dataEnd();
      },
      close(): void {
        // As the real file system does: preallocated zeros past the data are cut off.
        if (preallocated && file.length > end) {
          file.length = end;
          file.synced = Math.min(file.synced, end);
          file.syncedData = Math.min(file.syncedData, end);
        }
      },
    };
  }

  create(p: string): WritableFile {
    this.maybeFail("create");
    const n = this.norm(p);
    if (!this.dirs.has(path.dirname(n))) throw enoent(p);
    if (this.files.has(n)) throw Object.assign(new Error(`EEXIST: ${p}`), { code: "EEXIST" });
    const file: MemFile = { data: new Uint8Array(256), length: 0, synced: 0, syncedData: 0 };
    this.files.set(n, { file, durable: false });
    return this.writable(file, false);
  }

  openAppend(p: string): WritableFile {
    return this.writable(this.entry(p).file, true);
  }

  openRead(p: string): RandomAccessFile {
    const file = this.entry(p).file;
    return {
      read(position: number, length: number, into?: Uint8Array): Uint8Array {
        const end = Math.min(file.length, position + length);
        const start = Math.min(position, end);
        if (into === undefined || into.length < length) return file.data.slice(start, end);
        into.set(file.data.subarray(start, end));
        return into.subarray(0, end - start);
      },
      size: () => file.length,
      close(): void {},
    };
  }

  readFile(p: string): Uint8Array {
    const f = this.entry(p).file;
    return f.data.slice(0, f.length);
  }

  rename(from: string, to: string): void {
    this.maybeFail("rename");
    const a = this.norm(from);
    const b = this.norm(to);
    const e = this.entry(a);
    const replaced = this.files.get(b);
    if (replaced && replaced.durable && !this.ghosts.has(b)) this.ghosts.set(b, replaced);
    if (e.durable && !this.ghosts.has(a)) this.ghosts.set(a, e);
    this.files.delete(a);
    this.files.set(b, { file: e.file, durable: false });
  }

  unlink(p: string): void {
    const n = this.norm(p);
    const e = this.entry(n);
    if (e.durable && !this.ghosts.has(n)) this.ghosts.set(n, e);
    this.files.delete(n);
  }

  truncate(p: string, length: number): void {
    const f = this.entry(p).file;
    f.length = Math.min(f.length, length);
    f.synced = Math.min(f.synced, f.length);
    f.syncedData = Math.min(f.syncedData, f.length);
  }

  async syncDir(dir: string): Promise<void> {
    this.maybeFail("syncDir");
    const d = this.norm(dir);
    for (const [p, e] of this.files) if (path.dirname(p) === d) e.durable = true;
    for (const p of [...this.ghosts.keys()]) if (path.dirname(p) === d) this.ghosts.delete(p);
  }

  lock(lockPath: string, dir: string): FileLock {
    const n = this.norm(lockPath);
    if (this.locks.has(n)) throw new DatabaseLockedError(dir);
    this.locks.add(n);
    return { release: () => void this.locks.delete(n) };
  }

  /** Flips one bit of the byte at `offset` of `p` (corruption tests). */
  flipBit(p: string, offset: number, bit = 0): void {
    const f = this.entry(p).file;
    f.data[offset] = f.data[offset]! ^ (1 << bit);
  }
}
