/**
 * `import`: NDJSON documents from a stream into a stored collection.
 *
 * Each line is parsed and validated on its own (stored-schema.ts); valid documents are written in
 * batches of BATCH_SIZE, each ONE engine batch holding every accepted document with all its index
 * entries (collections/raw-collection.ts). A line is rejected, writing nothing, for bad JSON, a
 * schema failure, a taken `_id` or unique value, or an unindexable value; it is reported by its
 * line number, counting from 1.
 */
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { UniqueConstraintError } from "../../collections/errors.js";
import { generateId } from "../../collections/object-id.js";
import type { RawCollection, RawInsert } from "../../collections/raw-collection.js";
import { storedSchema } from "./stored-schema.js";

/** Documents per engine batch. */
export const BATCH_SIZE = 1000;
/** A progress line on stderr every this many input lines. */
export const PROGRESS_EVERY = 10_000;

export interface ImportReport {
  lines: number;
  imported: number;
  rejected: number;
}

function reasonOf(err: Error): string {
  if (err instanceof UniqueConstraintError) {
    return err.index === "_id"
      ? `duplicate _id ${JSON.stringify(err.value)}`
      : `duplicate value ${JSON.stringify(err.value)} in unique index "${err.index}" (held by document ${err.existingId})`;
  }
  return err.message.replace(/^lsmdoc: /, "");
}

export async function importDocuments(collection: RawCollection, input: Readable, errors: Writable): Promise<ImportReport> {
  const schema = storedSchema(collection.jsonSchema);
  if (schema.caveat !== undefined) errors.write(`import: note: ${schema.caveat}\n`);
  const report: ImportReport = { lines: 0, imported: 0, rejected: 0 };
  let batch: RawInsert[] = [];
  let batchLines: number[] = [];
  // Rejections of lines after the batch's first one wait for the batch, so that stderr lists
  // rejected lines in input order (a batch's own rejections are only known when it is written).
  let held: Array<[line: number, reason: string]> = [];
  const reject = (line: number, reason: string): void => {
    report.rejected++;
    if (batch.length === 0) errors.write(`line ${line}: ${reason}\n`);
    else held.push([line, reason]);
  };
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const results = await collection.insertBatch(batch);
    results.forEach((err, i) => {
      if (err === undefined) report.imported++;
      else {
        report.rejected++;
        held.push([batchLines[i]!, reasonOf(err)]);
      }
    });
    held.sort((a, b) => a[0] - b[0]);
    for (const [line, reason] of held) errors.write(`line ${line}: ${reason}\n`);
    batch = [];
    batchLines = [];
    held = [];
  };

  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const text of lines) {
    if (batch.length >= BATCH_SIZE || held.length >= BATCH_SIZE) await flush();
    const lineNo = ++report.lines;
    if (lineNo % PROGRESS_EVERY === 0) {
      errors.write(`import: ${lineNo} lines read, ${report.imported} imported so far\n`);
    }
    if (text.trim().length === 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      reject(lineNo, `invalid JSON: ${(err as Error).message}`);
      continue;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      reject(lineNo, "a document must be a JSON object");
      continue;
    }
    const input = value as Record<string, unknown>;
    let id: unknown;
    let body: Record<string, unknown>;
    if (collection.schemaHasId) {
      const v = schema.validate(input);
      if (!v.ok) {
        reject(lineNo, v.reason);
        continue;
      }
      ({ _id: id, ...body } = v.doc);
    } else {
      const { _id, ...rest } = input;
      const v = schema.validate(rest);
      if (!v.ok) {
        reject(lineNo, v.reason);
        continue;
      }
      id = _id;
      body = v.doc;
    }
    if (id === undefined) id = generateId();
    if (typeof id !== "string" || id.length === 0) {
      reject(lineNo, "_id must be a non-empty string");
      continue;
    }
    batch.push({ id, doc: body });
    batchLines.push(lineNo);
  }
  await flush();
  return report;
}
