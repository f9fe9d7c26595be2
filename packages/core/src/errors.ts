/**
 * Every failure a caller, their data or the disk can cause is a TidemarkError
 * with a stable `code`. Codes never change meaning; new ones are only added.
 * A call that throws one of these leaves the database as it was.
 */
export const ErrorCode = {
  /** An option is missing, of the wrong type or out of range; the message names `options.x`. */
  INVALID_OPTION: 'TM_INVALID_OPTION',
  /** A table definition is malformed (bad column type, empty primary key, bad default, ...). */
  INVALID_SCHEMA: 'TM_INVALID_SCHEMA',
  /** A value does not fit its column's type or a non-nullable column is missing; the message names the column. */
  SCHEMA_VIOLATION: 'TM_SCHEMA_VIOLATION',
  /** An insert found a live row with the same primary key, or a unique index already holds the value. */
  DUPLICATE_KEY: 'TM_DUPLICATE_KEY',
  /** An update or delete named a primary key with no live row. */
  NOT_FOUND: 'TM_NOT_FOUND',
  /** The named table does not exist. */
  UNKNOWN_TABLE: 'TM_UNKNOWN_TABLE',
  /** The named column does not exist in the table. */
  UNKNOWN_COLUMN: 'TM_UNKNOWN_COLUMN',
  /** The named index does not exist on the table. */
  UNKNOWN_INDEX: 'TM_UNKNOWN_INDEX',
  /** A table with that name already exists. */
  TABLE_EXISTS: 'TM_TABLE_EXISTS',
  /** Another transaction committed a conflicting change first. Retryable: run the transaction again. */
  CONFLICT: 'TM_CONFLICT',
  /** An encoded row is larger than the engine's row limit. */
  ROW_TOO_LARGE: 'TM_ROW_TOO_LARGE',
  /** The database was closed. */
  CLOSED: 'TM_CLOSED',
  /** The transaction already committed or aborted. */
  TXN_FINISHED: 'TM_TXN_FINISHED',
  /** A synchronous transaction callback returned a promise; use an async transaction instead. */
  TXN_NOT_SYNC: 'TM_TXN_NOT_SYNC',
  /** An engine limit was reached (too many tables, a table's memory, the commit clock). */
  LIMIT_EXCEEDED: 'TM_LIMIT_EXCEEDED',
  /** The log is behind by more than options.maxBacklogBytes; retry once earlier commits are durable. Retryable. */
  BUSY: 'TM_BUSY',
  /** A file failed its checks (checksum, magic, bounds); the message names the file and offset. */
  CORRUPT: 'TM_CORRUPT',
  /** Another live process holds the database directory's LOCK file. */
  LOCKED: 'TM_LOCKED',
  /** The operation needs a database directory (open with options.dir); this database lives in memory only. */
  NO_DIRECTORY: 'TM_NO_DIRECTORY',
  /** The operating system failed a file operation (EIO, a failed fdatasync, ...); the message names the file and the cause. A full disk is DISK_FULL. */
  IO_ERROR: 'TM_IO_ERROR',
  /**
   * The disk is full (ENOSPC, a quota, a short write): the database is
   * read-only until space returns. Nothing acknowledged is lost; commits in
   * flight stay pending and finish when the log can be written again.
   * Not `retryable` at once: try again after space is freed (stats show it).
   */
  DISK_FULL: 'TM_DISK_FULL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class TidemarkError extends Error {
  override name = 'TidemarkError';
  readonly code: ErrorCode;
  /** Whether running the same operation again may succeed (conflicts, a busy log). */
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.retryable = code === ErrorCode.CONFLICT || code === ErrorCode.BUSY;
  }
}

export function isTidemarkError(error: unknown, code?: ErrorCode): error is TidemarkError {
  return error instanceof TidemarkError && (code === undefined || error.code === code);
}

const CODES = new Set<string>(Object.values(ErrorCode));

/** A code that crossed a thread boundary as a string, back as an ErrorCode (IO_ERROR if it is not one). */
export function errorCodeOf(code: string | undefined): ErrorCode {
  return code !== undefined && CODES.has(code) ? (code as ErrorCode) : ErrorCode.IO_ERROR;
}
