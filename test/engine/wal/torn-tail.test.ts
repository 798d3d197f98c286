/**
 * Recovery from damaged logs (SPEC §2.1), through `readLog` and through `Engine.open` on real
 * temp directories:
 *
 * - a torn tail (the log cut at any byte of its last record, a multi-block record cut anywhere, a
 *   zero-filled tail) loses only that record; every earlier record is recovered, the engine opens
 *   and writes normally, and `stats().recovery.tornTails` names the file and offset. This holds
 *   for an older log followed by a newer good one too.
 * - damage followed by valid records (a flipped payload byte, a flipped length, CRC or type
 *   field, a malformed record under a valid checksum, zeros, a record interrupted by a new one,
 *   an orphaned continuation chunk) is a `CorruptionError` naming the file and offset; with
 *   `walCorruption: "skip"` the engine opens, drops exactly the damaged record (once, however many
 *   chunks it had) and lists it in `stats().recovery.skippedCorruption`.
 *
 * Logs are laid out with LogWriter so every record's offset is known exactly.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Engine } from "../../../engine/db.js";
import { CorruptionError } from "../../../engine/errors.js";
import { MemFs } from "../../../engine/fs/mem-fs.js";
import { writeU32LE } from "../../../engine/util/bytes.js";
import { crc32WithPrefixByte } from "../../../engine/util/crc32.js";
import { BLOCK_SIZE, ChunkType, HEADER_SIZE } from "../../../engine/wal/format.js";
import { readLog, type LogReadSummary } from "../../../engine/wal/log-reader.js";
import { LogWriter } from "../../../engine/wal/log-writer.js";
import { encodeRecord, EntryKind, type WriteEntry } from "../../../engine/wal/record.js";
import { Rng, testSeeds } from "../../fixtures/random.js";

// One seed per run: LSMDOC_SEED replays a failure (test/fixtures/random.ts).
const [SEED] = testSeeds(1) as [number];

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => Buffer.from(b).toString("latin1");

/** One write of a test log: its seq and entries. */
interface Write {
  seq: number;
  entries: WriteEntry[];
}

const put = (key: string, value: Uint8Array | string): WriteEntry => ({
  kind: EntryKind.Put,
  key: enc(key),
  value: typeof value === "string" ? enc(value) : value,
});
const del = (key: string): WriteEntry => ({ kind: EntryKind.Delete, key: enc(key), value: new Uint8Array(0) });
const filled = (n: number, salt: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 13 + salt) & 0xff);

interface Layout {
  data: Uint8Array;
  /** Offset of each write's first chunk. */
  starts: number[];
  /** Offset just past each write's last chunk. */
  ends: number[];
}

/** Lays out `writes` as LogWriter does, each in its own group write. */
function layOut(writes: readonly Write[]): Layout {
  const mem = new MemFs();
  mem.mkdirp("/wal");
  const writer = new LogWriter(mem.create("/wal/00001.log"));
  const starts: number[] = [];
  const ends: number[] = [];
  for (const w of writes) {
    // A record starts where the writer is, unless fewer than 7 bytes are left in the block.
    const at = writer.size;
    starts.push(BLOCK_SIZE - (at % BLOCK_SIZE) < HEADER_SIZE ? at + BLOCK_SIZE - (at % BLOCK_SIZE) : at);
    writer.addRecord(encodeRecord(w.seq, w.entries));
    writer.writePending();
    ends.push(writer.size);
  }
  return { data: mem.readFile("/wal/00001.log"), starts, ends };
}

/** Records of `data` as "seq:op key=value" lines, with the summary. */
function read(data: Uint8Array, file = "00001.log", skipCorrupted = false): { lines: string[]; summary: LogReadSummary } {
  const lines: string[] = [];
  const summary = readLog(
    data,
    file,
    (r) => {
      for (const e of r.entries) lines.push(describeEntry(r.seq, e));
    },
    { skipCorrupted },
  );
  return { lines, summary };
}

