/**
 * Fault injection on MemFs (after LevelDB's fault_injection_test): simulated power loss at random
 * points while concurrent writers run, with and without a random part of the unsynced log tail
 * surviving, and injected I/O failures of log writes and syncs.
 *
 * What must hold after every crash and reopen (seqs are handed out in issue order, so "the first n
 * writes issued" is well defined):
 *   - the recovered state is exactly the state after the first `S - base` writes issued in the
 *     session, where S is the recovered seq: no holes, nothing reordered, batches all-or-nothing;
 *   - S covers every write acknowledged as synced before the crash.
 * And after an injected failure: the failing write rejects with IOError, the engine refuses every
 * later write, reads keep working, and a reopen recovers every acknowledged write.
 */
import { describe, expect, it } from "vitest";
import { Engine, IOError, WriteBatch } from "../../engine/index.js";
import { MemFs } from "../../engine/fs/mem-fs.js";
import { readManifestRecords } from "../../engine/manifest/manifest-log.js";
import type { WritableFile } from "../../engine/fs/fs.js";
import { scan, settles, useScratch } from "../fixtures/harness.js";
import { randomKey } from "../fixtures/internal-model.js";
import { hex, KvModel, type ModelEntry } from "../fixtures/kv-model.js";
import { Rng, testSeeds } from "../fixtures/random.js";

const scratch = useScratch();
const seeds = testSeeds(4);
const DIR = "/db";
const WAL_DIR = "/db/wal";

interface Issued {
  entries: ModelEntry[];
  sync: boolean;
  seq?: number;
  error?: unknown;
}

function randomEntries(rng: Rng): ModelEntry[] {
  const n = rng.chance(0.7) ? 1 : rng.between(2, 5);
  const entries: ModelEntry[] = [];
  for (let i = 0; i < n; i++) {
    const key = entries.length > 0 && rng.chance(0.3) ? rng.pick(entries).key : randomKey(rng);
    // Some values are large, so records span WAL blocks and a torn tail can cut one in the middle.
    const len = rng.chance(0.05) ? rng.between(2000, 40_000) : rng.int(40);
    entries.push({ key, value: rng.chance(0.75) ? rng.bytes(len) : undefined });
  }
  return entries;
}

/** Issues `w` (recording it in issue order) and records its outcome. */
function issue(engine: Engine, log: Issued[], w: Issued): Promise<void> {
  log.push(w);
  const options = { sync: w.sync };
  let p: Promise<number>;
  if (w.entries.length === 1 && w.entries[0]!.value !== undefined) p = engine.put(w.entries[0]!.key, w.entries[0]!.value, options);
  else if (w.entries.length === 1) p = engine.delete(w.entries[0]!.key, options);
  else {
    const b = new WriteBatch();
    for (const e of w.entries) {
      if (e.value === undefined) b.delete(e.key);
      else b.put(e.key, e.value);
    }
    p = engine.write(b, options);
  }
  return p.then(
    (seq) => {
      w.seq = seq;
    },
    (err: unknown) => {
      w.error = err;
    },
  );
}

/**
 * Checks a reopened engine against the session's writes and returns the new model. `base` and
 * `baseModel` are the seq and state the session started from; `mustHave` the seq every
 * acknowledged durable write is covered by.
 */
async function checkRecovered(engine: Engine, label: string, baseModel: KvModel, base: number, issued: Issued[], mustHave: number): Promise<KvModel> {
  const recovered = engine.stats().seq;
  expect(recovered, `${label}: recovered seq ${recovered} must cover acknowledged seq ${mustHave}`).toBeGreaterThanOrEqual(mustHave);
  expect(recovered - base, `${label}: recovered more writes than were issued`).toBeLessThanOrEqual(issued.length);
  for (const [i, w] of issued.entries()) {
    if (w.seq !== undefined) expect(w.seq, `${label}: write #${i} acknowledged out of issue order`).toBe(base + i + 1);
  }
  const expected = baseModel.clone();
  for (const w of issued.slice(0, recovered - base)) expected.apply(w.entries);
  expect(await scan(engine), `${label}: state must be the first ${recovered - base} of ${issued.length} writes`).toEqual(expected.scan());
  return expected;
}

