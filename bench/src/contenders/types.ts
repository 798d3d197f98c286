/**
 * The interface every contender implements: the operations of the workload, in the form the
 * workload needs them. Each contender maps them onto its store's fastest idiomatic API. Methods may
 * return a value or a promise; the harness awaits every call either way.
 */
import type { User, UserInput } from "../schema.js";

export type Awaitable<T> = T | Promise<T>;

/**
 * fast: no fsync (each store's "durable against a process crash, not a power loss" mode where it
 * has one). synced: every commit fsynced before it resolves.
 */
export type SyncMode = "fast" | "synced";

export interface Store {
  /** Validates and inserts every document in one atomic write (batch/transaction). */
  insertMany(docs: UserInput[]): Awaitable<User[]>;
  /** Validates and inserts one document in its own atomic write. */
  insert(doc: UserInput): Awaitable<User>;
  get(id: string): Awaitable<User | undefined>;
  /** Through the unique email index. */
  findByEmail(email: string): Awaitable<User | undefined>;
  /** Up to `limit` documents with lo <= age < hi, through the age index. */
  ageRange(lo: number, hi: number, limit: number): Awaitable<User[]>;
  /** Sets `age`, re-validating the updated document; false when there is no such document. */
  setAge(id: string, age: number): Awaitable<boolean>;
  /** Deletes the document with its index entries; false when there is no such document. */
  delete(id: string): Awaitable<boolean>;
  count(): Awaitable<number>;
  close(): Awaitable<void>;
}

/** What a contender module exports. */
export interface ContenderModule {
  open(dir: string, mode: SyncMode): Promise<Store>;
}
