/**
 * Golden bytes of the SSTable format: the worked example of docs/format.md, "SSTables"
 * (`example-table.ts`) must build to exactly these bytes, so any change to the format (entry
 * layout, trailers, property names, filter hash, footer) fails here and is made on purpose, with
 * the document and FORMAT_VERSION updated. The checks below re-derive the layout by hand, with
 * the crc-32 package directly, so that the writer and reader cannot share a mistake.
 */
import CRC32 from "crc-32";
import { inflateRawSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { MemFs } from "../../../engine/fs/mem-fs.js";
import type { TableMeta } from "../../../engine/sstable/table-builder.js";
import { TableReader } from "../../../engine/sstable/table-reader.js";
import { buildExampleTable, EXAMPLE_ENTRIES } from "./example-table.js";

const GOLDEN =
  "2a63e0654e2c28c8496564660083a2d414367656460827bd2835350fc404f10101fb6d48322e63e06348ce482d2aaa64" +
  "626280003e9694c4dce2fc3c461608bf28b32015c46204120001fba9f650800210801000004000000000000020020000" +
  "000000100000004000000808000000000004000000000100020000000000000100000000040000000020000108400700" +
  "4b399400000b01646174612d626c6f636b7302000e01646174612d7261772d627974657358001101646174612d73746f" +
  "7265642d627974657344000701656e74726965730400070e6c61726765737464616d736f6e0104000000000000000701" +
  "6d61782d736571040007016d696e2d73657101000d017261772d6b65792d627974657316000f017261772d76616c7565" +
  "2d62797465730c00080d736d616c6c6573746170706c650103000000000000000a01746f6d6273746f6e657301000000" +
  "000f00000021000000360000004100000059000000640000006f0000008000000093000000ab0000000b00000000d262" +
  "f0c50009026201ffffffffffff1f0020000e0264616d736f6e01040000000000002524000000000e0000000200000000" +
  "24499ec54e0000000000000041000000000000009400000000000000e90000000000000082010000000000002d000000" +
  "0000000002000000d27ea6fb6c736d646f635354";

/** The two data blocks inflated: the entry layout docs/format.md annotates byte by byte. */
const DATA_BLOCKS_INFLATED = [
  "000d036170706c65010300000000000072656406070501000000000000677265656e0000000001000000",
  "000e006368657272790202000000000000000e0464616d736f6e0104000000000000726970650000000001000000",
];

describe("golden table", () => {
  let buf = Buffer.alloc(0);
  let meta: TableMeta;
  beforeAll(async () => {
    const built = await buildExampleTable();
    buf = Buffer.from(built.bytes);
    meta = built.meta;
  });

  it("builds to the bytes docs/format.md (SSTables) shows", () => {
    // The compressed blocks are zlib's output at level 1; a zlib that compresses these 42 and 46
    // bytes differently would change them (and only them, their CRCs and the offsets after them).
    expect(buf.toString("hex")).toBe(GOLDEN);
    expect(meta.fileSize).toBe(500);
    expect(meta.dataBlocks).toBe(2);
    expect([meta.dataRawBytes, meta.dataStoredBytes]).toEqual([88, 68]);
  });

  it("has the documented footer and a valid CRC on every block; data blocks inflate to the documented entries", () => {
    const size = buf.length;
    const f = size - 64;
    expect(buf.subarray(size - 8).toString("latin1")).toBe("lsmdocST");
    expect(buf.readUInt32LE(f + 48)).toBe(2);
    expect(buf.readUInt32LE(f + 52)).toBe(CRC32.buf(buf.subarray(f, f + 52)) >>> 0);
    const handles = [0, 16, 32].map((o) => ({ offset: Number(buf.readBigUInt64LE(f + o)), size: Number(buf.readBigUInt64LE(f + o + 8)) }));
    expect(handles).toEqual([
      { offset: 78, size: 65 },
      { offset: 148, size: 233 },
      { offset: 386, size: 45 },
    ]);
    // Data blocks: [0, 32) and [37, 73), found from the index entries' handles (varints 00 20, 25 24).
    const data = [{ offset: 0, size: 32 }, { offset: 37, size: 36 }];
    let expected = 0;
    for (const [i, h] of [...data, ...handles].entries()) {
      expect(h.offset, "blocks tile the file").toBe(expected);
      const crcInput = buf.subarray(h.offset, h.offset + h.size + 1);
      expect(buf[h.offset + h.size], "compression type").toBe(i < data.length ? 1 : 0);
      expect(buf.readUInt32LE(h.offset + h.size + 1), `crc of block at ${h.offset}`).toBe(CRC32.buf(crcInput) >>> 0);
      expected = h.offset + h.size + 5;
    }
    expect(expected).toBe(f);
    for (const [i, h] of data.entries()) {
      const raw = Buffer.from(DATA_BLOCKS_INFLATED[i]!, "hex");
      expect(buf[h.offset], "rawSize prefix (one-byte varint)").toBe(raw.length);
      expect(inflateRawSync(buf.subarray(h.offset + 1, h.offset + h.size)).toString("hex"), `data block ${i}`).toBe(DATA_BLOCKS_INFLATED[i]);
    }
  });

  it("reads back as the example entries", () => {
    const fs = new MemFs();
    fs.mkdirp("/x");
    const w = fs.create("/x/1.sst");
    w.append(buf);
    const t = TableReader.open(fs.openRead("/x/1.sst"), "/x/1.sst", 1);
    t.verify();
    const it = t.iterator();
    const got: Array<[string, number, number, string]> = [];
    for (it.seekToFirst(); it.valid(); it.next()) {
      got.push([Buffer.from(it.key()).toString(), it.seq(), it.kind(), Buffer.from(it.value()).toString()]);
    }
    expect(got).toEqual(EXAMPLE_ENTRIES);
    expect(t.properties.tombstones).toBe(1);
  });
});
