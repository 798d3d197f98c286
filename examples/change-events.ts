/**
 * Change events: per-collection and database-wide listeners, what a listener that throws does, and
 * how the events of one `insertMany` share that batch's seq.
 *
 * Events fire after the write is durable, in seq order, and never for a write that failed. Listeners
 * run synchronously; a listener that throws cannot undo or fail the write, so the error is handed to
 * the database's "listenerError" listeners instead (or becomes a process warning when there are none).
 *
 * Run: npm run build && node dist/examples/change-events.js
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open, UniqueConstraintError, z, type ChangeEvent } from "lsmdoc";

const Task = z.object({ title: z.string(), done: z.boolean().default(false), owner: z.string() });

const dir = mkdtempSync(join(tmpdir(), "lsmdoc-events-"));
try {
  const db = await open(dir);
  const tasks = db.collection("tasks", Task, { indexes: [{ fields: ["title"], unique: true }] });
  const notes = db.collection("notes", z.object({ text: z.string() }));

  // A collection listener sees that collection's documents, typed by its schema.
  tasks.on("change", (e) => {
    const title = e.type === "delete" ? e.prev.title : e.doc.title;
    console.log(`  [tasks] ${e.type} "${title}" at seq ${e.seq}`);
  });

  // A database listener sees every collection; e.collection names it.
  const seen: ChangeEvent[] = [];
  db.on("change", (e) => seen.push(e));

  // This listener throws on deletes. The delete still commits and the other listeners still run;
  // the error arrives here, with the event it was thrown for.
  db.on("change", (e) => {
    if (e.type === "delete") throw new Error(`audit log refused to record the deletion of ${e.id}`);
  });
  const listenerErrors: string[] = [];
  db.on("listenerError", (err, e) => listenerErrors.push(`${(err as Error).message} (${e.collection} seq ${e.seq})`));

  console.log("single writes:");
  const first = await tasks.insert({ title: "write the docs", owner: "ada" });
  await notes.insert({ text: "remember the milk" });
  await tasks.update(first._id, { $set: { done: true } });

  console.log("one insertMany, one batch:");
  const batch = await tasks.insertMany([
    { title: "review the WAL format", owner: "grace" },
    { title: "benchmark compaction", owner: "alan" },
    { title: "fuzz the key codec", owner: "edsger" },
  ]);
  const batchSeqs = new Set(seen.filter((e) => batch.some((d) => d._id === e.id)).map((e) => e.seq));
  console.log(`  ${batch.length} events, ${batchSeqs.size} distinct seq (${[...batchSeqs].join(", ")})`);
  if (batchSeqs.size !== 1) throw new Error("the events of one insertMany should share one seq");

  // A failed write emits nothing: the title is taken, so no event and no seq is used.
  const before = seen.length;
  try {
    await tasks.insert({ title: "write the docs", owner: "mallory" });
  } catch (err) {
    if (!(err instanceof UniqueConstraintError)) throw err;
    console.log(`refused duplicate title; events emitted: ${seen.length - before}`);
  }

  console.log("a delete whose listener throws:");
  const deleted = await tasks.delete(first._id);
  console.log(`  deleted: ${deleted}, still there: ${(await tasks.get(first._id)) !== undefined}`);
  console.log(`  listenerError: ${listenerErrors.join("; ")}`);
  if (!deleted || listenerErrors.length !== 1) throw new Error("the delete should commit and its listener error be reported once");

  const perCollection = new Map<string, number>();
  for (const e of seen) perCollection.set(e.collection, (perCollection.get(e.collection) ?? 0) + 1);
  console.log(`database listener saw ${seen.length} events: ${[...perCollection].map(([c, n]) => `${c} ${n}`).join(", ")}`);
  const seqs = seen.map((e) => e.seq);
  if (seqs.some((s, i) => i > 0 && s < seqs[i - 1])) throw new Error(`events out of seq order: ${seqs.join(", ")}`);

  await db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
