/**
 * lsmdoc: an embedded, typed document store with its own LSM-tree engine.
 *
 * This is the package's public entry. Each export is named explicitly; internals are not exported.
 */
export { Engine, EngineIterator, WriteBatch, Snapshot } from "../engine/index.js";
export type { EngineOptions, EngineStats, IterateOptions, ReadOptions, WriteOptions } from "../engine/index.js";
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
