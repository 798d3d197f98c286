/**
 * The version set and versions, driven directly on MemFs.
 *
 * - Versions: `fileFor` and `overlapping` agree with a brute-force search over random
 *   non-overlapping levels; `sortLevel` orders L0 newest first and other levels by smallest key.
 * - Durability protocol: an edit is installed only once it is synced; edits apply in call order
 *   even when issued together; a new VersionSet recovering the directory (also after a simulated
 *   power loss) sees exactly the edits whose `logAndApply` resolved; a failed sync installs
 *   nothing and a crash then loses the record.
 * - Manifest life cycle: `rollManifest` writes one snapshot edit, points CURRENT at it and deletes
 *   the previous manifest; a manifest past its rollover size is rolled by `logAndApply`; file
 *   numbers handed out after recovery are above the manifest's own number. After recovery,
 *   `openManifest` continues a cleanly ended manifest (writing nothing) and rolls one that ended
 *   torn or is past the rollover size; `syncRecovered` makes what recovery read from a continued
 *   manifest durable (a record appended without a sync, CURRENT renamed without a directory sync).
 * - Pinning: a version pinned by a reader keeps its files in `liveTableNumbers` until its last
 *   unpin, which reports that files may have become deletable.
 * - Recovery refuses edits that name tables inconsistently, with the record's offset.
 */
import { describe, expect, it } from "vitest";
import { CorruptionError } from "../../engine/errors.js";
import { MemFs } from "../../engine/fs/mem-fs.js";
import { frameManifestRecord, readManifestRecords } from "../../engine/manifest/manifest-log.js";
import { encodeEdit, type FileMeta, type VersionEdit } from "../../engine/manifest/version-edit.js";
import { compareBytes } from "../../engine/util/bytes.js";
import { NUM_LEVELS, sortLevel, Version } from "../../engine/version/version.js";
import { VersionSet } from "../../engine/version/version-set.js";
import { hex } from "../fixtures/kv-model.js";
import { Rng, testSeeds } from "../fixtures/random.js";

const DIR = "/db";

function meta(number: number, smallest: string, largest: string, extra: Partial<FileMeta> = {}): FileMeta {
  return {
    number,
    size: 1000 + number,
    entries: 10,
    smallestKey: new TextEncoder().encode(smallest),
    smallestSeq: number * 10,
    largestKey: new TextEncoder().encode(largest),
    largestSeq: number * 10 + 1,
    ...extra,
  };
}

function freshFs(): MemFs {
  const fs = new MemFs();
  fs.mkdirp(DIR);
  return fs;
}

async function openSet(fs: MemFs): Promise<VersionSet> {
  const vs = new VersionSet(fs, DIR);
  vs.recover();
  await vs.rollManifest();
  return vs;
}

/** Table numbers per level, for comparisons. */
function shape(v: Version): number[][] {
  return v.levels.map((files) => files.map((f) => f.number));
}

/** A level >= 1 of `n` random, sorted, non-overlapping files over 2-byte keys. */
function randomLevel(rng: Rng, n: number): FileMeta[] {
  const points = new Set<number>();
  while (points.size < 2 * n) points.add(rng.int(65536));
  const sorted = [...points].sort((a, b) => a - b);
  const key = (x: number): Uint8Array => Uint8Array.of(x >> 8, x & 0xff);
  // Some files hold a single key: smallest == largest.
  return Array.from({ length: n }, (_, i) => {
    const lo = sorted[2 * i]!;
    const hi = rng.chance(0.2) ? lo : sorted[2 * i + 1]!;
    return { ...meta(i + 1, "", ""), smallestKey: key(lo), largestKey: key(hi) };
  });
}

