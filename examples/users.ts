/**
 * The main demo: a typed collection with indexes, queries, updates and change events.
 *
 * Run: npm run demo
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open, UniqueConstraintError, ValidationError, z } from "lsmdoc";

const User = z.object({
  name: z.string(),
  email: z.email(),
  age: z.number().int().min(0),
  city: z.string(),
  tags: z.array(z.string()).default([]),
  logins: z.number().int().default(0),
});

const dir = mkdtempSync(join(tmpdir(), "lsmdoc-users-"));
try {
  const db = await open(dir);
  const users = db.collection("users", User, {
    indexes: [
      { fields: ["email"], unique: true },
      { fields: ["age"] },
      { fields: ["city", "age"] }, // compound
      { fields: ["tags"] }, // multikey: one entry per array element
    ],
  });

  // Change events arrive after each write is durable, in commit order.
  db.on("change", (e) => console.log(`  [change] ${e.type} ${e.collection}/${e.id} at seq ${e.seq}`));

  console.log("insert:");
  const ada = await users.insert({ name: "Ada", email: "ada@example.com", age: 36, city: "London", tags: ["admin", "math"] });
  await users.insertMany([
    { name: "Grace", email: "grace@example.com", age: 45, city: "New York", tags: ["navy"] },
    { name: "Alan", email: "alan@example.com", age: 41, city: "London" },
    { name: "Edsger", email: "edsger@example.com", age: 30, city: "Austin", tags: ["admin"] },
  ]);

  // Bad input is refused before anything is written.
  try {
    await users.insert({ name: "Eve", email: "ada@example.com", age: 20, city: "Paris" });
  } catch (err) {
    if (err instanceof UniqueConstraintError) console.log(`refused: ${err.index} already holds ${String(err.value)} (document ${err.existingId})`);
  }
  try {
    await users.insert({ name: "Mallory", email: "not-an-email", age: -1, city: "Paris" });
  } catch (err) {
    if (err instanceof ValidationError) console.log(`refused: ${err.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }

  console.log("queries:");
  const q = users.find({ city: "London", age: { $gte: 30, $lt: 40 } }, { sort: { age: 1 } });
  const plan = q.explain();
  console.log(`  plan: ${plan.strategy} on ${plan.index}, sort in memory: ${plan.sortInMemory}`);
  for await (const u of q) console.log(`  ${u.name}, ${u.age}, ${u.city}`);
  console.log(`  admins: ${(await users.find({ tags: "admin" }).toArray()).map((u) => u.name).join(", ")}`);
  console.log(`  by email: ${(await users.findOne({ email: "grace@example.com" }))?.name}`);
  console.log(`  in London: ${await users.count({ city: "London" })}`);

  console.log("updates:");
  const updated = await users.update(ada._id, { $set: { age: 37 }, $inc: { logins: 1 }, $push: { tags: "lovelace" } });
  console.log(`  ${updated?.name} is now ${updated?.age}, tags ${updated?.tags.join(", ")}`);
  console.log(`  moved ${await users.updateMany({ city: "London" }, { $set: { city: "Cambridge" } })} users to Cambridge`);
  console.log(`  deleted ${await users.deleteMany({ age: { $lt: 35 } })} users under 35`);

  await db.close();

  // Everything is on disk: reopen and read.
  const again = await open(dir);
  const reopened = again.collection("users", User, { indexes: [{ fields: ["email"], unique: true }, { fields: ["age"] }, { fields: ["city", "age"] }, { fields: ["tags"] }] });
  const all = await reopened.find({}, { sort: { age: -1 } }).toArray();
  console.log(`after reopen: ${all.map((u) => `${u.name} (${u.age}, ${u.city})`).join(", ")}`);
  await again.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
