/**
 * Runs every script in examples/ as its own process, so a new example is covered by adding the file.
 *
 * How "lsmdoc" resolves: the examples import the package by its own name, which Node resolves through
 * package.json "exports" to dist/ — a build output that is absent in a clean clone and stale while
 * sources are being edited. Running `npm run build` first would make this test slow and couple it to
 * whatever else fails to compile. Instead the child gets a small module-resolution hook that maps each
 * package export to the source file it is compiled from (`./dist/src/index.js` -> `src/index.ts`),
 * derived from package.json itself, and tsx compiles the sources on the fly. So the examples run
 * against the current sources with no build, and an "exports" entry whose source is missing fails here.
 * (tsc still type-checks the examples against the real exports map: tsconfig includes examples/.)
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const examplesDir = path.join(root, "examples");
const examples = readdirSync(examplesDir).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")).sort();

/** Package specifier ("lsmdoc", "lsmdoc/engine") -> file URL of the source module it is built from. */
function sourceExports(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { name: string; exports: Record<string, string | { import?: string }> };
  const out: Record<string, string> = {};
  for (const [sub, target] of Object.entries(pkg.exports)) {
    const js = typeof target === "string" ? target : target.import;
    if (js === undefined || !js.endsWith(".js")) continue; // e.g. "./package.json"
    const source = path.join(root, js.replace(/^\.\/dist\//, "").replace(/\.js$/, ".ts"));
    if (!existsSync(source)) throw new Error(`package.json exports ${sub} -> ${js}, but its source ${source} does not exist`);
    out[sub === "." ? pkg.name : `${pkg.name}/${sub.slice(2)}`] = pathToFileURL(source).href;
  }
  return out;
}

let hookDir: string;
let registerUrl: string;

beforeAll(() => {
  hookDir = mkdtempSync(path.join(tmpdir(), "lsmdoc-examples-"));
  writeFileSync(
    path.join(hookDir, "hooks.mjs"),
    `const map = ${JSON.stringify(sourceExports())};\n` +
      `export async function resolve(specifier, context, next) {\n` +
      `  const url = Object.hasOwn(map, specifier) ? map[specifier] : undefined;\n` +
      // Pass the mapped URL on (rather than answering with it) so tsx's resolver marks it as TypeScript.
      `  return next(url ?? specifier, context);\n` +
      `}\n`,
  );
  writeFileSync(path.join(hookDir, "register.mjs"), `import { register } from "node:module";\nregister("./hooks.mjs", import.meta.url);\n`);
  registerUrl = pathToFileURL(path.join(hookDir, "register.mjs")).href;
});

afterAll(() => {
  if (hookDir !== undefined) rmSync(hookDir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runExample(file: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Hooks registered later run first, so ours rewrites "lsmdoc" before tsx resolves and loads it.
    // cwd is the repository root so that `--import tsx` finds the dev dependency.
    const child = spawn(process.execPath, ["--import", "tsx", "--import", registerUrl, path.join(examplesDir, file)], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: "" },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 40_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** stderr minus Node's notices about experimental features, which say nothing about the example. */
function meaningfulStderr(stderr: string): string {
  return stderr
    .split("\n")
    .filter((l) => !/ExperimentalWarning|--trace-warnings/.test(l) && l.trim() !== "")
    .join("\n");
}

describe("examples", () => {
  it("finds the examples", () => {
    expect(examples.length).toBeGreaterThanOrEqual(2);
  });

  it.each(examples)("%s runs to completion without errors", async (file) => {
    const r = await runExample(file);
    const report = `examples/${file} exited with code ${r.code} signal ${r.signal}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
    expect(r.code, report).toBe(0);
    expect(meaningfulStderr(r.stderr), report).toBe("");
    expect(r.stdout.trim().length, `examples/${file} printed nothing`).toBeGreaterThan(0);
  });
});
