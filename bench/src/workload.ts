/**
 * The seeded workload every contender runs: documents and random choices depend only on the seed
 * and a position, never on a contender's behaviour, so every store sees the same inputs.
 *
 * Document i is generated from its own PRNG stream (seed, i): a run can regenerate any document
 * without keeping it, which is how the large run checks a million documents without a model.
 */
import type { UserInput } from "./schema.js";

/** mulberry32: a small, fast 32-bit PRNG; plenty for workload choices. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes a seed with a stream number (splitmix-style) so that nearby streams are unrelated. */
export function streamSeed(seed: number, stream: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream >>> 0, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

const FIRST = ["ada", "alan", "grace", "linus", "barbara", "edsger", "donald", "margaret", "ken", "dennis",
  "frances", "john", "radia", "tim", "leslie", "niklaus", "sophie", "guido", "anita", "bjarne"];
const LAST = ["lovelace", "turing", "hopper", "torvalds", "liskov", "dijkstra", "knuth", "hamilton", "thompson",
  "ritchie", "allen", "backus", "perlman", "berners", "lamport", "wirth", "wilson", "rossum", "borg", "stroustrup"];
export const CITIES = ["London", "Paris", "Berlin", "Madrid", "Rome", "Vienna", "Prague", "Lisbon", "Dublin", "Oslo",
  "Warsaw", "Athens", "Zurich", "Brussels", "Amsterdam", "Helsinki", "Stockholm", "Copenhagen", "Budapest", "Tallinn"];
const TAGS = ["admin", "beta", "mobile", "desktop", "premium", "trial", "staff", "partner", "vip", "new",
  "churned", "eu", "us", "apac", "dev", "ops", "design", "sales", "support", "research"];
const WORDS = ["lorem", "ipsum", "dolor", "sit", "amet", "quick", "brown", "fox", "jumps", "over", "lazy", "dog",
  "storage", "engine", "index", "query", "write", "read", "tree", "log", "batch", "commit", "level", "table",
  "bloom", "filter", "cache", "block", "page", "cursor", "range", "merge", "flush", "compact", "sync", "disk"];

export const MIN_AGE = 18;
export const MAX_AGE = 79;
const BASE_TIME = Date.UTC(2020, 0, 1);

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** Document number `i` of the run with seed `seed` (~250 bytes as JSON with a 16-26 char `_id`). */
export function makeDoc(seed: number, i: number): UserInput {
  const r = rng(streamSeed(seed, i));
  const first = pick(r, FIRST);
  const last = pick(r, LAST);
  const tags: string[] = [];
  while (tags.length < 3) {
    const t = pick(r, TAGS);
    if (!tags.includes(t)) tags.push(t);
  }
  let bio = pick(r, WORDS);
  while (bio.length < 95) bio += " " + pick(r, WORDS);
  return {
    name: `${first[0]!.toUpperCase()}${first.slice(1)} ${last[0]!.toUpperCase()}${last.slice(1)}`,
    email: `${first}.${last}.${i}@example.com`,
    age: MIN_AGE + Math.floor(r() * (MAX_AGE - MIN_AGE + 1)),
    city: pick(r, CITIES),
    tags,
    createdAt: new Date(BASE_TIME + Math.floor(r() * 5 * 365 * 86_400_000)),
    bio,
  };
}

/** `count` distinct integers from [0, n), in random order (partial Fisher-Yates). */
export function distinctPicks(r: () => number, n: number, count: number): number[] {
  if (count > n) throw new Error(`cannot pick ${count} distinct of ${n}`);
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(r() * (n - i));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
    out.push(a[i]!);
  }
  return out;
}

/** Random streams used by the phases (one per phase, so that phases do not shift each other). */
export const STREAM = {
  gets: 0x7fff_0001,
  lookups: 0x7fff_0002,
  ranges: 0x7fff_0003,
  updates: 0x7fff_0004,
  deletes: 0x7fff_0005,
  samples: 0x7fff_0006,
  largeGets: 0x7fff_0007,
} as const;
