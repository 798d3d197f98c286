/**
 * A real crash of the document layer: a child process (fixtures/collection-crash-writer.ts) writes
 * indexed documents with `sync: true` from several concurrent writers (inserts, insertMany,
 * updates, replaces, deletes, updateMany, deleteMany, and unique clashes that must write nothing),
 * announcing each write with the exact documents it will leave and confirming each after it
 * resolved. The test SIGKILLs it at a random moment, then reads the directory with a raw Engine:
 *
 *   - every acknowledged write is there; each writer's one write in flight is there entirely or
 *     not at all (one batch); nothing else is;
 *   - index consistency holds exactly: every document has exactly its index entries in every index
 *     and every index entry points to a document holding that value (doc-model keyspaceProblems);
 *   - the database then opens normally and answers index queries with the same documents.
 *
 * Rounds share one directory, so later rounds recover logs and tables left by earlier crashes.
 *
 * Also, in process on a MemFs: an I/O error injected in the middle of concurrent document writes,
 * then a simulated power loss. Writes that resolved survive; writes that failed emitted no event
 * and are, like any write, there entirely or not at all; the keyspace stays consistent.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MemFs } from "../../engine/fs/mem-fs.js";
import { Engine, open, type ChangeEvent } from "../../src/index.js";
import { CRASH_INDEXES, CrashDoc, type CrashLine } from "../fixtures/collection-crash-writer.js";
import { keyspaceProblems, readKeyspace, type ModelDoc } from "../fixtures/doc-model.js";
import { FixtureProcess, settles } from "../fixtures/harness.js";
import { Rng, testSeeds } from "../fixtures/random.js";

const ROUNDS = 8;
const dirs: string[] = [];
const children: FixtureProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) await c.kill();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

type Doc = ModelDoc;
type Issue = Extract<CrashLine, { t: "issue" }>;

interface Round {
  open: Extract<CrashLine, { t: "open" }> | undefined;
  issues: Issue[];
  acked: Set<string>;
}

/** Runs the writer until `killAfterAcks` acknowledgements, then SIGKILLs it. */
async function runAndKill(dir: string, seed: number, killAfterAcks: number): Promise<Round> {
  const round: Round = { open: undefined, issues: [], acked: new Set() };
  let child: FixtureProcess | undefined = undefined;
  const onLine = (text: string): void => {
    const line = JSON.parse(text) as CrashLine;
    if (line.t === "open") round.open = line;
    else if (line.t === "issue") round.issues.push(line);
    else if (line.t === "ack") {
      round.acked.add(`${line.w}/${line.op}`);
      if (round.acked.size === killAfterAcks) child!.child.kill("SIGKILL");
    }
  };
  child = new FixtureProcess("collection-crash-writer.ts", [dir, String(seed), "write"], onLine);
  children.push(child);
  const exit = await settles(child.exited, () => `collection-crash-writer (seed ${seed}) did not reach ${killAfterAcks} acks; stderr:\n${child!.stderr}`, 40_000);
  expect(exit.signal, `writer (seed ${seed}) should die by SIGKILL; exit ${exit.code}; stderr:\n${child.stderr}`).toBe("SIGKILL");
  return round;
}

describe("SIGKILL during concurrent indexed document writes", () => {
  const [seed] = testSeeds(1) as [number];

  it(`keeps every acknowledged write and exact index consistency, ${ROUNDS} rounds (seed ${seed})`, { timeout: 150_000 }, async () => {
    const rng = new Rng(seed);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lsmdoc-coll-crash-"));
    dirs.push(dir);
    let state = new Map<string, Doc>();

    for (let r = 0; r < ROUNDS; r++) {
      const childSeed = rng.u32();
      const label = `seed=${seed} round=${r} child-seed=${childSeed}`;
      const round = await runAndKill(dir, childSeed, rng.between(20, 600));
      expect(round.open, `${label}: the child opened`).toBeDefined();
      expect(round.open!.docs, `${label}: the child loaded the previous round's documents`).toBe(state.size);

      // Per writer: acknowledged writes in order, then at most one in flight.
      const acked = new Map(state);
      const inFlight: Issue[] = [];
      const byWriter = new Map<number, Issue[]>();
      for (const i of round.issues) (byWriter.get(i.w) ?? byWriter.set(i.w, []).get(i.w)!).push(i);
      for (const [w, issues] of byWriter) {
        issues.forEach((i, k) => {
          const isAcked = round.acked.has(`${w}/${i.op}`);
          if (k < issues.length - 1) expect(isAcked, `${label}: writer ${w} op ${i.op} was followed by another, so it was acknowledged`).toBe(true);
          if (isAcked) {
            for (const [id, d] of i.changes) {
              if (d === null) acked.delete(id);
              else acked.set(id, d);
            }
          } else inFlight.push(i);
        });
      }

      const engine = await Engine.open(dir);
      let raw;
      try {
        raw = readKeyspace(engine);
      } finally {
        await engine.close();
      }
      expect(keyspaceProblems(raw), `${label}: index consistency after the crash`).toEqual([]);
      const coll = raw.collections.get("docs");
      expect(coll, label).toBeDefined();
      expect([...coll!.indexes.values()].map((i) => i.state), label).toEqual(CRASH_INDEXES.map(() => "ready"));

      // Each write in flight: all of its documents as it left them, or all as before.
      const expected = new Map(acked);
      for (const i of inFlight) {
        const applied = i.changes.every(([id, d]) => equalDoc(coll!.docs.get(id), d ?? undefined));
        const notApplied = i.changes.every(([id]) => equalDoc(coll!.docs.get(id), acked.get(id)));
        expect(applied || notApplied, `${label}: writer ${i.w} op ${i.op} (${i.what}) is partly applied`).toBe(true);
        if (applied) {
          for (const [id, d] of i.changes) {
            if (d === null) expected.delete(id);
            else expected.set(id, d);
          }
        }
      }
      expect(sortById([...coll!.docs.values()]), `${label}: recovered documents are the acknowledged ones (plus whole writes in flight)`).toEqual(sortById([...expected.values()]));

      // The database opens and its indexes answer as the documents say.
      const db = await open(dir);
      try {
        const docs = db.collection("docs", CrashDoc, { indexes: CRASH_INDEXES });
        await docs.ready();
        const all = [...expected.values()];
        expect(await docs.count(), label).toBe(all.length);
        for (const w of [0, 1, 2, 3]) expect(await docs.count({ writer: w }), `${label}: writer ${w}`).toBe(all.filter((d) => d.writer === w).length);
        for (const t of ["red", "green", "blue", "cyan"]) {
          expect(sortById(await docs.find({ tags: t }).toArray()), `${label}: tag ${t}`).toEqual(sortById(all.filter((d) => (d.tags as string[]).includes(t))));
        }
        expect(sortById(await docs.find({ age: { $gte: 20, $lt: 40 } }).toArray()), `${label}: age range`).toEqual(sortById(all.filter((d) => (d.age as number) >= 20 && (d.age as number) < 40)));
        for (const d of all.slice(0, 50)) expect(await docs.findOne({ email: d.email as string }), `${label}: by email`).toEqual(d);
      } finally {
        await db.close();
      }
      state = expected;
    }
  });
});

