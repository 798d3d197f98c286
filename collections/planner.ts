/**
 * The query planner (docs/queries.md). From a compiled filter, a sort and the collection's ready
 * indexes it picks one access path:
 *
 * - primaryKey: `_id` equality, `$in` or range: point reads or one range of the document keyspace;
 * - index: the index whose leading fields are best served: each leading field with an equality or
 *   `$in` (several key ranges, one per combination) counts 10, a range on the next field 5, a
 *   fully-matched unique index 3 more; ties go to the index that also yields the requested order,
 *   then to the shorter index;
 * - collectionScan: every document, when no index helps.
 *
 * Every candidate document is re-checked with the full filter (the residual), so the plan only has
 * to be a superset. The sort is streamed when the access path already yields that order (one key
 * range of an index whose next fields are the sort fields, or `_id` order); otherwise it is done in
 * memory, bounded to skip + limit documents when a limit is given.
 */
import type { CollectionMeta, IndexMeta } from "./catalog.js";
import { rangeBoundsFor, type CompiledFilter, type SargableCondition } from "./filter.js";
import { isEmptyRange, keyRange, rangeWithin, type IndexValue, type KeyRange, type RangeBounds } from "./key-codec.js";
import { documentPrefix, indexPrefix, prefixRange } from "./keyspace.js";

export type SortSpec = ReadonlyArray<readonly [path: string, direction: 1 | -1]>;

export interface QueryPlan {
  strategy: "primaryKey" | "index" | "collectionScan";
  /** The index used (strategy "index"). */
  index: IndexMeta | undefined;
  /** Engine key ranges to read, in order. For primaryKey and collectionScan they are document keys. */
  ranges: KeyRange[];
  /** Read the ranges backwards (descending sort served by the access path). */
  reverse: boolean;
  /** The sort is done in memory after reading. */
  sortInMemory: boolean;
  /** A document can be met more than once (a multikey index has an entry per element). */
  dedupe: boolean;
  /**
   * Each range holds at most one key, `range.gte` itself (`_id` equality, or equality on every
   * field of a unique index, whose keys end with the last value): read by point lookups, which
   * bloom filters make cheap, instead of range scans.
   */
  pointReads: boolean;
  /** For explain(): per index field, what bounds it. */
  bounds: Array<{ field: string; equals?: IndexValue[]; range?: RangeBounds }>;
}

/** Cross products of `$in` lists beyond this many key ranges fall back to fewer leading fields. */
const MAX_RANGES = 1000;

/** Non-empty ranges in key order, duplicates (from repeated `$in` values) removed. */
function orderedRanges(ranges: KeyRange[]): KeyRange[] {
  const sorted = ranges.filter((r) => !isEmptyRange(r)).sort((a, b) => Buffer.compare(a.gte, b.gte));
  return sorted.filter((r, i) => i === 0 || Buffer.compare(r.gte, sorted[i - 1]!.gte) !== 0);
}

function conditionsOn(conds: readonly SargableCondition[], path: string): SargableCondition[] {
  return conds.filter((c) => c.path === path);
}

function equalityValues(conds: readonly SargableCondition[], path: string): IndexValue[] | undefined {
  for (const c of conds) {
    if (c.path !== path) continue;
    if (c.op === "eq") return [c.value];
    if (c.op === "in") return [...c.values];
  }
  return undefined;
}

function rangeFor(conds: readonly SargableCondition[], path: string, multikey: boolean): RangeBounds | undefined {
  if (!multikey) return rangeBoundsFor(conds, path);
  // On an array each bound may be met by a different element: use one condition's bounds alone.
  const first = conditionsOn(conds, path).find((c) => c.op === "range");
  return first?.op === "range" ? first.bounds : undefined;
}

interface Candidate {
  index: IndexMeta;
  score: number;
  combos: IndexValue[][];
  eqFields: number;
  range: RangeBounds | undefined;
  providesSort: boolean;
  reverse: boolean;
}

