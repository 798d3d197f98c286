/**
 * Damage to the files of a whole database on real disk (SPEC §2: every byte of an SSTable and of
 * the manifest is covered by a checksum or a structural check; damage is detected by `verify()` or
 * by the read that meets it, never returned as data).
 *
 * The database: about 3.5 MiB compacted into two last-level tables, then overwrites and deletes
 * flushed into a level-0 table that shadows some of their keys. One last-level table is the
 * victim; for each of its regions (a data block's contents, a data block's trailer, the filter,
 * meta and index blocks, the footer) a copy of the directory gets one flipped byte, and:
 *
 * - the engine still opens: open reads only CURRENT, the manifest and the logs; tables are opened
 *   on first use. (What happens, documented here: the damage surfaces on the first read that
 *   touches the table, and in verify().)
 * - verify() throws CorruptionError naming the table and an offset inside the damaged region;
 * - every point read returns the model's value or throws CorruptionError naming the table; reads
 *   of keys outside the table's key range never fail; a full scan fails; bounded scans return
 *   the model's data or fail, never other data; the damage is still reported after a reopen;
 * - compact() fails with CorruptionError and leaves sst/ holding exactly the manifest's tables.
 *
 * The manifest: damage before a valid record refuses the open and fails verify(); damage in the
 * manifest's last record must not silently drop live tables (see the tests for what is expected).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CorruptionError, Engine } from "../../engine/index.js";
import { readManifestRecords } from "../../engine/manifest/manifest-log.js";
import { decodeEdit, type FileMeta } from "../../engine/manifest/version-edit.js";
import { nodeFs } from "../../engine/fs/node-fs.js";
import { BlockIterator } from "../../engine/sstable/block-reader.js";
import { BLOCK_TRAILER_SIZE, type BlockHandle, decodeFooter, FOOTER_SIZE } from "../../engine/sstable/format.js";
import { TableReader } from "../../engine/sstable/table-reader.js";
import { compareBytes } from "../../engine/util/bytes.js";
import { NUM_LEVELS } from "../../engine/version/version.js";
import { useScratch } from "../fixtures/harness.js";
import { hex, KvModel, type HexPairs } from "../fixtures/kv-model.js";
import { Rng, testSeeds } from "../fixtures/random.js";

const scratch = useScratch();

// ---------------------------------------------------------------- the database

interface Pristine {
  dir: string;
  model: KvModel;
  keys: Uint8Array[];
  victim: FileMeta;
  victimName: string;
}

function currentManifest(dir: string): string {
  return path.join(dir, fs.readFileSync(path.join(dir, "CURRENT"), "latin1").replace(/\n$/, ""));
}

function manifestLevels(dir: string): FileMeta[][] {
  const file = currentManifest(dir);
  const levels: FileMeta[][] = Array.from({ length: NUM_LEVELS }, () => []);
  for (const { payload } of readManifestRecords(fs.readFileSync(file), file, () => undefined).records) {
    const edit = decodeEdit(payload);
    for (const d of edit.deleted ?? []) levels[d.level] = levels[d.level]!.filter((f) => f.number !== d.number);
    for (const a of edit.added ?? []) levels[a.level]!.push(a.file);
  }
  return levels;
}

function tableName(n: number): string {
  return `${String(n).padStart(6, "0")}.sst`;
}

function copyDb(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true, filter: (src) => path.basename(src) !== "LOCK" });
}

const KEY = (i: number): Uint8Array => new TextEncoder().encode(`key-${String(i).padStart(6, "0")}`);

async function buildPristine(seed: number): Promise<Pristine> {
  const rng = new Rng(seed);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lsmdoc-corruption-"));
  const engine = await Engine.open(dir, { memtableSize: 256 * 1024, sync: false });
  const model = new KvModel();
  const keys = Array.from({ length: 4000 }, (_, i) => KEY(i));
  const first = keys.map((key) => ({ key, value: rng.bytes(rng.between(200, 1500)) }));
  await Promise.all(first.map((e) => engine.put(e.key, e.value)));
  model.apply(first);
  await engine.compact();
  const later = Array.from({ length: 300 }, () => {
    const key = rng.pick(keys);
    return { key, value: rng.chance(0.7) ? rng.bytes(rng.between(1, 300)) : undefined };
  });
  for (const e of later) await (e.value === undefined ? engine.delete(e.key) : engine.put(e.key, e.value));
  model.apply(later);
  await engine.flush();
  await engine.close();

  const levels = manifestLevels(dir);
  const last = levels[NUM_LEVELS - 1]!;
  if (last.length < 2 || levels[0]!.length === 0) throw new Error(`seed=${seed}: unexpected shape ${levels.map((l) => l.length).join("/")}`);
  // The second table: a full compaction finishes an output from the first one before it meets the damage.
  const victim = [...last].sort((a, b) => compareBytes(a.smallestKey, b.smallestKey))[1]!;
  return { dir, model, keys, victim, victimName: tableName(victim.number) };
}

interface Region {
  name: string;
  start: number;
  end: number;
  /** Where to flip. */
  at: number;
}

