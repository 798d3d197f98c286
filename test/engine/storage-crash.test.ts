/**
 * Crash recovery while flushes and compactions run.
 *
 * Real crashes: storage-crash-writer.ts (a child process with `sync: true` and a 32 KiB memtable,
 * so that tables are written and compacted continuously, four concurrent writers) is SIGKILLed at
 * chosen moments: after a random number of acknowledged writes, while a memtable flush is pending,
 * while a table file is being written (a `*.sst.tmp` exists), and while level 0 is at its
 * compaction trigger. After each kill the parent reopens the directory and checks that
 * - every acknowledged write is there: each key holds the value of its last acknowledged write or
 *   of a write issued after it;
 * - more strictly, the contents are exactly the issued writes up to the recovered seq (a kill
 *   loses no page-cache data, so nothing written to the log may be missing, and writes are
 *   logged in issue order);
 * - verify() passes, and reopening twice more gives the same contents and seq.
 * The next round's child continues on the same directory.
 *
 * Simulated power loss: on MemFs, the n-th file-system operation (any, or only those of
 * background work: tables, manifest, CURRENT, deletions) crashes the file system instead of
 * running: unsynced bytes and undurable directory entries are dropped, and every later operation
 * of the old engine fails. The engine is reopened on what survived and must hold a prefix of the
 * issued writes that includes every acknowledged one.
 *
 * Seeds: LSMDOC_SEED or random, in every message; LSMDOC_SOAK=1 runs more rounds.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Engine, WriteBatch } from "../../engine/index.js";
import type { WritableFile } from "../../engine/fs/fs.js";
import { MemFs } from "../../engine/fs/mem-fs.js";
import { L0_COMPACTION_TRIGGER } from "../../engine/compaction/picker.js";
import { parseLine, valueFor, type CrashEntry } from "../fixtures/crash-protocol.js";
import { FixtureProcess, scan, settles, useScratch } from "../fixtures/harness.js";
import { fromHex, hex, KvModel, type HexPairs, type ModelEntry } from "../fixtures/kv-model.js";
import { Rng, soakEnabled, testSeeds } from "../fixtures/random.js";

const scratch = useScratch();

function toModelEntries(id: number, entries: CrashEntry[]): ModelEntry[] {
  return entries.map((e, i) => ({ key: fromHex(e.key), value: e.op === "put" ? valueFor(id, i, e.length) : undefined }));
}

/** What each key must hold: the value of its last acknowledged write, or of a later issued one. */
function checkAcknowledged(
  contents: Map<string, string>,
  issued: Array<{ entries: ModelEntry[]; acked: boolean }>,
  label: string,
): void {
  const lastAcked = new Map<string, number>();
  issued.forEach((w, i) => {
    if (w.acked) for (const e of w.entries) lastAcked.set(hex(e.key), i);
  });
  for (const [key, from] of lastAcked) {
    const allowed = new Set<string | undefined>();
    for (let i = from; i < issued.length; i++) {
      // Within one write a later entry for the same key wins.
      const mine = issued[i]!.entries.filter((e) => hex(e.key) === key);
      if (mine.length > 0) {
        const v = mine[mine.length - 1]!.value;
        allowed.add(v === undefined ? undefined : hex(v));
      }
    }
    const got = contents.get(key);
    expect(allowed.has(got), `${label}: key ${key} holds ${got === undefined ? "nothing" : `${got.length / 2} bytes`}, not its last acknowledged value or a later one`).toBe(true);
  }
}

function asMap(pairs: HexPairs): Map<string, string> {
  return new Map(pairs);
}

/**
 * The smallest n >= `min` such that `base` plus the first n issued writes equals `contents`, or
 * undefined. Writes are durable in issue order, so the survivors must be such a prefix.
 */
function matchingPrefix(base: KvModel, issued: Array<{ entries: ModelEntry[] }>, min: number, contents: HexPairs): number | undefined {
  const m = base.clone();
  for (let i = 0; i < min; i++) m.apply(issued[i]!.entries);
  const want = JSON.stringify(contents);
  for (let n = min; n <= issued.length; n++) {
    if (JSON.stringify(m.scan()) === want) return n;
    if (n < issued.length) m.apply(issued[n]!.entries);
  }
  return undefined;
}

// ---------------------------------------------------------------- SIGKILL

type KillMode = "acks" | "flush pending" | "table being written" | "level 0 at trigger";

interface Session {
  openSeq: number;
  issued: Array<{ id: number; entries: ModelEntry[]; acked: boolean; seq: number }>;
  killedAt: string;
  /** The child's flush and compaction counts at its last `bg` line. */
  flushes: number;
  compactions: number;
}

