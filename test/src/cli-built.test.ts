/**
 * The built command line, as users run it: compiles the package (tsc, into dist/ as `npm run
 * build` does) and runs `node dist/src/cli.js` on a real database made with the library. The
 * command-by-command behaviour is covered in cli.test.ts on the sources; this checks that the
 * compiled entry point (the package's `bin`) works and keeps the exit-code contract.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { open, z } from "../../src/index.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = path.join(ROOT, "dist", "src", "cli.js");
let dir = "";

beforeAll(async () => {
  const build = spawnSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: ROOT, encoding: "utf8" });
  expect(build.status, `tsc failed:\n${build.stdout}${build.stderr}`).toBe(0);
  expect(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).bin.lsmdoc).toBe("./dist/src/cli.js");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lsmdoc-cli-built-"));
  const db = await open(dir);
  const notes = db.collection("notes", z.object({ text: z.string(), n: z.number() }), { indexes: [{ fields: ["n"] }] });
  await notes.insertMany(Array.from({ length: 20 }, (_, i) => ({ text: `note ${i}`, n: i })));
  await db.close();
}, 180_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the built lsmdoc CLI", () => {
  it("answers --help (0), a usage error (2) and a missing directory (1)", () => {
    expect(run(["--help"]).status).toBe(0);
    expect(run(["--help"]).stdout).toContain("usage: lsmdoc");
    expect(run(["frobnicate", dir]).status).toBe(2);
    expect(run(["stats", path.join(dir, "missing")]).status).toBe(1);
  });

  it("reads a database made by the library: collections, find, verify", () => {
    const collections = run(["collections", dir]);
    expect(collections.status).toBe(0);
    expect(collections.stdout.trim()).toBe("notes");
    const found = run(["find", dir, "notes", '{"n": {"$gte": 15}}']);
    expect(found.status, found.stderr).toBe(0);
    const docs = found.stdout.trim().split("\n").map((l) => JSON.parse(l) as { n: number; _id: string });
    expect(docs.map((d) => d.n).sort((a, b) => a - b)).toEqual([15, 16, 17, 18, 19]);
    expect(docs.every((d) => typeof d._id === "string" && d._id.length > 0)).toBe(true);
    const verify = run(["verify", dir]);
    expect(verify.status, verify.stderr).toBe(0);
  });
});
