/**
 * The version set: the current {@link Version}, the engine's persistent counters, and the manifest
 * that records them (after LevelDB's VersionSet).
 *
 * Durability protocol. A change (flush, compaction) is described as a {@link VersionEdit}, appended
 * to the manifest and fdatasync'ed, and only then installed as the current version. At open the
 * manifest named by CURRENT is replayed; then a fresh manifest holding one snapshot edit is written
 * (temp file, sync, rename over CURRENT's target name, directory sync), which keeps the manifest
 * short and makes the switch atomic. Files the manifest does not name are not live.
 */
import * as path from "node:path";
import { CorruptionError } from "../errors.js";
import type { FileSystem, WritableFile } from "../fs/fs.js";
import { currentPath, manifestFileName, parseManifestFileName } from "../filenames.js";
import { DecodeError } from "../util/coding.js";
import { frameManifestRecord, readManifestRecords } from "../manifest/manifest-log.js";
import { decodeEdit, encodeEdit, type FileMeta, type VersionEdit } from "../manifest/version-edit.js";
import { NUM_LEVELS, sortLevel, Version } from "./version.js";

/** A manifest longer than this is rewritten as a single snapshot edit. */
const MANIFEST_ROLLOVER_BYTES = 4 * 1024 * 1024;

export interface RecoveredState {
  logNumber: number;
  nextFileNumber: number;
  lastSeq: number;
  /** Torn tail found at the end of the manifest, if any. */
  tornTailOffset: number | undefined;
}

export class VersionSet {
  current: Version = Version.empty();
  /** Logs numbered below this hold only flushed data. */
  logNumber = 0;
  nextFileNumber = 1;
  /** Largest seq the manifest knows to be in tables (the WAL may know larger). */
  lastSeq = 0;

