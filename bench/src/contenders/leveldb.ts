/**
 * LevelDB through classic-level: documents and hand-kept index keys (kv-documents.ts), every write
 * operation ONE `db.batch()`. Reads use `getSync` (classic-level 3.x); range queries read the age
 * index with a key iterator, then each document with `getSync`. fast: batches with `sync: false`
 * (the default); synced: `sync: true` on every batch (LevelDB groups concurrent writers).
 */
import { ClassicLevel } from "classic-level";
import type { User, UserInput } from "../schema.js";
import { ageBounds, docBounds, idOfAgeKey, KvDocuments, type KvWrite } from "./kv-documents.js";
import type { Store, SyncMode } from "./types.js";

export async function open(dir: string, mode: SyncMode): Promise<Store> {
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
  await db.open();
  const sync = mode === "synced";
  const docs = new KvDocuments((key) => db.getSync(key));
  const apply = (writes: KvWrite[]): Promise<void> => db.batch(writes, { sync });

  return {
    async insertMany(inputs: UserInput[]): Promise<User[]> {
      const { docs: stored, writes } = docs.inserts(inputs);
      await apply(writes);
      return stored;
    },
    async insert(input: UserInput): Promise<User> {
      const { docs: stored, writes } = docs.inserts([input]);
      await apply(writes);
      return stored[0]!;
    },
    get: (id) => docs.get(id),
    findByEmail: (email) => docs.findByEmail(email),
    async ageRange(lo, hi, limit) {
      const keys = await db.keys({ ...ageBounds(lo, hi), limit }).all();
      return keys.map((k) => docs.get(idOfAgeKey(k))!);
    },
    async setAge(id, age) {
      const writes = docs.setAge(id, age);
      if (writes === undefined) return false;
      await apply(writes);
      return true;
    },
    async delete(id) {
      const writes = docs.delete(id);
      if (writes === undefined) return false;
      await apply(writes);
      return true;
    },
    async count() {
      let n = 0;
      for await (const _ of db.keys(docBounds)) n++;
      return n;
    },
    close: () => db.close(),
  };
}
