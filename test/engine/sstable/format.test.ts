/**
 * engine/sstable/format.ts and internal-key.ts: internal-key trailers (byte layout, seq up to
 * 2^53-1, order), block handles, block trailers (types 0 and 1) and the footer's checks (version
 * 2; version 1 refused), each tested against bytes laid out by hand here.
 */
import CRC32 from "crc-32";
import { describe, expect, it } from "vitest";
import { CorruptionError } from "../../../engine/errors.js";
import {
  BLOCK_TRAILER_SIZE,
  type BlockHandle,
  checkBlock,
  checkBlockTrailer,
  CompressionType,
  decodeBlockHandle,
  decodeFooter,
  encodeBlockHandle,
  encodeFooter,
  FOOTER_SIZE,
  FORMAT_VERSION,
  writeBlockTrailer,
} from "../../../engine/sstable/format.js";
import {
  compareEncodedInternal,
  compareInternalAt,
  encodeInternalKey,
  trailerKind,
  trailerSeq,
} from "../../../engine/sstable/internal-key.js";
import { enc, hex } from "./helpers.js";

const MAX = Number.MAX_SAFE_INTEGER;

describe("internal key trailer", () => {
  it("is the little-endian u64 seq * 256 + kind", () => {
    for (const [seq, kind] of [[0, 1], [1, 2], [0xabcdef, 1], [2 ** 32 + 5, 2], [MAX, 1], [MAX - 1, 2]] as const) {
      const ik = encodeInternalKey(enc("k"), seq, kind);
      const expected = (BigInt(seq) * 256n + BigInt(kind)).toString(16).padStart(16, "0");
      const le = expected.match(/../g)!.reverse().join("");
      expect(hex(ik), `seq ${seq}`).toBe("6b" + le);
      expect(trailerSeq(ik, 1)).toBe(seq);
      expect(trailerKind(ik, 1)).toBe(kind);
    }
  });

  it("reports a seq beyond 2^53-1 as -1", () => {
    const ik = encodeInternalKey(enc("k"), MAX, 1);
    ik[8] = 0x20; // high byte: seq >= 2^53
    expect(trailerSeq(ik, 1)).toBe(-1);
  });

  it("orders by user key ascending, then seq descending", () => {
    const keys = [
      encodeInternalKey(enc("a"), 9, 1),
      encodeInternalKey(enc("a"), 2, 2),
      encodeInternalKey(enc("a\u0000"), MAX, 1),
      encodeInternalKey(enc("b"), 2 ** 40, 1),
      encodeInternalKey(enc("b"), 2 ** 24, 1),
      encodeInternalKey(enc("b"), 2 ** 24 - 1, 1),
    ];
    for (let i = 0; i < keys.length; i++) {
      for (let j = 0; j < keys.length; j++) {
        const c = Math.sign(compareEncodedInternal(keys[i]!, keys[j]!));
        expect(c, `${i} vs ${j}`).toBe(Math.sign(i - j));
        const b = keys[j]!;
        const userB = b.subarray(0, b.length - 8);
        expect(Math.sign(compareInternalAt(keys[i]!, 0, keys[i]!.length, userB, trailerSeq(b, b.length - 8)))).toBe(Math.sign(i - j));
      }
    }
  });
});

describe("block handle", () => {
  it("round-trips and must fill its bytes exactly", () => {
    const buf = new Uint8Array(20);
    const out: BlockHandle = { offset: -1, size: -1 };
    const vo = { value: 0 };
    for (const h of [{ offset: 0, size: 0 }, { offset: 4096, size: 127 }, { offset: 2 ** 40, size: 2 ** 32 + 1 }]) {
      const n = encodeBlockHandle(buf, 0, h);
      expect(decodeBlockHandle(buf, 0, n, out, vo)).toBe(true);
      expect(out).toEqual(h);
      expect(decodeBlockHandle(buf, 0, n + 1, out, vo), "trailing byte").toBe(false);
      expect(decodeBlockHandle(buf, 0, n - 1, out, vo), "cut short").toBe(false);
    }
  });
});

