/**
 * Snapshot isolation (SPEC §2: "a snapshot sees exactly the writes with seq <= its seq"): iterators
 * and snapshots keep returning the state of their creation while overwrites, deletes and new keys
 * land around and ahead of the cursor; writes still in flight when a snapshot is taken stay
 * invisible to it; released snapshots are refused; `stats().snapshots` counts live ones.
 */
import { describe, expect, it } from "vitest";
import { Engine, InvalidArgumentError, WriteBatch, type IterateOptions } from "../../engine/index.js";
import { MemFs } from "../../engine/fs/mem-fs.js";
import { GatedFs, turnsUntil } from "../fixtures/gated-fs.js";
import { scan, useScratch } from "../fixtures/harness.js";
import { hex, KvModel, utf8, type HexPairs, type ModelEntry } from "../fixtures/kv-model.js";
import { Rng, testSeeds } from "../fixtures/random.js";

const scratch = useScratch();
const seeds = testSeeds(4);

/** Keys k000..k(n-1) with every other slot left free, so new keys can land between existing ones. */
function slotKey(i: number): Uint8Array {
  return utf8(`k${String(i).padStart(3, "0")}`);
}

async function filled(engine: Engine, rng: Rng, slots: number): Promise<KvModel> {
  const model = new KvModel();
  const batch = new WriteBatch();
  const entries: ModelEntry[] = [];
  for (let i = 0; i < slots; i += 2) {
    const e = { key: slotKey(i), value: rng.bytes(rng.int(20)) };
    entries.push(e);
    batch.put(e.key, e.value);
  }
  await engine.write(batch);
  model.apply(entries);
  return model;
}

/** A random write over the slots: overwrite, delete, or a brand new key; sometimes a batch. */
function randomWrite(rng: Rng, slots: number): ModelEntry[] {
  const n = rng.chance(0.3) ? rng.between(2, 5) : 1;
  return Array.from({ length: n }, () => {
    const key = slotKey(rng.int(slots));
    return { key, value: rng.chance(0.3) ? undefined : rng.bytes(rng.int(30)) };
  });
}

async function apply(engine: Engine, entries: ModelEntry[]): Promise<void> {
  if (entries.length === 1) {
    const e = entries[0]!;
    await (e.value === undefined ? engine.delete(e.key) : engine.put(e.key, e.value));
    return;
  }
  const batch = new WriteBatch();
  for (const e of entries) {
    if (e.value === undefined) batch.delete(e.key);
    else batch.put(e.key, e.value);
  }
  await engine.write(batch);
}

