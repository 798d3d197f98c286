/**
 * The engine's basic contract (SPEC §2) on a real directory: reads and writes, sequence numbers
 * (including across reopen), argument checking that writes nothing, use after close, iteration
 * bounds and byte order, copy semantics of returned arrays, and group commit.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { DatabaseClosedError, Engine, InvalidArgumentError, WriteBatch, type IterateOptions } from "../../engine/index.js";
import { GatedFs, turnsUntil } from "../fixtures/gated-fs.js";
import { scan, settles, useScratch } from "../fixtures/harness.js";
import { fromHex, hex, KvModel, utf8 } from "../fixtures/kv-model.js";

const scratch = useScratch();

async function open(dir: string, options?: Parameters<typeof Engine.open>[1]): Promise<Engine> {
  return scratch.track(await Engine.open(dir, options));
}

/** The value under `key` as hex, or undefined. */
async function getHex(engine: Engine, key: Uint8Array): Promise<string | undefined> {
  const v = await engine.get(key);
  return v === undefined ? undefined : hex(v);
}

describe("reads and writes", () => {
  it("put, get, overwrite and delete", async () => {
    const engine = await open(scratch.dir(), { sync: false });
    expect(await engine.get(utf8("a"))).toBeUndefined();
    await engine.put(utf8("a"), utf8("1"));
    expect(await getHex(engine, utf8("a"))).toBe(hex(utf8("1")));
    await engine.put(utf8("a"), utf8("2"));
    expect(await getHex(engine, utf8("a"))).toBe(hex(utf8("2")));
    expect(hex(engine.getSync(utf8("a"))!)).toBe(hex(utf8("2")));
    await engine.delete(utf8("a"));
    expect(await engine.get(utf8("a"))).toBeUndefined();
    expect(engine.getSync(utf8("a"))).toBeUndefined();
    // Deleting a missing key is a write like any other.
    await engine.delete(utf8("never"));
    await engine.put(utf8("a"), utf8("3"));
    expect(await getHex(engine, utf8("a"))).toBe(hex(utf8("3")));
  });

  it("an empty value is a value, not a delete", async () => {
    const dir = scratch.dir();
    let engine = await open(dir);
    await engine.put(utf8("e"), new Uint8Array(0));
    expect((await engine.get(utf8("e")))?.length).toBe(0);
    expect(await scan(engine)).toEqual([[hex(utf8("e")), ""]]);
    await engine.close();
    engine = await open(dir);
    expect((await engine.get(utf8("e")))?.length).toBe(0);
  });

  it("keys of 1 and 65535 bytes and a 1 MiB value round-trip through a reopen", async () => {
    const dir = scratch.dir();
    const longKey = new Uint8Array(65535).fill(0xab);
    const big = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 0xff);
    let engine = await open(dir);
    await engine.put(Uint8Array.of(0), utf8("short"));
    await engine.put(longKey, big);
    await engine.close();
    engine = await open(dir);
    expect(await getHex(engine, Uint8Array.of(0))).toBe(hex(utf8("short")));
    expect(await getHex(engine, longKey)).toBe(hex(big));
  });

  it("a Buffer works as key and value", async () => {
    const engine = await open(scratch.dir());
    await engine.put(Buffer.from("buf-key"), Buffer.from("buf-value"));
    expect(await getHex(engine, utf8("buf-key"))).toBe(hex(utf8("buf-value")));
  });
});

