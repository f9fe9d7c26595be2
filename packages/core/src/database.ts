/**
 * The Database: tables, transactions, and the life of the engine. Every
 * method throws (or rejects with) CLOSED after `close()`.
 */
import { MAX_TABLES } from './constants.js';
import { ErrorCode, TidemarkError } from './errors.js';
import { validateOptions, type FilledOptions, type OpenOptions } from './options.js';
import { checkTransactionOptions, retriesOf, transactionDurability, transactionIsolation } from './call_options.js';
import { runSync, syncWait } from './transaction_sync.js';
import { DurableLog, type LogStats, type RecoveryReport } from './log/durable_log.js';
import type { CheckpointResult } from './checkpoint/checkpoint_writer.js';
import type { MergeReport } from './checkpoint/streamer_api.js';
import { inventoryRows, type CheckpointFile } from './checkpoint/inventory.js';
import type { FileLayer } from './files/file_layer.js';
import type { EngineThreads } from './threads/engine_threads.js';
import { definitionOf, definitionToJson } from './schema/definition_json.js';
import { checkDistinctNames } from './schema/definition_diff.js';
import { DiscardSink } from './txn/sink.js';
import { defineTable } from './schema/schema.js';
import type { DatabaseSchema, OpenOptionsOf, SchemaOf, TableName, TypesOf, UntypedSchema } from './schema/row_types.js';
import type { TableDef } from './schema/types.js';
import { Table } from './table.js';
import { TableStore } from './table/table_store.js';
import { Transaction } from './transaction.js';
import { commitSchemaChange } from './txn/commit.js';
import { dropTable } from './schema_change.js';
import { ensureTables } from './schema/migrate.js';
import { writeDurability } from './call_options.js';
import type { WriteOptions } from './table.js';
import { Engine, type Durability, type Isolation } from './txn/engine.js';
import { openReadOnly } from './recovery/read_only.js';
import { CleanerRunner } from './table/cleaner_runner.js';
import { closeWhenDone, forget } from './lifecycle.js';
import type { CleanerStats } from './table/cleaner.js';
import { statsOf, type DatabaseStats } from './database_stats.js';
import { backupDatabase, type BackupOptions, type BackupResult } from './backup/db_backup.js';
import { ChangeFeed, FeedHub, type Changes, type ChangesOptions } from './feed/change_feed.js';
import type { ReplicationPort } from './replica/port.js';
import { Port } from './replica/port_impl.js';

export interface TransactionOptions {
  isolation?: Isolation;
  /** 'durable' (once fdatasync'd), 'delayed' (at once) or 'replicated' (docs/REPLICATION.md). Default: open()'s. */
  durability?: Durability;
  /** Re-runs after a conflict (transaction() and transactionSync() only). Defaults to options.retries of open(). */
  retries?: number;
}

export type { DatabaseStats, SecondaryIndexStats, TableStats } from './database_stats.js';

/**
 * `S`: table names and row types, when `open()` was given `tableDef()`
 * definitions (see schema/row_types.ts); untyped by default. Types only.
 */
export class Database<S extends DatabaseSchema = UntypedSchema> {
  readonly #engine: Engine;
  readonly #options: FilledOptions;
  readonly #handles = new Map<string, Table>();
  readonly #log: DurableLog | null;
  readonly #cleaner: CleanerRunner;
  /** The change feeds' shared buffer and WAL reader, once a feed was opened. */
  #feeds: FeedHub | null = null;
  #port: Port | null = null;
  /** What a read-only open recovered (a durable log keeps its own). */
  readonly #recovery: RecoveryReport | null;

  /** @internal Use `open()`. */
  constructor(options: FilledOptions, engine: Engine, log: DurableLog | null, recovery: RecoveryReport | null = null) {
    this.#options = options;
    this.#engine = engine;
    this.#log = log;
    this.#recovery = recovery;
    this.#cleaner = new CleanerRunner(engine, options.cleanerLiveFraction, options.cleaner);
  }