function describeEntry(seq: number, e: WriteEntry): string {
  const v = e.value.length > 24 ? `<${e.value.length} bytes, sum ${e.value.reduce((a, b) => (a * 31 + b) >>> 0, 0)}>` : dec(e.value);
  return `${seq}:${e.kind === EntryKind.Put ? "put" : "del"} ${dec(e.key)}=${v}`;
}

const linesOf = (writes: readonly Write[]): string[] => writes.flatMap((w) => w.entries.map((e) => describeEntry(w.seq, e)));

/** The key/value state after applying `writes` in order, as sorted "key=value" lines. */
function stateOf(writes: readonly Write[]): string[] {
  const m = new Map<string, Uint8Array>();
  for (const w of writes) {
    for (const e of w.entries) {
      if (e.kind === EntryKind.Put) m.set(dec(e.key), e.value);
      else m.delete(dec(e.key));
    }
  }
  return [...m.entries()].sort(([a], [b]) => Buffer.compare(Buffer.from(a, "latin1"), Buffer.from(b, "latin1"))).map(([k, v]) => `${k}=${Buffer.from(v).toString("hex")}`);
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh database directory whose wal/ holds `logs` (file name -> bytes). */
function dbWith(logs: Record<string, Uint8Array>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lsmdoc-torn-"));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, "wal"));
  for (const [name, data] of Object.entries(logs)) fs.writeFileSync(path.join(dir, "wal", name), data);
  return dir;
}

/** Opens `dir`, checks its contents equal `expected` (sorted key=hex lines), and returns the stats. */
async function openAndCheck(dir: string, expected: string[], msg: string, walCorruption: "strict" | "skip" = "strict") {
  const engine = await Engine.open(dir, { sync: false, walCorruption });
  try {
    const got: string[] = [];
    for await (const [k, v] of engine.iterate()) got.push(`${dec(k)}=${Buffer.from(v).toString("hex")}`);
    expect(got, msg).toEqual(expected);
    const stats = engine.stats();
    // The engine opens normally: it takes new writes after the recovered seq.
    const seq = await engine.put(enc("after-recovery"), enc("ok"));
    expect(seq, msg).toBe(stats.seq + 1);
    expect(dec((await engine.get(enc("after-recovery")))!), msg).toBe("ok");
    return stats;
  } finally {
    await engine.close();
  }
}

function expectCorruption(fn: () => unknown, file: string, offset: number, msg: string): CorruptionError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, msg).toBeInstanceOf(CorruptionError);
  const c = err as CorruptionError;
  expect(c.code, msg).toBe("LSMDOC_CORRUPTION");
  expect(c.file, msg).toBe(file);
  expect(c.offset, msg).toBe(offset);
  expect(c.message, msg).toContain(file);
  expect(c.message, msg).toContain(`offset ${offset}`);
  return c;
}

async function expectOpenCorruption(dir: string, file: string, offset: number, msg: string): Promise<void> {
  // Twice: a refused open must release the directory's lock (else the second is DatabaseLockedError).
  for (let attempt = 0; attempt < 2; attempt++) {
    let err: unknown;
    try {
      const engine = await Engine.open(dir, { sync: false });
      await engine.close();
    } catch (e) {
      err = e;
    }
    expect(err, `${msg} (open ${attempt + 1})`).toBeInstanceOf(CorruptionError);
    expect((err as CorruptionError).file, msg).toBe(file);
    expect((err as CorruptionError).offset, msg).toBe(offset);
  }
}

// Several writes of every shape; the last one is what gets torn.
const WRITES: Write[] = [
  { seq: 1, entries: [put("alpha", "one")] },
  { seq: 2, entries: [put("beta", filled(2000, 1))] },
  { seq: 3, entries: [del("alpha")] },
  { seq: 4, entries: [put("gamma", "g"), del("beta"), put("delta", filled(300, 2))] },
  { seq: 5, entries: [put("epsilon", "e")] },
  { seq: 6, entries: [put("last", filled(120, 3))] },
];

