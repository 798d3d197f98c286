/**
 * A stored collection reached through its catalog entry alone, for tools that run without the
 * application's code (the `lsmdoc` CLI): queries with the library's planner and cursor, and bulk
 * inserts of documents that the caller has already validated.
 *
 * Invariants, the same as `Collection`'s (both build their batches with document-writes.ts):
 * - every batch handed to the store holds each accepted document and every entry it adds to every
 *   index that is not being dropped, plus the catalog entry when an index first sees an array; a
 *   document that fails a check contributes nothing;
 * - the catalog entry is otherwise left alone: its JSON Schema belongs to the application
 *   (SPEC §5: refreshed when application code opens the collection, never by a tool).
 */
import { InvalidArgumentError } from "../engine/errors.js";
import type { CollectionMeta } from "./catalog.js";
import { Cursor } from "./cursor.js";
import { DocumentWriteBuilder } from "./document-writes.js";
import { compileFilter } from "./filter.js";
import { planQuery } from "./planner.js";
import type { DocumentStore } from "./store.js";

type AnyDoc = Record<string, unknown>;

const MAX_ID_BYTES = 1024;

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
    const builder = new DocumentWriteBuilder(this.store, this.meta);
    const results: Array<Error | undefined> = [];
    for (const { id, doc } of items) {
      try {
        if (typeof id !== "string" || id.length === 0) throw new InvalidArgumentError("lsmdoc: _id must be a non-empty string");
        if (Buffer.byteLength(id, "utf8") > MAX_ID_BYTES) throw new InvalidArgumentError(`lsmdoc: _id is longer than ${MAX_ID_BYTES} bytes`);
        // One call per document: a refused document contributes nothing, the others go on.
        builder.add([{ id, before: undefined, after: { _id: id, ...doc } }]);
        results.push(undefined);
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        results.push(err);
      }
    }
    const meta = builder.metaUpdate();
    if (builder.changes.length > 0 || meta !== undefined) {
      await this.store.commit(builder.changes, [], meta);
      if (meta !== undefined) this.meta = meta;
    }
    return results;
  }
}
