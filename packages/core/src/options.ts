/**
 * Options in three steps: what callers pass (OpenOptions), validation that
 * names the bad `options.x`, and the filled options the engine uses.
 */
import { ErrorCode, TidemarkError } from './errors.js';
import { DEFAULT_FILE_MODE } from './files/file_layer.js';
import type { TableDef } from './schema/types.js';
import type { Durability, Isolation } from './txn/engine.js';
import type { LogSink } from './txn/sink.js';
import type { ProgressListener } from './recovery/progress.js';

export interface OpenOptions {
  /**
   * The database directory (created if missing). Every commit is logged
   * there and replayed at the next open. Without it the database lives in
   * memory only.
   */
  dir?: string;
  /** Tables to create at open if they do not exist yet; an existing table must have the same definition. */
  tables?: TableDef[];
  /** Isolation of transactions that do not choose one. Default 'snapshot'. */
  isolation?: Isolation;
  /** Durability of commits that do not choose one. Default 'durable'. */
  durability?: Durability;
  /** Commits nobody waits on (`delayed`) are made durable within this many milliseconds. Default 10; 0 to 10,000. */
  maxDelayMs?: number;
  /** How often `db.transaction` re-runs a callback after a conflict. Default 3; 0 to 100. */
  retries?: number;
  /** Size of each pre-allocated WAL segment. Default 64 MiB; 64 KiB to 1 GiB. */
  walSegmentBytes?: number;
  /** Size of the log ring between the main thread and the log writer. Power of two; default 16 MiB; 64 KiB to 1 GiB. */
  ringBytes?: number;
  /** Log records waiting for room in the ring, at most; past it writes fail with TM_BUSY. Default 256 MiB. */
  maxBacklogBytes?: number;
  /** Where committed changes go instead of the log (tests and benchmarks); not with `dir`. */
  logSink?: LogSink;
  /** A checkpoint data file is closed at this size and the next pair opened. Default 128 MiB; 64 KiB to 1 GiB, a multiple of 8. */
  dataFileSizeBytes?: number;
  /** Checkpoint after this many WAL bytes since the last one (also bounds the WAL on disk). Default 1 GiB; 64 KiB to 64 GiB. */
  checkpointWalBytes?: number;
  /** Checkpoint when this long has passed since the last one and something changed. Default 60,000 ms; 0 turns it off. */
  checkpointIntervalMs?: number;
  /** Pre-allocated checkpoint file pairs kept ready ahead of need. Default 1; 0 to 16. */
  precreatedFiles?: number;
  /**
   * Default true. False runs no checkpoint streamer: the WAL is never
   * recycled and every open replays all of it after the last checkpoint
   * (for measuring what checkpointing costs, and for tests).
   */
  checkpoints?: boolean;
  /**
   * Threads that load checkpoint file pairs at open, at most (the pool has one
   * per pair up to this); 0 to 64, where 0 loads on the main thread. Default:
   * one per core but the main thread's (cores - 1); none on one core or when
   * the pairs hold less than 64 MiB, where a pool was measured to cost more
   * than it saves.
   */
  recoveryWorkers?: number;
  /**
   * Default true. Merge checkpoint file pairs in the background (on a worker
   * thread): adjacent pairs whose live rows fit one data file become one, and
   * a pair with at least `mergeDeadFraction` of its rows deleted is rewritten
   * without them. False never merges (disk use then grows with deletes).
   */
  merges?: boolean;
  /** A single pair is merged once this share of its rows is deleted. Default 0.5; 0.05 to 1. */
  mergeDeadFraction?: number;
  /** How often the merge policy is looked at besides whenever a data file closes. Default 1,000 ms; 0: only then. */
  mergeIntervalMs?: number;
  /**
   * Default true. Copy live row versions out of arena segments that are
   * mostly dead, a slice per event-loop turn, so memory in use follows the
   * live data. False never does (memory then grows with updates).
   */
  cleaner?: boolean;
  /** Memory kept within live data / this, plus one 4 MiB segment per table: past it the sparsest segments are cleaned. Default 0.75; 0.05 to 0.95. */
  cleanerLiveFraction?: number;
  /** Called while open() recovers a directory, with bytes and rows done per phase (also published on the "tidemark:recovery" diagnostics channel). */
  onProgress?: ProgressListener;
  /**
   * Permissions of the files the database creates, less the umask; the
   * directory, if open() creates it, gets the same with search (x) where
   * read is allowed. Default 0o600 (directory 0o700): the owner only. 0o640
   * (0o750) lets the group read. Owner read and write, no execute bits.
   */
  fileMode?: number;
  /**
   * Default false. True closes the database on SIGINT and SIGTERM (made
   * durable, checkpointed, the LOCK released) and then lets the signal end
   * the process as it would have; without it Node's default ends the process
   * at once (README, "Ending a process, and who may read the files").
   */
  closeOnSignals?: boolean;
  /**
   * Default false: a table of options.tables that differs from the stored
   * one is INVALID_SCHEMA, listing every difference. True makes the
   * additive differences (new columns, nullable or with a default; new
   * indexes) as schema changes; `{ drop: [...] }` also drops the columns,
   * indexes ("table.name") and tables ("table") it names. Changes that
   * cannot be made in place are SCHEMA_CHANGE_REFUSED (docs/SCHEMA.md).
   */
  migrate?: boolean | { drop?: string[] };
  /**
   * Default false. True loads `dir` (an existing database: a backup, a
   * restored copy, one no process owns) and serves reads only: writes and
   * schema changes fail with READ_ONLY, no file is created or changed, and no
   * LOCK is taken. No log writer or streamer runs.
   */
  readOnly?: boolean;
  /**
   * Default none. A directory (it must exist) the log writer copies every
   * WAL segment to, whole and synced, once the log has moved past it and
   * before it is recycled, so a backup and the archive restore to any commit
   * after the backup (`tidemark restore --archive`). A failing archive never
   * blocks commits: it shows in db.stats().durability.archive, and segments
   * wait for it, up to options.maxRetainedWalBytes.
   */
  archiveDir?: string;
  /** Default 8 GiB. WAL bytes kept on disk for the archive beyond what checkpoints need; past it the archive skips segments (counted). */
  maxRetainedWalBytes?: number;
}

