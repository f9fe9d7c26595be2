/**
 * A walk over a table's arena, segment by segment, that hands every version
 * up to a snapshot which is neither retired nor a delete marker to `visit`,
 * in steps that end at a deadline (an index build's slices) or at once.
 * Segments past those there were when the walk began hold only newer
 * versions, and are not walked.
 */
import { Arena, pointerOf } from './arena.js';

/** Steps (versions, entries) between two looks at the clock. */
export const CHECK_EVERY = 256;

export class ArenaWalk {
  private segment = 0;
  private at = 0;
  private readonly segments: number;

  constructor(
    private readonly arena: Arena,
    private readonly snapshot: number,
    private readonly visit: (ptr: number) => void,
  ) {
    this.segments = arena.segmentCount;
  }

  /** Visits versions until `deadline` (performance.now()); returns whether the walk is done. */
  step(deadline: number): boolean {
    const { arena, snapshot, visit } = this;
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
        visit(ptr);
      }
    }
    return true;
  }
}