/** The table's regions, decoded from the undamaged copy: its data blocks come from its index. */
function regionsOf(file: string, rng: Rng): Region[] {
  const size = fs.statSync(file).size;
  const t = TableReader.open(nodeFs.openRead(file), file, 0);
  const footer = decodeFooter(new Uint8Array(fs.readFileSync(file)).subarray(size - FOOTER_SIZE), size, file);
  const data: BlockHandle[] = [];
  try {
    const it = new BlockIterator();
    it.reset(t.indexBlock);
    for (it.seekToFirst(); it.valid(); it.next()) {
      const h = { offset: 0, size: 0 };
      t.indexEntryHandle(it, h);
      data.push(h);
    }
  } finally {
    t.close();
  }
  if (data.length < 10) throw new Error(`${file}: only ${data.length} data blocks`);
  const block = (name: string, h: BlockHandle, at = h.offset + rng.int(h.size + BLOCK_TRAILER_SIZE)): Region => ({
    name,
    start: h.offset,
    end: h.offset + h.size + BLOCK_TRAILER_SIZE,
    at,
  });
  // A block in the middle of the table, so that a scan or compaction has read good blocks first.
  const mid = data[Math.floor(data.length / 3) + rng.int(Math.floor(data.length / 3))]!;
  return [
    block("data block", mid, mid.offset + rng.int(mid.size)),
    block("first data block's trailer", data[0]!, data[0]!.offset + data[0]!.size + rng.int(BLOCK_TRAILER_SIZE)),
    block("filter block", footer.filter),
    block("meta block", footer.meta),
    block("index block", footer.index),
    { name: "footer", start: size - FOOTER_SIZE, end: size, at: size - FOOTER_SIZE + rng.int(FOOTER_SIZE) },
  ];
}

function expectCorruptionIn(err: unknown, file: string, region: { start: number; end: number } | undefined, what: string): void {
  expect(err, `${what}: ${String(err)}`).toBeInstanceOf(CorruptionError);
  const c = err as CorruptionError;
  expect(c.file, `${what}: file named`).toBe(file);
  if (region) {
    expect(c.offset, `${what}: offset ${c.offset} in [${region.start}, ${region.end})`).toBeGreaterThanOrEqual(region.start);
    expect(c.offset, `${what}: offset ${c.offset} in [${region.start}, ${region.end})`).toBeLessThan(region.end);
  }
}

async function scanOrError(engine: Engine, o: Parameters<Engine["iterate"]>[0]): Promise<{ pairs: HexPairs; err?: unknown }> {
  const pairs: HexPairs = [];
  try {
    for await (const [k, v] of engine.iterate(o)) pairs.push([hex(k), hex(v)]);
    return { pairs };
  } catch (err) {
    return { pairs, err };
  }
}

// ---------------------------------------------------------------- tables

const seeds = testSeeds(1);
let pristine: Pristine;

beforeAll(async () => {
  pristine = await buildPristine(seeds[0]!);
});

afterAll(() => {
  if (pristine) fs.rmSync(pristine.dir, { recursive: true, force: true });
});

