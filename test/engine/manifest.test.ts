/**
 * The manifest: version edits and their framing, and what the engine does with the manifest and
 * CURRENT at open.
 *
 * - Version edits round-trip through encode/decode (random edits, every field combination), and a
 *   damaged edit fails to decode with DecodeError rather than decoding to something else.
 * - Framing: a torn tail (the last record cut short) is tolerated; damage followed by a valid
 *   record is CorruptionError(file, offset of the damage).
 * - At open, on a real directory: the last record cut at every byte opens with the earlier state
 *   intact; damage before a valid record refuses to open with
 *   CorruptionError naming the manifest and the record's offset; a directory holding only
 *   lsmdb-style logs (no CURRENT) opens and replays them; CURRENT naming a missing manifest, or
 *   not naming a manifest at all, is CorruptionError; tables the manifest does not name, temp
 *   tables and stale manifests are removed; a cleanly ended manifest is continued (open writes
 *   nothing to it, later edits are appended), while one that ended torn or grew past its rollover
 *   size is rewritten as one snapshot edit that CURRENT then names; a record that a crashed process
 *   appended without syncing is made durable before open deletes files on its word; a reopen
 *   after a clean close replays no records, and close leaves no log behind.
 *
 * The torn-tail cases rebuild the directory a crash during a manifest append would leave: the new
 * table is in sst/ (tables are synced before the edit), the edit is cut, and nothing the edit made
 * obsolete has been deleted yet (deletion only follows a synced edit).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { CorruptionError, Engine } from "../../engine/index.js";
import type { FileLock, FileSystem, RandomAccessFile, WritableFile } from "../../engine/fs/fs.js";
import { MemFs } from "../../engine/fs/mem-fs.js";
import { nodeFs } from "../../engine/fs/node-fs.js";
import { frameManifestRecord, MANIFEST_HEADER_SIZE, readManifestRecords } from "../../engine/manifest/manifest-log.js";
import { decodeEdit, encodeEdit, type FileMeta, type VersionEdit } from "../../engine/manifest/version-edit.js";
import { DecodeError } from "../../engine/util/coding.js";
import { LogWriter } from "../../engine/wal/log-writer.js";
import { encodeRecord, EntryKind } from "../../engine/wal/record.js";
import { scan, useScratch } from "../fixtures/harness.js";
import { hex, KvModel, utf8, type ModelEntry } from "../fixtures/kv-model.js";
import { Rng, testSeeds } from "../fixtures/random.js";

const scratch = useScratch();

// ---------------------------------------------------------------- helpers

function randomMeta(rng: Rng): FileMeta {
  const big = (): number => rng.pick([0, 1, 127, 128, 16_383, 16_384, 2 ** 32, Number.MAX_SAFE_INTEGER, rng.int(1_000_000)]);
  return {
    number: big(),
    size: big(),
    entries: big(),
    smallestKey: rng.bytes(rng.pick([0, 1, 5, 200])),
    smallestSeq: big(),
    largestKey: rng.bytes(rng.pick([0, 1, 7, 300])),
    largestSeq: big(),
  };
}

function randomEdit(rng: Rng): VersionEdit {
  const edit: VersionEdit = {};
  if (rng.chance(0.5)) edit.logNumber = rng.int(100_000);
  if (rng.chance(0.5)) edit.nextFileNumber = rng.pick([1, 2 ** 40, rng.int(1 << 30)]);
  if (rng.chance(0.5)) edit.lastSeq = rng.pick([0, Number.MAX_SAFE_INTEGER, rng.int(1 << 30)]);
  if (rng.chance(0.5)) edit.deleted = Array.from({ length: rng.between(1, 5) }, () => ({ level: rng.int(7), number: rng.int(1 << 20) }));
  if (rng.chance(0.5)) edit.added = Array.from({ length: rng.between(1, 5) }, () => ({ level: rng.int(7), file: randomMeta(rng) }));
  return edit;
}

/** Replays a manifest's bytes the obvious way: table numbers per level. */
function replayLevels(bytes: Uint8Array, file: string): number[][] {
  const levels: number[][] = Array.from({ length: 7 }, () => []);
  const read = readManifestRecords(bytes, file, () => undefined);
  for (const { payload } of read.records) {
    const edit = decodeEdit(payload);
    for (const d of edit.deleted ?? []) levels[d.level] = levels[d.level]!.filter((n) => n !== d.number);
    for (const a of edit.added ?? []) levels[a.level]!.push(a.file.number);
  }
  return levels.map((l) => l.sort((a, b) => a - b));
}