describe("isolation under concurrent writes", () => {
  for (const seed of seeds) {
    it(`an iterator and a snapshot see only the state of their creation (seed ${seed})`, async () => {
      const rng = new Rng(seed);
      const slots = 300;
      const engine = scratch.track(await Engine.open("/db", { fs: new MemFs(), sync: false }));
      const model = await filled(engine, rng, slots);

      for (let round = 0; round < 6; round++) {
        const label = `seed=${seed} round=${round}`;
        const o: IterateOptions = {};
        if (rng.chance(0.5)) o.gte = slotKey(rng.int(slots / 2));
        if (rng.chance(0.5)) o.lt = slotKey(slots / 2 + rng.int(slots / 2));
        if (rng.chance(0.5)) o.reverse = true;
        const expected = model.scan(o);
        const atCreation = model.clone();
        const snap = engine.snapshot();
        const iter = engine.iterate(o);

        const got: HexPairs = [];
        for (;;) {
          // Between steps: writes everywhere, including just ahead of the cursor.
          for (let w = rng.int(4); w > 0; w--) {
            const entries = randomWrite(rng, slots);
            await apply(engine, entries);
            model.apply(entries);
          }
          const step = await iter.next();
          if (step.done) break;
          got.push([hex(step.value[0]), hex(step.value[1])]);
        }
        expect(got, `${label} iterator ${JSON.stringify({ ...o, gte: o.gte && hex(o.gte), lt: o.lt && hex(o.lt) })}`).toEqual(expected);

        // The snapshot still answers with the old state, and live reads with the new one.
        expect(await scan(engine, { snapshot: snap }), `${label} snapshot scan`).toEqual(atCreation.scan());
        for (let i = 0; i < 30; i++) {
          const key = slotKey(rng.int(slots));
          const old = await engine.get(key, { snapshot: snap });
          expect(old && hex(old), `${label} snapshot get ${hex(key)}`).toBe(atCreation.get(key));
          const now = engine.getSync(key);
          expect(now && hex(now), `${label} live get ${hex(key)}`).toBe(model.get(key));
        }
        expect(await scan(engine), `${label} live scan`).toEqual(model.scan());
        snap.release();
      }
      expect(engine.stats().snapshots).toBe(0);
    });
  }

  it("a snapshot taken while writes are in flight sees none of them", async () => {
    const engine = scratch.track(await Engine.open(scratch.dir(), { sync: true }));
    await engine.put(utf8("a"), utf8("old"));
    const pending = [engine.put(utf8("a"), utf8("new")), engine.put(utf8("b"), utf8("new")), engine.delete(utf8("a"))];
    const snap = engine.snapshot();
    const iter = engine.iterate();
    expect(snap.seq).toBe(1);
    expect(await Promise.all(pending)).toEqual([2, 3, 4]);
    expect(hex((await engine.get(utf8("a"), { snapshot: snap }))!)).toBe(hex(utf8("old")));
    expect(await engine.get(utf8("b"), { snapshot: snap })).toBeUndefined();
    const seen: HexPairs = [];
    for await (const [k, v] of iter) seen.push([hex(k), hex(v)]);
    expect(seen).toEqual([[hex(utf8("a")), hex(utf8("old"))]]);
    expect(await scan(engine)).toEqual([[hex(utf8("b")), hex(utf8("new"))]]);
    snap.release();
  });

  it("a write whose sync is in flight is invisible to every reader until it is acknowledged", async () => {
    const fs = new GatedFs();
    const engine = scratch.track(await Engine.open("/db", { fs, sync: true }));
    await engine.put(utf8("a"), utf8("old"));
    const logBytes = engine.stats().wal.currentLogBytes;
    fs.hold();
    let acknowledged = false;
    const pending = engine.put(utf8("a"), utf8("new")).then((seq) => {
      acknowledged = true;
      return seq;
    });
    // Wait until the record is in the log and its sync is held at the gate.
    expect(await turnsUntil(() => fs.waiting > 0 && engine.stats().wal.currentLogBytes > logBytes)).toBe(true);
    expect(acknowledged).toBe(false);
    const snap = engine.snapshot();
    expect(snap.seq, "a snapshot must not include a write that could still be lost").toBe(1);
    expect(engine.stats().seq).toBe(1);
    expect(hex(engine.getSync(utf8("a"))!)).toBe(hex(utf8("old")));
    expect(await scan(engine)).toEqual([[hex(utf8("a")), hex(utf8("old"))]]);
    fs.release();
    expect(await pending).toBe(2);
    expect(hex(engine.getSync(utf8("a"))!)).toBe(hex(utf8("new")));
    expect(hex((await engine.get(utf8("a"), { snapshot: snap }))!)).toBe(hex(utf8("old")));
    snap.release();
  });

  it("a snapshot keeps every version it needs while the memtable fills and is flushed", async () => {
    const engine = scratch.track(await Engine.open(scratch.dir(), { sync: false, memtableSize: 4096 }));
    const rng = new Rng(7);
    const model = new KvModel();
    for (let i = 0; i < 50; i++) {
      const e = { key: slotKey(i), value: rng.bytes(40) };
      await engine.put(e.key, e.value);
      model.apply([e]);
    }
    const snap = engine.snapshot();
    const atSnap = model.clone();
    // Far more than memtableSize of overwrites and deletes of the same keys.
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 50; i++) {
        const e = { key: slotKey(i), value: rng.chance(0.2) ? undefined : rng.bytes(40) };
        await apply(engine, [e]);
        model.apply([e]);
      }
    }
    // Flush and compaction (SPEC §2), where the engine has them, must not drop what the snapshot sees.
    const maintenance = engine as unknown as { flush?: () => Promise<void>; compact?: () => Promise<void> };
    await maintenance.flush?.();
    await maintenance.compact?.();
    expect(await scan(engine, { snapshot: snap })).toEqual(atSnap.scan());
    expect(await scan(engine, { snapshot: snap, reverse: true, gte: slotKey(10), lte: slotKey(20) })).toEqual(
      atSnap.scan({ reverse: true, gte: slotKey(10), lte: slotKey(20) }),
    );
    expect(await scan(engine)).toEqual(model.scan());
    snap.release();
  });
});

