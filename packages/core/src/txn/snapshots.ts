/**
 * The commit clock and the registry of open snapshots.
 *
 * One counter hands out versionIds and commit timestamps. A transaction that
 * writes k versions takes the ids now+1 … now+k and commits at now+k (a
 * delete also takes an id, for its delete marker), so every version's id is
 * at most its commitTs and above the previous commitTs. Hence a snapshot s
 * (always a commitTs) sees version v exactly when v.versionId <= s: no begin
 * timestamp is stored, and a version's end is the id of its successor.
 */
import { MAX_VERSION_ID } from '../constants.js';
import { ErrorCode, TidemarkError } from '../errors.js';

export class Clock {
  /** The newest commitTs: what a snapshot taken now sees. */
  now = 0;

  /** Throws before a commit that would need ids past the safe-integer range. */
  checkRoom(count: number): void {
    if (this.now + count > MAX_VERSION_ID) {
      throw new TidemarkError(ErrorCode.LIMIT_EXCEEDED, 'the commit clock reached Number.MAX_SAFE_INTEGER');
    }
  }
}

/**
 * Open snapshots, oldest first. Snapshots are taken in non-decreasing order,
 * so the oldest is found by skipping released ones at the front.
 */
export class Snapshots {
  private readonly counts = new Map<number, number>();
  private readonly order: number[] = [];
  private head = 0;
  private open = 0;

  get active(): number {
    return this.open;
  }

  acquire(ts: number): void {
    const n = this.counts.get(ts);
    if (n === undefined) {
      this.counts.set(ts, 1);
      this.order.push(ts);
    } else this.counts.set(ts, n + 1);
    this.open++;
  }

  release(ts: number): void {
    const n = this.counts.get(ts)!;
    if (n === 1) this.counts.delete(ts);
    else this.counts.set(ts, n - 1);
    this.open--;
  }

  /** The oldest open snapshot, or Infinity when none is open. */
  oldest(): number {
    while (this.head < this.order.length && !this.counts.has(this.order[this.head]!)) this.head++;
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
    return this.head < this.order.length ? this.order[this.head]! : Infinity;
  }
}
