/**
 * The large run of one contender, in its own child: bulk insert of large-n documents in batches of
 * 1000, then 100,000 random gets by id, then close and measure the directory. Documents are
 * regenerated from (seed, i) for the checks instead of being kept in a model. Inputs are generated
 * in chunks of 100,000 before the clock runs; only the store calls are timed. When the bulk insert
 * exceeds the time budget, it stops at the next chunk boundary and the run continues with the
 * documents inserted so far (reported as a reduced run).
 */
import type { Store, SyncMode } from "./contenders/types.js";
import { check, checkDoc } from "./model.js";
import { dirBytes, now, peakRssBytes, rate } from "./measure.js";
import type { LargeResult } from "./results.js";
import { makeDoc, rng, STREAM, streamSeed } from "./workload.js";

export interface LargeConfig {
  seed: number;
  n: number;
  dir: string;
  /** Seconds of bulk insert after which the run stops inserting. */
  budgetS: number;
}

const BATCH = 1000;
const CHUNK = 100_000;
const GETS = 100_000;
/** Every CHECK_EVERY-th get is compared in full with its regenerated document. */
const CHECK_EVERY = 10;

export async function runLarge(
  name: string,
  openStore: (dir: string, mode: SyncMode) => Promise<Store>,
  cfg: LargeConfig,
  log: (s: string) => void,
): Promise<LargeResult> {
  const { seed, dir } = cfg;
  const result: LargeResult = { kind: "large", contender: name, ok: false, seed, requestedN: cfg.n, n: 0, metrics: {}, details: {} };
  let phase = "open";
  let store: Store | undefined;
  try {
    const s = (store = await openStore(dir, "fast"));
    phase = "bulk insert";
    const ids: string[] = [];
    let insertMs = 0;
    for (let start = 0; start < cfg.n && insertMs < cfg.budgetS * 1000; start += CHUNK) {
      const end = Math.min(cfg.n, start + CHUNK);
      const inputs = Array.from({ length: end - start }, (_, i) => makeDoc(seed, start + i));
      const batches = [];
      for (let i = 0; i < inputs.length; i += BATCH) batches.push(inputs.slice(i, i + BATCH));
      const t = now();
      const stored = [];
      for (const b of batches) stored.push(await s.insertMany(b));
      insertMs += now() - t;
      const docs = stored.flat();
      check(docs.length === inputs.length, () => `insertMany returned ${docs.length} documents for ${inputs.length}`);
      for (let i = 0; i < docs.length; i += 997) checkDoc(docs[i], { ...inputs[i]!, _id: docs[i]!._id }, `returned document ${start + i}`);
      for (const d of docs) ids.push(d._id);
      log(`${name}: large run, ${ids.length} inserted (${Math.round(rate(ids.length, insertMs))} docs/s)`);
    }
    result.n = ids.length;
    result.metrics.bulkInsert = rate(ids.length, insertMs);
    result.details.insertS = Number((insertMs / 1000).toFixed(1));
    check(new Set(ids).size === ids.length, () => "insertMany returned duplicate ids");
    phase = "count";
    const c = await s.count();
    check(c === ids.length, () => `count() = ${c}, expected ${ids.length}`);

    phase = "get by id";
    const r = rng(streamSeed(seed, STREAM.largeGets));
    const picks = Array.from({ length: GETS }, () => Math.floor(r() * ids.length));
    const kept: Array<[number, unknown]> = [];
    let bad: string | undefined;
    const t = now();
    for (let i = 0; i < GETS; i++) {
      const id = ids[picks[i]!]!;
      const d = await s.get(id);
      if (d?._id !== id) bad ??= id;
      if (i % CHECK_EVERY === 0) kept.push([picks[i]!, d]);
    }
    result.metrics.getById = rate(GETS, now() - t);
    check(bad === undefined, () => `get(${bad}) did not return that document`);
    for (const [k, d] of kept) checkDoc(d, { ...makeDoc(seed, k), _id: ids[k]! }, `get of document ${k}`);

    phase = "close";
    await s.close();
    store = undefined;
    const disk = dirBytes(dir);
    result.metrics.diskBytes = disk.size;
    result.details.diskAllocatedBytes = disk.allocated;
    result.ok = true;
  } catch (err) {
    result.error = `large run, ${phase}: ${err instanceof Error ? err.message : String(err)} (seed ${seed})`;
    log(`${name}: large run FAILED in ${phase}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    try {
      await store?.close();
    } catch {
      // The first error is the one reported.
    }
  }
  result.metrics.peakRssBytes = peakRssBytes();
  return result;
}
