/**
 * A transaction's private writes, kept as encoded bytes until commit: one
 * entry per (table, key), the latest write winning, in the order keys were
 * first written. Rows are encoded once, here; commit copies the same bytes
 * into the arena and hands them to the log.
 *
 * Parallel arrays instead of an object per write keep the autocommit path
 * free of allocation. Entries are found by key through a small open-addressing
 * table of entry numbers (keyed by the key's hash, confirmed on the bytes),
 * built only once a transaction touches a second key.
 */
import type { TableStore } from '../table/table_store.js';

export const PUT = 1;
export const DELETE = 2;

const INITIAL_BYTES = 1024;
const INITIAL_SLOTS = 64;

export class WriteSet {
  count = 0;
  readonly tables: TableStore[] = [];
  readonly kinds: number[] = [];
  /** PUT: the encoded row; DELETE: the encoded key. Either way the key is a prefix. */
  readonly offsets: number[] = [];
  readonly lengths: number[] = [];
  readonly keyLengths: number[] = [];
  readonly hashes: number[] = [];
  /** The newest committed version of the key when the write was staged (0: none). */
  readonly heads: number[] = [];
  buf = new Uint8Array(INITIAL_BYTES);
  dv = new DataView(this.buf.buffer);
  used = 0;
  /** Entry number + 1 per slot (0: empty); valid for entries below `indexed`. */
  private slots = new Int32Array(INITIAL_SLOTS);
  private indexed = 0;

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
  find(table: TableStore, hash: number, u8: Uint8Array, offset: number, keyLength: number): number {
    if (this.count === 0) return -1;
    if (this.count === 1) return this.matches(0, table, hash, u8, offset, keyLength) ? 0 : -1;
    this.indexAll();
    const mask = this.slots.length - 1;
    for (let i = hash & mask; this.slots[i] !== 0; i = (i + 1) & mask) {
      const entry = this.slots[i]! - 1;
      if (this.matches(entry, table, hash, u8, offset, keyLength)) return entry;
    }
    return -1;
  }

  /** Records a write whose bytes were just written at buf[offset, offset + length). */
  add(
    table: TableStore,
    kind: number,
    offset: number,
    length: number,
    keyLength: number,
    hash: number,
    head: number,
  ): void {
    const entry = this.count++;
    this.tables[entry] = table;
    this.kinds[entry] = kind;
    this.offsets[entry] = offset;
    this.lengths[entry] = length;
    this.keyLengths[entry] = keyLength;
    this.hashes[entry] = hash;
    this.heads[entry] = head;
  }

  /** Replaces an entry's write (same table and key) with the bytes just written. */
  replace(entry: number, kind: number, offset: number, length: number): void {
    this.kinds[entry] = kind;
    this.offsets[entry] = offset;
    // The key prefix moves with the bytes; its length and hash stay the same.
    this.lengths[entry] = length;
  }

  clear(): void {
    this.count = 0;
    this.used = 0;
    if (this.indexed > 0) {
      this.slots.fill(0);
      this.indexed = 0;
    }
  }

  private matches(
    entry: number,
    table: TableStore,
    hash: number,
    u8: Uint8Array,
    offset: number,
    keyLength: number,
  ): boolean {
    if (this.hashes[entry] !== hash || this.tables[entry] !== table || this.keyLengths[entry] !== keyLength)
      return false;
    const at = this.offsets[entry]!;
    const buf = this.buf;
    for (let i = 0; i < keyLength; i++) if (buf[at + i] !== u8[offset + i]) return false;
    return true;
  }

  /** Brings the entry table up to date with every entry, growing it to stay under half full. */
  private indexAll(): void {
    if (this.indexed === this.count) return;
    if (this.count * 2 > this.slots.length) {
      let size = this.slots.length * 2;
      while (this.count * 2 > size) size *= 2;
      this.slots = new Int32Array(size);
      this.indexed = 0;
    }
    const mask = this.slots.length - 1;
    for (let entry = this.indexed; entry < this.count; entry++) {
      let i = this.hashes[entry]! & mask;
      while (this.slots[i] !== 0) i = (i + 1) & mask;
      this.slots[i] = entry + 1;
    }
    this.indexed = this.count;
  }
}
