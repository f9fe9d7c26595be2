/**
 * Lazy reads: `iterate` hands out the rows `scanRows` would return, in the
 * same order, decoding each only when it is taken; `countRows` counts them
 * without decoding any.
 *
 * Invariants an open iterator keeps:
 * - It reads one snapshot, registered in `engine.snapshots` for as long as
 *   it is open, so garbage collection keeps every version it can still see.
 * - It holds version pointers (never rows) across calls, so while it is open
 *   `engine.openIterators` is above zero and the segment cleaner, the only
 *   thing that moves versions, waits.
 * - On an ordered index it holds at most ITERATE_BATCH_ROWS pointers and
 *   resumes the range after the last index entry it visited, a key that a
 *   commit may remove from the tree but never changes.
 * - Done, stopped (`return()`, `break`) or failed, it lets go of all of it.
 *
 * A transaction's own writes to the table, and the read set of a
 * serializable one, need the whole result (own rows are merged by index
 * order; the read set checks every row again at commit), so there the rows
 * are gathered at once by scanRows and handed out one by one.
 */
import { ITERATE_BATCH_ROWS } from '../constants.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import { rangeBounds, type OrderedKey } from '../index/ordered_index.js';
import type { Row, TableSchema } from '../schema/types.js';
import type { SecondaryIndex, TableStore } from '../table/table_store.js';
import type { Engine } from './engine.js';
import { boundValues, ownEntries, scanRows, type ScanOptions } from './reads.js';
import type { TxnView } from './writes.js';

const DONE: IteratorResult<Row, undefined> = { value: undefined, done: true };

/** Counts the rows `scanRows` would return for the same request. */
export function countRows(table: TableStore, view: TxnView, ix: SecondaryIndex | null, options: ScanOptions): number {
  checkRangeIndex(table, ix);
  // Own writes and read sets need scanRows' bookkeeping; no columns are decoded for its rows.
  if (view.reads !== null || ownEntries(table, view) > 0) return scanRows(table, view, ix, options, []).length;
  const limit = options.limit ?? Infinity;
  if (limit === 0) return 0;
  let n = 0;
  const snapshot = view.snapshot;
  if (ix === null) {
    table.primary.forEach((head) => {
      if (n < limit && table.visible(head, snapshot) !== 0) n++;
    });
  } else {
    const [low, high] = rangeBounds(options, (bound) => boundValues(table, ix, bound));
    ix.ordered!.forRange(low, high, options.reverse === true, (ptr) => {
      if (table.visible(table.headOf(ptr), snapshot) === ptr) n++;
      return n < limit;
    });
  }
  return n;
}

/** Same message as scanRows: a range needs an ordered index. */
function checkRangeIndex(table: TableStore, ix: SecondaryIndex | null): void {
  if (ix !== null && ix.ordered === null) {
    throw new TidemarkError(
      ErrorCode.UNKNOWN_INDEX,
      `index "${ix.def.name}" of "${table.name}" is a hash index; scans need an ordered one`,
    );
  }
}

export class RowIterator implements IterableIterator<Row> {
  readonly #engine: Engine;
  readonly #table: TableStore;
  readonly #ix: SecondaryIndex | null;
  readonly #snapshot: number;
  readonly #columns: readonly number[] | undefined;
  readonly #schema: TableSchema;
  readonly #reverse: boolean;
  readonly #bounds: [OrderedKey, OrderedKey] | null;
  /** Rows still to hand out under options.limit. */
  #left: number;
  /** The gathered rows (own writes or a read set), each dropped once handed out; else null. */
  #rows: Array<Row | undefined> | null = null;
  #ptrs: Uint32Array = new Uint32Array(0);
  #count = 0;
  #at = 0;
  /** The last index entry visited (null: none yet), and whether the range may hold more. */
  #resume: Uint8Array | null = null;
  #more = true;
  #pinned = false;

