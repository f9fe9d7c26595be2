/**
 * Builds a secondary index over a table's existing versions: online (in
 * slices of at most `sliceMs`, yielding the event loop between them) for
 * table.addIndex, or at once while a log replays.
 *
 *   begin: the index joins the table as "building" at snapshot S
 *     commits from now on add their versions to it (and check it if unique)
 *   walk the arena, segment by segment: add every version with versionId <= S
 *     that is neither retired nor a delete marker
 *   done: the caller commits the schema change, and reads use the index
 *
 * Why it is complete: a version is either newer than S (its commit added it)
 * or was in the arena when the walk began. Versions do not move during the
 * walk, because the segment cleaner waits while `engine.openIterators` is
 * above zero, and the walk counts as one; a version retired before the walk
 * reaches it is skipped (and removing one the index lacks is allowed while
 * it builds). A unique index checks each live version it adds against the
 * other live rows it holds: with commit-time checks for the versions newer
 * than S, any two live rows that share a key meet one of the checks.
 */
import { ErrorCode, TidemarkError } from '../errors.js';
import type { Engine } from '../txn/engine.js';
import { checkUniqueVersion } from '../txn/unique.js';
import { Arena, pointerOf } from './arena.js';
import type { SecondaryIndex, TableStore } from './table_store.js';

/** Versions between two looks at the clock. */
const CHECK_EVERY = 256;

/** A walk over the arena that adds every version up to `snapshot` to `ix`, in steps. */
class IndexFill {
  private segment = 0;
  private at = 0;
  private readonly segments: number;

  constructor(
    private readonly table: TableStore,
    private readonly ix: SecondaryIndex,
    private readonly snapshot: number,
  ) {
    this.segments = table.arena.segmentCount;
  }

  /** Adds versions until `deadline` (performance.now()); returns whether the walk is done. */
  step(deadline: number): boolean {
    const { table, ix, snapshot } = this;
    const arena = table.arena;
    let n = 0;
    for (; this.segment < this.segments; this.segment++, this.at = 0) {
      if (arena.isFree(this.segment)) continue;
      if (this.at === 0) this.at = Arena.firstOffset(this.segment);
      const end = Arena.firstOffset(this.segment) + arena.segmentUsed[this.segment]!;
      while (this.at < end) {
        if (++n % CHECK_EVERY === 0 && performance.now() >= deadline) return false;
        const ptr = pointerOf(this.segment, this.at);
        this.at += arena.sizeOf(ptr);
        if (arena.isRetired(ptr) || arena.isDeleted(ptr) || arena.versionId(ptr) > snapshot) continue;
        table.indexVersionIn(ix, ptr);
        if (ix.def.unique && ix.building && table.headOf(ptr) === ptr) checkUniqueVersion(table, ix, ptr);
      }
    }
    return true;
  }
}

/** Fills `ix` with every version of the table at once (a replayed change; nothing else runs meanwhile). */
export function fillIndexNow(table: TableStore, ix: SecondaryIndex): void {
  new IndexFill(table, ix, Number.POSITIVE_INFINITY).step(Number.POSITIVE_INFINITY);
}

/**
 * Fills `ix`, being built, with the versions up to `snapshot` in slices of
 * `sliceMs`, the event loop free between them. Rejects with DUPLICATE_KEY
 * (a unique index), CLOSED or UNKNOWN_TABLE (dropped meanwhile).
 */
export async function fillIndex(
  engine: Engine,
  table: TableStore,
  ix: SecondaryIndex,
  snapshot: number,
  sliceMs: number,
): Promise<void> {
  const fill = new IndexFill(table, ix, snapshot);
  while (!fill.step(performance.now() + sliceMs)) {
    await new Promise((resolve) => setImmediate(resolve));
    if (engine.closed) throw new TidemarkError(ErrorCode.CLOSED, 'the database was closed while an index was built');
    if (table.dropped) throw new TidemarkError(ErrorCode.UNKNOWN_TABLE, `table "${table.name}" was dropped`);
  }
}
