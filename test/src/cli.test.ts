/**
 * The `lsmdoc` command line (SPEC §5), run as a real child process (`node --import tsx src/cli.ts`,
 * so no build is needed) against real directories prepared with the library: output of every
 * command, import's per-line rejection and index maintenance (checked through the library and the
 * raw keyspace afterwards), the catalog's JSON Schema left untouched, damage found by verify, a
 * directory held by another open database, usage errors and help.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { Engine, open, z } from "../../src/index.js";
import { CATALOG_RANGE } from "../../collections/keyspace.js";
import { decodeCatalogEntry } from "../../collections/catalog.js";
import { keyspaceProblems, readKeyspace } from "../fixtures/doc-model.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "lsmdoc-cli-"));
  dirs.push(d);
  return d;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], input?: string): Run {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], {
    cwd: ROOT,
    input: input ?? "",
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ndjson(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const User = z.object({
  name: z.string(),
  email: z.email(),
  age: z.number().int(),
  city: z.string(),
  tags: z.array(z.string()).default([]),
  joined: z.date().optional(),
});
const INDEXES = [{ fields: ["email"] as ["email"], unique: true }, { fields: ["age"] as ["age"] }, { fields: ["tags"] as ["tags"] }];
const CITIES = ["London", "Paris", "Oslo"];

/** A database with 30 users (ages 20..49) and a second, empty collection. */
async function prepare(): Promise<string> {
  const dir = tempDir();
  const db = await open(dir);
  const users = db.collection("users", User, { indexes: INDEXES });
  await users.insertMany(
    Array.from({ length: 30 }, (_, i) => ({
      _id: `u${String(i).padStart(2, "0")}`,
      name: `user ${i}`,
      email: `user${i}@x.io`,
      age: 20 + i,
      city: CITIES[i % 3]!,
      tags: i % 5 === 0 ? ["admin", "staff"] : ["staff"],
      joined: new Date(Date.UTC(2020, 0, 1 + i)),
    })),
  );
  db.collection("empty", z.object({ x: z.number() }));
  await db.close();
  return dir;
}

async function storedJsonSchema(dir: string, name: string): Promise<string> {
  const engine = await Engine.open(dir);
  try {
    const it = engine.iterate({ gte: CATALOG_RANGE.gte, lt: CATALOG_RANGE.lt });
    for (let e = it.nextSync(); e !== undefined; e = it.nextSync()) {
      const meta = decodeCatalogEntry(e[1]);
      if (meta.name === name) return JSON.stringify(meta.jsonSchema);
    }
    throw new Error(`no catalog entry for ${name}`);
  } finally {
    await engine.close();
  }
}

async function keyspaceOf(dir: string): Promise<string[]> {
  const engine = await Engine.open(dir);
  try {
    return keyspaceProblems(readKeyspace(engine));
  } finally {
    await engine.close();
  }
}

