/**
 * Document-level errors (SPEC §4). They extend the engine's `LsmdocError` so that one
 * `instanceof LsmdocError` covers everything lsmdoc throws.
 */
import { LsmdocError } from "../engine/errors.js";

/** One problem found by schema validation, as zod reports it. */
export interface ValidationIssue {
  /** Where in the document (keys and array indexes). */
  path: PropertyKey[];
  /** zod's issue code, e.g. "invalid_type", "too_small". */
  code: string;
  message: string;
}

/**
 * A document failed its collection's schema. Carries the zod issues and the collection. Nothing
 * was written.
 */
export class ValidationError extends LsmdocError {
  readonly collection: string;
  readonly issues: ValidationIssue[];

  constructor(collection: string, issues: ValidationIssue[]) {
    const first = issues[0];
    const where = first && first.path.length > 0 ? ` at ${first.path.map(String).join(".")}` : "";
    super(
      "LSMDOC_VALIDATION",
      `lsmdoc: document for "${collection}" failed validation${where}: ${first?.message ?? "invalid"}` +
        (issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? "s" : ""})` : ""),
    );
    this.collection = collection;
    this.issues = issues;
  }
}

/**
 * A unique index (or `_id`) already holds the value. Carries the collection, the index name, the
 * value and the `_id` of the document that holds it. Nothing was written.
 */
export class UniqueConstraintError extends LsmdocError {
  readonly collection: string;
  readonly index: string;
  readonly value: unknown;
  readonly existingId: string;

  constructor(collection: string, index: string, value: unknown, existingId: string) {
    super(
      "LSMDOC_UNIQUE_VIOLATION",
      `lsmdoc: "${collection}" index "${index}" already holds ${JSON.stringify(value)} (document ${existingId})`,
    );
    this.collection = collection;
    this.index = index;
    this.value = value;
    this.existingId = existingId;
  }
}
