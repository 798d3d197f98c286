/**
 * Compaction on the compaction thread (engine/compaction/compaction-runner.ts and
 * compaction-worker.ts), on real temp directories:
 *
 * (a) one merge on the thread writes the same tables, entry for entry, as the same merge on the
 *     calling thread (random overlapping inputs, a snapshot in the middle, deeper levels that keep
 *     some tombstones), also when its reserved output numbers run out and it asks for more;
 * (b) a damaged input fails the job with the CorruptionError the calling thread would throw (same
 *     file, offset and message) and leaves no output behind; a thread whose code cannot load makes
 *     the runner unavailable (with a warning) rather than failing merges;
 * (c) an engine with the thread holds the same contents as one without it and as a Map model,
 *     now, under held snapshots and after a reopen (seeded random writes, deletes, compact());
 * (d) close() during a merge on the thread stops it, leaves only the manifest's tables and no
 *     temp files, and a reopen finds every acknowledged write, including those made during the
 *     merge;
 * (e) a damaged table met by a background merge on the thread becomes the engine's background
 *     error, still a CorruptionError naming the file;
 * (f) the event loop keeps turning and serving reads while a full compaction runs (main-thread
 *     delay and utilization printed, not asserted);
 * (g) the option: validated, on by default on disk, off with an injected file system;
 * (h) a memtable flush on the flush thread writes the same table, byte for byte, as the flush on the
 *     calling thread, from the memtable's memory as the job message carries it (a read-only list
 *     over the same buffers reads exactly the memtable's entries); a flush thread that cannot start
 *     refuses the job the same way.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, vi } from "vitest";
import { CorruptionError, Engine, InvalidArgumentError, LsmdocError } from "../../engine/index.js";
import { CompactionFilter } from "../../engine/compaction/compaction-filter.js";
import { packRanges } from "../../engine/compaction/compaction-protocol.js";
import { backgroundThreadsStarted, CompactionRunner, CompactionThreadUnavailableError, IDLE_THREAD_MS } from "../../engine/compaction/compaction-runner.js";
import { writeTables, type TableWriterContext } from "../../engine/compaction/table-writer.js";
import { tablePath } from "../../engine/filenames.js";
import { MemFs } from "../../engine/fs/mem-fs.js";
import { nodeFs } from "../../engine/fs/node-fs.js";
import { MergingIterator } from "../../engine/iterator/merging-iterator.js";
import type { FileMeta } from "../../engine/manifest/version-edit.js";
import { Memtable, memtableImageIterator } from "../../engine/memtable/memtable.js";
import { TableReader } from "../../engine/sstable/table-reader.js";
import { compareBytes } from "../../engine/util/bytes.js";
import { EntryKind } from "../../engine/wal/record.js";
import { scan, settles, useScratch } from "../fixtures/harness.js";
import { hex, KvModel, numberedKey, taggedValue } from "../fixtures/kv-model.js";
import { Rng, testSeeds } from "../fixtures/random.js";

const scratch = useScratch();

// ---------------------------------------------------------------- helpers

const key = numberedKey;
const value = taggedValue;

function tableNumbersOnDisk(dir: string): number[] {
  return fs
    .readdirSync(path.join(dir, "sst"))
    .filter((n) => n.endsWith(".sst"))
    .map((n) => Number(n.slice(0, -4)))
    .sort((a, b) => a - b);
}

function tempFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.endsWith(".tmp"));
}

async function waitFor(predicate: () => boolean, what: string): Promise<void> {
  await settles(
    (async () => {
      while (!predicate()) await sleep(2);
    })(),
    what,
    30_000,
  );
}

/** A writer context on the real disk with numbers from `next`, for building tables by hand. */
function context(dir: string, numbers: { next: number }): TableWriterContext {
  return { fs: nodeFs, dir, newFileNumber: () => numbers.next++, pendingOutputs: new Set(), shouldAbort: () => false };
}

