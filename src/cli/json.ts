/**
 * JSON at the CLI's edges. Output: documents as one-line JSON with Dates as ISO strings, binary as
 * base64 and bigints as decimal strings (see the help texts). Input filters: `{"$date": iso}` and
 * `{"$binary": base64}` stand for a Date and binary data, since JSON has neither.
 */
import { UsageError } from "./usage-error.js";

function replacer(this: unknown, key: string, value: unknown): unknown {
  // `value` has been through toJSON already (a Buffer would be {type, data}); read the original.
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("base64");
  if (typeof raw === "bigint") return raw.toString();
  return value;
}

/** One NDJSON line (with its newline) for `doc`. */
export function toJsonLine(doc: unknown): string {
  return `${JSON.stringify(doc, replacer)}\n`;
}

function revive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive);
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value);
  if (entries.length === 1) {
    const [k, v] = entries[0]!;
    if (k === "$date") {
      const d = typeof v === "string" || typeof v === "number" ? new Date(v) : new Date(NaN);
      if (Number.isNaN(d.getTime())) throw new UsageError(`filter: {"$date": ...} needs an ISO 8601 string or epoch milliseconds, got ${JSON.stringify(v)}`);
      return d;
    }
    if (k === "$binary") {
      if (typeof v !== "string") throw new UsageError(`filter: {"$binary": ...} needs a base64 string`);
      return new Uint8Array(Buffer.from(v, "base64"));
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, revive(v)]));
}

/** The filter given on the command line: a JSON object, with `$date`/`$binary` values revived. */
export function parseFilter(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`the filter is not valid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new UsageError("the filter must be a JSON object, e.g. '{\"age\": {\"$gte\": 30}}'");
  }
  return revive(parsed) as Record<string, unknown>;
}
