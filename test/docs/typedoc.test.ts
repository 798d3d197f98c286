/**
 * The API reference must build cleanly: typedoc over the public entry (src/index.ts) with the guides
 * in docs/*.md as project documents, with typedoc.json's validation on (every exported name
 * documented, every {@link} and relative Markdown link resolvable, nothing referenced that is neither
 * exported nor listed as intentionally internal). Any warning or error fails the test with typedoc's
 * own messages, so `npm run docs` never starts printing warnings unnoticed.
 *
 * It drives typedoc's Node API with the same option readers as its CLI and renders into a temp dir
 * (the rendering step is where links inside the Markdown guides are checked). Paths in typedoc.json
 * resolve against that file, so the working directory does not matter; typedoc reads the TypeScript
 * sources directly, so no build is needed first.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Application, Logger, LogLevel, PackageJsonReader, TSConfigReader, TypeDocReader } from "typedoc";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const out = mkdtempSync(path.join(tmpdir(), "lsmdoc-typedoc-"));

afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Keeps every warning and error (with typedoc's file:line context) instead of printing it. */
class CollectingLogger extends Logger {
  readonly messages: string[] = [];
  override log(message: string, level: LogLevel): void {
    if (level >= LogLevel.Warn) this.messages.push(`${LogLevel[level]}: ${message}`);
  }
}

describe("API reference", () => {
  it("builds from typedoc.json with zero warnings", async () => {
    const app = await Application.bootstrapWithPlugins(
      { options: path.join(root, "typedoc.json"), tsconfig: path.join(root, "tsconfig.json"), out, treatWarningsAsErrors: true },
      [new TypeDocReader(), new PackageJsonReader(), new TSConfigReader()],
    );
    // Problems in the options themselves were already printed by the default logger.
    expect(app.logger.errorCount + app.logger.warningCount, "typedoc option errors or warnings (see output above)").toBe(0);
    const logger = new CollectingLogger();
    app.logger = logger;

    const project = await app.convert();
    expect(project, `typedoc could not convert the project:\n${logger.messages.join("\n")}`).toBeDefined();
    app.validate(project!);
    await app.generateOutputs(project!);

    expect(logger.messages.join("\n")).toBe("");
    // The guides are part of the reference, not only the API.
    const pages = readdirSync(out, { recursive: true }).map(String);
    const guides = readdirSync(path.join(root, "docs")).filter((f) => f.endsWith(".md"));
    expect(guides.length).toBeGreaterThan(0);
    for (const guide of guides) {
      const stem = guide.replace(/\.md$/, "").toLowerCase();
      expect(pages.some((p) => p.startsWith("documents") && p.toLowerCase().includes(stem)), `docs/${guide} is missing from the rendered reference`).toBe(true);
    }
  });
});