/** Every entry of a table on disk, as comparable strings. */
function tableEntries(dir: string, number: number): string[] {
  const p = tablePath(dir, number);
  const reader = TableReader.open(nodeFs.openRead(p), p, number);
  const out: string[] = [];
  try {
    const it = reader.iterator();
    for (it.seekToFirst(); it.valid(); it.next()) out.push(`${hex(it.key())}@${it.seq()}:${it.kind()}=${hex(it.value())}`);
    it.close();
  } finally {
    reader.close();
  }
  return out;
}

interface MergeInputs {
  dir: string;
  inputs: FileMeta[];
  smallestSnapshot: number;
  /** Key ranges of tables in one level below the output (no such tables exist: only their ranges matter). */
  deeper: FileMeta[];
}

/** Random overlapping input tables: several versions per key, tombstones, empty values. */
async function buildInputs(rng: Rng, dir: string, tables: number, opsPerTable: number): Promise<MergeInputs> {
  fs.mkdirSync(path.join(dir, "sst"), { recursive: true });
  const numbers = { next: 1 };
  const inputs: FileMeta[] = [];
  let seq = 0;
  const keySpace = rng.between(50, 2000);
  for (let t = 0; t < tables; t++) {
    const mem = new Memtable();
    for (let i = 0; i < opsPerTable; i++) {
      const k = key("k", rng.int(keySpace));
      if (rng.chance(0.2)) mem.add(++seq, EntryKind.Delete, k, new Uint8Array(0));
      else mem.add(++seq, EntryKind.Put, k, rng.chance(0.05) ? new Uint8Array(0) : value(`t${t}`, i, rng.between(1, 300)));
    }
    const source = mem.iterator();
    source.seekToFirst();
    inputs.push(...(await writeTables(context(dir, numbers), source, Infinity)).files);
  }
  const deeper: FileMeta[] = [];
  const step = Math.floor(keySpace / 8);
  for (let lo = rng.int(step * 2); lo < keySpace; ) {
    const hi = lo + rng.between(0, step);
    deeper.push({ number: 0, size: 0, entries: 0, smallestKey: key("k", lo), smallestSeq: 0, largestKey: key("k", hi), largestSeq: 0 });
    lo = hi + rng.between(1, step * 2);
  }
  return { dir, inputs, smallestSnapshot: rng.between(1, seq), deeper };
}

/** The merge compaction-worker.ts runs, done here on the calling thread. */
async function mergeHere(m: MergeInputs, target: number, numbers: { next: number }) {
  const readers = m.inputs.map((f) => {
    const p = tablePath(m.dir, f.number);
    return TableReader.open(nodeFs.openRead(p), p, f.number);
  });
  try {
    const merged = new MergingIterator(readers.map((r) => r.iterator()));
    const isBase = (k: Uint8Array): boolean => !m.deeper.some((f) => compareBytes(f.smallestKey, k) <= 0 && compareBytes(k, f.largestKey) <= 0);
    const filter = new CompactionFilter(m.smallestSnapshot, isBase);
    merged.seekToFirst();
    const result = await writeTables(context(m.dir, numbers), merged, target, filter);
    return { ...result, entriesDropped: filter.dropped };
  } finally {
    for (const r of readers) r.close();
  }
}

/** Runs the same merge on a compaction thread, starting with `count` reserved numbers. */
function mergeOnThread(runner: CompactionRunner, m: MergeInputs, target: number, first: number, count: number, grants: number[][]) {
  let next = first + count;
  return runner.run(
    {
      kind: "merge",
      dir: m.dir,
      inputs: m.inputs.map((f) => f.number),
      smallestSnapshot: m.smallestSnapshot,
      deeperLevels: [packRanges(m.deeper)],
      targetFileSize: target,
      compression: "deflate",
      firstNumber: first,
      numberCount: count,
    },
    (n) => {
      grants.push([next, n]);
      next += n;
      return next - n;
    },
  );
}

// ---------------------------------------------------------------- (a), (b) one merge

