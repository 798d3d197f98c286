/**
 * A collection: documents of one zod schema with their secondary indexes (SPEC §3).
 *
 * Every method that writes follows the same steps: validate its arguments (throwing before
 * anything is read), wait until the collection's index builds are done, then compute the write
 * synchronously from the latest state (the store's pending overlay included) and hand it to the
 * store as ONE engine batch: document key, every index entry added or removed, and the catalog when
 * an index first sees an array. Nothing is written when any check fails. Change events follow the
 * commit (see change-events.ts).
 *
 * Index definitions are reconciled with the catalog when the collection is opened: new indexes are
 * built from the existing documents in bounded batches, removed ones have their entries deleted.
 * Both are recorded in the catalog first ("building", "dropping") so that an interrupted build or
 * drop is redone on the next open.
 */
import { EventEmitter } from "eventemitter3";
import { z } from "zod";
import { InvalidArgumentError } from "../engine/errors.js";
import { cloneMeta, type CollectionMeta, type IndexMeta } from "./catalog.js";
import type { ChangeEvent, EventBatch } from "./change-events.js";
import { candidates, countMatches, Cursor, type CursorSpec } from "./cursor.js";
import { decodeDocument } from "./document-codec.js";
import { DocumentWriteBuilder, type Transition } from "./document-writes.js";
import { ValidationError } from "./errors.js";
import { compileFilter, type CompiledFilter } from "./filter.js";
import { decodeEncodedString, documentKey, documentPrefix, indexPrefix, prefixRange } from "./keyspace.js";
import { KeyWriter, type IndexValue } from "./key-codec.js";
import { utf8String } from "./byte-strings.js";
import { generateId } from "./object-id.js";
import { isPlainObject, parsePath } from "./paths.js";
import { planQuery, type SortSpec } from "./planner.js";
import type { DocumentStore, KeyChange } from "./store.js";
import type { Doc, DocumentSchema, Filter, FindOptions, IndexDefinition, InsertDoc, Update } from "./types.js";
import { compileUpdate } from "./update.js";

type AnyDoc = Record<string, unknown>;

/** Options of `db.collection()`. */
export interface CollectionOptions<T> {
  /** Secondary indexes. Adding one builds it; removing one deletes its entries. */
  indexes?: readonly IndexDefinition<T>[];
}

/** Events a collection emits. */
export interface CollectionEvents<D> {
  change: (event: ChangeEvent<D>) => void;
}

const MAX_ID_BYTES = 1024;
/** Documents per batch when building or dropping an index. */
const BUILD_BATCH = 512;

function indexName(def: { fields: readonly string[]; name?: string }): string {
  return def.name ?? def.fields.join("_");
}

/** Converted schemas: a reopened database declares its collections with the same schema objects. */
const jsonSchemas = new WeakMap<DocumentSchema, { json: unknown }>();

/**
 * JSON Schema of what a writer may send, for tools that run without the application (the CLI).
 * Converting takes ~0.4 ms for a small schema, a good part of a close + reopen, so it is done once
 * per schema object; the result is only ever encoded into the catalog, never modified.
 */
function jsonSchemaOf(schema: DocumentSchema): unknown {
  let cached = jsonSchemas.get(schema);
  if (cached === undefined) {
    let json: unknown;
    try {
      json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
    } catch {
      json = undefined; // Not expressible: the CLI then checks types only.
    }
    cached = { json };
    jsonSchemas.set(schema, cached);
  }
  return cached.json;
}

/**
 * Typed access to one collection. Obtained from `db.collection(name, schema, { indexes })`.
 *
 * @example
 * ```ts
 * const users = db.collection("users", User, { indexes: [{ fields: ["email"], unique: true }] });
 * const ada = await users.insert({ name: "Ada", email: "ada@x.io", age: 36, city: "London" });
 * await users.update(ada._id, { $inc: { logins: 1 } });
 * const londoners = await users.find({ city: "London" }, { sort: { age: 1 } }).toArray();
 * ```
 */
