/**
 * Every contender: its name, how the report labels it, the npm package it is measured through,
 * the settings stated in the report, and how to load it. Loading is lazy so that the runner (which
 * only needs the metadata) never loads a peer's native module.
 */
import type { ContenderModule } from "./types.js";

export interface ContenderInfo {
  /** Name on the command line (`--only`) and in results. */
  name: string;
  /** Column heading in the report. */
  label: string;
  /** npm package whose version is reported ("lsmdoc" = this repository). */
  pkg: string;
  /** Whether it can fsync every commit (phase 9). */
  synced: boolean;
  /** Settings, as stated in the report. */
  settings: string;
  load(): Promise<ContenderModule["open"]>;
}

export const CONTENDERS: readonly ContenderInfo[] = [
  {
    name: "lsmdoc",
    label: "lsmdoc",
    pkg: "lsmdoc",
    synced: true,
    settings:
      "Public API only: `open(dir, { sync: false })` for the fast phases, `open(dir, { sync: true })` for reopen and the synced phase; " +
      "collection `users` with indexes `email` (unique), `age`, `city`; `insertMany`, `insert`, `get`, `findOne({ email })`, " +
      "`find({ age: { $gte, $lt } }, { limit: 100 }).toArray()`, `update(id, { $set: { age } })`, `delete(id)`. " +
      "Validates every written document with the schema itself; generates its own 26-character ids.",
    load: async () => (await import("./lsmdoc.js")).open,
  },
  {
    name: "leveldb",
    label: "LevelDB (classic-level)",
    pkg: "classic-level",
    synced: true,
    settings:
      "Default options (buffer keys and values). Documents as msgpackr under `0x01 id`, hand-kept index keys (email -> id, " +
      "order-preserving age + id, city + id); each write operation is one `batch()` holding the document and its index keys, " +
      "the unique email checked by reading its key first. Reads with `getSync`; ranges with a key iterator + `getSync`. " +
      "Fast phases: `sync: false` (default); synced phase: `sync: true` per batch.",
    load: async () => (await import("./leveldb.js")).open,
  },
  {
    name: "lmdb",
    label: "lmdb-js",
    pkg: "lmdb",
    synced: true,
    settings:
      "Default options except binary keys/values (same keys and msgpackr bytes as LevelDB). Each write operation is one " +
      "transaction doing its reads (unique email, current document) and writes. Fast phases: `noSync: true` + `transactionSync`; " +
      "synced phase: default sync (overlapping sync, promise resolves when flushed) + `transaction()` (concurrent callers " +
      "share a commit). Reads: `getBinaryFast` (synchronous), ranges with `getKeys`.",
    load: async () => (await import("./lmdb.js")).open,
  },
  {
    name: "lmdb-writemap",
    label: "lmdb-js writemap",
    pkg: "lmdb",
    synced: true,
    settings: "As lmdb-js, plus `useWritemap: true`.",
    load: async () => (await import("./lmdb.js")).openWritemap,
  },
  {
    name: "sqlite",
    label: "SQLite (better-sqlite3)",
    pkg: "better-sqlite3",
    synced: true,
    settings:
      "Table `users(id TEXT PRIMARY KEY, email TEXT UNIQUE, age INTEGER, city TEXT, doc BLOB)` (doc = msgpackr), indexes on " +
      "age and city, `journal_mode = WAL`, prepared statements, one transaction per write operation (a batch of 1000 is one). " +
      "Fast phases: `synchronous = OFF`; synced phase: `synchronous = FULL`, each insert its own transaction (one connection: " +
      "commits are serial).",
    load: async () => (await import("./sqlite.js")).open,
  },
  {
    name: "nedb",
    label: "NeDB",
    pkg: "@seald-io/nedb",
    synced: false,
    settings:
      "Default persistence: in memory + one append-only file, writes appended without fsync (the file is rewritten and " +
      "fsynced on load). `ensureIndex` on email (unique), age, city. Updates read, validate and write back the whole document. " +
      "No fsync-per-commit mode (synced phase: –); no close (reopen = load the file again).",
    load: async () => (await import("./nedb.js")).open,
  },
  {
    name: "lokijs",
    label: "LokiJS (in memory)",
    pkg: "lokijs",
    synced: false,
    settings:
      "In memory, persisted to one JSON file by `LokiFsAdapter` only at close (`autosave: false`). `unique: ['_id', 'email']` " +
      "(read with `by()`), `indices: ['age', 'city']`; ranges as `{ age: { $between: [lo, hi - 1] } }` (Loki reads one " +
      "operator per field). Reopen loads the file and revives `createdAt` as a Date. No fsync-per-commit mode (synced phase: –).",
    load: async () => (await import("./lokijs.js")).open,
  },
];

export function contender(name: string): ContenderInfo {
  const c = CONTENDERS.find((x) => x.name === name);
  if (c === undefined) throw new Error(`unknown contender "${name}" (known: ${CONTENDERS.map((x) => x.name).join(", ")})`);
  return c;
}
