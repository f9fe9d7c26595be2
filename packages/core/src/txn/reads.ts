/**
 * Reads as a transaction sees them: its own writes first, then the committed
 * versions its snapshot sees. Secondary-index candidates are confirmed
 * against the row's chain (the version must be the one the snapshot sees)
 * and against the real key (hashes collide), so every row appears once.
 */
import { ErrorCode, TidemarkError } from '../errors.js';
import { compareKeys, rangeBounds, type RangeBounds } from '../index/ordered_index.js';
import { columnsOption } from '../call_options.js';
import { checkOptionKeys } from '../options.js';
import { hashBytes } from '../schema/codec.js';
import { describe, valueProblem } from '../schema/codegen.js';
import type { Row } from '../schema/types.js';
import { offsetOf, segmentOf } from '../table/arena.js';
import type { SecondaryIndex, TableStore } from '../table/table_store.js';
import { VERSION_HEADER_BYTES } from '../constants.js';
import { encodeIndexKey, indexKeyEquals } from './unique.js';
import { PUT } from './write_set.js';
import { headAt, type TxnView } from './writes.js';

export function readRow(table: TableStore, view: TxnView, key: unknown, columns?: readonly number[]): Row | undefined {
  const keyLength = table.encodeKey(key);
  const hash = hashBytes(table.keyBuf, 0, keyLength);
  const ws = view.ws;
  if (ws.count > 0) {
    const entry = ws.find(table, hash, table.keyBuf, 0, keyLength);
    if (entry >= 0) {
      if (ws.kinds[entry] !== PUT) return undefined;
      const [offset, length] = [ws.offsets[entry]!, ws.lengths[entry]!];
      return columns === undefined
        ? table.codec.decode(ws.buf, ws.dv, offset, length)
        : table.codec.decodeColumns(ws.buf, ws.dv, offset, length, columns);
    }
  }
  const head = headAt(table, view, table.keyBuf, 0, keyLength, hash);
  const ptr = table.visible(head, view.snapshot);
  return ptr === 0 ? undefined : table.read(ptr, columns);
}

export interface ScanOptions extends RangeBounds {
  /** Rows at most: a non-negative integer. */
  limit?: number;
  /** Descending index order (an ordered index only). */
  reverse?: boolean;
}

const SCAN_KEYS: ReadonlySet<string> = new Set(['index', 'columns', 'gt', 'gte', 'lt', 'lte', 'limit', 'reverse']);

/**
 * Checks a scan request and returns the index it names (null: none). Bounds
 * and `reverse` need an ordered index: without one a scan visits rows in
 * hash order, so they would be silently ignored. A bound must be a value of
 * the index's column type (or an array of them for a prefix of its columns),
 * and a limit a non-negative integer; else INVALID_OPTION naming `options.x`.
 */
export function scanIndex(
  table: TableStore,
  request: ScanOptions & { index?: unknown; columns?: unknown },
): SecondaryIndex | null {
  checkOptionKeys(request, SCAN_KEYS);
  const { limit, reverse } = request;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0))
    throw invalid(`options.limit must be a non-negative integer, got ${describe(limit)}`);
  if (reverse !== undefined && typeof reverse !== 'boolean') throw invalid('options.reverse must be true or false');
  columnsOption(request.columns);
  if (request.gt !== undefined && request.gte !== undefined)
    throw invalid('options.gt and options.gte cannot be used together');
  if (request.lt !== undefined && request.lte !== undefined)
    throw invalid('options.lt and options.lte cannot be used together');
  if (request.index === undefined) {
    for (const name of ['gt', 'gte', 'lt', 'lte', 'reverse'] as const) {
      if (request[name] !== undefined)
        throw invalid(
          `options.${name} needs options.index (an ordered index); a scan without one returns every row in no set order`,
        );
    }
    return null;
  }
  if (typeof request.index !== 'string') throw invalid('options.index must be the name of an ordered index');
  const ix = table.index(request.index);
  if (ix.ordered === null) return ix; // scanRows reports the hash index
  for (const name of ['gt', 'gte', 'lt', 'lte'] as const)
    if (request[name] !== undefined) checkBound(table, ix, request[name], `options.${name}`);
  return ix;
}

/** A bound's values must fit the index's columns: a number bound on a string index would compare by type rank, not value. */
function checkBound(table: TableStore, ix: SecondaryIndex, bound: unknown, name: string): void {
  const values = Array.isArray(bound) ? bound : [bound];
  if (values.length === 0 || values.length > ix.def.columns.length) {
    throw invalid(
      `${name} must be a value or an array of 1 to ${ix.def.columns.length} values (index "${ix.def.name}" of "${table.name}")`,
    );
  }
  for (let i = 0; i < values.length; i++) {
    const column = table.schema.columns[ix.def.columns[i]!]!;
    const value: unknown = values[i];
    const where = `${Array.isArray(bound) ? `${name}[${i}]` : name} (column "${column.name}" of index "${ix.def.name}")`;
    if (value === null) {
      if (!column.nullable) throw invalid(`${where} is null, but the column is not nullable`);
      continue;
    }
    // An int32 column is bounded by any number: `lt: 2.5` is a fair question.
    const problem =
      column.type === 'int32'
        ? typeof value === 'number'
          ? undefined
          : `must be a number, got ${describe(value)}`
        : valueProblem(column, value);
    if (problem !== undefined) throw invalid(`${where} ${problem}`);
  }
}

