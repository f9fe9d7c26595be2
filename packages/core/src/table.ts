/**
 * A table handle: autocommit calls, each its own transaction at the newest
 * commit. Writes resolve with the commitTs once durable and reject with a
 * TidemarkError (the table unchanged) when they fail.
 */
import type { TableTypes, UntypedTable } from './schema/row_types.js';
import { ErrorCode, TidemarkError } from './errors.js';
import { withColumn, withRenamedColumn, withoutColumn, withoutIndex } from './schema/alter.js';
import { addIndex, changeTable } from './schema_change.js';
import type { ColumnDef, IndexDef, Row, TableSchema } from './schema/types.js';
import type { TableStore } from './table/table_store.js';
import { commitWrites } from './txn/commit.js';
import type { Durability, Engine } from './txn/engine.js';
import { readColumns, writeDurability } from './call_options.js';
import { countRows, RowIterator } from './txn/iterate.js';
import { findRows, readRow, scanIndex, scanRows } from './txn/reads.js';
import type { WriteSet } from './txn/write_set.js';
import { stageDelete, stageInsert, stageUpdate, stageUpsert, type TxnView } from './txn/writes.js';
import type { ReadOptions, ScanRequest } from './transaction.js';

export interface WriteOptions {
  /** 'durable' (default of open()) or 'delayed'. */
  durability?: Durability;
}

/** The view of one autocommit call: the shared write set, at the newest commit. */
class AutoView implements TxnView {
  snapshot = 0;
  epoch = 0;
  readonly reads = null;
  constructor(readonly ws: WriteSet) {}
}

/**
 * `T`: the table's row types, from a `tableDef()` definition (see
 * schema/row_types.ts); untyped by default. Types only: every call checks its
 * values against the schema either way. A read's row type, `{ [K in C]: … }`
 * for the columns `C` it asks for (all by default), is written out rather
 * than named by an alias so that editors show the row's columns, and is a
 * mapped type rather than a conditional one so that a `Table<T>` still goes
 * where a `Table` is asked for.
 */
export class Table<T extends TableTypes = UntypedTable> {
  readonly #engine: Engine;
  readonly #store: TableStore;
  readonly #view: AutoView;

  /** @internal Use `db.table(name)`. */
  constructor(engine: Engine, store: TableStore) {
    this.#engine = engine;
    this.#store = store;
    this.#view = new AutoView(engine.autoWrites);
  }

  get name(): T['name'] {
    return this.#store.name;
  }

  get schema(): TableSchema {
    return this.#store.schema;
  }

  /** Live rows at the newest commit. */
  get size(): number {
    return this.#store.liveRows;
  }

