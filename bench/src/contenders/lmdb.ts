/**
 * LMDB through lmdb-js, with the same keys and document bytes as LevelDB (kv-documents.ts).
 * Every write operation is ONE transaction whose callback does the reads (unique email, the
 * document before an update) and the writes. fast: `noSync: true` and `transactionSync` (a commit
 * without flush, returning at once); synced: default sync and `transaction()`, lmdb-js's batched
 * asynchronous transactions, which commit concurrent callers together and resolve after the flush.
 * Reads are synchronous (`getBinaryFast`, decoded at once); range queries use `getKeys`.
 * `writemap` opens with `useWritemap: true`; everything else is lmdb-js's default.
 */
import { open as openLmdb } from "lmdb";
import type { User, UserInput } from "../schema.js";
import { ageBounds, docBounds, idOfAgeKey, KvDocuments, type KvWrite } from "./kv-documents.js";
import type { Store, SyncMode } from "./types.js";

export function opener(useWritemap: boolean) {
  return async function open(dir: string, mode: SyncMode): Promise<Store> {
    const db = openLmdb<Buffer, Buffer>({
      path: dir,
      keyEncoding: "binary",
      encoding: "binary",
      noSync: mode === "fast",
      ...(useWritemap ? { useWritemap: true } : {}),
    });
    const docs = new KvDocuments((key) => db.getBinaryFast(key));
    // Inside a transaction callback both forms write into that transaction at once; each is the
    // faster one in its kind of transaction (measured here).
    const apply = (writes: KvWrite[]): void => {
      for (const w of writes) {
        if (mode === "fast") {
          if (w.type === "put") db.putSync(w.key, w.value);
          else db.removeSync(w.key);
        } else if (w.type === "put") void db.put(w.key, w.value);
        else void db.remove(w.key);
      }
    };
    // One transaction per write operation: synchronous in the fast phases, batched when synced.
    const inTxn = <T>(action: () => T): T | Promise<T> =>
      mode === "fast" ? db.transactionSync(action) : db.transaction(action);

    return {
      insertMany: (inputs: UserInput[]) =>
        inTxn((): User[] => {
          const { docs: stored, writes } = docs.inserts(inputs);
          apply(writes);
          return stored;
        }),
      insert: (input: UserInput) =>
        inTxn((): User => {
          const { docs: stored, writes } = docs.inserts([input]);
          apply(writes);
          return stored[0]!;
        }),
      get: (id) => docs.get(id),
      findByEmail: (email) => docs.findByEmail(email),
      ageRange(lo, hi, limit) {
        const { gte, lt } = ageBounds(lo, hi);
        const out: User[] = [];
        for (const key of db.getKeys({ start: gte, end: lt, limit })) out.push(docs.get(idOfAgeKey(key))!);
        return out;
      },
      setAge: (id, age) =>
        inTxn(() => {
          const writes = docs.setAge(id, age);
          if (writes !== undefined) apply(writes);
          return writes !== undefined;
        }),
      delete: (id) =>
        inTxn(() => {
          const writes = docs.delete(id);
          if (writes !== undefined) apply(writes);
          return writes !== undefined;
        }),
      count: () => db.getKeysCount({ start: docBounds.gte, end: docBounds.lt }),
      close: () => db.close(),
    };
  };
}

export const open = opener(false);
export const openWritemap = opener(true);
