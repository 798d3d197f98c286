/**
 * Turns document transitions (insert: before undefined; delete: after undefined; update/replace:
 * both) into the key changes of ONE engine batch: the document key and every index entry removed
 * or added, with the checks that must hold for the batch to be written:
 *
 * - an inserted `_id` is not taken (latest state, pending batches included, or earlier in this
 *   batch) -> UniqueConstraintError on index "_id";
 * - every unique-index key added is free, or held by the same document -> UniqueConstraintError;
 * - every index key fits the engine's key limit -> InvalidArgumentError.
 *
 * Used by `Collection` (one call per write: all its transitions or none) and by `RawCollection`
 * (one call per imported document, so a refused line contributes nothing while the others go on).
 * Within one call every removal is applied before any addition, so two documents may swap unique
 * values in one `updateMany`. Indexes being dropped are skipped; indexes being built are maintained.
 */
import { InvalidArgumentError } from "../engine/errors.js";
import { cloneMeta, type CollectionMeta, type IndexMeta } from "./catalog.js";
import { encodeDocument } from "./document-codec.js";
import { UniqueConstraintError } from "./errors.js";
import { indexEntries } from "./index-entries.js";
import type { IndexValue } from "./key-codec.js";
import { documentKey, documentPrefix, indexPrefix } from "./keyspace.js";
import type { DocumentStore, KeyChange } from "./store.js";

type AnyDoc = Record<string, unknown>;

/** One document's change: `before` undefined inserts, `after` undefined deletes. */
export interface Transition {
  id: string;
  before: AnyDoc | undefined;
  after: AnyDoc | undefined;
}

const EMPTY = new Uint8Array(0);
/** The engine's key limit (SPEC §2). */
const MAX_KEY_BYTES = 0xffff;

function latin1(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1");
}

function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}

export class DocumentWriteBuilder {
  /** The key changes accepted so far, in order. */
  readonly changes: KeyChange[] = [];
  /** Document and unique-index keys taken (an id) or freed (null) by accepted transitions. */
  private readonly claimed = new Map<string, string | null>();
  private readonly newlyMultikey = new Set<number>();
  private readonly docPrefix: Uint8Array;

  constructor(
    private readonly store: DocumentStore,
    private readonly meta: CollectionMeta,
  ) {
    this.docPrefix = documentPrefix(meta.id);
  }

  /** Who holds `key`: this batch's claims first, then the latest state. */
  private holder(key: Uint8Array, k: string, decode: (v: Uint8Array) => string): string | null {
    const claimed = this.claimed.get(k);
    if (claimed !== undefined) return claimed;
    const v = this.store.readLatest(key);
    return v === undefined ? null : decode(v);
  }

  /**
   * Adds the changes of `transitions`, all or none: throws (having added nothing) when a check
   * fails.
   */
  add(transitions: readonly Transition[]): void {
    const changes: KeyChange[] = [];
    const claims = new Map<string, string | null>();
    const multikey: number[] = [];
    const additions: Array<{ index: IndexMeta; key: Uint8Array; values: IndexValue[]; id: string }> = [];
    const holderOf = (key: Uint8Array, k: string, decode: (v: Uint8Array) => string): string | null => {
      const local = claims.get(k);
      return local !== undefined ? local : this.holder(key, k, decode);
    };
    for (const t of transitions) {
      const docKey = documentKey(this.docPrefix, t.id);
      if (t.before === undefined) {
        const k = latin1(docKey);
        if (holderOf(docKey, k, () => t.id) !== null) throw new UniqueConstraintError(this.meta.name, "_id", t.id, t.id);
        claims.set(k, t.id);
      }
      changes.push({ key: docKey, value: t.after === undefined ? null : encodeDocument(t.after) });
      for (const index of this.meta.indexes) {
        if (index.state === "dropping") continue;
        const prefix = indexPrefix(this.meta.id, index.id);
        const old = t.before ? indexEntries(index, prefix, t.before, t.id).entries : [];
        const next = t.after ? indexEntries(index, prefix, t.after, t.id) : { entries: [], multikey: false };
        if (next.multikey && !index.multikey) multikey.push(index.id);
        const oldKeys = new Set(old.map((e) => latin1(e.key)));
        const newKeys = new Set(next.entries.map((e) => latin1(e.key)));
        for (const e of old) {
          const k = latin1(e.key);
          if (newKeys.has(k)) continue;
          changes.push({ key: e.key, value: null });
          if (index.unique) claims.set(k, null);
        }
        for (const e of next.entries) {
          if (oldKeys.has(latin1(e.key))) continue;
          if (e.key.length > MAX_KEY_BYTES) throw new InvalidArgumentError(`lsmdoc: a value of index "${index.name}" is too long to index`);
          additions.push({ index, key: e.key, values: e.values, id: t.id });
        }
      }
    }
    // Unique checks only once every removal of these transitions is known.
    for (const a of additions) {
      if (a.index.unique) {
        const k = latin1(a.key);
        const holder = holderOf(a.key, k, utf8);
        if (holder !== null && holder !== a.id) {
          throw new UniqueConstraintError(this.meta.name, a.index.name, a.values.length === 1 ? a.values[0] : a.values, holder);
        }
        claims.set(k, a.id);
      }
      changes.push({ key: a.key, value: a.index.unique ? Buffer.from(a.id, "utf8") : EMPTY });
    }
    for (const c of changes) this.changes.push(c);
    for (const [k, v] of claims) this.claimed.set(k, v);
    for (const m of multikey) this.newlyMultikey.add(m);
  }

  /**
   * Adds the entries `doc` has in `index` alone (an index build over existing documents), all or
   * none: throws on a unique conflict or an over-long key, having added nothing.
   */
  addIndexEntries(index: IndexMeta, doc: AnyDoc, id: string): void {
    const { entries, multikey } = indexEntries(index, indexPrefix(this.meta.id, index.id), doc, id);
    const claims: string[] = [];
    for (const e of entries) {
      if (e.key.length > MAX_KEY_BYTES) throw new InvalidArgumentError(`lsmdoc: a value of index "${index.name}" is too long to index`);
      if (!index.unique) continue;
      const k = latin1(e.key);
      const holder = this.holder(e.key, k, utf8);
      if (holder !== null && holder !== id) {
        throw new UniqueConstraintError(this.meta.name, index.name, e.values.length === 1 ? e.values[0] : e.values, holder);
      }
      claims.push(k);
    }
    for (const e of entries) this.changes.push({ key: e.key, value: index.unique ? Buffer.from(id, "utf8") : EMPTY });
    for (const k of claims) this.claimed.set(k, id);
    if (multikey && !index.multikey) this.newlyMultikey.add(index.id);
  }

  /** The collection's metadata with the indexes that first saw an array marked, or undefined. */
  metaUpdate(): CollectionMeta | undefined {
    if (this.newlyMultikey.size === 0) return undefined;
    const meta = cloneMeta(this.meta);
    for (const i of meta.indexes) if (this.newlyMultikey.has(i.id)) i.multikey = true;
    return meta;
  }
}