/** Copies a database directory, leaving out the lock (the copy is a different database). */
function copyDb(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true, filter: (src) => path.basename(src) !== "LOCK" });
}

function manifestNames(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.startsWith("MANIFEST-"));
}

function currentName(dir: string): string {
  return fs.readFileSync(path.join(dir, "CURRENT"), "latin1").replace(/\n$/, "");
}

async function putAll(engine: Engine, model: KvModel, entries: ModelEntry[]): Promise<void> {
  await Promise.all(entries.map((e) => (e.value === undefined ? engine.delete(e.key) : engine.put(e.key, e.value))));
  model.apply(entries);
}

/**
 * A file system over `inner` that, once `lie` is set, pretends to sync manifests and to delete
 * files: the state a process leaves when it dies right after appending a manifest record.
 */
class UnsyncedManifestFs implements FileSystem {
  lie = false;
  constructor(private readonly inner: MemFs) {}
  mkdirp(dir: string): void {
    this.inner.mkdirp(dir);
  }
  list(dir: string): string[] {
    return this.inner.list(dir);
  }
  exists(p: string): boolean {
    return this.inner.exists(p);
  }
  fileSize(p: string): number {
    return this.inner.fileSize(p);
  }
  create(p: string): WritableFile {
    return this.wrap(p, this.inner.create(p));
  }
  openAppend(p: string): WritableFile {
    return this.wrap(p, this.inner.openAppend(p));
  }
  openRead(p: string): RandomAccessFile {
    return this.inner.openRead(p);
  }
  readFile(p: string): Uint8Array {
    return this.inner.readFile(p);
  }
  rename(from: string, to: string): void {
    this.inner.rename(from, to);
  }
  unlink(p: string): void {
    if (!this.lie) this.inner.unlink(p);
  }
  truncate(p: string, length: number): void {
    this.inner.truncate(p, length);
  }
  syncDir(dir: string): Promise<void> {
    return this.inner.syncDir(dir);
  }
  lock(p: string, dir: string): FileLock {
    return this.inner.lock(p, dir);
  }
  private wrap(p: string, file: WritableFile): WritableFile {
    const manifest = path.basename(p).startsWith("MANIFEST-");
    return {
      append: (data) => file.append(data),
      sync: () => (this.lie && manifest ? Promise.resolve() : file.sync()),
      get size() {
        return file.size;
      },
      close: () => file.close(),
    };
  }
}

function keyed(prefix: string, n: number, value: (i: number) => Uint8Array | undefined): ModelEntry[] {
  return Array.from({ length: n }, (_, i) => ({ key: utf8(`${prefix}${String(i).padStart(4, "0")}`), value: value(i) }));
}

// ---------------------------------------------------------------- version edits

describe("version edits", () => {
  for (const seed of testSeeds(2)) {
    it(`round-trip through encode/decode (seed ${seed})`, () => {
      const rng = new Rng(seed);
      for (let i = 0; i < 500; i++) {
        const edit = randomEdit(rng);
        const bytes = encodeEdit(edit);
        expect(decodeEdit(bytes), `seed=${seed} edit #${i}`).toEqual(edit);
        // Encoding is a function of the edit: encoding the decoded edit gives the same bytes.
        expect(encodeEdit(decodeEdit(bytes)), `seed=${seed} edit #${i} re-encoded`).toEqual(bytes);
      }
    });

    it(`a cut edit fails to decode or decodes to a prefix of its fields, never to other values (seed ${seed})`, () => {
      const rng = new Rng(seed);
      for (let i = 0; i < 200; i++) {
        const edit = randomEdit(rng);
        const bytes = encodeEdit(edit);
        if (bytes.length === 0) continue;
        const cut = rng.int(bytes.length);
        let decoded: VersionEdit;
        try {
          decoded = decodeEdit(bytes.subarray(0, cut));
        } catch (err) {
          expect(err, `seed=${seed} edit #${i} cut at ${cut}`).toBeInstanceOf(DecodeError);
          continue;
        }
        // A cut between fields decodes to the fields before it; each of those equals the original.
        for (const k of ["logNumber", "nextFileNumber", "lastSeq"] as const) {
          if (decoded[k] !== undefined) expect(decoded[k], `seed=${seed} edit #${i} cut at ${cut}: ${k}`).toBe(edit[k]);
        }
        expect(edit.deleted?.slice(0, decoded.deleted?.length ?? 0) ?? [], `seed=${seed} #${i} deleted`).toEqual(decoded.deleted ?? []);
        expect(edit.added?.slice(0, decoded.added?.length ?? 0) ?? [], `seed=${seed} #${i} added`).toEqual(decoded.added ?? []);
      }
    });
  }

  it("an unknown tag is a DecodeError naming its offset", () => {
    const bytes = Uint8Array.of(...encodeEdit({ logNumber: 5 }), 9, 1);
    expect(() => decodeEdit(bytes)).toThrow(DecodeError);
    expect(() => decodeEdit(bytes)).toThrow(/tag 9/);
  });

  it("the empty edit is zero bytes and decodes to no fields", () => {
    expect(encodeEdit({}).length).toBe(0);
    expect(decodeEdit(new Uint8Array(0))).toEqual({});
  });
});

