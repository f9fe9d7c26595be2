/**
 * A transaction: reads see the snapshot taken at `begin` plus the
 * transaction's own writes; writes stay private until commit, which
 * validates them (write-write conflicts always, the read set too when
 * serializable) and installs all or none. A failed read or write call throws
 * a TidemarkError and leaves the transaction as it was; a failed commit
 * aborts it.
 */
import { ErrorCode, TidemarkError } from './errors.js';
import type { DatabaseSchema, TableName, UntypedSchema } from './schema/row_types.js';
import type { Row } from './schema/types.js';
import type { TableStore } from './table/table_store.js';
import { commitWrites } from './txn/commit.js';
import type { Durability, Engine, Isolation } from './txn/engine.js';
import { ReadSet } from './txn/read_set.js';
import { readColumns } from './call_options.js';
import { countRows, RowIterator } from './txn/iterate.js';
import { findRows, readRow, scanIndex, scanRows, type ScanOptions } from './txn/reads.js';
import { stageDelete, stageInsert, stageUpdate, stageUpsert, type TxnView } from './txn/writes.js';

/** A table by name, or a Table handle. */
export type TableRef = string | { readonly name: string };

/** A table of a typed database by name `N`, or its handle. */
type TableRefTo<N extends string> = N | { readonly name: N };

/** `C`: the column names a typed table allows (any string when untyped). */
export interface ReadOptions<C extends string = string> {
  /** Decode only these columns. */
  columns?: C[];
}

export interface ScanRequest<C extends string = string> extends ScanOptions, ReadOptions<C> {
  /**
   * An ordered index to scan in order; without it every row, in no set
   * order, and bounds or `reverse` are INVALID_OPTION.
   */
  index?: string;
}

export type TransactionState = 'open' | 'committed' | 'aborted';

/**
 * `S`: the database's table names and row types, from `tableDef()`
 * definitions (see schema/row_types.ts); untyped by default. Types only.
 */
export class Transaction<S extends DatabaseSchema = UntypedSchema> {
  readonly snapshot: number;
  readonly isolation: Isolation;
  readonly durability: Durability;
  readonly #view: TxnView;
  #engine: Engine;
  #state: TransactionState = 'open';

