/**
 * lsmdoc through its public API only: one collection with a unique email index and indexes on age
 * and city. lsmdoc validates every written document itself (the same zod schema), so nothing is
 * parsed here. fast = `open(dir, { sync: false })`, synced = `open(dir, { sync: true })`.
 */
import { open as openDatabase } from "../lsmdoc-api.js";
import { UserSchema, type User, type UserInput } from "../schema.js";
import type { Store, SyncMode } from "./types.js";

export async function open(dir: string, mode: SyncMode): Promise<Store> {
  const db = await openDatabase(dir, { sync: mode === "synced" });
  const users = db.collection("users", UserSchema, {
    indexes: [{ fields: ["email"], unique: true }, { fields: ["age"] }, { fields: ["city"] }],
  });
  return {
    insertMany: (docs: UserInput[]) => users.insertMany(docs) as Promise<User[]>,
    insert: (doc: UserInput) => users.insert(doc) as Promise<User>,
    get: (id) => users.get(id) as Promise<User | undefined>,
    findByEmail: (email) => users.findOne({ email }) as Promise<User | undefined>,
    ageRange: (lo, hi, limit) => users.find({ age: { $gte: lo, $lt: hi } }, { limit }).toArray() as Promise<User[]>,
    setAge: async (id, age) => (await users.update(id, { $set: { age } })) !== undefined,
    delete: (id) => users.delete(id),
    count: () => users.count(),
    close: () => db.close(),
  };
}