// ---------------------------------------------------------------- framing

describe("manifest framing", () => {
  const FILE = "/db/MANIFEST-000009";
  const payloads = [encodeEdit({ logNumber: 3, nextFileNumber: 9, lastSeq: 40 }), encodeEdit({ lastSeq: 41 }), encodeEdit({ deleted: [{ level: 0, number: 4 }] })];
  const framed = payloads.map(frameManifestRecord);
  const whole = Buffer.concat(framed);
  const offsets = framed.map((_, i) => framed.slice(0, i).reduce((n, f) => n + f.length, 0));
  const lastAt = offsets[offsets.length - 1]!;
  const accept = (): undefined => undefined;

  it("reads every record and its offset", () => {
    const read = readManifestRecords(whole, FILE, accept);
    expect(read.records.map((r) => [r.offset, Buffer.from(r.payload).toString("hex")])).toEqual(offsets.map((o, i) => [o, hex(payloads[i]!)]));
    expect(read.tornTailOffset).toBeUndefined();
    expect(read.validLength).toBe(whole.length);
  });

  it("a cut at every byte of the last record is a torn tail at its offset", () => {
    for (let cut = lastAt + 1; cut < whole.length; cut++) {
      const read = readManifestRecords(whole.subarray(0, cut), FILE, accept);
      expect(read.records.length, `cut at ${cut}`).toBe(payloads.length - 1);
      expect(read.tornTailOffset, `cut at ${cut}`).toBe(lastAt);
      expect(read.validLength, `cut at ${cut}`).toBe(lastAt);
    }
  });

  it("a flipped bit in an earlier record is CorruptionError naming the file and that record's offset", () => {
    for (let at = 0; at < lastAt; at++) {
      const bytes = Uint8Array.from(whole);
      bytes[at]! ^= 0x10;
      const record = offsets.filter((o) => o <= at).pop()!;
      let caught: unknown;
      try {
        readManifestRecords(bytes, FILE, accept);
      } catch (err) {
        caught = err;
      }
      expect(caught, `byte ${at}`).toBeInstanceOf(CorruptionError);
      expect((caught as CorruptionError).file, `byte ${at}`).toBe(FILE);
      expect((caught as CorruptionError).offset, `byte ${at}`).toBe(record);
    }
  });

  it("a well-framed record the caller rejects counts as damage", () => {
    const rejectFirst = (p: Uint8Array): string | undefined => (hex(p) === hex(payloads[0]!) ? "bad edit" : undefined);
    expect(() => readManifestRecords(whole, FILE, rejectFirst)).toThrow(CorruptionError);
    expect(() => readManifestRecords(whole, FILE, rejectFirst)).toThrow(/offset 0: bad edit/);
  });

  it("an empty file holds no records and no torn tail", () => {
    expect(readManifestRecords(new Uint8Array(0), FILE, accept)).toEqual({ records: [], tornTailOffset: undefined, validLength: 0 });
  });

  it(`a second record shorter than the ${MANIFEST_HEADER_SIZE}-byte header is a torn tail; a cut first record is corruption`, () => {
    // The first record of a manifest is synced before CURRENT names the file: it is never torn.
    const two = new Uint8Array(whole.length * 2);
    two.set(whole, 0);
    two.set(whole, whole.length);
    for (let cut = 1; cut < MANIFEST_HEADER_SIZE; cut++) {
      expect(readManifestRecords(two.subarray(0, whole.length + cut), FILE, accept).tornTailOffset, `cut ${cut}`).toBe(whole.length);
      expect(() => readManifestRecords(whole.subarray(0, cut), FILE, accept), `first record cut at ${cut}`).toThrow(CorruptionError);
    }
  });
});