describe("sequence numbers", () => {
  it("increase by one per write or batch; a batch's entries share its seq", async () => {
    const engine = await open(scratch.dir(), { sync: false });
    expect(engine.stats().seq).toBe(0);
    expect(await engine.put(utf8("a"), utf8("1"))).toBe(1);
    expect(await engine.delete(utf8("a"))).toBe(2);
    const beforeBatch = engine.snapshot();
    expect(beforeBatch.seq).toBe(2);
    expect(await engine.write(new WriteBatch().put(utf8("b"), utf8("2")).put(utf8("c"), utf8("3")).delete(utf8("d")))).toBe(3);
    const afterBatch = engine.snapshot();
    expect(await engine.put(utf8("e"), utf8("4"))).toBe(4);
    expect(engine.stats().seq).toBe(4);
    // The batch is one write: a snapshot sees all of its entries or none.
    expect(await scan(engine, { snapshot: beforeBatch })).toEqual([]);
    expect(await scan(engine, { snapshot: afterBatch })).toEqual([
      [hex(utf8("b")), hex(utf8("2"))],
      [hex(utf8("c")), hex(utf8("3"))],
    ]);
    beforeBatch.release();
    afterBatch.release();
  });

  it("an empty batch resolves with the last seq and writes nothing", async () => {
    const engine = await open(scratch.dir());
    await engine.put(utf8("a"), utf8("1"));
    await engine.put(utf8("b"), utf8("2"));
    const before = engine.stats();
    expect(await engine.write(new WriteBatch())).toBe(2);
    // A batch that was filled and cleared is empty too.
    expect(await engine.write(new WriteBatch().put(utf8("x"), utf8("y")).clear())).toBe(2);
    const after = engine.stats();
    expect(after.seq).toBe(2);
    expect(after.wal.currentLogBytes).toBe(before.wal.currentLogBytes);
    expect(after.writes).toEqual(before.writes);
    expect(await engine.get(utf8("x"))).toBeUndefined();
    expect(await engine.put(utf8("c"), utf8("3"))).toBe(3);
  });

  it("a batch that writes a key twice keeps the later entry, also after recovery", async () => {
    const dir = scratch.dir();
    let engine = await open(dir);
    const batch = new WriteBatch()
      .put(utf8("pp"), utf8("first"))
      .put(utf8("pp"), utf8("second"))
      .put(utf8("pd"), utf8("gone"))
      .delete(utf8("pd"))
      .delete(utf8("dp"))
      .put(utf8("dp"), utf8("back"))
      .put(utf8("ppp"), utf8("1"))
      .delete(utf8("ppp"))
      .put(utf8("ppp"), utf8("3"));
    const seq = await engine.write(batch);
    const expected = [
      [hex(utf8("dp")), hex(utf8("back"))],
      [hex(utf8("pp")), hex(utf8("second"))],
      [hex(utf8("ppp")), hex(utf8("3"))],
    ];
    expect(await scan(engine)).toEqual(expected);
    expect(await engine.get(utf8("pd"))).toBeUndefined();
    await engine.close();
    engine = await open(dir);
    expect(await scan(engine)).toEqual(expected);
    expect(engine.stats().seq).toBe(seq);
  });

  it("continue after a reopen, also after a reopen that wrote nothing, and are never reused", async () => {
    const dir = scratch.dir();
    let engine = await open(dir);
    for (let i = 1; i <= 3; i++) expect(await engine.put(utf8(`k${i}`), utf8(`v${i}`))).toBe(i);
    await engine.close();

    engine = await open(dir);
    expect(engine.stats().seq).toBe(3);
    await engine.close();
    engine = await open(dir);
    expect(engine.stats().seq).toBe(3);
    await engine.close();

    engine = await open(dir);
    expect(await engine.delete(utf8("k1"))).toBe(4);
    expect(await engine.write(new WriteBatch().put(utf8("k9"), utf8("v9")).delete(utf8("k2")))).toBe(5);
    await engine.close();

    engine = await open(dir);
    expect(engine.stats().seq).toBe(5);
    expect(await engine.put(utf8("k1"), utf8("again"))).toBe(6);
    expect(await scan(engine)).toEqual([
      [hex(utf8("k1")), hex(utf8("again"))],
      [hex(utf8("k3")), hex(utf8("v3"))],
      [hex(utf8("k9")), hex(utf8("v9"))],
    ]);
  });

  it("writes issued together get consecutive seqs in the order they were issued", async () => {
    const engine = await open(scratch.dir(), { sync: false });
    await engine.put(utf8("start"), utf8("0"));
    const pending = [
      engine.put(utf8("a"), utf8("1")),
      engine.delete(utf8("a")),
      engine.write(new WriteBatch().put(utf8("a"), utf8("3"))),
      engine.put(utf8("b"), utf8("4")),
    ];
    expect(await Promise.all(pending)).toEqual([2, 3, 4, 5]);
    expect(await getHex(engine, utf8("a"))).toBe(hex(utf8("3")));
  });
});

