/**
 * The main thread's part of recovery: link batches of live row versions
 * (recovery/batch.ts) into their tables. Each run of versions that fits the
 * arena's current segment is copied with one copy; then each version's
 * pointer goes into the primary index with the hash the task computed. A key
 * already in the index is CORRUPT (two live versions of one row mean the
 * checkpoint files are not what the root wrote). Secondary indexes are built
 * once every row is in (buildSecondaryIndexes).
 */
import { VERSION_HEADER_BYTES } from '../constants.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import { MAX_LAID_OUT_BYTES, offsetOf, segmentOf } from '../table/arena.js';
import type { TableStore } from '../table/table_store.js';
import { BATCH_HEADER_BYTES } from './batch.js';

export class BatchLinker {
  rows = 0;
  batches = 0;
  private bytes: Uint8Array | null = null;
  private view!: DataView;
  /** The batch's buffer as words, and where `bytes` starts in them: hashes are read as aligned words. */
  private words!: Uint32Array;
  private wordBase = 0;

  constructor(
    private readonly tables: readonly TableStore[],
    /** Names the source of a batch in errors (the data file it came from). */
    private readonly source: () => string,
  ) {}

  /** Links the batch in bytes[offset, offset + length); returns its dataOffset (progress). */
  link(bytes: Uint8Array, offset: number, length: number): number {
    if (bytes !== this.bytes) {
      this.bytes = bytes;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.words = new Uint32Array(bytes.buffer, 0, bytes.buffer.byteLength >>> 2);
      this.wordBase = bytes.byteOffset;
    }
    const v = this.view;
    const tableId = v.getUint16(offset, true);
    const count = v.getUint32(offset + 4, true);
    const dataOffset = v.getFloat64(offset + 8, true);
    const table = this.tables[tableId];
    if (table === undefined)
      throw new TidemarkError(
        ErrorCode.CORRUPT,
        `${this.source()}: a row names table ${tableId}, which the root's catalog does not hold`,
      );
    const hashesAt = offset + length - 4 * count;
    table.primary.reserve(count); // a no-op when the index was sized from the root
    const arena = table.arena;
    let runStart = offset + BATCH_HEADER_BYTES;
    if (hashesAt - runStart <= arena.room) {
      // The common case: the whole batch fits the arena's current segment, one copy (linkRun checks the sizes add up).
      if (hashesAt > runStart) this.linkRun(table, runStart, hashesAt, hashesAt, 0, count);
      this.rows += count;
      this.batches++;
      return dataOffset;
    }
    let runFirst = 0;
    let room = arena.room;
    let at = runStart;
    for (let i = 0; i < count; i++) {
      const size = (VERSION_HEADER_BYTES + (v.getUint32(at + 4, true) & 0xffffff) + 7) & ~7;
      if (at + size - runStart > room) {
        if (at > runStart) {
          this.linkRun(table, runStart, at, hashesAt, runFirst, i - runFirst);
          runStart = at;
          runFirst = i;
          room = arena.room;
        }
        if (size > room) room = MAX_LAID_OUT_BYTES; // appendLaidOut opens a fresh segment
      }
      at += size;
    }
    if (at !== hashesAt)
      throw new TidemarkError(
        ErrorCode.CORRUPT,
        `${this.source()}: a recovery batch does not add up (${at} vs ${hashesAt})`,
      );
    if (at > runStart) this.linkRun(table, runStart, at, hashesAt, runFirst, count - runFirst);
    this.rows += count;
    this.batches++;
    return dataOffset;
  }

  /**
   * Copies versions bytes[from, to) into the arena and indexes them; `first`
   * is the index of the first one's hash, and there must be `count` of them
   * (CORRUPT if their sizes do not add up to the run).
   */
  private linkRun(table: TableStore, from: number, to: number, hashesAt: number, first: number, count: number): void {
    const arena = table.arena;
    const primary = table.primary;
    const keyLength = table.codec.keyLength;
    const words = this.words;
    const hashWord = (this.wordBase + hashesAt) >>> 2;
    const ptr0 = arena.appendLaidOut(this.bytes!, from, to);
    const seg = segmentOf(ptr0);
    const u8 = arena.u8s[seg]!;
    const dv = arena.dvs[seg]!;
    const u32 = arena.u32s[seg]!;
    const base = ptr0 - (offsetOf(ptr0) >>> 3);
    const start = offsetOf(ptr0);
    const end = start + (to - from);
    primary.prefetch(words, hashWord + first, count);
    let off = start;
    let k = first;
    for (const last = first + count; k < last && off < end; k++) {
      const ptr = base + (off >>> 3);
      const length = u32[(off >>> 2) + 1]! & 0xffffff;
      if (!primary.insertNew(words[hashWord + k]!, ptr, keyLength(u8, dv, off + VERSION_HEADER_BYTES))) {
        throw new TidemarkError(
          ErrorCode.CORRUPT,
          `${this.source()}: version ${arena.versionId(ptr)} of "${table.name}" is a second live version of its row`,
        );
      }
      off += (VERSION_HEADER_BYTES + length + 7) & ~7;
    }
    table.liveRows += k - first;
    if (off !== end || k !== first + count) {
      throw new TidemarkError(
        ErrorCode.CORRUPT,
        `${this.source()}: a recovery batch does not add up (${k - first} of ${count} versions in ${off - start} of ${end - start} bytes)`,
      );
    }
  }
}

/** Adds every row of every table to its secondary indexes (after the primary indexes are complete). */
export function buildSecondaryIndexes(tables: readonly TableStore[]): void {
  for (const table of tables) {
    if (table.secondary.length > 0) table.primary.forEach((ptr) => table.indexVersion(ptr));
  }
}
