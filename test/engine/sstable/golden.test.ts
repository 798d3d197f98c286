/**
 * Golden bytes of the SSTable format: the worked example of docs/format.md, "SSTables"
 * (`example-table.ts`) must build to exactly these bytes, so any change to the format (entry
 * layout, trailers, property names, filter hash, footer) fails here and is made on purpose, with
 * the document and FORMAT_VERSION updated. The checks below re-derive the layout by hand, with
 * the crc-32 package directly, so that the writer and reader cannot share a mistake.
 */
import CRC32 from "crc-32";
import { describe, expect, it } from "vitest";
import { MemFs } from "../../../engine/fs/mem-fs.js";
import { TableReader } from "../../../engine/sstable/table-reader.js";
import { buildExampleTable, EXAMPLE_ENTRIES } from "./example-table.js";

const GOLDEN =
  "000d036170706c65010300000000000072656406070501000000000000677265656e000000000100000000bdd3012f00" +
  "0e006368657272790202000000000000000e0464616d736f6e010400000000000072697065000000000100000000be6d" +
  "698180021080100000400000000000002002000000000010000000400000080800000000000400000000010002000000" +
  "00000001000000000400000000200001084007004b399400000b01646174612d626c6f636b7302000701656e74726965" +
  "730400070e6c61726765737464616d736f6e01040000000000000007016d61782d736571040007016d696e2d73657101" +
  "000d017261772d6b65792d627974657316000f017261772d76616c75652d62797465730c00080d736d616c6c65737461" +
  "70706c650103000000000000000a01746f6d6273746f6e657301000000000f0000001a000000320000003d0000004800" +
  "0000590000006c000000840000000900000000e0826ec50009026201ffffffffffff1f002a000e0264616d736f6e0104" +
  "0000000000002f2e000000000e0000000200000000964ea67162000000000000004100000000000000a8000000000000" +
  "00ba0000000000000067010000000000002d00000000000000010000000ccce2926c736d646f635354";

describe("golden table", () => {
  const { bytes, meta } = buildExampleTable();
  const buf = Buffer.from(bytes);

  it("builds to the bytes docs/format.md (SSTables) shows", () => {
    expect(buf.toString("hex")).toBe(GOLDEN);
    expect(meta.fileSize).toBe(473);
    expect(meta.dataBlocks).toBe(2);
  });

  it("has the documented footer and a valid CRC on every block", () => {
    const size = buf.length;
    const f = size - 64;
    expect(buf.subarray(size - 8).toString("latin1")).toBe("lsmdocST");
    expect(buf.readUInt32LE(f + 48)).toBe(1);
    expect(buf.readUInt32LE(f + 52)).toBe(CRC32.buf(buf.subarray(f, f + 52)) >>> 0);
    const handles = [0, 16, 32].map((o) => ({ offset: Number(buf.readBigUInt64LE(f + o)), size: Number(buf.readBigUInt64LE(f + o + 8)) }));
    expect(handles).toEqual([
      { offset: 98, size: 65 },
      { offset: 168, size: 186 },
      { offset: 359, size: 45 },
    ]);
    // Data blocks: [0, 42) and [47, 93), found from the index entries' handles (varints 00 2a, 2f 2e).
    const blocks = [{ offset: 0, size: 42 }, { offset: 47, size: 46 }, ...handles];
    let expected = 0;
    for (const h of blocks) {
      expect(h.offset, "blocks tile the file").toBe(expected);
      const crcInput = buf.subarray(h.offset, h.offset + h.size + 1);
      expect(buf[h.offset + h.size], "compression type").toBe(0);
      expect(buf.readUInt32LE(h.offset + h.size + 1), `crc of block at ${h.offset}`).toBe(CRC32.buf(crcInput) >>> 0);
      expected = h.offset + h.size + 5;
    }
    expect(expected).toBe(f);
  });

  it("reads back as the example entries", () => {
    const fs = new MemFs();
    fs.mkdirp("/x");
    const w = fs.create("/x/1.sst");
    w.append(bytes);
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
