/**
 * Randomized model test of the whole storage stack (memtables, flushes, SSTables, leveled and
 * full compactions, obsolete-file removal) against a plain Map (kv-model.ts).
 *
 * A small memtable (8-64 KiB) makes background flushes and level-0 compactions happen on their
 * own; random flush() and compact() calls add more. Meanwhile:
 * - every write's value is checked by gets and scans with random bounds, direction and limit;
 * - snapshots are held across flushes and compactions, then read (gets, full and bounded scans)
 *   and must show the model exactly as it was when they were taken;
 * - iterators are opened and stepped a few entries at a time while writes, flushes and
 *   compactions go on: they must keep yielding the state at their creation, and never fail
 *   because a compaction removed a table they read;
 * - flush() and compact() also run concurrently with writes, reads and iterator steps;
 * - the engine is reopened at random points.
 * Values range from empty to several KiB, so tables hold many data blocks and some values span
 * blocks on their own.
 *
 * Runs on real temp directories and on MemFs. Seeds: LSMDOC_SEED or random; every message carries
 * the seed, file system and op number. LSMDOC_SOAK=1 runs a long variant.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Engine, WriteBatch, type EngineIterator, type IterateOptions, type Snapshot } from "../../engine/index.js";
import { MemFs } from "../../engine/fs/mem-fs.js";
import { scan, settles, useScratch } from "../fixtures/harness.js";
import { hex, KvModel, type HexPairs, type ModelEntry } from "../fixtures/kv-model.js";
import { Rng, soakEnabled, testSeeds } from "../fixtures/random.js";

const scratch = useScratch();

type FsKind = "node" | "mem";

interface HeldSnapshot {
  snap: Snapshot;
  model: KvModel;
  /** Open iterators reading through this snapshot (it is not released while any is open). */
  users: number;
}

interface SlowIterator {
  iter: EngineIterator;
  expected: HexPairs;
  got: number;
  what: string;
  held: HeldSnapshot | undefined;
}

/** Totals over every session of a run (stats() counts per open). */
interface Totals {
  flushes: number;
  compactions: number;
  trivialMoves: number;
  maxLevel: number;
}

/** Keys with shared prefixes and a few lengths, so that blocks prefix-compress and bounds fall between keys. */
function keyPool(rng: Rng, n: number): Uint8Array[] {
  const prefixes = [Uint8Array.of(0x00), Uint8Array.of(0x61, 0x62), Uint8Array.of(0x7f), Uint8Array.of(0xff, 0xff), new Uint8Array(0)];
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  while (out.length < n) {
    const p = rng.pick(prefixes);
    const k = Uint8Array.from([...p, ...rng.bytes(rng.between(p.length === 0 ? 1 : 0, 10))]);
    if (k.length === 0 || seen.has(hex(k))) continue;
    seen.add(hex(k));
    out.push(k);
  }
  return out;
}

function randomValue(rng: Rng): Uint8Array {
  const r = rng.float();
  if (r < 0.05) return new Uint8Array(0);
  if (r < 0.6) return rng.bytes(rng.between(1, 100));
  if (r < 0.9) return rng.bytes(rng.between(100, 1000));
  return rng.bytes(rng.between(1000, 9000));
}

function describeOptions(o: IterateOptions): string {
  return JSON.stringify(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v instanceof Uint8Array ? hex(v) : k === "snapshot" ? "snap" : v])));
}