export class Collection<S extends DocumentSchema> {
  /** The collection's name. */
  readonly name: string;
  /** The collection's schema. */
  readonly schema: S;
  private readonly emitter = new EventEmitter<CollectionEvents<Doc<S>>>();
  private meta: CollectionMeta;
  private readonly docPrefix: Uint8Array;
  private readonly preparation: Promise<void>;
  private readonly readyPromise: Promise<void>;
  /** Preparation failed in a way that leaves the collection unusable (e.g. an I/O error). */
  private failed: unknown = undefined;
  /** An index build failed (e.g. duplicates under a new unique index); the index was removed. */
  private buildFailure: unknown = undefined;

  /** @internal Use `db.collection()`. */
  constructor(
    private readonly store: DocumentStore,
    name: string,
    schema: S,
    options: CollectionOptions<Doc<S>> = {},
  ) {
    this.name = name;
    this.schema = schema;
    const defs = validateOptions(name, options);
    const existing = store.meta(name);
    const meta: CollectionMeta = existing
      ? cloneMeta(existing)
      : { id: store.allocateCollectionId(), name, nextIndexId: 1, indexes: [], jsonSchema: undefined, schemaHasId: false };
    meta.schemaHasId = "_id" in schema.shape;
    meta.jsonSchema = jsonSchemaOf(schema);
    // Reconcile indexes: same name and definition -> keep; otherwise drop the old, build the new.
    const wanted = new Map(defs.map((d) => [indexName(d), d]));
    for (const idx of meta.indexes) {
      const d = wanted.get(idx.name);
      const same = d !== undefined && idx.state !== "dropping" && d.unique === idx.unique && d.fields.join("\0") === idx.fields.join("\0");
      if (same) wanted.delete(idx.name);
      else idx.state = "dropping";
      if (same && idx.state === "building") idx.multikey = false; // A rebuild recomputes it.
    }
    for (const [n, d] of wanted) {
      meta.indexes.push({ id: meta.nextIndexId++, name: n, fields: [...d.fields], unique: d.unique, state: "building", multikey: false });
    }
    this.meta = meta;
    this.docPrefix = documentPrefix(meta.id);
    // Tracked by the store, so that close() waits for index builds in progress.
    this.preparation = store.run(() => this.prepare(existing)).then(
      () => {
        this.preparedDone = true;
      },
      (err: unknown) => {
        this.failed = err;
      },
    );
    this.readyPromise = this.preparation.then(() => {
      if (this.failed !== undefined) throw this.failed;
      if (this.buildFailure !== undefined) throw this.buildFailure;
    });
    // Failures surface through ready() and later calls; an unobserved one must not crash the process.
    this.readyPromise.catch(() => undefined);
  }

  // ------------------------------------------------------------------ preparation

  /**
   * Resolves once every index of the collection is built. Rejects if a build failed, for example
   * with `UniqueConstraintError` when a new unique index meets duplicate values; the failed index
   * is then removed and the collection stays usable without it.
   */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  private async prepare(existing: CollectionMeta | undefined): Promise<void> {
    const changed = existing === undefined || JSON.stringify(existing) !== JSON.stringify(this.meta);
    if (changed) await this.store.commit([], [], cloneMeta(this.meta));
    for (const idx of this.meta.indexes.filter((i) => i.state === "dropping")) {
      await this.deleteRange(indexPrefix(this.meta.id, idx.id));
      const next = cloneMeta(this.meta);
      next.indexes = next.indexes.filter((i) => i.id !== idx.id);
      await this.store.commit([], [], next);
      this.meta = next;
    }
    for (const idx of this.meta.indexes.filter((i) => i.state === "building")) {
      const prefix = indexPrefix(this.meta.id, idx.id);
      await this.deleteRange(prefix); // Entries of an interrupted build.
      try {
        await this.buildIndex(idx);
      } catch (err) {
        // Leave no half-built index behind: drop its entries and its definition.
        await this.deleteRange(prefix);
        const next = cloneMeta(this.meta);
        next.indexes = next.indexes.filter((i) => i.id !== idx.id);
        await this.store.commit([], [], next);
        this.meta = next;
        this.buildFailure ??= err;
        continue;
      }
      const next = cloneMeta(this.meta);
      const built = next.indexes.find((i) => i.id === idx.id)!;
      built.state = "ready";
      await this.store.commit([], [], next);
      this.meta = next;
    }
  }