describe("argument checking writes nothing", () => {
  const k = utf8("key");
  const v = utf8("value");
  const bad: Array<[string, (e: Engine) => Promise<unknown>]> = [
    ["key is a string", (e) => e.put("key" as unknown as Uint8Array, v)],
    ["key is null", (e) => e.put(null as unknown as Uint8Array, v)],
    ["key is an array of numbers", (e) => e.put([1, 2] as unknown as Uint8Array, v)],
    ["key is empty", (e) => e.put(new Uint8Array(0), v)],
    ["key has 65536 bytes", (e) => e.put(new Uint8Array(65536), v)],
    ["value is a string", (e) => e.put(k, "value" as unknown as Uint8Array)],
    ["value is undefined", (e) => e.put(k, undefined as unknown as Uint8Array)],
    ["value is an ArrayBuffer", (e) => e.put(k, new ArrayBuffer(4) as unknown as Uint8Array)],
    ["delete key is empty", (e) => e.delete(new Uint8Array(0))],
    ["delete key has 65536 bytes", (e) => e.delete(new Uint8Array(65536))],
    ["delete key is a number", (e) => e.delete(7 as unknown as Uint8Array)],
    ["sync option is a string", (e) => e.put(k, v, { sync: "yes" as unknown as boolean })],
    ["write options are a number", (e) => e.put(k, v, 1 as unknown as { sync: boolean })],
    ["write options are null", (e) => e.delete(k, null as unknown as { sync: boolean })],
    ["write() gets a plain object", (e) => e.write({ entries: [] } as unknown as WriteBatch)],
    ["write() gets undefined", (e) => e.write(undefined as unknown as WriteBatch)],
    ["get key is empty", (e) => e.get(new Uint8Array(0))],
    ["get key is a string", (e) => e.get("key" as unknown as Uint8Array)],
  ];

  for (const [name, call] of bad) {
    it(`rejects: ${name}`, async () => {
      const dir = scratch.dir();
      const engine = await open(dir);
      await engine.put(utf8("existing"), utf8("1"));
      const before = engine.stats();
      const logSize = fs.statSync(before.wal.currentLog).size;
      await expect(call(engine)).rejects.toBeInstanceOf(InvalidArgumentError);
      // Give a wrongly queued write every chance to reach the log before looking.
      await new Promise((r) => setTimeout(r, 5));
      const after = engine.stats();
      expect(after.seq).toBe(before.seq);
      expect(after.writes).toEqual(before.writes);
      expect(after.wal.currentLogBytes).toBe(before.wal.currentLogBytes);
      expect(fs.statSync(after.wal.currentLog).size).toBe(logSize);
      // The engine is unharmed.
      expect(await engine.put(utf8("next"), utf8("2"))).toBe(before.seq + 1);
    });
  }

  it("getSync throws synchronously on a bad key", async () => {
    const engine = await open(scratch.dir());
    expect(() => engine.getSync(new Uint8Array(0))).toThrow(InvalidArgumentError);
    expect(() => engine.getSync(new Uint8Array(65536))).toThrow(InvalidArgumentError);
  });

  it("WriteBatch checks each entry as it is added and keeps the good ones", async () => {
    const engine = await open(scratch.dir());
    const batch = new WriteBatch().put(utf8("a"), utf8("1"));
    expect(() => batch.put(new Uint8Array(0), utf8("x"))).toThrow(InvalidArgumentError);
    expect(() => batch.put(new Uint8Array(65536), utf8("x"))).toThrow(InvalidArgumentError);
    expect(() => batch.put(utf8("b"), "x" as unknown as Uint8Array)).toThrow(InvalidArgumentError);
    expect(() => batch.delete("b" as unknown as Uint8Array)).toThrow(InvalidArgumentError);
    expect(batch.length).toBe(1);
    expect(await engine.write(batch)).toBe(1);
    expect(await scan(engine)).toEqual([[hex(utf8("a")), hex(utf8("1"))]]);
  });

  it("iterate rejects bad options before reading anything", async () => {
    const engine = await open(scratch.dir());
    await engine.put(utf8("a"), utf8("1"));
    const badOptions: unknown[] = [
      { limit: -1 },
      { limit: 1.5 },
      { limit: "3" },
      { limit: Number.NaN },
      { gt: utf8("a"), gte: utf8("a") },
      { lt: utf8("z"), lte: utf8("z") },
      { gt: "a" },
      { lte: [1] },
      "options",
      null,
    ];
    for (const o of badOptions) {
      expect(() => engine.iterate(o as IterateOptions), JSON.stringify(o)).toThrow(InvalidArgumentError);
    }
    expect(engine.stats().snapshots, "a refused iterate holds no snapshot").toBe(0);
  });

  it("a snapshot of another engine is refused by get and iterate", async () => {
    const a = await open(scratch.dir());
    const b = await open(scratch.dir());
    await a.put(utf8("k"), utf8("a"));
    await b.put(utf8("k"), utf8("b"));
    const snapOfB = b.snapshot();
    await expect(a.get(utf8("k"), { snapshot: snapOfB })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => a.getSync(utf8("k"), { snapshot: snapOfB })).toThrow(InvalidArgumentError);
    expect(() => a.iterate({ snapshot: snapOfB })).toThrow(InvalidArgumentError);
    expect(() => a.iterate({ snapshot: { seq: 1 } as never })).toThrow(InvalidArgumentError);
    snapOfB.release();
  });

  describe("open options", () => {
    const badOpen: Array<[string, unknown]> = [
      ["sync is a string", { sync: "yes" }],
      ["memtableSize too small", { memtableSize: 100 }],
      ["memtableSize not an integer", { memtableSize: 65536.5 }],
      ["memtableSize a string", { memtableSize: "4mb" }],
      ["walCorruption unknown", { walCorruption: "lenient" }],
      ["createIfMissing a number", { createIfMissing: 1 }],
      ["unknown option", { syncc: true }],
      ["options null", null],
      ["options a string", "sync"],
    ];
    for (const [name, options] of badOpen) {
      it(`rejects: ${name}, and creates nothing`, async () => {
        const dir = path.join(scratch.dir(), "db");
        await expect(Engine.open(dir, options as never)).rejects.toBeInstanceOf(InvalidArgumentError);
        expect(fs.existsSync(dir)).toBe(false);
      });
    }

    it("rejects an empty dir, and a missing dir with createIfMissing: false", async () => {
      await expect(Engine.open("")).rejects.toBeInstanceOf(InvalidArgumentError);
      const dir = path.join(scratch.dir(), "missing");
      await expect(Engine.open(dir, { createIfMissing: false })).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(fs.existsSync(dir)).toBe(false);
    });
  });
});

