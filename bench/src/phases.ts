/**
 * The main run of one contender: phases 1-12 on N documents, each timed, each followed by checks
 * against the model (checks are never timed). Inputs and random choices are prepared before a
 * phase's clock starts. Every store call is awaited, one at a time, except in the synced phase
 * (32 concurrent writers).
 */
import type { Store, SyncMode } from "./contenders/types.js";
import { check, checkDoc, Model } from "./model.js";
import { dirBytes, LoopDelay, median, now, peakRssBytes, rate } from "./measure.js";
import type { MainResult } from "./results.js";
import type { User, UserInput } from "./schema.js";
import { distinctPicks, makeDoc, MAX_AGE, MIN_AGE, rng, STREAM, streamSeed } from "./workload.js";

export interface MainConfig {
  seed: number;
  n: number;
  dir: string;
  synced: boolean;
}

type OpenStore = (dir: string, mode: SyncMode) => Promise<Store>;

const BATCH = 1000;
const GETS = 50_000;
const LOOKUPS = 50_000;
const RANGES = 2_000;
const RANGE_WIDTH = 5;
const RANGE_LIMIT = 100;
const UPDATES = 20_000;
const DELETES = 10_000;
const SAMPLES = 1_000;
const REOPENS = 3;
const SYNC_WRITERS = 32;
const SYNC_MAX_DOCS = 6_400;
const SYNC_MAX_MS = 3_000;
/** Every KEEP-th result of the get and lookup loops is compared in full after the loop. */
const KEEP = 50;