/** Bytes of every file in the WAL directory, as they are in the (volatile) page cache now. */
function walContents(fs: MemFs): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const name of fs.list(WAL_DIR)) out.set(`${WAL_DIR}/${name}`, fs.readFile(`${WAL_DIR}/${name}`));
  return out;
}

/**
 * After a crash, puts back a random part of each log's lost tail: a power loss may persist some
 * unsynced pages and not others, which leaves a torn record at the end.
 */
async function restorePartialTails(fs: MemFs, before: Map<string, Uint8Array>, rng: Rng): Promise<void> {
  for (const [file, data] of before) {
    if (!fs.exists(file)) continue;
    const kept = fs.fileSize(file);
    if (kept >= data.length) continue;
    const extra = rng.int(data.length - kept + 1);
    if (extra === 0) continue;
    const w = fs.openAppend(file);
    w.append(data.subarray(kept, kept + extra));
    await w.sync();
    w.close();
  }
}

type CrashMode = "synced" | "mixed" | "torn-tail";

async function crashRounds(seed: number, mode: CrashMode): Promise<void> {
  const rng = new Rng(seed);
  const fs = new MemFs();
  let model = new KvModel();

  for (let round = 0; round < 4; round++) {
    const label = `seed=${seed} mode=${mode} round=${round}`;
    const engine = await Engine.open(DIR, { fs, sync: true });
    const base = engine.stats().seq;
    expect(await scan(engine), `${label}: state at open`).toEqual(model.scan());

    const issued: Issued[] = [];
    let acks = 0;
    const target = rng.between(5, 120);
    let stop = false;
    let reached!: () => void;
    const reachedTarget = new Promise<void>((r) => (reached = r));
    const writer = async (): Promise<void> => {
      while (!stop) {
        const w: Issued = { entries: randomEntries(rng), sync: mode === "synced" ? true : rng.chance(0.3) };
        await issue(engine, issued, w);
        if (w.error !== undefined) return;
        if (++acks >= target) reached();
      }
    };
    const writers = Array.from({ length: rng.between(1, 6) }, writer);
    await settles(Promise.race([reachedTarget, Promise.all(writers)]), `${label}: writers stopped before ${target} acks`, 10_000);
    expect(acks, `${label}: writers stopped early: ${String(issued.find((w) => w.error !== undefined)?.error)}`).toBeGreaterThanOrEqual(target);
    // Vary where in the commit cycle the power goes out.
    for (let hops = rng.int(6); hops > 0; hops--) await null;

    const mustHave = Math.max(0, ...issued.filter((w) => w.seq !== undefined && (w.sync || mode === "synced")).map((w) => w.seq!));
    const pageCache = walContents(fs);
    fs.crash();
    stop = true;
    // The dead engine must not touch the files again: fail whatever it still tries.
    fs.failAfter(0);
    await Promise.all(writers);
    fs.heal();
    if (mode === "torn-tail") await restorePartialTails(fs, pageCache, rng);

    const reopened = scratch.track(await Engine.open(DIR, { fs, sync: true }));
    model = await checkRecovered(reopened, label, model, base, issued, mustHave);
    // A second recovery of the same files finds the same state.
    await reopened.close();
    const again = scratch.track(await Engine.open(DIR, { fs }));
    expect(await scan(again), `${label}: second recovery`).toEqual(model.scan());
    await again.close();
  }
}