describe("block trailer", () => {
  const contents = enc("some block contents");
  const withTrailer = (): Uint8Array => {
    const b = new Uint8Array(contents.length + BLOCK_TRAILER_SIZE);
    b.set(contents);
    writeBlockTrailer(b, contents.length);
    return b;
  };

  it("is type 0 then CRC-32 of contents ++ type, little-endian", () => {
    const b = withTrailer();
    const crc = CRC32.buf(Buffer.concat([contents, Uint8Array.of(0)])) >>> 0;
    expect(b[contents.length]).toBe(0);
    expect(Buffer.from(b).readUInt32LE(contents.length + 1)).toBe(crc);
    expect(checkBlock(b, { offset: 100, size: contents.length }, "t.sst", "data")).toEqual(contents);
  });

  it("carries type 1 for a deflated data block, under the CRC; other blocks must be type 0", () => {
    const h = { offset: 100, size: contents.length };
    const b = new Uint8Array(contents.length + BLOCK_TRAILER_SIZE);
    b.set(contents);
    writeBlockTrailer(b, contents.length, CompressionType.Deflate);
    expect(b[contents.length]).toBe(1);
    expect(Buffer.from(b).readUInt32LE(contents.length + 1)).toBe(CRC32.buf(Buffer.concat([contents, Uint8Array.of(1)])) >>> 0);
    expect(checkBlockTrailer(b, h, "t.sst", "data")).toBe(CompressionType.Deflate);
    expect(checkBlockTrailer(withTrailer(), h, "t.sst", "data")).toBe(CompressionType.None);
    expect(() => checkBlock(b, h, "t.sst", "index")).toThrow(/index block has compression type 1/);
  });

  it("fails on any flipped bit, on a short read and on an unknown type", () => {
    const h = { offset: 100, size: contents.length };
    const b0 = withTrailer();
    for (let i = 0; i < b0.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const b = withTrailer();
        b[i] = b[i]! ^ (1 << bit);
        expect(() => checkBlock(b, h, "t.sst", "data"), `byte ${i} bit ${bit}`).toThrow(CorruptionError);
      }
    }
    expect(() => checkBlock(b0.subarray(0, b0.length - 1), h, "t.sst", "data")).toThrow(/cut short/);
    // An unknown type with a matching CRC: what a newer writer would produce.
    const b = withTrailer();
    b[contents.length] = 7;
    Buffer.from(b.buffer).writeUInt32LE(CRC32.buf(Buffer.concat([contents, Uint8Array.of(7)])) >>> 0, contents.length + 1);
    expect(() => checkBlock(b, h, "t.sst", "data")).toThrow(/compression type 7/);
    expect(() => checkBlockTrailer(b, h, "t.sst", "data")).toThrow(/unknown compression type 7/);
  });
});

describe("footer", () => {
  const filter = { offset: 1000, size: 20 };
  const meta = { offset: 1025, size: 30 };
  const index = { offset: 1060, size: 40 };
  const fileSize = 1105 + FOOTER_SIZE;

  it("has the documented layout", () => {
    const f = encodeFooter({ filter, meta, index, version: FORMAT_VERSION });
    const b = Buffer.from(f);
    expect(f.length).toBe(64);
    expect([0, 8, 16, 24, 32, 40].map((o) => Number(b.readBigUInt64LE(o)))).toEqual([1000, 20, 1025, 30, 1060, 40]);
    expect(b.readUInt32LE(48)).toBe(2);
    expect(b.readUInt32LE(52)).toBe(CRC32.buf(f.subarray(0, 52)) >>> 0);
    expect(b.subarray(56).toString("latin1")).toBe("lsmdocST");
    expect(decodeFooter(f, fileSize, "t.sst")).toEqual({ filter, meta, index, version: 2 });
  });

  it("detects every flipped bit", () => {
    for (let i = 0; i < FOOTER_SIZE; i++) {
      const f = encodeFooter({ filter, meta, index, version: FORMAT_VERSION });
      f[i] = f[i]! ^ 0x10;
      let err: unknown;
      try {
        decodeFooter(f, fileSize, "t.sst");
      } catch (e) {
        err = e;
      }
      expect(err, `byte ${i}`).toBeInstanceOf(CorruptionError);
      expect((err as CorruptionError).offset).toBeGreaterThanOrEqual(fileSize - FOOTER_SIZE);
    }
  });

  it("rejects handles that do not tile the file's end, and other versions", () => {
    const gap = encodeFooter({ filter, meta: { offset: 1026, size: 29 }, index, version: FORMAT_VERSION });
    expect(() => decodeFooter(gap, fileSize, "t.sst")).toThrow(/tile/);
    expect(() => decodeFooter(encodeFooter({ filter, meta, index, version: FORMAT_VERSION }), fileSize + 1, "t.sst")).toThrow(/tile/);
    expect(() => decodeFooter(encodeFooter({ filter, meta, index, version: 3 }), fileSize, "t.sst")).toThrow(/version 3 \(this build reads 2\)/);
    // Version 1 (uncompressed blocks, no data-raw-bytes property) predates any release: refused.
    expect(() => decodeFooter(encodeFooter({ filter, meta, index, version: 1 }), fileSize, "t.sst")).toThrow(/version 1 tables.*are not read/);
    expect(() => decodeFooter(new Uint8Array(10), 10, "t.sst")).toThrow(/too short/);
  });
});