describe("close", () => {
  it("every call after close() fails with DatabaseClosedError; close() twice is fine", async () => {
    const engine = await open(scratch.dir());
    await engine.put(utf8("k"), utf8("v"));
    const liveSnapshot = engine.snapshot();
    await engine.close();
    await engine.close();
    expect(engine.isClosed).toBe(true);
    await expect(engine.put(utf8("k"), utf8("v"))).rejects.toBeInstanceOf(DatabaseClosedError);
    await expect(engine.delete(utf8("k"))).rejects.toBeInstanceOf(DatabaseClosedError);
    await expect(engine.write(new WriteBatch().put(utf8("k"), utf8("v")))).rejects.toBeInstanceOf(DatabaseClosedError);
    await expect(engine.write(new WriteBatch())).rejects.toBeInstanceOf(DatabaseClosedError);
    await expect(engine.get(utf8("k"))).rejects.toBeInstanceOf(DatabaseClosedError);
    await expect(engine.get(utf8("k"), { snapshot: liveSnapshot })).rejects.toBeInstanceOf(DatabaseClosedError);
    expect(() => engine.getSync(utf8("k"))).toThrow(DatabaseClosedError);
    expect(() => engine.iterate()).toThrow(DatabaseClosedError);
    expect(() => engine.snapshot()).toThrow(DatabaseClosedError);
  });

  it("an iterator that outlives close() fails on its next step", async () => {
    const engine = await open(scratch.dir());
    await engine.put(utf8("a"), utf8("1"));
    await engine.put(utf8("b"), utf8("2"));
    const it = engine.iterate();
    expect((await it.next()).done).toBe(false);
    await engine.close();
    await expect(it.next()).rejects.toBeInstanceOf(DatabaseClosedError);
  });

  it("writes queued before close() commit; writes issued after it are refused", async () => {
    const dir = scratch.dir();
    let engine = await open(dir);
    const queued = Array.from({ length: 20 }, (_, i) => engine.put(utf8(`q${String(i).padStart(2, "0")}`), utf8(`v${i}`)));
    const batch = engine.write(new WriteBatch().put(utf8("batch"), utf8("b")).delete(utf8("q00")));
    const closing = engine.close();
    await expect(engine.put(utf8("late"), utf8("x"))).rejects.toBeInstanceOf(DatabaseClosedError);
    expect(await Promise.all(queued)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await batch).toBe(21);
    await closing;

    engine = await open(dir);
    expect(engine.stats().seq).toBe(21);
    expect(await engine.get(utf8("late"))).toBeUndefined();
    expect(await engine.get(utf8("q00"))).toBeUndefined();
    expect(await getHex(engine, utf8("q19"))).toBe(hex(utf8("v19")));
    expect(await getHex(engine, utf8("batch"))).toBe(hex(utf8("b")));
    expect((await scan(engine)).length).toBe(20);
  });
});