describe("snapshot lifecycle", () => {
  it("a released snapshot is refused by get, getSync and iterate; release twice is harmless", async () => {
    const engine = scratch.track(await Engine.open(scratch.dir()));
    await engine.put(utf8("k"), utf8("v"));
    const snap = engine.snapshot();
    expect(snap.isReleased).toBe(false);
    snap.release();
    snap.release();
    expect(snap.isReleased).toBe(true);
    await expect(engine.get(utf8("k"), { snapshot: snap })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => engine.getSync(utf8("k"), { snapshot: snap })).toThrow(InvalidArgumentError);
    expect(() => engine.iterate({ snapshot: snap })).toThrow(InvalidArgumentError);
    expect(engine.stats().snapshots).toBe(0);
  });

  it("stats().snapshots counts live snapshots, including the one a live iterator holds", async () => {
    const engine = scratch.track(await Engine.open(scratch.dir()));
    for (const k of ["a", "b", "c"]) await engine.put(utf8(k), utf8(k));
    expect(engine.stats().snapshots).toBe(0);
    const s1 = engine.snapshot();
    const s2 = engine.snapshot(); // same seq as s1: counted separately
    await engine.put(utf8("d"), utf8("d"));
    const s3 = engine.snapshot();
    expect([s1.seq, s2.seq, s3.seq]).toEqual([3, 3, 4]);
    expect(engine.stats().snapshots).toBe(3);
    s2.release();
    s2.release();
    expect(engine.stats().snapshots).toBe(2);

    const own = engine.iterate();
    expect(engine.stats().snapshots, "an iterator without a snapshot option takes its own").toBe(3);
    const borrowed = engine.iterate({ snapshot: s1 });
    expect(engine.stats().snapshots, "an iterator given a snapshot takes none").toBe(3);
    const none = engine.iterate({ limit: 0 });
    expect(engine.stats().snapshots, "a limit-0 iterator holds nothing").toBe(3);
    expect((await none.next()).done).toBe(true);

    let n = 0;
    for await (const _ of own) n++;
    expect(n).toBe(4);
    expect(engine.stats().snapshots, "an exhausted iterator releases its snapshot").toBe(2);
    await borrowed.return();
    expect(engine.stats().snapshots).toBe(2);
    expect(s1.isReleased, "closing an iterator does not release a snapshot it was given").toBe(false);

    s1[Symbol.dispose]();
    s3.release();
    expect(engine.stats().snapshots).toBe(0);
  });

  it("snapshot seqs follow the engine's seq, across a reopen too", async () => {
    const dir = scratch.dir();
    let engine = scratch.track(await Engine.open(dir));
    expect(engine.snapshot().seq).toBe(0);
    await engine.write(new WriteBatch().put(utf8("a"), utf8("1")).put(utf8("b"), utf8("2")));
    const s = engine.snapshot();
    expect(s.seq).toBe(1);
    s.release();
    await engine.close();
    engine = scratch.track(await Engine.open(dir));
    const after = engine.snapshot();
    expect(after.seq).toBe(1);
    expect(await scan(engine, { snapshot: after })).toEqual([
      [hex(utf8("a")), hex(utf8("1"))],
      [hex(utf8("b")), hex(utf8("2"))],
    ]);
    after.release();
  });
});
