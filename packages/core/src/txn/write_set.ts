/**
 * A transaction's private writes, kept as encoded bytes until commit: one
 * entry per (table, key), the latest write winning, in the order keys were
 * first written. Rows are encoded once, here; commit copies the same bytes
 * into the arena and hands them to the log.
 *
 * Parallel arrays instead of an object per write keep the autocommit path
 * free of allocation; the key → entry map is built only when a transaction
 * touches a second key or reads its own writes.
 */
import type { TableStore } from '../table/table_store.js';

export const PUT = 1;
export const DELETE = 2;

const INITIAL_BYTES = 4096;

export class WriteSet {
  count = 0;
  readonly tables: TableStore[] = [];
  readonly kinds: number[] = [];
  /** PUT: the encoded row; DELETE: the encoded key. */
  readonly offsets: number[] = [];
  readonly lengths: number[] = [];
  readonly keyLengths: number[] = [];
  readonly hashes: number[] = [];
  buf = new Uint8Array(INITIAL_BYTES);
  dv = new DataView(this.buf.buffer);
  used = 0;
  private index: Map<string, number> | null = null;

  /** Makes room for `bytes` more at `used`. */
  reserve(bytes: number): void {
    if (this.used + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.used + bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.used));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }

  /** Entry for the encoded key at u8[offset, offset + keyLength) of `table`, or -1. */
  find(table: TableStore, u8: Uint8Array, offset: number, keyLength: number): number {
    if (this.count === 0) return -1;
    if (this.index === null) this.buildIndex();
    return this.index!.get(mapKey(table, u8, offset, keyLength)) ?? -1;
  }

  /** Records a write whose bytes were just written at buf[offset, offset + length). */
  add(table: TableStore, kind: number, offset: number, length: number, keyLength: number, hash: number): void {
    const entry = this.count;
    if (entry > 0) {
      if (this.index === null) this.buildIndex();
      this.index!.set(mapKey(table, this.buf, offset, keyLength), entry);
    }
    this.tables[entry] = table;
    this.kinds[entry] = kind;
    this.offsets[entry] = offset;
    this.lengths[entry] = length;
    this.keyLengths[entry] = keyLength;
    this.hashes[entry] = hash;
    this.count++;
  }

  /** Replaces an entry's write (same table and key) with the bytes just written. */
  replace(entry: number, kind: number, offset: number, length: number): void {
    this.kinds[entry] = kind;
    this.offsets[entry] = offset;
    this.lengths[entry] = length;
  }

  clear(): void {
    this.count = 0;
    this.used = 0;
    this.index = null;
    this.tables.length = 0;
  }

  private buildIndex(): void {
    this.index = new Map();
    for (let i = 0; i < this.count; i++) {
      this.index.set(mapKey(this.tables[i]!, this.buf, this.offsets[i]!, this.keyLengths[i]!), i);
    }
  }

}

function mapKey(table: TableStore, u8: Uint8Array, offset: number, keyLength: number): string {
  let key = `${table.id}:`;
  for (let i = 0; i < keyLength; i++) key += String.fromCharCode(u8[offset + i]!);
  return key;
}