describe("I/O failure in the middle of document writes, then power loss", () => {
  for (const seed of testSeeds(3)) {
    it(`acknowledged writes survive, failed ones are whole or absent, indexes stay consistent (seed ${seed})`, async () => {
      const rng = new Rng(seed);
      const memfs = new MemFs();
      const dir = "/db";
      const db = await open(dir, { fs: memfs, sync: true, memtableSize: 16 * 1024 });
      const docs = db.collection("docs", CrashDoc, { indexes: CRASH_INDEXES });
      await docs.ready();
      const events: ChangeEvent[] = [];
      db.on("change", (e) => events.push(e));
      const base = Array.from({ length: 160 }, (_, i) => ({ _id: `b${i}`, writer: i % 4, n: 0, email: `b${i}@x`, age: i % 30, tags: i % 2 ? ["red"] : [] }));
      await docs.insertMany(base);
      events.length = 0;
      const prior = new Map<string, Doc>(base.map((d) => [d._id, d]));

      memfs.failAfter(rng.between(0, 40));
      // Every write touches a document no other write touches, so each has one known prior state.
      type Outcome = { id: string; after: Doc | null; ok: boolean };
      const outcomes: Outcome[] = [];
      const writer = async (w: number): Promise<void> => {
        const mine = base.filter((d) => d.writer === w).map((d) => d._id);
        for (let i = 0; i < mine.length; i++) {
          const id = mine[i]!;
          const r = rng.int(3);
          let outcome: Outcome;
          if (r === 0) {
            outcome = { id, after: null, ok: await docs.delete(id).then(() => true, () => false) };
          } else if (r === 1) {
            const after = { ...prior.get(id)!, age: 100 + i, tags: ["blue", "cyan"] };
            outcome = { id, after, ok: await docs.update(id, { $set: { age: after.age, tags: after.tags } }).then(() => true, () => false) };
          } else {
            const after = { _id: `w${w}-${i}`, writer: w, n: i, email: `w${w}-${i}@x`, age: i, tags: ["green"] };
            outcome = { id: after._id, after, ok: await docs.insert(after).then(() => true, () => false) };
          }
          outcomes.push(outcome);
          if (!outcome.ok) return;
        }
      };
      await Promise.all([0, 1, 2, 3].map(writer));
      const failed = outcomes.filter((o) => !o.ok);
      expect(failed.length, `seed ${seed}: the injected failure was hit`).toBeGreaterThan(0);
      const eventIds = new Set(events.map((e) => e.id));
      for (const f of failed) expect(eventIds.has(f.id), `seed ${seed}: a change event for the failed write to ${f.id}`).toBe(false);
      for (const o of outcomes.filter((x) => x.ok)) expect(eventIds.has(o.id), `seed ${seed}: no change event for the write to ${o.id}`).toBe(true);
      await db.close().catch(() => undefined);

      memfs.crash();
      memfs.heal();
      const engine = await Engine.open(dir, { fs: memfs });
      let raw;
      try {
        raw = readKeyspace(engine);
      } finally {
        await engine.close();
      }
      expect(keyspaceProblems(raw), `seed ${seed}: index consistency`).toEqual([]);
      const stored = raw.collections.get("docs")!.docs;
      for (const o of outcomes) {
        const got = stored.get(o.id);
        const was = prior.get(o.id);
        if (o.ok) expect(equalDoc(got, o.after ?? undefined), `seed ${seed}: acknowledged write to ${o.id}`).toBe(true);
        else expect(equalDoc(got, o.after ?? undefined) || equalDoc(got, was), `seed ${seed}: failed write to ${o.id} is whole or absent`).toBe(true);
      }
      const touched = new Set(outcomes.map((o) => o.id));
      for (const d of base) if (!touched.has(d._id)) expect(equalDoc(stored.get(d._id), d), `seed ${seed}: untouched ${d._id}`).toBe(true);
    });
  }
});

function equalDoc(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v)
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

function sortById<T extends { _id: string }>(docs: T[]): unknown[] {
  return [...docs].sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0)).map(canonical);
}
