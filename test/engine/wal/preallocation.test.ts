/**
 * Log preallocation and blocking syncs (wal/log-writer.ts, Engine's `syncLog`):
 *
 * - a synced log has zeros written ahead of its end, on MemFs and on the real disk; the records
 *   are laid out exactly as without preallocation, and closing cuts the zeros off, leaving the
 *   very bytes an unpreallocated log holds;
 * - a log that is never synced is never preallocated;
 * - power loss (MemFs): appends over synced zeros that were not synced themselves read as zeros
 *   again; recovery reports a torn tail at the end of the last synced record and keeps every
 *   acknowledged write; a crash at each file-system operation of a small synced workload keeps
 *   a prefix of the writes that holds every acknowledged one;
 * - SIGKILL (real process): the killed log ends in zeros; recovery reports them as its torn tail;
 * - the engine's group syncs block its thread while recent syncs were fast, except a sync that first
 *   writes zeros ahead; they go through the thread pool (`sync()`) while syncs are slow and when
 *   the file offers no blocking sync.
 *
 * Seeds: LSMDOC_SEED or random, in every message.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Engine } from "../../../engine/index.js";
import type { WritableFile } from "../../../engine/fs/fs.js";
import { MemFs } from "../../../engine/fs/mem-fs.js";
import { nodeFs } from "../../../engine/fs/node-fs.js";
import { LogWriter } from "../../../engine/wal/log-writer.js";
import { readLog } from "../../../engine/wal/log-reader.js";
import { encodeRecord, EntryKind } from "../../../engine/wal/record.js";
import { FixtureProcess, scan, settles, useScratch } from "../../fixtures/harness.js";
import { GatedFs } from "../../fixtures/gated-fs.js";
import { parseLine } from "../../fixtures/crash-protocol.js";
import { hex } from "../../fixtures/kv-model.js";
import { Rng, testSeeds } from "../../fixtures/random.js";

const scratch = useScratch();
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A file that hides preallocate() and syncBlocking(): the layout a plain append-only file gets. */
function plain(file: WritableFile): WritableFile {
  return {
    append: (d) => file.append(d),
    sync: () => file.sync(),
    get size() {
      return file.size;
    },
    close: () => file.close(),
  };
}

/** Seeded records from a few bytes to several blocks, each with its own seq. */
function records(seed: number, count: number): Uint8Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, i) =>
    encodeRecord(i + 1, [{ kind: EntryKind.Put, key: enc(`k${i}`), value: rng.bytes(rng.chance(0.1) ? rng.between(30_000, 90_000) : rng.int(400)) }]),
  );
}

/** Writes `recs` in groups, syncing after each group; returns the file length seen after each sync. */
async function writeLog(file: WritableFile, recs: Uint8Array[], seed: number, lengthNow: () => number): Promise<{ writer: LogWriter; ahead: number[] }> {
  const rng = new Rng(seed ^ 0x9e37);
  const writer = new LogWriter(file);
  const ahead: number[] = [];
  for (let i = 0; i < recs.length; ) {
    const n = Math.min(recs.length - i, rng.between(1, 6));
    for (let j = 0; j < n; j++) writer.addRecord(recs[i + j]!);
    writer.writePending();
    i += n;
    if (rng.chance(0.5) || !writer.trySyncBlocking()) await writer.sync();
    ahead.push(lengthNow() - writer.size);
  }
  return { writer, ahead };
}

