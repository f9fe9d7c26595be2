/**
 * The options objects of the calls after open(), checked the way open()
 * checks its own (options.ts): an object or nothing, known keys only,
 * INVALID_OPTION naming `options.x` for a key or value that is wrong. These
 * run on every read and write, so a call without options costs one
 * comparison and nothing is allocated.
 */
import { ErrorCode, TidemarkError } from './errors.js';
import { checkOptionKeys, validateDurability, validateIsolation, validateRetries } from './options.js';
import type { Durability, Isolation } from './txn/engine.js';

const WRITE_KEYS: ReadonlySet<string> = new Set(['durability']);
const TRANSACTION_KEYS: ReadonlySet<string> = new Set(['isolation', 'durability', 'retries']);
const RETRY_KEYS: ReadonlySet<string> = new Set(['retries']);
const READ_KEYS: ReadonlySet<string> = new Set(['columns']);

/** The durability a write asked for (options.durability), or `fallback`. */
export function writeDurability(options: unknown, fallback: Durability): Durability {
  if (options === undefined) return fallback;
  checkOptionKeys(options, WRITE_KEYS);
  const durability = (options as { durability?: unknown }).durability;
  return durability === undefined ? fallback : validateDurability(durability, 'options.durability');
}

/** A transaction's options hold known keys only (each value is checked where it is read). */
export function checkTransactionOptions(options: unknown): void {
  checkOptionKeys(options, TRANSACTION_KEYS);
}

export function transactionIsolation(options: { isolation?: unknown } | undefined, fallback: Isolation): Isolation {
  const isolation = options?.isolation;
  return isolation === undefined ? fallback : validateIsolation(isolation, 'options.isolation');
}

export function transactionDurability(options: { durability?: unknown } | undefined, fallback: Durability): Durability {
  const durability = options?.durability;
  return durability === undefined ? fallback : validateDurability(durability, 'options.durability');
}

/** The retries `db.retry()` or a transaction asked for (options.retries), or `fallback`. */
export function retriesOf(options: unknown, fallback: number, keys: 'retry' | 'transaction'): number {
  if (options === undefined) return fallback;
  checkOptionKeys(options, keys === 'retry' ? RETRY_KEYS : TRANSACTION_KEYS);
  const retries = (options as { retries?: unknown }).retries;
  return retries === undefined ? fallback : validateRetries(retries, 'options.retries');
}

/** The column names a read asked for (options.columns), or undefined for every column. */
export function readColumns(options: unknown): readonly string[] | undefined {
  if (options === undefined) return undefined;
  checkOptionKeys(options, READ_KEYS);
  return columnsOption((options as { columns?: unknown }).columns);
}

/** options.columns of a read or a scan: undefined or an array (the names themselves are checked against the table). */
export function columnsOption(columns: unknown): readonly string[] | undefined {
  if (columns !== undefined && !Array.isArray(columns)) {
    throw new TidemarkError(ErrorCode.INVALID_OPTION, 'options.columns must be an array of column names');
  }
  return columns as readonly string[] | undefined;
}