async function runKilledSession(dir: string, seed: number, firstId: number, mode: KillMode, rng: Rng): Promise<Session> {
  const lines: string[] = [];
  let acks = 0;
  let killedAt = "";
  const minAcks = rng.between(20, 1200);
  const ackTarget = rng.between(100, 2500);
  let proc: FixtureProcess | undefined;
  const kill = (why: string): void => {
    if (killedAt !== "" || proc === undefined) return;
    killedAt = `${why} after ${acks} acks`;
    proc.child.kill("SIGKILL");
  };
  proc = new FixtureProcess("storage-crash-writer.ts", [dir, String(seed), String(firstId)], (line) => {
    lines.push(line);
    if (line.startsWith("ack ")) acks++;
    if (acks < minAcks) return;
    if (mode === "acks" && acks >= ackTarget) kill("ack target");
    if (line.startsWith("bg ")) {
      const [, imm, l0] = line.split(" ").map(Number);
      if (mode === "flush pending" && imm === 1) kill("flush pending");
      if (mode === "level 0 at trigger" && l0! >= L0_COMPACTION_TRIGGER) kill(`${l0} level-0 tables`);
    }
    // A cap, so that a mode whose moment never comes still ends the round.
    if (acks >= 5000) kill("cap");
  });
  let polling = true;
  const poll = (async () => {
    while (polling && mode === "table being written") {
      await new Promise((r) => setTimeout(r, 1));
      if (acks < minAcks) continue;
      let names: string[] = [];
      try {
        names = fs.readdirSync(dir);
      } catch {
        continue;
      }
      const tmp = names.find((n) => n.endsWith(".sst.tmp"));
      if (tmp !== undefined) kill(`while ${tmp} was being written`);
    }
  })();
  const exit = await settles(proc.exited, `seed=${seed}: child did not end (${mode})`, 30_000);
  polling = false;
  await poll;
  if (killedAt === "") throw new Error(`seed=${seed}: child exited by itself (${exit.code ?? exit.signal}); stderr:\n${proc.stderr}`);
  expect(exit.signal, `seed=${seed}: child killed`).toBe("SIGKILL");

  let openSeq = -1;
  let flushes = 0;
  let compactions = 0;
  const issued: Session["issued"] = [];
  const byId = new Map<number, Session["issued"][number]>();
  for (const text of lines) {
    if (text.startsWith("bg ")) {
      [, , , flushes, compactions] = text.split(" ").map(Number) as [number, number, number, number, number];
      continue;
    }
    const line = parseLine(text);
    if (line.type === "open") openSeq = line.seq;
    else if (line.type === "issue") {
      const w = { id: line.id, entries: toModelEntries(line.id, line.entries), acked: false, seq: openSeq + issued.length + 1 };
      issued.push(w);
      byId.set(line.id, w);
    } else {
      const w = byId.get(line.id)!;
      expect(line.seq, `seed=${seed}: write ${line.id} was acknowledged with the seq of its issue position`).toBe(w.seq);
      w.acked = true;
    }
  }
  expect(openSeq, `seed=${seed}: child opened`).toBeGreaterThanOrEqual(0);
  return { openSeq, issued, killedAt, flushes, compactions };
}