  private manifest: WritableFile | null = null;
  private manifestNumber = 0;
  private queue: Promise<void> = Promise.resolve();
  /** Versions still pinned by readers, other than the current one. */
  private readonly pinned = new Set<Version>();

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
  ) {}

  newFileNumber(): number {
    return this.nextFileNumber++;
  }

  /**
   * Replays the manifest CURRENT names, if any. Returns false for a directory without a manifest
   * (new, or holding only write-ahead logs).
   */
  recover(): { found: boolean; tornTailOffset: number | undefined } {
    const cur = currentPath(this.dir);
    if (!this.fs.exists(cur)) return { found: false, tornTailOffset: undefined };
    const name = Buffer.from(this.fs.readFile(cur)).toString("latin1");
    const manifestName = name.endsWith("\n") ? name.slice(0, -1) : name;
    const num = parseManifestFileName(manifestName);
    if (num === undefined) throw new CorruptionError(cur, 0, `CURRENT does not name a manifest: ${JSON.stringify(name.slice(0, 40))}`);
    const file = path.join(this.dir, manifestName);
    if (!this.fs.exists(file)) throw new CorruptionError(cur, 0, `CURRENT names ${manifestName}, which does not exist`);
    const data = this.fs.readFile(file);
    const edits: VersionEdit[] = [];
    const read = readManifestRecords(data, file, (payload) => {
      try {
        edits.push(decodeEdit(payload));
        return undefined;
      } catch (err) {
        if (err instanceof DecodeError) return `malformed version edit: ${err.message}`;
        throw err;
      }
    });
    const levels: FileMeta[][] = Array.from({ length: NUM_LEVELS }, () => []);
    for (const [i, edit] of edits.entries()) {
      try {
        applyEdit(levels, edit);
      } catch (err) {
        throw new CorruptionError(file, read.records[i]!.offset, (err as Error).message);
      }
      if (edit.logNumber !== undefined) this.logNumber = edit.logNumber;
      if (edit.nextFileNumber !== undefined) this.nextFileNumber = edit.nextFileNumber;
      if (edit.lastSeq !== undefined) this.lastSeq = edit.lastSeq;
    }
    this.current = new Version(levels.map((files, level) => sortLevel(level, files)));
    this.manifestNumber = num;
    if (this.nextFileNumber <= num) this.nextFileNumber = num + 1;
    return { found: true, tornTailOffset: read.tornTailOffset };
  }

  /** The edit that recreates the whole current state. */
  private snapshotEdit(): VersionEdit {
    return {
      logNumber: this.logNumber,
      nextFileNumber: this.nextFileNumber,
      lastSeq: this.lastSeq,
      added: this.current.levels.flatMap((files, level) => files.map((file) => ({ level, file }))),
    };
  }

  /**
   * Starts a new manifest holding the current state and points CURRENT at it; the previous
   * manifest is deleted. Used at open and when the manifest grows past its rollover size.
   */
  async rollManifest(): Promise<void> {
    const old = this.manifestNumber;
    this.manifest?.close();
    const num = this.newFileNumber();
    const name = manifestFileName(num);
    const file = this.fs.create(path.join(this.dir, name));
    file.append(frameManifestRecord(encodeEdit(this.snapshotEdit())));
    await file.sync();
    const tmp = path.join(this.dir, "CURRENT.tmp");
    if (this.fs.exists(tmp)) this.fs.unlink(tmp);
    const cur = this.fs.create(tmp);
    cur.append(Buffer.from(`${name}\n`, "latin1"));
    await cur.sync();
    cur.close();
    this.fs.rename(tmp, currentPath(this.dir));
    await this.fs.syncDir(this.dir);
    this.manifest = file;
    this.manifestNumber = num;
    if (old !== 0 && old !== num) {
      const oldPath = path.join(this.dir, manifestFileName(old));
      if (this.fs.exists(oldPath)) this.fs.unlink(oldPath);
    }
  }

  /**
   * Records `edit` durably in the manifest, then installs the resulting version. Edits are applied
   * one at a time, in call order.
   */
  logAndApply(edit: VersionEdit): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.manifest === null) throw new Error("lsmdoc/engine: manifest is not open");
      edit.nextFileNumber = this.nextFileNumber;
      const levels = this.current.levels.map((l) => [...l]);
      applyEdit(levels, edit);
      this.manifest.append(frameManifestRecord(encodeEdit(edit)));
      await this.manifest.sync();
      if (edit.logNumber !== undefined) this.logNumber = edit.logNumber;
      if (edit.lastSeq !== undefined && edit.lastSeq > this.lastSeq) this.lastSeq = edit.lastSeq;
      this.install(new Version(levels.map((files, level) => sortLevel(level, files))));
      if (this.manifest.size > MANIFEST_ROLLOVER_BYTES) await this.rollManifest();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private install(v: Version): void {
    const old = this.current;
    this.current = v;
    if (old.refs > 0) this.pinned.add(old);
  }

  /** Pins the current version for a reader. */
  ref(): Version {
    const v = this.current;
    v.refs++;
    return v;
  }

  /** Unpins `v`; returns true when some files may have become deletable. */
  unref(v: Version): boolean {
    v.refs--;
    if (v.refs === 0 && v !== this.current) {
      this.pinned.delete(v);
      return true;
    }
    return false;
  }

  /** File numbers named by the current version or any pinned one. */
  liveTableNumbers(): Set<number> {
    const live = new Set(this.current.fileNumbers());
    for (const v of this.pinned) for (const n of v.fileNumbers()) live.add(n);
    return live;
  }

  get manifestFileNumber(): number {
    return this.manifestNumber;
  }

  get manifestBytes(): number {
    return this.manifest?.size ?? 0;
  }

  close(): void {
    this.manifest?.close();
    this.manifest = null;
  }
}

/** Applies `edit` to `levels` in place; throws when it names files inconsistently. */
function applyEdit(levels: FileMeta[][], edit: VersionEdit): void {
  for (const d of edit.deleted ?? []) {
    const files = levels[d.level];
    const i = files ? files.findIndex((f) => f.number === d.number) : -1;
    if (i < 0) throw new Error(`version edit removes table ${d.number} from level ${d.level}, where it is not`);
    files!.splice(i, 1);
  }
  for (const { level, file } of edit.added ?? []) {
    if (level < 0 || level >= NUM_LEVELS) throw new Error(`version edit adds table ${file.number} to level ${level}`);
    levels[level]!.push(file);
  }
}
