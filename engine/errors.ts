/**
 * The lsmdoc error hierarchy (SPEC §4). Every error the library throws on purpose is an
 * `LsmdocError` with a stable `code`; callers branch on `instanceof` or on `code`, never on the
 * message. The engine owns the hierarchy so that it can throw its own errors without importing the
 * document layer; document-level errors (validation, unique constraints) extend the same base class
 * in `collections/errors.ts`.
 */

/** Every `code` an {@link LsmdocError} can carry. */
export type LsmdocErrorCode =
  | "LSMDOC_INVALID_ARGUMENT"
  | "LSMDOC_CORRUPTION"
  | "LSMDOC_IO_ERROR"
  | "LSMDOC_DATABASE_CLOSED"
  | "LSMDOC_LOCKED"
  | "LSMDOC_VALIDATION"
  | "LSMDOC_UNIQUE_VIOLATION";

/** Base class of every error lsmdoc throws on purpose. */
export class LsmdocError extends Error {
  /** Stable, machine-readable code. */
  readonly code: LsmdocErrorCode;

  constructor(code: LsmdocErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * A key, value, option, filter or update was not acceptable. Nothing was written.
 *
 * @example
 * ```ts
 * await engine.put(new Uint8Array(0), value); // throws InvalidArgumentError: key length 0
 * ```
 */
export class InvalidArgumentError extends LsmdocError {
  constructor(message: string) {
    super("LSMDOC_INVALID_ARGUMENT", message);
  }
}

/** A method was called after `close()`. Nothing was written. */
export class DatabaseClosedError extends LsmdocError {
  constructor(message = "lsmdoc: the database is closed") {
    super("LSMDOC_DATABASE_CLOSED", message);
  }
}

/** Another open database (in this or another process) holds the directory. Nothing was written. */
export class DatabaseLockedError extends LsmdocError {
  /** The directory that is locked. */
  readonly dir: string;
  /** Process id of the holder, when known. */
  readonly holderPid: number | undefined;

  constructor(dir: string, holderPid?: number) {
    super(
      "LSMDOC_LOCKED",
      `lsmdoc: ${dir} is locked by another open database` +
        (holderPid !== undefined ? ` (process ${holderPid})` : ""),
    );
    this.dir = dir;
    this.holderPid = holderPid;
  }
}

/**
 * A checksum or structural check failed. Names the file and the byte offset where the damage was
 * found. Reads stop; nothing is rewritten.
 */
export class CorruptionError extends LsmdocError {
  /** Path of the damaged file. */
  readonly file: string;
  /** Byte offset in `file` where the damage was detected. */
  readonly offset: number;

  constructor(file: string, offset: number, detail: string) {
    super("LSMDOC_CORRUPTION", `lsmdoc: corruption in ${file} at offset ${offset}: ${detail}`);
    this.file = file;
    this.offset = offset;
  }
}

/**
 * The file system failed underneath the engine (disk full, I/O error). After a failed log write the
 * engine refuses further writes, because the log's tail is in an unknown state; reopen to recover.
 */
export class IOError extends LsmdocError {
  constructor(message: string, cause?: unknown) {
    super("LSMDOC_IO_ERROR", message, { cause });
  }
}

/** True when `err` is a {@link CorruptionError}. */
export function isCorruption(err: unknown): err is CorruptionError {
  return err instanceof CorruptionError;
}
