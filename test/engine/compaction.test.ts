/**
 * Compaction as a user of the engine sees it, on real temp directories:
 *
 * (a) disk usage falls to about the live data once overwritten versions and tombstones are
 *     compacted away, and deleted keys stay deleted after a reopen; a tombstone that still hides
 *     an older value in a deeper level survives a compaction that cannot see that level's data;
 * (b) a snapshot held across compact() keeps seeing old versions and deleted keys; once it is
 *     released, compacting again removes them from disk;
 * (c) with a small memtable and a long write load, level 0 never grows past the stop trigger,
 *     every level >= 1 (read back from the manifest on disk, and from the tables themselves) is
 *     sorted and non-overlapping, and every key reads back;
 * (d) obsolete tables and logs are deleted: sst/ holds exactly the live tables, except that an
 *     iterator open across a compaction keeps its tables (and reads them correctly) until it is
 *     closed;
 * (e) the event loop keeps turning while compactions run (p99 delay printed, not asserted).
 *
 * Plus the picker's choices on hand-built versions.
 */
import * as fs from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { Engine, LsmdocError } from "../../engine/index.js";
import { nodeFs } from "../../engine/fs/node-fs.js";
import { CompactionPicker, L0_COMPACTION_TRIGGER, L0_STOP_TRIGGER, maxBytesForLevel } from "../../engine/compaction/picker.js";
import { readManifestRecords } from "../../engine/manifest/manifest-log.js";
import { decodeEdit, type FileMeta } from "../../engine/manifest/version-edit.js";
import { TableReader } from "../../engine/sstable/table-reader.js";
import { compareBytes } from "../../engine/util/bytes.js";
import { NUM_LEVELS, Version } from "../../engine/version/version.js";
import { scan, settles, useScratch } from "../fixtures/harness.js";
import { hex, KvModel, utf8, numberedKey, taggedValue } from "../fixtures/kv-model.js";
import { Rng, testSeeds } from "../fixtures/random.js";

const scratch = useScratch();

// ---------------------------------------------------------------- helpers

function tableFiles(dir: string): string[] {
  return fs.readdirSync(path.join(dir, "sst")).filter((n) => n.endsWith(".sst")).sort();
}

function tableBytes(dir: string): number {
  return tableFiles(dir).reduce((n, f) => n + fs.statSync(path.join(dir, "sst", f)).size, 0);
}

function tableNumbers(dir: string): number[] {
  return tableFiles(dir).map((n) => Number(n.slice(0, -4)));
}

/**
 * The live tables per level, replayed from the manifest CURRENT names (retrying if the manifest
 * is replaced while being read).
 */
function manifestLevels(dir: string): FileMeta[][] {
  for (let attempt = 0; ; attempt++) {
    try {
      const name = fs.readFileSync(path.join(dir, "CURRENT"), "latin1").replace(/\n$/, "");
      const file = path.join(dir, name);
      const levels: FileMeta[][] = Array.from({ length: NUM_LEVELS }, () => []);
      for (const { payload } of readManifestRecords(fs.readFileSync(file), file, () => undefined).records) {
        const edit = decodeEdit(payload);
        for (const d of edit.deleted ?? []) levels[d.level] = levels[d.level]!.filter((f) => f.number !== d.number);
        for (const a of edit.added ?? []) levels[a.level]!.push(a.file);
      }
      return levels;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" || attempt > 10) throw err;
    }
  }
}

/** Asserts the shape invariants of `levels`; returns a description for messages. */
function checkShape(dir: string, levels: FileMeta[][], context: string): void {
  const onDisk = new Set(tableNumbers(dir));
  for (const [level, files] of levels.entries()) {
    for (const f of files) {
      expect(onDisk.has(f.number), `${context}: table ${f.number} of level ${level} is in sst/`).toBe(true);
      expect(compareBytes(f.smallestKey, f.largestKey), `${context}: table ${f.number} smallest <= largest`).toBeLessThanOrEqual(0);
    }
    if (level === 0) continue;
    const sorted = [...files].sort((a, b) => compareBytes(a.smallestKey, b.smallestKey));
    for (let i = 1; i < sorted.length; i++) {
      expect(
        compareBytes(sorted[i - 1]!.largestKey, sorted[i]!.smallestKey),
        `${context}: level ${level} tables ${sorted[i - 1]!.number} [${hex(sorted[i - 1]!.smallestKey)}..${hex(sorted[i - 1]!.largestKey)}] and ${sorted[i]!.number} [${hex(sorted[i]!.smallestKey)}..] overlap`,
      ).toBeLessThan(0);
    }
  }
}