/** Whether scanning `index` after `eqFields` equality fields yields `sort`, and in which direction. */
function sortServed(index: IndexMeta, eqFields: number, combos: number, sort: SortSpec, constant: Set<string>): { ok: boolean; reverse: boolean } {
  const rest = sort.filter(([p]) => !constant.has(p));
  if (rest.length === 0) return { ok: true, reverse: false };
  if (index.multikey || combos !== 1) return { ok: false, reverse: false };
  const dir = rest[0]![1];
  for (let i = 0; i < rest.length; i++) {
    const [p, d] = rest[i]!;
    if (d !== dir || index.fields[eqFields + i] !== p) return { ok: false, reverse: false };
  }
  return { ok: true, reverse: dir === -1 };
}

export function planQuery(meta: CollectionMeta, filter: CompiledFilter, sort: SortSpec): QueryPlan {
  // Each listed condition holds for every matching document, even beside an $or: usable as is.
  const conds = filter.sargable.conditions;
  const docs = documentPrefix(meta.id);
  const idSortOnly = sort.length === 1 && sort[0]![0] === "_id";
  const idReverse = idSortOnly && sort[0]![1] === -1;

  // _id: point reads or a range of the document keyspace.
  const idEquals = equalityValues(conds, "_id");
  const idRange = idEquals === undefined ? rangeBoundsFor(conds, "_id") : undefined;
  if (idEquals !== undefined || idRange !== undefined) {
    const ranges = orderedRanges((idEquals ?? [undefined]).map((v) => rangeWithin(docs, keyRange(v === undefined ? [] : [v], idRange ?? {}))));
    const streamed = sort.length === 0 || idSortOnly;
    return {
      strategy: "primaryKey",
      index: undefined,
      ranges: idReverse ? ranges.reverse() : ranges,
      reverse: idReverse,
      sortInMemory: !streamed,
      dedupe: false,
      pointReads: idRange === undefined,
      bounds: [{ field: "_id", ...(idEquals ? { equals: idEquals } : { range: idRange }) }],
    };
  }

  const constant = new Set<string>();
  for (const c of conds) if (c.op === "eq") constant.add(c.path);
  let best: Candidate | undefined;
  for (const index of meta.indexes) {
    if (index.state !== "ready") continue;
    let combos: IndexValue[][] = [[]];
    let eqFields = 0;
    for (const f of index.fields) {
      const values = equalityValues(conds, f);
      if (values === undefined || combos.length * values.length > MAX_RANGES) break;
      const next: IndexValue[][] = [];
      for (const c of combos) for (const v of values) next.push([...c, v]);
      combos = next;
      eqFields++;
    }
    const range = eqFields < index.fields.length ? rangeFor(conds, index.fields[eqFields]!, index.multikey) : undefined;
    let score = eqFields * 10 + (range ? 5 : 0);
    if (index.unique && eqFields === index.fields.length) score += 3;
    const served = sortServed(index, eqFields, combos.length, sort, constant);
    const c: Candidate = { index, score, combos, eqFields, range, providesSort: served.ok && sort.length > 0, reverse: served.reverse };
    if (score === 0 && !c.providesSort) continue;
    if (
      best === undefined ||
      c.score > best.score ||
      (c.score === best.score && c.providesSort && !best.providesSort) ||
      (c.score === best.score && c.providesSort === best.providesSort && c.index.fields.length < best.index.fields.length)
    ) {
      best = c;
    }
  }

  if (best === undefined || (best.score === 0 && idSortOnly)) {
    return {
      strategy: "collectionScan",
      index: undefined,
      ranges: [prefixRange(docs)],
      reverse: idReverse,
      sortInMemory: sort.length > 0 && !idSortOnly,
      dedupe: false,
      pointReads: false,
      bounds: [],
    };
  }

  const prefix = indexPrefix(meta.id, best.index.id);
  const ranges = orderedRanges(best.combos.map((combo) => rangeWithin(prefix, keyRange(combo, best!.range ?? {}))));
  const bounds: QueryPlan["bounds"] = best.index.fields.slice(0, best.eqFields).map((field) => ({
    field,
    equals: [...new Set(best!.combos.map((c) => c[best!.index.fields.indexOf(field)]))],
  }));
  if (best.range) bounds.push({ field: best.index.fields[best.eqFields]!, range: best.range });
  return {
    strategy: "index",
    index: best.index,
    ranges: best.reverse ? ranges.reverse() : ranges,
    reverse: best.reverse,
    sortInMemory: sort.length > 0 && !best.providesSort,
    dedupe: best.index.multikey,
    pointReads: best.index.unique && best.eqFields === best.index.fields.length,
    bounds,
  };
}
