/**
 * The worked example of docs/format.md, "SSTables": a four-entry table in two data blocks, built by
 * {@link buildExampleTable}. `golden.test.ts` pins its bytes, so a change to the format fails
 * loudly. Run this file (`npx tsx test/engine/sstable/example-table.ts`) to print the hex dump and
 * block layout that the document shows.
 */
import { MemFs } from "../../../engine/fs/mem-fs.js";
import { decodeFooter, FOOTER_SIZE } from "../../../engine/sstable/format.js";
import { inlineCompressor } from "../../../engine/sstable/deflate-worker.js";
import { TableBuilder, type TableMeta } from "../../../engine/sstable/table-builder.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** (user key, seq, kind, value) in internal-key order. */
export const EXAMPLE_ENTRIES: ReadonlyArray<readonly [string, number, 1 | 2, string]> = [
  ["apple", 3, 1, "red"],
  ["apple", 1, 1, "green"],
  ["cherry", 2, 2, ""],
  ["damson", 4, 1, "ripe"],
];

/**
 * Options of the example: tiny blocks so that two data blocks and a separator show up, deflate
 * on the calling thread (the bytes are the same as the worker's; this keeps the example a plain
 * function of its inputs).
 */
export const EXAMPLE_OPTIONS = { blockSize: 32, restartInterval: 2, compression: "deflate", compressor: inlineCompressor } as const;

export async function buildExampleTable(): Promise<{ bytes: Uint8Array; meta: TableMeta }> {
  const fs = new MemFs();
  fs.mkdirp("/x");
  const file = fs.create("/x/000001.sst");
  const b = new TableBuilder(file, EXAMPLE_OPTIONS);
  for (const [k, seq, kind, v] of EXAMPLE_ENTRIES) b.add(enc(k), seq, kind, enc(v));
  const meta = await b.finish();
  return { bytes: fs.readFile("/x/000001.sst"), meta };
}

/** `hexdump -C`-style lines without the ASCII column, as docs/format.md shows them. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = [...bytes.subarray(off, off + 16)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    lines.push(`${off.toString(16).padStart(8, "0")}  ${row}`);
  }
  return lines.join("\n");
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"));
if (invokedDirectly) {
  const { bytes, meta } = await buildExampleTable();
  console.log(hexDump(bytes));
  const f = decodeFooter(bytes.subarray(bytes.length - FOOTER_SIZE), bytes.length, "example");
  console.log(JSON.stringify({ fileSize: bytes.length, dataBlocks: meta.dataBlocks, filter: f.filter, meta: f.meta, index: f.index }));
}