/** Opens each table of `levels` and checks its own first/last key and entry count against the manifest. */
function checkTablesAgainstManifest(dir: string, levels: FileMeta[][], context: string): void {
  for (const files of levels) {
    for (const f of files) {
      const p = path.join(dir, "sst", `${String(f.number).padStart(6, "0")}.sst`);
      const t = TableReader.open(nodeFs.openRead(p), p, f.number);
      try {
        expect(hex(t.smallest.key), `${context}: table ${f.number} smallest`).toBe(hex(f.smallestKey));
        expect(t.smallest.seq, `${context}: table ${f.number} smallest seq`).toBe(f.smallestSeq);
        expect(hex(t.largest.key), `${context}: table ${f.number} largest`).toBe(hex(f.largestKey));
        expect(t.largest.seq, `${context}: table ${f.number} largest seq`).toBe(f.largestSeq);
        expect(t.properties.entries, `${context}: table ${f.number} entries`).toBe(f.entries);
        expect(t.fileSize, `${context}: table ${f.number} size`).toBe(f.size);
        t.verify();
      } finally {
        t.close();
      }
    }
  }
}

function entriesOnDisk(dir: string): number {
  return manifestLevels(dir).flat().reduce((n, f) => n + f.entries, 0);
}

/** Polls `predicate` (a liveness guard turns a hang into a failure naming `what`). */
async function waitFor(predicate: () => boolean, what: string): Promise<void> {
  await settles(
    (async () => {
      while (!predicate()) await sleep(2);
    })(),
    what,
    30_000,
  );
}

const key = numberedKey;
const value = taggedValue;

// ---------------------------------------------------------------- (a) disk usage

