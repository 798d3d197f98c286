/**
 * Engine storage measurements (not a test): sequential and random fills of N small keys, then
 * random gets, a full range scan, write amplification, disk bytes vs logical bytes, the event
 * loop's p99 delay while flushes and compactions run, and reopen time.
 *
 * Run: npm run build && node dist/scripts/engine-fill.js [N=1000000] [valueBytes=100]
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Engine } from "lsmdoc";

const N = Number(process.argv[2] ?? 1_000_000);
const VALUE_BYTES = Number(process.argv[3] ?? 100);
const BATCH = 100;

function key(i: number): Uint8Array {
  const k = new Uint8Array(16);
  k.set([0x6b, 0x65, 0x79, 0x3a]); // "key:"
  let x = i;
  for (let p = 15; p >= 4; p--) {
    k[p] = 0x30 + (x % 10);
    x = Math.floor(x / 10);
  }
  return k;
}

function diskBytes(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const st = statSync(join(dir, name));
    if (st.isFile()) n += st.size;
  }
  return n;
}

/** A permutation of 0..n-1 (xorshift-driven Fisher-Yates), so the random fill writes each key once. */
function permutation(n: number, seed: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  let x = seed >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

async function fill(name: string, order: (i: number) => number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `lsmdoc-fill-${name}-`));
  try {
    const value = new Uint8Array(VALUE_BYTES).fill(0x76);
    const engine = await Engine.open(dir, { sync: false });
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    let t = performance.now();
    for (let i = 0; i < N; i += BATCH) {
      // Concurrent single puts: they share log writes through group commit.
      const writes: Promise<number>[] = [];
      for (let j = i; j < Math.min(N, i + BATCH); j++) writes.push(engine.put(key(order(j)), value));
      await Promise.all(writes);
    }
    await engine.flush();
    const fillMs = performance.now() - t;
    // Let background compaction settle before measuring reads.
    while (engine.stats().compactions.count === 0 && engine.stats().tables.files > 4) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200));
    loop.disable();
    const s = engine.stats();
    const logical = N * (16 + VALUE_BYTES);
    console.log(`\n== ${name} fill, ${N} keys x ${VALUE_BYTES}-byte values`);
    console.log(`writes/s             ${Math.round((N / fillMs) * 1000)}`);
    console.log(`event loop p99       ${(loop.percentile(99) / 1e6).toFixed(2)} ms (max ${(loop.max / 1e6).toFixed(1)} ms) during fill + compaction`);
    console.log(`flushes/compactions  ${s.flushes.count} / ${s.compactions.count} (+${s.compactions.trivialMoves} moves)`);
    console.log(`write amplification  ${s.writeAmplification.toFixed(2)} (WAL + tables written / user bytes)`);
    console.log(`levels               ${s.levels.filter((l) => l.files > 0).map((l) => `L${l.level}:${l.files}f/${(l.bytes / 1048576).toFixed(1)}MiB`).join(" ")}`);
    console.log(`disk / logical       ${(diskBytes(dir) / 1048576).toFixed(1)} MiB / ${(logical / 1048576).toFixed(1)} MiB`);

    const reads = Math.min(N, 200_000);
    const perm = permutation(N, 7);
    t = performance.now();
    for (let i = 0; i < reads; i++) {
      if (engine.getSync(key(perm[i]!)) === undefined) throw new Error(`missing key ${perm[i]}`);
    }
    const cache = engine.stats().blockCache;
    console.log(`random gets/s        ${Math.round((reads / (performance.now() - t)) * 1000)} (getSync; block cache ${cache.hits} hits / ${cache.misses} misses)`);
    t = performance.now();
    let scanned = 0;
    for await (const _ of engine.iterate()) scanned++;
    if (scanned !== N) throw new Error(`scan saw ${scanned} keys`);
    console.log(`range scan keys/s    ${Math.round((scanned / (performance.now() - t)) * 1000)}`);
    await engine.close();
    t = performance.now();
    const again = await Engine.open(dir);
    const openMs = performance.now() - t;
    if (again.getSync(key(N - 1)) === undefined) throw new Error("missing after reopen");
    console.log(`reopen               ${openMs.toFixed(1)} ms (+ first read ${(performance.now() - t - openMs).toFixed(1)} ms)`);
    await again.compact();
    console.log(`after compact()      disk ${(diskBytes(dir) / 1048576).toFixed(1)} MiB, levels ${again.stats().levels.filter((l) => l.files > 0).map((l) => `L${l.level}:${l.files}f`).join(" ")}`);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await fill("sequential", (i) => i);
const perm = permutation(N, 42);
await fill("random", (i) => perm[i]!);
