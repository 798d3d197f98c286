/**
 * Known-answer tests for the WAL format: every test of lsmdb 1.0's `wal.rs` ported to LogWriter /
 * encodeRecord / readLog (same record sizes, same expected byte counts and header fields), plus
 * the corner cases lsmdb's tests leave out (exactly 7 bytes left in a block, records over 3+
 * blocks), a hex golden whose checksums are recomputed with the crc-32 package directly, and the
 * lsmdoc Batch record's exact layout.
 *
 * Chunks are parsed here by hand (not through the reader) so that writer and reader cannot agree
 * on a shared mistake.
 */
import CRC32 from "crc-32";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Engine } from "../../../engine/db.js";
import { MemFs } from "../../../engine/fs/mem-fs.js";
import { BLOCK_SIZE, ChunkType, HEADER_SIZE, MAX_FRAGMENT, Opcode } from "../../../engine/wal/format.js";
import { readLog } from "../../../engine/wal/log-reader.js";
import { LogWriter } from "../../../engine/wal/log-writer.js";
import { decodeRecord, encodeRecord, EntryKind, type WriteEntry } from "../../../engine/wal/record.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

interface RawChunk {
  offset: number;
  crc: number;
  length: number;
  type: number;
  payload: Uint8Array;
}

function chunkAt(data: Uint8Array, offset: number): RawChunk {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const length = view.getUint16(offset + 4, true);
  return {
    offset,
    crc: view.getUint32(offset, true),
    length,
    type: data[offset + 6]!,
    payload: data.subarray(offset + HEADER_SIZE, offset + HEADER_SIZE + length),
  };
}

/** CRC as the format defines it, computed with the crc-32 package alone. */
function referenceCrc(type: number, payload: Uint8Array): number {
  return CRC32.buf(Buffer.concat([Uint8Array.of(type), payload])) >>> 0;
}

function expectChunk(data: Uint8Array, offset: number, type: number, length: number): RawChunk {
  const c = chunkAt(data, offset);
  expect(c.type, `chunk type at ${offset}`).toBe(type);
  expect(c.length, `chunk length at ${offset}`).toBe(length);
  expect(c.crc, `chunk crc at ${offset}`).toBe(referenceCrc(c.type, c.payload));
  return c;
}

/** A log file in memory written by one LogWriter; each record is its own group write. */
class MemLog {
  readonly fs = new MemFs();
  readonly path: string;
  readonly writer: LogWriter;

  constructor(name = "/db/wal/00001.log") {
    this.fs.mkdirp(path.dirname(name));
    this.path = name;
    this.writer = new LogWriter(this.fs.create(name));
  }

  add(record: Uint8Array): this {
    this.writer.addRecord(record);
    this.writer.writePending();
    return this;
  }

  /** Where the next chunk would start inside its block (lsmdb's `block_offset`). */
  get blockOffset(): number {
    return this.writer.size % BLOCK_SIZE;
  }

  bytes(): Uint8Array {
    return this.fs.readFile(this.path);
  }
}

/** lsmdb's `create_dummy_record_of_size`: key "test", seq 42, value of 0xAB bytes. */
function dummyRecord(targetSize: number): Uint8Array {
  const valSize = Math.max(0, targetSize - (15 + 4));
  const r = encodeRecord(42, [{ kind: EntryKind.Put, key: enc("test"), value: new Uint8Array(valSize).fill(0xab) }]);
  expect(r.length).toBe(targetSize);
  return r;
}

function put(key: Uint8Array, value: Uint8Array): WriteEntry {
  return { kind: EntryKind.Put, key, value };
}

function del(key: Uint8Array): WriteEntry {
  return { kind: EntryKind.Delete, key, value: new Uint8Array(0) };
}

interface Recovered {
  seq: number;
  opcode: number;
  key: string;
  value: Uint8Array;
}

function recoverAll(logs: Array<{ name: string; data: Uint8Array }>): Recovered[] {
  const out: Recovered[] = [];
  for (const log of logs) {
    const summary = readLog(log.data, log.name, (r) => {
      for (const e of r.entries) out.push({ seq: r.seq, opcode: r.opcode, key: Buffer.from(e.key).toString(), value: new Uint8Array(e.value) });
    });
    expect(summary.tornTailOffset, `${log.name} should end cleanly`).toBeUndefined();
    expect(summary.skipped).toEqual([]);
  }
  return out;
}