describe("Version", () => {
  for (const seed of testSeeds(2)) {
    it(`fileFor and overlapping agree with a brute-force search (seed ${seed})`, () => {
      const rng = new Rng(seed);
      for (let round = 0; round < 50; round++) {
        const files = randomLevel(rng, rng.between(0, 30));
        const levels: FileMeta[][] = Array.from({ length: NUM_LEVELS }, () => []);
        levels[2] = sortLevel(2, [...files].reverse());
        const v = new Version(levels);
        for (let q = 0; q < 100; q++) {
          const x = rng.int(65536);
          const key = rng.chance(0.3) ? Uint8Array.of(x >> 8) : Uint8Array.of(x >> 8, x & 0xff, ...(rng.chance(0.2) ? [0] : []));
          const want = files.find((f) => compareBytes(f.smallestKey, key) <= 0 && compareBytes(key, f.largestKey) <= 0);
          expect(v.fileFor(2, key)?.number, `seed=${seed} round ${round} key ${hex(key)}`).toBe(want?.number);

          const a = rng.chance(0.2) ? undefined : Uint8Array.of(rng.int(256), rng.int(256));
          let b = rng.chance(0.2) ? undefined : Uint8Array.of(rng.int(256), rng.int(256));
          if (a !== undefined && b !== undefined && compareBytes(a, b) > 0) b = a;
          const brute = files
            .filter((f) => (a === undefined || compareBytes(f.largestKey, a) >= 0) && (b === undefined || compareBytes(f.smallestKey, b) <= 0))
            .map((f) => f.number)
            .sort((p, r) => p - r);
          const got = v.overlapping(2, a, b).map((f) => f.number).sort((p, r) => p - r);
          expect(got, `seed=${seed} round ${round} range ${a && hex(a)}..${b && hex(b)}`).toEqual(brute);
        }
        expect(v.fileFor(3, Uint8Array.of(1)), "an empty level holds nothing").toBeUndefined();
        expect(v.levelBytes(2)).toBe(files.reduce((n, f) => n + f.size, 0));
      }
    });
  }

  it("sortLevel orders level 0 newest (highest number) first and other levels by smallest key", () => {
    const files = [meta(3, "m", "z"), meta(9, "d", "k"), meta(5, "a", "c")];
    expect(sortLevel(0, [...files]).map((f) => f.number)).toEqual([9, 5, 3]);
    expect(sortLevel(1, [...files]).map((f) => f.number)).toEqual([5, 9, 3]);
    expect(sortLevel(4, [...files]).map((f) => Buffer.from(f.smallestKey).toString())).toEqual(["a", "d", "m"]);
  });

  it("fileNumbers lists every level's files", () => {
    const levels: FileMeta[][] = Array.from({ length: NUM_LEVELS }, () => []);
    levels[0] = [meta(7, "a", "z"), meta(4, "b", "c")];
    levels[6] = [meta(2, "a", "b")];
    expect(new Version(levels).fileNumbers().sort((a, b) => a - b)).toEqual([2, 4, 7]);
    expect(Version.empty().fileNumbers()).toEqual([]);
  });
});

