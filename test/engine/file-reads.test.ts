/**
 * RandomAccessFile.read (engine/fs/fs.ts) on both file systems: plain reads, reads into a
 * caller's buffer (a view of exactly the bytes read, in that buffer), a buffer too small (ignored),
 * and short reads at the end of the file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { FileSystem } from "../../engine/fs/fs.js";
import { MemFs } from "../../engine/fs/mem-fs.js";
import { nodeFs } from "../../engine/fs/node-fs.js";

const tmp = mkdtempSync(join(tmpdir(), "lsmdoc-reads-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const contents = Uint8Array.from({ length: 1000 }, (_, i) => (i * 31 + 7) & 0xff);

for (const [name, fs, dir] of [["NodeFs", nodeFs, tmp], ["MemFs", new MemFs(), "/db"]] as Array<[string, FileSystem, string]>) {
  describe(`${name} positional reads`, () => {
    fs.mkdirp(dir);
    const path = join(dir, "f.bin");
    const w = fs.create(path);
    w.append(contents);
    w.close();

    it("reads a range into a fresh array", () => {
      const f = fs.openRead(path);
      expect([...f.read(100, 50)]).toEqual([...contents.subarray(100, 150)]);
      f.close();
    });

    it("reads into the caller's buffer and returns a view of exactly the bytes read", () => {
      const f = fs.openRead(path);
      const into = new Uint8Array(256).fill(0xee);
      const got = f.read(300, 40, into);
      expect(got.buffer).toBe(into.buffer);
      expect(got.byteOffset).toBe(0);
      expect([...got]).toEqual([...contents.subarray(300, 340)]);
      expect(into[40]).toBe(0xee);
      f.close();
    });

    it("ignores a buffer shorter than the read", () => {
      const f = fs.openRead(path);
      const into = new Uint8Array(8);
      const got = f.read(0, 64, into);
      expect(got.buffer).not.toBe(into.buffer);
      expect([...got]).toEqual([...contents.subarray(0, 64)]);
      f.close();
    });

    it("returns fewer bytes at the end of the file, with or without a buffer", () => {
      const f = fs.openRead(path);
      expect([...f.read(990, 100)]).toEqual([...contents.subarray(990)]);
      const got = f.read(990, 100, new Uint8Array(200));
      expect([...got]).toEqual([...contents.subarray(990)]);
      expect(f.read(2000, 10, new Uint8Array(16)).length).toBe(0);
      f.close();
    });
  });
}

describe("table reads of blocks larger than the per-thread read buffer", () => {
  for (const compression of ["deflate", "none"] as const) {
    it(`return huge values intact, before and after small ones (compression ${compression})`, async () => {
      const { Engine } = await import("../../engine/index.js");
      const dir = join(tmp, `huge-${compression}`);
      const random = new Uint8Array(3 * 1024 * 1024 + 17);
      for (let i = 0, x = 12345; i < random.length; i++) random[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
      const text = new TextEncoder().encode("lorem ipsum dolor sit amet ".repeat(70_000));
      const small = Uint8Array.of(1, 2, 3);
      let engine = await Engine.open(dir, { compression, sync: false });
      await engine.put(Uint8Array.of(0x61), small);
      await engine.put(Uint8Array.of(0x62), random);
      await engine.put(Uint8Array.of(0x63), text);
      await engine.put(Uint8Array.of(0x64), small);
      await engine.flush();
      await engine.close();
      // Reopened with a block cache too small to hold them: every get below reads its block.
      engine = await Engine.open(dir, { compression, sync: false, blockCacheSize: 0 });
      for (const [k, v] of [[0x61, small], [0x62, random], [0x64, small], [0x63, text], [0x61, small]] as const) {
        const got = engine.getSync(Uint8Array.of(k));
        expect(got?.length, `key ${k}`).toBe(v.length);
        expect(Buffer.from(got!).equals(Buffer.from(v)), `key ${k}`).toBe(true);
      }
      await engine.close();
    });
  }
});