// ---------------------------------------------------------------- the manifest at open

/**
 * A database whose manifest ends in a flush edit, plus a copy of the directory as it was just
 * before that flush (the log holding the flushed writes still present).
 */
async function buildFlushScenario(): Promise<{
  post: string;
  pre: string;
  model: KvModel;
  manifestName: string;
  manifest: Uint8Array;
  records: Array<{ offset: number; length: number }>;
  newTables: string[];
}> {
  const post = scratch.dir();
  const model = new KvModel();
  let engine = await Engine.open(post, { memtableSize: 64 * 1024 });
  await putAll(engine, model, keyed("a", 300, (i) => utf8(`first-${i}`.repeat(4))));
  await engine.close();

  engine = await Engine.open(post, { memtableSize: 64 * 1024 });
  await putAll(engine, model, keyed("b", 50, (i) => utf8(`second-${i}`)));
  await engine.flush();
  await putAll(engine, model, [...keyed("a", 20, () => undefined), ...keyed("c", 30, (i) => utf8(`third-${i}`))]);
  const pre = scratch.dir();
  copyDb(post, pre);
  const tablesBefore = new Set(fs.readdirSync(path.join(post, "sst")));
  await engine.flush();
  const manifestName = path.basename(engine.stats().manifest.file);
  await engine.close();

  const manifest = new Uint8Array(fs.readFileSync(path.join(post, manifestName)));
  const read = readManifestRecords(manifest, manifestName, () => undefined);
  const records = read.records.map((r) => ({ offset: r.offset, length: MANIFEST_HEADER_SIZE + r.payload.length }));
  const newTables = fs.readdirSync(path.join(post, "sst")).filter((n) => !tablesBefore.has(n));
  return { post, pre, model, manifestName, manifest, records, newTables };
}

/** The directory a crash leaves when the manifest's last record is `bytes` instead of complete. */
function crashedCopy(s: Awaited<ReturnType<typeof buildFlushScenario>>, manifest: Uint8Array): string {
  const dir = scratch.dir();
  copyDb(s.pre, dir);
  for (const t of s.newTables) fs.copyFileSync(path.join(s.post, "sst", t), path.join(dir, "sst", t));
  fs.writeFileSync(path.join(dir, s.manifestName), manifest);
  return dir;
}

