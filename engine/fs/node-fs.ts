/**
 * {@link FileSystem} over the real disk (`node:fs`), and the directory lock.
 *
 * Locking: Node has no portable `flock`, so the LOCK file is pid-checked. It holds
 * `pid start-time token`; a second open reads it and refuses when that process is alive and has
 * the same start time (Linux `/proc/<pid>/stat`, which also defeats pid reuse). A lock left by a
 * killed process names a dead pid and is taken over. Within one process a registry of held lock
 * paths refuses a second open of the same directory. The LOCK file is written whole to a temp file
 * and linked into place, so nobody ever reads it empty or half-written (which would look stale).
 * The LOCK file is not synced: it only matters
 * while its process runs, and what a power loss leaves of it (nothing, an empty file, the old
 * content) names no live process, which is a stale lock.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { DatabaseLockedError, IOError } from "../errors.js";
import type { FileLock, FileSystem, RandomAccessFile, WritableFile } from "./fs.js";

class NodeWritableFile implements WritableFile {
  private fd: number;
  size: number;
  /** Opened with O_APPEND (openAppend): every write goes to the end, so nothing may be preallocated. */
  private readonly appendOnly: boolean;
  /** End of the zeros written by preallocate(), or 0 when there are none past `size`. */
  private preallocated = 0;

  constructor(fd: number, size: number, appendOnly: boolean) {
    this.fd = fd;
    this.size = size;
    this.appendOnly = appendOnly;
  }

  append(data: Uint8Array): void {
    let off = 0;
    // Positional: after preallocate() the file's end is past `size`.
    while (off < data.length) {
      off += fs.writeSync(this.fd, data, off, data.length - off, this.size + off);
    }
    this.size += data.length;
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.fdatasync(this.fd, (err) => (err ? reject(err) : resolve()));
    });
  }

  syncBlocking(): void {
    fs.fdatasyncSync(this.fd);
  }

  preallocate(upTo: number): void {
    if (this.appendOnly) throw new Error("lsmdoc/engine: internal error: preallocate on a file opened for appending");
    let from = Math.max(this.preallocated, this.size);
    if (upTo <= from) return;
    const zeros = zeroChunk();
    while (from < upTo) {
      const n = Math.min(zeros.length, upTo - from);
      from += fs.writeSync(this.fd, zeros, 0, n, from);
    }
    this.preallocated = from;
  }

  close(): void {
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      try {
        // Zeros left past the last append are cut off, so a cleanly closed file ends with its data.
        if (this.preallocated > this.size) fs.ftruncateSync(fd, this.size);
      } finally {
        fs.closeSync(fd);
      }
    }
  }
}

let zeros: Uint8Array | undefined;
/** A shared 256 KiB of zeros (never written to) for preallocate(). */
function zeroChunk(): Uint8Array {
  return (zeros ??= new Uint8Array(256 * 1024));
}

class NodeRandomAccessFile implements RandomAccessFile {
  private fd: number;

  constructor(fd: number) {
    this.fd = fd;
  }

  read(position: number, length: number, into?: Uint8Array): Uint8Array {
    // A plain, unpooled array: blocks are cached and handed out as views, so they must not share
    // Buffer's pool slab or Buffer's aliasing slice().
    const buf = into !== undefined && into.length >= length ? into : new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = fs.readSync(this.fd, buf, got, length - got, position + got);
      if (n === 0) break;
      got += n;
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  }

  size(): number {
    return fs.fstatSync(this.fd).size;
  }

