#!/usr/bin/env node
/**
 * The `lsmdoc` command line (SPEC §5): inspect and maintain a database directory without the
 * application's code. Exit codes: 0 done, 1 failed (corruption found, lines rejected, directory
 * locked, ...), 2 usage error. Every usage check runs before the directory is opened, so a usage
 * error never touches the database.
 *
 * The document commands (find, export, import) work from the catalog alone (stored index
 * definitions and JSON Schema) through collections/raw-collection.ts, which never rewrites the
 * catalog's JSON Schema: that belongs to the application.
 */
import { existsSync } from "node:fs";
import { DatabaseLockedError, InvalidArgumentError, LsmdocError } from "../engine/errors.js";
import { compileFilter } from "../collections/filter.js";
import { RawCollection } from "../collections/raw-collection.js";
import { DocumentStore } from "../collections/store.js";
import { expectPositionals, parseArgs, parseCount } from "./cli/args.js";
import { writeDocuments } from "./cli/document-commands.js";
import { HELP, USAGE } from "./cli/help.js";
import { importDocuments } from "./cli/import-command.js";
import { parseFilter } from "./cli/json.js";
import { UsageError } from "./cli/usage-error.js";
import { open } from "./database.js";

/** A command, checked and ready to run against an open directory. */
type Run = () => Promise<number>;

function checkDir(dir: string): void {
  if (!existsSync(dir)) throw new CliFailure(`${dir} does not exist`);
}

/** A failure to report in one line and exit 1. */
class CliFailure extends Error {}

async function withStore<T>(dir: string, fn: (store: DocumentStore) => Promise<T>): Promise<T> {
  checkDir(dir);
  const store = await DocumentStore.open(dir, { createIfMissing: false });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function collectionOf(store: DocumentStore, dir: string, name: string): RawCollection {
  const c = RawCollection.open(store, name);
  if (c === undefined) throw new CliFailure(`${dir} has no collection named "${name}" (see: lsmdoc collections ${dir})`);
  return c;
}

function adminCommand(command: string, argv: string[]): Run {
  const { positionals } = parseArgs(command, argv);
  expectPositionals(command, positionals, ["dir"]);
  const dir = positionals[0]!;
  return async () => {
    checkDir(dir);
    const db = await open(dir, { createIfMissing: false });
    try {
      switch (command) {
        case "stats": {
          const s = db.stats();
          process.stdout.write(`${JSON.stringify({ ...s.engine, collections: s.collections }, null, 2)}\n`);
          break;
        }
        case "collections":
          for (const name of db.collections()) process.stdout.write(`${name}\n`);
          break;
        case "verify": {
          const r = await db.verify();
          process.stdout.write(`ok: ${r.tables} tables (${r.tableBytes} bytes), ${r.logs} logs, ${r.manifestRecords} manifest records verified\n`);
          break;
        }
        case "compact": {
          const before = db.stats().engine.tables.bytes;
          process.stderr.write("compacting...\n");
          await db.compact();
          process.stdout.write(`compacted: ${before} -> ${db.stats().engine.tables.bytes} table bytes\n`);
          break;
        }
      }
    } finally {
      await db.close();
    }
    return 0;
  };
}

function findCommand(argv: string[]): Run {
  const { positionals, options } = parseArgs("find", argv, ["limit"]);
  expectPositionals("find", positionals, ["dir", "collection"], ["json-filter"]);
  const [dir, name, filterText] = positionals as [string, string, string | undefined];
  const filter = filterText === undefined ? {} : parseFilter(filterText);
  try {
    compileFilter(filter); // Operator mistakes are usage errors, found before opening anything.
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new UsageError(`find: ${err.message.replace(/^lsmdoc: /, "")}`);
    throw err;
  }
  const limitText = options.get("limit");
  const limit = limitText === undefined ? undefined : parseCount("find", "limit", limitText);
  return () =>
    withStore(dir, async (store) => {
      await writeDocuments(collectionOf(store, dir, name), filter, limit, process.stdout);
      return 0;
    });
}

function exportCommand(argv: string[]): Run {
  const { positionals } = parseArgs("export", argv);
  expectPositionals("export", positionals, ["dir", "collection"]);
  const [dir, name] = positionals as [string, string];
  return () =>
    withStore(dir, async (store) => {
      await writeDocuments(collectionOf(store, dir, name), {}, undefined, process.stdout);
      return 0;
    });
}

function importCommand(argv: string[]): Run {
  const { positionals } = parseArgs("import", argv);
  expectPositionals("import", positionals, ["dir", "collection"]);
  const [dir, name] = positionals as [string, string];
  return () =>
    withStore(dir, async (store) => {
      const report = await importDocuments(collectionOf(store, dir, name), process.stdin, process.stderr);
      process.stdout.write(`imported ${report.imported} documents from ${report.lines} lines; ${report.rejected} rejected\n`);
      return report.rejected > 0 ? 1 : 0;
    });
}

const COMMANDS: Record<string, (argv: string[]) => Run> = {
  stats: (argv) => adminCommand("stats", argv),
  collections: (argv) => adminCommand("collections", argv),
  verify: (argv) => adminCommand("verify", argv),
  compact: (argv) => adminCommand("compact", argv),
  find: findCommand,
  export: exportCommand,
  import: importCommand,
};

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h") {
    (argv.length === 0 ? process.stderr : process.stdout).write(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  const [command, ...rest] = argv as [string, ...string[]];
  const build = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (build === undefined) throw new UsageError(`unknown command "${command}"`);
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(HELP[command]!);
    return 0;
  }
  return build(rest)();
}

function report(err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`lsmdoc: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (err instanceof DatabaseLockedError) {
    process.stderr.write(`lsmdoc: ${err.dir} is locked: it is in use by another process${err.holderPid ? ` (pid ${err.holderPid})` : ""}; close it first\n`);
  } else if (err instanceof CliFailure) {
    process.stderr.write(`lsmdoc: ${err.message}\n`);
  } else if (err instanceof LsmdocError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`lsmdoc: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  return 1;
}

// A reader that goes away early (`lsmdoc export ... | head`) is not a failure.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = report(err);
  },
);