function invalid(message: string): TidemarkError {
  return new TidemarkError(ErrorCode.INVALID_OPTION, message);
}

/** Rows whose index columns equal `key` (a bare value for one column, else an array). */
export function findRows(
  table: TableStore,
  view: TxnView,
  ix: SecondaryIndex,
  key: unknown,
  columns?: readonly number[],
): Row[] {
  const keyRow = keyAsRow(table, ix, key);
  checkKey(table, ix, keyRow);
  if (ix.ordered !== null) return scanRows(table, view, ix, { gte: key, lte: key }, columns);
  const encoded = encodeIndexKey(ix, keyRow);
  const hash = hashBytes(encoded, 0, encoded.length);
  const collect = (snapshot: number): number[] => {
    const found: number[] = [];
    ix.hash!.forHash(hash, (ptr) => {
      if (table.visible(table.headOf(ptr), snapshot) === ptr && indexKeyEquals(table, ix, ptr, encoded))
        found.push(ptr);
    });
    return found;
  };
  const committed = withoutOwnWrites(table, view, collect(view.snapshot), collect);
  const rows = committedRows(table, committed, columns);
  for (const entry of ownPuts(table, view)) {
    const values = table.codec.decodeColumns(
      view.ws.buf,
      view.ws.dv,
      view.ws.offsets[entry]!,
      view.ws.lengths[entry]!,
      ix.def.columns,
    );
    if (equalBytes(encodeIndexKey(ix, values), encoded)) rows.push(ownRow(table, view, entry, columns));
  }
  return rows;
}

/**
 * Rows in index order within the bounds (every row, in no set order, when
 * `ix` is null). Bounds are values of a prefix of the index columns.
 */
export function scanRows(
  table: TableStore,
  view: TxnView,
  ix: SecondaryIndex | null,
  options: ScanOptions,
  columns?: readonly number[],
): Row[] {
  if (ix !== null && ix.ordered === null) {
    throw new TidemarkError(
      ErrorCode.UNKNOWN_INDEX,
      `index "${ix.def.name}" of "${table.name}" is a hash index; scans need an ordered one`,
    );
  }
  const limit = options.limit ?? Infinity;
  // Own writes hide committed rows, so collect enough to fill the limit without them.
  const max = limit + ownEntries(table, view);
  const collect = (snapshot: number): number[] => collectCommitted(table, ix, options, snapshot, max);
  const committed = withoutOwnWrites(table, view, collect(view.snapshot), collect).slice(0, limit);
  const found = committedRows(table, committed, columns);
  const own = ownPuts(table, view);
  if (own.length === 0 || ix === null) {
    for (const entry of own) found.push(ownRow(table, view, entry, columns));
    return found.slice(0, limit);
  }
  return mergeOwn(table, view, ix, options, committed, found, own, columns).slice(0, limit);
}

function collectCommitted(
  table: TableStore,
  ix: SecondaryIndex | null,
  options: ScanOptions,
  snapshot: number,
  limit: number,
): number[] {
  const found: number[] = [];
  const take = (ptr: number, checkChain: boolean): boolean => {
    if (found.length >= limit) return false;
    const seen = checkChain
      ? table.visible(table.headOf(ptr), snapshot) === ptr
        ? ptr
        : 0
      : table.visible(ptr, snapshot);
    if (seen !== 0) found.push(seen);
    return found.length < limit;
  };
  if (ix === null) table.primary.forEach((head) => void take(head, false));
  else {
    const [low, high] = rangeBounds(options, (bound) => boundValues(table, ix, bound));
    ix.ordered!.forRange(low, high, options.reverse === true, (ptr) => take(ptr, true));
  }
  return found;
}

/** Own puts in range, merged into the committed rows by index order. */
function mergeOwn(
  table: TableStore,
  view: TxnView,
  ix: SecondaryIndex,
  options: ScanOptions,
  committed: number[],
  committedRowsFound: Row[],
  own: number[],
  columns?: readonly number[],
): Row[] {
  const [low, high] = rangeBounds(options, (bound) => boundValues(table, ix, bound));
  const all: Array<{ key: unknown[]; row: Row }> = committed.map((ptr, i) => ({
    key: ix.keyCodec.valuesFromRow(table.read(ptr, ix.def.columns)),
    row: committedRowsFound[i]!,
  }));
  for (const entry of own) {
    const ws = view.ws;
    const values = table.codec.decodeColumns(ws.buf, ws.dv, ws.offsets[entry]!, ws.lengths[entry]!, ix.def.columns);
    // Index entries end with a versionId; any number stands in for it against the bounds.
    const key = [...ix.keyCodec.valuesFromRow(values), 0];
    if (compareKeys(key, low) >= 0 && compareKeys(key, high) <= 0)
      all.push({ key, row: ownRow(table, view, entry, columns) });
  }
  const sign = options.reverse === true ? -1 : 1;
  all.sort((a, b) => sign * compareKeys(a.key, b.key));
  return all.map((x) => x.row);
}