describe("compaction reclaims space", () => {
  it("overwritten and deleted data leaves the disk; deleted keys stay deleted after a reopen", async () => {
    const dir = scratch.dir();
    const N = 2000;
    const VALUE = 1000;
    // A memtable large enough that only our flush() calls make tables: three L0 tables stay below
    // the compaction trigger, so nothing is compacted before compact(). Uncompressed tables, so
    // that sizes on disk compare with the live data.
    let engine = scratch.track(await Engine.open(dir, { memtableSize: 32 * 1024 * 1024, sync: false, compression: "none" }));
    const model = new KvModel();
    const put = async (tag: string, keys: number[]): Promise<void> => {
      const entries = keys.map((i) => ({ key: key("k", i), value: value(tag, i, VALUE) }));
      await Promise.all(entries.map((e) => engine.put(e.key, e.value)));
      model.apply(entries);
    };
    const all = Array.from({ length: N }, (_, i) => i);
    await put("v1", all);
    await engine.flush();
    await put("v2", all);
    await engine.flush();
    await put("v3", all);
    const deleted = all.filter((i) => i % 5 !== 0);
    await Promise.all(deleted.map((i) => engine.delete(key("k", i))));
    model.apply(deleted.map((i) => ({ key: key("k", i), value: undefined })));
    await engine.flush();

    expect(engine.stats().compactions.count, "no compaction before compact()").toBe(0);
    expect(engine.stats().levels[0]!.files).toBe(3);
    const before = tableBytes(dir);
    expect(engine.stats().tables.bytes).toBe(before);
    const liveBytes = model.scan().reduce((n, [k, v]) => n + k.length / 2 + v.length / 2, 0);

    await engine.compact();
    const after = tableBytes(dir);
    const st = engine.stats();
    console.log(`disk usage: ${before} bytes before compact(), ${after} after; live data ${liveBytes} bytes`);
    expect(after, "well below the size before").toBeLessThan(before / 5);
    expect(after, "no smaller than the live data (nothing is compressed)").toBeGreaterThanOrEqual(liveBytes);
    expect(after, "near the live data").toBeLessThan(liveBytes * 1.2 + 16 * 1024);
    expect(st.tables.bytes).toBe(after);
    expect(st.tables.files).toBe(tableFiles(dir).length);
    expect(st.levels.slice(0, NUM_LEVELS - 1).every((l) => l.files === 0), "everything is in the last level").toBe(true);
    // 3 puts + (a delete for 4/5 of the keys) in, one live version per surviving key out.
    expect(st.compactions.entriesDropped).toBe(3 * N + deleted.length - N / 5);
    expect(entriesOnDisk(dir)).toBe(N / 5);
    expect(await scan(engine)).toEqual(model.scan());
    await engine.close();

    engine = scratch.track(await Engine.open(dir));
    for (const i of [0, 1, 2, 3, 4, 5, 999, 1000, 1001, N - 1]) {
      const got = await engine.get(key("k", i));
      expect(got === undefined ? undefined : hex(got), `key ${i} after reopen`).toBe(model.get(key("k", i)));
    }
    expect(await scan(engine)).toEqual(model.scan());
    await engine.verify();
  });

  it("keeps a tombstone while a deeper level still holds an older value of its key", async () => {
    const dir = scratch.dir();
    const engine = scratch.track(await Engine.open(dir, { memtableSize: 1024 * 1024, sync: false }));
    const model = new KvModel();
    // Old values, compacted into the last level.
    const old = Array.from({ length: 300 }, (_, i) => ({ key: key("k", i), value: value("old", i, 200) }));
    await Promise.all(old.map((e) => engine.put(e.key, e.value)));
    model.apply(old);
    await engine.compact();
    expect(engine.stats().levels[NUM_LEVELS - 1]!.files).toBeGreaterThan(0);

    // Deletes of every third key, then unrelated flushes until level 0 compacts into level 1,
    // which cannot drop the tombstones: level 6 still holds the values they hide.
    const dels = old.filter((_, i) => i % 3 === 0).map((e) => ({ key: e.key, value: undefined }));
    await Promise.all(dels.map((e) => engine.delete(e.key)));
    model.apply(dels);
    const compactionsBefore = engine.stats().compactions.count;
    for (let f = 0; f < L0_COMPACTION_TRIGGER; f++) {
      await engine.put(key("z", f), value("z", f, 10));
      model.apply([{ key: key("z", f), value: value("z", f, 10) }]);
      await engine.flush();
    }
    await waitFor(() => engine.stats().compactions.count > compactionsBefore && engine.stats().levels[0]!.files === 0, "level 0 compaction");
    expect(engine.stats().levels[1]!.files).toBeGreaterThan(0);
    for (const e of dels) expect(await engine.get(e.key), `deleted ${hex(e.key)} after L0 -> L1`).toBeUndefined();
    expect(await scan(engine)).toEqual(model.scan());

    // A full compaction may drop them now: nothing is left below.
    await engine.compact();
    expect(entriesOnDisk(dir)).toBe(model.size);
    expect(await scan(engine)).toEqual(model.scan());
  });
});

// ---------------------------------------------------------------- (b) snapshots