describe("iterate", () => {
  // Keys chosen to catch signed-byte and prefix mistakes: 0x00 and 0xff bytes, and prefixes.
  const keyHexes = ["00", "0000", "0001", "01", "61", "6100", "6162", "616263", "62", "7f", "80", "ff", "ff00", "ffff", "ffffff"];

  async function filled(): Promise<{ engine: Engine; model: KvModel }> {
    const engine = await open(scratch.dir(), { sync: false });
    const model = new KvModel();
    for (const [i, kh] of keyHexes.entries()) {
      const value = utf8(`v${i}`);
      await engine.put(fromHex(kh), value);
      model.apply([{ key: fromHex(kh), value }]);
    }
    // Tombstones and older versions inside the range must stay invisible.
    for (const kh of ["0001", "6162", "ff00"]) {
      await engine.delete(fromHex(kh));
      model.apply([{ key: fromHex(kh), value: undefined }]);
    }
    for (const kh of ["61", "ffff"]) {
      const value = utf8(`new-${kh}`);
      await engine.put(fromHex(kh), value);
      model.apply([{ key: fromHex(kh), value }]);
    }
    return { engine, model };
  }

  it("yields keys in unsigned byte order, forward and reverse", async () => {
    const { engine, model } = await filled();
    const forward = await scan(engine);
    expect(forward.map(([k]) => k)).toEqual(["00", "0000", "01", "61", "6100", "616263", "62", "7f", "80", "ff", "ffff", "ffffff"]);
    expect(forward).toEqual(model.scan());
    expect(await scan(engine, { reverse: true })).toEqual(model.scan({ reverse: true }));
  });

  it("honours every combination of bounds, direction and limit", async () => {
    const { engine, model } = await filled();
    // Bounds that exist, that were deleted, that never existed, and that lie past either end.
    const boundHexes = ["00", "0001", "01", "6100", "6161", "6162", "7f", "80", "fe", "ff", "ff00", "ffffff", "ffffffff"];
    const lowers: IterateOptions[] = [{}, ...boundHexes.flatMap((h) => [{ gt: fromHex(h) }, { gte: fromHex(h) }])];
    const uppers: IterateOptions[] = [{}, ...boundHexes.flatMap((h) => [{ lt: fromHex(h) }, { lte: fromHex(h) }])];
    for (const lower of lowers) {
      for (const upper of uppers) {
        for (const reverse of [false, true]) {
          for (const limit of [undefined, 0, 1, 3]) {
            const o: IterateOptions = { ...lower, ...upper, reverse, ...(limit === undefined ? {} : { limit }) };
            const label = JSON.stringify(Object.fromEntries(Object.entries(o).map(([k, x]) => [k, x instanceof Uint8Array ? hex(x) : x])));
            expect(await scan(engine, o), label).toEqual(model.scan(o));
          }
        }
      }
    }
    expect(engine.stats().snapshots, "finished iterators release their snapshots").toBe(0);
  });

  it("limit 0 yields nothing and an empty range yields nothing", async () => {
    const { engine } = await filled();
    expect(await scan(engine, { limit: 0 })).toEqual([]);
    expect(await scan(engine, { gt: fromHex("80"), lt: fromHex("7f") })).toEqual([]);
    expect(await scan(engine, { gte: fromHex("80"), lte: fromHex("7f"), reverse: true })).toEqual([]);
    expect(await scan(engine, { gt: fromHex("80"), lte: fromHex("80") })).toEqual([]);
    expect(await scan(engine, { gte: fromHex("80"), lte: fromHex("80") })).toEqual([["80", hex(utf8("v10"))]]);
  });

  it("on an empty engine yields nothing in either direction", async () => {
    const engine = await open(scratch.dir());
    expect(await scan(engine)).toEqual([]);
    expect(await scan(engine, { reverse: true, lte: fromHex("ff") })).toEqual([]);
  });

  it("stopping early releases the iterator's snapshot", async () => {
    const { engine } = await filled();
    for await (const entry of engine.iterate()) {
      expect(entry).toBeDefined();
      expect(engine.stats().snapshots).toBe(1);
      break;
    }
    expect(engine.stats().snapshots).toBe(0);
  });
});