  /** @internal Use `db.begin()`. */
  constructor(engine: Engine, isolation: Isolation, durability: Durability) {
    engine.checkRead();
    this.#engine = engine;
    this.isolation = isolation;
    this.durability = durability;
    this.snapshot = engine.clock.now;
    this.#view = {
      ws: engine.takeWriteSet(),
      snapshot: this.snapshot,
      epoch: engine.epoch,
      reads: isolation === 'serializable' ? new ReadSet() : null,
    };
    engine.snapshots.acquire(this.snapshot);
  }

  get state(): TransactionState {
    return this.#state;
  }

  get<N extends TableName<S>, C extends S[N]['column'] = S[N]['column']>(
    table: TableRefTo<N>,
    key: S[N]['key'],
    options?: ReadOptions<C>,
  ): { [K in C]: S[N]['row'][K & keyof S[N]['row']] } | undefined {
    const store = this.#store(table);
    return readRow(store, this.#view, key, store.columnPositions(readColumns(options))) as
      | { [K in C]: S[N]['row'][K & keyof S[N]['row']] }
      | undefined;
  }

  /** Rows whose columns in index `index` equal `key`. */
  find<N extends TableName<S>, C extends S[N]['column'] = S[N]['column']>(
    table: TableRefTo<N>,
    index: string,
    key: unknown,
    options?: ReadOptions<C>,
  ): { [K in C]: S[N]['row'][K & keyof S[N]['row']] }[] {
    const store = this.#store(table);
    const rows = findRows(store, this.#view, store.index(index), key, store.columnPositions(readColumns(options)));
    return rows as { [K in C]: S[N]['row'][K & keyof S[N]['row']] }[];
  }

  /** Rows of an ordered index within bounds, in order; or every row without `index` (then bounds and `reverse` are INVALID_OPTION). */
  scan<N extends TableName<S>, C extends S[N]['column'] = S[N]['column']>(
    table: TableRefTo<N>,
    request: ScanRequest<C> = {},
  ): { [K in C]: S[N]['row'][K & keyof S[N]['row']] }[] {
    const store = this.#store(table);
    const ix = scanIndex(store, request);
    return scanRows(store, this.#view, ix, request, store.columnPositions(request.columns)) as {
      [K in C]: S[N]['row'][K & keyof S[N]['row']];
    }[];
  }

  /**
   * The rows `scan(table, request)` returns now, in its order, decoded one by
   * one as they are taken; writes made after this call do not change them.
   * With none of its own writes to the table (and not serializable) the
   * iterator holds the snapshot itself until done or stopped (`break`,
   * `return()`), past the end of the transaction; else it holds the rows.
   */
  iterate<N extends TableName<S>, C extends S[N]['column'] = S[N]['column']>(
    table: TableRefTo<N>,
    request: ScanRequest<C> = {},
  ): IterableIterator<{ [K in C]: S[N]['row'][K & keyof S[N]['row']] }> {
    const store = this.#store(table);
    const ix = scanIndex(store, request);
    const columns = store.columnPositions(request.columns);
    const rows: IterableIterator<Row> = new RowIterator(this.#engine, store, this.#view, ix, request, columns);
    return rows as IterableIterator<{ [K in C]: S[N]['row'][K & keyof S[N]['row']] }>;
  }

  /** How many rows `scan(table, request)` returns, without decoding them. */
  count<N extends TableName<S>>(table: TableRefTo<N>, request: ScanRequest<S[N]['column']> = {}): number {
    const store = this.#store(table);
    const ix = scanIndex(store, request);
    store.columnPositions(request.columns);
    return countRows(store, this.#view, ix, request);
  }

  insert<N extends TableName<S>>(table: TableRefTo<N>, row: S[N]['insert']): void {
    stageInsert(this.#store(table), this.#view, row as Row);
  }

  upsert<N extends TableName<S>>(table: TableRefTo<N>, row: S[N]['insert']): void {
    stageUpsert(this.#store(table), this.#view, row as Row);
  }

  update<N extends TableName<S>>(table: TableRefTo<N>, key: S[N]['key'], patch: S[N]['patch']): void {
    stageUpdate(this.#store(table), this.#view, key, patch as Row);
  }

  delete<N extends TableName<S>>(table: TableRefTo<N>, key: S[N]['key']): void {
    stageDelete(this.#store(table), this.#view, key);
  }

  /**
   * Commits; resolves with the commitTs once the change is durable (at once
   * with `delayed` durability). Rejects (and aborts) on conflict.
   */
  commit(): Promise<number> {
    let commitTs: number;
    try {
      commitTs = this.commitSync();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#engine.acknowledge(commitTs, this.durability);
  }

  /**
   * Commits without allocating a promise; returns the commitTs. The change is
   * visible at once and durable once `db.flush()` (or a later durable commit)
   * resolves.
   */
  commitSync(): number {
    this.#checkOpen();
    try {
      return commitWrites(this.#engine, this.#view.ws, this.snapshot, this.#view.epoch, this.#view.reads);
    } catch (error) {
      this.#finish('aborted');
      throw error;
    } finally {
      if (this.#state === 'open') this.#finish('committed');
    }
  }

  /** Discards the writes. Aborting a finished transaction does nothing. */
  abort(): void {
    if (this.#state !== 'open') return;
    this.#engine.counters.aborts++;
    this.#finish('aborted');
  }

  #finish(state: TransactionState): void {
    this.#state = state;
    this.#engine.snapshots.release(this.snapshot);
    this.#engine.returnWriteSet(this.#view.ws);
    if (!this.#engine.closed) this.#engine.collectGarbage();
  }

  #checkOpen(): void {
    this.#engine.checkOpen();
    if (this.#state !== 'open')
      throw new TidemarkError(ErrorCode.TXN_FINISHED, `the transaction is already ${this.#state}`);
  }

  #store(table: TableRef): TableStore {
    this.#checkOpen();
    return this.#engine.table(typeof table === 'string' ? table : table.name);
  }
}