describe("compaction and snapshots", () => {
  it("a snapshot held across compact() sees old versions and deleted keys; after release they leave the disk", async () => {
    const dir = scratch.dir();
    const engine = scratch.track(await Engine.open(dir, { sync: false }));
    const model = new KvModel();
    const N = 200;
    const first = Array.from({ length: N }, (_, i) => ({ key: key("k", i), value: value("one", i, 100) }));
    await Promise.all(first.map((e) => engine.put(e.key, e.value)));
    model.apply(first);
    await engine.flush();

    const snap = engine.snapshot();
    const atSnap = model.clone();
    const second = first.map((e, i) => ({ key: e.key, value: i < 50 ? undefined : value("two", i, 100) }));
    await Promise.all(second.map((e) => (e.value === undefined ? engine.delete(e.key) : engine.put(e.key, e.value))));
    model.apply(second);

    await engine.compact();
    expect(engine.stats().compactions.entriesDropped, "the snapshot needs every version").toBe(0);
    expect(entriesOnDisk(dir)).toBe(2 * N);
    expect(await scan(engine, { snapshot: snap }), "scan at the snapshot").toEqual(atSnap.scan());
    expect(await scan(engine, { snapshot: snap, gte: key("k", 40), lt: key("k", 60), reverse: true })).toEqual(atSnap.scan({ gte: key("k", 40), lt: key("k", 60), reverse: true }));
    for (const i of [0, 49, 50, N - 1]) {
      expect(hex((await engine.get(key("k", i), { snapshot: snap }))!), `get ${i} at the snapshot`).toBe(atSnap.get(key("k", i)));
    }
    expect(await scan(engine)).toEqual(model.scan());

    snap.release();
    await engine.compact();
    // Every old version (N) and every tombstone (50) is gone.
    expect(engine.stats().compactions.entriesDropped, "versions dropped once the snapshot is released").toBe(N + 50);
    expect(entriesOnDisk(dir), "entries on disk after the second compact()").toBe(N - 50);
    expect(await scan(engine)).toEqual(model.scan());
  });

  it("once released, a snapshot's versions are dropped by the next compaction that rewrites them", async () => {
    const dir = scratch.dir();
    const engine = scratch.track(await Engine.open(dir, { sync: false }));
    const model = new KvModel();
    const N = 200;
    const first = Array.from({ length: N }, (_, i) => ({ key: key("k", i), value: value("one", i, 100) }));
    await Promise.all(first.map((e) => engine.put(e.key, e.value)));
    model.apply(first);
    const snap = engine.snapshot();
    const second = first.map((e, i) => ({ key: e.key, value: i < 50 ? undefined : value("two", i, 100) }));
    await Promise.all(second.map((e) => (e.value === undefined ? engine.delete(e.key) : engine.put(e.key, e.value))));
    model.apply(second);
    await engine.compact();
    expect(entriesOnDisk(dir)).toBe(2 * N);
    snap.release();
    // A new write gives the full compaction a level-0 input, so it rewrites the last level too.
    await engine.put(key("z", 0), utf8("z"));
    model.apply([{ key: key("z", 0), value: utf8("z") }]);
    await engine.compact();
    expect(engine.stats().compactions.entriesDropped).toBe(N + 50);
    expect(entriesOnDisk(dir)).toBe(N - 50 + 1);
    expect(await scan(engine)).toEqual(model.scan());
  });

  it("keeps every version newer than the oldest snapshot, and drops those it shadows for every reader", async () => {
    const dir = scratch.dir();
    const engine = scratch.track(await Engine.open(dir, { sync: false }));
    const k = utf8("key");
    for (let v = 0; v < 5; v++) await engine.put(k, utf8(`v${v}`));
    const snap = engine.snapshot(); // sees v4
    await engine.put(k, utf8("v5"));
    await engine.delete(k);
    await engine.put(k, utf8("v7"));
    await engine.compact();
    // v0..v3 are hidden from every reader by v4, which the snapshot sees. Compaction knows only
    // the oldest snapshot (as LevelDB does), so v4 and everything newer stay: v4, v5, the delete, v7.
    expect(entriesOnDisk(dir)).toBe(4);
    expect(engine.stats().compactions.entriesDropped).toBe(4);
    expect(Buffer.from((await engine.get(k, { snapshot: snap }))!).toString()).toBe("v4");
    expect(Buffer.from((await engine.get(k))!).toString()).toBe("v7");
    snap.release();
  });
});

// ---------------------------------------------------------------- (c) level shape