  /** @internal Opens the directory (recovering it) or makes an in-memory database; rejects with nothing left open. */
  static async create(options: FilledOptions, internals: OpenInternals = {}): Promise<Database> {
    const engine = new Engine(
      options.logSink ?? new DiscardSink(),
      options.isolation,
      options.durability,
      options.maxBacklogBytes,
    );
    if (options.dir === null) return new Database(options, engine, null);
    if (options.readOnly) {
      const recovery = await openReadOnly(engine, { ...options, dir: options.dir }, internals.layer);
      return new Database(options, engine, null, recovery);
    }
    const log = await DurableLog.open(engine, { ...options, dir: options.dir }, internals.layer, internals.threads);
    engine.sink = log.sink;
    return new Database(options, engine, log);
  }

  /** The database directory (null for an in-memory database). */
  get dir(): string | null {
    return this.#options.dir;
  }

  /** What the last open loaded and replayed (null without a directory). */
  get recovery(): RecoveryReport | null {
    return this.#log?.recovery ?? this.#recovery;
  }

  /**
   * Creates a table from its definition (logged like a commit); INVALID_SCHEMA or TABLE_EXISTS if it cannot.
   * The handle is typed when `def` is a `tableDef()` (the database's own type does not change).
   */
  createTable<D extends TableDef>(def: D): Table<TypesOf<D>> {
    const engine = this.#engine;
    engine.checkWritable();
    const schema = defineTable(def);
    if (engine.tablesByName.has(schema.name))
      throw new TidemarkError(ErrorCode.TABLE_EXISTS, `table "${schema.name}" already exists`);
    if (engine.tables.length >= MAX_TABLES)
      throw new TidemarkError(ErrorCode.LIMIT_EXCEEDED, `a database holds at most ${MAX_TABLES} tables`);
    const store = new TableStore(engine.tables.length, schema);
    const definition = new TextEncoder().encode(definitionToJson(definitionOf(schema)));
    commitSchemaChange(engine, (sink) => sink.createTable(store.id, definition));
    engine.tables.push(store);
    engine.tablesByName.set(schema.name, store);
    return this.#handle(schema.name) as unknown as Table<TypesOf<D>>;
  }

  /**
   * Drops a table (logged like a commit): its rows are gone, and calls on it
   * fail with UNKNOWN_TABLE. Resolves with the commitTs once durable.
   */
  dropTable(name: string, options?: WriteOptions): Promise<number> {
    try {
      const engine = this.#engine;
      const store = engine.table(name);
      this.#handles.delete(name);
      return dropTable(engine, store, writeDurability(options, engine.durability));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The table named `name`; UNKNOWN_TABLE if there is none. */
  table<N extends TableName<S>>(name: N): Table<S[N]> {
    return this.#handle(name) as unknown as Table<S[N]>;
  }

  #handle(name: string): Table {
    this.#engine.checkOpen();
    let handle = this.#handles.get(name);
    if (handle === undefined) {
      handle = new Table(this.#engine, this.#engine.table(name));
      this.#handles.set(name, handle);
    }
    return handle;
  }

  /** Names of every table, in creation order. */
  tableNames(): string[] {
    this.#engine.checkOpen();
    return this.#engine.tables.filter((t) => !t.dropped).map((t) => t.name);
  }

  /** Starts an interactive transaction; commit or abort it. */
  begin(options?: TransactionOptions): Transaction<S> {
    checkTransactionOptions(options);
    const engine = this.#engine;
    return new Transaction<S>(
      engine,
      transactionIsolation(options, engine.isolation),
      transactionDurability(options, engine.durability),
    );
  }

  /**
   * Runs `fn` in a transaction and commits it; resolves with fn's result once
   * durable. `fn` may be synchronous or async. On a conflict the whole
   * callback runs again, up to `retries` times.
   */
  async transaction<T>(fn: (tx: Transaction<S>) => T | Promise<T>, options?: TransactionOptions): Promise<T> {
    return this.#retryUpTo(retriesOf(options, this.#options.retries, 'transaction'), async () => {
      const tx = this.begin(options);
      try {
        const value = await fn(tx);
        await tx.commit();
        return value;
      } finally {
        tx.abort();
      }
    });
  }

