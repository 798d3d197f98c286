/**
 * Randomized model-based test of the engine against a plain Map (kv-model.ts): random puts,
 * deletes and batches (with repeated keys), bursts of concurrent writes, gets, iterations with
 * random bounds / direction / limit (some stepped while writes continue), snapshots held and
 * checked later against the model as it was when they were taken, and reopens at random points.
 * Every write's seq is checked too: one more than the previous, in issue order, across reopens.
 * Where the engine has `flush()` / `compact()` (SPEC §2) they are called at random points too, and
 * a small `memtableSize` in some runs makes the engine switch memtables on its own.
 *
 * Runs on a real temp directory (NodeFs) and on a fresh MemFs. Seeds: LSMDOC_SEED or random; each
 * message carries the seed and the op number. LSMDOC_SOAK=1 adds a long variant.
 */
import { describe, expect, it } from "vitest";
import { Engine, InvalidArgumentError, WriteBatch, type IterateOptions, type Snapshot } from "../../engine/index.js";
import { MemFs } from "../../engine/fs/mem-fs.js";
import { scan, settles, useScratch } from "../fixtures/harness.js";
import { randomKey } from "../fixtures/internal-model.js";
import { fromHex, hex, KvModel, type ModelEntry } from "../fixtures/kv-model.js";
import { Rng, soakEnabled, testSeeds } from "../fixtures/random.js";

const scratch = useScratch();

type FsKind = "node" | "mem";

interface HeldSnapshot {
  snap: Snapshot;
  model: KvModel;
}

function randomValue(rng: Rng): Uint8Array {
  const r = rng.float();
  if (r < 0.1) return new Uint8Array(0);
  if (r < 0.7) return rng.bytes(rng.int(17));
  if (r < 0.95) return rng.bytes(rng.between(17, 300));
  return rng.bytes(rng.between(300, 5000));
}

function randomEntries(rng: Rng, max: number): ModelEntry[] {
  const n = rng.between(1, max);
  const entries: ModelEntry[] = [];
  for (let i = 0; i < n; i++) {
    const key = entries.length > 0 && rng.chance(0.3) ? rng.pick(entries).key : randomKey(rng);
    entries.push({ key, value: rng.chance(0.7) ? randomValue(rng) : undefined });
  }
  return entries;
}

function randomScanOptions(rng: Rng): IterateOptions {
  const o: IterateOptions = {};
  const lower = rng.int(3);
  if (lower === 1) o.gt = randomKey(rng);
  if (lower === 2) o.gte = randomKey(rng);
  const upper = rng.int(3);
  if (upper === 1) o.lt = randomKey(rng);
  if (upper === 2) o.lte = randomKey(rng);
  if (rng.chance(0.5)) o.reverse = true;
  if (rng.chance(0.4)) o.limit = rng.int(12);
  return o;
}

function describeOptions(o: IterateOptions): string {
  return JSON.stringify(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v instanceof Uint8Array ? hex(v) : k === "snapshot" ? "snap" : v])));
}

function describeEntries(entries: ModelEntry[]): string {
  return entries.map((e) => (e.value === undefined ? `del ${hex(e.key)}` : `put ${hex(e.key)}=${e.value.length}B`)).join(", ");
}

/** Issues one write of `entries` (single put/delete or batch) and returns its promise. */
function issue(engine: Engine, rng: Rng, entries: ModelEntry[]): Promise<number> {
  const sync = rng.pick([undefined, false, true]);
  const options = sync === undefined ? undefined : { sync };
  if (entries.length === 1 && rng.chance(0.8)) {
    const e = entries[0]!;
    return e.value === undefined ? engine.delete(e.key, options) : engine.put(e.key, e.value, options);
  }
  const batch = new WriteBatch();
  for (const e of entries) {
    if (e.value === undefined) batch.delete(e.key);
    else batch.put(e.key, e.value);
  }
  return engine.write(batch, options);
}

/** What a run is doing, for the message of the liveness guard. */
interface Progress {
  step: string;
}

