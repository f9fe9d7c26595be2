/**
 * What a serializable transaction read, to validate at commit: the keys it
 * looked up (any newer version of them is a conflict) and the scans it ran
 * (run again at the newest commit, they must give the same versions).
 */
import { ErrorCode, TidemarkError } from '../errors.js';
import type { TableStore } from '../table/table_store.js';

export class ReadSet {
  private readonly tables: TableStore[] = [];
  private readonly keys: Uint8Array[] = [];
  private readonly hashes: number[] = [];
  private readonly scans: Array<() => boolean> = [];

  addKey(table: TableStore, u8: Uint8Array, offset: number, length: number, hash: number): void {
    this.tables.push(table);
    this.keys.push(u8.slice(offset, offset + length));
    this.hashes.push(hash);
  }

  /** `stillSame()` reruns a scan at the newest commit and says whether it saw the same versions. */
  addScan(stillSame: () => boolean): void {
    this.scans.push(stillSame);
  }

  /** Throws CONFLICT if anything read at `snapshot` changed since. */
  validate(snapshot: number): void {
    for (let i = 0; i < this.tables.length; i++) {
      const table = this.tables[i]!;
      const key = this.keys[i]!;
      const head = table.primary.find(this.hashes[i]!, key, 0, key.length);
      if (head !== 0 && table.arena.versionId(head) > snapshot) {
        throw new TidemarkError(
          ErrorCode.CONFLICT,
          `a row read from "${table.name}" changed after the transaction began`,
        );
      }
    }
    for (const stillSame of this.scans) {
      if (!stillSame())
        throw new TidemarkError(ErrorCode.CONFLICT, 'rows scanned by the transaction changed after it began');
    }
  }
}