/** What open() may change in a stored schema: null, nothing. */
export interface Migration {
  readonly drop: ReadonlySet<string>;
}

export interface FilledOptions {
  readonly dir: string | null;
  readonly tables: readonly TableDef[];
  readonly isolation: Isolation;
  readonly durability: Durability;
  readonly maxDelayMs: number;
  readonly retries: number;
  readonly walSegmentBytes: number;
  readonly ringBytes: number;
  readonly maxBacklogBytes: number;
  readonly logSink: LogSink | null;
  readonly dataFileSizeBytes: number;
  readonly checkpointWalBytes: number;
  readonly checkpointIntervalMs: number;
  readonly precreatedFiles: number;
  readonly checkpoints: boolean;
  /** null: chosen from the size of the checkpoint (see OpenOptions). */
  readonly recoveryWorkers: number | null;
  readonly onProgress: ProgressListener | undefined;
  readonly merges: boolean;
  readonly mergeDeadFraction: number;
  readonly mergeIntervalMs: number;
  readonly cleaner: boolean;
  readonly cleanerLiveFraction: number;
  readonly fileMode: number;
  readonly closeOnSignals: boolean;
  readonly migrate: Migration | null;
  readonly readOnly: boolean;
  readonly archiveDir: string | null;
  readonly maxRetainedWalBytes: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/**
 * Every option's value when the caller leaves it out: the one table of
 * defaults. The known option names are its keys, and `satisfies` makes it
 * name every option of OpenOptions and FilledOptions, no more.
 */
export const DEFAULT_OPTIONS: FilledOptions = Object.freeze({
  dir: null,
  tables: [],
  isolation: 'snapshot',
  durability: 'durable',
  maxDelayMs: 10,
  retries: 3,
  walSegmentBytes: 64 * MiB,
  ringBytes: 16 * MiB,
  maxBacklogBytes: 256 * MiB,
  logSink: null,
  dataFileSizeBytes: 128 * MiB,
  checkpointWalBytes: GiB,
  checkpointIntervalMs: 60_000,
  precreatedFiles: 1,
  checkpoints: true,
  recoveryWorkers: null,
  onProgress: undefined,
  merges: true,
  mergeDeadFraction: 0.5,
  mergeIntervalMs: 1000,
  cleaner: true,
  cleanerLiveFraction: 0.75,
  fileMode: DEFAULT_FILE_MODE,
  closeOnSignals: false,
  migrate: null,
  readOnly: false,
  archiveDir: null,
  maxRetainedWalBytes: 8 * GiB,
} satisfies FilledOptions & Record<keyof OpenOptions, unknown>);

const known: ReadonlySet<string> = new Set(Object.keys(DEFAULT_OPTIONS));

/**
 * The options a component needs, copied out by name: what crosses to a
 * worker thread must be cloneable, and the filled options hold functions
 * (onProgress, logSink) and table definitions no worker reads.
 */
export function pickOptions<K extends keyof FilledOptions>(
  options: Pick<FilledOptions, K>,
  names: readonly K[],
): Pick<FilledOptions, K> {
  const picked = {} as Pick<FilledOptions, K>;
  for (const name of names) picked[name] = options[name];
  return picked;
}

function invalid(message: string): TidemarkError {
  return new TidemarkError(ErrorCode.INVALID_OPTION, message);
}

/**
 * The one check every options object of the API goes through (open's and
 * each call's): undefined, or an object whose own keys are all in `known`.
 * It allocates nothing, so calls on the commit path can afford it.
 */
export function checkOptionKeys(options: unknown, known: ReadonlySet<string>, name = 'options'): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw invalid(`${name} must be an object`);
  for (const key in options) {
    if (Object.hasOwn(options, key) && !known.has(key)) throw invalid(`${name}.${key} is not an option`);
  }
}

