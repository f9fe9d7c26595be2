/**
 * The versionIds a pair's delta file deletes, as a filter over its data file
 * (recovery, merges and verify read a pair in one pass, versionIds rising).
 *
 * A data file's versionIds are nearly contiguous: [minVersion, maxVersion]
 * spans about as many ids as it holds rows. So the filter is a bitmap over
 * that span, a bit per id: built in one pass over the tombstones, with no
 * sort. Sorting them (they arrive in delete order, random under updates)
 * took 100 ms of a 450 ms open for 430 K tombstones. A merge target covers
 * a long history, its versionIds far apart: up to 64 bytes of bitmap per
 * tombstone (a span of 512 ids each) it is still a bitmap, which after 60 s
 * of uniform updates (five such pairs, 626 K tombstones) loaded them 50 ms
 * faster than sorting at the 16 bytes allowed before. Where the span is
 * wider still, the filter is the sorted list.
 */

/** A bitmap may take this many bytes per tombstone (the sorted list takes 8), or 1 MiB, whichever is more. */
const BITMAP_BYTES_PER_TOMBSTONE = 64;
const BITMAP_MIN_BYTES = 1024 * 1024;

/** What take() found: not deleted (a live row); deleted (and now taken); a tombstone below the versionId was never matched, `orphan` names it (the sorted list finds it on the way). */
export const LIVE = 0;
export const DELETED = 1;
export const ORPHAN = 2;
export type Take = typeof LIVE | typeof DELETED | typeof ORPHAN;

export class DeletedVersions {
  /** A versionId the data file does not hold, once one is found (take() returned ORPHAN, or left()). */
  orphan = 0;
  private taken = 0;
  private next = 0;

  private constructor(
    readonly count: number,
    /** Bitmap over [base, base + 8 × bits.length), or null: `sorted` holds them. */
    private readonly bits: Uint8Array | null,
    private readonly base: number,
    private readonly sorted: Float64Array | null,
  ) {}

  /** How the filter holds them (for tests and figures). */
  get kind(): 'bitmap' | 'sorted' {
    return this.bits === null ? 'sorted' : 'bitmap';
  }

  /** No tombstones. */
  static none(): DeletedVersions {
    return new DeletedVersions(0, null, 0, new Float64Array(0));
  }

  /**
   * Builds the filter from `ids`, in any order (`min`: the data file's
   * first versionId). A versionId found twice, or one that is not a
   * versionId at all, is returned instead.
   */
  static build(ids: Float64Array, min: number): DeletedVersions | { twice: number } | { invalid: number } {
    let max = min;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isSafeInteger(id) || id < 0) return { invalid: id };
      if (id > max) max = id;
      if (id < min) min = id; // never matches a row: left() reports it
    }
    const bytes = Math.floor((max - min) / 8) + 1;
    if (bytes <= Math.max(BITMAP_MIN_BYTES, ids.length * BITMAP_BYTES_PER_TOMBSTONE)) {
      const bits = new Uint8Array(bytes);
      for (let i = 0; i < ids.length; i++) {
        const o = ids[i]! - min;
        const mask = 1 << (o & 7);
        const at = Math.floor(o / 8);
        if ((bits[at]! & mask) !== 0) return { twice: ids[i]! };
        bits[at] = bits[at]! | mask;
      }
      return new DeletedVersions(ids.length, bits, min, null);
    }
    const sorted = ids.slice().sort();
    for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) return { twice: sorted[i]! };
    return new DeletedVersions(ids.length, null, 0, sorted);
  }

  /** Whether `versionId` (rising from call to call) is deleted; each tombstone is taken once. */
  take(versionId: number): Take {
    if (this.taken === this.count) return LIVE;
    const bits = this.bits;
    if (bits !== null) {
      const o = versionId - this.base;
      if (o < 0) return LIVE;
      const at = Math.floor(o / 8);
      const mask = 1 << (o & 7);
      if (at >= bits.length || (bits[at]! & mask) === 0) return LIVE;
      bits[at] = bits[at]! & ~mask;
      this.taken++;
      return DELETED;
    }
    const sorted = this.sorted!;
    if (sorted[this.next]! < versionId) {
      this.orphan = sorted[this.next]!;
      return ORPHAN;
    }
    if (sorted[this.next] !== versionId) return LIVE;
    this.next++;
    this.taken++;
    return DELETED;
  }

  /** Whether a tombstone was never taken; `orphan` then names one. */
  left(): boolean {
    if (this.taken === this.count) return false;
    const bits = this.bits;
    if (bits === null) {
      this.orphan = this.sorted![this.next]!;
      return true;
    }
    for (let at = 0; at < bits.length; at++) {
      if (bits[at] === 0) continue;
      for (let b = 0; b < 8; b++) {
        if ((bits[at]! & (1 << b)) !== 0) {
          this.orphan = this.base + at * 8 + b;
          return true;
        }
      }
    }
    return false; // not reached: taken < count leaves a bit set
  }
}