describe("lsmdb 1.0 wal.rs tests, ported", () => {
  it("test_record_serialization: a 17-byte put, opcode at [0]", () => {
    const bytes = encodeRecord(1, [put(enc("k"), enc("v"))]);
    expect(bytes.length).toBe(17);
    expect(bytes[0]).toBe(Opcode.Put);
    // opcode | seq u64 LE | keyLen u16 LE | key | valLen u32 LE | val
    expect(hex(bytes)).toBe("01" + "0100000000000000" + "0100" + "6b" + "01000000" + "76");
  });

  it("test_wal_writer_small_chunk: a 100-byte record is one 107-byte Full chunk", () => {
    const log = new MemLog().add(dummyRecord(100));
    expect(log.blockOffset).toBe(107);
    const data = log.bytes();
    expect(data.length).toBe(107);
    expect(data[4]! | (data[5]! << 8)).toBe(100);
    expect(data[6]).toBe(ChunkType.Full);
    expectChunk(data, 0, ChunkType.Full, 100);
  });

  it("test_wal_writer_large_chunk_split: 40000 bytes become First (32761) + Last (7239)", () => {
    const record = dummyRecord(40000);
    const log = new MemLog().add(record);
    expect(log.blockOffset).toBe(7246);
    const data = log.bytes();
    expect(data.length).toBe(32768 + 7246);
    expect(MAX_FRAGMENT).toBe(32761);
    const first = expectChunk(data, 0, ChunkType.First, MAX_FRAGMENT);
    const last = expectChunk(data, 32768, ChunkType.Last, 7239);
    expect(Buffer.concat([first.payload, last.payload]).equals(record)).toBe(true);
  });

  it("test_wal_writer_block_padding: 5 bytes left are zero-padded, the next chunk starts at 32768", () => {
    const log = new MemLog().add(dummyRecord(32756));
    expect(log.blockOffset).toBe(32763);
    log.add(dummyRecord(100));
    expect(log.blockOffset).toBe(107);
    const data = log.bytes();
    expect(data.length).toBe(32768 + 107);
    expectChunk(data, 0, ChunkType.Full, 32756);
    expect([...data.subarray(32763, 32768)]).toEqual([0, 0, 0, 0, 0]);
    expectChunk(data, 32768, ChunkType.Full, 100);
  });

  it("test_wal_rotation: each open writes to a new, higher-numbered five-digit log", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lsmdoc-wal-rotation-"));
    const logs = (): string[] => fs.readdirSync(path.join(dir, "wal")).filter((n) => n.endsWith(".log")).sort();
    try {
      let engine = await Engine.open(dir, { sync: false });
      const first = logs();
      expect(first.length).toBe(1);
      expect(first[0]).toMatch(/^\d{5}\.log$/);
      await engine.close();
      engine = await Engine.open(dir, { sync: false });
      try {
        const newest = logs().at(-1)!;
        expect(newest).toMatch(/^\d{5}\.log$/);
        expect(Number.parseInt(newest, 10)).toBeGreaterThan(Number.parseInt(first[0]!, 10));
        await engine.put(enc("key"), enc("val"));
        // sync: false resolves once the record is written to the file.
        expect(fs.statSync(path.join(dir, "wal", newest)).size).toBeGreaterThan(0);
      } finally {
        await engine.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("test_wal_recovery: put, huge fragmented put, tombstone, then a rotated log", () => {
    const log1 = new MemLog("/db/wal/00001.log");
    const huge = new Uint8Array(40000).fill(0xab);
    log1.add(encodeRecord(1, [put(enc("key1"), enc("val1"))]));
    log1.add(encodeRecord(2, [put(enc("key2"), huge)]));
    log1.add(encodeRecord(3, [del(enc("key1"))]));
    const log2 = new MemLog("/db/wal/00002.log");
    log2.add(encodeRecord(4, [put(enc("key3"), enc("val3"))]));

    const records = recoverAll([
      { name: log1.path, data: log1.bytes() },
      { name: log2.path, data: log2.bytes() },
    ]);
    expect(records.length).toBe(4);
    expect(records[0]).toEqual({ seq: 1, opcode: Opcode.Put, key: "key1", value: enc("val1") });
    expect(records[1]!.seq).toBe(2);
    expect(records[1]!.key).toBe("key2");
    expect(Buffer.from(records[1]!.value).equals(huge)).toBe(true);
    expect(records[2]).toEqual({ seq: 3, opcode: Opcode.Delete, key: "key1", value: new Uint8Array(0) });
    expect(records[3]).toEqual({ seq: 4, opcode: Opcode.Put, key: "key3", value: enc("val3") });
  });
});

describe("corner cases lsmdb's tests leave out", () => {
  it("exactly 7 bytes left: a First chunk with an empty payload fills them", () => {
    // A 32754-byte record is one 32761-byte chunk, leaving exactly HEADER_SIZE bytes in block 0.
    const second = dummyRecord(100);
    const log = new MemLog().add(dummyRecord(32754));
    expect(log.blockOffset).toBe(BLOCK_SIZE - HEADER_SIZE);
    log.add(second);
    const data = log.bytes();
    expect(data.length).toBe(32768 + 107);
    const empty = expectChunk(data, 32761, ChunkType.First, 0);
    expect(empty.crc).toBe(CRC32.buf(Uint8Array.of(ChunkType.First)) >>> 0);
    const last = expectChunk(data, 32768, ChunkType.Last, 100);
    expect(Buffer.from(last.payload).equals(second)).toBe(true);

    const records = recoverAll([{ name: log.path, data }]);
    expect(records.map((r) => [r.seq, r.key, r.value.length])).toEqual([
      [42, "test", 32754 - 19],
      [42, "test", 100 - 19],
    ]);
  });

  it("a record over four blocks starting mid-block: First, Middle, Middle, Last", () => {
    const log = new MemLog().add(dummyRecord(100));
    const firstLen = BLOCK_SIZE - 107 - HEADER_SIZE;
    const size = firstLen + 2 * MAX_FRAGMENT + 300;
    // A position-dependent value, so that chunks reassembled out of order would not compare equal.
    const value = Uint8Array.from({ length: size - 19 }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
    const record = encodeRecord(7, [put(enc("test"), value)]);
    expect(record.length).toBe(size);
    log.add(record);
    const data = log.bytes();
    expect(data.length).toBe(3 * BLOCK_SIZE + HEADER_SIZE + 300);

    const chunks = [
      expectChunk(data, 107, ChunkType.First, firstLen),
      expectChunk(data, BLOCK_SIZE, ChunkType.Middle, MAX_FRAGMENT),
      expectChunk(data, 2 * BLOCK_SIZE, ChunkType.Middle, MAX_FRAGMENT),
      expectChunk(data, 3 * BLOCK_SIZE, ChunkType.Last, 300),
    ];
    expect(Buffer.concat(chunks.map((c) => c.payload)).equals(record)).toBe(true);

    const records = recoverAll([{ name: log.path, data }]);
    expect(records.length).toBe(2);
    expect(records[1]!.seq).toBe(7);
    expect(Buffer.from(records[1]!.value).equals(value)).toBe(true);
  });

  it("a record of exactly one block's payload is a single Full chunk that fills the block", () => {
    const log = new MemLog().add(dummyRecord(MAX_FRAGMENT)).add(dummyRecord(50));
    const data = log.bytes();
    expectChunk(data, 0, ChunkType.Full, MAX_FRAGMENT);
    expectChunk(data, BLOCK_SIZE, ChunkType.Full, 50);
    expect(data.length).toBe(BLOCK_SIZE + 57);
  });

  it("records read from a Node Buffer are plain Uint8Arrays, so slice() copies", () => {
    const log = new MemLog().add(encodeRecord(1, [put(enc("small"), enc("value"))])).add(dummyRecord(40000));
    const values: Uint8Array[] = [];
    readLog(Buffer.from(log.bytes()), log.path, (r) => values.push(...r.entries.map((e) => e.value)));
    expect(values.map((v) => v.length)).toEqual([5, 40000 - 19]);
    for (const v of values) {
      expect(Buffer.isBuffer(v)).toBe(false);
      const copy = v.slice();
      copy.fill(0);
      expect(v[0]).not.toBe(0);
    }
  });

  it("records staged together (one group write) lay out exactly as records written one by one", () => {
    const records = [dummyRecord(32756), dummyRecord(100), dummyRecord(32754 - 107), dummyRecord(40000), dummyRecord(20)];
    const single = new MemLog();
    for (const r of records) single.add(r);
    const grouped = new MemLog();
    for (const r of records) grouped.writer.addRecord(r);
    expect(grouped.writer.pendingBytes).toBe(single.bytes().length);
    grouped.writer.writePending();
    expect(Buffer.from(grouped.bytes()).equals(single.bytes())).toBe(true);
  });
});

describe("hex goldens", () => {
  // put("k" = "v") at seq 1, delete("k") at seq 2, then a batch at seq 3 of put("a" = "1"),
  // delete("b"), laid out by hand from the format (docs/format.md, "Worked example"). The first two
  // chunks are also what lsmdb 1.0 writes for Wal::add(1, "k", "v"); Wal::remove(2, "k").
  const golden =
    "c021188b" + "1100" + "01" + "01" + "0100000000000000" + "0100" + "6b" + "01000000" + "76" +
    "e4e3fa29" + "1000" + "01" + "02" + "0200000000000000" + "0100" + "6b" + "00000000" +
    "151ae3b9" + "1e00" + "01" + "03" + "0300000000000000" + "02000000" +
    "01" + "0100" + "61" + "01000000" + "31" +
    "02" + "0100" + "62" + "00000000";

  it("the golden's checksums are CRC-32 (crc-32 package) of type byte ++ payload", () => {
    const data = Buffer.from(golden, "hex");
    expect(data.length).toBe(84);
    const crcs: number[] = [];
    for (let off = 0; off < data.length; ) {
      const c = chunkAt(data, off);
      expect(c.type).toBe(ChunkType.Full);
      expect(c.crc).toBe(referenceCrc(c.type, c.payload));
      crcs.push(c.crc);
      off += HEADER_SIZE + c.length;
    }
    expect(crcs).toEqual([0x8b1821c0, 0x29fae3e4, 0xb9e31a15]);
  });

  it("LogWriter + encodeRecord produce the golden byte for byte", () => {
    const log = new MemLog();
    log.writer.addRecord(encodeRecord(1, [put(enc("k"), enc("v"))]));
    log.writer.addRecord(encodeRecord(2, [del(enc("k"))]));
    log.writer.addRecord(encodeRecord(3, [put(enc("a"), enc("1")), del(enc("b"))]));
    log.writer.writePending();
    expect(hex(log.bytes())).toBe(golden);
  });

  it("readLog decodes the golden", () => {
    const records = recoverAll([{ name: "golden.log", data: Buffer.from(golden, "hex") }]);
    expect(records).toEqual([
      { seq: 1, opcode: Opcode.Put, key: "k", value: enc("v") },
      { seq: 2, opcode: Opcode.Delete, key: "k", value: new Uint8Array(0) },
      { seq: 3, opcode: Opcode.Batch, key: "a", value: enc("1") },
      { seq: 3, opcode: Opcode.Batch, key: "b", value: new Uint8Array(0) },
    ]);
  });
});

describe("Batch record (opcode 3)", () => {
  it("has the exact layout and round-trips, keeping entry order and duplicate keys", () => {
    const entries = [put(enc("a"), enc("xy")), del(enc("b")), put(enc("a"), new Uint8Array(0)), put(enc("cc"), enc("z"))];
    const bytes = encodeRecord(0x0102030405, entries);
    expect(hex(bytes)).toBe(
      "03" + "0504030201000000" + "04000000" +
        "01" + "0100" + "61" + "02000000" + "7879" +
        "02" + "0100" + "62" + "00000000" +
        "01" + "0100" + "61" + "00000000" +
        "01" + "0200" + "6363" + "01000000" + "7a",
    );
    const decoded = decodeRecord(bytes);
    if (typeof decoded === "string") throw new Error(decoded);
    expect(decoded.seq).toBe(0x0102030405);
    expect(decoded.opcode).toBe(Opcode.Batch);
    expect(decoded.entries.map((e) => [e.kind, hex(e.key), hex(e.value)])).toEqual(
      entries.map((e) => [e.kind, hex(e.key), hex(e.value)]),
    );
  });

  it("a write of one entry is lsmdb's Put/Delete record, never a batch of one", () => {
    expect(encodeRecord(9, [put(enc("k"), enc("v"))])[0]).toBe(Opcode.Put);
    expect(encodeRecord(9, [del(enc("k"))])[0]).toBe(Opcode.Delete);
    expect(encodeRecord(9, [del(enc("k")), del(enc("k"))])[0]).toBe(Opcode.Batch);
  });
});