describe("a synced log is preallocated, and closing cuts the zeros off", () => {
  for (const seed of testSeeds(2)) {
    it(`on MemFs: same bytes as an unpreallocated log (seed ${seed})`, async () => {
      const recs = records(seed, 120);
      const mem = new MemFs();
      mem.mkdirp("/wal");
      const reference = new LogWriter(plain(mem.create("/wal/plain.log")));
      for (const r of recs) reference.addRecord(r);
      reference.writePending();
      const expected = mem.readFile("/wal/plain.log");

      const file = mem.create("/wal/00001.log");
      const { writer, ahead } = await writeLog(file, recs, seed, () => mem.fileSize("/wal/00001.log"));
      expect(Math.min(...ahead), `seed ${seed}: zeros ahead of the end after every sync`).toBeGreaterThan(0);
      const open = mem.readFile("/wal/00001.log");
      expect(hex(open.subarray(0, writer.size)) === hex(expected), `seed ${seed}: records laid out as without preallocation`).toBe(true);
      expect(open.subarray(writer.size).every((b) => b === 0), `seed ${seed}: past the records only zeros`).toBe(true);
      const lines: number[] = [];
      const summary = readLog(open, "/wal/00001.log", (_, offset) => lines.push(offset));
      expect(lines.length, `seed ${seed}: every record read back`).toBe(recs.length);
      expect(summary.tornTailOffset, `seed ${seed}: the zeros read as a torn tail at the end`).toBe(writer.size);
      writer.close();
      expect(hex(mem.readFile("/wal/00001.log")) === hex(expected), `seed ${seed}: closed, the file is the plain log`).toBe(true);
    });

    it(`on the real disk: same bytes as an unpreallocated log (seed ${seed})`, async () => {
      const dir = scratch.dir();
      const recs = records(seed, 120);
      const reference = new LogWriter(plain(nodeFs.create(path.join(dir, "plain.log"))));
      for (const r of recs) reference.addRecord(r);
      reference.writePending();
      reference.close();
      const expected = fs.readFileSync(path.join(dir, "plain.log"));

      const logPath = path.join(dir, "00001.log");
      const { writer, ahead } = await writeLog(nodeFs.create(logPath), recs, seed, () => fs.statSync(logPath).size);
      expect(Math.min(...ahead), `seed ${seed}: zeros ahead of the end after every sync`).toBeGreaterThan(0);
      const open = fs.readFileSync(logPath);
      expect(open.subarray(0, writer.size).equals(expected), `seed ${seed}: records laid out as without preallocation`).toBe(true);
      expect(open.subarray(writer.size).every((b) => b === 0), `seed ${seed}: past the records only zeros`).toBe(true);
      writer.close();
      expect(fs.readFileSync(logPath).equals(expected), `seed ${seed}: closed, the file is the plain log`).toBe(true);
    });
  }

  it("a log that is never synced gets no zeros", async () => {
    const dir = scratch.dir();
    const engine = scratch.track(await Engine.open(dir, { sync: false }));
    for (let i = 0; i < 200; i++) await engine.put(enc(`key${i}`), new Uint8Array(300).fill(i));
    const stats = engine.stats();
    expect(fs.statSync(stats.wal.currentLog).size).toBe(stats.wal.currentLogBytes);
    expect(stats.writes.syncs).toBe(0);
    await engine.close();
  });

  it("an engine with sync: true preallocates its log while open", async () => {
    const dir = scratch.dir();
    const engine = scratch.track(await Engine.open(dir, { sync: true }));
    for (let i = 0; i < 200; i++) await engine.put(enc(`key${i}`), new Uint8Array(300).fill(i));
    const stats = engine.stats();
    const log = stats.wal.currentLog;
    expect(fs.statSync(log).size, "zeros ahead while open").toBeGreaterThan(stats.wal.currentLogBytes);
    // Close flushes the memtable and deletes the log; the LogWriter tests above check the cut.
    await engine.close();
    expect(fs.existsSync(log)).toBe(false);
    const again = scratch.track(await Engine.open(dir, { sync: true }));
    expect(again.stats().recovery.tornTails).toEqual([]);
    expect(Buffer.from((await again.get(enc("key199")))!).equals(new Uint8Array(300).fill(199))).toBe(true);
    await again.close();
  });
});