describe("level shape under a long write load", () => {
  for (const seed of testSeeds(1)) {
    it(`level 0 stays under the stop trigger; levels >= 1 are sorted and disjoint; all data reads back (seed ${seed})`, async () => {
      const rng = new Rng(seed);
      const dir = scratch.dir();
      let engine = scratch.track(await Engine.open(dir, { memtableSize: 64 * 1024, sync: false }));
      const model = new KvModel();
      let maxL0 = 0;
      let maxLevel = 0;
      let seqKey = 0;
      // Mostly ascending keys (cheap to compact, so level 1 outgrows its 10 MiB target and deeper
      // levels fill) mixed with random overwrites and deletes that make compactions merge.
      const TOTAL_BYTES = 16 * 1024 * 1024;
      let written = 0;
      let wave = 0;
      while (written < TOTAL_BYTES) {
        const entries = Array.from({ length: 64 }, () => {
          const r = rng.float();
          if (r < 0.75) return { key: key("s", seqKey++), value: rng.bytes(rng.between(100, 2500)) as Uint8Array | undefined };
          const k = key("r", rng.int(3000));
          return { key: k, value: r < 0.93 ? rng.bytes(rng.between(10, 400)) : undefined };
        });
        await Promise.all(entries.map((e) => (e.value === undefined ? engine.delete(e.key) : engine.put(e.key, e.value))));
        model.apply(entries);
        written += entries.reduce((n, e) => n + e.key.length + (e.value?.length ?? 0), 0);
        const st = engine.stats();
        maxL0 = Math.max(maxL0, st.levels[0]!.files);
        maxLevel = st.levels.reduce((m, l) => (l.files > 0 ? Math.max(m, l.level) : m), maxLevel);
        expect(st.levels[0]!.files, `seed=${seed} wave ${wave}: level 0 files`).toBeLessThanOrEqual(L0_STOP_TRIGGER);
        expect(st.backgroundError, `seed=${seed} wave ${wave}`).toBeUndefined();
        if (wave % 40 === 0) checkShape(dir, manifestLevels(dir), `seed=${seed} wave ${wave}`);
        wave++;
      }
      // Let background work catch up: no flush pending, level 0 below its trigger, every level
      // within its target (10 MiB for level 1, x10 per level: db.ts LEVEL_BASE_BYTES).
      await waitFor(() => {
        const s = engine.stats();
        return !s.memtable.immutable && s.levels[0]!.files < L0_COMPACTION_TRIGGER && s.levels.slice(1, -1).every((l) => l.bytes < maxBytesForLevel(l.level, 10 * 1024 * 1024));
      }, `seed=${seed}: background work to settle`);
      const st = engine.stats();
      maxLevel = st.levels.reduce((m, l) => (l.files > 0 ? Math.max(m, l.level) : m), maxLevel);
      console.log(
        `level shape (seed ${seed}): ${st.flushes.count} flushes, ${st.compactions.count} compactions (${st.compactions.trivialMoves} trivial moves), ` +
          `max L0 ${maxL0}, levels ${st.levels.map((l) => l.files).join("/")}, write amplification ${st.writeAmplification.toFixed(2)}`,
      );
      expect(st.flushes.count, `seed=${seed}`).toBeGreaterThan(50);
      expect(st.compactions.count, `seed=${seed}`).toBeGreaterThan(5);
      expect(maxLevel, `seed=${seed}: data reached level 2 or deeper`).toBeGreaterThanOrEqual(2);

      await engine.close();
      const levels = manifestLevels(dir);
      checkShape(dir, levels, `seed=${seed} after close`);
      checkTablesAgainstManifest(dir, levels, `seed=${seed} after close`);
      expect(levels.map((l) => l.length), `seed=${seed}: manifest and stats agree`).toEqual(engine.stats().levels.map((l) => l.files));
      // Also when close() interrupted a compaction: its finished outputs are removed, not left for the next open.
      expect(tableNumbers(dir), `seed=${seed}: sst/ holds exactly the live tables`).toEqual(levels.flat().map((f) => f.number).sort((a, b) => a - b));

      engine = scratch.track(await Engine.open(dir));
      expect(await scan(engine), `seed=${seed}: contents after reopen`).toEqual(model.scan());
      for (let i = 0; i < 300; i++) {
        const k = rng.chance(0.5) ? key("s", rng.int(seqKey + 10)) : key("r", rng.int(3000));
        const got = engine.getSync(k);
        expect(got === undefined ? undefined : hex(got), `seed=${seed}: get ${hex(k)}`).toBe(model.get(k));
      }
    });
  }
});

// ---------------------------------------------------------------- (d) obsolete files