/**
 * Drops committed versions of rows the transaction itself wrote. In
 * serializable mode the unfiltered result is checked again at commit.
 */
function withoutOwnWrites(
  table: TableStore,
  view: TxnView,
  committed: number[],
  collect: (snapshot: number) => number[],
): number[] {
  if (view.reads !== null) {
    // Compared by versionId: the segment cleaner may move a version (and free where it was) before the commit.
    const arena = table.arena;
    const versions = committed.map((ptr) => arena.versionId(ptr));
    view.reads.addScan(() => {
      const now = collect(Infinity);
      return now.length === versions.length && now.every((ptr, i) => arena.versionId(ptr) === versions[i]);
    });
  }
  return view.ws.count === 0 ? committed : committed.filter((ptr) => !ownedByWrites(table, view.ws, ptr));
}

export function ownEntries(table: TableStore, view: TxnView): number {
  let n = 0;
  for (let i = 0; i < view.ws.count; i++) if (view.ws.tables[i] === table) n++;
  return n;
}

function committedRows(table: TableStore, ptrs: number[], columns?: readonly number[]): Row[] {
  return ptrs.map((ptr) => table.read(ptr, columns));
}

function ownPuts(table: TableStore, view: TxnView): number[] {
  const ws = view.ws;
  const entries: number[] = [];
  for (let i = 0; i < ws.count; i++) if (ws.tables[i] === table && ws.kinds[i] === PUT) entries.push(i);
  return entries;
}

function ownRow(table: TableStore, view: TxnView, entry: number, columns?: readonly number[]): Row {
  const ws = view.ws;
  return columns === undefined
    ? table.codec.decode(ws.buf, ws.dv, ws.offsets[entry]!, ws.lengths[entry]!)
    : table.codec.decodeColumns(ws.buf, ws.dv, ws.offsets[entry]!, ws.lengths[entry]!, columns);
}

export function ownedByWrites(table: TableStore, ws: TxnView['ws'], ptr: number): boolean {
  return (
    ws.find(
      table,
      table.hashAt(ptr),
      table.arena.u8s[segmentOf(ptr)]!,
      offsetOf(ptr) + VERSION_HEADER_BYTES,
      table.keyLengthAt(ptr),
    ) >= 0
  );
}

/** A lookup key as a row of the index's columns: a bare value for one column, an array (or row object) for several. */
function keyAsRow(table: TableStore, ix: SecondaryIndex, key: unknown): Row {
  const names = ix.def.columns.map((c) => table.schema.columns[c]!.name);
  if (names.length === 1 && !Array.isArray(key)) return { [names[0]!]: key };
  if (Array.isArray(key)) {
    if (key.length !== names.length) {
      throw new TidemarkError(
        ErrorCode.SCHEMA_VIOLATION,
        `index "${ix.def.name}" takes ${names.length} values, got ${key.length}`,
      );
    }
    return Object.fromEntries(names.map((n, i) => [n, key[i]]));
  }
  return key as Row;
}

/**
 * A find's key must fit the index's columns, as a row's values must fit the
 * table: a key of the wrong type would find nothing on an ordered index, and
 * failed inside the key encoder of a hash index.
 */
function checkKey(table: TableStore, ix: SecondaryIndex, keyRow: Row): void {
  for (const c of ix.def.columns) {
    const column = table.schema.columns[c]!;
    const value: unknown = keyRow[column.name];
    const problem =
      value === null || value === undefined
        ? column.nullable
          ? undefined
          : `is ${describe(value)}, but the column is not nullable`
        : valueProblem(column, value);
    if (problem !== undefined) {
      throw new TidemarkError(
        ErrorCode.SCHEMA_VIOLATION,
        `the key for index "${ix.def.name}" of "${table.name}": column "${column.name}" ${problem}`,
      );
    }
  }
}

/** Range bound values: a bare value or an array of values for a prefix of the index columns. */
export function boundValues(table: TableStore, ix: SecondaryIndex, bound: unknown): unknown[] {
  const values = Array.isArray(bound) ? bound : [bound];
  if (values.length > ix.def.columns.length) {
    throw new TidemarkError(
      ErrorCode.SCHEMA_VIOLATION,
      `index "${ix.def.name}" of "${table.name}" has ${ix.def.columns.length} columns`,
    );
  }
  return values;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
