/**
 * The version set: the current {@link Version}, the engine's persistent counters, and the manifest
 * that records them (after LevelDB's VersionSet).
 *
 * Durability protocol. A change (flush, compaction) is described as a {@link VersionEdit}, appended
 * to the manifest and fdatasync'ed, and only then installed as the current version. Files the
 * manifest does not name are not live.
 *
 * At open the manifest named by CURRENT is replayed and, when it ended cleanly and is below the
 * rollover size, new edits are appended to it: open writes nothing to it. Otherwise (no manifest,
 * a torn tail, which an append must never follow, or a large one) a fresh manifest holding one
 * snapshot edit is written (new file, sync, CURRENT replaced by temp file, sync, rename, directory
 * sync); the same rollover happens when a manifest grows past the rollover size.
 *
 * A continued manifest was written by an earlier process, which may have crashed after appending
 * a record but before syncing it, or after renaming CURRENT but before syncing the directory: what
 * recovery read may not be durable yet. Nothing may be deleted on its word until
 * {@link VersionSet.syncRecovered} made it so (a rolled manifest is durable when written).
 */
import * as path from "node:path";
import { CorruptionError } from "../errors.js";
import type { FileSystem, WritableFile } from "../fs/fs.js";
import { currentPath, manifestFileName, parseManifestFileName } from "../filenames.js";
import { DecodeError } from "../util/coding.js";
import { frameManifestRecord, readManifestRecords } from "../manifest/manifest-log.js";
import { decodeEdit, encodeEdit, type FileMeta, type VersionEdit } from "../manifest/version-edit.js";
import { NUM_LEVELS, sortLevel, Version } from "./version.js";

/**
 * A manifest is rewritten as a single snapshot edit once it is longer than this, or than
 * {@link ROLLOVER_SNAPSHOTS} times its snapshot if that is more. Every open replays the whole
 * manifest (up to about a millisecond per 64 KiB of edits), and a rewrite costs three syncs,
 * off the event loop; a manifest whose snapshot alone is large rolls proportionally less often.
 */
const MANIFEST_ROLLOVER_BYTES = 64 * 1024;
const ROLLOVER_SNAPSHOTS = 4;

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
  /** Size past which the manifest is rolled (see {@link MANIFEST_ROLLOVER_BYTES}). */
  private rolloverBytes = MANIFEST_ROLLOVER_BYTES;
  /** Size of the recovered manifest and whether it ended in a torn tail (see `openManifest`). */
  private recovered: { bytes: number; torn: boolean } | null = null;
  /** The manifest and CURRENT were recovered, not written by this process, and not synced since. */
  private recoveredUnsynced = false;
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
    this.recovered = { bytes: data.length, torn: read.tornTailOffset !== undefined };
    return { found: true, tornTailOffset: read.tornTailOffset };
  }

  /**
   * After {@link recover}: continues the recovered manifest when it ended cleanly and is at most the
   * rollover size (nothing is written), and otherwise starts a new one with {@link rollManifest}.
   * Returns true when it wrote a new manifest.
   */
  async openManifest(): Promise<boolean> {
    const r = this.recovered;
    this.recovered = null;
    this.setRolloverSize(encodeEdit(this.snapshotEdit()).length);
    if (r !== null && !r.torn && r.bytes <= this.rolloverBytes) {
      this.manifest = this.fs.openAppend(path.join(this.dir, manifestFileName(this.manifestNumber)));
      this.recoveredUnsynced = true;
      return false;
    }
    await this.rollManifest();
    return true;
  }

  /**
   * Makes a continued manifest and the CURRENT naming it durable (fdatasync, directory sync), once;
   * called before the first file is deleted because of what recovery read from them.
   */
  async syncRecovered(): Promise<void> {
    if (!this.recoveredUnsynced || this.manifest === null) return;
    await this.manifest.sync();
    await this.fs.syncDir(this.dir);
    this.recoveredUnsynced = false;
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
    const snapshot = frameManifestRecord(encodeEdit(this.snapshotEdit()));
    this.setRolloverSize(snapshot.length);
    file.append(snapshot);
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
    this.recoveredUnsynced = false;
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
      if (this.manifest.size > this.rolloverBytes) await this.rollManifest();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private setRolloverSize(snapshotBytes: number): void {
    this.rolloverBytes = Math.max(MANIFEST_ROLLOVER_BYTES, ROLLOVER_SNAPSHOTS * snapshotBytes);
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