describe("obsolete files", () => {
  it("after compact() sst/ holds exactly the live tables and wal/ only the current log", async () => {
    const dir = scratch.dir();
    const engine = scratch.track(await Engine.open(dir, { memtableSize: 16 * 1024, sync: false }));
    for (let round = 0; round < 5; round++) {
      await Promise.all(Array.from({ length: 400 }, (_, i) => engine.put(key("k", (i * 7 + round) % 600), value(`r${round}`, i, 150))));
      await engine.compact();
      const st = engine.stats();
      expect(tableFiles(dir).length, `round ${round}`).toBe(st.tables.files);
      expect(tableNumbers(dir), `round ${round}`).toEqual(manifestLevels(dir).flat().map((f) => f.number).sort((a, b) => a - b));
      expect(fs.readdirSync(path.join(dir, "wal")), `round ${round}: logs`).toEqual([path.basename(st.wal.currentLog)]);
      expect(fs.readdirSync(dir).filter((n) => n.endsWith(".tmp")), `round ${round}: temp files`).toEqual([]);
    }
  });

  it("an iterator open across compactions keeps its tables until it is closed, and reads them correctly", async () => {
    const dir = scratch.dir();
    const engine = scratch.track(await Engine.open(dir, { memtableSize: 16 * 1024, sync: false }));
    const model = new KvModel();
    const write = async (round: number): Promise<void> => {
      const entries = Array.from({ length: 300 }, (_, i) => ({ key: key("k", (i * 13 + round) % 500), value: i % 11 === 0 ? undefined : value(`r${round}`, i, 200) }));
      await Promise.all(entries.map((e) => (e.value === undefined ? engine.delete(e.key) : engine.put(e.key, e.value))));
      model.apply(entries);
    };
    await write(0);
    await engine.flush();
    await write(1);

    const expected = model.scan();
    const it = engine.iterate();
    const got: Array<[string, string]> = [];
    const step = (n: number): void => {
      for (let i = 0; i < n; i++) {
        const e = it.nextSync();
        if (e === undefined) return;
        got.push([hex(e[0]), hex(e[1])]);
      }
    };
    step(10);
    const pinned = new Set(tableNumbers(dir));
    for (let round = 2; round < 6; round++) {
      await write(round);
      await engine.compact();
      step(20);
      const onDisk = new Set(tableNumbers(dir));
      for (const n of pinned) expect(onDisk.has(n), `round ${round}: table ${n} pinned by the iterator`).toBe(true);
      expect(onDisk.size, `round ${round}`).toBeGreaterThan(engine.stats().tables.files);
      // Reads of the current state do not see the pinned tables' stale data.
      const k = key("k", round);
      const now = await engine.get(k);
      expect(now === undefined ? undefined : hex(now), `round ${round}: get`).toBe(model.get(k));
    }
    step(Infinity);
    expect(got, "the iterator yields the state at its creation").toEqual(expected);
    expect(it.nextSync()).toBeUndefined();
    expect(tableFiles(dir).length, "once the iterator is done, only live tables remain").toBe(engine.stats().tables.files);
    for (const n of pinned) expect(tableNumbers(dir).includes(n), `table ${n}`).toBe(false);
  });

  it("close() during compact() leaves only the manifest's tables in sst/, and compact() fails with an LsmdocError", async () => {
    const dir = scratch.dir();
    const engine = scratch.track(await Engine.open(dir, { memtableSize: 4 * 1024 * 1024, sync: false }));
    // Three overlapping tables of ~4 MiB: the full compaction writes several 2 MiB outputs.
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 4000 }, (_, i) => engine.put(key("k", i), value(`r${round}`, i, 1000))));
      await engine.flush();
    }
    const before = new Set(tableFiles(dir));
    const outcome = engine.compact().then(
      () => undefined,
      (err: unknown) => err,
    );
    // Close as soon as the compaction has finished its first output table (if it finishes
    // first, there is nothing to check, and the test passes trivially).
    await waitFor(() => tableFiles(dir).some((n) => !before.has(n)), "first compaction output");
    await engine.close();
    const err = await outcome;
    const named = manifestLevels(dir).flat().map((f) => f.number).sort((a, b) => a - b);
    expect.soft(tableNumbers(dir), "tables in sst/ after close() vs. tables the manifest names").toEqual(named);
    if (err !== undefined) {
      expect.soft(err, `compact() interrupted by close() rejects with ${String(err)}`).toBeInstanceOf(LsmdocError);
    }
  });

  it("an iterator stopped early with return() releases its tables too", async () => {
    const dir = scratch.dir();
    const engine = scratch.track(await Engine.open(dir, { memtableSize: 16 * 1024, sync: false }));
    await Promise.all(Array.from({ length: 500 }, (_, i) => engine.put(key("k", i), value("a", i, 100))));
    await engine.flush();
    const it = engine.iterate({ gte: key("k", 100) });
    expect((await it.next()).value?.[0]).toEqual(key("k", 100));
    await Promise.all(Array.from({ length: 500 }, (_, i) => engine.put(key("k", i), value("b", i, 100))));
    await engine.compact();
    expect(tableFiles(dir).length).toBeGreaterThan(engine.stats().tables.files);
    await it.return();
    expect(tableFiles(dir).length).toBe(engine.stats().tables.files);
  });
});

