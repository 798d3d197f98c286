/**
 * Moving a collection between databases as NDJSON (one JSON document per line, with `_id`), the
 * format `lsmdoc export` / `lsmdoc import` use.
 *
 * Export streams with `find()`, so memory stays flat however large the collection is; import uses
 * `insertMany` in batches: each batch is one atomic, durable write (one log sync), which is much
 * cheaper than a sync per document, while a crash mid-import loses at most the batch in flight.
 *
 * Run: npm run build && node dist/examples/import-export.js
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { open, z, type Collection, type Database } from "lsmdoc";

const Customer = z.object({
  email: z.email(),
  name: z.string(),
  country: z.string(),
  orders: z.number().int().min(0),
});
const COUNT = 2_500;
const BATCH = 500;

/** The customers collection of `db`, with the same indexes in both databases. */
function customersOf(db: Database): Collection<typeof Customer> {
  return db.collection("customers", Customer, { indexes: [{ fields: ["email"], unique: true }, { fields: ["country"] }] });
}

async function exportNdjson(from: Collection<typeof Customer>, file: string): Promise<number> {
  const out = createWriteStream(file);
  let n = 0;
  for await (const doc of from.find({}, { sort: { _id: 1 } })) {
    // Respect backpressure: wait for the stream to drain instead of buffering the whole file.
    if (!out.write(`${JSON.stringify(doc)}\n`)) await once(out, "drain");
    n++;
  }
  out.end();
  await once(out, "finish");
  return n;
}

async function importNdjson(into: Collection<typeof Customer>, file: string): Promise<number> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let batch: Array<z.input<typeof Customer> & { _id: string }> = [];
  let n = 0;
  for await (const line of lines) {
    if (line.trim() === "") continue;
    batch.push(JSON.parse(line));
    if (batch.length === BATCH) {
      n += (await into.insertMany(batch)).length;
      batch = [];
    }
  }
  if (batch.length > 0) n += (await into.insertMany(batch)).length;
  return n;
}

const root = mkdtempSync(join(tmpdir(), "lsmdoc-import-export-"));
try {
  const countries = ["DE", "FR", "JP", "NZ", "US"];
  const source = await open(join(root, "source"));
  const customers = customersOf(source);
  for (let b = 0; b < COUNT; b += BATCH) {
    await customers.insertMany(
      Array.from({ length: Math.min(BATCH, COUNT - b) }, (_, j) => {
        const i = b + j;
        return { email: `customer${i}@example.com`, name: `Customer ${i}`, country: countries[i % countries.length], orders: (i * 7) % 31 };
      }),
    );
  }

  const file = join(root, "customers.ndjson");
  const exported = await exportNdjson(customers, file);
  console.log(`exported ${exported} documents (${statSync(file).size} bytes of NDJSON)`);

  const target = await open(join(root, "target"));
  const copy = customersOf(target);
  const imported = await importNdjson(copy, file);
  console.log(`imported ${imported} documents in batches of ${BATCH}`);

  // Verify: same counts overall and per index value, same documents under the unique index.
  const [srcCount, dstCount] = [await customers.count(), await copy.count()];
  console.log(`counts: source ${srcCount}, target ${dstCount}`);
  if (srcCount !== COUNT || dstCount !== COUNT) throw new Error(`expected ${COUNT} documents in both, got ${srcCount} and ${dstCount}`);
  for (const country of countries) {
    const [a, b] = [await customers.count({ country }), await copy.count({ country })];
    if (a !== b) throw new Error(`country ${country}: ${a} in source, ${b} in target`);
  }
  const probe = "customer1234@example.com";
  const query = copy.find({ email: probe });
  const plan = query.explain();
  const [found] = await query.toArray();
  const original = await customers.findOne({ email: probe });
  console.log(`lookup by email: ${plan.strategy} on ${plan.index} -> ${found?.name} (_id ${found?._id})`);
  if (plan.strategy !== "index" || found === undefined || JSON.stringify(found) !== JSON.stringify(original)) {
    throw new Error(`the unique index lookup should find the same document in both databases`);
  }

  await source.close();
  await target.close();
} finally {
  rmSync(root, { recursive: true, force: true });
}
