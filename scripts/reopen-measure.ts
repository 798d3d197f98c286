/**
 * Close + reopen + one read, part by part (not a test, not the peer benchmark). Loads 100k
 * documents of ~250 bytes with three indexes (the workload of collections-measure.ts), then runs
 * cycles of close -> open -> collection() -> get, each after writes that leave the memtable (and
 * the WAL) holding a chosen amount: nothing (flushed just before), about half of the memtable size,
 * and a full memtable (just under its 4 MiB). Last, open after a crash with a full memtable (a copy
 * of the directory taken while it is open, so the whole WAL is replayed). Reports the median and
 * the minimum of each part per scenario:
 *
 *   close       all of close(): waiting for queued writes and stopping background work (c:bg),
 *               flushing the memtable (c:flush), closing files and the compaction thread
 *   lock        taking the directory's LOCK
 *   manifest    reading CURRENT and replaying the manifest
 *   wal         replaying the write-ahead logs into the memtable
 *   scan        listing the directories for file numbers
 *   mwrite      writing the manifest for the new state (and CURRENT)
 *   cleanup     deleting obsolete files, starting background work
 *   catalog     the collections' catalog load (open() after the engine is open)
 *   coll        db.collection(...) (schema and index reconciliation)
 *   get         the first users.get(id) (opens the tables it reads)
 *
 * Run: npm run build && node dist/scripts/reopen-measure.js [N=100000] [cycles=9] [--profile] [--options=<json>]
 * With --profile each cycle (close to first get) is CPU-profiled into reopen-<i>.cpuprofile.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open, type Database } from "lsmdoc";
import { lcg, User as UserSchema, USER_INDEXES, userDoc } from "./measure-workload.js";
import { Engine } from "../engine/db.js";

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const N = Number(args[0] ?? 100_000);
const CYCLES = Number(args[1] ?? 9);
const PROFILE = process.argv.includes("--profile");
/** Engine options as JSON, e.g. --options={"memtableSize":1048576}. */
const OPTIONS = JSON.parse(process.argv.find((a) => a.startsWith("--options="))?.slice("--options=".length) ?? "{}") as Record<string, unknown>;
const MEMTABLE = 4 * 1024 * 1024;

const User = UserSchema;
const INDEXES = USER_INDEXES;
const rnd = lcg(12345);
const doc = userDoc;

let marks: Array<[string, number]> = [];
Engine.trace = (phase) => marks.push([phase, performance.now()]);
function mark(phase: string): void {
  marks.push([phase, performance.now()]);
}
function at(phase: string): number {
  const m = marks.find(([p]) => p === phase);
  if (m === undefined) throw new Error(`no mark ${phase}`);
  return m[1];
}

const PARTS = ["close", "c:bg", "c:flush", "lock", "manifest", "wal", "scan", "mwrite", "cleanup", "catalog", "coll", "get", "total"] as const;
type Part = (typeof PARTS)[number];

function parts(): Record<Part, number> {
  return {
    close: at("close:files") - at("close:start"),
    "c:bg": at("close:background") - at("close:start"),
    "c:flush": at("close:flush") - at("close:background"),
    lock: at("open:lock") - at("open:start"),
    manifest: at("open:manifest-read") - at("open:lock"),
    wal: at("open:wal-replay") - at("open:manifest-read"),
    scan: at("open:file-scan") - at("open:wal-replay"),
    mwrite: at("open:manifest-write") - at("open:file-scan"),
    cleanup: at("open:cleanup") - at("open:manifest-write"),
    catalog: at("opened") - at("open:cleanup"),
    coll: at("collection") - at("opened"),
    get: at("got") - at("collection"),
    total: at("got") - at("close:start"),
  };
}

/** Median and minimum of each part (the minimum is the least disturbed by other work on the machine). */
function report(rows: Array<Record<Part, number>>): void {
  const sorted = (p: Part) => rows.map((r) => r[p]).sort((a, b) => a - b);
  console.log(`       ${PARTS.map((p) => p.padStart(9)).join("")}`);
  console.log(`median ${PARTS.map((p) => sorted(p)[Math.floor(rows.length / 2)]!.toFixed(2).padStart(9)).join("")}`);
  console.log(`min    ${PARTS.map((p) => sorted(p)[0]!.toFixed(2).padStart(9)).join("")}`);
}