// ---------------------------------------------------------------- (e) event loop

describe("event loop during compaction", () => {
  it("keeps turning under a write-heavy load that forces compactions (p99 delay printed)", async () => {
    const dir = scratch.dir();
    const engine = scratch.track(await Engine.open(dir, { memtableSize: 64 * 1024, sync: false }));
    const h = monitorEventLoopDelay({ resolution: 5 });
    const rng = new Rng(7);
    h.enable();
    const N = 30_000;
    const CONCURRENCY = 64;
    for (let i = 0; i < N; i += CONCURRENCY) {
      await Promise.all(
        Array.from({ length: Math.min(CONCURRENCY, N - i) }, (_, j) => engine.put(key("k", rng.int(20_000)), value("e", i + j, 200))),
      );
    }
    h.disable();
    const st = engine.stats();
    console.log(
      `event loop delay during ${N} writes of 200 bytes: p50 ${(h.percentile(50) / 1e6).toFixed(2)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(2)} ms, ` +
        `max ${(h.max / 1e6).toFixed(2)} ms over ${h.count} samples; ${st.flushes.count} flushes, ${st.compactions.count} compactions`,
    );
    expect(h.count, "the histogram recorded samples").toBeGreaterThan(0);
    expect(st.compactions.count).toBeGreaterThan(0);
    expect(st.flushes.count).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------- picker

describe("compaction picker", () => {
  const meta = (number: number, smallest: string, largest: string, size = 1000): FileMeta => ({
    number,
    size,
    entries: 1,
    smallestKey: utf8(smallest),
    smallestSeq: 1,
    largestKey: utf8(largest),
    largestSeq: 1,
  });
  const version = (levels: Partial<Record<number, FileMeta[]>>): Version =>
    new Version(Array.from({ length: NUM_LEVELS }, (_, l) => levels[l] ?? []));

  it("picks all of level 0 and the level-1 tables they overlap once level 0 reaches its trigger", () => {
    const picker = new CompactionPicker(10 * 1024 * 1024);
    const l0 = [meta(9, "c", "e"), meta(8, "a", "b"), meta(7, "d", "f")];
    const l1 = [meta(1, "a", "a"), meta(2, "b", "c"), meta(3, "g", "h")];
    expect(picker.needsCompaction(version({ 0: l0, 1: l1 }))).toBe(false);
    expect(picker.pick(version({ 0: l0, 1: l1 }))).toBeUndefined();
    const full = [meta(10, "e", "e"), ...l0];
    const plan = picker.pick(version({ 0: full, 1: l1 }))!;
    expect(plan.level).toBe(0);
    expect(plan.outputLevel).toBe(1);
    expect(plan.inputs.map((f) => f.number).sort()).toEqual([10, 7, 8, 9].sort());
    expect(plan.overlaps.map((f) => f.number)).toEqual([1, 2]);
  });

  it("picks an oversized level's tables in turn, with their overlaps in the next level", () => {
    const picker = new CompactionPicker(1000);
    const l1 = [meta(1, "a", "b", 600), meta(2, "c", "d", 600), meta(3, "e", "f", 600)];
    const l2 = [meta(4, "b", "c"), meta(5, "f", "z")];
    const v = version({ 1: l1, 2: l2 });
    const picked = [1, 2, 3, 4].map(() => picker.pick(v)!);
    expect(picked.map((p) => [p.level, p.inputs.map((f) => f.number), p.overlaps.map((f) => f.number)])).toEqual([
      [1, [1], [4]],
      [1, [2], [4]],
      [1, [3], [5]],
      [1, [1], [4]],
    ]);
  });

  it("full() takes every table into the last level", () => {
    const picker = new CompactionPicker(1000);
    expect(picker.full(version({}))).toBeUndefined();
    const plan = picker.full(version({ 0: [meta(5, "a", "z")], 2: [meta(3, "a", "c")], 6: [meta(1, "a", "b")] }))!;
    expect(plan.outputLevel).toBe(NUM_LEVELS - 1);
    expect(plan.inputs.map((f) => f.number).sort()).toEqual([3, 5]);
    expect(plan.overlaps.map((f) => f.number)).toEqual([1]);
  });
});
