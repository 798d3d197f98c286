/**
 * A stored collection reached through its catalog entry alone, for tools that run without the
 * application's code (the `lsmdoc` CLI): queries with the library's planner and cursor, and bulk
 * inserts of documents that the caller has already validated.
 *
 * Invariants, the same as `Collection`'s:
 * - every batch handed to the store holds each accepted document and every entry it adds to every
 *   index that is not being dropped ("building" indexes are maintained too), plus the catalog entry
 *   when an index first sees an array; a document that fails a check contributes nothing;
 * - `_id` and unique index values are checked against the latest state (pending batches included)
 *   and against the documents accepted earlier in the same batch;
 * - the catalog entry is otherwise left alone: its JSON Schema belongs to the application
 *   (SPEC §5: refreshed when application code opens the collection, never by a tool).
 */
import { InvalidArgumentError } from "../engine/errors.js";
import { cloneMeta, type CollectionMeta } from "./catalog.js";
import { Cursor } from "./cursor.js";
import { encodeDocument } from "./document-codec.js";
import { UniqueConstraintError } from "./errors.js";
import { compileFilter } from "./filter.js";
import { indexEntries } from "./index-entries.js";
import { documentKey, documentPrefix, indexPrefix } from "./keyspace.js";
import { planQuery } from "./planner.js";
import type { DocumentStore, KeyChange } from "./store.js";

type AnyDoc = Record<string, unknown>;

const EMPTY = new Uint8Array(0);
/** The engine's key limit (SPEC §2): checked per document so one long value rejects only its line. */
const MAX_KEY_BYTES = 65535;
const MAX_ID_BYTES = 1024;

function latin1(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1");
}

/** One document to insert: its `_id` and its validated body (without `_id`). */
export interface RawInsert {
  id: string;
  doc: AnyDoc;
}

export class RawCollection {
  private constructor(
    private readonly store: DocumentStore,
    private meta: CollectionMeta,
  ) {}

  /** The stored collection `name`, or undefined when the catalog has none. */
  static open(store: DocumentStore, name: string): RawCollection | undefined {
    const meta = store.meta(name);
    return meta === undefined ? undefined : new RawCollection(store, meta);
  }

  get name(): string {
    return this.meta.name;
  }

  /** The JSON Schema the application stored (undefined when its schema had none). */
  get jsonSchema(): unknown {
    return this.meta.jsonSchema;
  }

  /** The application's schema declares `_id` itself. */
  get schemaHasId(): boolean {
    return this.meta.schemaHasId;
  }

  /**
   * The documents matching `filter` (validated here: throws InvalidArgumentError on a bad one),
   * through the same planner, indexes and cursor as `Collection.find`, read from one snapshot.
   */
  find(filter: unknown = {}, limit?: number): Cursor<AnyDoc> {
    const matcher = compileFilter(filter);
    return new Cursor<AnyDoc>({
      store: this.store,
      meta: () => this.meta,
      filter: matcher,
      rawFilter: filter,
      sort: [],
      skip: 0,
      limit,
      plan: (meta) => planQuery(meta, matcher, []),
      ready: () => Promise.resolve(),
    });
  }

  /**
   * Inserts the acceptable documents of `items` as ONE batch and resolves, per item, with
   * undefined (written) or the reason it was refused: `UniqueConstraintError` for a taken `_id` or
   * unique value, `InvalidArgumentError` for a bad `_id` or an unindexable value. Rejects (nothing
   * written) only when the batch itself fails in the engine.
   */
  async insertBatch(items: readonly RawInsert[]): Promise<Array<Error | undefined>> {
    const docPrefix = documentPrefix(this.meta.id);
    const changes: KeyChange[] = [];
    const results: Array<Error | undefined> = [];
    /** Document and unique-index keys taken by documents accepted earlier in this batch. */
    const taken = new Map<string, string>();
    const newlyMultikey = new Set<number>();
    for (const { id, doc } of items) {
      try {
        const docChanges = this.prepare(docPrefix, id, doc, taken, newlyMultikey);
        for (const c of docChanges) changes.push(c);
        results.push(undefined);
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        results.push(err);
      }
    }
    let meta: CollectionMeta | undefined;
    if (newlyMultikey.size > 0) {
      meta = cloneMeta(this.meta);
      for (const i of meta.indexes) if (newlyMultikey.has(i.id)) i.multikey = true;
    }
    if (changes.length > 0 || meta !== undefined) {
      await this.store.commit(changes, [], meta);
      if (meta !== undefined) this.meta = meta;
    }
    return results;
  }

  /** The key changes of one insert; throws (registering nothing) when it must be refused. */
  private prepare(docPrefix: Uint8Array, id: string, doc: AnyDoc, taken: Map<string, string>, newlyMultikey: Set<number>): KeyChange[] {
    if (typeof id !== "string" || id.length === 0) throw new InvalidArgumentError("lsmdoc: _id must be a non-empty string");
    if (Buffer.byteLength(id, "utf8") > MAX_ID_BYTES) throw new InvalidArgumentError(`lsmdoc: _id is longer than ${MAX_ID_BYTES} bytes`);
    const key = documentKey(docPrefix, id);
    const k = latin1(key);
    if (taken.has(k) || this.store.readLatest(key) !== undefined) throw new UniqueConstraintError(this.meta.name, "_id", id, id);
    const changes: KeyChange[] = [{ key, value: encodeDocument(doc) }];
    const claims: string[] = [k];
    const multikey: number[] = [];
    const full = { _id: id, ...doc };
    for (const index of this.meta.indexes) {
      if (index.state === "dropping") continue;
      const { entries, multikey: mk } = indexEntries(index, indexPrefix(this.meta.id, index.id), full, id);
      if (mk && !index.multikey) multikey.push(index.id);
      for (const e of entries) {
        if (e.key.length > MAX_KEY_BYTES) throw new InvalidArgumentError(`lsmdoc: a value of index "${index.name}" is too long to index`);
        if (index.unique) {
          const ek = latin1(e.key);
          const latest = this.store.readLatest(e.key);
          const holder = taken.get(ek) ?? (latest === undefined ? undefined : Buffer.from(latest).toString("utf8"));
          if (holder !== undefined && holder !== id) {
            throw new UniqueConstraintError(this.meta.name, index.name, e.values.length === 1 ? e.values[0] : e.values, holder);
          }
          claims.push(ek);
        }
        changes.push({ key: e.key, value: index.unique ? Buffer.from(id, "utf8") : EMPTY });
      }
    }
    // Accepted: only now does the document take its keys.
    for (const c of claims) taken.set(c, id);
    for (const m of multikey) newlyMultikey.add(m);
    return changes;
  }
}