const dir = mkdtempSync(join(tmpdir(), "lsmdoc-reopen-"));
const session = PROFILE ? new Session() : undefined;
const profiles: object[] = [];
try {
  let db: Database = await open(dir, OPTIONS);
  let users = db.collection("users", User, INDEXES);
  await users.ready();
  const ids: string[] = [];
  let t = performance.now();
  for (let i = 0; i < N; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(N, i + 1000); j++) batch.push(doc(j));
    for (const d of await users.insertMany(batch)) ids.push(d._id);
  }
  console.log(`loaded ${N} documents in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  /** Concurrent single-document updates until the memtable holds at least `bytes`. */
  async function fillMemtable(bytes: number): Promise<void> {
    const engine = () => db.stats().engine;
    if (bytes === 0) {
      await (db as unknown as { store: { engine: Engine } }).store.engine.flush();
      return;
    }
    while (engine().memtable.bytes < bytes && !engine().memtable.immutable) {
      const room = bytes - engine().memtable.bytes;
      const n = Math.max(1, Math.min(500, Math.floor(room / 1200)));
      await Promise.all(Array.from({ length: n }, () => users.update(ids[Math.floor(rnd() * N)]!, { $set: { age: 18 + Math.floor(rnd() * 60) } })));
    }
  }

  if (session) {
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 50 });
  }
  const scenarios: Array<[string, number]> = [
    ["flushed just before (small WAL)", 0],
    ["half memtable (~2 MiB)", MEMTABLE / 2],
    ["full memtable (~4 MiB)", MEMTABLE - 64 * 1024],
  ];
  for (const [name, bytes] of scenarios) {
    const rows: Array<Record<Part, number>> = [];
    let memBytes = 0;
    let tablesOpened = 0;
    let files = 0;
    for (let c = 0; c < CYCLES; c++) {
      await fillMemtable(bytes);
      memBytes += db.stats().engine.memtable.bytes;
      const id = ids[Math.floor(rnd() * N)]!;
      await session?.post("Profiler.start");
      marks = [];
      await db.close();
      db = await open(dir, OPTIONS);
      mark("opened");
      users = db.collection("users", User, INDEXES);
      mark("collection");
      if ((await users.get(id)) === undefined) throw new Error("missing document");
      mark("got");
      if (session) profiles.push((await session.post("Profiler.stop")).profile);
      rows.push(parts());
      const s = db.stats().engine;
      tablesOpened += s.tables.open;
      files += s.tables.files;
    }
    console.log(
      `\n${name}: memtable before close ${(memBytes / CYCLES / 1048576).toFixed(2)} MiB, ` +
        `${(files / CYCLES).toFixed(1)} tables, ${(tablesOpened / CYCLES).toFixed(1)} open after the first get (median of ${CYCLES}, ms)`,
    );
    report(rows);
  }

  // After a crash: the copy holds the full WAL, which open replays (close is not part of it).
  const crashRows: Array<Record<Part, number>> = [];
  for (let c = 0; c < Math.min(CYCLES, 5); c++) {
    await fillMemtable(MEMTABLE - 64 * 1024);
    const copy = `${dir}-crash${c}`;
    cpSync(dir, copy, { recursive: true, filter: (src) => !src.endsWith("LOCK") });
    const id = ids[Math.floor(rnd() * N)]!;
    marks = [];
    mark("close:start");
    for (const p of ["close:background", "close:flush", "close:files"]) mark(p);
    const crashed = await open(copy, OPTIONS);
    mark("opened");
    const u = crashed.collection("users", User, INDEXES);
    mark("collection");
    if ((await u.get(id)) === undefined) throw new Error("missing document");
    mark("got");
    crashRows.push(parts());
    await crashed.close();
    rmSync(copy, { recursive: true, force: true });
  }
  console.log(`\nopen after a crash, full memtable (WAL replayed; median of ${crashRows.length}, ms)`);
  report(crashRows);
  if (session) {
    profiles.forEach((p, i) => writeFileSync(`reopen-${i}.cpuprofile`, JSON.stringify(p)));
    console.log(`\n${profiles.length} profiles (close to first get) written to reopen-<i>.cpuprofile`);
  }
  await db.close();
} finally {
  Engine.trace = undefined;
  rmSync(dir, { recursive: true, force: true });
}