  private async deleteRange(prefix: Uint8Array): Promise<void> {
    const range = prefixRange(prefix);
    for (;;) {
      const it = this.store.kv.iterate({ gte: range.gte, lt: range.lt, limit: BUILD_BATCH * 4 });
      const changes: KeyChange[] = [];
      for (let e = it.nextSync(); e !== undefined; e = it.nextSync()) changes.push({ key: e[0], value: null });
      if (changes.length === 0) return;
      await this.store.commit(changes, []);
    }
  }

  private async buildIndex(index: IndexMeta): Promise<void> {
    const range = prefixRange(this.docPrefix);
    let after: Uint8Array | undefined;
    for (;;) {
      const it = this.store.kv.iterate(after ? { gt: after, lt: range.lt, limit: BUILD_BATCH } : { gte: range.gte, lt: range.lt, limit: BUILD_BATCH });
      // The current metadata each batch: an earlier batch may have marked the index multikey.
      const builder = new DocumentWriteBuilder(this.store, this.meta);
      const current = this.meta.indexes.find((i) => i.id === index.id)!;
      let n = 0;
      for (let e = it.nextSync(); e !== undefined; e = it.nextSync()) {
        n++;
        after = e[0];
        const id = decodeIdFromDocKey(e[0], this.docPrefix.length);
        builder.addIndexEntries(current, decodeDocument(id, e[1]), id);
      }
      if (n === 0) return;
      const meta = builder.metaUpdate();
      await this.store.commit(builder.changes, [], meta);
      if (meta !== undefined) this.meta = meta;
    }
  }

  private async prepared(): Promise<void> {
    await this.preparation;
    if (this.failed !== undefined) throw this.failed;
  }

  /** Preparation finished without leaving the collection unusable. */
  private preparedDone = false;

  /** @internal An index build failed: `db.collection()` may open the collection afresh. */
  get hasBuildFailure(): boolean {
    return this.buildFailure !== undefined || this.failed !== undefined;
  }

  // ------------------------------------------------------------------ validation

  /**
   * Checks `input` against the schema. `doc` is the stored document (`_id` first); `body` is the
   * same without `_id` when it was cheap to keep (it is what gets encoded); `generated` says the id
   * was generated here.
   */
  private validate(input: unknown, givenId?: string): { id: string; doc: AnyDoc; body: AnyDoc | undefined; generated: boolean } {
    if (!isPlainObject(input)) {
      throw new InvalidArgumentError(`lsmdoc: a document for "${this.name}" must be a plain object, got ${input === null ? "null" : typeof input}`);
    }
    let id: unknown;
    let result;
    if (this.meta.schemaHasId) {
      result = this.schema.safeParse(input);
      id = result.success ? (result.data as AnyDoc)._id : undefined;
    } else if ("_id" in input) {
      const { _id, ...rest } = input;
      id = _id;
      result = this.schema.safeParse(rest);
    } else {
      result = this.schema.safeParse(input);
    }
    if (!result.success) {
      throw new ValidationError(
        this.name,
        result.error.issues.map((i) => ({ path: [...i.path], code: i.code, message: i.message })),
      );
    }
    if (givenId !== undefined) {
      if (id !== undefined && id !== givenId) throw new InvalidArgumentError(`lsmdoc: replace() of ${givenId} got a document with _id ${String(id)}`);
      id = givenId;
    }
    const generated = id === undefined;
    if (generated) id = generateId();
    checkId(id);
    const data = result.data as AnyDoc;
    if (this.meta.schemaHasId) {
      const { _id, ...rest } = data;
      return { id, doc: { _id: id, ...rest }, body: rest, generated };
    }
    // The schema has no _id, so its output has none: `data` is the body as it is.
    return { id, doc: { _id: id, ...data }, body: data, generated };
  }

  // ------------------------------------------------------------------ index maintenance