describe("VersionSet", () => {
  it("finds no manifest in a new directory", () => {
    const vs = new VersionSet(freshFs(), DIR);
    expect(vs.recover()).toEqual({ found: false, tornTailOffset: undefined });
    expect(shape(vs.current)).toEqual(Array.from({ length: NUM_LEVELS }, () => []));
  });

  it("recovers exactly the edits that were applied, with counters, also after a power loss", async () => {
    const fs = freshFs();
    const vs = await openSet(fs);
    const a = vs.newFileNumber();
    const b = vs.newFileNumber();
    const c = vs.newFileNumber();
    await vs.logAndApply({ logNumber: 1, lastSeq: 10, added: [{ level: 0, file: meta(a, "a", "m") }] });
    await vs.logAndApply({ logNumber: 2, lastSeq: 20, added: [{ level: 0, file: meta(b, "c", "z") }] });
    await vs.logAndApply({ lastSeq: 25, deleted: [{ level: 0, number: a }, { level: 0, number: b }], added: [{ level: 1, file: meta(c, "a", "z") }] });
    expect(shape(vs.current)[1]).toEqual([c]);
    const want = { levels: shape(vs.current), logNumber: vs.logNumber, lastSeq: vs.lastSeq };

    fs.crash();
    const again = new VersionSet(fs, DIR);
    expect(again.recover().found).toBe(true);
    expect({ levels: shape(again.current), logNumber: again.logNumber, lastSeq: again.lastSeq }).toEqual(want);
    expect(again.lastSeq).toBe(25);
    expect(again.logNumber).toBe(2);
    expect(again.nextFileNumber).toBeGreaterThan(c);
    // Keys and metadata survive byte for byte.
    expect(again.current.levels[1]![0]).toEqual(vs.current.levels[1]![0]);
  });

  it("applies edits issued together in call order", async () => {
    const fs = freshFs();
    const vs = await openSet(fs);
    const edits: VersionEdit[] = [];
    for (let i = 0; i < 20; i++) {
      const n = vs.newFileNumber();
      edits.push({ lastSeq: i + 1, added: [{ level: 0, file: meta(n, "a", "b") }], deleted: i > 0 ? [{ level: 0, number: n - 1 }] : [] });
    }
    await Promise.all(edits.map((e) => vs.logAndApply(e)));
    expect(vs.current.levels[0]!.map((f) => f.number)).toEqual([edits[19]!.added![0]!.file.number]);
    expect(vs.lastSeq).toBe(20);
    const again = new VersionSet(fs, DIR);
    again.recover();
    expect(shape(again.current)).toEqual(shape(vs.current));
  });

  it("lastSeq never moves backwards through an edit", async () => {
    const vs = await openSet(freshFs());
    await vs.logAndApply({ lastSeq: 50 });
    await vs.logAndApply({ lastSeq: 40 });
    expect(vs.lastSeq).toBe(50);
  });

  it("a failed manifest sync installs nothing, and a crash then loses the record", async () => {
    const fs = freshFs();
    const vs = await openSet(fs);
    await vs.logAndApply({ added: [{ level: 0, file: meta(vs.newFileNumber(), "a", "b") }] });
    const before = shape(vs.current);
    fs.failAfter(1); // The append goes through, the sync fails.
    await expect(vs.logAndApply({ added: [{ level: 0, file: meta(vs.newFileNumber(), "c", "d") }] })).rejects.toThrow(/EIO/);
    expect(shape(vs.current)).toEqual(before);
    fs.heal();
    fs.crash();
    const again = new VersionSet(fs, DIR);
    expect(again.recover().tornTailOffset).toBeUndefined();
    expect(shape(again.current)).toEqual(before);
  });

  it("rollManifest writes one snapshot edit, points CURRENT at it and removes the old manifest", async () => {
    const fs = freshFs();
    const vs = await openSet(fs);
    for (let i = 0; i < 5; i++) await vs.logAndApply({ lastSeq: i, added: [{ level: i % 3, file: meta(vs.newFileNumber(), `k${i}`, `k${i}z`) }] });
    const oldNumber = vs.manifestFileNumber;
    const oldName = `MANIFEST-${String(oldNumber).padStart(6, "0")}`;
    expect(fs.list(DIR)).toContain(oldName);
    await vs.rollManifest();
    const name = `MANIFEST-${String(vs.manifestFileNumber).padStart(6, "0")}`;
    expect(vs.manifestFileNumber).toBeGreaterThan(oldNumber);
    expect(fs.list(DIR).filter((n) => n.startsWith("MANIFEST-"))).toEqual([name]);
    expect(Buffer.from(fs.readFile(`${DIR}/CURRENT`)).toString()).toBe(`${name}\n`);
    const records = readManifestRecords(fs.readFile(`${DIR}/${name}`), name, () => undefined).records;
    expect(records.length).toBe(1);

    fs.crash();
    const again = new VersionSet(fs, DIR);
    again.recover();
    expect(shape(again.current)).toEqual(shape(vs.current));
    expect(again.lastSeq).toBe(4);
    expect(again.nextFileNumber).toBeGreaterThan(vs.manifestFileNumber);
  });

  it("rolls a manifest that grows past its rollover size and recovers the same state", async () => {
    const fs = freshFs();
    const vs = await openSet(fs);
    const first = vs.manifestFileNumber;
    const bigKey = (c: number): Uint8Array => new Uint8Array(6_000).fill(c); // About 12 KB per edit.
    let previous: number | undefined;
    let rolledAt = -1;
    for (let i = 0; i < 60 && rolledAt < 0; i++) {
      const n = vs.newFileNumber();
      const file = { ...meta(n, "", ""), smallestKey: bigKey(1), largestKey: bigKey(2) };
      await vs.logAndApply({ added: [{ level: 1, file }], deleted: previous === undefined ? [] : [{ level: 1, number: previous }] });
      previous = n;
      if (vs.manifestFileNumber !== first) rolledAt = i;
    }
    expect(rolledAt, "the manifest was rolled").toBeGreaterThan(0);
    expect(vs.manifestBytes).toBeLessThan(1024 * 1024);
    expect(fs.list(DIR).filter((n) => n.startsWith("MANIFEST-")).length).toBe(1);
    fs.crash();
    const again = new VersionSet(fs, DIR);
    again.recover();
    expect(shape(again.current)).toEqual([[], [previous!], [], [], [], [], []]);
  });

  it("hands out file numbers above the manifest's own after recovery", async () => {
    const fs = freshFs();
    const vs = await openSet(fs);
    // An edit recording a smaller next-file number than the manifest's own number.
    const name = `MANIFEST-${String(vs.manifestFileNumber).padStart(6, "0")}`;
    const f = fs.openAppend(`${DIR}/${name}`);
    f.append(frameManifestRecord(encodeEdit({ nextFileNumber: 1 })));
    await f.sync();
    const again = new VersionSet(fs, DIR);
    again.recover();
    expect(again.newFileNumber()).toBeGreaterThan(vs.manifestFileNumber);
  });

  it("recovery refuses an edit naming a table its level does not hold, at that record's offset", async () => {
    for (const bad of [
      { deleted: [{ level: 0, number: 12345 }] },
      { deleted: [{ level: 1, number: 2 }] }, // table 2 is in level 0
      { added: [{ level: 7, file: meta(99, "a", "b") }] },
    ]) {
      const fs = freshFs();
      const vs = await openSet(fs);
      await vs.logAndApply({ added: [{ level: 0, file: meta(2, "a", "b") }] });
      const name = `MANIFEST-${String(vs.manifestFileNumber).padStart(6, "0")}`;
      const at = fs.fileSize(`${DIR}/${name}`);
      const f = fs.openAppend(`${DIR}/${name}`);
      f.append(frameManifestRecord(encodeEdit(bad)));
      f.append(frameManifestRecord(encodeEdit({ lastSeq: 3 })));
      await f.sync();
      let caught: unknown;
      try {
        new VersionSet(fs, DIR).recover();
      } catch (err) {
        caught = err;
      }
      expect(caught, JSON.stringify(bad)).toBeInstanceOf(CorruptionError);
      expect((caught as CorruptionError).file).toBe(`${DIR}/${name}`);
      expect((caught as CorruptionError).offset).toBe(at);
    }
  });

  it("openManifest continues a cleanly ended manifest, writing nothing; later edits follow the recovered ones", async () => {
    const fs = freshFs();
    const vs = await openSet(fs);
    await vs.logAndApply({ lastSeq: 5, added: [{ level: 0, file: meta(vs.newFileNumber(), "a", "b") }] });
    const name = `MANIFEST-${String(vs.manifestFileNumber).padStart(6, "0")}`;
    const before = hex(fs.readFile(`${DIR}/${name}`));
    vs.close();

    const again = new VersionSet(fs, DIR);
    again.recover();
    expect(await again.openManifest(), "continued, not rewritten").toBe(false);
    expect(again.manifestFileNumber).toBe(vs.manifestFileNumber);
    expect(hex(fs.readFile(`${DIR}/${name}`))).toBe(before);
    expect(again.manifestBytes).toBe(before.length / 2);
    await again.logAndApply({ lastSeq: 6, added: [{ level: 1, file: meta(again.newFileNumber(), "c", "d") }] });
    expect(hex(fs.readFile(`${DIR}/${name}`)).startsWith(before)).toBe(true);

    fs.crash();
    const third = new VersionSet(fs, DIR);
    third.recover();
    expect(shape(third.current)).toEqual(shape(again.current));
    expect(third.lastSeq).toBe(6);
  });

  it("openManifest rolls a manifest that ended torn or is past its rollover size", async () => {
    for (const what of ["torn", "large"] as const) {
      const fs = freshFs();
      const vs = await openSet(fs);
      await vs.logAndApply({ lastSeq: 7, added: [{ level: 2, file: meta(vs.newFileNumber(), "a", "b") }] });
      const oldName = `MANIFEST-${String(vs.manifestFileNumber).padStart(6, "0")}`;
      const f = fs.openAppend(`${DIR}/${oldName}`);
      const noop = frameManifestRecord(encodeEdit({ lastSeq: 7 }));
      if (what === "torn") f.append(noop.subarray(0, 5));
      else for (let n = 0; n <= (512 * 1024) / noop.length; n++) f.append(noop);
      await f.sync();
      vs.close();

      const again = new VersionSet(fs, DIR);
      expect(again.recover().tornTailOffset !== undefined, what).toBe(what === "torn");
      expect(await again.openManifest(), `${what}: rewritten`).toBe(true);
      const name = `MANIFEST-${String(again.manifestFileNumber).padStart(6, "0")}`;
      expect(name, what).not.toBe(oldName);
      expect(fs.list(DIR).filter((n) => n.startsWith("MANIFEST-")), what).toEqual([name]);
      expect(readManifestRecords(fs.readFile(`${DIR}/${name}`), name, () => undefined, true).records.length, what).toBe(1);
      fs.crash();
      const third = new VersionSet(fs, DIR);
      third.recover();
      expect(shape(third.current), what).toEqual(shape(vs.current));
      expect(third.lastSeq, what).toBe(7);
    }
  });

  it("syncRecovered makes a continued manifest's unsynced record, and a CURRENT renamed without a directory sync, durable", async () => {
    for (const synced of [true, false]) {
      const fs = freshFs();
      const vs = await openSet(fs);
      const oldNumber = vs.manifestFileNumber;
      vs.close();
      // What a process that died in the middle of a manifest switch leaves: a new manifest, synced,
      // CURRENT renamed to name it but no directory sync; then a record appended without a sync.
      const num = oldNumber + 10;
      const name = `MANIFEST-${String(num).padStart(6, "0")}`;
      const m = fs.create(`${DIR}/${name}`);
      m.append(frameManifestRecord(encodeEdit({ logNumber: 1, nextFileNumber: num + 1, lastSeq: 3 })));
      await m.sync();
      const cur = fs.create(`${DIR}/CURRENT.tmp`);
      cur.append(new TextEncoder().encode(`${name}
`));
      await cur.sync();
      fs.rename(`${DIR}/CURRENT.tmp`, `${DIR}/CURRENT`);
      m.append(frameManifestRecord(encodeEdit({ lastSeq: 4, added: [{ level: 0, file: meta(num + 1, "a", "b") }] })));

      const again = new VersionSet(fs, DIR);
      again.recover();
      expect(again.lastSeq).toBe(4);
      expect(await again.openManifest()).toBe(false);
      if (synced) await again.syncRecovered();
      fs.crash();
      const third = new VersionSet(fs, DIR);
      third.recover();
      if (synced) {
        expect(third.manifestFileNumber, "CURRENT still names the continued manifest").toBe(num);
        expect(third.lastSeq, "the unsynced record survived").toBe(4);
        expect(shape(third.current)[0]).toEqual([num + 1]);
      } else {
        // Without it, a power loss takes both back (which is why open syncs before deleting).
        expect(third.manifestFileNumber).toBe(oldNumber);
      }
    }
  });

  it("logAndApply refuses an inconsistent edit without writing it", async () => {
    const fs = freshFs();
    const vs = await openSet(fs);
    const bytes = vs.manifestBytes;
    await expect(vs.logAndApply({ deleted: [{ level: 3, number: 77 }] })).rejects.toThrow(/table 77/);
    expect(vs.manifestBytes).toBe(bytes);
    // The queue keeps going after a failed edit.
    await vs.logAndApply({ lastSeq: 9 });
    expect(vs.lastSeq).toBe(9);
  });

  it("a pinned version keeps its tables live until its last unpin", async () => {
    const vs = await openSet(freshFs());
    await vs.logAndApply({ added: [{ level: 0, file: meta(10, "a", "b") }, { level: 0, file: meta(11, "c", "d") }] });
    const pinned = vs.ref();
    const pinnedTwice = vs.ref();
    expect(pinnedTwice).toBe(pinned);
    await vs.logAndApply({ deleted: [{ level: 0, number: 10 }, { level: 0, number: 11 }], added: [{ level: 1, file: meta(12, "a", "d") }] });
    expect([...vs.liveTableNumbers()].sort()).toEqual([10, 11, 12]);
    expect(vs.unref(pinned)).toBe(false);
    expect([...vs.liveTableNumbers()].sort()).toEqual([10, 11, 12]);
    expect(vs.unref(pinned), "last unpin of a replaced version").toBe(true);
    expect([...vs.liveTableNumbers()]).toEqual([12]);

    // Unpinning the current version frees nothing.
    const current = vs.ref();
    expect(vs.unref(current)).toBe(false);
    expect([...vs.liveTableNumbers()]).toEqual([12]);
  });

  it("an unpinned replaced version is not kept", async () => {
    const vs = await openSet(freshFs());
    await vs.logAndApply({ added: [{ level: 0, file: meta(10, "a", "b") }] });
    await vs.logAndApply({ deleted: [{ level: 0, number: 10 }] });
    expect([...vs.liveTableNumbers()]).toEqual([]);
  });
});
