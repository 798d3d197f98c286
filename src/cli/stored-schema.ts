/**
 * The import validator: the JSON Schema the application stored in the catalog (zod's
 * `toJSONSchema(schema, { io: "input", unrepresentable: "any" })`) turned back into a zod schema
 * with `z.fromJSONSchema`.
 *
 * Differences from the application's own schema, inherent to JSON Schema: fields it cannot express
 * (dates, binary, bigints, custom checks, transforms) were stored as `{}` and accept any JSON
 * value; refinements are not applied. A zod object strips keys it does not name, but its JSON
 * Schema (input side) leaves `additionalProperties` unset, which `fromJSONSchema` reads as "keep
 * them"; so keys not named by an object schema that leaves `additionalProperties` unset are dropped
 * here, as the application would. A collection stored without a JSON Schema is checked only for
 * being a JSON object.
 */
import { z } from "zod";

type AnyDoc = Record<string, unknown>;

export type Validation = { ok: true; doc: AnyDoc } | { ok: false; reason: string };

export interface StoredSchema {
  /** Validates `input` (without `_id` unless the schema declares it) and returns the document to store. */
  validate(input: AnyDoc): Validation;
  /** Why validation is weaker than the application's, when it is (for a note on stderr). */
  readonly caveat: string | undefined;
}

function isObject(v: unknown): v is AnyDoc {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Drops keys that a zod object schema would have stripped (see the module comment). */
function stripUnknown(schema: unknown, value: unknown): unknown {
  if (!isObject(schema)) return value;
  if (Array.isArray(value)) {
    const items = schema.items;
    return isObject(items) ? value.map((v) => stripUnknown(items, v)) : value;
  }
  if (!isObject(value)) return value;
  const props = schema.properties;
  if (!isObject(props)) return value;
  const strip = schema.additionalProperties === undefined && schema.patternProperties === undefined;
  const out: AnyDoc = {};
  for (const [k, v] of Object.entries(value)) {
    if (Object.hasOwn(props, k)) out[k] = stripUnknown(props[k], v);
    else if (!strip) out[k] = v;
  }
  return out;
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => `${i.path.length > 0 ? i.path.map(String).join(".") : "(document)"}: ${i.message}`)
    .join("; ");
}

export function storedSchema(jsonSchema: unknown): StoredSchema {
  if (jsonSchema === undefined || jsonSchema === null) {
    return { validate: (doc) => ({ ok: true, doc }), caveat: "the collection has no stored JSON Schema; lines are checked only for being JSON objects" };
  }
  let schema: z.ZodType;
  try {
    schema = z.fromJSONSchema(jsonSchema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (err) {
    return {
      validate: (doc) => ({ ok: true, doc }),
      caveat: `the stored JSON Schema cannot be used (${(err as Error).message}); lines are checked only for being JSON objects`,
    };
  }
  return {
    validate(input) {
      const r = schema.safeParse(input);
      if (!r.success) return { ok: false, reason: `schema: ${describeIssues(r.error.issues)}` };
      if (!isObject(r.data)) return { ok: false, reason: "schema: the document is not an object" };
      return { ok: true, doc: stripUnknown(jsonSchema, r.data) as AnyDoc };
    },
    caveat: undefined,
  };
}