async function runStorageModel(seed: number, fsKind: FsKind, ops: number, progress: { step: string }): Promise<Totals> {
  const rng = new Rng(seed);
  const memFs = fsKind === "mem" ? new MemFs() : undefined;
  const dir = fsKind === "mem" ? "/db" : scratch.dir();
  const memtableSize = rng.pick([8, 16, 32, 64]) * 1024;
  const keys = keyPool(rng, rng.pick([150, 400, 1000]));
  const label = `seed=${seed} fs=${fsKind} memtable=${memtableSize}`;
  const openEngine = async (): Promise<Engine> =>
    scratch.track(await Engine.open(dir, { memtableSize, sync: fsKind === "mem" && rng.chance(0.5), ...(memFs ? { fs: memFs } : {}) }));
  const randomKey = (): Uint8Array => (rng.chance(0.9) ? rng.pick(keys) : rng.bytes(rng.between(1, 4)));
  const randomOptions = (): IterateOptions => {
    const o: IterateOptions = {};
    const lower = rng.int(4);
    if (lower === 1) o.gt = randomKey();
    if (lower === 2) o.gte = randomKey();
    const upper = rng.int(4);
    if (upper === 1) o.lt = randomKey();
    if (upper === 2) o.lte = randomKey();
    if (rng.chance(0.4)) o.reverse = true;
    if (rng.chance(0.2)) o.limit = rng.int(40);
    return o;
  };

  let engine = await openEngine();
  const model = new KvModel();
  const held: HeldSnapshot[] = [];
  const iterators: SlowIterator[] = [];
  const totals: Totals = { flushes: 0, compactions: 0, trivialMoves: 0, maxLevel: 0 };
  const addTotals = (): void => {
    const st = engine.stats();
    totals.flushes += st.flushes.count;
    totals.compactions += st.compactions.count;
    totals.trivialMoves += st.compactions.trivialMoves;
  };
  const noteLevels = (): void => {
    for (const l of engine.stats().levels) if (l.files > 0) totals.maxLevel = Math.max(totals.maxLevel, l.level);
  };

  const randomEntries = (max: number): ModelEntry[] => {
    const n = rng.between(1, max);
    const entries: ModelEntry[] = [];
    for (let i = 0; i < n; i++) {
      const key = entries.length > 0 && rng.chance(0.2) ? rng.pick(entries).key : randomKey();
      entries.push({ key, value: rng.chance(0.8) ? randomValue(rng) : undefined });
    }
    return entries;
  };
  const issue = (entries: ModelEntry[]): Promise<number> => {
    if (entries.length === 1 && rng.chance(0.8)) {
      const e = entries[0]!;
      return e.value === undefined ? engine.delete(e.key) : engine.put(e.key, e.value);
    }
    const batch = new WriteBatch();
    for (const e of entries) {
      if (e.value === undefined) batch.delete(e.key);
      else batch.put(e.key, e.value);
    }
    return engine.write(batch);
  };
  /** Issues `writes` together (one group commit or several) and applies them to the model in issue order. */
  const writeAll = async (writes: ModelEntry[][]): Promise<void> => {
    const pending = writes.map(issue);
    await Promise.all(pending);
    for (const w of writes) model.apply(w);
  };

  /** Steps `s` by up to `n` entries, checking each against what it must yield. */
  const step = async (s: SlowIterator, n: number, at: string): Promise<boolean> => {
    for (let i = 0; i < n; i++) {
      const e = rng.chance(0.5) ? s.iter.nextSync() : await s.iter.next().then((r) => (r.done ? undefined : r.value));
      if (e === undefined) {
        expect(s.got, `${at}: ${s.what} ended after ${s.got} of ${s.expected.length} entries`).toBe(s.expected.length);
        return true;
      }
      expect([hex(e[0]), hex(e[1]).slice(0, 64)], `${at}: ${s.what} entry #${s.got}`).toEqual([
        s.expected[s.got]?.[0],
        s.expected[s.got]?.[1].slice(0, 64),
      ]);
      expect(hex(e[1]), `${at}: ${s.what} entry #${s.got} full value`).toBe(s.expected[s.got]![1]);
      s.got++;
    }
    return false;
  };
  const retire = (s: SlowIterator): void => {
    iterators.splice(iterators.indexOf(s), 1);
    if (s.held) s.held.users--;
  };
  const drainIterators = async (at: string): Promise<void> => {
    for (const s of [...iterators]) {
      expect(await step(s, Infinity, at), `${at}: ${s.what} finished`).toBe(true);
      retire(s);
    }
  };

  for (let op = 0; op < ops; op++) {
    const at = `${label} op#${op}`;
    const r = rng.float();
    // Iterators advance a little between most operations, interleaved with everything else.
    if (iterators.length > 0 && rng.chance(0.5)) {
      const s = rng.pick(iterators);
      progress.step = `${at} step ${s.what}`;
      if (await step(s, rng.between(1, 8), at)) retire(s);
    }

    if (r < 0.3) {
      const writes = Array.from({ length: rng.chance(0.7) ? 1 : rng.between(2, 10) }, () => randomEntries(rng.chance(0.7) ? 1 : 8));
      progress.step = `${at} ${writes.length} writes`;
      await writeAll(writes);
    } else if (r < 0.37) {
      // A bulk load: enough bytes to switch memtables a few times.
      const writes = Array.from({ length: rng.between(30, 150) }, () => randomEntries(rng.chance(0.8) ? 1 : 6));
      progress.step = `${at} bulk of ${writes.length}`;
      await writeAll(writes);
    } else if (r < 0.45) {
      const key = randomKey();
      const got = rng.chance(0.5) ? await engine.get(key) : engine.getSync(key);
      expect(got === undefined ? undefined : hex(got), `${at} get ${hex(key)}`).toBe(model.get(key));
    } else if (r < 0.51) {
      const o = randomOptions();
      progress.step = `${at} iterate ${describeOptions(o)}`;
      expect(await scan(engine, o), `${at} iterate ${describeOptions(o)}`).toEqual(model.scan(o));
    } else if (r < 0.57) {
      if (held.length < 4) held.push({ snap: engine.snapshot(), model: model.clone(), users: 0 });
    } else if (r < 0.65) {
      if (held.length > 0) {
        const h = rng.pick(held);
        const what = `at snapshot ${h.snap.seq} (now ${engine.stats().seq})`;
        for (let i = 0; i < 5; i++) {
          const key = randomKey();
          const got = rng.chance(0.5) ? await engine.get(key, { snapshot: h.snap }) : engine.getSync(key, { snapshot: h.snap });
          expect(got === undefined ? undefined : hex(got), `${at} get ${hex(key)} ${what}`).toBe(h.model.get(key));
        }
        const o = rng.chance(0.3) ? {} : randomOptions();
        progress.step = `${at} iterate ${describeOptions(o)} ${what}`;
        expect(await scan(engine, { ...o, snapshot: h.snap }), `${at} iterate ${describeOptions(o)} ${what}`).toEqual(h.model.scan(o));
      }
    } else if (r < 0.69) {
      const free = held.filter((h) => h.users === 0);
      if (free.length > 0) {
        const h = rng.pick(free);
        held.splice(held.indexOf(h), 1);
        h.snap.release();
      }
    } else if (r < 0.76) {
      if (iterators.length < 4) {
        const o = randomOptions();
        const h = held.length > 0 && rng.chance(0.3) ? rng.pick(held) : undefined;
        const expected = (h ? h.model : model).scan(o);
        const iter = engine.iterate(h ? { ...o, snapshot: h.snap } : o);
        if (h) h.users++;
        iterators.push({ iter, expected, got: 0, what: `iterator#${op} ${describeOptions(o)}${h ? ` at snapshot ${h.snap.seq}` : ""}`, held: h });
      }
    } else if (r < 0.83) {
      for (const s of [...iterators]) {
        progress.step = `${at} step ${s.what}`;
        if (await step(s, rng.between(1, 30), at)) retire(s);
      }
    } else if (r < 0.87) {
      progress.step = `${at} flush`;
      await engine.flush();
      const st = engine.stats();
      expect(st.memtable.entries, `${at} memtable after flush()`).toBe(0);
      expect(st.memtable.immutable, `${at} no immutable memtable after flush()`).toBe(false);
      noteLevels();
    } else if (r < 0.9) {
      // flush() or compact() racing writes, reads and iterator steps.
      const kind = rng.chance(0.5) ? "compact" : "flush";
      progress.step = `${at} ${kind} racing writes`;
      const job = kind === "compact" ? engine.compact() : engine.flush();
      const writes = Array.from({ length: rng.between(5, 80) }, () => randomEntries(rng.chance(0.8) ? 1 : 5));
      const writing = writeAll(writes);
      for (const s of [...iterators]) if (await step(s, rng.between(1, 10), `${at} during ${kind}`)) retire(s);
      await writing;
      for (let i = 0; i < 5; i++) {
        const key = randomKey();
        const got = engine.getSync(key);
        expect(got === undefined ? undefined : hex(got), `${at} get ${hex(key)} during ${kind}`).toBe(model.get(key));
      }
      if (held.length > 0) {
        const h = rng.pick(held);
        expect(await scan(engine, { snapshot: h.snap }), `${at} scan at snapshot ${h.snap.seq} during ${kind}`).toEqual(h.model.scan());
      }
      await job;
      expect(await scan(engine), `${at} contents after ${kind} racing writes`).toEqual(model.scan());
    } else if (r < 0.94) {
      noteLevels();
      progress.step = `${at} compact`;
      await engine.compact();
      const st = engine.stats();
      expect(st.levels.slice(0, -1).map((l) => l.files), `${at} only the last level holds tables after compact()`).toEqual([0, 0, 0, 0, 0, 0]);
      if (iterators.length === 0 && fsKind === "node") {
        expect(fs.readdirSync(path.join(dir, "sst")).length, `${at} sst/ holds only live tables`).toBe(st.tables.files);
      }
      expect(await scan(engine), `${at} contents after compact()`).toEqual(model.scan());
    } else if (r < 0.96) {
      progress.step = `${at} reopen`;
      await drainIterators(`${at} before reopen`);
      for (const h of held.splice(0)) h.snap.release();
      noteLevels();
      addTotals();
      const seq = engine.stats().seq;
      await engine.close();
      engine = await openEngine();
      expect(engine.stats().seq, `${at} seq after reopen`).toBe(seq);
      expect(await scan(engine), `${at} contents after reopen`).toEqual(model.scan());
    } else {
      // Deletes of existing keys keep the model from filling up.
      const existing = model.scan();
      if (existing.length > 0) {
        const victims = Array.from({ length: rng.between(1, 20) }, () => [{ key: Uint8Array.from(Buffer.from(rng.pick(existing)[0], "hex")), value: undefined }]);
        progress.step = `${at} delete ${victims.length} existing`;
        await writeAll(victims);
      }
    }
    expect(engine.stats().backgroundError, `${at} background error`).toBeUndefined();
  }

  const end = `${label} end`;
  await drainIterators(end);
  for (const h of held.splice(0)) h.snap.release();
  expect(await scan(engine), `${end}: contents`).toEqual(model.scan());
  expect(await scan(engine, { reverse: true }), `${end}: contents reversed`).toEqual(model.scan({ reverse: true }));
  await engine.verify();
  noteLevels();
  addTotals();
  await engine.close();
  engine = await openEngine();
  expect(await scan(engine), `${end}: contents after reopen`).toEqual(model.scan());
  await engine.verify();
  await engine.close();
  return totals;
}

