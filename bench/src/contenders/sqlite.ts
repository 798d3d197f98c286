/**
 * SQLite through better-sqlite3 (synchronous, prepared statements): one table
 *   users(id TEXT PRIMARY KEY, email TEXT UNIQUE, age INTEGER, city TEXT, doc BLOB)
 * with indexes on age and city; `doc` is msgpackr of the document without `_id` (the bytes lsmdoc
 * and the KV contenders store). WAL journal mode; fast: `synchronous = OFF`, synced:
 * `synchronous = FULL`. Every write operation is one transaction (a batch of 1000 is one).
 */
import Database from "better-sqlite3";
import { Packr } from "msgpackr";
import { UserSchema, type User, type UserInput } from "../schema.js";
import { newId } from "./ids.js";
import type { Store, SyncMode } from "./types.js";

const packr = new Packr({ useRecords: false, moreTypes: false });

function pack(doc: User): Buffer {
  const { _id, ...rest } = doc;
  return packr.pack(rest);
}

const decode = (id: string, bytes: Buffer): User => ({ _id: id, ...(packr.unpack(bytes) as UserInput) });

export async function open(dir: string, mode: SyncMode): Promise<Store> {
  const db = new Database(`${dir}/users.sqlite`);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${mode === "fast" ? "OFF" : "FULL"}`);
  db.exec(`CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, age INTEGER NOT NULL, city TEXT NOT NULL, doc BLOB NOT NULL);
    CREATE INDEX IF NOT EXISTS users_age ON users(age);
    CREATE INDEX IF NOT EXISTS users_city ON users(city);`);

  const insertRow = db.prepare<[string, string, number, string, Buffer]>("INSERT INTO users (id, email, age, city, doc) VALUES (?, ?, ?, ?, ?)");
  const byId = db.prepare<[string], Buffer>("SELECT doc FROM users WHERE id = ?").pluck();
  const byEmail = db.prepare<[string], { id: string; doc: Buffer }>("SELECT id, doc FROM users WHERE email = ?");
  const byAge = db.prepare<[number, number, number], { id: string; doc: Buffer }>("SELECT id, doc FROM users WHERE age >= ? AND age < ? LIMIT ?");
  const updateRow = db.prepare<[number, Buffer, string]>("UPDATE users SET age = ?, doc = ? WHERE id = ?");
  const deleteRow = db.prepare<[string]>("DELETE FROM users WHERE id = ?");
  const countRows = db.prepare<[], number>("SELECT count(*) FROM users").pluck();

  const insertOne = (input: UserInput): User => {
    const doc: User = { _id: newId(), ...UserSchema.parse(input) };
    insertRow.run(doc._id, doc.email, doc.age, doc.city, pack(doc));
    return doc;
  };
  const insertMany = db.transaction((inputs: UserInput[]) => inputs.map(insertOne));
  const insertTxn = db.transaction(insertOne);
  const setAge = db.transaction((id: string, age: number): boolean => {
    const bytes = byId.get(id);
    if (bytes === undefined) return false;
    const { _id, ...fields } = decode(id, bytes);
    const after: User = { _id: id, ...UserSchema.parse({ ...fields, age }) };
    updateRow.run(after.age, pack(after), id);
    return true;
  });

  return {
    insertMany: (inputs) => insertMany(inputs),
    insert: (input) => insertTxn(input),
    get(id) {
      const bytes = byId.get(id);
      return bytes === undefined ? undefined : decode(id, bytes);
    },
    findByEmail(email) {
      const row = byEmail.get(email);
      return row === undefined ? undefined : decode(row.id, row.doc);
    },
    ageRange: (lo, hi, limit) => byAge.all(lo, hi, limit).map((r) => decode(r.id, r.doc)),
    setAge: (id, age) => setAge(id, age),
    delete: (id) => deleteRow.run(id).changes > 0,
    count: () => countRows.get()!,
    close: () => void db.close(),
  };
}