describe("lsmdoc read commands", () => {
  it("stats, collections, find (filter, --limit) and export", async () => {
    const dir = await prepare();

    const stats = cli(["stats", dir]);
    expect(stats.code, stats.stderr).toBe(0);
    expect((JSON.parse(stats.stdout) as { collections: string[] }).collections).toEqual(["empty", "users"]);

    const names = cli(["collections", dir]);
    expect(names.code, names.stderr).toBe(0);
    expect(names.stdout).toBe("empty\nusers\n");

    const found = cli(["find", dir, "users", '{"age": {"$gte": 40}, "city": "London"}']);
    expect(found.code, found.stderr).toBe(0);
    const docs = ndjson(found.stdout);
    // Ages 40..49 are i = 20..29; London is i % 3 == 0: i = 21, 24, 27.
    expect(docs.map((d) => d._id).sort()).toEqual(["u21", "u24", "u27"]);
    expect(docs[0]).toMatchObject({ name: "user 21", email: "user21@x.io", age: 41, city: "London", joined: "2020-01-22T00:00:00.000Z" });

    const limited = cli(["find", dir, "users", '{"tags": "admin"}', "--limit", "2"]);
    expect(limited.code, limited.stderr).toBe(0);
    const some = ndjson(limited.stdout);
    expect(some).toHaveLength(2);
    for (const d of some) expect(["u00", "u05", "u10", "u15", "u20", "u25"]).toContain(d._id);

    const byDate = cli(["find", dir, "users", '{"joined": {"$lt": {"$date": "2020-01-03T00:00:00Z"}}}', "--limit=10"]);
    expect(byDate.code, byDate.stderr).toBe(0);
    expect(ndjson(byDate.stdout).map((d) => d._id)).toEqual(["u00", "u01"]);

    const exported = cli(["export", dir, "users"]);
    expect(exported.code, exported.stderr).toBe(0);
    const all = ndjson(exported.stdout);
    expect(all.map((d) => d._id)).toEqual(Array.from({ length: 30 }, (_, i) => `u${String(i).padStart(2, "0")}`));
    expect(Object.keys(all[0]!)[0]).toBe("_id");

    const none = cli(["export", dir, "empty"]);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toBe("");

    const missing = cli(["find", dir, "nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no collection named "nope"');
  });
});

describe("lsmdoc import", () => {
  it("rejects bad lines by number, keeps _id, maintains indexes and unique constraints, leaves the stored schema alone", async () => {
    const dir = await prepare();
    const schemaBefore = await storedJsonSchema(dir, "users");
    const lines = [
      /* 1 */ JSON.stringify({ _id: "n1", name: "New 1", email: "new1@x.io", age: 70, city: "Rome", tags: ["guest"] }),
      /* 2 */ '{"_id": "n2", "name": "broken", ',
      /* 3 */ JSON.stringify({ _id: "n3", name: "Bad mail", email: "not-an-email", age: 71, city: "Rome" }),
      /* 4 */ JSON.stringify({ _id: "n4", name: "Dup mail", email: "user3@x.io", age: 72, city: "Rome" }),
      /* 5 */ JSON.stringify({ _id: "u01", name: "Dup id", email: "dupid@x.io", age: 73, city: "Rome" }),
      /* 6 */ "",
      /* 7 */ JSON.stringify({ name: "No id", email: "noid@x.io", age: 70, city: "Rome", extra: "dropped" }),
      /* 8 */ JSON.stringify({ _id: "n8", name: "Same mail as line 1", email: "new1@x.io", age: 74, city: "Rome" }),
      /* 9 */ JSON.stringify({ _id: "n1", name: "Same id as line 1", email: "other@x.io", age: 75, city: "Rome" }),
      /* 10 */ JSON.stringify({ _id: "n10", name: "Age not int", email: "n10@x.io", age: 1.5, city: "Rome" }),
      /* 11 */ "[1, 2]",
    ];
    const r = cli(["import", dir, "users"], `${lines.join("\n")}\n`);
    expect(r.code, r.stderr).toBe(1);
    const rejected = [...r.stderr.matchAll(/^line (\d+): (.*)$/gm)].map((m) => [Number(m[1]), m[2]] as const);
    expect(rejected.map(([n]) => n), `rejected lines, in input order\n${r.stderr}`).toEqual([2, 3, 4, 5, 8, 9, 10, 11]);
    const reason = new Map(rejected);
    expect(reason.get(2)).toMatch(/JSON/);
    expect(reason.get(3)).toMatch(/email/);
    expect(reason.get(4)).toMatch(/unique index "email"/);
    expect(reason.get(5)).toMatch(/duplicate _id "u01"/);
    expect(reason.get(8)).toMatch(/unique index "email"/);
    expect(reason.get(9)).toMatch(/duplicate _id "n1"/);
    expect(reason.get(10)).toMatch(/age/);
    expect(r.stdout).toContain("imported 2 documents");

    expect(await storedJsonSchema(dir, "users"), "the CLI must not rewrite the stored JSON Schema").toBe(schemaBefore);
    expect(await keyspaceOf(dir)).toEqual([]);

    const db = await open(dir);
    try {
      const users = db.collection("users", User, { indexes: INDEXES });
      expect(await users.count()).toBe(32);
      expect(await users.get("n1")).toMatchObject({ name: "New 1", email: "new1@x.io", tags: ["guest"] });
      expect((await users.get("u01"))?.name, "a rejected duplicate changes nothing").toBe("user 1");
      expect(await users.get("n8")).toBeUndefined();

      const byAge = users.find({ age: 70 });
      expect(byAge.explain().strategy).toBe("index");
      const seventy = await byAge.toArray();
      expect(seventy.map((d) => d.name).sort()).toEqual(["New 1", "No id"]);
      const noId = seventy.find((d) => d.name === "No id")!;
      expect(noId._id).toMatch(/^[0-9A-Z]{26}$/);
      expect(noId, "unknown keys are dropped as the zod object would").not.toHaveProperty("extra");
      expect(noId.tags, "defaults of the stored schema apply").toEqual([]);

      const byMail = users.find({ email: "new1@x.io" });
      expect(byMail.explain().strategy).toBe("index");
      expect((await byMail.toArray()).map((d) => d._id)).toEqual(["n1"]);
      const guests = users.find({ tags: "guest" });
      expect(guests.explain().strategy).toBe("index");
      expect((await guests.toArray()).map((d) => d._id)).toEqual(["n1"]);
      // The unique index still refuses the imported value.
      await expect(users.insert({ name: "x", email: "new1@x.io", age: 1, city: "x" })).rejects.toThrow(/already holds/);
    } finally {
      await db.close();
    }
  });

  it("an all-valid file of several batches exits 0 and reports progress", async () => {
    const dir = await prepare();
    const n = 12_345;
    const text = Array.from({ length: n }, (_, i) => JSON.stringify({ _id: `b${i}`, name: `bulk ${i}`, email: `bulk${i}@y.io`, age: i % 90, city: "Bulk" })).join("\n");
    const r = cli(["import", dir, "users"], text);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/10000 lines read/);
    expect(r.stdout).toContain(`imported ${n} documents`);
    const db = await open(dir);
    try {
      const users = db.collection("users", User, { indexes: INDEXES });
      expect(await users.count({ city: "Bulk" })).toBe(n);
      const q = users.find({ email: "bulk12000@y.io" });
      expect(q.explain().strategy).toBe("index");
      expect((await q.toArray()).map((d) => d._id)).toEqual(["b12000"]);
    } finally {
      await db.close();
    }
    expect(await keyspaceOf(dir)).toEqual([]);
  });
});

describe("lsmdoc maintenance", () => {
  it("verify passes on a healthy database and names the damaged table; compact succeeds", async () => {
    const dir = await prepare();
    const db = await open(dir);
    await db.compact();
    await db.close();

    const ok = cli(["verify", dir]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ok: /);

    const compacted = cli(["compact", dir]);
    expect(compacted.code, compacted.stderr).toBe(0);
    expect(compacted.stdout).toMatch(/^compacted: /);

    const tables = fs.readdirSync(path.join(dir, "sst")).filter((f) => f.endsWith(".sst"));
    expect(tables.length).toBeGreaterThan(0);
    const victim = path.join(dir, "sst", tables[0]!);
    const bytes = fs.readFileSync(victim);
    bytes[16] ^= 0xff; // Inside the first data block.
    fs.writeFileSync(victim, bytes);
    const bad = cli(["verify", dir]);
    expect(bad.code, bad.stdout).toBe(1);
    expect(bad.stderr).toContain(tables[0]!);
  });

  it("a directory held by another open database is reported as locked, exit 1", async () => {
    const dir = await prepare();
    const db = await open(dir);
    try {
      for (const args of [["stats", dir], ["find", dir, "users"], ["import", dir, "users"]]) {
        const r = cli(args, "{}\n");
        expect(r.code, `${args[0]}: ${r.stderr}`).toBe(1);
        expect(r.stderr).toMatch(/locked|in use/);
      }
    } finally {
      await db.close();
    }
  });
});

describe("lsmdoc usage", () => {
  it("usage errors exit 2 without touching the directory; --help exits 0", async () => {
    const dir = await prepare();
    const usage: string[][] = [
      [],
      ["frobnicate", dir],
      ["stats"],
      ["stats", dir, "extra"],
      ["find", dir],
      ["find", dir, "users", "--limit", "-1"],
      ["find", dir, "users", "--limit", "ten"],
      ["find", dir, "users", "--limit"],
      ["find", dir, "users", "{not json"],
      ["find", dir, "users", "[1]"],
      ["find", dir, "users", '{"age": {"$bogus": 1}}'],
      ["find", dir, "users", "--color", "red"],
      ["export", dir],
      ["import", dir],
    ];
    for (const args of usage) {
      const r = cli(args);
      expect(r.code, `lsmdoc ${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/usage: lsmdoc/);
    }
    expect(cli(["--help"]).code).toBe(0);
    for (const command of ["stats", "collections", "find", "export", "import", "verify", "compact"]) {
      const r = cli([command, "--help"]);
      expect(r.code, command).toBe(0);
      expect(r.stdout).toContain(`usage: lsmdoc ${command}`);
    }
    expect(cli(["find", "--help"]).stdout).toMatch(/ISO 8601/);
    expect(cli(["find", "--help"]).stdout).toMatch(/base64/);
  });
});