function check(totals: Totals, label: string): void {
  console.log(`${label}: ${totals.flushes} flushes, ${totals.compactions} compactions (${totals.trivialMoves} trivial moves), deepest level ${totals.maxLevel}`);
  expect(totals.flushes, `${label}: the run flushed`).toBeGreaterThan(0);
  expect(totals.compactions, `${label}: the run compacted`).toBeGreaterThan(0);
}

describe("storage stack vs. Map model", () => {
  for (const fsKind of ["node", "mem"] as const) {
    for (const seed of testSeeds(3)) {
      it(`fs=${fsKind} seed=${seed}, 1000 ops`, async () => {
        const progress = { step: `seed=${seed} fs=${fsKind} open` };
        const totals = await settles(runStorageModel(seed, fsKind, 1000, progress), () => progress.step, 40_000);
        check(totals, `seed=${seed} fs=${fsKind}`);
      });
    }
  }
});

describe.runIf(soakEnabled())("storage stack vs. Map model (soak)", () => {
  for (const fsKind of ["node", "mem"] as const) {
    for (const seed of testSeeds(20)) {
      it(`fs=${fsKind} seed=${seed}, 5000 ops`, { timeout: 900_000 }, async () => {
        const progress = { step: `seed=${seed} fs=${fsKind} open` };
        const totals = await settles(runStorageModel(seed, fsKind, 5000, progress), () => progress.step, 600_000);
        check(totals, `seed=${seed} fs=${fsKind}`);
        expect(totals.maxLevel, `seed=${seed} fs=${fsKind}: data reached level 1 or deeper`).toBeGreaterThanOrEqual(1);
      });
    }
  }
});