describe("one merge on the compaction thread", () => {
  for (const seed of testSeeds(3)) {
    it(`writes the same tables as the merge on the calling thread (seed ${seed})`, async () => {
      const rng = new Rng(seed);
      const m = await buildInputs(rng, scratch.dir(), rng.between(2, 6), rng.between(200, 3000));
      const target = rng.pick([1024, 4096, 64 * 1024]);
      const here = await mergeHere(m, target, { next: 1000 });
      const runner = new CompactionRunner();
      const grants: number[][] = [];
      try {
        // One number up front: every further output takes the ask-for-more path.
        const there = await mergeOnThread(runner, m, target, 5000, 1, grants);
        const ctx = `seed ${seed}, target ${target}`;
        expect(there.files.length, `${ctx}: output tables`).toBe(here.files.length);
        expect(here.files.length, `${ctx}: the merge writes something`).toBeGreaterThan(0);
        expect(there.entriesDropped, `${ctx}: entries dropped`).toBe(here.entriesDropped);
        expect(there.entriesRead, `${ctx}: entries read`).toBe(here.entriesRead);
        expect(there.bytesWritten, `${ctx}: bytes written`).toBe(here.bytesWritten);
        for (let i = 0; i < here.files.length; i++) {
          const a = here.files[i]!;
          const b = there.files[i]!;
          expect({ ...b, number: 0 }, `${ctx}: metadata of output ${i}`).toEqual({ ...a, number: 0 });
          expect(tableEntries(m.dir, b.number), `${ctx}: entries of output ${i}`).toEqual(tableEntries(m.dir, a.number));
        }
        // Numbers come from the reserved block, then from each grant in turn, none twice.
        const allowed = new Set([5000, ...grants.flatMap(([first, n]) => Array.from({ length: n! }, (_, j) => first! + j))]);
        for (const f of there.files) expect(allowed.has(f.number), `${ctx}: table ${f.number} uses a granted number`).toBe(true);
        if (there.files.length > 1) expect(grants.length, `${ctx}: asked for more numbers`).toBeGreaterThan(0);
      } finally {
        await runner.close();
      }
    });
  }

  it("fails with the same CorruptionError as the calling thread, and leaves no output behind", async () => {
    const rng = new Rng(11);
    const m = await buildInputs(rng, scratch.dir(), 3, 4000);
    // Damage a byte a third of the way into the largest input: inside one of its data blocks.
    const victim = m.inputs.reduce((a, b) => (b.size > a.size ? b : a));
    const p = tablePath(m.dir, victim.number);
    const bytes = fs.readFileSync(p);
    const at = Math.floor(bytes.length / 3);
    bytes[at] ^= 0x5a;
    fs.writeFileSync(p, bytes);
    const inputs = tableNumbersOnDisk(m.dir);

    const here = await mergeHere(m, 4096, { next: 1000 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(here, "the calling thread meets the damage").toBeInstanceOf(CorruptionError);
    const runner = new CompactionRunner();
    try {
      const there = await mergeOnThread(runner, m, 4096, 5000, 100, []).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(there).toBeInstanceOf(CorruptionError);
      const e = there as CorruptionError;
      const h = here as CorruptionError;
      expect({ code: e.code, file: e.file, offset: e.offset, message: e.message }).toEqual({ code: h.code, file: h.file, offset: h.offset, message: h.message });
      expect(e.file).toBe(p);
      expect(e.offset).toBeLessThanOrEqual(at);
      // The thread can run another job after a failed one.
      const other = await buildInputs(new Rng(12), scratch.dir(), 2, 500);
      const ok = await mergeOnThread(runner, other, 4096, 6000, 100, []);
      expect(ok.files.length).toBeGreaterThan(0);
    } finally {
      await runner.close();
    }
    expect(tableNumbersOnDisk(m.dir), "only the inputs are left in sst/").toEqual(inputs);
    expect(tempFiles(m.dir), "no temp tables are left").toEqual([]);
  });
});

describe("a compaction thread that cannot start", () => {
  it("refuses the job with CompactionThreadUnavailableError, warns once, and stays unavailable", async () => {
    const m = await buildInputs(new Rng(5), scratch.dir(), 2, 100);
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on("warning", onWarning);
    const runner = new CompactionRunner(0, new URL("./no-such-compaction-worker.js", import.meta.url));
    try {
      expect(runner.available).toBe(true);
      await expect(mergeOnThread(runner, m, 4096, 5000, 10, [])).rejects.toBeInstanceOf(CompactionThreadUnavailableError);
      expect(runner.available).toBe(false);
      await expect(mergeOnThread(runner, m, 4096, 6000, 10, [])).rejects.toBeInstanceOf(CompactionThreadUnavailableError);
      await sleep(10); // Warnings are emitted on the next tick.
      expect(warnings.filter((w) => (w as NodeJS.ErrnoException).code === "LSMDOC_COMPACTION_THREAD")).toHaveLength(1);
    } finally {
      process.off("warning", onWarning);
      await runner.close();
    }
    expect(tempFiles(m.dir)).toEqual([]);
  });
});

// ---------------------------------------------------------------- (c) model

describe("an engine compacting on its thread", () => {
  for (const seed of testSeeds(2)) {
    it(`holds what the in-thread engine and a Map model hold, under snapshots and after a reopen (seed ${seed})`, async () => {
      const rng = new Rng(seed);
      const memtableSize = rng.pick([4096, 16 * 1024, 64 * 1024]);
      const dirA = scratch.dir();
      const dirB = scratch.dir();
      const threaded = scratch.track(await Engine.open(dirA, { memtableSize, sync: false }));
      const inline = scratch.track(await Engine.open(dirB, { memtableSize, sync: false, compactionThread: false }));
      const model = new KvModel();
      const held: Array<{ a: ReturnType<Engine["snapshot"]>; b: ReturnType<Engine["snapshot"]>; model: KvModel }> = [];
      const keySpace = rng.between(200, 3000);
      const rounds = 60;
      const ctx = `seed ${seed}, memtable ${memtableSize}, key space ${keySpace}`;

      for (let round = 0; round < rounds; round++) {
        // A burst of concurrent writes, issued in the same order to both engines.
        const writes: Array<Promise<number>> = [];
        const burst = rng.between(20, 200);
        for (let i = 0; i < burst; i++) {
          const k = key("k", rng.int(keySpace));
          if (rng.chance(0.15)) {
            model.apply([{ key: k, value: undefined }]);
            writes.push(threaded.delete(k), inline.delete(k));
          } else {
            const v = value(`r${round}`, i, rng.between(0, 400));
            model.apply([{ key: k, value: v }]);
            writes.push(threaded.put(k, v), inline.put(k, v));
          }
        }
        await Promise.all(writes);
        if (rng.chance(0.15) && held.length < 4) held.push({ a: threaded.snapshot(), b: inline.snapshot(), model: model.clone() });
        if (rng.chance(0.1) && held.length > 0) {
          const s = held.splice(rng.int(held.length), 1)[0]!;
          s.a.release();
          s.b.release();
        }
        if (rng.chance(0.05)) await Promise.all([threaded.compact(), inline.compact()]);
        if (round % 10 === 9) {
          expect(await scan(threaded), `${ctx}: threaded engine vs model, round ${round}`).toEqual(model.scan());
          expect(await scan(inline), `${ctx}: in-thread engine vs model, round ${round}`).toEqual(model.scan());
          for (const s of held) {
            expect(await scan(threaded, { snapshot: s.a }), `${ctx}: snapshot of the threaded engine, round ${round}`).toEqual(s.model.scan());
          }
        }
      }
      await Promise.all([threaded.compact(), inline.compact()]);
      for (const s of held) {
        expect(await scan(threaded, { snapshot: s.a }), `${ctx}: snapshot across a full compaction`).toEqual(s.model.scan());
        expect(await scan(inline, { snapshot: s.b }), `${ctx}: in-thread snapshot across a full compaction`).toEqual(s.model.scan());
        s.a.release();
        s.b.release();
      }
      const st = threaded.stats();
      console.log(
        `${ctx}: ${st.flushes.count} flushes, ${st.compactions.count} compactions (${st.compactions.onThread} on the thread, ` +
          `${st.compactions.trivialMoves} moves), ${st.compactions.entriesDropped} entries dropped`,
      );
      expect(st.compactions.onThread, `${ctx}: merges ran on the thread`).toBeGreaterThan(0);
      expect(st.flushes.onThread, `${ctx}: every flush ran on the flush thread`).toBe(st.flushes.count);
      expect(st.flushes.count).toBeGreaterThan(0);
      expect(inline.stats().flushes.onThread, `${ctx}: and none on the in-thread engine's`).toBe(0);
      expect(st.compactions.onThread).toBe(st.compactions.count);
      expect(inline.stats().compactions.onThread, `${ctx}: and none on the in-thread engine`).toBe(0);
      expect(st.backgroundError).toBeUndefined();
      await threaded.close();
      const again = scratch.track(await Engine.open(dirA, { memtableSize }));
      expect(await scan(again), `${ctx}: after a reopen`).toEqual(model.scan());
      expect(await scan(inline), `${ctx}: in-thread engine at the end`).toEqual(model.scan());
    });
  }
});

// ---------------------------------------------------------------- (d) close during a merge

describe("close() during a merge on the compaction thread", () => {
  it("stops it, leaves only the manifest's tables, and a reopen finds every acknowledged write", async () => {
    const dir = scratch.dir();
    const engine = scratch.track(await Engine.open(dir, { memtableSize: 1024 * 1024 }));
    const model = new KvModel();
    // Three overlapping layers of ~4 MiB: a full compaction takes a while.
    for (let round = 0; round < 3; round++) {
      const writes: Array<Promise<number>> = [];
      for (let i = 0; i < 4000; i++) {
        const v = value(`r${round}`, i, 1000);
        model.apply([{ key: key("k", i), value: v }]);
        writes.push(engine.put(key("k", i), v));
      }
      await Promise.all(writes);
      await engine.flush();
    }
    const before = new Set(tableNumbersOnDisk(dir));
    const outcome = engine.compact().then(
      () => undefined,
      (err: unknown) => err,
    );
    // Writes keep being acknowledged while the merge runs (their memtables flush on this thread).
    const acknowledged: Array<{ key: Uint8Array; value: Uint8Array }> = [];
    let n = 0;
    const writer = (async () => {
      while (!engine.isClosed) {
        const k = key("w", n);
        const v = value("w", n, 500);
        n++;
        try {
          await engine.put(k, v);
          acknowledged.push({ key: k, value: v });
        } catch (err) {
          expect(err).toBeInstanceOf(LsmdocError);
          return;
        }
      }
    })();
    await waitFor(() => tempFiles(dir).length > 0 || tableNumbersOnDisk(dir).some((t) => !before.has(t)), "the merge's first output");
    await engine.close();
    await writer;
    const err = await outcome;
    if (err !== undefined) expect(err, `compact() interrupted by close() rejects with ${String(err)}`).toBeInstanceOf(LsmdocError);
    expect(tempFiles(dir), "no temp tables after close()").toEqual([]);
    for (const a of acknowledged) model.apply([a]);
    const afterClose = tableNumbersOnDisk(dir);

    // Open deletes every table the manifest does not name: close() must have left none.
    const again = scratch.track(await Engine.open(dir, { compactionThread: false }));
    expect(tableNumbersOnDisk(dir), "tables close() left vs. tables the manifest names").toEqual(afterClose);
    expect(afterClose.length).toBe(again.stats().tables.files);
    expect(await scan(again), `every acknowledged write (${acknowledged.length} during the merge) after the reopen`).toEqual(model.scan());
  });
});

// ---------------------------------------------------------------- (e) background corruption

describe("a damaged table met by a background merge on the thread", () => {
  it("becomes the engine's background error: a CorruptionError naming the table", async () => {
    const dir = scratch.dir();
    const engine = scratch.track(await Engine.open(dir, { memtableSize: 1024 * 1024, sync: false }));
    // Three level-0 tables (one short of the trigger), the first one then damaged on disk.
    for (let t = 0; t < 3; t++) {
      await Promise.all(Array.from({ length: 2000 }, (_, i) => engine.put(key("k", i * 3 + t), value(`t${t}`, i, 300))));
      await engine.flush();
    }
    const victim = tableNumbersOnDisk(dir)[0]!;
    const p = tablePath(dir, victim);
    const bytes = fs.readFileSync(p);
    bytes[Math.floor(bytes.length / 3)] ^= 0x5a;
    fs.writeFileSync(p, bytes);
    await Promise.all(Array.from({ length: 2000 }, (_, i) => engine.put(key("x", i), value("x", i, 300))));
    await engine.flush(); // The fourth table: level 0 reaches its trigger.
    await waitFor(() => engine.stats().backgroundError !== undefined, "background error");
    const err = await engine.put(key("y", 0), value("y", 0, 10)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CorruptionError);
    expect((err as CorruptionError).code).toBe("LSMDOC_CORRUPTION");
    expect((err as CorruptionError).file).toBe(p);
    expect(engine.stats().backgroundError).toContain(p);
  });
});

// ---------------------------------------------------------------- (f) event loop

describe("the event loop during a merge on the compaction thread", () => {
  it("keeps turning and serving reads until the merge ends (delay and utilization printed)", async () => {
    const dir = scratch.dir();
    const engine = scratch.track(await Engine.open(dir, { memtableSize: 4 * 1024 * 1024, sync: false }));
    const N = 4000;
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: N }, (_, i) => engine.put(key("k", i), value(`r${round}`, i, 1000))));
      await engine.flush();
      // Start the thread before measuring: from the sources its start compiles TypeScript.
      if (round === 0) await engine.compact();
    }
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const elu = performance.eventLoopUtilization();
    const start = performance.now();
    let done = false;
    const compaction = engine.compact().finally(() => {
      done = true;
    });
    let turns = 0;
    let reads = 0;
    const rng = new Rng(3);
    while (!done) {
      await sleep(1);
      turns++;
      const i = rng.int(N);
      expect(engine.getSync(key("k", i)), `k${i} during the merge`).toEqual(value("r2", i, 1000));
      reads++;
    }
    await compaction;
    const ms = performance.now() - start;
    const used = performance.eventLoopUtilization(elu);
    h.disable();
    const st = engine.stats();
    console.log(
      `full compaction of ${(st.compactions.bytesRead / 2 ** 20).toFixed(1)} MiB on the thread: ${ms.toFixed(0)} ms, ${turns} turns of the event loop, ` +
        `${reads} reads; main-thread utilization ${(used.utilization * 100).toFixed(0)}%, ` +
        `delay p99 ${(h.percentile(99) / 1e6).toFixed(2)} ms, max ${(h.max / 1e6).toFixed(2)} ms`,
    );
    expect(st.compactions.onThread).toBeGreaterThan(0);
    // Each turn served a read in the middle of the merge. How many fit depends on how loaded the
    // machine is (a busy one stretches each 1 ms sleep), so only a few are required.
    expect(turns, "the event loop turned while the merge ran").toBeGreaterThanOrEqual(3);
    for (let i = 0; i < N; i += 97) expect(engine.getSync(key("k", i))).toEqual(value("r2", i, 1000));
  });
});

