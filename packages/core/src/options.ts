/**
 * Options in three steps: what callers pass (OpenOptions), validation that
 * names the bad `options.x`, and the filled options the engine uses.
 */
import { ErrorCode, TidemarkError } from './errors.js';
import type { TableDef } from './schema/types.js';
import type { Isolation } from './txn/engine.js';
import { DiscardSink, type LogSink } from './txn/sink.js';

export interface OpenOptions {
  /** Tables to create at open, as if passed to `db.createTable` one by one. */
  tables?: TableDef[];
  /** Isolation of transactions that do not choose one. Default 'snapshot'. */
  isolation?: Isolation;
  /** How often `db.transaction` re-runs a callback after a conflict. Default 3; 0 to 100. */
  retries?: number;
  /**
   * Where committed changes are handed. Default: discarded — the durable
   * write-ahead log is the next step of the project; until then Tidemark
   * keeps data in memory only.
   */
  logSink?: LogSink;
}

export interface FilledOptions {
  readonly tables: readonly TableDef[];
  readonly isolation: Isolation;
  readonly retries: number;
  readonly logSink: LogSink;
}

const known = new Set(['tables', 'isolation', 'retries', 'logSink']);

function invalid(message: string): TidemarkError {
  return new TidemarkError(ErrorCode.INVALID_OPTION, message);
}

export function validateIsolation(value: unknown, name: string): Isolation {
  if (value !== 'snapshot' && value !== 'serializable') throw invalid(`${name} must be 'snapshot' or 'serializable'`);
  return value;
}

export function validateRetries(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 100) {
    throw invalid(`${name} must be an integer from 0 to 100`);
  }
  return value;
}

export function validateOptions(options: unknown = {}): FilledOptions {
  if (options === null || typeof options !== 'object') throw invalid('options must be an object');
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!known.has(key)) throw invalid(`options.${key} is not an option`);
  if (o.tables !== undefined && !Array.isArray(o.tables)) throw invalid('options.tables must be an array of table definitions');
  const sink = o.logSink;
  if (sink !== undefined && (sink === null || typeof (sink as LogSink).begin !== 'function')) {
    throw invalid('options.logSink must implement LogSink');
  }
  return {
    tables: (o.tables as TableDef[] | undefined) ?? [],
    isolation: o.isolation === undefined ? 'snapshot' : validateIsolation(o.isolation, 'options.isolation'),
    retries: o.retries === undefined ? 3 : validateRetries(o.retries, 'options.retries'),
    logSink: (sink as LogSink | undefined) ?? new DiscardSink(),
  };
}