  /** @internal Use `table.iterate()` or `tx.iterate()`, which check the request first. */
  constructor(
    engine: Engine,
    table: TableStore,
    view: TxnView,
    ix: SecondaryIndex | null,
    options: ScanOptions,
    columns: readonly number[] | undefined,
  ) {
    checkRangeIndex(table, ix);
    this.#engine = engine;
    this.#table = table;
    this.#ix = ix;
    this.#snapshot = view.snapshot;
    this.#columns = columns;
    this.#schema = table.schema;
    this.#reverse = options.reverse === true;
    this.#left = options.limit ?? Infinity;
    this.#bounds = ix === null ? null : rangeBounds(options, (bound) => boundValues(table, ix, bound));
    if (view.reads !== null || ownEntries(table, view) > 0) {
      this.#rows = scanRows(table, view, ix, options, columns);
      return;
    }
    engine.snapshots.acquire(this.#snapshot);
    engine.openIterators++;
    this.#pinned = true;
    if (ix === null) this.#gatherHeads();
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<Row, undefined> {
    if (this.#left === 0) return this.return();
    if (this.#rows !== null) {
      if (this.#at === this.#rows.length) return this.return();
      const value = this.#rows[this.#at]!;
      this.#rows[this.#at++] = undefined; // a row handed out is the caller's to keep or drop
      this.#left--;
      return { value, done: false };
    }
    if (!this.#pinned) return DONE;
    if (this.#engine.closed) {
      this.return();
      this.#engine.checkOpen();
    }
    this.#checkTable();
    if (this.#at === this.#count && !this.#fill()) return this.return();
    this.#left--;
    return { value: this.#table.read(this.#ptrs[this.#at++]!, this.#columns), done: false };
  }

  /** The table must still be there, and a projection's column positions still those of its schema. */
  #checkTable(): void {
    const table = this.#table;
    if (!table.dropped && (this.#columns === undefined || table.schema === this.#schema)) return;
    this.return();
    if (table.dropped) throw new TidemarkError(ErrorCode.UNKNOWN_TABLE, `table "${table.name}" was dropped`);
    throw new TidemarkError(
      ErrorCode.CONFLICT,
      `the schema of "${table.name}" changed while a projecting iterator was open; iterate again`,
    );
  }

  /** Stops early (`break` calls it): lets go of the snapshot and the pointers. */
  return(): IteratorResult<Row, undefined> {
    this.#rows = null;
    this.#ptrs = new Uint32Array(0);
    this.#count = 0;
    this.#at = 0;
    this.#left = 0;
    this.#resume = null;
    if (this.#pinned) {
      this.#pinned = false;
      const engine = this.#engine;
      engine.openIterators--;
      engine.snapshots.release(this.#snapshot);
      if (!engine.closed) engine.collectGarbage();
    }
    return DONE;
  }

  /** Without an index: the visible versions of every row, gathered at once (4 bytes a row), up to the limit. */
  #gatherHeads(): void {
    const table = this.#table;
    let ptrs = new Uint32Array(1024);
    let n = 0;
    table.primary.forEach((head) => {
      if (n >= this.#left) return;
      const ptr = table.visible(head, this.#snapshot);
      if (ptr === 0) return;
      if (n === ptrs.length) {
        const grown = new Uint32Array(n * 2);
        grown.set(ptrs);
        ptrs = grown;
      }
      ptrs[n++] = ptr;
    });
    this.#ptrs = ptrs;
    this.#count = n;
    this.#more = false;
  }

  /** The next batch of visible versions from the ordered index, after the last entry visited; false: none left. */
  #fill(): boolean {
    const ix = this.#ix;
    if (ix === null || !this.#more) return false;
    const table = this.#table;
    const snapshot = this.#snapshot;
    const want = Math.min(ITERATE_BATCH_ROWS, this.#left);
    if (this.#ptrs.length < want) this.#ptrs = new Uint32Array(want);
    const ptrs = this.#ptrs;
    const resume = this.#resume;
    let low: OrderedKey | Uint8Array = this.#bounds![0];
    let high: OrderedKey | Uint8Array = this.#bounds![1];
    if (resume !== null) {
      if (this.#reverse) high = resume;
      else low = resume;
    }
    const ordered = ix.ordered!;
    let n = 0;
    let visited = false;
    let ended = true;
    ordered.forRange(low, high, this.#reverse, (ptr) => {
      if (resume !== null && ordered.currentKeyIs(resume)) return true; // handed out (or skipped) before
      visited = true;
      if (table.visible(table.headOf(ptr), snapshot) === ptr) ptrs[n++] = ptr;
      if (n < want) return true;
      ended = false;
      return false;
    });
    if (visited) this.#resume = ordered.currentKey();
    this.#more = !ended;
    this.#count = n;
    this.#at = 0;
    return n > 0;
  }
}