async function runModel(seed: number, fsKind: FsKind, ops: number, progress: Progress): Promise<void> {
  const rng = new Rng(seed);
  const memFs = fsKind === "mem" ? new MemFs() : undefined;
  const dir = fsKind === "mem" ? "/db" : scratch.dir();
  const openEngine = async (): Promise<Engine> => {
    const options = { sync: fsKind === "mem" ? rng.chance(0.5) : false, ...(rng.chance(0.5) ? { memtableSize: 4096 } : {}) };
    return scratch.track(await Engine.open(dir, memFs ? { ...options, fs: memFs } : options));
  };

  let engine = await openEngine();
  const model = new KvModel();
  let lastSeq = 0;
  const held: HeldSnapshot[] = [];

  for (let op = 0; op < ops; op++) {
    const r = rng.float();
    const at = (what: string) => `seed=${seed} fs=${fsKind} op#${op} ${what}`;
    // A few promise-reaction steps between operations: commit-loop races show up only when a
    // write arrives at a particular step after the previous one resolved.
    for (let hops = rng.int(4); hops > 0; hops--) await null;

    if (r < 0.3) {
      const entries = randomEntries(rng, rng.chance(0.6) ? 1 : 6);
      const what = at(`write [${describeEntries(entries)}]`);
      progress.step = what;
      expect(await issue(engine, rng, entries), what).toBe(++lastSeq);
      model.apply(entries);
    } else if (r < 0.38) {
      // A burst of writes in flight together; one snapshot taken before any of them commits.
      const writes = Array.from({ length: rng.between(2, 8) }, () => randomEntries(rng, rng.chance(0.5) ? 1 : 4));
      const pending = writes.map((w) => issue(engine, rng, w));
      const before = engine.snapshot();
      const beforeModel = model.clone();
      progress.step = at(`burst of ${writes.length}`);
      const seqs = await Promise.all(pending);
      expect(seqs, at(`burst of ${writes.length}`)).toEqual(writes.map((_, i) => lastSeq + i + 1));
      lastSeq += writes.length;
      for (const w of writes) model.apply(w);
      expect(before.seq, at("snapshot taken during a burst")).toBe(lastSeq - writes.length);
      expect(await scan(engine, { snapshot: before }), at("snapshot taken during a burst")).toEqual(beforeModel.scan());
      before.release();
    } else if (r < 0.4) {
      expect(await engine.write(new WriteBatch()), at("empty batch")).toBe(lastSeq);
    } else if (r < 0.55) {
      // Mostly keys that exist (or did), some that never did.
      const existing = model.scan();
      const key = existing.length > 0 && rng.chance(0.6) ? fromHex(rng.pick(existing)[0]) : randomKey(rng);
      const got = rng.chance(0.5) ? await engine.get(key) : engine.getSync(key);
      expect(got === undefined ? undefined : hex(got), at(`get ${hex(key)}`)).toBe(model.get(key));
    } else if (r < 0.67) {
      const o = randomScanOptions(rng);
      expect(await scan(engine, o), at(`iterate ${describeOptions(o)}`)).toEqual(model.scan(o));
    } else if (r < 0.72) {
      // An iterator stepped while writes keep landing sees the state at its creation.
      const o = randomScanOptions(rng);
      const expected = model.scan(o);
      const iter = engine.iterate(o);
      const got: Array<[string, string]> = [];
      for (;;) {
        if (rng.chance(0.5)) {
          const entries = randomEntries(rng, 3);
          progress.step = at("write during iteration");
          expect(await issue(engine, rng, entries), at("write during iteration")).toBe(++lastSeq);
          model.apply(entries);
        }
        const step = await iter.next();
        if (step.done) break;
        got.push([hex(step.value[0]), hex(step.value[1])]);
      }
      expect(got, at(`iterate during writes ${describeOptions(o)}`)).toEqual(expected);
    } else if (r < 0.78) {
      if (held.length < 5) {
        const snap = engine.snapshot();
        expect(snap.seq, at("snapshot seq")).toBe(lastSeq);
        held.push({ snap, model: model.clone() });
        expect(engine.stats().snapshots, at("snapshot count")).toBe(held.length);
      }
    } else if (r < 0.86) {
      if (held.length > 0) {
        const h = rng.pick(held);
        for (let i = 0; i < 4; i++) {
          const key = randomKey(rng);
          const got = await engine.get(key, { snapshot: h.snap });
          expect(got === undefined ? undefined : hex(got), at(`get ${hex(key)} at snapshot ${h.snap.seq}`)).toBe(h.model.get(key));
        }
        const o = randomScanOptions(rng);
        expect(await scan(engine, { ...o, snapshot: h.snap }), at(`iterate ${describeOptions(o)} at snapshot ${h.snap.seq}`)).toEqual(h.model.scan(o));
      }
    } else if (r < 0.9) {
      if (held.length > 0) {
        const [h] = held.splice(rng.int(held.length), 1);
        h!.snap.release();
        await expect(engine.get(randomKey(rng), { snapshot: h!.snap }), at("get with released snapshot")).rejects.toBeInstanceOf(InvalidArgumentError);
        expect(engine.stats().snapshots, at("snapshot count after release")).toBe(held.length);
      }
    } else if (r < 0.915) {
      // Flush and compaction (SPEC §2), where the engine has them, change no answer.
      const maintenance = engine as unknown as { flush?: () => Promise<void>; compact?: () => Promise<void> };
      progress.step = at("flush/compact");
      if (rng.chance(0.7)) await maintenance.flush?.();
      else await maintenance.compact?.();
      expect(await scan(engine), at("contents after flush/compact")).toEqual(model.scan());
    } else if (r < 0.935) {
      for (const h of held.splice(0)) h.snap.release();
      progress.step = at("close");
      await engine.close();
      engine = await openEngine();
      expect(engine.stats().seq, at("seq after reopen")).toBe(lastSeq);
      expect(await scan(engine), at("contents after reopen")).toEqual(model.scan());
    } else {
      // Deletes of keys that exist, so the model does not drift towards full.
      const existing = model.scan();
      if (existing.length > 0) {
        const [kh] = rng.pick(existing);
        const key = fromHex(kh);
        progress.step = at(`delete existing ${kh}`);
        expect(await engine.delete(key), at(`delete existing ${kh}`)).toBe(++lastSeq);
        model.apply([{ key, value: undefined }]);
      }
    }
  }

  for (const h of held.splice(0)) h.snap.release();
  expect(await scan(engine), `seed=${seed} fs=${fsKind} final contents`).toEqual(model.scan());
  expect(await scan(engine, { reverse: true }), `seed=${seed} fs=${fsKind} final contents reversed`).toEqual(model.scan({ reverse: true }));
  await engine.close();
  engine = await openEngine();
  expect(engine.stats().seq, `seed=${seed} fs=${fsKind} final seq after reopen`).toBe(lastSeq);
  expect(await scan(engine), `seed=${seed} fs=${fsKind} final contents after reopen`).toEqual(model.scan());
  await engine.close();
}

describe("engine vs. Map model", () => {
  for (const fsKind of ["node", "mem"] as const) {
    for (const seed of testSeeds(5)) {
      it(`fs=${fsKind} seed=${seed}, 300 ops`, async () => {
        const progress = { step: `seed=${seed} fs=${fsKind} open` };
        await settles(runModel(seed, fsKind, 300, progress), () => progress.step, 10_000);
      });
    }
  }
});

describe.runIf(soakEnabled())("engine vs. Map model (soak)", () => {
  for (const fsKind of ["node", "mem"] as const) {
    for (const seed of testSeeds(25)) {
      it(`fs=${fsKind} seed=${seed}, 3000 ops`, { timeout: 600_000 }, async () => {
        const progress = { step: `seed=${seed} fs=${fsKind} open` };
        await settles(runModel(seed, fsKind, 3000, progress), () => progress.step, 300_000);
      });
    }
  }
});