describe("blocking syncs", () => {
  it("a lone synced writer's syncs block the thread instead of a pool round trip", async () => {
    // On MemFs every sync is instant, so the outcome does not depend on this machine's disk.
    const engine = await Engine.open("/db", { fs: new MemFs(), sync: true });
    for (let i = 0; i < 100; i++) await engine.put(enc(`key${i}`), enc(`value${i}`));
    const { writes } = engine.stats();
    expect(writes.syncs).toBe(100);
    // The first sync writes the log's first zeros ahead, so it goes through the pool; the
    // ~2.5 KB of records never need more, and every other sync blocks.
    expect(writes.blockingSyncs).toBe(99);
    await engine.close();
  });

  it("syncs leave the thread while recent ones were slow, and block again once they are fast", async () => {
    /** MemFs whose syncs take `delayMs` (a blocking one busy-waits, as a slow disk would hold it). */
    class SlowSyncFs extends MemFs {
      delayMs = 0;
      override create(p: string): WritableFile {
        const f = super.create(p);
        const wait = (): void => {
          const until = performance.now() + this.delayMs;
          while (performance.now() < until) {
            // A disk that takes this long.
          }
        };
        return {
          append: (d) => f.append(d),
          sync: async () => {
            if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
            return f.sync();
          },
          syncBlocking: () => {
            wait();
            f.syncBlocking!();
          },
          preallocate: (upTo) => f.preallocate!(upTo),
          get size() {
            return f.size;
          },
          close: () => f.close(),
        };
      }
    }
    const slow = new SlowSyncFs();
    const engine = await Engine.open("/db", { fs: slow, sync: true });
    const blocking = (): number => engine.stats().writes.blockingSyncs;
    let n = 0;
    const writes = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++, n++) await engine.put(enc(`key${n}`), enc(`value${n}`));
    };
    await writes(20);
    expect(blocking(), "a fast disk: every sync but the first (which preallocates) blocks").toBe(19);
    slow.delayMs = 5;
    await writes(10);
    expect(blocking(), "a slow sync sends the next ones to the thread pool").toBeLessThanOrEqual(20);
    slow.delayMs = 0;
    await writes(30);
    expect(blocking(), "fast again: syncs block again").toBeGreaterThanOrEqual(40);
    expect(engine.stats().writes.syncs).toBe(60);
    await engine.close();
  });

  it("a file without a blocking sync is synced through sync()", async () => {
    const gated = new GatedFs();
    const engine = scratch.track(await Engine.open("/db", { fs: gated, sync: true }));
    for (let i = 0; i < 20; i++) await engine.put(enc(`key${i}`), enc(`value${i}`));
    expect(engine.stats().writes.syncs).toBe(20);
    expect(engine.stats().writes.blockingSyncs).toBe(0);
    await engine.close();
  });
});

// ---------------------------------------------------------------- power loss on MemFs

describe("power loss over a preallocated log (MemFs)", () => {
  it("unsynced appends over synced zeros are lost as zeros; every synced write survives", async () => {
    const mem = new MemFs();
    const engine = await Engine.open("/db", { fs: mem, sync: true });
    for (let i = 0; i < 50; i++) await engine.put(enc(`synced${i}`), new Uint8Array(200).fill(i));
    const log = engine.stats().wal.currentLog;
    const syncedEnd = engine.stats().wal.currentLogBytes;
    expect(mem.fileSize(log), "zeros ahead").toBeGreaterThan(syncedEnd + 1000);
    for (let i = 0; i < 5; i++) await engine.put(enc(`unsynced${i}`), new Uint8Array(200).fill(i), { sync: false });
    expect(engine.stats().wal.currentLogBytes).toBeGreaterThan(syncedEnd);
    mem.crash();
    const bytes = mem.readFile(log);
    expect(bytes.subarray(syncedEnd).every((b) => b === 0), "the unsynced records read as zeros").toBe(true);

    const again = await Engine.open("/db", { fs: mem, sync: true });
    const stats = again.stats();
    expect(stats.recovery.tornTails).toEqual([{ file: log, offset: syncedEnd }]);
    expect(stats.recovery.recordsReplayed).toBe(50);
    for (let i = 0; i < 50; i++) expect(Buffer.from((await again.get(enc(`synced${i}`)))!).equals(new Uint8Array(200).fill(i))).toBe(true);
    expect(await again.get(enc("unsynced0"))).toBeUndefined();
    await again.close();
  });

  /** MemFs that loses power at its n-th operation (append, sync, preallocate, create, ...). */
  class PowerCut extends MemFs {
    countdown = Infinity;
    cutAt: string | undefined;
    private tick(op: string): void {
      if (this.cutAt !== undefined) throw Object.assign(new Error(`EIO: power lost (${op})`), { code: "EIO" });
      if (--this.countdown <= 0) {
        this.cutAt = op;
        this.crash();
        throw Object.assign(new Error(`EIO: power lost at ${op}`), { code: "EIO" });
      }
    }
    override create(p: string): WritableFile {
      this.tick(`create ${p}`);
      const f = super.create(p);
      const tick = (op: string): void => this.tick(`${op} ${p}`);
      return {
        append: (d) => (tick("append"), f.append(d)),
        sync: () => {
          try {
            tick("sync");
          } catch (err) {
            return Promise.reject(err);
          }
          return f.sync();
        },
        syncBlocking: () => (tick("syncBlocking"), f.syncBlocking!()),
        preallocate: (upTo) => (tick("preallocate"), f.preallocate!(upTo)),
        get size() {
          return f.size;
        },
        close: () => f.close(),
      };
    }
    override syncDir(dir: string): Promise<void> {
      try {
        this.tick(`syncDir ${dir}`);
      } catch (err) {
        return Promise.reject(err);
      }
      return super.syncDir(dir);
    }
  }

  for (const seed of testSeeds(1)) {
    it(`a power cut at each operation of a synced workload keeps a prefix holding every acknowledged write (seed ${seed})`, async () => {
      const rng = new Rng(seed);
      // Values big enough that the log outgrows its first preallocation step (64 KiB).
      const values = Array.from({ length: 60 }, () => rng.bytes(rng.between(500, 3000)));
      const cutsAt = new Set<string>();
      for (let n = 1; ; n++) {
        const mem = new PowerCut();
        const engine = await Engine.open("/db", { fs: mem, sync: true });
        mem.countdown = n;
        let acked = 0;
        // One write after another, each its own group; every fourth one unsynced.
        for (let i = 0; i < values.length; i++) {
          try {
            await engine.put(enc(`k${String(i).padStart(3, "0")}`), values[i]!, { sync: i % 4 !== 3 });
          } catch {
            break;
          }
          acked++;
        }
        await engine.close().catch(() => undefined);
        const cut = mem.cutAt;
        if (cut === undefined) break;
        cutsAt.add(cut.replace(/\d+/g, "N"));
        mem.countdown = Infinity;
        mem.cutAt = undefined;
        const what = `seed ${seed}: power cut at operation ${n} (${cut}), ${acked} acknowledged`;
        const again = await Engine.open("/db", { fs: mem, sync: true });
        const contents = await scan(again);
        // Writes are issued and logged in key order: what survived must be the first k of them.
        const k = contents.length;
        expect(contents.map(([key]) => key), what).toEqual(values.slice(0, k).map((_, i) => hex(enc(`k${String(i).padStart(3, "0")}`))));
        contents.forEach(([, v], i) => expect(v === hex(values[i]!), `${what}: value ${i}`).toBe(true));
        // Every write acknowledged as synced is durable (unsynced ones may be lost with the tail).
        let lastSyncedAck = -1;
        for (let i = 0; i < acked; i++) if (i % 4 !== 3) lastSyncedAck = i;
        expect(k, `${what}: survivors cover every synced acknowledged write`).toBeGreaterThan(lastSyncedAck);
        await again.close();
      }
      expect([...cutsAt].some((c) => c.startsWith("preallocate")), `seed ${seed}: cuts reached a preallocation (${[...cutsAt].join(", ")})`).toBe(true);
      expect([...cutsAt].some((c) => c.startsWith("syncBlocking")), `seed ${seed}: cuts reached a blocking sync`).toBe(true);
    });
  }
});

