/**
 * lsmdoc: an embedded, typed document store with its own LSM-tree engine.
 *
 * This is the package's public entry. Each export is named explicitly; internals are not exported.
 */
export { open, Database } from "./database.js";
export type { DatabaseOptions, DatabaseStats } from "./database.js";
export { Collection } from "../collections/collection.js";
export type { CollectionOptions } from "../collections/collection.js";
export { Cursor } from "../collections/cursor.js";
export type { QueryExplanation } from "../collections/cursor.js";
export type { ChangeEvent } from "../collections/change-events.js";
export type {
  Doc,
  InsertDoc,
  DocumentSchema,
  Filter,
  Condition,
  Sort,
  SortDirection,
  FindOptions,
  Update,
  IndexDefinition,
  IndexFields,
  Path,
  PathValue,
} from "../collections/types.js";
export { ValidationError, UniqueConstraintError } from "../collections/errors.js";
export type { ValidationIssue } from "../collections/errors.js";
export { z } from "zod";

export { Engine, EngineIterator, WriteBatch, Snapshot } from "../engine/index.js";
export type { EngineOptions, EngineStats, IterateOptions, ReadOptions, WriteOptions, VerifyReport } from "../engine/index.js";
export {
  LsmdocError,
  InvalidArgumentError,
  DatabaseClosedError,
  DatabaseLockedError,
  CorruptionError,
  IOError,
  isCorruption,
} from "../engine/index.js";
export type { LsmdocErrorCode } from "../engine/index.js";