// ---------------------------------------------------------------- (g) the option

describe("option compactionThread", () => {
  it("is validated, on by default on disk, and off with an injected file system", async () => {
    const dir = scratch.dir();
    await expect(Engine.open(dir, { compactionThread: "yes" as unknown as boolean })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(Engine.open("/mem", { fs: new MemFs(), compactionThread: true })).rejects.toBeInstanceOf(InvalidArgumentError);

    const mem = scratch.track(await Engine.open("/mem", { fs: new MemFs(), memtableSize: 4096, sync: false }));
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 200 }, (_, i) => mem.put(key("k", i), value(`r${round}`, i, 50))));
      await mem.flush();
    }
    await mem.compact();
    expect(mem.stats().compactions.count).toBeGreaterThan(0);
    expect(mem.stats().compactions.onThread, "MemFs compacts on the calling thread").toBe(0);
    expect(mem.stats().flushes.onThread, "and flushes there").toBe(0);

    const disk = scratch.track(await Engine.open(dir, { memtableSize: 4096, sync: false }));
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 200 }, (_, i) => disk.put(key("k", i), value(`r${round}`, i, 50))));
      await disk.flush();
    }
    await disk.compact();
    expect(disk.stats().compactions.onThread, "the real disk compacts on the thread").toBeGreaterThan(0);
    expect(disk.stats().flushes.onThread, "and flushes on the flush thread").toBe(disk.stats().flushes.count);
  });
});

