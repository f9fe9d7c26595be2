/**
 * Unique secondary indexes are checked at commit, against the newest
 * committed rows and against the transaction's other writes. A null in any
 * indexed column exempts the row (as in SQL).
 */
import { ErrorCode, TidemarkError } from '../errors.js';
import { MAX, MIN } from '../index/ordered_index.js';
import { hashBytes } from '../schema/codec.js';
import type { Row } from '../schema/types.js';
import { offsetOf, segmentOf } from '../table/arena.js';
import type { SecondaryIndex, TableStore } from '../table/table_store.js';
import { VERSION_HEADER_BYTES } from '../constants.js';
import { describe } from './writes.js';
import { PUT, type WriteSet } from './write_set.js';

export function checkUniqueIndexes(ws: WriteSet, heads: readonly number[]): void {
  let seen: Set<string> | null = null;
  for (let i = 0; i < ws.count; i++) {
    if (ws.kinds[i] !== PUT) continue;
    const table = ws.tables[i]!;
    for (const ix of table.secondary) {
      if (!ix.def.unique) continue;
      const values = table.codec.decodeColumns(ws.buf, ws.dv, ws.offsets[i]!, ws.lengths[i]!, ix.def.columns);
      if (hasNull(values)) continue;
      const key = encodeIndexKey(ix, values);
      if (ws.count > 1) {
        seen ??= new Set();
        const name = `${table.id}:${ix.def.index}:${Buffer.from(key).toString('latin1')}`;
        if (seen.has(name)) throw duplicate(table, ix, values);
        seen.add(name);
      }
      const owner = committedOwner(table, ix, key, values);
      if (owner !== 0 && owner !== heads[i] && !rewrittenHere(ws, table, owner)) throw duplicate(table, ix, values);
    }
  }
}

/**
 * For an index being built: DUPLICATE_KEY if the index holds another live
 * row with the key of the live version at `ptr` (which it holds too).
 */
export function checkUniqueVersion(table: TableStore, ix: SecondaryIndex, ptr: number): void {
  const values = table.read(ptr, ix.def.columns);
  if (hasNull(values)) return;
  if (committedOwner(table, ix, encodeIndexKey(ix, values), values, ptr) !== 0) throw duplicate(table, ix, values);
}

function hasNull(values: Row): boolean {
  for (const key in values) if (values[key] === null) return true;
  return false;
}

export function encodeIndexKey(ix: SecondaryIndex, values: Row): Uint8Array {
  const key = new Uint8Array(ix.keyCodec.measureFromRow(values));
  ix.keyCodec.encodeMeasured(key, new DataView(key.buffer), 0);
  return key;
}

/** The newest live version holding `key` in the index (other than `except`), or 0. */
function committedOwner(table: TableStore, ix: SecondaryIndex, key: Uint8Array, values: Row, except = 0): number {
  let owner = 0;
  const check = (ptr: number): boolean => {
    if (ptr !== except && table.headOf(ptr) === ptr && indexKeyEquals(table, ix, ptr, key)) owner = ptr;
    return owner === 0;
  };
  if (ix.hash !== null) ix.hash.forHash(hashBytes(key, 0, key.length), check);
  else {
    const prefix = ix.keyCodec.valuesFromRow(values);
    ix.ordered!.forRange([...prefix, MIN], [...prefix, MAX], false, check);
  }
  return owner;
}

export function indexKeyEquals(table: TableStore, ix: SecondaryIndex, ptr: number, key: Uint8Array): boolean {
  const length = ix.keyCodec.measureFromRow(table.read(ptr, ix.def.columns));
  if (length !== key.length) return false;
  ix.keyCodec.encodeMeasured(table.keyBuf, table.keyView, 0);
  for (let i = 0; i < length; i++) if (table.keyBuf[i] !== key[i]) return false;
  return true;
}

/** Whether this transaction also writes the row that `ptr` belongs to (then its new value is what counts). */
function rewrittenHere(ws: WriteSet, table: TableStore, ptr: number): boolean {
  const u8 = table.arena.u8s[segmentOf(ptr)]!;
  return ws.find(table, table.hashAt(ptr), u8, offsetOf(ptr) + VERSION_HEADER_BYTES, table.keyLengthAt(ptr)) >= 0;
}

function duplicate(table: TableStore, ix: SecondaryIndex, values: Row): TidemarkError {
  return new TidemarkError(
    ErrorCode.DUPLICATE_KEY,
    `unique index "${ix.def.name}" of "${table.name}" already holds ${describe(values)}`,
  );
}
