/**
 * Documents and hand-kept secondary indexes over an ordered key-value store, as an application
 * would build them on LevelDB or LMDB. Shared by the two KV contenders so that both store the same
 * bytes; each applies the returned writes in ONE batch/transaction.
 *
 * Keys (bytes, compared unsigned):
 *   0x01 id                          -> msgpackr(document without _id)
 *   0x02 email                       -> id            (unique: checked by reading this key first)
 *   0x03 f64-ordered(age) id         -> (empty)
 *   0x04 city 0x00 id                -> (empty)
 * f64-ordered: the IEEE-754 big-endian bytes with the sign bit flipped (all bits for negatives),
 * so that byte order is numeric order.
 */
import { Packr } from "msgpackr";
import { UserSchema, type User, type UserInput } from "../schema.js";
import { newId } from "./ids.js";

const DOC = 0x01;
const EMAIL = 0x02;
const AGE = 0x03;
const CITY = 0x04;
const EMPTY = Buffer.alloc(0);

// The settings lsmdoc uses for its document bodies: self-contained values, no shared structures.
const packr = new Packr({ useRecords: false, moreTypes: false });

export type KvWrite = { type: "put"; key: Buffer; value: Buffer } | { type: "del"; key: Buffer };

/** Reads the current value of a key (the KV stores here have synchronous reads). */
export type ReadSync = (key: Buffer) => Uint8Array | undefined;

export class DuplicateKeyError extends Error {}

function prefixed(tag: number, s: string, extra = 0): Buffer {
  const len = Buffer.byteLength(s);
  const b = Buffer.allocUnsafe(1 + len + extra);
  b[0] = tag;
  b.write(s, 1);
  return b;
}

export const docKey = (id: string): Buffer => prefixed(DOC, id);
export const emailKey = (email: string): Buffer => prefixed(EMAIL, email);

function writeOrderedF64(b: Buffer, at: number, n: number): void {
  b.writeDoubleBE(n, at);
  if (b[at]! & 0x80) for (let i = at; i < at + 8; i++) b[i] = ~b[i]! & 0xff;
  else b[at] = b[at]! | 0x80;
}

export function ageKey(age: number, id: string): Buffer {
  const len = Buffer.byteLength(id);
  const b = Buffer.allocUnsafe(9 + len);
  b[0] = AGE;
  writeOrderedF64(b, 1, age);
  b.write(id, 9);
  return b;
}

/** [gte, lt) bounds of the age index for lo <= age < hi. */
export function ageBounds(lo: number, hi: number): { gte: Buffer; lt: Buffer } {
  const gte = Buffer.allocUnsafe(9);
  gte[0] = AGE;
  writeOrderedF64(gte, 1, lo);
  const lt = Buffer.allocUnsafe(9);
  lt[0] = AGE;
  writeOrderedF64(lt, 1, hi);
  return { gte, lt };
}

export const idOfAgeKey = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset + 9, key.length - 9).toString();

function cityKey(city: string, id: string): Buffer {
  const b = prefixed(CITY, city, 1 + Buffer.byteLength(id));
  const at = 1 + Buffer.byteLength(city);
  b[at] = 0;
  b.write(id, at + 1);
  return b;
}

/** [gte, lt) of every document key, for counting. */
export const docBounds = { gte: Buffer.from([DOC]), lt: Buffer.from([DOC + 1]) };

export function encodeDoc(doc: User): Buffer {
  const { _id, ...rest } = doc;
  return packr.pack(rest);
}

export function decodeDoc(id: string, bytes: Uint8Array): User {
  return { _id: id, ...(packr.unpack(bytes) as UserInput) };
}

function indexWrites(out: KvWrite[], doc: User, type: "put" | "del"): void {
  const keys = [ageKey(doc.age, doc._id), cityKey(doc.city, doc._id)];
  for (const key of keys) out.push(type === "put" ? { type, key, value: EMPTY } : { type, key });
  out.push(type === "put" ? { type, key: emailKey(doc.email), value: Buffer.from(doc._id) } : { type, key: emailKey(doc.email) });
}

/** The document layer over one store's synchronous reads. */
export class KvDocuments {
  constructor(private readonly read: ReadSync) {}

  /** Validates the documents and returns the stored ones plus every write (doc + index keys). */
  inserts(inputs: UserInput[]): { docs: User[]; writes: KvWrite[] } {
    const docs: User[] = [];
    const writes: KvWrite[] = [];
    const emails = new Set<string>();
    for (const input of inputs) {
      const doc: User = { _id: newId(), ...UserSchema.parse(input) };
      if (emails.has(doc.email) || this.read(emailKey(doc.email)) !== undefined) {
        throw new DuplicateKeyError(`email ${doc.email} is taken`);
      }
      emails.add(doc.email);
      docs.push(doc);
      writes.push({ type: "put", key: docKey(doc._id), value: encodeDoc(doc) });
      indexWrites(writes, doc, "put");
    }
    return { docs, writes };
  }

  get(id: string): User | undefined {
    const bytes = this.read(docKey(id));
    return bytes === undefined ? undefined : decodeDoc(id, bytes);
  }

  findByEmail(email: string): User | undefined {
    const id = this.read(emailKey(email));
    return id === undefined ? undefined : this.get(Buffer.from(id.buffer, id.byteOffset, id.length).toString());
  }

  /** The writes of `$set: { age }` on `id` (the updated document re-validated), or undefined. */
  setAge(id: string, age: number): KvWrite[] | undefined {
    const before = this.get(id);
    if (before === undefined) return undefined;
    const { _id, ...fields } = before;
    const after: User = { _id: id, ...UserSchema.parse({ ...fields, age }) };
    const writes: KvWrite[] = [{ type: "put", key: docKey(id), value: encodeDoc(after) }];
    if (after.age !== before.age) {
      writes.push({ type: "del", key: ageKey(before.age, id) }, { type: "put", key: ageKey(after.age, id), value: EMPTY });
    }
    return writes;
  }

  /** The writes deleting `id` with its index keys, or undefined when absent. */
  delete(id: string): KvWrite[] | undefined {
    const before = this.get(id);
    if (before === undefined) return undefined;
    const writes: KvWrite[] = [{ type: "del", key: docKey(id) }];
    indexWrites(writes, before, "del");
    return writes;
  }
}
