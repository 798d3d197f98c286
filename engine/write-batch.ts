/**
 * An ordered group of puts and deletes applied atomically: one WAL record, one sequence number
 * (SPEC §2). Arguments are checked as they are added, so a bad key fails at `put()` and nothing of
 * the batch is ever written. Keys and values are copied into the log record when the batch is
 * written; until `write()` resolves the caller should not modify the arrays it passed.
 */
import { InvalidArgumentError } from "./errors.js";
import { EntryKind, type WriteEntry } from "./wal/record.js";
import { MAX_KEY_LENGTH, MAX_VALUE_LENGTH } from "./wal/format.js";

const EMPTY = new Uint8Array(0);

/** Throws {@link InvalidArgumentError} unless `key` is a Uint8Array of 1..65535 bytes. */
export function checkKey(key: unknown): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array)) {
    throw new InvalidArgumentError(`lsmdoc/engine: key must be a Uint8Array, got ${describe(key)}`);
  }
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new InvalidArgumentError(`lsmdoc/engine: key length ${key.length} is outside 1..${MAX_KEY_LENGTH} bytes`);
  }
}

/** Throws {@link InvalidArgumentError} unless `value` is a Uint8Array of at most 2^32-1 bytes. */
export function checkValue(value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new InvalidArgumentError(`lsmdoc/engine: value must be a Uint8Array, got ${describe(value)}`);
  }
  if (value.length > MAX_VALUE_LENGTH) {
    throw new InvalidArgumentError(`lsmdoc/engine: value length ${value.length} exceeds ${MAX_VALUE_LENGTH} bytes`);
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return (v as object).constructor?.name ?? "object";
  return typeof v;
}

/**
 * Puts and deletes to apply as one atomic write.
 *
 * @example
 * ```ts
 * const batch = new WriteBatch().put(k1, v1).delete(k2);
 * const seq = await engine.write(batch); // both entries carry `seq`
 * ```
 */
export class WriteBatch {
  /** @internal */
  readonly entries: WriteEntry[] = [];
  private bytes = 0;

  /** Adds a put; a later entry for the same key in this batch wins. */
  put(key: Uint8Array, value: Uint8Array): this {
    checkKey(key);
    checkValue(value);
    this.entries.push({ kind: EntryKind.Put, key, value });
    this.bytes += key.length + value.length;
    return this;
  }

  /** Adds a delete (a tombstone for `key`). */
  delete(key: Uint8Array): this {
    checkKey(key);
    this.entries.push({ kind: EntryKind.Delete, key, value: EMPTY });
    this.bytes += key.length;
    return this;
  }

  /** Number of entries. */
  get length(): number {
    return this.entries.length;
  }

  /** Bytes of keys and values held. */
  get byteSize(): number {
    return this.bytes;
  }

  /** Removes every entry, so the batch can be reused. */
  clear(): this {
    this.entries.length = 0;
    this.bytes = 0;
    return this;
  }
}
