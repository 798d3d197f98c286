/**
 * `find` and `export`: documents out as NDJSON, through the library's planner and cursor (one
 * snapshot per command, streamed: nothing is collected in memory except an in-memory sort, which
 * the CLI never asks for).
 */
import type { Writable } from "node:stream";
import type { RawCollection } from "../../collections/raw-collection.js";
import { toJsonLine } from "./json.js";
import { LineWriter } from "./output.js";

/** Writes the documents matching `filter` (at most `limit`) to `out`; resolves with their count. */
export async function writeDocuments(collection: RawCollection, filter: Record<string, unknown>, limit: number | undefined, out: Writable): Promise<number> {
  const writer = new LineWriter(out);
  let n = 0;
  for await (const doc of collection.find(filter, limit)) {
    await writer.write(toJsonLine(doc));
    n++;
  }
  await writer.flush();
  return n;
}
