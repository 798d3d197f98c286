/**
 * Engine micro-measurements (not a test, not the peer benchmark): synced single puts/s with one
 * writer and with 32 concurrent writers (group commit), unsynced puts/s, gets/s from the memtable,
 * and the event loop's p99 delay during the synced phases.
 *
 * Run: npm run build && node dist/scripts/engine-micro.js [seconds-per-phase]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Engine } from "lsmdoc";

const seconds = Number(process.argv[2] ?? 2);

function key(i: number): Uint8Array {
  return new TextEncoder().encode(`key:${String(i).padStart(10, "0")}`);
}
const value = new Uint8Array(100).fill(0x61);

async function timed(name: string, run: (deadline: number) => Promise<number>): Promise<void> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = performance.now();
  const ops = await run(t0 + seconds * 1000);
  const ms = performance.now() - t0;
  h.disable();
  const rate = (ops / ms) * 1000;
  console.log(`${name.padEnd(40)} ${Math.round(rate).toString().padStart(10)} ops/s  (${ops} ops, loop p99 ${(h.percentile(99) / 1e6).toFixed(2)} ms)`);
}

const dir = mkdtempSync(join(tmpdir(), "lsmdoc-micro-"));
try {
  const engine = await Engine.open(dir, { sync: true, memtableSize: 1 << 30 });
  let next = 0;
  await timed("put, sync, 1 writer", async (deadline) => {
    let n = 0;
    while (performance.now() < deadline) {
      await engine.put(key(next++), value);
      n++;
    }
    return n;
  });
  await timed("put, sync, 32 concurrent writers", async (deadline) => {
    let n = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (performance.now() < deadline) {
          await engine.put(key(next++), value);
          n++;
        }
      }),
    );
    return n;
  });
  console.log(`  groups so far: ${engine.stats().writes.groups}, commits: ${engine.stats().writes.commits}`);
  await timed("put, sync: false, 1 writer", async (deadline) => {
    let n = 0;
    while (performance.now() < deadline) {
      for (let i = 0; i < 100; i++) {
        await engine.put(key(next++), value, { sync: false });
        n++;
      }
    }
    return n;
  });
  const total = next;
  await timed("get (memtable), random keys", async (deadline) => {
    let n = 0;
    let x = 12345;
    while (performance.now() < deadline) {
      for (let i = 0; i < 1000; i++) {
        x = (x * 1103515245 + 12345) >>> 0;
        if ((await engine.get(key(x % total))) === undefined) throw new Error("missing key");
        n++;
      }
    }
    return n;
  });
  await timed("getSync (memtable), random keys", async (deadline) => {
    let n = 0;
    let x = 12345;
    while (performance.now() < deadline) {
      for (let i = 0; i < 1000; i++) {
        x = (x * 1103515245 + 12345) >>> 0;
        if (engine.getSync(key(x % total)) === undefined) throw new Error("missing key");
        n++;
      }
    }
    return n;
  });
  await timed("iterate (memtable), keys/s", async () => {
    let n = 0;
    for await (const _ of engine.iterate()) n++;
    return n;
  });
  console.log(`entries: ${total}, memtable ${(engine.stats().memtable.bytes / 1048576).toFixed(1)} MiB`);
  await engine.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
