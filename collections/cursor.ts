/**
 * Query execution: a {@link Cursor} runs a {@link QueryPlan} against one engine snapshot (taken
 * when reading starts, released when the cursor ends), re-checks every candidate with the full
 * filter, and applies sort, skip and limit. Results stream: documents are read from the engine
 * as the cursor is pulled, except when the sort must be done in memory, where at most skip + limit
 * documents are kept (a bounded top-k) when a limit is given.
 */
import type { KvCursor, KvSnapshot } from "./kv-store.js";
import type { CollectionMeta } from "./catalog.js";
import type { CompiledFilter } from "./filter.js";
import { decodeDocument } from "./document-codec.js";
import { compareIndexValues, type IndexValue } from "./key-codec.js";
import { decodeEncodedString, documentKey, documentPrefix, skipEncodedValue } from "./keyspace.js";
import { getPathValues, MISSING, parsePath } from "./paths.js";
import type { QueryPlan, SortSpec } from "./planner.js";
import type { DocumentStore } from "./store.js";
import { CorruptionError } from "../engine/errors.js";
import { utf8String } from "./byte-strings.js";

type AnyDoc = Record<string, unknown>;

/** What `explain()` reports about a query. */
export interface QueryExplanation {
  strategy: QueryPlan["strategy"];
  /** Name of the index used, when the strategy is "index". */
  index: string | undefined;
  /** Index fields and what bounds them. */
  bounds: QueryPlan["bounds"];
  /** Number of key ranges read, and the ranges as hex (lt absent = to the end of the keyspace). */
  keyRanges: Array<{ gte: string; lt: string | undefined }>;
  /** Read backwards (a descending sort served by the index or `_id` order). */
  reverse: boolean;
  /** The filter every candidate document is checked against. */
  residualFilter: unknown;
  /** The sort is done in memory (no index yields the order). */
  sortInMemory: boolean;
  sort: Record<string, 1 | -1> | undefined;
  skip: number;
  limit: number | undefined;
}

export interface CursorSpec {
  store: DocumentStore;
  meta: () => CollectionMeta;
  filter: CompiledFilter;
  rawFilter: unknown;
  sort: SortSpec;
  skip: number;
  limit: number | undefined;
  plan: (meta: CollectionMeta) => QueryPlan;
  /** Resolves when the collection's indexes are ready. */
  ready: () => Promise<void>;
}

const ALLOWED_SORT_TYPES = new Set(["object", "boolean", "number", "string"]);

function sortValue(doc: AnyDoc, path: string[], dir: 1 | -1): IndexValue {
  let best: IndexValue = null;
  let seen = false;
  const consider = (v: unknown): void => {
    const iv: IndexValue =
      v === MISSING || v === undefined || v === null || !ALLOWED_SORT_TYPES.has(typeof v) || (typeof v === "object" && !(v instanceof Date) && !(v instanceof Uint8Array))
        ? null
        : (v as IndexValue);
    if (!seen || compareIndexValues(iv, best) * dir < 0) best = iv;
    seen = true;
  };
  for (const v of getPathValues(doc, path)) {
    if (Array.isArray(v)) {
      if (v.length === 0) consider(null);
      else for (const el of v) consider(el);
    } else consider(v);
  }
  return best;
}

function comparator(sort: SortSpec): (a: AnyDoc, b: AnyDoc) => number {
  const keys = sort.map(([p, d]) => [parsePath(p), d] as const);
  return (a, b) => {
    for (const [path, dir] of keys) {
      const c = compareIndexValues(sortValue(a, path, dir), sortValue(b, path, dir));
      if (c !== 0) return c * dir;
    }
    // Deterministic order for ties.
    return (a._id as string) < (b._id as string) ? -1 : (a._id as string) > (b._id as string) ? 1 : 0;
  };
}

/** A cursor over the one entry a point lookup found. */
function pointCursor(key: Uint8Array, value: Uint8Array): KvCursor {
  let done = false;
  return {
    nextSync: () => {
      if (done) return undefined;
      done = true;
      return [key, value];
    },
    return: () => undefined,
  };
}

/**
 * Reads the candidate documents of `plan` at `snapshot`, in the plan's order, filtered. Without a
 * snapshot it reads the latest state, which is consistent only while the caller pulls every
 * document in one synchronous run.
 */
export function* candidates(store: DocumentStore, meta: CollectionMeta, plan: QueryPlan, filter: CompiledFilter, snapshot: KvSnapshot | undefined): Generator<AnyDoc> {
  const kv = store.kv;
  const docPrefix = documentPrefix(meta.id);
  const seen = plan.dedupe ? new Set<string>() : undefined;
  const index = plan.index;
  for (const range of plan.ranges) {
    let it: KvCursor;
    if (plan.pointReads) {
      const value = kv.getSync(range.gte, snapshot);
      if (value === undefined) continue;
      it = pointCursor(range.gte, value);
    } else {
      it = kv.iterate({ gte: range.gte, lt: range.lt, reverse: plan.reverse, snapshot });
    }
    try {
      for (let e = it.nextSync(); e !== undefined; e = it.nextSync()) {
        const [key, value] = e;
        let id: string;
        let doc: AnyDoc;
        if (index === undefined) {
          id = decodeEncodedString(key, docPrefix.length, key.length);
          doc = decodeDocument(id, value);
        } else {
          if (index.unique) {
            id = utf8String(value);
          } else {
            let pos = 7;
            for (let f = 0; f < index.fields.length && pos >= 0; f++) pos = skipEncodedValue(key, pos);
            const end = pos >= 0 ? skipEncodedValue(key, pos) : -1;
            if (end !== key.length) throw new CorruptionError("(index entry)", 0, `malformed key in index "${index.name}"`);
            id = decodeEncodedString(key, pos, end);
          }
          if (seen !== undefined) {
            if (seen.has(id)) continue;
            seen.add(id);
          }
          const body = kv.getSync(documentKey(docPrefix, id), snapshot);
          if (body === undefined) continue;
          doc = decodeDocument(id, body);
        }
        if (filter.matches(doc)) yield doc;
      }
    } finally {
      void it.return();
    }
  }
}

