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
import { assert } from '../assert.js';
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
 * Open snapshots, oldest first, as a deque of (timestamp, count) pairs.
 * Snapshots are taken in non-decreasing order, so a new one joins the back
 * (or adds to the back's count), a release finds its pair by binary search,
 * and empty pairs are dropped from either end. The usual life of a short
 * transaction — acquire, release — touches only the back: no Map, no allocation.
 */
export class Snapshots {
  private readonly stamps: number[] = [];
  private readonly counts: number[] = [];
  private head = 0;
  private open = 0;

  get active(): number {
    return this.open;
  }

  acquire(ts: number): void {
    const last = this.stamps.length - 1;
    if (last >= this.head && this.stamps[last] === ts) this.counts[last]!++;
    else {
      this.stamps.push(ts);
      this.counts.push(1);
    }
    this.open++;
  }

  release(ts: number): void {
    const at = this.find(ts);
    this.counts[at]!--;
    this.open--;
    // Drop empty pairs at the back (the common case) and at the front.
    while (this.stamps.length > this.head && this.counts[this.stamps.length - 1] === 0) {
      this.stamps.pop();
      this.counts.pop();
    }
    while (this.head < this.stamps.length && this.counts[this.head] === 0) this.head++;
    if (this.head === this.stamps.length) {
      this.stamps.length = 0;
      this.counts.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.stamps.length) {
      this.stamps.splice(0, this.head);
      this.counts.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The oldest open snapshot, or Infinity when none is open. */
  oldest(): number {
    return this.open === 0 ? Infinity : this.stamps[this.head]!;
  }

  private find(ts: number): number {
    let low = this.head;
    let high = this.stamps.length - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.stamps[mid]! < ts) low = mid + 1;
      else high = mid;
    }
    assert(this.stamps[low] === ts && this.counts[low]! > 0, 'released snapshot is open');
    return low;
  }
}