describe("a damaged SSTable", () => {
  const regionNames = ["data block", "first data block's trailer", "filter block", "meta block", "index block", "footer"];
  for (const name of regionNames) {
    it(`${name}: detected by verify() and by every read that meets it, never returned as data (seed ${seeds[0]})`, async () => {
      const seed = seeds[0]!;
      const rng = new Rng(seed + name.length);
      const dir = scratch.dir();
      copyDb(pristine.dir, dir);
      const victimPath = path.join(dir, "sst", pristine.victimName);
      const region = regionsOf(victimPath, rng).find((r) => r.name === name)!;
      const bytes = fs.readFileSync(victimPath);
      bytes[region.at]! ^= 1 << rng.int(8);
      fs.writeFileSync(victimPath, bytes);
      const label = `seed=${seed} ${name} byte ${region.at} of ${pristine.victimName}`;

      // Open reads no table: it succeeds.
      let engine = scratch.track(await Engine.open(dir));
      const verifyErr = await engine.verify().then(
        () => undefined,
        (e: unknown) => e,
      );
      expectCorruptionIn(verifyErr, victimPath, region, `${label}: verify()`);

      let failed = 0;
      for (const key of pristine.keys) {
        const inVictim = compareBytes(key, pristine.victim.smallestKey) >= 0 && compareBytes(key, pristine.victim.largestKey) <= 0;
        let got: Uint8Array | undefined;
        try {
          got = engine.getSync(key);
        } catch (err) {
          expect(inVictim, `${label}: get ${hex(key)} outside the damaged table failed: ${String(err)}`).toBe(true);
          expectCorruptionIn(err, victimPath, undefined, `${label}: get ${hex(key)}`);
          failed++;
          continue;
        }
        expect(got === undefined ? undefined : hex(got), `${label}: get ${hex(key)}`).toBe(pristine.model.get(key));
      }
      expect(failed, `${label}: some point read met the damage`).toBeGreaterThan(0);

      const full = await scanOrError(engine, {});
      expectCorruptionIn(full.err, victimPath, undefined, `${label}: full scan`);
      // What a failing scan yielded before failing is still right.
      expect(full.pairs, `${label}: scan prefix`).toEqual(pristine.model.scan().slice(0, full.pairs.length));
      for (let i = 0; i < 20; i++) {
        const a = rng.int(pristine.keys.length);
        const b = a + rng.int(200);
        const o = { gte: KEY(a), lt: KEY(b), reverse: rng.chance(0.5) };
        const r = await scanOrError(engine, o);
        const want = pristine.model.scan(o);
        if (r.err === undefined) expect(r.pairs, `${label}: scan ${a}..${b}`).toEqual(want);
        else {
          expectCorruptionIn(r.err, victimPath, undefined, `${label}: scan ${a}..${b}`);
          expect(r.pairs, `${label}: scan ${a}..${b} prefix`).toEqual(want.slice(0, r.pairs.length));
        }
      }

      // The damage is not repaired or hidden by a reopen.
      await engine.close();
      engine = scratch.track(await Engine.open(dir));
      expectCorruptionIn(await engine.verify().catch((e: unknown) => e), victimPath, undefined, `${label}: verify() after reopen`);

      // A full compaction has to read the damaged table: it fails, and leaves no stray tables.
      const compactErr = await engine.compact().catch((e: unknown) => e);
      expectCorruptionIn(compactErr, victimPath, undefined, `${label}: compact()`);
      const named = manifestLevels(dir).flat().map((f) => tableName(f.number)).sort();
      expect.soft(fs.readdirSync(path.join(dir, "sst")).sort(), `${label}: sst/ after a failed compact() vs. the manifest's tables`).toEqual(named);
      expect(fs.existsSync(victimPath), `${label}: the damaged table is kept`).toBe(true);
      const outside = pristine.keys.find((k) => compareBytes(k, pristine.victim.smallestKey) < 0)!;
      const got = engine.getSync(outside);
      expect(got === undefined ? undefined : hex(got), `${label}: reads elsewhere still work after the failed compaction`).toBe(pristine.model.get(outside));
    });
  }
});

describe("an iterator that meets a damaged table", () => {
  it("is finished by the failure: its snapshot and pinned tables are released", async () => {
    const dir = scratch.dir();
    copyDb(pristine.dir, dir);
    const victimPath = path.join(dir, "sst", pristine.victimName);
    const region = regionsOf(victimPath, new Rng(1)).find((r) => r.name === "data block")!;
    const bytes = fs.readFileSync(victimPath);
    bytes[region.at]! ^= 0x01;
    fs.writeFileSync(victimPath, bytes);
    const engine = scratch.track(await Engine.open(dir));
    const it = engine.iterate();
    let err: unknown;
    try {
      while (it.nextSync() !== undefined);
    } catch (e) {
      err = e;
    }
    expectCorruptionIn(err, victimPath, region, "scan");
    // Like a for-await loop, the caller does not call return() after next() threw.
    expect(engine.stats().snapshots, "snapshots still held after the iterator failed").toBe(0);
    expect(it.nextSync(), "a failed iterator yields nothing more").toBeUndefined();
  });
});

// ---------------------------------------------------------------- the manifest