// ---------------------------------------------------------------- SIGKILL

describe("a killed process leaves its log ending in zeros", () => {
  for (const seed of testSeeds(1)) {
    it(`recovery reads them as the torn tail and keeps every acknowledged write (seed ${seed})`, async () => {
      const dir = scratch.dir();
      let acks = 0;
      let child: FixtureProcess | undefined;
      const KILL_AFTER = 150;
      child = new FixtureProcess("crash-writer.ts", [dir, String(seed)], (text) => {
        if (parseLine(text).type === "ack" && ++acks === KILL_AFTER) child!.child.kill("SIGKILL");
      });
      const exit = await settles(child.exited, `seed ${seed}: crash-writer did not reach ${KILL_AFTER} acks; stderr:\n${child.stderr}`, 30_000);
      expect(exit.signal, `seed ${seed}: ${child.stderr}`).toBe("SIGKILL");
      const logs = fs.readdirSync(path.join(dir, "wal")).filter((n) => n.endsWith(".log")).sort();
      const newest = path.join(dir, "wal", logs[logs.length - 1]!);
      const data = new Uint8Array(fs.readFileSync(newest));
      let records = 0;
      const summary = readLog(data, newest, () => void records++);
      expect(summary.tornTailOffset, `seed ${seed}: the log ends in a torn tail`).toBeDefined();
      expect(data.length - summary.tornTailOffset!, `seed ${seed}: zeros were written ahead`).toBeGreaterThan(0);
      expect(data.subarray(summary.tornTailOffset!).every((b) => b === 0), `seed ${seed}: the tail is zeros`).toBe(true);
      expect(records, `seed ${seed}: every acknowledged write is a record`).toBeGreaterThanOrEqual(KILL_AFTER);

      const engine = scratch.track(await Engine.open(dir, { sync: true }));
      expect(engine.stats().recovery.tornTails, `seed ${seed}`).toContainEqual({ file: newest, offset: summary.tornTailOffset });
      await engine.verify();
      await engine.close();
    });
  }
});
