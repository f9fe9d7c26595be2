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
  /**
   * A recovery task stopped because the main thread canceled its ring after
   * another task failed. open() rejects with that first failure, so a caller
   * meets this code only in what a task reports across the thread boundary.
   */
  CANCELED: 'TM_CANCELED',
  /**
   * A schema change that cannot be made in place: a column's type or
   * nullability changed, a primary-key column or a column an index uses
   * dropped, or a destructive difference open({ migrate }) was not asked for
   * by name. The message says the supported way (docs/SCHEMA.md).
   */
  SCHEMA_CHANGE_REFUSED: 'TM_SCHEMA_CHANGE_REFUSED',
  /** A write, schema change, checkpoint or merge on a database opened with options.readOnly, or on a replica. */
  READ_ONLY: 'TM_READ_ONLY',
  /** A change feed asked for commits the WAL no longer holds; the message names the oldest commitTs a feed can start after. */
  CHANGES_EXPIRED: 'TM_CHANGES_EXPIRED',
  /**
   * A `replicated` commit, or a replica's wait, timed out before the stream
   * answered, or no replication is attached. For a commit the outcome is
   * unknown to replicas: it is applied and durable here, and ships once the
   * stream is back (docs/REPLICATION.md).
   */
  REPLICATION_UNAVAILABLE: 'TM_REPLICATION_UNAVAILABLE',
  /**
   * This primary was fenced off (another writer or a later epoch holds the
   * stream, or its lease was lost): the commit was never sent, or the stream
   * refused it, so no other node has it. It ships nothing more.
   */
  REPLICATION_FENCED: 'TM_REPLICATION_FENCED',
  /** A read on a replica that has not heard from its stream within options.maxStalenessMs: it would serve old data. */
  STALE: 'TM_STALE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The codes only the command-line tool prints, as `tidemark: <message>
 * [<code>]`; its other failures carry the ErrorCode of what failed.
 */
export const CliErrorCode = {
  /** A usage mistake a command finds once it knows more (import without the --schema it needs); exit status 2. */
  USAGE: 'TM_USAGE',
  /** The path holds no database (no LOCK, root file, WAL segment or pair file), so no command makes one there; exit status 1. */
  NO_DATABASE: 'TM_NO_DATABASE',
} as const;

export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];

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
export function errorCodeOf(code: unknown): ErrorCode {
  return typeof code === 'string' && CODES.has(code) ? (code as ErrorCode) : ErrorCode.IO_ERROR;
}

/**
 * An error as it crosses a thread boundary. A structured clone of an Error
 * keeps its message but neither its class nor its `code`, so a worker sends
 * this instead and the main thread rebuilds the TidemarkError from it.
 */
export interface WireError {
  code: ErrorCode;
  message: string;
}

/**
 * Anything a worker caught, ready to post: a registered code is kept; any
 * other error (a bug, an errno the file layer did not map) is IO_ERROR, since
 * off the main thread only the file work fails in ways a caller must see.
 */
export function toWire(error: unknown): WireError {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return { code: errorCodeOf(code), message: error instanceof Error ? error.message : String(error) };
}

/**
 * The TidemarkError a WireError (or anything with a `code` and a `message`,
 * such as an Error cloned by a worker's 'error' event) stands for; `context`
 * (which thread, which task) leads the message. An unknown code is IO_ERROR.
 */
export function fromWire(
  wire: { code?: unknown; message?: unknown },
  context?: string,
  options?: { cause?: unknown },
): TidemarkError {
  const message = String(wire.message);
  return new TidemarkError(errorCodeOf(wire.code), context === undefined ? message : `${context}: ${message}`, options);
}