// ---------------------------------------------------------------- (h) flush on the flush thread

/** A memtable of random versions and tombstones (keys from a small space, so some repeat). */
function randomMemtable(rng: Rng, ops: number): Memtable {
  const mem = new Memtable();
  const keySpace = rng.between(20, 3000);
  for (let seq = 1; seq <= ops; seq++) {
    const k = key(rng.pick(["a", "user-", "index/city/"]), rng.int(keySpace));
    if (rng.chance(0.15)) mem.add(seq, EntryKind.Delete, k, new Uint8Array(0));
    // Some values above the arena's large-allocation bound, which get buffers of their own.
    else mem.add(seq, EntryKind.Put, k, value(`v${seq}`, seq, rng.chance(0.01) ? rng.between(300_000, 600_000) : rng.between(0, 500)));
  }
  return mem;
}

describe("a memtable flush on the flush thread", () => {
  for (const seed of testSeeds(3)) {
    it(`writes the same table, byte for byte, as the flush on the calling thread (seed ${seed})`, async () => {
      const rng = new Rng(seed);
      const dir = scratch.dir();
      fs.mkdirSync(path.join(dir, "sst"), { recursive: true });
      const mem = randomMemtable(rng, rng.between(1, 20_000));
      const compression = rng.pick(["deflate", "none"] as const);
      const ctx = `seed ${seed}, ${mem.entryCount} entries, ${compression}`;
      const source = mem.iterator();
      source.seekToFirst();
      const here = await writeTables({ ...context(dir, { next: 1 }), compression }, source, Infinity);
      const runner = new CompactionRunner();
      try {
        const job = runner.run({ kind: "flush", dir, memtable: mem.image(), number: 2, compression });
        // A read-only list over the buffers the message carries reads exactly the memtable's entries.
        const copy = memtableImageIterator(mem.image());
        const it = mem.iterator();
        for (copy.seekToFirst(), it.seekToFirst(); it.valid(); it.next(), copy.next()) {
          expect(copy.valid()).toBe(true);
          expect([copy.seq(), copy.kind(), hex(copy.key()), hex(copy.value())]).toEqual([it.seq(), it.kind(), hex(it.key()), hex(it.value())]);
        }
        expect(copy.valid(), `${ctx}: a read-only copy ends where the memtable does`).toBe(false);
        const there = await job;
        expect(there.files.map((f) => f.number), ctx).toEqual([2]);
        expect({ ...there.files[0]!, number: 1 }, `${ctx}: table metadata`).toEqual(here.files[0]);
        expect(there.entriesRead, ctx).toBe(mem.entryCount);
        expect(fs.readFileSync(tablePath(dir, 2)).equals(fs.readFileSync(tablePath(dir, 1))), `${ctx}: same bytes`).toBe(true);
      } finally {
        await runner.close();
      }
      expect(tempFiles(dir)).toEqual([]);
    });
  }

  it.runIf(process.platform === "linux")("runs at the niceness it was given, without lowering the process's other threads", async () => {
    const dir = scratch.dir();
    fs.mkdirSync(path.join(dir, "sst"), { recursive: true });
    /** Nice value of each of this process's threads (field 19 of /proc/self/task/<tid>/stat). */
    const niceByThread = (): Map<number, number> => {
      const out = new Map<number, number>();
      for (const tid of fs.readdirSync("/proc/self/task")) {
        const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
        // Fields after the command name (in parentheses, may hold spaces) start at field 3.
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        out.set(Number(tid), Number(fields[19 - 3]));
      }
      return out;
    };
    const before = niceByThread();
    const runner = new CompactionRunner(7);
    try {
      await runner.run({ kind: "flush", dir, memtable: randomMemtable(new Rng(5), 500).image(), number: 3, compression: "none" });
      const after = niceByThread();
      const lowered = [...after].filter(([tid, nice]) => !before.has(tid) && nice === 7);
      expect(lowered.length, "one new thread at nice 7").toBe(1);
      expect(after.get(process.pid), "the main thread keeps its priority").toBe(before.get(process.pid));
      for (const [tid, nice] of before) if (after.has(tid)) expect(after.get(tid), `thread ${tid} keeps its priority`).toBe(nice);
    } finally {
      await runner.close();
    }
  });

  it("is refused with CompactionThreadUnavailableError by a thread that cannot start", async () => {
    const dir = scratch.dir();
    const runner = new CompactionRunner(0, new URL("./no-such-compaction-worker.js", import.meta.url));
    const onWarning = (): void => undefined;
    process.on("warning", onWarning);
    try {
      const job = runner.run({ kind: "flush", dir, memtable: randomMemtable(new Rng(3), 100).image(), number: 7, compression: "none" });
      await expect(job).rejects.toBeInstanceOf(CompactionThreadUnavailableError);
      expect(runner.available).toBe(false);
    } finally {
      process.off("warning", onWarning);
      await runner.close();
    }
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe("background threads outlive their runner", () => {
  /** A flush job of a small random memtable into `dir` (which gets an sst/ directory). */
  function flushJob(dir: string, seed: number, number: number) {
    fs.mkdirSync(path.join(dir, "sst"), { recursive: true });
    return { kind: "flush" as const, dir, memtable: randomMemtable(new Rng(seed), 200).image(), number, compression: "none" as const };
  }

  it("a reopened engine flushes and merges on the threads the closed one used", async () => {
    const dir = scratch.dir();
    const write = async (engine: Engine, from: number): Promise<void> => {
      for (let i = from; i < from + 3000; i++) await engine.put(numberedKey(i), taggedValue(i, 0, 40));
    };
    let engine = await Engine.open(dir, { sync: false, memtableSize: 32 * 1024 });
    await write(engine, 0);
    await engine.flush();
    await engine.compact();
    expect(engine.stats().flushes.onThread, "flushes on a thread").toBeGreaterThan(0);
    expect(engine.stats().compactions.onThread, "merges on a thread").toBeGreaterThan(0);
    await engine.close();
    const started = backgroundThreadsStarted();
    engine = await Engine.open(dir, { sync: false, memtableSize: 32 * 1024 });
    await write(engine, 3000);
    await engine.flush();
    await engine.compact();
    expect(engine.stats().flushes.onThread).toBeGreaterThan(0);
    expect(engine.stats().compactions.onThread).toBeGreaterThan(0);
    expect(backgroundThreadsStarted(), "threads started by the reopened engine").toBe(started);
    for (const i of [0, 2999, 3000, 5999]) expect(hex((await engine.get(numberedKey(i)))!)).toBe(hex(taggedValue(i, 0, 40)));
    await engine.close();
  });

  it("goes to runners of the same niceness only, and one that ran a job for another runner works for the next", async () => {
    const dir = scratch.dir();
    const a = new CompactionRunner(3);
    await a.run(flushJob(dir, 1, 11));
    await a.close();
    const started = backgroundThreadsStarted();
    const b = new CompactionRunner(4);
    await b.run(flushJob(dir, 2, 12));
    expect(backgroundThreadsStarted(), "another niceness starts its own thread").toBe(started + 1);
    const c = new CompactionRunner(3);
    const result = await c.run(flushJob(dir, 3, 13));
    expect(backgroundThreadsStarted(), "the same niceness takes the pooled thread").toBe(started + 1);
    expect(result.files.map((f) => f.number)).toEqual([13]);
    expect(fs.existsSync(tablePath(dir, 13))).toBe(true);
    await b.close();
    await c.close();
  });

  it("ends a pooled thread after it has been idle for a while", async () => {
    const dir = scratch.dir();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const a = new CompactionRunner(5);
      await a.run(flushJob(dir, 4, 21));
      await a.close(); // Pooled, with its idle timer (faked).
      const started = backgroundThreadsStarted();
      vi.advanceTimersByTime(IDLE_THREAD_MS + 1); // Leaves the pool, then is terminated.
      vi.useRealTimers();
      const b = new CompactionRunner(5);
      await b.run(flushJob(dir, 5, 22));
      expect(backgroundThreadsStarted(), "a new thread once the idle one ended").toBe(started + 1);
      await b.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