describe("returned arrays belong to the caller", () => {
  async function check(engine: Engine): Promise<void> {
    const got = (await engine.get(utf8("key")))!;
    got.fill(0);
    expect(await getHex(engine, utf8("key")), "mutating get()'s result").toBe(hex(utf8("value")));
    const sync = engine.getSync(utf8("key"))!;
    sync.fill(0);
    expect(await getHex(engine, utf8("key")), "mutating getSync()'s result").toBe(hex(utf8("value")));
    for await (const [k, v] of engine.iterate()) {
      k.fill(0);
      v.fill(0);
    }
    expect(await scan(engine), "mutating iterate()'s results").toEqual([[hex(utf8("key")), hex(utf8("value"))]]);
  }

  it("for data written in this session", async () => {
    const engine = await open(scratch.dir());
    const key = utf8("key");
    const value = utf8("value");
    await engine.put(key, value);
    // The engine must not keep the caller's arrays either.
    key.fill(0);
    value.fill(0);
    await check(engine);
  });

  it("for data recovered from the log", async () => {
    const dir = scratch.dir();
    let engine = await open(dir);
    await engine.put(utf8("key"), utf8("value"));
    await engine.close();
    engine = await open(dir);
    await check(engine);
  });

  it("for many iterated entries at once, from tables and the memtable (copies share slabs, never bytes)", async () => {
    const engine = await open(scratch.dir());
    const key = (i: number): Uint8Array => utf8(`key${String(i).padStart(4, "0")}`);
    const value = (i: number): Uint8Array => new Uint8Array(1 + (i % 200)).fill(i & 0xff);
    for (let i = 0; i < 600; i++) await engine.put(key(i), value(i));
    await engine.flush();
    for (let i = 600; i < 700; i++) await engine.put(key(i), value(i));
    const held: Array<[Uint8Array, Uint8Array]> = [];
    for await (const e of engine.iterate()) held.push(e);
    expect(held.length).toBe(700);
    // Scribble over every other entry: the rest, and the database, keep their bytes.
    for (let i = 0; i < held.length; i += 2) {
      held[i]![0].fill(0xee);
      held[i]![1].fill(0xee);
    }
    for (let i = 1; i < held.length; i += 2) {
      expect([hex(held[i]![0]), hex(held[i]![1])], `entry ${i}`).toEqual([hex(key(i)), hex(value(i))]);
    }
    const again: Array<[string, string]> = [];
    for await (const [k, v] of engine.iterate()) again.push([hex(k), hex(v)]);
    expect(again).toEqual(Array.from({ length: 700 }, (_, i) => [hex(key(i)), hex(value(i))]));
    await engine.close();
  });
});

