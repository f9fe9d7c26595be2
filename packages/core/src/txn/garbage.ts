/**
 * Versions waiting until no open snapshot can see them. Each entry names a
 * version installed at commitTs `endTs` over an older one: once the oldest
 * open snapshot is at or past endTs, everything older than that version is
 * unreachable (and if the version is a delete marker, so is the row).
 * Entries are appended in commit order, so they are collected from the front.
 */
import { segmentOf } from '../table/arena.js';
import type { TableStore } from '../table/table_store.js';

export class Garbage {
  private readonly endTs: number[] = [];
  private readonly tables: TableStore[] = [];
  private readonly ptrs: number[] = [];
  private head = 0;

  get pending(): number {
    return this.endTs.length - this.head;
  }

  push(endTs: number, table: TableStore, ptr: number): void {
    this.endTs.push(endTs);
    this.tables.push(table);
    this.ptrs.push(ptr);
  }

  /** Whether a queued entry names a version of `table` in arena segment `segment` (the cleaner leaves such a segment alone). */
  pointsInto(table: TableStore, segment: number): boolean {
    for (let i = this.head; i < this.endTs.length; i++) {
      if (this.tables[i] === table && segmentOf(this.ptrs[i]!) === segment) return true;
    }
    return false;
  }

  /** Retires what no snapshot at or after `oldest` can see. */
  collect(oldest: number): void {
    let i = this.head;
    const n = this.endTs.length;
    while (i < n && this.endTs[i]! <= oldest) {
      retire(this.tables[i]!, this.ptrs[i]!);
      i++;
    }
    this.head = i;
    if (i === n) {
      this.endTs.length = 0;
      this.tables.length = 0;
      this.ptrs.length = 0;
      this.head = 0;
    }
  }
}

/** Retires what a newly installed version makes unreachable for every snapshot. */
export function retire(table: TableStore, ptr: number): void {
  if (table.arena.isDeleted(ptr)) table.dropDeletedRow(ptr);
  else table.retireOlder(ptr);
}
