/**
 * engine/db.ts commitGroup: a large group is added to the memtable in slices, giving the event
 * loop turns while it is applied, and none of it is visible (get, iterators, snapshots) until the
 * whole group is, when its write resolves. What it adds is what the log holds, even when the
 * caller changes its arrays during those turns.
 */
import { describe, expect, it } from "vitest";
import { Engine, WriteBatch } from "../../engine/index.js";
import { MemFs } from "../../engine/fs/mem-fs.js";
import { useScratch } from "../fixtures/harness.js";
import { numberedKey } from "../fixtures/kv-model.js";

const scratch = useScratch();

describe("applying a large commit group", () => {
  for (const sync of [false, true]) {
    it(`turns the event loop while the group is added, and shows nothing of it before its write resolves (sync: ${sync})`, async () => {
      const engine = scratch.track(await Engine.open("/db", { fs: new MemFs(), sync, memtableSize: 256 * 1024 * 1024 }));
      await engine.put(numberedKey("before", 0), Uint8Array.of(1));
      const N = 150_000;
      const batch = new WriteBatch();
      const values: Uint8Array[] = [];
      for (let i = 0; i < N; i++) batch.put(numberedKey("k", i), (values[i] = Uint8Array.of(i & 0xff, 7)));
      const before = engine.stats().memtable.entries;
      const seqBefore = engine.stats().seq;

      let resolved = false;
      const written = engine.write(batch).then((seq) => {
        resolved = true;
        return seq;
      });
      const partial: number[] = [];
      let turnsBeforeResolved = 0;
      while (!resolved) {
        await new Promise((r) => setImmediate(r));
        if (resolved) break;
        turnsBeforeResolved++;
        const added = engine.stats().memtable.entries - before;
        if (added > 0 && added < N) {
          partial.push(added);
          // The group is logged and half added; the batch still holds the caller's arrays, and
          // changing them now must not change what is stored.
          for (let i = N - 1000; i < N; i++) values[i]![1] = 99;
        }
        // Whatever has been added, nothing of the group may be seen yet.
        expect(engine.getSync(numberedKey("k", 0))).toBeUndefined();
        expect(engine.getSync(numberedKey("k", N - 1))).toBeUndefined();
        const it = engine.iterate({ gte: numberedKey("k", 0) });
        expect(it.nextSync()).toBeUndefined();
        it.return();
        const snap = engine.snapshot();
        expect(snap.seq).toBe(seqBefore);
        snap.release();
      }
      const seq = await written;
      expect(seq).toBe(seqBefore + 1);
      // Turns came while the group was half added: it was applied in slices.
      expect(partial.length, `turns before the write resolved: ${turnsBeforeResolved}`).toBeGreaterThan(0);
      expect(engine.stats().memtable.entries - before).toBe(N);
      for (const i of [0, 1, N >> 1, N - 1000, N - 1]) expect([...engine.getSync(numberedKey("k", i))!], `k${i}`).toEqual([i & 0xff, 7]);
      let n = 0;
      for (const it = engine.iterate({ gte: numberedKey("k", 0) }); it.nextSync() !== undefined; ) n++;
      expect(n).toBe(N);
    });
  }
});