  /**
   * Builds and commits one batch for several document transitions. Throws (nothing written) on a
   * taken `_id` or unique value, or an unindexable value (see document-writes.ts).
   */
  private writeDocuments(transitions: Transition[]): Promise<number> {
    const builder = new DocumentWriteBuilder(this.store, this.meta);
    builder.add(transitions);
    const meta = builder.metaUpdate();
    if (meta !== undefined) this.meta = meta;
    const events: EventBatch = {
      target: this.emitter as unknown as EventEmitter,
      build: () =>
        transitions.map((t) =>
          t.before === undefined
            ? { collection: this.name, type: "insert" as const, id: t.id, doc: t.after! }
            : t.after === undefined
              ? { collection: this.name, type: "delete" as const, id: t.id, prev: t.before }
              : { collection: this.name, type: "update" as const, id: t.id, doc: t.after, prev: t.before },
        ),
    };
    return this.store.commit(builder.changes, events, meta);
  }

  private latest(id: string): AnyDoc | undefined {
    const bytes = this.store.readLatest(documentKey(this.docPrefix, id));
    return bytes === undefined ? undefined : decodeDocument(id, bytes);
  }

  // ------------------------------------------------------------------ writes

  /**
   * Validates and inserts a document; resolves with the stored document (defaults applied, `_id`
   * generated when absent) once it is durable.
   *
   * @throws ValidationError when the document fails the schema (nothing written).
   * @throws UniqueConstraintError when `_id` or a unique index value is taken (nothing written).
   */
  insert(doc: InsertDoc<S>): Promise<Doc<S>> {
    return this.store.run(async () => {
      const { id, doc: stored, body, generated } = this.validate(doc);
      await this.prepared();
      await this.writeDocuments([{ id, before: undefined, after: stored, body, generatedId: generated }]);
      return stored as Doc<S>;
    });
  }

  /** Inserts every document or none (one batch, one seq). Resolves with the stored documents. */
  insertMany(docs: readonly InsertDoc<S>[]): Promise<Doc<S>[]> {
    return this.store.run(async () => {
      if (!Array.isArray(docs)) throw new InvalidArgumentError("lsmdoc: insertMany() takes an array of documents");
      const prepared = docs.map((d) => this.validate(d));
      await this.prepared();
      if (prepared.length > 0) {
        await this.writeDocuments(prepared.map((p) => ({ id: p.id, before: undefined, after: p.doc, body: p.body, generatedId: p.generated })));
      }
      return prepared.map((p) => p.doc as Doc<S>);
    });
  }

  /**
   * Applies update operators to the document with `_id` `id`, validates the result with the schema
   * and writes it. Resolves with the new document, or undefined when there is no such document.
   */
  update(id: string, update: Update<Doc<S>>): Promise<Doc<S> | undefined> {
    return this.store.run(async () => {
      checkId(id);
      const compiled = compileUpdate(update);
      await this.prepared();
      const before = this.latest(id);
      if (before === undefined) return undefined;
      const { doc: after, body } = this.validate(compiled.apply(before), id);
      await this.writeDocuments([{ id, before, after, body }]);
      return after as Doc<S>;
    });
  }

  /** Applies `update` to every document matching `filter` in one batch. Resolves with the count. */
  updateMany(filter: Filter<Doc<S>>, update: Update<Doc<S>>): Promise<number> {
    return this.store.run(async () => {
      const matcher = compileFilter(filter);
      const compiled = compileUpdate(update);
      await this.prepared();
      const transitions = this.matchingLatest(matcher).map((before) => ({
        id: before._id as string,
        before,
        after: this.validate(compiled.apply(before), before._id as string).doc,
      }));
      if (transitions.length > 0) await this.writeDocuments(transitions);
      return transitions.length;
    });
  }

  /**
   * Replaces the whole document `id` with `doc` (validated). Resolves with the new document, or
   * undefined when there is no such document.
   */
  replace(id: string, doc: InsertDoc<S>): Promise<Doc<S> | undefined> {
    return this.store.run(async () => {
      checkId(id);
      const { doc: after } = this.validate(doc, id);
      await this.prepared();
      const before = this.latest(id);
      if (before === undefined) return undefined;
      await this.writeDocuments([{ id, before, after }]);
      return after as Doc<S>;
    });
  }