export function validateIsolation(value: unknown, name: string): Isolation {
  if (value !== 'snapshot' && value !== 'serializable') throw invalid(`${name} must be 'snapshot' or 'serializable'`);
  return value;
}

export function validateDurability(value: unknown, name: string): Durability {
  if (value !== 'durable' && value !== 'delayed' && value !== 'replicated')
    throw invalid(`${name} must be 'durable', 'delayed' or 'replicated'`);
  return value;
}

export function validateRetries(value: unknown, name: string): number {
  return integerIn(value, name, 0, 100);
}

function integerIn(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** The names of the options whose filled value is a number. */
type NumberOption = { [K in keyof FilledOptions]: FilledOptions[K] extends number ? K : never }[keyof FilledOptions];

function fractionOption(o: Record<string, unknown>, key: NumberOption, min: number, max: number): number {
  const value = o[key];
  if (value === undefined) return DEFAULT_OPTIONS[key];
  if (typeof value !== 'number' || !(value >= min && value <= max))
    throw invalid(`options.${key} must be a number from ${min} to ${max}`);
  return value;
}

function booleanOption(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw invalid(`${name} must be true or false`);
  return value;
}

/** A mode the owner can always read and write (the engine's own files), never executable. */
function fileModeOption(value: unknown): number {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 0 ||
    value > 0o777 ||
    (value & 0o600) !== 0o600 ||
    (value & 0o111) !== 0
  ) {
    throw invalid(
      'options.fileMode must be a file mode with owner read and write and no execute bits, such as 0o600 or 0o640',
    );
  }
  return value;
}

function sizeOption(o: Record<string, unknown>, key: NumberOption, min: number, max: number): number {
  return o[key] === undefined ? DEFAULT_OPTIONS[key] : integerIn(o[key], `options.${key}`, min, max);
}

/** An option given as true or false, or its default. */
function flagOption(
  o: Record<string, unknown>,
  key: 'checkpoints' | 'merges' | 'cleaner' | 'closeOnSignals' | 'readOnly',
): boolean {
  return o[key] === undefined ? DEFAULT_OPTIONS[key] : booleanOption(o[key], `options.${key}`);
}

function archiveDirOption(value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || value === '') throw invalid('options.archiveDir must be a non-empty path');
  return value;
}

function migrateOption(value: unknown): Migration | null {
  if (value === undefined || value === false) return null;
  if (value === true) return { drop: new Set() };
  const drop = (value as { drop?: unknown })?.drop ?? [];
  const shape = typeof value === 'object' && value !== null && Object.keys(value).every((k) => k === 'drop');
  if (!shape || !Array.isArray(drop) || !drop.every((d) => typeof d === 'string' && d.length > 0))
    throw invalid('options.migrate must be true, false, or { drop: ["table", "table.column", "table.index", ...] }');
  return { drop: new Set(drop as string[]) };
}

/**
 * The relations between options that the engine depends on, checked once
 * the options are filled; each message names both options and says why.
 */
function checkRelations(filled: FilledOptions): void {
  // The WAL is kept in whole segments: the streamer's trigger counts the segments a checkpoint spans, and the log
  // writer keeps ceil(checkpointWalBytes / walSegmentBytes) + 1 of them. A trigger under one segment bounds nothing.
  if (filled.readOnly && filled.dir === null)
    throw invalid('options.readOnly needs options.dir: it opens an existing database directory');
  if (filled.readOnly && filled.migrate !== null)
    throw invalid('options.readOnly and options.migrate cannot be used together: a read-only open changes nothing');
  if (filled.checkpointWalBytes < filled.walSegmentBytes)
    throw invalid(
      `options.checkpointWalBytes (${filled.checkpointWalBytes}) must be at least options.walSegmentBytes ` +
        `(${filled.walSegmentBytes}): the WAL is kept in whole segments, so a checkpoint trigger under one segment cannot bound it`,
    );
}