describe("torn tail in the last record", () => {
  const layout = layOut(WRITES);
  const lastStart = layout.starts[WRITES.length - 1]!;
  const lastEnd = layout.ends[WRITES.length - 1]!;
  const before = WRITES.slice(0, -1);

  it("readLog: cut at every byte of the last record, every earlier record is recovered", () => {
    expect(lastEnd).toBe(layout.data.length);
    for (let cut = lastStart; cut < lastEnd; cut++) {
      const { lines, summary } = read(layout.data.subarray(0, cut));
      expect(lines, `cut at ${cut}`).toEqual(linesOf(before));
      expect(summary.tornTailOffset, `cut at ${cut}`).toBe(cut === lastStart ? undefined : lastStart);
      expect(summary.skipped, `cut at ${cut}`).toEqual([]);
    }
  });

  it("Engine.open: cut at every byte of the last record, opens normally and reports the torn tail", async () => {
    const expected = stateOf(before);
    for (let cut = lastStart + 1; cut < lastEnd; cut++) {
      const dir = dbWith({ "00001.log": layout.data.subarray(0, cut) });
      const file = path.join(dir, "wal", "00001.log");
      const stats = await openAndCheck(dir, expected, `cut at ${cut}`);
      expect(stats.recovery.tornTails, `cut at ${cut}`).toEqual([{ file, offset: lastStart }]);
      expect(stats.recovery.skippedCorruption, `cut at ${cut}`).toEqual([]);
      expect(stats.recovery.recordsReplayed, `cut at ${cut}`).toBe(before.length);
      expect(stats.seq, `cut at ${cut}`).toBe(5);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a log cut exactly between records is clean, not torn", async () => {
    const dir = dbWith({ "00001.log": layout.data.subarray(0, lastStart) });
    const stats = await openAndCheck(dir, stateOf(before), "cut at a record boundary");
    expect(stats.recovery.tornTails).toEqual([]);
  });

  it("the torn record's bytes flipped instead of cut: also a torn tail", async () => {
    for (const off of [lastStart, lastStart + 4, lastStart + 6, lastStart + 20, lastEnd - 1]) {
      const data = layout.data.slice();
      data[off] ^= 0x40;
      const { lines, summary } = read(data);
      expect(lines, `flip at ${off}`).toEqual(linesOf(before));
      expect(summary.tornTailOffset, `flip at ${off}`).toBe(lastStart);
    }
  });
});

describe("torn multi-block record", () => {
  const writes: Write[] = [
    { seq: 1, entries: [put("a", "1")] },
    { seq: 2, entries: [put("b", filled(5000, 4))] },
    { seq: 3, entries: [put("huge", filled(3 * 32768, 5))] },
  ];
  const layout = layOut(writes);
  const start = layout.starts[2]!;
  const end = layout.data.length;

  it("cut at chunk boundaries, block boundaries and random offsets: only the huge record is lost", async () => {
    const gen = new Rng(SEED);
    const rand = (): number => gen.float();
    const cuts = new Set<number>([start + 1, start + 6, start + 7, end - 1]);
    for (let b = BLOCK_SIZE; b < end; b += BLOCK_SIZE) for (const d of [-1, 0, 1, 6, 7, 8, 100]) cuts.add(b + d);
    for (let i = 0; i < 20; i++) cuts.add(start + 1 + Math.floor(rand() * (end - start - 1)));
    for (const cut of [...cuts].sort((x, y) => x - y)) {
      const msg = `cut at ${cut} of ${end} (seed ${SEED})`;
      const { lines, summary } = read(layout.data.subarray(0, cut));
      expect(lines, msg).toEqual(linesOf(writes.slice(0, 2)));
      expect(summary.tornTailOffset, msg).toBe(start);
    }
    for (const cut of [BLOCK_SIZE, 2 * BLOCK_SIZE + 3, end - 1]) {
      const dir = dbWith({ "00001.log": layout.data.subarray(0, cut) });
      const stats = await openAndCheck(dir, stateOf(writes.slice(0, 2)), `engine, cut at ${cut}`);
      expect(stats.recovery.tornTails).toEqual([{ file: path.join(dir, "wal", "00001.log"), offset: start }]);
    }
  });

  it("a damaged Middle or Last chunk at the end is a torn tail, not corruption", () => {
    for (const off of [BLOCK_SIZE + 50, 2 * BLOCK_SIZE + 7, 3 * BLOCK_SIZE + 10]) {
      const data = layout.data.slice();
      data[off] ^= 1;
      const { lines, summary } = read(data);
      expect(lines, `flip at ${off}`).toEqual(linesOf(writes.slice(0, 2)));
      expect(summary.tornTailOffset, `flip at ${off}`).toBe(start);
    }
  });
});

describe("torn tails in more than one log", () => {
  it("an older log with a torn tail followed by a newer good log: both recovered", async () => {
    const older = layOut(WRITES);
    const olderTorn = older.data.subarray(0, older.ends[WRITES.length - 1]! - 10);
    // After the crash the engine resumed at the last recovered seq + 1, in a new log.
    const newerWrites: Write[] = [
      { seq: 6, entries: [put("zeta", "z")] },
      { seq: 7, entries: [del("gamma"), put("eta", filled(40000, 6))] },
    ];
    const newer = layOut(newerWrites);
    const dir = dbWith({ "00001.log": olderTorn, "00002.log": newer.data });
    const stats = await openAndCheck(dir, stateOf([...WRITES.slice(0, -1), ...newerWrites]), "older torn, newer good");
    expect(stats.recovery.tornTails).toEqual([{ file: path.join(dir, "wal", "00001.log"), offset: older.starts[WRITES.length - 1] }]);
    expect(stats.recovery.logsReplayed).toBe(2);
    expect(stats.recovery.recordsReplayed).toBe(WRITES.length - 1 + newerWrites.length);
    expect(stats.seq).toBe(7);
  });

  it("both logs torn: each loses only its own last record", async () => {
    const a = layOut(WRITES);
    const bWrites: Write[] = [
      { seq: 6, entries: [put("theta", "t")] },
      { seq: 7, entries: [put("iota", filled(500, 7))] },
    ];
    const b = layOut(bWrites);
    const dir = dbWith({ "00001.log": a.data.subarray(0, a.data.length - 1), "00002.log": b.data.subarray(0, b.starts[1]! + 3) });
    const stats = await openAndCheck(dir, stateOf([...WRITES.slice(0, -1), bWrites[0]!]), "both torn");
    expect(stats.recovery.tornTails.map((t) => [path.basename(t.file), t.offset])).toEqual([
      ["00001.log", a.starts[WRITES.length - 1]],
      ["00002.log", b.starts[1]],
    ]);
  });
});

describe("zero-filled tail", () => {
  const layout = layOut(WRITES);

  for (const zeros of [3, 7, 4096, 2 * BLOCK_SIZE]) {
    it(`${zeros} zero bytes after the last record are tolerated`, async () => {
      const data = Buffer.concat([layout.data, new Uint8Array(zeros)]);
      const { lines, summary } = read(data);
      expect(lines).toEqual(linesOf(WRITES));
      expect(summary.skipped).toEqual([]);
      expect(summary.tornTailOffset).toBe(layout.data.length);
      const dir = dbWith({ "00001.log": data });
      const stats = await openAndCheck(dir, stateOf(WRITES), `${zeros} zeros`);
      expect(stats.recovery.tornTails).toEqual([{ file: path.join(dir, "wal", "00001.log"), offset: layout.data.length }]);
    });
  }

  it("a record cut short and followed by zeros is a torn tail at that record", () => {
    const lastStart = layout.starts[WRITES.length - 1]!;
    const data = Buffer.concat([layout.data.subarray(0, lastStart + 50), new Uint8Array(4096)]);
    const { lines, summary } = read(data);
    expect(lines).toEqual(linesOf(WRITES.slice(0, -1)));
    expect(summary.tornTailOffset).toBe(lastStart);
  });

  it("zeros followed by a valid record are corruption, not padding to skip", () => {
    const tail = layOut([{ seq: 9, entries: [put("after-zeros", "x")] }]).data;
    const data = Buffer.concat([layout.data, new Uint8Array(100), tail]);
    expectCorruption(() => read(data), "00001.log", layout.data.length, "zeros then a record");
    const { lines, summary } = read(data, "00001.log", true);
    expect(lines).toEqual([...linesOf(WRITES), "9:put after-zeros=x"]);
    expect(summary.skipped.map((s) => s.offset)).toEqual([layout.data.length]);
  });
});

describe("corruption followed by valid records", () => {
  const layout = layOut(WRITES);
  const victim = 1; // the 2000-byte put of "beta" at seq 2
  const victimStart = layout.starts[victim]!;
  const withoutVictim = WRITES.filter((_, i) => i !== victim);

  /** Checks strict readLog, strict Engine.open, skip readLog and skip Engine.open on damaged `data`. */
  async function checkDamage(data: Uint8Array, detectedAt: number, what: string): Promise<void> {
    expectCorruption(() => read(data), "00001.log", detectedAt, what);

    const { lines, summary } = read(data, "00001.log", true);
    expect(lines, what).toEqual(linesOf(withoutVictim));
    expect(summary.skipped.length, what).toBe(1);
    expect(summary.skipped[0]!.offset, what).toBe(victimStart);
    expect(summary.tornTailOffset, what).toBeUndefined();

    const dir = dbWith({ "00001.log": data });
    const file = path.join(dir, "wal", "00001.log");
    await expectOpenCorruption(dir, file, detectedAt, what);
    const stats = await openAndCheck(dir, stateOf(withoutVictim), what, "skip");
    expect(stats.recovery.skippedCorruption.length, what).toBe(1);
    expect(stats.recovery.skippedCorruption[0]!.file, what).toBe(file);
    expect(stats.recovery.skippedCorruption[0]!.offset, what).toBe(victimStart);
    expect(stats.recovery.skippedCorruption[0]!.reason, what).toMatch(/\S/);
    expect(stats.recovery.tornTails, what).toEqual([]);
    expect(stats.recovery.recordsReplayed, what).toBe(withoutVictim.length);
  }

  it("a flipped byte in an early record's payload", async () => {
    const data = layout.data.slice();
    data[victimStart + HEADER_SIZE + 500] ^= 0x10;
    await checkDamage(data, victimStart, "payload flip");
  });

  it("a flipped bit in the chunk header's length field (low and high byte)", async () => {
    for (const [off, bit] of [
      [4, 0],
      [4, 3],
      [5, 0],
      [5, 7],
    ] as const) {
      const data = layout.data.slice();
      data[victimStart + off] ^= 1 << bit;
      await checkDamage(data, victimStart, `length field byte ${off} bit ${bit}`);
    }
  });

  it("a flipped CRC byte and a flipped type byte (Full -> Last)", async () => {
    const crc = layout.data.slice();
    crc[victimStart + 2] ^= 0x01;
    await checkDamage(crc, victimStart, "crc flip");
    const type = layout.data.slice();
    expect(type[victimStart + 6]).toBe(ChunkType.Full);
    type[victimStart + 6] = ChunkType.Last;
    await checkDamage(type, victimStart, "type flip");
  });

  it("a malformed record under a valid checksum", async () => {
    const data = layout.data.slice();
    const length = data[victimStart + 4]! | (data[victimStart + 5]! << 8);
    data[victimStart + HEADER_SIZE] = 9; // opcode 9
    const payload = data.subarray(victimStart + HEADER_SIZE, victimStart + HEADER_SIZE + length);
    writeU32LE(data, victimStart, crc32WithPrefixByte(ChunkType.Full, payload));
    await checkDamage(data, victimStart, "opcode 9 with a valid crc");
  });

  it("a damaged chunk of a multi-block record in the middle of the log is skipped as one record", async () => {
    const writes: Write[] = [
      { seq: 1, entries: [put("a", "1")] },
      { seq: 2, entries: [put("huge", filled(3 * 32768, 8))] },
      { seq: 3, entries: [put("c", "3")] },
      { seq: 4, entries: [put("d", filled(100, 9))] },
    ];
    const l = layOut(writes);
    const kept = [writes[0]!, writes[2]!, writes[3]!];
    for (const off of [l.starts[1]! + 100, BLOCK_SIZE + 100, 3 * BLOCK_SIZE + 20]) {
      const data = l.data.slice();
      data[off] ^= 0x80;
      // Every chunk of the huge record after its First starts a block.
      const detectedAt = off < BLOCK_SIZE ? l.starts[1]! : off - (off % BLOCK_SIZE);
      const what = `flip at ${off}`;
      expectCorruption(() => read(data), "00001.log", detectedAt, what);
      const { lines, summary } = read(data, "00001.log", true);
      expect(lines, what).toEqual(linesOf(kept));
      expect(summary.skipped.map((s) => s.offset), what).toEqual([l.starts[1]]);
      const dir = dbWith({ "00001.log": data });
      const stats = await openAndCheck(dir, stateOf(kept), what, "skip");
      expect(stats.recovery.skippedCorruption.map((s) => s.offset), what).toEqual([l.starts[1]]);
    }
  });

  it("a record interrupted by a new one (a writer that restarted mid-record) is corruption", async () => {
    const writes: Write[] = [
      { seq: 1, entries: [put("a", "1")] },
      { seq: 2, entries: [put("huge", filled(40000, 10))] },
    ];
    const l = layOut(writes);
    const after: Write[] = [{ seq: 2, entries: [put("c", "3")] }, { seq: 3, entries: [del("a")] }];
    // The First chunk fills block 0; block 1 starts with a new record instead of the Last chunk.
    const data = Buffer.concat([l.data.subarray(0, BLOCK_SIZE), layOut(after).data]);
    expectCorruption(() => read(data), "00001.log", BLOCK_SIZE, "interrupted record");
    const { lines, summary } = read(data, "00001.log", true);
    expect(lines).toEqual(linesOf([writes[0]!, ...after]));
    expect(summary.skipped.map((s) => s.offset)).toEqual([l.starts[1]]);
    const dir = dbWith({ "00001.log": data });
    const stats = await openAndCheck(dir, stateOf([writes[0]!, ...after]), "interrupted record", "skip");
    expect(stats.recovery.skippedCorruption.map((s) => s.offset)).toEqual([l.starts[1]]);
  });

  it("a log starting with an orphaned continuation chunk is corruption when records follow", () => {
    const l = layOut([{ seq: 1, entries: [put("huge", filled(40000, 11))] }]);
    const after: Write[] = [{ seq: 2, entries: [put("b", "2")] }];
    const tail = layOut(after).data;
    // Block 1 of `l` holds the Last chunk; put it first, then a valid record after it.
    const lastChunk = l.data.subarray(BLOCK_SIZE);
    // `tail` was laid out from offset 0, so it starts at a block boundary to stay aligned.
    const aligned = Buffer.concat([lastChunk, new Uint8Array(BLOCK_SIZE - lastChunk.length), tail]);
    expectCorruption(() => read(aligned), "00001.log", 0, "orphan first");
    const { lines, summary } = read(aligned, "00001.log", true);
    expect(lines).toEqual(linesOf(after));
    expect(summary.skipped.map((s) => s.offset)).toEqual([0]);
    // With nothing valid after it, the orphan is just a torn tail.
    expect(read(lastChunk).summary.tornTailOffset).toBe(0);
  });

  it("two damaged records are both reported, everything else recovered", async () => {
    const data = layout.data.slice();
    data[layout.starts[0]! + HEADER_SIZE + 3] ^= 1;
    data[layout.starts[3]! + HEADER_SIZE + 30] ^= 1;
    const { lines, summary } = read(data, "00001.log", true);
    const kept = WRITES.filter((_, i) => i !== 0 && i !== 3);
    expect(lines).toEqual(linesOf(kept));
    expect(summary.skipped.map((s) => s.offset)).toEqual([layout.starts[0], layout.starts[3]]);
    expectCorruption(() => read(data), "00001.log", layout.starts[0]!, "first damage is reported");
  });
});
