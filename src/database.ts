/**
 * The public facade of the document store: `open()` and {@link Database}. A Database owns one
 * engine directory; collections are typed views over it.
 */
import { InvalidArgumentError } from "../engine/errors.js";
import type { EngineStats, VerifyReport } from "../engine/db.js";
import type { EngineOptions } from "../engine/options.js";
import { Collection, type CollectionOptions } from "../collections/collection.js";
import type { ChangeEvent } from "../collections/change-events.js";
import { DocumentStore } from "../collections/store.js";
import type { Doc, DocumentSchema } from "../collections/types.js";

/** Options of {@link open}: the engine's options (durability, memtable and cache sizes). */
export type DatabaseOptions = EngineOptions;

/** What {@link Database.stats} reports. */
export interface DatabaseStats {
  engine: EngineStats;
  /** Collection names in the catalog. */
  collections: string[];
}

/**
 * An open lsmdoc database.
 *
 * @example
 * ```ts
 * import { open, z } from "lsmdoc";
 * const db = await open("./data");
 * const users = db.collection("users", z.object({ name: z.string() }));
 * await users.insert({ name: "Ada" });
 * await db.close();
 * ```
 */
export class Database {
  private readonly open = new Map<string, Collection<DocumentSchema>>();

  /** @internal Use {@link open}. */
  constructor(private readonly store: DocumentStore) {}

  /**
   * The collection `name`, with documents validated by `schema` and the given secondary indexes.
   * Opening with a new index builds it from the existing documents; an index no longer listed is
   * dropped. Calling again with the same schema object and indexes returns the same collection.
   *
   * @throws InvalidArgumentError for a bad name or options, or when the collection is already open
   * with a different schema or indexes.
   */
  collection<S extends DocumentSchema>(name: string, schema: S, options: CollectionOptions<Doc<S>> = {}): Collection<S> {
    if (typeof name !== "string" || name.length === 0 || Buffer.byteLength(name) > 255) {
      throw new InvalidArgumentError("lsmdoc: a collection name must be a string of 1..255 bytes");
    }
    if (schema === null || typeof schema !== "object" || typeof (schema as { safeParse?: unknown }).safeParse !== "function" || !("shape" in schema)) {
      throw new InvalidArgumentError(`lsmdoc: collection "${name}" needs a zod object schema (z.object({...}))`);
    }
    this.store.engine.assertOpen();
    const current = this.open.get(name);
    if (current !== undefined && !current.hasBuildFailure) {
      if (current.sameDefinition(schema, options)) return current as unknown as Collection<S>;
      throw new InvalidArgumentError(`lsmdoc: collection "${name}" is already open with a different schema or indexes`);
    }
    const c = new Collection(this.store, name, schema, options);
    this.open.set(name, c as unknown as Collection<DocumentSchema>);
    return c;
  }

  /** Names of every collection stored in the database. */
  collections(): string[] {
    return this.store.collectionNames();
  }

  /** Listens for changes in every collection (`e.collection` names it). */
  on(event: "change", listener: (event: ChangeEvent) => void): this;
  /** Listens for errors thrown by change listeners (the writes themselves succeeded). */
  on(event: "listenerError", listener: (error: unknown, event: ChangeEvent) => void): this;
  on(event: "change" | "listenerError", listener: (...args: never[]) => void): this {
    this.store.events.on(event, listener as never);
    return this;
  }

  /** Removes a listener added with `on`. */
  off(event: "change" | "listenerError", listener: (...args: never[]) => void): this {
    this.store.events.off(event, listener as never);
    return this;
  }

  /** Engine counters and the collection list. */
  stats(): DatabaseStats {
    return { engine: this.store.engine.stats(), collections: this.collections() };
  }

  /** Checks every checksum of every live file; throws `CorruptionError` at the first damage. */
  verify(): Promise<VerifyReport> {
    return this.store.engine.verify();
  }

  /** Compacts all data into the last level, dropping overwritten and deleted versions. */
  compact(): Promise<void> {
    return this.store.engine.compact();
  }

  /** Waits for pending writes, closes the engine and releases the directory. */
  close(): Promise<void> {
    return this.store.close();
  }

  /** Closes the database (`await using db = await open(dir)`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Opens (creating when missing) the database in `dir`.
 *
 * @throws DatabaseLockedError when another open database holds `dir`.
 * @throws CorruptionError when the directory's files are damaged.
 */
export async function open(dir: string, options?: DatabaseOptions): Promise<Database> {
  return new Database(await DocumentStore.open(dir, options));
}