export function validateOptions(options: unknown = {}): FilledOptions {
  checkOptionKeys(options, known);
  const o = options as Record<string, unknown>;
  if (o.dir !== undefined && (typeof o.dir !== 'string' || o.dir === ''))
    throw invalid('options.dir must be a non-empty path');
  if (o.tables !== undefined && !Array.isArray(o.tables))
    throw invalid('options.tables must be an array of table definitions');
  const sink = o.logSink;
  if (sink !== undefined && (sink === null || typeof (sink as LogSink).begin !== 'function')) {
    throw invalid('options.logSink must implement LogSink');
  }
  if (sink !== undefined && o.dir !== undefined)
    throw invalid('options.logSink and options.dir cannot be used together');
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function')
    throw invalid('options.onProgress must be a function');
  const filled: FilledOptions = {
    dir: (o.dir as string | undefined) ?? DEFAULT_OPTIONS.dir,
    tables: (o.tables as TableDef[] | undefined) ?? DEFAULT_OPTIONS.tables,
    isolation:
      o.isolation === undefined ? DEFAULT_OPTIONS.isolation : validateIsolation(o.isolation, 'options.isolation'),
    durability:
      o.durability === undefined ? DEFAULT_OPTIONS.durability : validateDurability(o.durability, 'options.durability'),
    maxDelayMs: sizeOption(o, 'maxDelayMs', 0, 10_000),
    retries: o.retries === undefined ? DEFAULT_OPTIONS.retries : validateRetries(o.retries, 'options.retries'),
    walSegmentBytes: sizeOption(o, 'walSegmentBytes', 64 * KiB, GiB),
    ringBytes: sizeOption(o, 'ringBytes', 64 * KiB, GiB),
    maxBacklogBytes: sizeOption(o, 'maxBacklogBytes', 0, 16 * GiB),
    logSink: (sink as LogSink | undefined) ?? DEFAULT_OPTIONS.logSink,
    dataFileSizeBytes: sizeOption(o, 'dataFileSizeBytes', 64 * KiB, GiB),
    checkpointWalBytes: sizeOption(o, 'checkpointWalBytes', 64 * KiB, 64 * GiB),
    checkpointIntervalMs: sizeOption(o, 'checkpointIntervalMs', 0, 24 * 3600 * 1000),
    precreatedFiles: sizeOption(o, 'precreatedFiles', 0, 16),
    checkpoints: flagOption(o, 'checkpoints'),
    recoveryWorkers:
      o.recoveryWorkers === undefined
        ? DEFAULT_OPTIONS.recoveryWorkers
        : integerIn(o.recoveryWorkers, 'options.recoveryWorkers', 0, 64),
    onProgress: (o.onProgress as ProgressListener | undefined) ?? DEFAULT_OPTIONS.onProgress,
    merges: flagOption(o, 'merges'),
    mergeDeadFraction: fractionOption(o, 'mergeDeadFraction', 0.05, 1),
    mergeIntervalMs: sizeOption(o, 'mergeIntervalMs', 0, 24 * 3600 * 1000),
    cleaner: flagOption(o, 'cleaner'),
    cleanerLiveFraction: fractionOption(o, 'cleanerLiveFraction', 0.05, 0.95),
    fileMode: o.fileMode === undefined ? DEFAULT_OPTIONS.fileMode : fileModeOption(o.fileMode),
    closeOnSignals: flagOption(o, 'closeOnSignals'),
    migrate: migrateOption(o.migrate),
    readOnly: flagOption(o, 'readOnly'),
    archiveDir: archiveDirOption(o.archiveDir),
    maxRetainedWalBytes: sizeOption(o, 'maxRetainedWalBytes', 0, 1024 * GiB),
  };
  checkShapes(filled);
  checkRelations(filled);
  return filled;
}

/** What a size must be besides its range: the ring a power of two, file sizes whole 8-byte words. */
function checkShapes(filled: FilledOptions): void {
  const { ringBytes, walSegmentBytes, dataFileSizeBytes } = filled;
  if ((ringBytes & (ringBytes - 1)) !== 0) throw invalid('options.ringBytes must be a power of two');
  if (walSegmentBytes % 8 !== 0) throw invalid('options.walSegmentBytes must be a multiple of 8');
  if (dataFileSizeBytes % 8 !== 0) throw invalid('options.dataFileSizeBytes must be a multiple of 8');
}