  /** Deletes the document `id`; resolves with true when it existed. */
  delete(id: string): Promise<boolean> {
    return this.store.run(async () => {
      checkId(id);
      await this.prepared();
      const before = this.latest(id);
      if (before === undefined) return false;
      await this.writeDocuments([{ id, before, after: undefined }]);
      return true;
    });
  }

  /** Deletes every document matching `filter` in one batch; resolves with the count. */
  deleteMany(filter: Filter<Doc<S>>): Promise<number> {
    return this.store.run(async () => {
      const matcher = compileFilter(filter);
      await this.prepared();
      const transitions = this.matchingLatest(matcher).map((before) => ({ id: before._id as string, before, after: undefined }));
      if (transitions.length > 0) await this.writeDocuments(transitions);
      return transitions.length;
    });
  }

  /**
   * Latest versions (pending writes included) of the documents matching `matcher`: candidates come
   * from the committed state through the query plan, then each is re-read at its latest and
   * re-checked, so a write computed now never acts on a stale document.
   */
  private matchingLatest(matcher: CompiledFilter): AnyDoc[] {
    const snapshot = this.store.kv.snapshot();
    try {
      const plan = planQuery(this.meta, matcher, []);
      const out: AnyDoc[] = [];
      const ids = new Set<string>();
      for (const committed of candidates(this.store, this.meta, plan, ANY, snapshot)) ids.add(committed._id as string);
      // Documents written by batches not committed yet may match only in their latest version.
      for (const key of this.store.pendingKeys(this.docPrefix)) ids.add(decodeIdFromDocKey(key, this.docPrefix.length));
      for (const id of ids) {
        const doc = this.latest(id);
        if (doc !== undefined && matcher.matches(doc)) out.push(doc);
      }
      return out;
    } finally {
      snapshot.release();
    }
  }

  // ------------------------------------------------------------------ reads

