/**
 * LokiJS: in memory, unique indexes on `_id` and email (Loki's `unique`, read with `by()`), binary
 * indexes on age and city (`indices`). Persisted to one JSON file by the fs adapter only when
 * closed (`autosave: false`); a reopen loads the whole file and revives `createdAt` as a Date
 * (JSON has none). No synced mode. A batch insert validates every document first, but Loki's
 * array insert is not atomic against a unique violation part way through.
 * Range: `{ age: { $between: [lo, hi - 1] } }` (ages are integers): Loki reads one operator per
 * field, so `{ $gte, $lt }` would silently drop `$lt`.
 */
import Loki from "lokijs";
import { UserSchema, type User, type UserInput } from "../schema.js";
import { newId } from "./ids.js";
import type { Store, SyncMode } from "./types.js";

type LokiUser = User & LokiObj;

export async function open(dir: string, _mode: SyncMode): Promise<Store> {
  const db = new Loki(`${dir}/users.json`, { adapter: new Loki.LokiFsAdapter(), autosave: false, autoload: false });
  await new Promise<void>((resolve, reject) =>
    db.loadDatabase(
      { users: { inflate: (src: User) => Object.assign(src, { createdAt: new Date(src.createdAt) }) } } as unknown as Parameters<Loki["loadDatabase"]>[0],
      (err: unknown) => (err ? reject(err) : resolve()),
    ),
  );
  const users: Collection<User> =
    db.getCollection<User>("users") ?? db.addCollection<User>("users", { unique: ["_id", "email"], indices: ["age", "city"] });
  const validated = (input: UserInput): User => ({ _id: newId(), ...UserSchema.parse(input) });

  return {
    insertMany(inputs) {
      const docs = inputs.map(validated);
      users.insert(docs);
      return docs;
    },
    insert(input) {
      const doc = validated(input);
      users.insert(doc);
      return doc;
    },
    get: (id) => users.by("_id", id),
    findByEmail: (email) => users.by("email", email),
    ageRange: (lo, hi, limit) => users.chain().find({ age: { $between: [lo, hi - 1] } }).limit(limit).data(),
    setAge(id, age) {
      const doc = users.by("_id", id) as LokiUser | undefined;
      if (doc === undefined) return false;
      const { _id, $loki, meta, ...fields } = doc;
      Object.assign(doc, UserSchema.parse({ ...fields, age }));
      users.update(doc);
      return true;
    },
    delete(id) {
      const doc = users.by("_id", id);
      if (doc === undefined) return false;
      users.remove(doc);
      return true;
    },
    count: () => users.count(),
    close: () =>
      new Promise<void>((resolve, reject) =>
        db.saveDatabase((err) => (err ? reject(err) : db.close((e) => (e ? reject(e) : resolve())))),
      ),
  };
}
