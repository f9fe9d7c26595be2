/**
 * Staging writes into a write set. Each call validates and encodes first and
 * records the write only when every check passed, so a call that throws
 * leaves the transaction as it was. Existence checks read the transaction's
 * own writes first, then its snapshot.
 */
import { ErrorCode, TidemarkError } from '../errors.js';
import { hashBytes } from '../schema/codec.js';
import type { Row } from '../schema/types.js';
import type { TableStore } from '../table/table_store.js';
import type { ReadSet } from './read_set.js';
import { DELETE, PUT, type WriteSet } from './write_set.js';

/** What a staged write reads against. */
export interface TxnView {
  readonly ws: WriteSet;
  readonly snapshot: number;
  readonly reads: ReadSet | null;
  /** Engine.epoch when the snapshot was taken: while it holds, staged heads are still the newest versions. */
  readonly epoch: number;
}

export function stageInsert(table: TableStore, view: TxnView, row: Row): void {
  stagePut(table, view, row, true);
}

export function stageUpsert(table: TableStore, view: TxnView, row: Row): void {
  stagePut(table, view, row, false);
}

function stagePut(table: TableStore, view: TxnView, row: Row, mustBeAbsent: boolean): void {
  const ws = view.ws;
  const length = table.codec.measure(row);
  ws.reserve(length);
  const offset = ws.used;
  table.codec.encodeMeasured(ws.buf, ws.dv, offset);
  const keyLength = table.codec.keyLength(ws.buf, ws.dv, offset);
  const hash = hashBytes(ws.buf, offset, keyLength);
  const entry = ws.find(table, hash, ws.buf, offset, keyLength);
  if (entry >= 0) {
    if (mustBeAbsent && ws.kinds[entry] === PUT) throw duplicateKey(table, ws.buf, ws.dv, offset);
    ws.used += length;
    ws.replace(entry, PUT, offset, length);
    return;
  }
  const head = headAt(table, view, ws.buf, offset, keyLength, hash, mustBeAbsent);
  if (mustBeAbsent && table.visible(head, view.snapshot) !== 0) throw duplicateKey(table, ws.buf, ws.dv, offset);
  ws.used += length;
  ws.add(table, PUT, offset, length, keyLength, hash, head);
}

/** Applies `patch` to the row with `key`; NOT_FOUND if there is none. Primary key columns cannot change. */
export function stageUpdate(table: TableStore, view: TxnView, key: unknown, patch: Row): void {
  if (patch === null || typeof patch !== 'object') {
    throw new TidemarkError(ErrorCode.SCHEMA_VIOLATION, `update of "${table.name}" needs a patch object`);
  }
  const current = readForWrite(table, view, key);
  if (current === undefined) throw notFound(table, key);
  const keyLength = current.keyLength;
  const ws = view.ws;
  const merged = { ...current.row, ...patch };
  const length = table.codec.measure(merged);
  ws.reserve(length);
  const offset = ws.used;
  table.codec.encodeMeasured(ws.buf, ws.dv, offset);
  for (let i = 0; i < keyLength; i++) {
    if (ws.buf[offset + i] !== table.keyBuf[i]) {
      throw new TidemarkError(
        ErrorCode.SCHEMA_VIOLATION,
        `update of "${table.name}" would change the primary key; delete the row and insert it instead`,
      );
    }
  }
  ws.used += length;
  if (current.entry >= 0) ws.replace(current.entry, PUT, offset, length);
  else ws.add(table, PUT, offset, length, keyLength, current.hash, current.head);
}

/** Deletes the row with `key`; NOT_FOUND if there is none. */
export function stageDelete(table: TableStore, view: TxnView, key: unknown): void {
  const keyLength = table.encodeKey(key);
  const ws = view.ws;
  const hash = hashBytes(table.keyBuf, 0, keyLength);
  const entry = ws.find(table, hash, table.keyBuf, 0, keyLength);
  const head = entry >= 0 ? 0 : headAt(table, view, table.keyBuf, 0, keyLength, hash);
  const exists = entry >= 0 ? ws.kinds[entry] === PUT : table.visible(head, view.snapshot) !== 0;
  if (!exists) throw notFound(table, key);
  ws.reserve(keyLength);
  const offset = ws.used;
  ws.buf.set(table.keyBuf.subarray(0, keyLength), offset);
  ws.used += keyLength;
  if (entry >= 0) ws.replace(entry, DELETE, offset, keyLength);
  else ws.add(table, DELETE, offset, keyLength, keyLength, hash, head);
}

interface Current {
  row: Row;
  entry: number;
  keyLength: number;
  hash: number;
  head: number;
}

/** The row with `key` as the transaction sees it, leaving its encoded key in table.keyBuf. */
function readForWrite(table: TableStore, view: TxnView, key: unknown): Current | undefined {
  const keyLength = table.encodeKey(key);
  const hash = hashBytes(table.keyBuf, 0, keyLength);
  const ws = view.ws;
  const entry = ws.find(table, hash, table.keyBuf, 0, keyLength);
  if (entry >= 0) {
    if (ws.kinds[entry] !== PUT) return undefined;
    const row = table.codec.decode(ws.buf, ws.dv, ws.offsets[entry]!, ws.lengths[entry]!);
    return { row, entry, keyLength, hash, head: 0 };
  }
  const head = headAt(table, view, table.keyBuf, 0, keyLength, hash);
  const ptr = table.visible(head, view.snapshot);
  return ptr === 0 ? undefined : { row: table.read(ptr), entry, keyLength, hash, head };
}

/** The newest committed version of a key (0: none); recorded for serializable checks. */
export function headAt(
  table: TableStore,
  view: TxnView,
  u8: Uint8Array,
  offset: number,
  length: number,
  hash: number,
  /** The key is most likely absent (an insert): PrimaryIndex.findAbsent. */
  absent = false,
): number {
  if (view.reads !== null) view.reads.addKey(table, u8, offset, length, hash);
  return absent ? table.primary.findAbsent(hash, u8, offset, length) : table.primary.find(hash, u8, offset, length);
}

export function duplicateKey(table: TableStore, u8: Uint8Array, dv: DataView, offset: number): TidemarkError {
  const key = table.codec.key.decode(u8, dv, offset);
  return new TidemarkError(
    ErrorCode.DUPLICATE_KEY,
    `"${table.name}" already has a row with primary key ${describe(key)}`,
  );
}

function notFound(table: TableStore, key: unknown): TidemarkError {
  return new TidemarkError(ErrorCode.NOT_FOUND, `"${table.name}" has no row with primary key ${describe(key)}`);
}

export function describe(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value);
  } catch {
    return String(value);
  }
}