  get<C extends T['column'] = T['column']>(
    key: T['key'],
    options?: ReadOptions<C>,
  ): { [K in C]: T['row'][K & keyof T['row']] } | undefined {
    const row = readRow(this.#store, this.#read(), key, this.#store.columnPositions(readColumns(options)));
    return row as { [K in C]: T['row'][K & keyof T['row']] } | undefined;
  }

  find<C extends T['column'] = T['column']>(
    index: string,
    key: unknown,
    options?: ReadOptions<C>,
  ): { [K in C]: T['row'][K & keyof T['row']] }[] {
    const store = this.#store;
    const rows = findRows(store, this.#read(), store.index(index), key, store.columnPositions(readColumns(options)));
    return rows as { [K in C]: T['row'][K & keyof T['row']] }[];
  }

  /** Rows of an ordered index within bounds, in order; or every row without `index` (then bounds and `reverse` are INVALID_OPTION). */
  scan<C extends T['column'] = T['column']>(
    request: ScanRequest<C> = {},
  ): { [K in C]: T['row'][K & keyof T['row']] }[] {
    const store = this.#store;
    const ix = scanIndex(store, request);
    return scanRows(store, this.#read(), ix, request, store.columnPositions(request.columns)) as {
      [K in C]: T['row'][K & keyof T['row']];
    }[];
  }

  /**
   * The rows `scan(request)` returns, in its order, at the newest commit,
   * decoded one by one as they are taken. The iterator holds its snapshot
   * (and pauses the segment cleaner) until it is done or stopped (`break`,
   * `return()`): do not leave one half-read.
   */
  iterate<C extends T['column'] = T['column']>(
    request: ScanRequest<C> = {},
  ): IterableIterator<{ [K in C]: T['row'][K & keyof T['row']] }> {
    const store = this.#store;
    const ix = scanIndex(store, request);
    const columns = store.columnPositions(request.columns);
    const rows: IterableIterator<Row> = new RowIterator(this.#engine, store, this.#read(), ix, request, columns);
    return rows as IterableIterator<{ [K in C]: T['row'][K & keyof T['row']] }>;
  }

  /** How many rows `scan(request)` returns, without decoding them. */
  count(request: ScanRequest<T['column']> = {}): number {
    const store = this.#store;
    const ix = scanIndex(store, request);
    store.columnPositions(request.columns);
    return countRows(store, this.#read(), ix, request);
  }

  insert(row: T['insert'], options?: WriteOptions): Promise<number> {
    return this.#write(stageInsert, row as Row, options);
  }

  upsert(row: T['insert'], options?: WriteOptions): Promise<number> {
    return this.#write(stageUpsert, row as Row, options);
  }

  update(key: T['key'], patch: T['patch'], options?: WriteOptions): Promise<number> {
    return this.#write((store, view) => stageUpdate(store, view, key, patch as Row), undefined, options);
  }

  delete(key: T['key'], options?: WriteOptions): Promise<number> {
    return this.#write(stageDelete, key, options);
  }

  /**
   * Adds a column at the end, nullable or with a default; no row is
   * rewritten (rows written before read the default, or null). Resolves with
   * the change's commitTs once durable. INVALID_SCHEMA (a bad definition, a
   * column of that name), SCHEMA_CHANGE_REFUSED (neither nullable nor defaulted).
   */
  addColumn(def: ColumnDef, options?: WriteOptions): Promise<number> {
    return this.#change((s) => withColumn(s, def), options);
  }

  /** Drops a column (not one of the primary key or of an index: SCHEMA_CHANGE_REFUSED); UNKNOWN_COLUMN if none. */
  dropColumn(name: string, options?: WriteOptions): Promise<number> {
    return this.#change((s) => withoutColumn(s, name), options);
  }

  /** Renames a column (indexes and the primary key follow it); rows are not rewritten. */
  renameColumn(from: string, to: string, options?: WriteOptions): Promise<number> {
    return this.#change((s) => withRenamedColumn(s, from, to), options);
  }

  /**
   * Adds an index, built online: commits go on meanwhile, and the promise
   * resolves once the index is complete, logged and used by reads. A unique
   * index that meets two live rows with one key rejects with DUPLICATE_KEY
   * naming it, and leaves no index behind.
   */
  addIndex(def: IndexDef, options?: WriteOptions): Promise<number> {
    try {
      return addIndex(this.#engine, this.#store, def, writeDurability(options, this.#engine.durability));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Drops an index; UNKNOWN_INDEX if there is none. */
  dropIndex(name: string, options?: WriteOptions): Promise<number> {
    return this.#change((s) => withoutIndex(s, name), options);
  }

  #change(change: (schema: TableSchema) => TableSchema, options: WriteOptions | undefined): Promise<number> {
    try {
      return changeTable(this.#engine, this.#store, change, writeDurability(options, this.#engine.durability));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #read(): AutoView {
    this.#engine.checkRead();
    if (this.#store.dropped)
      throw new TidemarkError(ErrorCode.UNKNOWN_TABLE, `table "${this.#store.name}" was dropped`);
    const view = this.#view;
    view.ws.clear();
    view.snapshot = this.#engine.clock.now;
    view.epoch = this.#engine.epoch;
    return view;
  }

  #write<A>(
    stage: (store: TableStore, view: TxnView, arg: A) => void,
    arg: A,
    options: WriteOptions | undefined,
  ): Promise<number> {
    let commitTs: number;
    let durability: Durability;
    try {
      durability = writeDurability(options, this.#engine.durability);
      const view = this.#read();
      stage(this.#store, view, arg);
      commitTs = commitWrites(this.#engine, view.ws, view.snapshot, view.epoch, null);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#engine.acknowledge(commitTs, durability);
  }
}