  /**
   * Runs a synchronous `fn` in a transaction and commits it without a
   * promise; returns fn's result. TXN_NOT_SYNC if fn returns a promise.
   * The commit is visible at once. With `durability: 'durable'` given here,
   * it also returns only once the commit is durable, blocking this thread
   * (Atomics.wait on the log writer's durable mark, no event-loop turn);
   * without it, it is durable once a later `flush()` or durable commit is.
   */
  transactionSync<T>(fn: (tx: Transaction<S>) => T, options?: TransactionOptions): T {
    const retries = retriesOf(options, this.#options.retries, 'transaction');
    const engine = this.#engine;
    const wait = syncWait(options, engine.sink.blocking) ? (ts: number) => engine.acknowledgeSync(ts, 'durable') : null;
    return runSync(() => this.begin(options), fn, retries, wait);
  }

  /** Calls `fn` again after a retryable error (a conflict), up to `retries` times. */
  async retry<T>(fn: () => Promise<T> | T, options?: { retries?: number }): Promise<T> {
    return this.#retryUpTo(retriesOf(options, this.#options.retries, 'retry'), fn);
  }

  async #retryUpTo<T>(retries: number, fn: () => Promise<T> | T): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (attempt >= retries || !(error instanceof TidemarkError) || !error.retryable) throw error;
      }
    }
  }

  /** Resolves once everything committed so far is durable. */
  flush(): Promise<void> {
    const engine = this.#engine;
    if (engine.closed) return Promise.reject(new TidemarkError(ErrorCode.CLOSED, 'the database is closed'));
    return engine.sink.whenDurable(engine.loggedTs).then(() => undefined);
  }

  /**
   * Checkpoints now: streams every commit durable so far into the checkpoint
   * files, fsyncs them and publishes a new root file; WAL segments wholly
   * before it become free. Resolves with what was published (null if nothing
   * changed since the last checkpoint). NO_DIRECTORY for an in-memory database.
   */
  checkpoint(): Promise<CheckpointResult | null> {
    return this.#durableLog().then((log) => log.checkpoint());
  }

  /**
   * Merges checkpoint file pairs now, as the background policy would
   * (options.mergeDeadFraction, the data file size): streams every commit
   * durable so far, merges until the policy finds nothing more, installs the
   * merges with a checkpoint, and deletes the merged files once no root
   * needs them. Resolves with what was done. NO_DIRECTORY in memory;
   * INVALID_OPTION with checkpoints off.
   */
  merge(): Promise<MergeReport> {
    return this.#durableLog().then((log) => log.merge());
  }

  /**
   * Runs the segment cleaner until no arena segment is below
   * options.cleanerLiveFraction live (it otherwise runs by itself, a slice
   * per event-loop turn, unless options.cleaner is false). Resolves with the
   * cleaner's statistics.
   */
  clean(): Promise<CleanerStats> {
    this.#engine.checkOpen();
    return this.#cleaner.runToEnd();
  }

  /**
   * A consistent copy of the database in `dest` (a new or empty directory),
   * taken while commits go on: it holds every commit made before the call,
   * and none after the commitTs it resolves with (`{ commitTs, files,
   * bytes }`). The copy opens as any database directory. The files are
   * copied on a worker thread. NO_DIRECTORY in memory; READ_ONLY read-only.
   */
  async backup(dest: string, options?: BackupOptions): Promise<BackupResult> {
    const log = await this.#durableLog();
    return backupDatabase(this.#engine, log, this.#options, dest, options);
  }

  /**
   * Committed transactions in commit order, as an async iterator of
   * `{ commitTs, time, changes }` (docs/CHANGES.md): after `since` (default:
   * from now on), of `tables` (default: all), durable ones only unless
   * `durable: false`. Stop it with `break` or `return()`. NO_DIRECTORY in
   * memory; CHANGES_EXPIRED when the WAL no longer holds what `since` asks.
   */
  changes(options?: ChangesOptions): Changes {
    const log = this.#log;
    if (log === null) {
      this.#engine.checkOpen();
      if (this.#engine.readOnly) throw new TidemarkError(ErrorCode.READ_ONLY, this.#engine.readOnlyReason);
      throw new TidemarkError(ErrorCode.NO_DIRECTORY, 'the database lives in memory (open it with options.dir)');
    }
    this.#engine.checkOpen();
    return new ChangeFeed(this.#feedHub(log), options, log.cursors);
  }

  #feedHub(log: DurableLog): FeedHub {
    this.#feeds ??= new FeedHub(this.#engine, log.sink, this.#options.dir!);
    return this.#feeds;
  }

  /** @internal The hooks of @tidemark/replication (replica/port.ts); use `replicationPort(db)`. */
  replicationPort(): ReplicationPort {
    this.#port ??= Port.of(this.#engine, this.#log, this.#feedHub.bind(this), this.#handles, this.#options.dir);
    return this.#port;
  }

  /** One row per file of the database directory: checkpoint file pairs, roots, WAL segments. NO_DIRECTORY in memory. */
  async checkpointFiles(): Promise<CheckpointFile[]> {
    const log = await this.#durableLog();
    return inventoryRows(log.layer, this.#options.dir!, await log.inventory());
  }

  /** Statistics of the log writer and the checkpoint streamer. NO_DIRECTORY in memory. */
  async logStats(): Promise<LogStats> {
    return (await this.#durableLog()).stats();
  }

  /** @internal Resolves once the log writer and the checkpoint streamer answer (open() waits for it). */
  async started(): Promise<void> {
    await this.#log?.started();
  }

  async #durableLog(): Promise<DurableLog> {
    this.#engine.checkOpen();
    if (this.#log === null) {
      if (this.#engine.readOnly) throw new TidemarkError(ErrorCode.READ_ONLY, this.#engine.readOnlyReason);
      throw new TidemarkError(ErrorCode.NO_DIRECTORY, 'the database lives in memory (open it with options.dir)');
    }
    return this.#log;
  }

  stats(): DatabaseStats {
    const engine = this.#engine;
    engine.checkOpen();
    const durability = this.#log === null ? null : this.#log.published(engine.loggedTs);
    return statsOf(engine, { ...this.#cleaner.stats }, durability, this.recovery);
  }

  get closed(): boolean {
    return this.#engine.closed;
  }

  /**
   * Waits until everything committed is durable, stops the log writer and
   * releases the directory. Later calls fail with CLOSED; closing twice does
   * nothing. A database on disk still open when the process's event loop
   * empties is closed then (lifecycle.ts), so a script may end without it.
   */
  async close(): Promise<void> {
    const engine = this.#engine;
    if (engine.closed) return;
    engine.closed = true;
    engine.closing.abort();
    forget(this);
    this.#cleaner.stop();
    this.#feeds?.buffer?.wakeAll(); // open feeds end
    if (this.#log !== null) await this.#log.close();
    else await engine.sink.close();
  }
}

/** @internal What fault tests substitute: the file layer and the threads (run inline over a simulated disk). */
export interface OpenInternals {
  layer?: FileLayer;
  threads?: EngineThreads;
}

/**
 * Opens a database: in memory, or in `options.dir`, replaying its log.
 * Rejects with INVALID_OPTION (naming `options.x`), INVALID_SCHEMA, LOCKED
 * (another live process has the directory), CORRUPT (naming file and
 * offset), DISK_FULL (no room to reopen: free space and open again) or
 * IO_ERROR; nothing stays open when it rejects. The database is typed when
 * every one of `options.tables` is a `tableDef()`.
 */
export async function open<Tables extends readonly TableDef[] = TableDef[]>(
  options?: OpenOptionsOf<Tables>,
): Promise<Database<SchemaOf<Tables>>> {
  return openWith(options as OpenOptions | undefined, {}) as unknown as Promise<Database<SchemaOf<Tables>>>;
}

/** @internal open() with the file layer and threads of `internals`. */
export async function openWith(options: OpenOptions | undefined, internals: OpenInternals): Promise<Database> {
  const filled = validateOptions(options);
  checkDistinctNames(filled.tables);
  const db = await Database.create(filled, internals);
  try {
    await db.started();
    await ensureTables(db, filled.tables, filled.migrate);
  } catch (error) {
    await db.close().catch(() => {}); // the first error is the one to report
    throw error;
  }
  // Threads that fault tests substitute run on the main thread and keep nothing alive: those tests close what they open.
  if ((filled.dir !== null && internals.threads === undefined) || filled.closeOnSignals)
    closeWhenDone(db, filled.closeOnSignals);
  return db;
}