describe("the manifest at open", () => {
  it("tolerates the last record cut at every byte, or zero-filled, with the earlier state intact", async () => {
    const s = await buildFlushScenario();
    // The manifest is continued across the reopen: the first open's snapshot, the flush at the
    // first close, then the two flushes of the second session.
    expect(s.records.length, "records: the snapshot at the first open, the flush at close, a flush, a flush").toBe(4);
    expect(s.newTables.length, "the last flush wrote one table").toBe(1);
    const last = s.records[s.records.length - 1]!;
    expect(last.offset + last.length).toBe(s.manifest.length);
    const expected = s.model.scan();

    const cases: Array<{ what: string; bytes: Uint8Array; torn: boolean }> = [];
    for (let cut = last.offset; cut < s.manifest.length; cut++) {
      cases.push({ what: `cut at ${cut}`, bytes: s.manifest.subarray(0, cut), torn: cut > last.offset });
    }
    // A file whose size grew before the appended record reached the disk reads as zeros there.
    cases.push({ what: "last record zero-filled", bytes: Uint8Array.from(s.manifest).fill(0, last.offset), torn: true });
    for (const c of cases) {
      const dir = crashedCopy(s, c.bytes);
      const engine = scratch.track(await Engine.open(dir));
      const st = engine.stats();
      expect(st.recovery.manifestTornTail, c.what).toBe(c.torn ? last.offset : undefined);
      // The cut flush never happened: its writes come back from the log, its table is an orphan.
      expect(st.recovery.recordsReplayed, c.what).toBe(50);
      expect(fs.existsSync(path.join(dir, "sst", s.newTables[0]!)), `${c.what}: orphan table removed`).toBe(false);
      expect(await scan(engine), c.what).toEqual(expected);
      await engine.verify();
      await engine.close();
    }

    // The complete manifest: the flush happened, nothing to replay.
    const engine = scratch.track(await Engine.open(crashedCopy(s, s.manifest)));
    expect(engine.stats().recovery.manifestTornTail).toBeUndefined();
    expect(engine.stats().recovery.recordsReplayed).toBe(0);
    expect(await scan(engine)).toEqual(expected);
    await engine.close();
  });

  it("refuses to open when damage is followed by a valid record, naming the manifest and the record's offset", async () => {
    const s = await buildFlushScenario();
    for (const [i, r] of s.records.slice(0, -1).entries()) {
      for (const at of [r.offset, r.offset + 4, r.offset + MANIFEST_HEADER_SIZE, r.offset + r.length - 1]) {
        const bytes = Uint8Array.from(s.manifest);
        bytes[at]! ^= 0x80;
        const dir = crashedCopy(s, bytes);
        const err = await Engine.open(dir).then(
          (e) => {
            scratch.track(e);
            return undefined;
          },
          (e: unknown) => e,
        );
        expect(err, `record ${i}, byte ${at}`).toBeInstanceOf(CorruptionError);
        expect((err as CorruptionError).file, `record ${i}, byte ${at}`).toBe(path.join(dir, s.manifestName));
        expect((err as CorruptionError).offset, `record ${i}, byte ${at}`).toBe(r.offset);
        // Nothing was deleted or rewritten: the damaged manifest and every table are still there.
        expect(currentName(dir)).toBe(s.manifestName);
        expect(fs.readdirSync(path.join(dir, "sst")).length).toBeGreaterThan(0);
        // And the lock was released: a second attempt fails the same way, not with DatabaseLockedError.
        await expect(Engine.open(dir)).rejects.toBeInstanceOf(CorruptionError);
      }
    }
  });

  it("refuses an edit that removes a table its level does not hold, naming that record's offset", async () => {
    const s = await buildFlushScenario();
    const bogus = frameManifestRecord(encodeEdit({ deleted: [{ level: 3, number: 999_999 }] }));
    const valid = frameManifestRecord(encodeEdit({ lastSeq: 1 }));
    const bytes = Buffer.concat([s.manifest, bogus, valid]);
    const dir = crashedCopy(s, bytes);
    const err = await Engine.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptionError);
    expect((err as CorruptionError).file).toBe(path.join(dir, s.manifestName));
    expect((err as CorruptionError).offset).toBe(s.manifest.length);
  });

  it("refuses a framed record that is not a version edit when a valid record follows", async () => {
    const s = await buildFlushScenario();
    const bytes = Buffer.concat([s.manifest, frameManifestRecord(Uint8Array.of(0x42, 0x00)), frameManifestRecord(encodeEdit({ lastSeq: 1 }))]);
    const dir = crashedCopy(s, bytes);
    const err = await Engine.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptionError);
    expect((err as CorruptionError).offset).toBe(s.manifest.length);
    expect((err as CorruptionError).message).toMatch(/version edit/);
  });

  it("opens a directory holding only lsmdb-style logs (no CURRENT) and replays them in order", async () => {
    const dir = scratch.dir();
    fs.mkdirSync(path.join(dir, "wal"));
    const model = new KvModel();
    let seq = 0;
    for (const num of [1, 4]) {
      const file = nodeFs.create(path.join(dir, "wal", `${String(num).padStart(5, "0")}.log`));
      const log = new LogWriter(file);
      for (let i = 0; i < 40; i++) {
        const key = utf8(`k${i % 25}`);
        const del = num === 4 && i % 7 === 0;
        const value = del ? new Uint8Array(0) : utf8(`log${num}-${i}`);
        log.addRecord(encodeRecord(++seq, [{ kind: del ? EntryKind.Delete : EntryKind.Put, key, value }]));
        model.apply([{ key, value: del ? undefined : value }]);
      }
      log.writePending();
      await log.sync();
      log.close();
    }
    let engine = scratch.track(await Engine.open(dir));
    const st = engine.stats();
    expect(st.recovery.logsReplayed).toBe(2);
    expect(st.recovery.recordsReplayed).toBe(80);
    expect(st.seq).toBe(80);
    expect(await scan(engine)).toEqual(model.scan());
    expect(fs.existsSync(path.join(dir, "CURRENT"))).toBe(true);
    expect(manifestNames(dir)).toEqual([currentName(dir)]);
    expect(await engine.put(utf8("new"), utf8("x"))).toBe(81);
    model.apply([{ key: utf8("new"), value: utf8("x") }]);
    await engine.close();

    engine = scratch.track(await Engine.open(dir));
    expect(engine.stats().seq).toBe(81);
    expect(await scan(engine)).toEqual(model.scan());
    await engine.close();
  });

  it("CURRENT naming a missing manifest, or naming no manifest, is CorruptionError naming CURRENT", async () => {
    const dir = scratch.dir();
    const engine = await Engine.open(dir);
    await engine.put(utf8("k"), utf8("v"));
    await engine.close();
    const name = currentName(dir);
    fs.renameSync(path.join(dir, name), path.join(dir, `${name}.moved`));
    let err = await Engine.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptionError);
    expect((err as CorruptionError).file).toBe(path.join(dir, "CURRENT"));
    expect((err as CorruptionError).message).toContain(name);
    fs.renameSync(path.join(dir, `${name}.moved`), path.join(dir, name));

    for (const content of ["", "\n", "MANIFEST-\n", "garbage\n", "../MANIFEST-000001\n"]) {
      const copy = scratch.dir();
      copyDb(dir, copy);
      fs.writeFileSync(path.join(copy, "CURRENT"), content);
      err = await Engine.open(copy).catch((e: unknown) => e);
      expect(err, JSON.stringify(content)).toBeInstanceOf(CorruptionError);
      expect((err as CorruptionError).file).toBe(path.join(copy, "CURRENT"));
    }
    // Undamaged again: opens with the data.
    const again = scratch.track(await Engine.open(dir));
    expect(Buffer.from((await again.get(utf8("k")))!).toString()).toBe("v");
  });

  it("refuses to open, deleting nothing, when CURRENT is missing but tables exist", async () => {
    const dir = scratch.dir();
    const engine = await Engine.open(dir);
    await engine.put(utf8("k"), utf8("v"));
    await engine.close(); // close() flushes: one table in sst/
    const tables = fs.readdirSync(path.join(dir, "sst"));
    expect(tables.length).toBeGreaterThan(0);
    fs.unlinkSync(path.join(dir, "CURRENT"));
    const err = await Engine.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptionError);
    expect((err as CorruptionError).file).toBe(path.join(dir, "CURRENT"));
    expect(fs.readdirSync(path.join(dir, "sst"))).toEqual(tables);
  });

  it("opens when CURRENT is missing beside a manifest but no table (a crash during the first open)", async () => {
    const dir = scratch.dir();
    const engine = await Engine.open(dir);
    await engine.put(utf8("k"), utf8("v"), { sync: true });
    // Simulate the crash: the log and a manifest exist, CURRENT was never renamed into place.
    const copy = scratch.dir();
    copyDb(dir, copy);
    await engine.close();
    fs.rmSync(path.join(copy, "CURRENT"));
    fs.rmSync(path.join(copy, "LOCK"), { force: true });
    for (const t of fs.readdirSync(path.join(copy, "sst"))) fs.rmSync(path.join(copy, "sst", t));
    const again = scratch.track(await Engine.open(copy));
    expect(Buffer.from((await again.get(utf8("k")))!).toString()).toBe("v");
  });

  it("removes tables the manifest does not name, temp tables, a temp CURRENT and stale manifests", async () => {
    const dir = scratch.dir();
    const model = new KvModel();
    let engine = await Engine.open(dir);
    await putAll(engine, model, keyed("k", 200, (i) => utf8(`v${i}`)));
    await engine.flush();
    await putAll(engine, model, keyed("k", 100, (i) => utf8(`w${i}`)));
    await engine.close();
    const live = fs.readdirSync(path.join(dir, "sst"));
    expect(live.length).toBeGreaterThan(0);
    const liveNumbers = replayLevels(fs.readFileSync(path.join(dir, currentName(dir))), "m").flat();
    expect(live.map((n) => Number(n.slice(0, -4))).sort((a, b) => a - b)).toEqual([...liveNumbers].sort((a, b) => a - b));

    // Leftovers: an orphan table (with a copy of a live table's bytes, so only the manifest can
    // tell), a temp table, a temp CURRENT, an old manifest, and a file numbered above them all.
    const orphan = "000900.sst";
    fs.copyFileSync(path.join(dir, "sst", live[0]!), path.join(dir, "sst", orphan));
    fs.writeFileSync(path.join(dir, "sst", "000950.sst"), "not a table");
    fs.writeFileSync(path.join(dir, "000960.sst.tmp"), "half a table");
    fs.writeFileSync(path.join(dir, "CURRENT.tmp"), "MANIFEST-000970\n");
    fs.writeFileSync(path.join(dir, "MANIFEST-000001"), "stale"); // Number 1 went to the first log.

    engine = scratch.track(await Engine.open(dir));
    expect(fs.readdirSync(path.join(dir, "sst")).sort()).toEqual([...live].sort());
    const top = fs.readdirSync(dir).filter((n) => n !== "LOCK").sort();
    expect(top).toEqual(["CURRENT", currentName(dir), "sst", "wal"].sort());
    expect(await scan(engine)).toEqual(model.scan());
    // File numbers are never reused: the next table is numbered above every leftover.
    await engine.put(utf8("z"), utf8("z"));
    await engine.flush();
    const newest = Math.max(...fs.readdirSync(path.join(dir, "sst")).map((n) => Number(n.slice(0, -4))));
    expect(newest).toBeGreaterThan(960);
    await engine.close();
  });

  it("continues a cleanly ended manifest at open, writing nothing to it; a flush then appends its edit", async () => {
    const dir = scratch.dir();
    const model = new KvModel();
    let engine = await Engine.open(dir, { memtableSize: 8192 });
    for (let round = 0; round < 6; round++) {
      await putAll(engine, model, keyed(`r${round % 3}`, 120, (i) => (i % 5 === round ? undefined : utf8(`v${round}-${i}`))));
      await engine.flush();
    }
    // Everything in the last level: no compaction is due at the next open, whose edit would race
    // the flush edit counted below.
    await engine.compact();
    await engine.close();
    const name = currentName(dir);
    const before = new Uint8Array(fs.readFileSync(path.join(dir, name)));
    const beforeLevels = replayLevels(before, name);

    engine = scratch.track(await Engine.open(dir));
    expect(currentName(dir)).toBe(name);
    expect(manifestNames(dir)).toEqual([name]);
    expect(path.basename(engine.stats().manifest.file)).toBe(name);
    expect(hex(fs.readFileSync(path.join(dir, name))), "open wrote nothing to the manifest").toBe(hex(before));
    expect(engine.stats().levels.map((l) => l.files)).toEqual(beforeLevels.map((l) => l.length));
    expect(await scan(engine)).toEqual(model.scan());

    await putAll(engine, model, keyed("new", 50, (i) => utf8(`n${i}`)));
    await engine.flush();
    const after = new Uint8Array(fs.readFileSync(path.join(dir, name)));
    expect(hex(after.subarray(0, before.length)), "earlier records untouched").toBe(hex(before));
    const appended = readManifestRecords(after.subarray(before.length), name, () => undefined).records;
    expect(appended.length, "one edit appended").toBe(1);
    expect(decodeEdit(appended[0]!.payload).added?.length).toBe(1);
    await engine.close();

    engine = scratch.track(await Engine.open(dir));
    expect(currentName(dir)).toBe(name);
    expect(await scan(engine)).toEqual(model.scan());
    await engine.verify();
  });

  it("rewrites a manifest that ended torn, or grew past its rollover size, at open as one snapshot edit of the same tables", async () => {
    const dir = scratch.dir();
    const model = new KvModel();
    let engine = await Engine.open(dir, { memtableSize: 8192 });
    for (let round = 0; round < 4; round++) {
      await putAll(engine, model, keyed(`r${round % 3}`, 120, (i) => utf8(`v${round}-${i}`)));
      await engine.flush();
    }
    // No compaction due at the reopens below: its edit would race the reading of the rewritten manifest.
    await engine.compact();
    const seq = engine.stats().seq;
    await engine.close();
    const name = currentName(dir);
    const bytes = new Uint8Array(fs.readFileSync(path.join(dir, name)));
    const levels = replayLevels(bytes, name);
    const noop = frameManifestRecord(encodeEdit({ lastSeq: seq }));
    const cases = [
      { what: "torn tail", tail: noop.subarray(0, noop.length - 3) },
      // Edits that change nothing, past the rollover size (64 KiB for a manifest this small).
      { what: "past 512 KiB", tail: Buffer.concat(Array.from({ length: Math.ceil((512 * 1024) / noop.length) }, () => noop)) },
    ];
    for (const c of cases) {
      const copy = scratch.dir();
      copyDb(dir, copy);
      fs.appendFileSync(path.join(copy, name), c.tail);
      engine = scratch.track(await Engine.open(copy));
      const after = currentName(copy);
      expect(Number(after.slice("MANIFEST-".length)), c.what).toBeGreaterThan(Number(name.slice("MANIFEST-".length)));
      expect(manifestNames(copy), `${c.what}: the old manifest is removed`).toEqual([after]);
      expect(path.basename(engine.stats().manifest.file)).toBe(after);
      const written = fs.readFileSync(path.join(copy, after));
      const records = readManifestRecords(written, after, () => undefined).records;
      expect(records.length, c.what).toBe(1);
      const snapshot = decodeEdit(records[0]!.payload);
      expect(snapshot.lastSeq, c.what).toBe(engine.stats().seq);
      expect(snapshot.nextFileNumber, c.what).toBeGreaterThan(Number(after.slice("MANIFEST-".length)));
      expect(replayLevels(written, after), c.what).toEqual(levels);
      expect(await scan(engine), c.what).toEqual(model.scan());
      await engine.verify();
      await engine.close();
    }
  });

  it("makes a record a crashed process appended without syncing durable before open deletes the files it retired", async () => {
    // The first session's last flush edit is appended but its sync never happens, and the log that
    // edit retires is still there: what a crash between the append and the sync leaves (the
    // process died; the page cache kept the record). The next open reads the record, so it deletes
    // that log; a power loss after that must not take the record back, or the writes are gone.
    const memFs = new MemFs();
    const lying = new UnsyncedManifestFs(memFs);
    const model = new KvModel();
    const first = await Engine.open("/db", { fs: lying });
    await putAll(first, model, keyed("k", 40, (i) => utf8(`v${i}`)));
    lying.lie = true; // From here: manifest syncs and deletions do nothing.
    await first.close();
    expect(memFs.list("/db/wal").length, "the retired log is still there").toBeGreaterThan(0);

    const second = await Engine.open("/db", { fs: memFs });
    expect(second.stats().recovery.recordsReplayed, "the unsynced edit was read: no log replayed").toBe(0);
    expect(memFs.list("/db/wal").length, "open deleted the retired log, kept the new one").toBe(1);
    // A synced write makes the log directory durable, and with it the deletion.
    await second.put(utf8("after"), utf8("x"));
    model.apply([{ key: utf8("after"), value: utf8("x") }]);
    memFs.crash();

    const third = scratch.track(await Engine.open("/db", { fs: memFs }));
    expect(await scan(third)).toEqual(model.scan());
    await third.verify();
  });

  it("after a clean close, a reopen replays no records and starts with an empty memtable", async () => {
    const dir = scratch.dir();
    const model = new KvModel();
    let engine = await Engine.open(dir, { memtableSize: 16 * 1024 });
    await putAll(engine, model, keyed("k", 500, (i) => utf8(`value-${i}`.repeat(3))));
    expect(engine.stats().memtable.entries).toBeGreaterThan(0);
    await engine.close();
    for (let i = 0; i < 3; i++) {
      engine = scratch.track(await Engine.open(dir, { memtableSize: 16 * 1024 }));
      const st = engine.stats();
      expect(st.recovery.recordsReplayed, `reopen ${i}`).toBe(0);
      expect(st.memtable.entries, `reopen ${i}`).toBe(0);
      // Close deletes the log it was writing once its records are in a table.
      expect(st.recovery.logsReplayed, `reopen ${i}`).toBe(0);
      expect(fs.readdirSync(path.join(dir, "wal")).length, `reopen ${i}: the new log`).toBe(1);
      expect(await scan(engine), `reopen ${i}`).toEqual(model.scan());
      if (i === 1) await putAll(engine, model, keyed("k", 50, (j) => utf8(`again-${j}`)));
      await engine.close();
      expect(fs.readdirSync(path.join(dir, "wal")), `close ${i}: logs on disk`).toEqual([]);
    }
  });
});
