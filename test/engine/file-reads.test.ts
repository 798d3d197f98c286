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
