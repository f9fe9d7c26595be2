/**
 * A table handle: autocommit calls, each its own transaction at the newest
 * commit. Writes resolve with the commitTs once durable and reject with a
 * TidemarkError (the table unchanged) when they fail.
 */
import type { Row, TableSchema } from './schema/types.js';
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

export class Table {
  readonly #engine: Engine;
  readonly #store: TableStore;
  readonly #view: AutoView;

  /** @internal Use `db.table(name)`. */
  constructor(engine: Engine, store: TableStore) {
    this.#engine = engine;
    this.#store = store;
    this.#view = new AutoView(engine.autoWrites);
  }

  get name(): string {
    return this.#store.name;
  }

  get schema(): TableSchema {
    return this.#store.schema;
  }

  /** Live rows at the newest commit. */
  get size(): number {
    return this.#store.liveRows;
  }

  get(key: unknown, options?: ReadOptions): Row | undefined {
    return readRow(this.#store, this.#read(), key, this.#store.columnPositions(readColumns(options)));
  }

  find(index: string, key: unknown, options?: ReadOptions): Row[] {
    const store = this.#store;
    return findRows(store, this.#read(), store.index(index), key, store.columnPositions(readColumns(options)));
  }

  /** Rows of an ordered index within bounds, in order; or every row without `index` (then bounds and `reverse` are INVALID_OPTION). */
  scan(request: ScanRequest = {}): Row[] {
    const store = this.#store;
    const ix = scanIndex(store, request);
    return scanRows(store, this.#read(), ix, request, store.columnPositions(request.columns));
  }

  /**
   * The rows `scan(request)` returns, in its order, at the newest commit,
   * decoded one by one as they are taken. The iterator holds its snapshot
   * (and pauses the segment cleaner) until it is done or stopped (`break`,
   * `return()`): do not leave one half-read.
   */
  iterate(request: ScanRequest = {}): IterableIterator<Row> {
    const store = this.#store;
    const ix = scanIndex(store, request);
    const columns = store.columnPositions(request.columns);
    return new RowIterator(this.#engine, store, this.#read(), ix, request, columns);
  }

  /** How many rows `scan(request)` returns, without decoding them. */
  count(request: ScanRequest = {}): number {
    const store = this.#store;
    const ix = scanIndex(store, request);
    store.columnPositions(request.columns);
    return countRows(store, this.#read(), ix, request);
  }

  insert(row: Row, options?: WriteOptions): Promise<number> {
    return this.#write(stageInsert, row, options);
  }

  upsert(row: Row, options?: WriteOptions): Promise<number> {
    return this.#write(stageUpsert, row, options);
  }

  update(key: unknown, patch: Row, options?: WriteOptions): Promise<number> {
    return this.#write((store, view) => stageUpdate(store, view, key, patch), undefined, options);
  }

  delete(key: unknown, options?: WriteOptions): Promise<number> {
    return this.#write(stageDelete, key, options);
  }

  #read(): AutoView {
    this.#engine.checkOpen();
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