describe("group commit", () => {
  it("commits 32 concurrent synced puts in fewer groups than writes", async () => {
    const engine = await open(scratch.dir(), { sync: true });
    await engine.put(utf8("warm"), utf8("up"));
    const before = engine.stats().writes;
    const seqs = await Promise.all(Array.from({ length: 32 }, (_, i) => engine.put(utf8(`g${i}`), utf8(`v${i}`))));
    expect(seqs).toEqual(Array.from({ length: 32 }, (_, i) => i + 2));
    const after = engine.stats().writes;
    const commits = after.commits - before.commits;
    const groups = after.groups - before.groups;
    const syncs = after.syncs - before.syncs;
    expect(commits).toBe(32);
    expect(groups).toBeGreaterThanOrEqual(1);
    expect(groups).toBeLessThan(commits);
    expect(syncs).toBeLessThanOrEqual(groups);
    expect(syncs).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 32; i++) expect(await getHex(engine, utf8(`g${i}`))).toBe(hex(utf8(`v${i}`)));
  });

  it("writes issued while a sync is in flight wait for it and then commit together", async () => {
    const fs = new GatedFs();
    const engine = await open("/db", { fs, sync: true });
    fs.hold();
    const first = engine.put(utf8("a"), utf8("1"));
    expect(await turnsUntil(() => fs.waiting > 0), "the first group's sync reaches the gate").toBe(true);
    const rest = Array.from({ length: 16 }, (_, i) => engine.put(utf8(`b${i}`), utf8("2")));
    // Let the event loop turn a few times: nothing may commit while the sync is held.
    await turnsUntil(() => false, 5);
    expect(engine.stats().writes.commits).toBe(0);
    expect(await engine.get(utf8("a"))).toBeUndefined();
    fs.release();
    expect(await first).toBe(1);
    expect(await Promise.all(rest)).toEqual(Array.from({ length: 16 }, (_, i) => i + 2));
    const w = engine.stats().writes;
    expect(w.commits).toBe(17);
    expect(w.groups, "the held group, then the writes that queued behind it").toBeGreaterThanOrEqual(2);
    expect(w.groups).toBeLessThan(17);
    expect(w.syncs).toBe(w.groups);
  });

  it("a write issued a few microtasks after the previous write resolved is still committed", async () => {
    // The commit loop must not miss a write that arrives while it is winding down.
    for (const sync of [false, true]) {
      const engine = await open(scratch.dir(), { sync });
      let seq = 0;
      for (let hops = 0; hops < 8; hops++) {
        expect(await engine.put(utf8("k"), utf8(`a${hops}`))).toBe(++seq);
        for (let i = 0; i < hops; i++) await Promise.resolve();
        const what = `sync=${sync}: put issued ${hops} microtasks after the previous one resolved`;
        expect(await settles(engine.put(utf8("k"), utf8(`b${hops}`)), what), what).toBe(++seq);
      }
      await engine.close();
    }
  });

  it("a sync: false write in a synced group is made durable with it, and sync: false alone does not sync", async () => {
    const engine = await open(scratch.dir(), { sync: false });
    await engine.put(utf8("a"), utf8("1"));
    expect(engine.stats().writes.syncs).toBe(0);
    await Promise.all([engine.put(utf8("b"), utf8("2")), engine.put(utf8("c"), utf8("3"), { sync: true })]);
    expect(engine.stats().writes.syncs).toBe(1);
  });
});
