/**
 * A real crash: a child process (fixtures/crash-writer.ts) writes with `sync: true` from several
 * concurrent writers and reports each write as it issues it and as it is acknowledged; the test
 * SIGKILLs it after a random number of acknowledgements, reopens the directory in this process
 * (past the dead child's LOCK file) and checks recovery:
 *
 *   - every acknowledged write is reflected: each key holds the value of its last acknowledged
 *     write, or of a write to it issued later (which may or may not have reached the log);
 *   - more precisely, the state is exactly that after the first `S - open` issued writes, S being
 *     the recovered seq (the engine numbers writes in issue order and recovers a prefix of its log);
 *   - recovering the same directory again gives the same state and seq.
 *
 * Rounds share one directory, so later rounds also replay logs left by earlier crashes. Some rounds
 * run the child with a small memtable so that the kill can land during a memtable switch or flush.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Engine } from "../../engine/index.js";
import { parseLine, valueFor, type CrashEntry } from "../fixtures/crash-protocol.js";
import { FixtureProcess, scan, settles, useScratch } from "../fixtures/harness.js";
import { fromHex, hex, KvModel, type ModelEntry } from "../fixtures/kv-model.js";
import { Rng, testSeeds } from "../fixtures/random.js";

const scratch = useScratch();
const ROUNDS = 5;

interface IssuedWrite {
  id: number;
  entries: CrashEntry[];
  ackSeq?: number;
}

function toModelEntries(w: IssuedWrite): ModelEntry[] {
  return w.entries.map((e, i) => ({ key: fromHex(e.key), value: e.op === "put" ? valueFor(w.id, i, e.length) : undefined }));
}

/** Runs the writer until `killAfterAcks` acknowledgements have been read, then SIGKILLs it. */
async function runAndKill(dir: string, seed: number, killAfterAcks: number, memtableSize: number | undefined): Promise<{ openSeq: number; issued: IssuedWrite[]; pid: number }> {
  let openSeq = -1;
  const issued: IssuedWrite[] = [];
  const byId = new Map<number, IssuedWrite>();
  let acks = 0;
  let child: FixtureProcess | undefined;
  const onLine = (text: string): void => {
    const line = parseLine(text);
    if (line.type === "open") openSeq = line.seq;
    else if (line.type === "issue") {
      const w = { id: line.id, entries: line.entries };
      issued.push(w);
      byId.set(w.id, w);
    } else {
      byId.get(line.id)!.ackSeq = line.seq;
      if (++acks === killAfterAcks) child!.child.kill("SIGKILL");
    }
  };
  const args = [dir, String(seed), ...(memtableSize === undefined ? [] : [String(memtableSize)])];
  child = new FixtureProcess("crash-writer.ts", args, onLine);
  const exit = await settles(child.exited, `crash-writer (seed ${seed}) did not reach ${killAfterAcks} acks; stderr:\n${child.stderr}`, 30_000);
  expect(exit.signal, `crash-writer (seed ${seed}) should die by SIGKILL; exit ${exit.code}; stderr:\n${child.stderr}`).toBe("SIGKILL");
  expect(openSeq, `seed ${seed}: the child never reported its open`).toBeGreaterThanOrEqual(0);
  return { openSeq, issued, pid: child.pid };
}

describe("SIGKILL during synced concurrent writes", () => {
  const [seed] = testSeeds(1) as [number];

  it(`recovers every acknowledged write, ${ROUNDS} rounds (seed ${seed})`, { timeout: 120_000 }, async () => {
    const rng = new Rng(seed);
    const dir = scratch.dir();
    let model = new KvModel();
    let lastSeq = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const roundSeed = rng.u32();
      // Some rounds with a small memtable, so that memtable switches (and, where the engine has
      // them, flushes) are in progress when the kill comes.
      const memtableSize = rng.chance(0.5) ? 64 * 1024 : undefined;
      const label = `seed=${seed} round=${round} child-seed=${roundSeed} memtableSize=${memtableSize ?? "default"}`;
      const { openSeq, issued, pid } = await runAndKill(dir, roundSeed, rng.between(50, 400), memtableSize);
      expect(openSeq, `${label}: the child recovered the seq the previous round left`).toBe(lastSeq);

      // Issue order is seq order.
      const acked = issued.filter((w) => w.ackSeq !== undefined);
      expect(acked.length, label).toBeGreaterThanOrEqual(50);
      for (const [i, w] of issued.entries()) {
        if (w.ackSeq !== undefined) expect(w.ackSeq, `${label}: write id ${w.id} (issued #${i})`).toBe(openSeq + i + 1);
      }
      const maxAck = Math.max(...acked.map((w) => w.ackSeq!));

      const lockFile = path.join(dir, "LOCK");
      expect(fs.existsSync(lockFile), `${label}: the killed child leaves its LOCK file`).toBe(true);
      expect(fs.readFileSync(lockFile, "utf8").split(" ")[0], label).toBe(String(pid));

      const engine = scratch.track(await Engine.open(dir));
      const recovered = engine.stats().seq;
      expect(recovered, `${label}: recovered seq covers the last ack`).toBeGreaterThanOrEqual(maxAck);
      expect(recovered, `${label}: recovered seq beyond what was issued`).toBeLessThanOrEqual(openSeq + issued.length);

      // Per key: the last acknowledged value, or a value written to it later (possibly unacknowledged).
      const lastAckedIndex = issued.findLastIndex((w) => w.ackSeq !== undefined);
      const candidates = new Map<string, Set<string | undefined>>();
      const state = model.clone();
      issued.forEach((w, i) => {
        const touched = new Set(w.entries.map((e) => e.key));
        state.apply(toModelEntries(w));
        for (const k of touched) {
          if (i <= lastAckedIndex) candidates.set(k, new Set([state.get(fromHex(k))]));
          else (candidates.get(k) ?? candidates.set(k, new Set([model.get(fromHex(k))])).get(k)!).add(state.get(fromHex(k)));
        }
      });
      for (const [k, allowed] of candidates) {
        const got = await engine.get(fromHex(k));
        const v = got === undefined ? undefined : hex(got);
        expect(allowed.has(v), `${label}: key ${k} recovered as ${v === undefined ? "absent" : `${v.length / 2} bytes`}, not one of its acknowledged-or-later values`).toBe(true);
      }

      // Exactly a prefix of the issued writes.
      const expected = model.clone();
      for (const w of issued.slice(0, recovered - openSeq)) expected.apply(toModelEntries(w));
      const contents = await scan(engine);
      expect(contents, `${label}: state is the first ${recovered - openSeq} of ${issued.length} issued writes`).toEqual(expected.scan());
      await engine.close();

      // Recovery is stable: the same again, twice.
      for (let again = 0; again < 2; again++) {
        const e = scratch.track(await Engine.open(dir));
        expect(e.stats().seq, `${label}: seq on reopen ${again + 1}`).toBe(recovered);
        expect(await scan(e), `${label}: contents on reopen ${again + 1}`).toEqual(contents);
        await e.close();
      }
      model = expected;
      lastSeq = recovered;
    }
  });
});
