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

  /** The arena segments of `table` that queued entries name (the cleaner leaves those alone). */
  segmentsOf(table: TableStore): Set<number> {
    const segments = new Set<number>();
    for (let i = this.head; i < this.endTs.length; i++)
      if (this.tables[i] === table) segments.add(segmentOf(this.ptrs[i]!));
    return segments;
  }

  /** Retires what no snapshot at or after `oldest` can see. */
  collect(oldest: number): void {
    let i = this.head;
    const n = this.endTs.length;
    while (i < n && this.endTs[i]! <= oldest) {
      const table = this.tables[i]!;
      if (!table.dropped) retire(table, this.ptrs[i]!);
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