export async function runMain(name: string, openStore: OpenStore, cfg: MainConfig, log: (s: string) => void): Promise<MainResult> {
  const { seed, n, dir } = cfg;
  const result: MainResult = { kind: "main", contender: name, ok: false, seed, n, metrics: {}, details: {} };
  const m = result.metrics;
  const model = new Model();
  const loop = new LoopDelay();
  const stream = (s: number) => rng(streamSeed(seed, s));
  let phase = "open";
  let store: Store | undefined;
  const step = (p: string) => {
    phase = p;
    log(`${name}: ${p}`);
  };

  // Sampled gets of live documents, compared in full with the model.
  const sampleCheck = async (s: Store, context: string, salt: number): Promise<void> => {
    const alive = [...model.docs.keys()];
    const r = stream(STREAM.samples + salt);
    for (let i = 0; i < Math.min(SAMPLES, alive.length); i++) {
      const id = alive[Math.floor(r() * alive.length)]!;
      checkDoc(await s.get(id), model.get(id), `${context}: get(${id})`);
    }
  };
  const countCheck = async (s: Store, context: string): Promise<void> => {
    const c = await s.count();
    check(c === model.docs.size, () => `${context}: count() = ${c}, expected ${model.docs.size}`);
  };
  const inserted = (docs: User[], inputs: UserInput[], context: string): void => {
    check(docs.length === inputs.length, () => `${context}: ${docs.length} documents returned for ${inputs.length} inserted`);
    docs.forEach((d, i) => {
      checkDoc(d, { ...inputs[i]!, _id: d._id }, `${context}: returned document ${i}`);
      model.add(d);
    });
  };

  try {
    store = await openStore(dir, "fast");
    let s = store;

    step("1 bulk insert");
    const bulk = Math.floor(0.9 * n);
    const bulkInputs = Array.from({ length: bulk }, (_, i) => makeDoc(seed, i));
    const batches: UserInput[][] = [];
    for (let i = 0; i < bulk; i += BATCH) batches.push(bulkInputs.slice(i, i + BATCH));
    const bulkStored: User[] = [];
    let ms = await loop.during(async () => {
      const t = now();
      for (const b of batches) for (const d of await s.insertMany(b)) bulkStored.push(d);
      return now() - t;
    });
    m.bulkInsert = rate(bulk, ms);
    inserted(bulkStored, bulkInputs, "bulk insert");
    // Inputs and returned documents are in the model now; do not carry them through the run.
    bulkStored.length = bulkInputs.length = batches.length = 0;
    await countCheck(s, "after bulk insert");
    await sampleCheck(s, "after bulk insert", 1);

    step("2 single inserts");
    const singleInputs = Array.from({ length: n - bulk }, (_, i) => makeDoc(seed, bulk + i));
    const singleStored: User[] = [];
    ms = await loop.during(async () => {
      const t = now();
      for (const d of singleInputs) singleStored.push(await s.insert(d));
      return now() - t;
    });
    m.singleInsert = rate(singleInputs.length, ms);
    inserted(singleStored, singleInputs, "single insert");
    singleStored.length = singleInputs.length = 0;
    await countCheck(s, "after single inserts");
    await sampleCheck(s, "after single inserts", 2);

    step("3 get by id");
    const all = model.ids.slice();
    let r = stream(STREAM.gets);
    const getIds = Array.from({ length: GETS }, () => all[Math.floor(r() * all.length)]!);
    let kept: Array<[string, unknown]> = [];
    let bad: string | undefined;
    let t = now();
    for (let i = 0; i < GETS; i++) {
      const id = getIds[i]!;
      const d = await s.get(id);
      if (d?._id !== id) bad ??= id;
      if (i % KEEP === 0) kept.push([id, d]);
    }
    m.getById = rate(GETS, now() - t);
    check(bad === undefined, () => `get(${bad}) did not return that document`);
    for (const [id, d] of kept) checkDoc(d, model.get(id), `get(${id})`);

    step("4 lookup by email");
    r = stream(STREAM.lookups);
    const lookupIds = Array.from({ length: LOOKUPS }, () => all[Math.floor(r() * all.length)]!);
    const emails = lookupIds.map((id) => model.get(id).email);
    kept = [];
    t = now();
    for (let i = 0; i < LOOKUPS; i++) {
      const d = await s.findByEmail(emails[i]!);
      if (d?._id !== lookupIds[i]) bad ??= emails[i];
      if (i % KEEP === 0) kept.push([lookupIds[i]!, d]);
    }
    m.lookupEmail = rate(LOOKUPS, now() - t);
    check(bad === undefined, () => `findByEmail(${bad}) did not return the document with that email`);
    for (const [id, d] of kept) checkDoc(d, model.get(id), `lookup of ${id}`);

    step("5 age range");
    r = stream(STREAM.ranges);
    const los = Array.from({ length: RANGES }, () => MIN_AGE + Math.floor(r() * (MAX_AGE - MIN_AGE + 2 - RANGE_WIDTH)));
    let rangeMs = 0;
    for (const lo of los) {
      t = now();
      const docs = await s.ageRange(lo, lo + RANGE_WIDTH, RANGE_LIMIT);
      rangeMs += now() - t;
      checkRange(docs, lo, model, RANGE_LIMIT);
    }
    m.ageRange = rate(RANGES, rangeMs);

    step("6 update");
    r = stream(STREAM.updates);
    const updates: Array<[string, number]> = [];
    const ages = new Map<string, number>();
    for (let i = 0; i < UPDATES; i++) {
      const id = all[Math.floor(r() * all.length)]!;
      const current = ages.get(id) ?? model.get(id).age;
      let age = MIN_AGE + Math.floor(r() * (MAX_AGE - MIN_AGE + 1));
      if (age === current) age = age === MAX_AGE ? MIN_AGE : age + 1;
      ages.set(id, age);
      updates.push([id, age]);
    }
    let missed: string | undefined;
    ms = await loop.during(async () => {
      const t0 = now();
      for (const [id, age] of updates) if (!(await s.setAge(id, age))) missed ??= id;
      return now() - t0;
    });
    m.update = rate(UPDATES, ms);
    check(missed === undefined, () => `update(${missed}) found no document`);
    for (const [id, age] of updates) model.setAge(id, age);
    const updatedIds = [...ages.keys()];
    for (let i = 0; i < Math.min(SAMPLES, updatedIds.length); i++) {
      const id = updatedIds[i]!;
      checkDoc(await s.get(id), model.get(id), `after update: get(${id})`);
    }
    // Stale age-index entries would show up here.
    for (const lo of los.slice(0, 100)) checkRange(await s.ageRange(lo, lo + RANGE_WIDTH, RANGE_LIMIT), lo, model, RANGE_LIMIT);
    await countCheck(s, "after updates");

    step("7 delete");
    const deletes = Math.min(DELETES, Math.floor(n / 10)); // Small runs (development) keep 90%.
    const deleteIds = distinctPicks(stream(STREAM.deletes), all.length, deletes).map((i) => all[i]!);
    ms = await loop.during(async () => {
      const t0 = now();
      for (const id of deleteIds) if (!(await s.delete(id))) missed ??= id;
      return now() - t0;
    });
    m.delete = rate(deletes, ms);
    check(missed === undefined, () => `delete(${missed}) found no document`);
    const deletedEmails = deleteIds.slice(0, 200).map((id) => [id, model.get(id).email] as const);
    for (const id of deleteIds) model.delete(id);
    for (const id of deleteIds) {
      const d = await s.get(id);
      check(d === undefined, () => `deleted document ${id} is still returned by get()`);
    }
    for (const [id, email] of deletedEmails) {
      check((await s.findByEmail(email)) === undefined, () => `deleted document ${id} is still found by its email`);
    }
    await countCheck(s, "after deletes");
    await sampleCheck(s, "after deletes", 7);
    for (const lo of los.slice(0, 50)) checkRange(await s.ageRange(lo, lo + RANGE_WIDTH, RANGE_LIMIT), lo, model, RANGE_LIMIT);

    step("8 close + reopen + 1 read");
    const alive = [...model.docs.keys()];
    const cycles: number[] = [];
    for (let c = 0; c < REOPENS; c++) {
      const id = alive[(c * 7919) % alive.length]!;
      t = now();
      await s.close();
      store = undefined;
      s = store = await openStore(dir, "synced");
      const d = await s.get(id);
      cycles.push(now() - t);
      checkDoc(d, model.get(id), `after reopen ${c + 1}: get(${id})`);
    }
    m.reopenMs = median(cycles);
    result.details.reopenCyclesMs = cycles.map((x) => round(x, 2));
    await countCheck(s, "after reopen");
    await sampleCheck(s, "after reopen", 8);

    if (cfg.synced) {
      step("9 synced inserts");
      const syncInputs = Array.from({ length: SYNC_MAX_DOCS }, (_, i) => makeDoc(seed, n + i));
      const syncStored: User[] = [];
      let next = 0;
      let deadline = Infinity;
      const writer = async (): Promise<void> => {
        while (next < SYNC_MAX_DOCS && now() < deadline) {
          const k = next++;
          syncStored[k] = await s.insert(syncInputs[k]!);
        }
      };
      const syncMs = await loop.during(async () => {
        t = now();
        deadline = t + SYNC_MAX_MS;
        await Promise.all(Array.from({ length: SYNC_WRITERS }, writer));
        return now() - t;
      });
      m.syncedInsert = rate(next, syncMs);
      result.details.syncedDocs = next;
      result.details.syncedMs = round(syncMs, 1);
      inserted(syncStored.slice(0, next), syncInputs.slice(0, next), "synced insert");
      for (const d of syncStored.slice(0, next)) checkDoc(await s.get(d._id), model.get(d._id), `after synced inserts: get(${d._id})`);
      await countCheck(s, "after synced inserts");
    }

    step("10 close, disk size");
    await s.close();
    store = undefined;
    const disk = dirBytes(dir);
    m.diskBytes = disk.size;
    result.details.diskAllocatedBytes = disk.allocated;
    result.ok = true;
  } catch (err) {
    result.error = `phase ${phase}: ${err instanceof Error ? err.message : String(err)} (seed ${seed})`;
    log(`${name}: FAILED in phase ${phase}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    try {
      await store?.close();
    } catch {
      // Already failing; the first error is the one reported.
    }
  }
  m.peakRssBytes = peakRssBytes();
  const delay = loop.summary();
  if (delay !== undefined) {
    m.loopP99Ms = delay.p99Ms;
    m.loopMaxMs = delay.maxMs;
    result.details.loopP99MsByPhase = delay.perStretch.map((w) => round(w.p99Ms, 2));
    result.details.loopMaxMsByPhase = delay.perStretch.map((w) => round(w.maxMs, 2));
    result.details.loopSamplesByPhase = delay.perStretch.map((w) => w.samples);
  }
  return result;
}

/** A range result: `limit` distinct documents, each in [lo, lo + width) and equal to the model. */
function checkRange(docs: User[], lo: number, model: Model, limit: number): void {
  const hi = lo + RANGE_WIDTH;
  check(docs.length === limit, () => `age range [${lo}, ${hi}) returned ${docs.length} documents, expected ${limit}`);
  const seen = new Set<string>();
  for (const d of docs) {
    check(!seen.has(d._id), () => `age range [${lo}, ${hi}) returned ${d._id} twice`);
    seen.add(d._id);
    check(d.age >= lo && d.age < hi, () => `age range [${lo}, ${hi}) returned ${d._id} with age ${d.age}`);
    check(!model.isDeleted(d._id), () => `age range [${lo}, ${hi}) returned deleted document ${d._id}`);
    checkDoc(d, model.get(d._id), `age range [${lo}, ${hi})`);
  }
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));
