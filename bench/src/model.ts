/**
 * The expected state of a contender's store (id -> document) and the checks run against it after
 * every phase. A failed check throws CheckError, which fails the contender: its numbers are then
 * never ranked.
 */
import { USER_FIELDS, type User } from "./schema.js";

export class CheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckError";
  }
}

export function check(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new CheckError(message());
}

/** Why `actual` differs from `expected` (schema fields and `_id`; Dates by time), or undefined. */
export function docMismatch(actual: unknown, expected: User): string | undefined {
  if (actual === null || typeof actual !== "object") return `expected document ${expected._id}, got ${String(actual)}`;
  const a = actual as Record<string, unknown>;
  for (const f of USER_FIELDS) {
    const want = expected[f];
    const got = a[f];
    if (want instanceof Date) {
      if (!(got instanceof Date) || got.getTime() !== want.getTime()) return `${expected._id}.${f}: expected Date ${want.toISOString()}, got ${describe(got)}`;
    } else if (Array.isArray(want)) {
      if (!Array.isArray(got) || got.length !== want.length || want.some((x, i) => got[i] !== x)) {
        return `${expected._id}.${f}: expected ${JSON.stringify(want)}, got ${describe(got)}`;
      }
    } else if (got !== want) {
      return `${expected._id}.${f}: expected ${JSON.stringify(want)}, got ${describe(got)}`;
    }
  }
  return undefined;
}

function describe(v: unknown): string {
  if (v instanceof Date) return `Date ${v.toISOString()}`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

export function checkDoc(actual: unknown, expected: User, context: string): void {
  const why = docMismatch(actual, expected);
  check(why === undefined, () => `${context}: ${why}`);
}

/** A copy of the schema fields (stores may return live objects, or objects with extra fields). */
export function snapshotDoc(doc: User): User {
  return {
    _id: doc._id,
    name: doc.name,
    email: doc.email,
    age: doc.age,
    city: doc.city,
    tags: [...doc.tags],
    createdAt: new Date(doc.createdAt.getTime()),
    bio: doc.bio,
  };
}

export class Model {
  /** Live documents as they should be stored. */
  readonly docs = new Map<string, User>();
  /** Every id ever inserted, in insertion order (deleted ones included). */
  readonly ids: string[] = [];
  private readonly deleted = new Set<string>();

  add(doc: User): void {
    check(typeof doc._id === "string" && doc._id.length > 0, () => `insert returned no _id: ${JSON.stringify(doc)}`);
    check(!this.docs.has(doc._id) && !this.deleted.has(doc._id), () => `insert returned a duplicate _id ${doc._id}`);
    this.docs.set(doc._id, snapshotDoc(doc));
    this.ids.push(doc._id);
  }

  setAge(id: string, age: number): void {
    this.docs.get(id)!.age = age;
  }

  delete(id: string): void {
    this.docs.delete(id);
    this.deleted.add(id);
  }

  isDeleted(id: string): boolean {
    return this.deleted.has(id);
  }

  get(id: string): User {
    const d = this.docs.get(id);
    if (d === undefined) throw new Error(`model has no document ${id}`);
    return d;
  }
}