describe("SIGKILL during flushes and compactions", () => {
  const seed = testSeeds(1)[0]!;
  const rounds = soakEnabled() ? 30 : 6;
  it(`every acknowledged write survives, the state is a prefix of the issued writes, and verify() passes (seed ${seed}, ${rounds} rounds)`, { timeout: soakEnabled() ? 900_000 : 90_000 }, async () => {
    const rng = new Rng(seed);
    const dir = scratch.dir();
    const modes: KillMode[] = ["table being written", "flush pending", "level 0 at trigger", "acks"];
    const model = new KvModel();
    let firstId = 0;
    let lastSeq = 0;
    let flushes = 0;
    let compactions = 0;
    for (let round = 0; round < rounds; round++) {
      const mode = modes[round % modes.length]!;
      const session = await runKilledSession(dir, seed + round, firstId, mode, rng);
      const label = `seed=${seed} round ${round} (killed ${session.killedAt})`;
      firstId += session.issued.length + 1;
      expect(session.openSeq, `${label}: the child recovered the previous round's seq`).toBe(lastSeq);

      let engine = scratch.track(await Engine.open(dir));
      const st = engine.stats();
      const recoveredSeq = st.seq;
      const maxAcked = Math.max(session.openSeq, ...session.issued.filter((w) => w.acked).map((w) => w.seq));
      expect(recoveredSeq, `${label}: recovered seq covers every acknowledged write`).toBeGreaterThanOrEqual(maxAcked);
      expect(recoveredSeq, `${label}: recovered seq is an issued one`).toBeLessThanOrEqual(session.openSeq + session.issued.length);
      const contents = await scan(engine);
      checkAcknowledged(asMap(contents), session.issued, label);
      const expected = model.clone();
      for (const w of session.issued) if (w.seq <= recoveredSeq) expected.apply(w.entries);
      if (JSON.stringify(contents) !== JSON.stringify(expected.scan())) {
        const n = matchingPrefix(model, session.issued, 0, contents);
        expect.fail(`${label}: contents are not the issued writes up to recovered seq ${recoveredSeq}; they match ${n === undefined ? "no prefix" : `the first ${n} writes (seq ${session.openSeq + n})`}`);
      }
      await engine.verify();
      await engine.close();
      for (let again = 0; again < 2; again++) {
        engine = scratch.track(await Engine.open(dir));
        expect(engine.stats().seq, `${label}: seq after reopen ${again + 1}`).toBe(recoveredSeq);
        expect(await scan(engine), `${label}: contents after reopen ${again + 1}`).toEqual(contents);
        await engine.close();
      }
      for (const w of session.issued) if (w.seq <= recoveredSeq) model.apply(w.entries);
      lastSeq = recoveredSeq;
      flushes += session.flushes;
      compactions += session.compactions;
      console.log(
        `${label}: ${session.issued.length} issued, ${session.issued.filter((w) => w.acked).length} acknowledged, recovered seq ${recoveredSeq}, ` +
          `${st.recovery.logsReplayed} logs replayed, ${fs.readdirSync(path.join(dir, "sst")).length} tables; the child ran ${session.flushes} flushes, ${session.compactions} compactions`,
      );
    }
    expect(flushes, `seed=${seed}: the children flushed`).toBeGreaterThan(0);
    expect(compactions, `seed=${seed}: the children compacted`).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------- simulated power loss

/**
 * MemFs that crashes itself at a chosen operation: instead of running it, the file system loses
 * what a power loss loses and fails every later operation until `restart()`.
 */
class CrashPointFs extends MemFs {
  private countdown = Infinity;
  private backgroundOnly = false;
  crashedAt: string | undefined;
  ops = 0;

  /** Crashes at the `n`-th next operation (counting only background work's files if asked). */
  arm(n: number, backgroundOnly: boolean): void {
    this.countdown = n;
    this.backgroundOnly = backgroundOnly;
  }

  restart(): void {
    this.countdown = Infinity;
    this.crashedAt = undefined;
    this.heal();
  }

  private tick(op: string, p: string): void {
    if (this.crashedAt !== undefined) throw Object.assign(new Error(`EIO: file system crashed (${op} ${p})`), { code: "EIO" });
    this.ops++;
    const counts = !this.backgroundOnly || !p.includes(`${path.sep}wal${path.sep}`);
    if (counts && --this.countdown <= 0) {
      this.crashedAt = `${op} ${p}`;
      this.failAfter(0);
      this.crash();
      throw Object.assign(new Error(`EIO: file system crashed at ${op} ${p}`), { code: "EIO" });
    }
  }

  private wrap(f: WritableFile, p: string): WritableFile {
    return {
      append: (data) => {
        this.tick("append", p);
        f.append(data);
      },
      sync: () => {
        try {
          this.tick("sync", p);
        } catch (err) {
          return Promise.reject(err);
        }
        return f.sync();
      },
      // Crash points too, so that power losses around a log's preallocated zeros are covered.
      syncBlocking: () => {
        this.tick("syncBlocking", p);
        f.syncBlocking!();
      },
      preallocate: (upTo) => {
        this.tick("preallocate", p);
        f.preallocate!(upTo);
      },
      get size() {
        return f.size;
      },
      close: () => f.close(),
    };
  }

  override create(p: string): WritableFile {
    this.tick("create", p);
    return this.wrap(super.create(p), p);
  }

  override openAppend(p: string): WritableFile {
    this.tick("openAppend", p);
    return this.wrap(super.openAppend(p), p);
  }

  override rename(from: string, to: string): void {
    this.tick("rename", to);
    super.rename(from, to);
  }

  override unlink(p: string): void {
    this.tick("unlink", p);
    super.unlink(p);
  }

  override syncDir(dir: string): Promise<void> {
    try {
      this.tick("syncDir", dir);
    } catch (err) {
      return Promise.reject(err);
    }
    return super.syncDir(dir);
  }
}

async function powerLossRounds(seed: number, rounds: number): Promise<void> {
  const rng = new Rng(seed);
  const memFs = new CrashPointFs();
  const dir = "/db";
  const memtableSize = rng.pick([8, 16, 32]) * 1024;
  const options = { fs: memFs, sync: true, memtableSize };
  const keys = Array.from({ length: 600 }, (_, i) => Uint8Array.of(i >> 8, i & 0xff, 0x5a));
  let model = new KvModel();
  let engine = scratch.track(await Engine.open(dir, options));
  let flushes = 0;
  let compactions = 0;
  const crashPoints: string[] = [];

  for (let round = 0; round < rounds; round++) {
    const backgroundOnly = rng.chance(0.7);
    const label = `seed=${seed} memtable=${memtableSize} round ${round}`;
    const issued: Array<{ entries: ModelEntry[]; acked: boolean; failed: boolean }> = [];
    memFs.arm(rng.between(1, backgroundOnly ? 60 : 400), backgroundOnly);
    const writer = async (w: Rng): Promise<void> => {
      for (let n = 0; n < 3000 && memFs.crashedAt === undefined; n++) {
        const entries: ModelEntry[] = Array.from({ length: w.chance(0.7) ? 1 : w.between(2, 5) }, () => {
          const r = w.float();
          return { key: w.pick(keys), value: r < 0.15 ? undefined : w.bytes(r < 0.8 ? w.int(300) : w.between(300, 6000)) };
        });
        const record = { entries, acked: false, failed: false };
        issued.push(record);
        let pending: Promise<number>;
        if (entries.length === 1 && w.chance(0.8)) {
          const e = entries[0]!;
          pending = e.value === undefined ? engine.delete(e.key) : engine.put(e.key, e.value);
        } else {
          const b = new WriteBatch();
          for (const e of entries) (e.value === undefined ? b.delete(e.key) : b.put(e.key, e.value));
          pending = engine.write(b);
        }
        try {
          await pending;
          record.acked = true;
        } catch {
          record.failed = true;
          return;
        }
      }
    };
    await settles(Promise.all(Array.from({ length: 4 }, () => writer(rng.fork()))), `${label}: writers`, 20_000);
    const before = engine.stats();
    flushes += before.flushes.count;
    compactions += before.compactions.count;
    const crashedAt = memFs.crashedAt ?? "(no crash: writers ran out)";
    crashPoints.push(crashedAt.replace(/\d+/g, "N"));
    // The old engine may only fail from here on; let it wind down before anything reopens.
    await settles(engine.close().catch(() => undefined), `${label}: close after the crash at ${crashedAt}`, 20_000);
    memFs.restart();
    if (crashedAt.startsWith("(")) memFs.crash();

    // Sometimes the power fails again while the engine recovers (replaying logs, writing the new
    // manifest, switching CURRENT, removing leftovers); the open after that must still be right.
    let reopenCrash = "";
    if (rng.chance(0.3)) {
      memFs.arm(rng.between(1, 12), false);
      const err = await Engine.open(dir, options).then(
        (e) => e.close().then(() => undefined, (x: unknown) => x),
        (e: unknown) => e,
      );
      if (memFs.crashedAt !== undefined) {
        reopenCrash = `, then at ${memFs.crashedAt} during recovery (${String(err)})`;
        crashPoints.push(`recovery: ${memFs.crashedAt.replace(/\d+/g, "N")}`);
        memFs.restart();
      } else {
        memFs.restart();
        memFs.crash();
      }
    }

    engine = scratch.track(await Engine.open(dir, options));
    const contents = await scan(engine);
    checkAcknowledged(asMap(contents), issued, `${label} crash at ${crashedAt}${reopenCrash}`);
    const lastAcked = issued.reduce((m, w, i) => (w.acked ? i : m), -1);
    const n = matchingPrefix(model, issued, lastAcked + 1, contents);
    expect(n, `${label}: after a crash at ${crashedAt}${reopenCrash}, the contents are the first n issued writes for some n covering every acknowledged one`).toBeDefined();
    await engine.verify();
    await engine.close();
    for (let again = 0; again < 2; again++) {
      engine = scratch.track(await Engine.open(dir, options));
      expect(await scan(engine), `${label}: contents after reopen ${again + 1}`).toEqual(contents);
      if (again === 0) await engine.close();
    }
    model = new KvModel();
    model.apply(contents.map(([k, v]) => ({ key: fromHex(k), value: fromHex(v) })));
  }
  await engine.close();
  console.log(`power loss (seed ${seed}): ${rounds} rounds, ${flushes} flushes, ${compactions} compactions; crash points: ${[...new Set(crashPoints)].join(", ")}`);
  expect(flushes, `seed=${seed}: flushes ran`).toBeGreaterThan(0);
  expect(compactions, `seed=${seed}: compactions ran`).toBeGreaterThan(0);
}

describe("power loss during flushes and compactions (MemFs)", () => {
  for (const seed of testSeeds(3)) {
    const rounds = soakEnabled() ? 200 : 25;
    it(`acknowledged writes survive a crash at any file-system operation (seed ${seed}, ${rounds} rounds)`, { timeout: soakEnabled() ? 900_000 : 60_000 }, async () => {
      await powerLossRounds(seed, rounds);
    });
  }
});