describe("power loss at random points", () => {
  for (const seed of seeds) {
    it(`keeps every acknowledged synced write, and only a prefix of the rest (seed ${seed})`, async () => {
      await crashRounds(seed, "synced");
    });
    it(`with sync: false writes mixed in, recovers a prefix covering every synced ack (seed ${seed})`, async () => {
      await crashRounds(seed, "mixed");
    });
    it(`with part of the unsynced tail surviving (torn records), still recovers a clean prefix (seed ${seed})`, async () => {
      await crashRounds(seed, "torn-tail");
    });
  }
});

/** A MemFs whose table syncs wait until released, so a flush can be held in the middle. */
class TableSyncGate extends MemFs {
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;

  hold(): void {
    this.gate = new Promise<void>((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
    this.gate = null;
  }

  override create(p: string): WritableFile {
    const file = super.create(p);
    if (!p.endsWith(".sst.tmp")) return file;
    const sync = async (): Promise<void> => {
      while (this.gate !== null) await this.gate;
      return file.sync();
    };
    return {
      append: (d) => file.append(d),
      sync,
      get size() {
        return file.size;
      },
      close: () => file.close(),
    };
  }
}

describe("unsynced writes across memtable switches", () => {
  it("a synced write makes every earlier write durable, including those of an older log whose flush is pending", async () => {
    const fs = new TableSyncGate();
    const engine = await Engine.open(DIR, { fs, sync: false, memtableSize: 4096 });
    fs.hold(); // Flushes now stop before their table is durable, so no log is retired.
    const value = new Uint8Array(100).fill(7);
    const key = (i: number): Buffer => Buffer.from(`k${String(i).padStart(4, "0")}`);
    let n = 0;
    while (!engine.stats().memtable.immutable) await engine.put(key(n++), value);
    // The first log's records are unsynced and its memtable's flush is stuck; a few more go to the new log.
    for (let i = 0; i < 5; i++) await engine.put(key(n++), value);
    await engine.put(Buffer.from("last"), value, { sync: true });
    fs.crash(); // Power loss: every unsynced byte is gone.
    fs.release();
    const reopened = await Engine.open(DIR, { fs });
    try {
      const missing: number[] = [];
      for (let i = 0; i < n; i++) if ((await reopened.get(key(i))) === undefined) missing.push(i);
      expect(await reopened.get(Buffer.from("last")), "the synced write").toBeDefined();
      expect(missing, `of ${n} earlier unsynced writes, lost`).toEqual([]);
    } finally {
      await reopened.close();
    }
  });
});

describe("injected I/O failures", () => {
  for (const seed of seeds) {
    it(`a failed log write or sync rejects with IOError and stops all later writes (seed ${seed})`, async () => {
      const rng = new Rng(seed);
      for (let round = 0; round < 4; round++) {
        const label = `seed=${seed} round=${round}`;
        const fs = new MemFs();
        const engine = await Engine.open(DIR, { fs, sync: true });
        const issued: Issued[] = [];
        const acked = new KvModel();
        for (let i = rng.int(10); i > 0; i--) {
          const w: Issued = { entries: randomEntries(rng), sync: rng.chance(0.5) };
          await issue(engine, issued, w);
          expect(w.error, label).toBeUndefined();
          acked.apply(w.entries);
        }
        const lastAcked = engine.stats().seq;

        // The n-th next file operation fails: with one append and maybe one sync per group, the
        // failure lands on a log write or on a sync, in the first group or a later one.
        fs.failAfter(rng.int(6));
        let failedAt = -1;
        while (failedAt < 0) {
          const burst = Array.from({ length: rng.between(1, 4) }, (): Issued => ({ entries: randomEntries(rng), sync: rng.chance(0.6) }));
          await Promise.all(burst.map((w) => issue(engine, issued, w)));
          for (const w of burst) {
            if (w.error !== undefined) {
              expect(w.error, `${label}: ${String(w.error)}`).toBeInstanceOf(IOError);
              if (failedAt < 0) failedAt = issued.indexOf(w);
            } else {
              expect(failedAt, `${label}: a write after a failed one was acknowledged`).toBe(-1);
              acked.apply(w.entries);
            }
          }
        }
        const attempted = issued.length;

        // From now on the engine refuses to write, even once the disk is healthy again.
        fs.heal();
        for (let i = 0; i < 3; i++) {
          const w: Issued = { entries: randomEntries(rng), sync: rng.chance(0.5) };
          await issue(engine, issued, w);
          expect(w.error, `${label}: write after the failure`).toBeInstanceOf(IOError);
        }
        await expect(engine.write(new WriteBatch()), `${label}: empty batch after the failure`).rejects.toBeInstanceOf(IOError);
        // Reads still answer, with exactly the acknowledged writes.
        expect(engine.stats().seq, label).toBe(Math.max(lastAcked, ...issued.filter((w) => w.seq !== undefined).map((w) => w.seq!)));
        expect(await scan(engine), `${label}: reads of the failed engine`).toEqual(acked.scan());

        await engine.close();
        const reopened = scratch.track(await Engine.open(DIR, { fs }));
        // The failed group may or may not have reached the log; writes refused afterwards never did.
        const mustHave = Math.max(0, ...issued.map((w) => w.seq ?? 0));
        await checkRecovered(reopened, `${label} reopen`, new KvModel(), 0, issued.slice(0, attempted), mustHave);
        expect(failedAt, label).toBeGreaterThanOrEqual(0);
        await reopened.close();
      }
    });
  }

  it("a failed sync followed by a power loss loses the failed write but no acknowledged one", async () => {
    const fs = new MemFs();
    const engine = await Engine.open(DIR, { fs, sync: true });
    await engine.put(Uint8Array.of(1), Uint8Array.of(1));
    await engine.put(Uint8Array.of(2), Uint8Array.of(2));
    fs.failAfter(1); // the append succeeds, its sync fails
    await expect(engine.put(Uint8Array.of(3), Uint8Array.of(3))).rejects.toBeInstanceOf(IOError);
    fs.crash();
    fs.heal();
    const reopened = scratch.track(await Engine.open(DIR, { fs }));
    expect(reopened.stats().seq).toBe(2);
    expect(await scan(reopened)).toEqual([
      ["01", "01"],
      ["02", "02"],
    ]);
    expect(hex((await reopened.get(Uint8Array.of(2)))!)).toBe("02");
  });

  it("open on a failing file system rejects with IOError, releases the lock, and damages nothing", async () => {
    const fs = new MemFs();
    const engine = await Engine.open(DIR, { fs });
    await engine.put(Uint8Array.of(7), Uint8Array.of(7));
    await engine.close();
    const notIoErrors: string[] = [];
    // Opens that continue the manifest, then opens that rewrite it (a torn tail): more operations.
    for (let n = 0; n < 14; n++) {
      if (n >= 4) {
        const manifest = `${DIR}/${Buffer.from(fs.readFile(`${DIR}/CURRENT`)).toString("latin1").trim()}`;
        if (readManifestRecords(fs.readFile(manifest), manifest, () => undefined).tornTailOffset === undefined) {
          const f = fs.openAppend(manifest);
          f.append(Uint8Array.of(1, 2, 3));
          await f.sync();
        }
      }
      fs.failAfter(n < 4 ? n : n - 4);
      const err = await Engine.open(DIR, { fs }).then(
        async (e) => {
          await scratch.track(e).close();
          return null;
        },
        (e: unknown) => e,
      );
      fs.heal();
      if (err === null) continue; // open needed fewer than n + 1 file operations
      if (!(err instanceof IOError)) notIoErrors.push(`failAfter(${n}): ${String(err)}`);
      // The failed open let go of the lock and left the data readable.
      const ok = scratch.track(await Engine.open(DIR, { fs }));
      expect(await scan(ok), `failAfter(${n})`).toEqual([["07", "07"]]);
      await ok.close();
    }
    expect(notIoErrors, "every file-system failure during open surfaces as IOError").toEqual([]);
  });
});