  close(): void {
    if (this.fd >= 0) {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}

/** Lock paths held by this process. */
const heldLocks = new Set<string>();

/** Start time of `pid` in clock ticks since boot (Linux), or "" when unknown. */
function processStartTime(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? "";
  } catch {
    return "";
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** True when the lock file's content names a process that is still running. */
function holderAlive(content: string): { alive: boolean; pid?: number } {
  const [pidText, start] = content.trim().split(" ");
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return { alive: false };
  if (!processAlive(pid)) return { alive: false, pid };
  if (start && processStartTime(pid) !== "" && processStartTime(pid) !== start) return { alive: false, pid };
  return { alive: true, pid };
}

/** Name of a lock attempt's temp file: `LOCK.<pid>.<random>.tmp`. */
function lockTempPath(lockPath: string): string {
  return `${lockPath}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
}

/**
 * Creates `lockPath` holding `content`, or throws EEXIST. The content is written to a temp file
 * first and linked into place, so the LOCK file never exists empty: a process that found it
 * half-written would take it for stale (no pid in it) and take the directory over. Where the file
 * system has no hard links, falls back to create-then-write.
 */
function createWithContent(lockPath: string, content: string): void {
  let temp = lockTempPath(lockPath);
  for (;;) {
    try {
      fs.writeFileSync(temp, content, { flag: "wx" });
      break;
    } catch (err) {
      // A temp name taken (random collision, or a leftover): an EEXIST here must not read as "locked".
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      temp = lockTempPath(lockPath);
    }
  }
  try {
    fs.linkSync(temp, lockPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw err;
    const fd = fs.openSync(lockPath, "wx");
    try {
      fs.writeSync(fd, content);
    } finally {
      fs.closeSync(fd);
    }
  } finally {
    try {
      fs.unlinkSync(temp);
    } catch {
      // Left behind: removeDeadTemps() of a later lock removes it once this process is gone.
    }
  }
}

/** Removes lock temp files left by processes that died between writing and removing them. */
function removeDeadTemps(lockPath: string): void {
  const dir = path.dirname(lockPath);
  const prefix = `${path.basename(lockPath)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
    const pid = Number(name.slice(prefix.length).split(".")[0]);
    if (!Number.isInteger(pid) || pid <= 0 || processAlive(pid)) continue;
    try {
      fs.unlinkSync(path.join(dir, name));
    } catch {
      // Gone already.
    }
  }
}

export class NodeFs implements FileSystem {
  mkdirp(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
  }

  list(dir: string): string[] {
    try {
      return fs.readdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
  }

  exists(p: string): boolean {
    return fs.existsSync(p);
  }

  fileSize(p: string): number {
    return fs.statSync(p).size;
  }

  create(p: string): WritableFile {
    return new NodeWritableFile(fs.openSync(p, "wx"), 0, false);
  }

  openAppend(p: string): WritableFile {
    const fd = fs.openSync(p, "a");
    return new NodeWritableFile(fd, fs.fstatSync(fd).size, true);
  }

  openRead(p: string): RandomAccessFile {
    return new NodeRandomAccessFile(fs.openSync(p, "r"));
  }

  readFile(p: string): Uint8Array {
    return fs.readFileSync(p);
  }

  rename(from: string, to: string): void {
    fs.renameSync(from, to);
  }

  unlink(p: string): void {
    fs.unlinkSync(p);
  }

  truncate(p: string, length: number): void {
    fs.truncateSync(p, length);
  }

  syncDir(dir: string): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.open(dir, "r", (err, fd) => {
        if (err) return reject(err);
        fs.fsync(fd, (syncErr) => {
          fs.close(fd, () => (syncErr ? reject(syncErr) : resolve()));
        });
      });
    });
  }

  lock(lockPath: string, dir: string): FileLock {
    const key = path.resolve(lockPath);
    if (heldLocks.has(key)) throw new DatabaseLockedError(dir, process.pid);
    const content = `${process.pid} ${processStartTime(process.pid)} ${randomBytes(8).toString("hex")}\n`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        createWithContent(lockPath, content);
        heldLocks.add(key);
        removeDeadTemps(lockPath);
        let released = false;
        return {
          release: () => {
            if (released) return;
            released = true;
            heldLocks.delete(key);
            try {
              if (fs.readFileSync(lockPath, "utf8") === content) fs.unlinkSync(lockPath);
            } catch {
              // Already gone: nothing to release.
            }
          },
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
          throw new IOError(`lsmdoc: cannot create lock file ${lockPath}`, err);
        }
      }
      let existing: string;
      try {
        existing = fs.readFileSync(lockPath, "utf8");
      } catch {
        continue; // Removed between our open and read: try again.
      }
      const holder = holderAlive(existing);
      // Our own pid without a registry entry is a lock this process failed to remove: stale.
      if (holder.alive && holder.pid !== process.pid) throw new DatabaseLockedError(dir, holder.pid);
      // Stale lock of a dead process: remove it if it is still the one we read, then retry.
      try {
        if (fs.readFileSync(lockPath, "utf8") === existing) fs.unlinkSync(lockPath);
      } catch {
        // Someone else removed it first.
      }
    }
    throw new DatabaseLockedError(dir);
  }
}

/** The process-wide real file system. */
export const nodeFs: FileSystem = new NodeFs();
