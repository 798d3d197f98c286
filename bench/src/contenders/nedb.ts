/**
 * NeDB (@seald-io/nedb): an in-memory datastore persisted to one append-only file with its default
 * persistence: each write appends a line, never fsynced (the file is rewritten, fsynced, when it is
 * loaded). Indexes: email (unique), age, city. Updates read the document, validate the updated
 * document and write it back whole. There is no synced mode and no close(): "close" waits for
 * nothing (every write was awaited), "reopen" loads the file again.
 */
import { createRequire } from "node:module";
import type NedbTypes from "@seald-io/nedb";
import { UserSchema, type User, type UserInput } from "../schema.js";
import { newId } from "./ids.js";
import type { Store, SyncMode } from "./types.js";

// A CommonJS module whose typings declare an ES default export: load it as CommonJS.
const Datastore = createRequire(import.meta.url)("@seald-io/nedb") as typeof NedbTypes.default;

export async function open(dir: string, _mode: SyncMode): Promise<Store> {
  const db = new Datastore<User>({ filename: `${dir}/users.db` });
  await db.loadDatabaseAsync();
  await db.ensureIndexAsync({ fieldName: "email", unique: true });
  await db.ensureIndexAsync({ fieldName: "age" });
  await db.ensureIndexAsync({ fieldName: "city" });
  const validated = (input: UserInput): User => ({ _id: newId(), ...UserSchema.parse(input) });

  return {
    async insertMany(inputs) {
      const docs = inputs.map(validated);
      await db.insertAsync(docs); // All or nothing: NeDB rolls back on a unique violation.
      return docs;
    },
    async insert(input) {
      const doc = validated(input);
      await db.insertAsync(doc);
      return doc;
    },
    get: async (id) => ((await db.findOneAsync({ _id: id })) as User | null) ?? undefined,
    findByEmail: async (email) => ((await db.findOneAsync({ email })) as User | null) ?? undefined,
    ageRange: async (lo, hi, limit) => (await db.findAsync({ age: { $gte: lo, $lt: hi } }).limit(limit)) as User[],
    async setAge(id, age) {
      const before = (await db.findOneAsync({ _id: id })) as User | null;
      if (before === null) return false;
      const { _id, ...fields } = before;
      const after: User = { _id: id, ...UserSchema.parse({ ...fields, age }) };
      await db.updateAsync({ _id: id }, after, {});
      return true;
    },
    delete: async (id) => (await db.removeAsync({ _id: id }, {})) > 0,
    count: async () => await db.countAsync({}),
    close: () => undefined,
  };
}