  /** The document with `_id` `id`, or undefined. */
  get(id: string): Promise<Doc<S> | undefined> {
    if (this.preparedDone && this.store.isOpen) {
      // Nothing to wait for: read now, without an async step or tracking for close().
      try {
        return Promise.resolve(this.readDocument(id));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.store.run(async () => {
      await this.prepared();
      return this.readDocument(id);
    });
  }

  private readDocument(id: string): Doc<S> | undefined {
    checkId(id);
    const bytes = this.store.kv.getSync(documentKey(this.docPrefix, id));
    return bytes === undefined ? undefined : (decodeDocument(id, bytes) as Doc<S>);
  }

  private cursorSpec(matcher: CompiledFilter, rawFilter: unknown, sort: SortSpec, skip: number, limit: number | undefined): CursorSpec {
    return {
      store: this.store,
      meta: () => this.meta,
      filter: matcher,
      rawFilter,
      sort,
      skip,
      limit,
      plan: (meta) => planQuery(meta, matcher, sort),
      ready: () => this.prepared(),
    };
  }

  /**
   * The documents matching `filter`, as a cursor: `await cursor.toArray()` or `for await`. Reads
   * one consistent snapshot. `explain()` on the cursor shows the plan.
   */
  find(filter: Filter<Doc<S>> = {}, options: FindOptions<Doc<S>> = {}): Cursor<Doc<S>> {
    const matcher = compileFilter(filter);
    const { sort, skip, limit } = validateFindOptions(options);
    return new Cursor<Doc<S>>(this.cursorSpec(matcher, filter, sort, skip, limit));
  }

  /** The first document matching `filter` (in `sort` order when given), or undefined. */
  findOne(filter: Filter<Doc<S>> = {}, options: Omit<FindOptions<Doc<S>>, "limit"> = {}): Promise<Doc<S> | undefined> {
    if (this.preparedDone && this.store.isOpen && isEmptyObject(options)) {
      // Nothing to wait for: the common lookup by a unique key reads now, as get() does.
      try {
        const found = this.uniqueLookup(filter);
        if (found !== NO_SHORTCUT) return Promise.resolve(found as Doc<S> | undefined);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.store.run(async () => {
      if (options === null || typeof options !== "object") throw new InvalidArgumentError("lsmdoc: find options must be an object");
      const [first] = await this.find(filter, { ...options, limit: 1 }).toArray();
      return first;
    });
  }

  /**
   * findOne's shortcut for `{ field: value }` with a string, finite number or boolean value, where
   * `field` is `_id` or the one field of a ready unique index: at most two point reads, without
   * compiling the filter or planning. What it returns is what the planner's point-read plan finds
   * (an index key holds exactly the value; equality on these types means equal keys), so the
   * general path is only skipped, never changed. NO_SHORTCUT for every other filter.
   */
  private uniqueLookup(filter: unknown): AnyDoc | undefined | typeof NO_SHORTCUT {
    if (!isPlainObject(filter)) return NO_SHORTCUT;
    let field: string | undefined;
    for (const k in filter) {
      if (field !== undefined) return NO_SHORTCUT;
      field = k;
    }
    if (field === undefined || !Object.hasOwn(filter, field)) return NO_SHORTCUT;
    const value = filter[field];
    const type = typeof value;
    if (!(type === "string" || type === "boolean" || (type === "number" && Number.isFinite(value)))) return NO_SHORTCUT;
    if (field === "_id") {
      if (type !== "string" || (value as string).length === 0 || (value as string).length * 3 > MAX_ID_BYTES) return NO_SHORTCUT;
      return this.readDocument(value as string);
    }
    const index = this.meta.indexes.find((i) => i.unique && i.state === "ready" && i.fields.length === 1 && i.fields[0] === field);
    if (index === undefined) return NO_SHORTCUT;
    const key = lookupKeyWriter.reset().writeRaw(indexPrefix(this.meta.id, index.id)).writeValue(value as IndexValue, field).finish();
    const id = this.store.kv.getSync(key);
    return id === undefined ? undefined : this.readDocument(utf8String(id));
  }

  /** How many documents match `filter`. */
  count(filter: Filter<Doc<S>> = {}): Promise<number> {
    return this.store.run(async () => {
      const matcher = compileFilter(filter);
      return countMatches(this.cursorSpec(matcher, filter, [], 0, undefined));
    });
  }

  // ------------------------------------------------------------------ events

  /** Listens for changes to this collection's documents (after each write is durable). */
  on(event: "change", listener: (event: ChangeEvent<Doc<S>>) => void): this {
    this.emitter.on(event, listener);
    return this;
  }

  /** Removes a listener added with `on`. */
  off(event: "change", listener: (event: ChangeEvent<Doc<S>>) => void): this {
    this.emitter.off(event, listener);
    return this;
  }

  /** Index names and their state, for tools and tests. */
  indexes(): Array<{ name: string; fields: string[]; unique: boolean; state: string; multikey: boolean }> {
    return this.meta.indexes.map((i) => ({ name: i.name, fields: [...i.fields], unique: i.unique, state: i.state, multikey: i.multikey }));
  }

  /** @internal Same definitions as this instance (for `db.collection()` called twice). */
  sameDefinition(schema: DocumentSchema, options: unknown): boolean {
    const defs = validateOptions(this.name, options);
    const mine = this.meta.indexes.filter((i) => i.state !== "dropping");
    return (
      schema === this.schema &&
      defs.length === mine.length &&
      defs.every((d) => mine.some((i) => i.name === indexName(d) && i.unique === d.unique && i.fields.join("\0") === d.fields.join("\0")))
    );
  }
}

/** _id of a document key: the key-codec string after the collection's prefix. */
function decodeIdFromDocKey(key: Uint8Array, prefixLength: number): string {
  return decodeEncodedString(key, prefixLength, key.length);
}

/** A filter that accepts everything: candidates are re-checked at their latest version instead. */
const ANY: CompiledFilter = { matches: () => true, sargable: { conjunctive: true, conditions: [] } };

/** What uniqueLookup returns when the filter needs the general path. */
const NO_SHORTCUT: unique symbol = Symbol("lsmdoc.no-shortcut");
const lookupKeyWriter = new KeyWriter();

function isEmptyObject(v: unknown): boolean {
  if (v === null || typeof v !== "object") return false;
  for (const _ in v) return false;
  return true;
}

function checkId(id: unknown): asserts id is string {
  if (typeof id !== "string" || id.length === 0) {
    throw new InvalidArgumentError(`lsmdoc: _id must be a non-empty string, got ${id === "" ? '""' : typeof id}`);
  }
  if (Buffer.byteLength(id, "utf8") > MAX_ID_BYTES) throw new InvalidArgumentError(`lsmdoc: _id is longer than ${MAX_ID_BYTES} bytes`);
}

function validateOptions(name: string, options: unknown): Array<{ fields: string[]; unique: boolean; name?: string }> {
  if (options === null || typeof options !== "object") throw new InvalidArgumentError(`lsmdoc: options of collection "${name}" must be an object`);
  for (const k of Object.keys(options)) {
    if (k !== "indexes") throw new InvalidArgumentError(`lsmdoc: unknown option "${k}" for collection "${name}"`);
  }
  const defs = (options as { indexes?: unknown }).indexes ?? [];
  if (!Array.isArray(defs)) throw new InvalidArgumentError(`lsmdoc: indexes of collection "${name}" must be an array`);
  const names = new Set<string>();
  return defs.map((d, i) => {
    if (!isPlainObject(d)) throw new InvalidArgumentError(`lsmdoc: index ${i} of "${name}" must be an object`);
    for (const k of Object.keys(d)) {
      if (k !== "fields" && k !== "unique" && k !== "name") throw new InvalidArgumentError(`lsmdoc: unknown index option "${k}" (index ${i} of "${name}")`);
    }
    const fields = d.fields as unknown;
    if (!Array.isArray(fields) || fields.length === 0) throw new InvalidArgumentError(`lsmdoc: index ${i} of "${name}" needs a non-empty fields array`);
    for (const f of fields) {
      parsePath(f, `lsmdoc: index ${i} of "${name}"`);
      if (f === "_id") throw new InvalidArgumentError(`lsmdoc: index ${i} of "${name}": documents are already keyed by _id`);
    }
    if (new Set(fields).size !== fields.length) throw new InvalidArgumentError(`lsmdoc: index ${i} of "${name}" repeats a field`);
    const unique = d.unique ?? false;
    if (typeof unique !== "boolean") throw new InvalidArgumentError(`lsmdoc: index ${i} of "${name}": unique must be a boolean`);
    if (d.name !== undefined && (typeof d.name !== "string" || d.name.length === 0)) throw new InvalidArgumentError(`lsmdoc: index ${i} of "${name}": name must be a non-empty string`);
    const def = { fields: [...(fields as string[])], unique, name: d.name as string | undefined };
    const n = indexName(def);
    if (names.has(n)) throw new InvalidArgumentError(`lsmdoc: collection "${name}" defines index "${n}" twice`);
    names.add(n);
    return def;
  });
}

function validateFindOptions(options: FindOptions<never>): { sort: SortSpec; skip: number; limit: number | undefined } {
  if (options === null || typeof options !== "object") throw new InvalidArgumentError("lsmdoc: find options must be an object");
  for (const k of Object.keys(options)) {
    if (k !== "sort" && k !== "skip" && k !== "limit") throw new InvalidArgumentError(`lsmdoc: unknown find option "${k}"`);
  }
  const nonNegative = (what: string, v: unknown): number => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw new InvalidArgumentError(`lsmdoc: ${what} must be a non-negative integer, got ${String(v)}`);
    return v;
  };
  const skip = options.skip === undefined ? 0 : nonNegative("skip", options.skip);
  const limit = options.limit === undefined ? undefined : nonNegative("limit", options.limit);
  const sort: Array<readonly [string, 1 | -1]> = [];
  if (options.sort !== undefined) {
    if (!isPlainObject(options.sort)) throw new InvalidArgumentError("lsmdoc: sort must be an object of field: 1 | -1");
    for (const [path, dir] of Object.entries(options.sort)) {
      parsePath(path, "lsmdoc: sort");
      if (dir !== 1 && dir !== -1) throw new InvalidArgumentError(`lsmdoc: sort direction of "${path}" must be 1 or -1, got ${String(dir)}`);
      sort.push([path, dir]);
    }
  }
  return { sort, skip, limit };
}