/**
 * The result of `find()`: iterate it with `for await`, or collect it with `toArray()`. A cursor
 * runs once; `explain()` describes the plan without reading documents.
 *
 * @example
 * ```ts
 * for await (const u of users.find({ age: { $gte: 30 } }, { sort: { age: 1 }, limit: 10 })) {
 *   console.log(u.name);
 * }
 * ```
 */
export class Cursor<D> implements AsyncIterable<D> {
  private started = false;

  /** @internal */
  constructor(private readonly spec: CursorSpec) {}

  /** Describes how the query will run: access path, key ranges, residual filter, sort. */
  explain(): QueryExplanation {
    const s = this.spec;
    const plan = s.plan(s.meta());
    const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
    return {
      strategy: plan.strategy,
      index: plan.index?.name,
      bounds: plan.bounds,
      keyRanges: plan.ranges.map((r) => ({ gte: hex(r.gte), lt: r.lt && hex(r.lt) })),
      reverse: plan.reverse,
      residualFilter: s.rawFilter,
      sortInMemory: plan.sortInMemory,
      sort: s.sort.length > 0 ? Object.fromEntries(s.sort) : undefined,
      skip: s.skip,
      limit: s.limit,
    };
  }

  /** Every result, in order. */
  async toArray(): Promise<D[]> {
    if (this.started) throw new Error("lsmdoc: a cursor can be iterated only once; call find() again");
    this.started = true;
    const s = this.spec;
    await s.ready();
    // One synchronous pass: no write or version change can interleave, so the reads need no
    // snapshot (the range iterators take their own), and no promise is made per document.
    const meta = s.meta();
    return [...this.run(meta, s.plan(meta), undefined)] as D[];
  }

  /**
   * Streams the results for `for await`. The whole iteration reads one snapshot, so writes made
   * while it runs are not seen; breaking out of the loop releases that snapshot. A cursor can be
   * iterated once; call `find()` again for a second pass.
   */
  [Symbol.asyncIterator](): AsyncIterator<D> {
    if (this.started) throw new Error("lsmdoc: a cursor can be iterated only once; call find() again");
    this.started = true;
    const s = this.spec;
    let gen: Generator<AnyDoc> | undefined;
    let snapshot: KvSnapshot | undefined;
    const finish = (): void => {
      gen?.return(undefined);
      snapshot?.release();
      snapshot = undefined;
    };
    return {
      next: async (): Promise<IteratorResult<D>> => {
        if (gen === undefined) {
          await s.ready();
          snapshot = s.store.kv.snapshot();
          const meta = s.meta();
          gen = this.run(meta, s.plan(meta), snapshot);
        }
        try {
          const r = gen.next();
          if (r.done) finish();
          return r.done ? { done: true, value: undefined } : { done: false, value: r.value as D };
        } catch (err) {
          finish();
          throw err;
        }
      },
      return: async (): Promise<IteratorResult<D>> => {
        finish();
        return { done: true, value: undefined };
      },
    };
  }

  private *run(meta: CollectionMeta, plan: QueryPlan, snapshot: KvSnapshot | undefined): Generator<AnyDoc> {
    const { store, filter, skip, limit, sort } = this.spec;
    const source = candidates(store, meta, plan, filter, snapshot);
    if (limit === 0) return;
    if (!plan.sortInMemory) {
      let skipped = 0;
      let yielded = 0;
      for (const doc of source) {
        if (skipped < skip) {
          skipped++;
          continue;
        }
        yield doc;
        if (limit !== undefined && ++yielded >= limit) return;
      }
      return;
    }
    const cmp = comparator(sort);
    const keep = limit === undefined ? Infinity : skip + limit;
    let docs: AnyDoc[] = [];
    for (const doc of source) {
      docs.push(doc);
      // Bounded top-k: trim to `keep` whenever the buffer doubles.
      if (docs.length >= 2 * keep && keep > 0) {
        docs.sort(cmp);
        docs.length = keep;
      }
    }
    docs.sort(cmp);
    docs = docs.slice(skip, limit === undefined ? undefined : skip + limit);
    yield* docs;
  }
}

/** Counts the documents matching `filter` without sorting. */
export async function countMatches(spec: Omit<CursorSpec, "sort" | "skip" | "limit">): Promise<number> {
  await spec.ready();
  const snapshot = spec.store.kv.snapshot();
  try {
    const meta = spec.meta();
    let n = 0;
    for (const _ of candidates(spec.store, meta, spec.plan(meta), spec.filter, snapshot)) n++;
    return n;
  } finally {
    snapshot.release();
  }
}
