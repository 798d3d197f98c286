/**
 * Document-layer measurements (not a test, not the peer benchmark): 100k documents of ~250 bytes
 * with three indexes (unique email, age, city): inserts in batches of 1000 and one at a time, get
 * by id, indexed equality lookups, age range queries (limit 100), single-field updates.
 *
 * Run: npm run build && node dist/scripts/collections-measure.js [N=100000] [sync=false]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "lsmdoc";
import { lcg, User, USER_INDEXES, userDoc } from "./measure-workload.js";

const N = Number(process.argv[2] ?? 100_000);
const SYNC = process.argv[3] === "true";
const rnd = lcg(12345);
const doc = userDoc;

function rate(name: string, ops: number, ms: number): void {
  console.log(`${name.padEnd(36)} ${Math.round((ops / ms) * 1000).toString().padStart(9)} ops/s`);
}

const dir = mkdtempSync(join(tmpdir(), "lsmdoc-coll-"));
try {
  const db = await open(dir, { sync: SYNC });
  const users = db.collection("users", User, USER_INDEXES);
  await users.ready();
  const ids: string[] = [];
  let t = performance.now();
  const bulk = Math.floor(N * 0.9);
  for (let i = 0; i < bulk; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(bulk, i + 1000); j++) batch.push(doc(j));
    for (const d of await users.insertMany(batch)) ids.push(d._id);
  }
  rate(`insertMany (batches of 1000)`, bulk, performance.now() - t);
  t = performance.now();
  for (let i = bulk; i < N; i++) ids.push((await users.insert(doc(i)))._id);
  rate(`insert (one at a time)`, N - bulk, performance.now() - t);

  const READS = 50_000;
  t = performance.now();
  for (let i = 0; i < READS; i++) if ((await users.get(ids[Math.floor(rnd() * N)]!)) === undefined) throw new Error("missing");
  rate("get by id", READS, performance.now() - t);
  t = performance.now();
  for (let i = 0; i < READS; i++) if ((await users.findOne({ email: `user${Math.floor(rnd() * N)}@example.com` })) === undefined) throw new Error("missing");
  rate("findOne by unique email", READS, performance.now() - t);
  const RANGES = 2000;
  t = performance.now();
  for (let i = 0; i < RANGES; i++) {
    const lo = 18 + Math.floor(rnd() * 50);
    const r = await users.find({ age: { $gte: lo, $lt: lo + 5 } }, { limit: 100 }).toArray();
    if (r.length !== 100) throw new Error(`range returned ${r.length}`);
  }
  rate("age range, limit 100 (queries)", RANGES, performance.now() - t);
  const UPDATES = 20_000;
  t = performance.now();
  for (let i = 0; i < UPDATES; i++) await users.update(ids[Math.floor(rnd() * N)]!, { $set: { age: 18 + Math.floor(rnd() * 60) } });
  rate("update one field", UPDATES, performance.now() - t);
  const s = db.stats().engine;
  console.log(`sync: ${SYNC}; levels ${s.levels.filter((l) => l.files > 0).map((l) => `L${l.level}:${l.files}`).join(" ")}, table bytes ${(s.tables.bytes / 1048576).toFixed(1)} MiB`);
  await db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