describe("a damaged manifest", () => {
  /** A database whose manifest holds several records: the snapshot at open and two flushes. */
  async function withManifest(): Promise<{ dir: string; manifest: string; records: Array<{ offset: number; length: number }>; model: KvModel; engine: Engine }> {
    const dir = scratch.dir();
    copyDb(pristine.dir, dir);
    const engine = scratch.track(await Engine.open(dir));
    const model = pristine.model.clone();
    for (let round = 0; round < 2; round++) {
      const entries = Array.from({ length: 20 }, (_, i) => ({ key: KEY(i * 7 + round), value: new TextEncoder().encode(`round ${round}`) }));
      for (const e of entries) await engine.put(e.key, e.value);
      model.apply(entries);
      await engine.flush();
    }
    const manifest = engine.stats().manifest.file;
    const read = readManifestRecords(fs.readFileSync(manifest), manifest, () => undefined);
    const records = read.records.map((r, i, all) => ({ offset: r.offset, length: (all[i + 1]?.offset ?? read.validLength) - r.offset }));
    return { dir, manifest, records, model, engine };
  }

  function flip(file: string, at: number): void {
    const bytes = fs.readFileSync(file);
    bytes[at]! ^= 0x20;
    fs.writeFileSync(file, bytes);
  }

  it("damage before a valid record: verify() of the open engine and the next open fail, naming the manifest and offset", async () => {
    const { manifest, records, engine, dir } = await withManifest();
    expect(records.length).toBeGreaterThanOrEqual(3);
    const target = records[1]!;
    flip(manifest, target.offset + target.length - 1);
    const err = await engine.verify().catch((e: unknown) => e);
    expectCorruptionIn(err, manifest, { start: target.offset, end: target.offset + 1 }, "verify()");
    await engine.close();
    const openErr = await Engine.open(dir).catch((e: unknown) => e);
    expectCorruptionIn(openErr, manifest, { start: target.offset, end: target.offset + 1 }, "open");
  });

  it("damage in the last record of the live manifest fails verify()", async () => {
    // A running engine wrote and synced every record of its manifest: a bad last record cannot
    // be a torn tail here, it is damage, and verify() promises to find any flipped byte.
    const { manifest, records, engine } = await withManifest();
    const last = records[records.length - 1]!;
    flip(manifest, last.offset + Math.floor(last.length / 2));
    const err = await engine.verify().catch((e: unknown) => e);
    expectCorruptionIn(err, manifest, undefined, "verify() with the last manifest record damaged");
  });

  it("damage in the last record of a cleanly closed database's manifest never silently drops live data", async () => {
    // After a clean close the last record is the close's flush, whose log is already deleted:
    // taking the damaged record for a torn tail loses that flush. Open must refuse (CorruptionError)
    // or keep every key.
    const { manifest, records, engine, dir, model } = await withManifest();
    await engine.close();
    const last = records[records.length - 1]!;
    flip(manifest, last.offset + Math.floor(last.length / 2));
    const opened = await Engine.open(dir).then(
      (e) => scratch.track(e),
      (e: unknown) => e,
    );
    if (opened instanceof Engine) {
      const lost: string[] = [];
      for (const key of pristine.keys) {
        const got = await opened.get(key).catch((e: unknown) => e);
        const want = model.get(key);
        if (!(got === undefined ? want === undefined : got instanceof Uint8Array && hex(got) === want)) lost.push(hex(key));
      }
      expect(lost, `open accepted the damaged last record as a torn tail; ${lost.length} keys read wrong`).toEqual([]);
    } else {
      expectCorruptionIn(opened, manifest, undefined, "open");
    }
  });

  it("a damaged one-record manifest (rewritten at open, closed without writes) refuses to open and deletes no table", async () => {
    const dir = scratch.dir();
    copyDb(pristine.dir, dir);
    // A torn tail makes open rewrite the manifest as one snapshot record.
    fs.appendFileSync(path.join(dir, fs.readFileSync(path.join(dir, "CURRENT"), "latin1").trim()), Uint8Array.of(1, 2, 3));
    const engine = await Engine.open(dir);
    const manifest = engine.stats().manifest.file;
    await engine.close();
    const records = readManifestRecords(fs.readFileSync(manifest), manifest, () => undefined).records;
    expect(records.length, "the manifest written at open, and nothing after it").toBe(1);
    const tablesBefore = fs.readdirSync(path.join(dir, "sst")).sort();
    flip(manifest, 20);
    const opened = await Engine.open(dir).then(
      (e) => scratch.track(e),
      (e: unknown) => e,
    );
    expect.soft(fs.readdirSync(path.join(dir, "sst")).sort(), "tables on disk after the open attempt").toEqual(tablesBefore);
    if (opened instanceof Engine) {
      expect(opened.stats().tables.files, "open took the damaged only record for a torn tail and started empty").toBe(tablesBefore.length);
    } else {
      expectCorruptionIn(opened, manifest, undefined, "open");
    }
  });
});
