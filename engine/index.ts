/**
 * Public entry of the key-value engine (`lsmdoc/engine`): the engine, write batches, snapshots,
 * options and the error classes. Everything else under `engine/` is internal.
 */
export { Engine, EngineIterator } from "./db.js";
export type { EngineStats, IterateOptions, ReadOptions, WriteOptions, VerifyReport } from "./db.js";
export { WriteBatch } from "./write-batch.js";
export { Snapshot } from "./snapshot.js";
export type { EngineOptions } from "./options.js";
export type { FileSystem, WritableFile, RandomAccessFile, FileLock } from "./fs/fs.js";
export {
  LsmdocError,
  InvalidArgumentError,
  DatabaseClosedError,
  DatabaseLockedError,
  CorruptionError,
  IOError,
  isCorruption,
} from "./errors.js";
export type { LsmdocErrorCode } from "./errors.js";
