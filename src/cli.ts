#!/usr/bin/env node
/**
 * The `lsmdoc` command line (SPEC §5): inspect and maintain a database directory without the
 * application's code. Exit codes: 0 done, 1 failed (corruption found, directory locked, ...),
 * 2 usage error.
 */
import { existsSync } from "node:fs";
import { DatabaseLockedError, LsmdocError } from "../engine/errors.js";
import { open } from "./database.js";

const USAGE = `usage: lsmdoc <command> <dir>

commands:
  stats <dir>        levels, files, sizes, sequence number, collections
  collections <dir>  collection names, one per line
  verify <dir>       check every checksum of every live file
  compact <dir>      compact all data into the last level

options:
  --help             show this help (also: lsmdoc <command> --help)
`;

const HELP: Record<string, string> = {
  stats: "usage: lsmdoc stats <dir>\n\nPrints the engine's levels, files, sizes and sequence number, and the collections, as JSON.\n",
  collections: "usage: lsmdoc collections <dir>\n\nPrints the names of the collections stored in <dir>, one per line.\n",
  verify: "usage: lsmdoc verify <dir>\n\nReads every block of every live table, the manifest and the live logs, checking every checksum.\nExits 1 and names the file and offset when damage is found.\n",
  compact: "usage: lsmdoc compact <dir>\n\nFlushes and compacts every table into the last level, dropping overwritten and deleted versions.\n",
};

function usage(message?: string): never {
  if (message) process.stderr.write(`lsmdoc: ${message}\n`);
  process.stderr.write(USAGE);
  process.exit(2);
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h") {
    process.stdout.write(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  const [command, ...rest] = argv;
  const help = HELP[command!];
  if (help === undefined) usage(`unknown command "${command}"`);
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(help);
    return 0;
  }
  if (rest.length !== 1) usage(`${command} takes exactly one directory`);
  const dir = rest[0]!;
  if (!existsSync(dir)) {
    process.stderr.write(`lsmdoc: ${dir} does not exist\n`);
    return 1;
  }
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
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof DatabaseLockedError) {
      process.stderr.write(`lsmdoc: ${err.dir} is in use by another process${err.holderPid ? ` (pid ${err.holderPid})` : ""}; close it first\n`);
    } else if (err instanceof LsmdocError) {
      process.stderr.write(`${err.message}\n`);
    } else {
      process.stderr.write(`lsmdoc: ${(err as Error)?.stack ?? String(err)}\n`);
    }
    process.exitCode = 1;
  },
);
