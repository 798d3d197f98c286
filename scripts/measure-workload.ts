/**
 * The document workload the measurement scripts share (collections-measure, reopen-measure): the
 * user schema, its three indexes, and deterministic documents of ~250 bytes.
 */
import { z } from "lsmdoc";

const CITIES = ["London", "Paris", "Berlin", "Madrid", "Rome", "Vienna", "Prague", "Lisbon", "Dublin", "Oslo"];

export const User = z.object({
  name: z.string(),
  email: z.email(),
  age: z.number().int(),
  city: z.string(),
  tags: z.array(z.string()),
  createdAt: z.date(),
  bio: z.string(),
});

export const USER_INDEXES = { indexes: [{ fields: ["email"], unique: true }, { fields: ["age"] }, { fields: ["city"] }] } as const;

/** Document number `i` (unique email). */
export function userDoc(i: number) {
  return {
    name: `User ${i}`,
    email: `user${i}@example.com`,
    age: 18 + (i % 60),
    city: CITIES[i % CITIES.length]!,
    tags: ["alpha", "beta", "gamma"].slice(0, 1 + (i % 3)),
    createdAt: new Date(1_700_000_000_000 + i * 1000),
    bio: "x".repeat(120),
  };
}

/** A seeded uniform random number generator in [0, 1). */
export function lcg(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
}
