/**
 * The engine on its own: write, read, iterate, snapshot, reopen.
 *
 * Run: npm run demo
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine, WriteBatch } from "lsmdoc";

const text = new TextEncoder();
const str = (b: Uint8Array | undefined) => (b === undefined ? "(none)" : new TextDecoder().decode(b));

const dir = mkdtempSync(join(tmpdir(), "lsmdoc-demo-"));
try {
  let engine = await Engine.open(dir); // sync: true by default: every write is fdatasync'ed

  // Single writes resolve with their sequence number once durable.
  const seq = await engine.put(text.encode("fruit:apple"), text.encode("red"));
  console.log(`put fruit:apple at seq ${seq}`);

  // A batch is atomic: one log record, one seq for every entry.
  const batch = new WriteBatch()
    .put(text.encode("fruit:banana"), text.encode("yellow"))
    .put(text.encode("fruit:cherry"), text.encode("dark red"))
    .put(text.encode("veg:carrot"), text.encode("orange"));
  console.log(`batch of ${batch.length} at seq ${await engine.write(batch)}`);

  // Concurrent writers share one log write and one fdatasync (group commit).
  await Promise.all(Array.from({ length: 32 }, (_, i) => engine.put(text.encode(`n:${String(i).padStart(2, "0")}`), text.encode(String(i * i)))));
  const { commits, groups } = engine.stats().writes;
  console.log(`${commits} writes committed in ${groups} log syncs`);

  // A snapshot keeps seeing the past while writes go on.
  const snap = engine.snapshot();
  await engine.put(text.encode("fruit:apple"), text.encode("green"));
  console.log(`apple now: ${str(await engine.get(text.encode("fruit:apple")))}, in the snapshot: ${str(await engine.get(text.encode("fruit:apple"), { snapshot: snap }))}`);
  snap.release();

  // Range scans in unsigned byte order.
  console.log("fruit:");
  for await (const [k, v] of engine.iterate({ gte: text.encode("fruit:"), lt: text.encode("fruit;") })) {
    console.log(`  ${str(k)} = ${str(v)}`);
  }
  await engine.delete(text.encode("fruit:banana"));

  // Reopen: the write-ahead log is replayed.
  await engine.close();
  engine = await Engine.open(dir);
  const keys: string[] = [];
  for await (const [k] of engine.iterate({ gte: text.encode("fruit:"), lt: text.encode("fruit;") })) keys.push(str(k));
  console.log(`after reopen: seq ${engine.stats().seq}, fruit keys: ${keys.join(", ")}`);
  console.log(`last three n: keys, descending:`);
  for await (const [k, v] of engine.iterate({ gte: text.encode("n:"), lt: text.encode("n;"), reverse: true, limit: 3 })) {
    console.log(`  ${str(k)} = ${str(v)}`);
  }
  await engine.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
